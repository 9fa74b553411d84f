package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/spf13/cobra"

	"github.com/flarehose/flarehose/internal/normalize"
)

// maxLineBytes is the longest input line read; longer lines are reported
// as bad records and skipped.
const maxLineBytes = 64 << 20

func newNormalizeCmd(s streams) *cobra.Command {
	var (
		dataset string
		opts    normalize.Options
	)
	cmd := &cobra.Command{
		Use:   "normalize --dataset NAME [flags] [FILE...]",
		Short: "Turn raw Cloudflare log records into ECS documents",
		Long: `normalize reads raw Cloudflare log records (NDJSON, one record per line; gzip is
detected by its magic bytes) from the files given, or from standard input when there
are none or a file is "-", and writes one ECS document per record to standard output,
in order. The documents match what Elastic's cloudflare_logpush integration makes of
the same records.

The dataset is named as Cloudflare does (http_requests, firewall_events, audit_logs)
or as Elastic does (cloudflare_logpush.http_request, http_request, ...).
Cloudflare's validation probe ({"content":"tests"}) and blank lines produce nothing.

A record that cannot be normalized is reported on standard error as FILE:LINE: REASON;
the others are still processed and the exit status is then 1. Usage errors (missing
or unknown dataset, unknown flag, unreadable file or GeoIP folder) exit with status 2.

Known datasets: ` + strings.Join(normalize.Datasets(), ", "),
		Example: `  # Normalize a Logpush object as it lies in the bucket
  flarehose normalize --dataset http_requests 20240217T235201Z_20240217T235301Z_a1b2c3d4.log.gz

  # Same as Elastic with the preserve_original_event and
  # preserve_duplicate_custom_fields tags, with GeoIP databases
  flarehose normalize -d cloudflare_logpush.firewall_event --preserve-original \
      --keep-duplicate-fields --geoip-dir /var/lib/GeoIP events.ndjson

  # From standard input
  zcat audit.ndjson.gz | flarehose normalize -d audit_logs | jq .event.action`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dataset == "" {
				return usagef("--dataset is required (one of: %s)", strings.Join(normalize.Datasets(), ", "))
			}
			canonical, ok := normalize.Resolve(dataset)
			if !ok {
				return usagef("unknown dataset %q (known: %s)", dataset, strings.Join(normalize.Datasets(), ", "))
			}
			inputs, err := openInputs(args, s.in)
			if err != nil {
				return usageError{err}
			}
			env, err := normalize.NewEnv(opts)
			if err != nil {
				return usageError{err}
			}
			defer env.Close()

			out := bufio.NewWriterSize(s.out, 256<<10)
			run := normalizeRun{n: env.NewNormalizer(), dataset: canonical, out: out, errw: s.err}
			for _, in := range inputs {
				if err := run.input(in); err != nil {
					out.Flush()
					return err
				}
			}
			if err := out.Flush(); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
			if run.bad > 0 {
				return exitError{exitFail}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&dataset, "dataset", "d", "", "dataset of the records: Cloudflare or Elastic name (required)")
	f.BoolVar(&opts.PreserveOriginal, "preserve-original", false, "keep each raw record in event.original")
	f.BoolVar(&opts.KeepDuplicateFields, "keep-duplicate-fields", false, "keep the custom fields that duplicate an ECS field")
	f.StringVar(&opts.GeoIPDir, "geoip-dir", "", "folder with MaxMind GeoLite2/GeoIP2 City and ASN databases (.mmdb)")
	f.StringVar(&opts.AccountID, "account-id", "", "Cloudflare account id the records belong to")
	return cmd
}

type input struct {
	name string
	r    io.Reader // standard input; nil for a file, opened when its turn comes
}

// openInputs checks every file up front (so an unreadable one is a usage
// error before any output) without keeping them all open.
func openInputs(args []string, stdin io.Reader) ([]input, error) {
	if len(args) == 0 {
		return []input{{name: "<stdin>", r: stdin}}, nil
	}
	var ins []input
	for _, a := range args {
		if a == "-" {
			ins = append(ins, input{name: "<stdin>", r: stdin})
			continue
		}
		f, err := os.Open(a)
		if err == nil {
			var st os.FileInfo
			if st, err = f.Stat(); err == nil && st.IsDir() {
				err = errors.New("is a directory")
			}
			f.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", a, unwrapPath(err))
		}
		ins = append(ins, input{name: a})
	}
	return ins, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type normalizeRun struct {
	n       *normalize.Normalizer
	dataset string
	out     *bufio.Writer
	errw    io.Writer
	buf     []byte
	bad     int

	raw, unzipped *bufio.Reader // reused for every input
}

func (run *normalizeRun) input(in input) error {
	r := in.r
	if r == nil {
		f, err := os.Open(in.name)
		if err != nil {
			run.bad++
			fmt.Fprintf(run.errw, "%s: %v\n", in.name, unwrapPath(err))
			return nil
		}
		defer f.Close()
		r = f
	}
	if run.raw == nil {
		run.raw, run.unzipped = bufio.NewReaderSize(r, 1<<20), bufio.NewReaderSize(nil, 1<<20)
	}
	run.raw.Reset(r)
	src := run.raw
	if magic, _ := src.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(src)
		if err != nil {
			run.bad++
			fmt.Fprintf(run.errw, "%s: gzip: %v\n", in.name, err)
			return nil
		}
		defer zr.Close()
		run.unzipped.Reset(zr)
		src = run.unzipped
	}
	lr := lineReader{r: src, max: maxLineBytes}
	for lineNo := 1; ; lineNo++ {
		line, tooLong, err := lr.next()
		if tooLong {
			run.bad++
			fmt.Fprintf(run.errw, "%s:%d: too_large: line longer than %d bytes\n", in.name, lineNo, maxLineBytes)
		} else if len(line) > 0 {
			run.record(in.name, lineNo, line)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			run.bad++
			fmt.Fprintf(run.errw, "%s:%d: read error: %v\n", in.name, lineNo, err)
			return nil
		}
	}
}

func (run *normalizeRun) record(name string, lineNo int, line []byte) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	// A line may be one record or, for the API datasets, a whole API page
	// whose result items each become a document.
	run.buf = run.n.NormalizeEach(run.dataset, line, run.buf[:0], func(doc []byte, meta normalize.Meta, err error) {
		if err != nil {
			run.bad++
			fmt.Fprintf(run.errw, "%s:%d: %v\n", name, lineNo, err)
			return
		}
		if meta.Drop {
			return
		}
		run.out.Write(doc)
		run.out.Write(newline)
	})
}

var newline = []byte{'\n'}

// lineReader returns lines without their newline, up to max bytes; a longer
// line is consumed and reported with tooLong instead.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+1 {
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if tooLong {
			return nil, true, err
		}
		line = lr.buf
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		return line, false, err
	}
}
