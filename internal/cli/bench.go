package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/cobra"

	"github.com/flarehose/flarehose/internal/cfclient"
	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/service"
	"github.com/flarehose/flarehose/internal/sim"
	"github.com/flarehose/flarehose/internal/telemetry"
)

type benchFlags struct {
	records, batch, concurrency int
	dataset, dataDir            string
	keep                        bool
	sink, esURL, fields         string
	cpuProfile                  string
}

func newBenchCmd(s streams) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure end-to-end throughput on this machine: Logpush uploads -> queue -> store",
		Long: `Start the collector in a temporary data directory, pre-generate gzip'd Logpush
uploads with the Cloudflare simulator (before the clock starts), POST them to the
receiver from several connections like Cloudflare does, and wait until the store
has committed every record. Prints acknowledged and stored events/s, ack latency
percentiles and peak RSS. The load comes from this same process: on a small
machine the client's share of the CPU is part of the result.`,
		Example: `  flarehose bench
  flarehose bench --records 2000000 --batch 5000 --concurrency 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd.Context(), s, f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.records, "records", 500000, "records to send")
	fl.IntVar(&f.batch, "batch", 2000, "records per upload")
	fl.IntVar(&f.concurrency, "concurrency", 4, "uploads in flight")
	fl.StringVar(&f.dataset, "dataset", "http_requests", "dataset to simulate (http_requests, firewall_events, audit_logs)")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory (default: a temporary one, removed afterwards)")
	fl.BoolVar(&f.keep, "keep", false, "keep the data directory")
	fl.StringVar(&f.sink, "sink", "duckdb", "where records go: duckdb, elasticsearch (--es-url), or accept-all (an in-process bulk endpoint that accepts everything: measures flarehose alone)")
	fl.StringVar(&f.esURL, "es-url", "", "Elasticsearch/OpenSearch URL for --sink elasticsearch")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the measured part to this file ('go tool pprof' reads it; DuckDB's own C++ time shows as cgo calls)")
	fl.StringVar(&f.fields, "fields", "all", "Logpush fields per record: all, or a preset of 'flarehose logpush jobs create' (default: about 1.5 KB per http_requests record)")
	return cmd
}

func runBench(ctx context.Context, s streams, f benchFlags) error {
	if f.records <= 0 || f.batch <= 0 || f.concurrency <= 0 {
		return usagef("--records, --batch and --concurrency must be positive")
	}
	dir := f.dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "flarehose-bench-")
		if err != nil {
			return err
		}
		dir = tmp
	}
	if f.dataDir == "" && !f.keep {
		defer os.RemoveAll(dir)
	}

	fmt.Fprintf(s.err, "generating %d %s records in uploads of %d...\n", f.records, f.dataset, f.batch)
	bodies, raw, err := benchBodies(f)
	if err != nil {
		return err
	}
	secret := randomSecret(24)
	sinkYAML := "  - type: duckdb\n    retention: 0s\n"
	switch f.sink {
	case "duckdb":
	case "accept-all", "elasticsearch":
		url := f.esURL
		if f.sink == "accept-all" {
			stop, u, err := acceptAllBulk()
			if err != nil {
				return err
			}
			defer stop()
			url = u
		} else if url == "" {
			return usagef("--sink elasticsearch needs --es-url")
		}
		sinkYAML = fmt.Sprintf("  - type: elasticsearch\n    urls: [%q]\n    namespace: bench\n", url)
	default:
		return usagef("--sink %q: want duckdb, elasticsearch or accept-all", f.sink)
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir: %q
log: {level: warn}
http: {listen: ""}
sources:
  - type: logpush_http
    listen: 127.0.0.1:0
    secret: %s
    max_concurrent: %d
sinks:
%s`, dir, secret, f.concurrency, sinkYAML)), nil)
	if err != nil {
		return err
	}
	metrics := telemetry.NewMetrics()
	svc, err := service.New(cfg, slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: slog.LevelWarn})), metrics, Version)
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Shutdown(context.Background())
	url := "http://" + svc.Sources()[0].(interface{ Addr() string }).Addr() + "/logpush/" + f.dataset

	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var failures atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: f.concurrency}}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < f.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) || ctx.Err() != nil {
					return
				}
				for attempt := 0; ; attempt++ {
					t0 := time.Now()
					code, err := benchPost(ctx, client, url, secret, bodies[i])
					if err == nil && code == http.StatusOK {
						mu.Lock()
						lat = append(lat, time.Since(t0))
						mu.Unlock()
						break
					}
					failures.Add(1)
					if ctx.Err() != nil || attempt > 50 {
						return
					}
					time.Sleep(100 * time.Millisecond) // 429 / 503: back off like Cloudflare
				}
			}
		}()
	}
	wg.Wait()
	acked := time.Since(start)
	for counterValue(metrics, "flarehose_sink_records_total") < float64(f.records) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(10 * time.Millisecond)
	}
	stored := time.Since(start)

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	rate := func(d time.Duration) float64 { return float64(f.records) / d.Seconds() }
	fmt.Fprintf(s.out, "machine:   %d CPUs (GOMAXPROCS %d), %s/%s, %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(s.out, "load:      %d %s records, %.0f bytes/record raw, %d uploads of %d, %d in flight\n", f.records, f.dataset, float64(raw)/float64(f.records), len(bodies), f.batch, f.concurrency)
	fmt.Fprintf(s.out, "acked:     %8.0f events/s  (%s; 200 = fsynced in the queue)\n", rate(acked), acked.Round(time.Millisecond))
	fmt.Fprintf(s.out, "stored:    %8.0f events/s  (%s; committed by the %s sink)\n", rate(stored), stored.Round(time.Millisecond), f.sink)
	fmt.Fprintf(s.out, "ack:       p50 %s  p99 %s  max %s per upload; %d retried (429/503)\n", pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond), failures.Load())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(s.out, "peak RSS:  %s (includes the pre-generated uploads: %s; the Go runtime holds %s, the rest is outside it: DuckDB)\n",
		peakRSS(), mib(int64(totalLen(bodies))), mib(int64(ms.Sys-ms.HeapReleased)))
	return nil
}

// benchBodies renders the uploads before the clock starts.
func benchBodies(f benchFlags) (bodies [][]byte, raw int64, err error) {
	gen, err := sim.NewGenerator(f.dataset, 42)
	if err != nil {
		return nil, 0, usageError{err}
	}
	opts := sim.OutputOptions{TimestampFormat: sim.TimestampRFC3339ns}
	if f.fields != "all" {
		names, ok := cfclient.Preset(f.dataset, f.fields)
		if !ok {
			return nil, 0, usagef("--fields %q: no such preset for %s (have: %s)", f.fields, f.dataset, strings.Join(cfclient.Presets(f.dataset), ", "))
		}
		opts.FieldNames = names
	}
	format, err := sim.NewFormat(f.dataset, opts)
	if err != nil {
		return nil, 0, err
	}
	t := time.Now().Add(-time.Hour)
	step := time.Hour / time.Duration(f.records)
	var plain bytes.Buffer
	var buf []byte
	for done := 0; done < f.records; {
		n := min(f.batch, f.records-done)
		plain.Reset()
		for i := 0; i < n; i++ {
			buf = gen.Append(buf[:0], t, format)
			plain.Write(buf)
			t = t.Add(step)
		}
		raw += int64(plain.Len())
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
		zw.Write(plain.Bytes())
		zw.Close()
		bodies = append(bodies, gz.Bytes())
		done += n
	}
	return bodies, raw, nil
}

func benchPost(ctx context.Context, c *http.Client, url, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-Flarehose-Secret", secret)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// counterValue sums every series of a counter family.
func counterValue(m *telemetry.Metrics, name string) float64 {
	families, err := m.Registry.Gather()
	if err != nil {
		return 0
	}
	total := 0.0
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
		for _, mt := range fam.GetMetric() {
			total += counterOf(mt)
		}
	}
	return total
}

func counterOf(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return 0
}

// peakRSS reads the high-water mark of resident memory (Linux).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return mib(kb << 10)
		}
	}
	return "unknown"
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

func totalLen(bs [][]byte) int {
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	return n
}

// acceptAllBulk serves just enough of the Elasticsearch API for the
// elasticsearch sink (GET /, templates, _bulk) and accepts every document
// without looking at it, so a benchmark measures flarehose alone.
func acceptAllBulk() (stop func(), url string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/":
			io.WriteString(w, `{"name":"accept-all","version":{"distribution":"opensearch","number":"2.19.6"}}`)
		case strings.HasSuffix(r.URL.Path, "/_bulk"):
			io.WriteString(w, `{"errors":false}`)
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "_template"):
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{}`)
		default:
			io.WriteString(w, `{"acknowledged":true}`)
		}
	})}
	go srv.Serve(ln)
	return func() { srv.Close() }, "http://" + ln.Addr().String(), nil
}
