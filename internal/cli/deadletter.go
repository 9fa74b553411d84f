package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/flarehose/flarehose/internal/api"
	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/normalize"
	"github.com/flarehose/flarehose/internal/registry"
	"github.com/flarehose/flarehose/internal/sink"
	"github.com/flarehose/flarehose/internal/source/logpush"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// dlFlags are the flags the deadletter subcommands share.
type dlFlags struct {
	dataDir, configPath string
	since, until        string
	dataset, reason     string
	stage, state        string
	jsonOut             bool
}

func (f *dlFlags) registerDir(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory whose deadletter/ folder to use (default ./flarehose-data, or data_dir from --config)")
	fl.StringVarP(&f.configPath, "config", "c", "", "configuration file (for data_dir; replay also takes the receiver's address and secret from it)")
}

func (f *dlFlags) registerFilters(cmd *cobra.Command, sinceDefault string) {
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", sinceDefault, `only entries dead-lettered since: a duration before now (1h, 7d), an RFC 3339 time, a date, or "all"`)
	fl.StringVar(&f.until, "until", "", "only entries dead-lettered before this time (same forms as --since)")
	fl.StringVar(&f.dataset, "dataset", "", `only this dataset (Cloudflare or Elastic name; "none": entries whose delivery named none)`)
	fl.StringVar(&f.reason, "reason", "", "only this reason code (invalid_json, not_object, too_large, ...)")
	fl.StringVar(&f.stage, "stage", "", `only this stage: "normalize" or a sink's name`)
	fl.StringVar(&f.state, "state", "", "only entries in this replay state: pending, replayed or failed_again")
}

// config loads the configuration named by --config, or the defaults.
func (f *dlFlags) config() (*config.Config, error) {
	if f.configPath == "" {
		return config.Defaults(), nil
	}
	return config.Load(f.configPath)
}

// dir returns the dead-letter directory; it must exist, or the data
// directory is probably the wrong one.
func (f *dlFlags) dir(cfg *config.Config) (string, error) {
	dataDir := cfg.DataDir
	if f.dataDir != "" {
		dataDir = f.dataDir
	}
	dir := filepath.Join(dataDir, "deadletter")
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("no dead letters at %s: pass the --data-dir (or --config) of the flarehose whose dead letters to use", dir)
	}
	return dir, nil
}

// filter builds the deadletter filter from the flags (usage errors).
func (f *dlFlags) filter(now time.Time) (deadletter.Filter, error) {
	var flt deadletter.Filter
	var err error
	if f.since != "" && f.since != "all" {
		if flt.Since, err = api.ParseTime(f.since, now); err != nil {
			return flt, usagef("--since: %v", err)
		}
	}
	if f.until != "" {
		if flt.Until, err = api.ParseTime(f.until, now); err != nil {
			return flt, usagef("--until: %v", err)
		}
	}
	if !flt.Since.IsZero() && !flt.Until.IsZero() && !flt.Since.Before(flt.Until) {
		return flt, usagef("--since must be before --until")
	}
	flt.Dataset = f.dataset
	if f.dataset != "" && f.dataset != deadletter.NoDataset {
		ds, ok := normalize.Resolve(f.dataset)
		if !ok {
			return flt, usagef("--dataset: unknown dataset %q (see flarehose fields)", f.dataset)
		}
		flt.Dataset = ds
	}
	flt.Reason, flt.Stage = f.reason, f.stage
	switch f.state {
	case "", "pending", deadletter.StateReplayed, deadletter.StateFailedAgain:
		flt.State = f.state
	default:
		return flt, usagef("--state: want pending, replayed or failed_again, not %q", f.state)
	}
	return flt, nil
}

func newDeadletterCmd(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "deadletter",
		Aliases: []string{"deadletters", "dl"},
		Short:   "List, show, replay and purge records that could not be stored",
		Long: `Records flarehose could not store are kept in <data_dir>/deadletter, one NDJSON file
per UTC day, with the reason: lines that could not be normalized (stage "normalize",
the raw record kept byte for byte) and documents a sink rejected for good (stage = the
sink's name, the ECS document kept).

  list     the newest entries, as a table or NDJSON, with counts by reason
  show     one entry in full, or only its record (--raw)
  replay   send raw records again through a running receiver, after a fix
  purge    remove the files of days before a cutoff

The UI shows them too (Dead letters), and GET /api/deadletters.`,
		Example: `  flarehose deadletter list --since 7d
  flarehose deadletter show 20261121:48213 --raw | jq .
  flarehose deadletter replay --dry-run
  flarehose deadletter purge --before 30d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDLListCmd(s), newDLShowCmd(s), newDLReplayCmd(s), newDLPurgeCmd(s))
	return cmd
}

func newDLListCmd(s streams) *cobra.Command {
	var f dlFlags
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List dead letters, newest first, with counts by reason",
		Long: `List dead letters, newest first: a table (time, stage, dataset, reason, source, line,
error; REF names the entry for 'show'), or with --json one JSON object per line holding
the whole entry (raw record or document included). A summary by reason goes to stderr,
with lines of the files that could not be read (torn by a crash, invalid), if any.

STATE is the replay state: empty (pending), replayed, or failed_again (written again
by a replay because the record still fails).`,
		Example: `  flarehose deadletter list
  flarehose deadletter list --since 7d --dataset http_requests --reason invalid_json
  flarehose deadletter list --state pending --json --limit 1000 > pending.ndjson`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			flt, err := f.filter(time.Now())
			if err != nil {
				return err
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			dir, err := f.dir(cfg)
			if err != nil {
				return err
			}
			res, err := deadletter.Query(dir, flt, limit)
			if err != nil {
				return err
			}
			if f.jsonOut {
				enc := json.NewEncoder(s.out)
				enc.SetEscapeHTML(false)
				for i := range res.Items {
					it := &res.Items[i]
					if err := enc.Encode(struct {
						Ref string `json:"ref"`
						*deadletter.Item
					}{it.Ref.Short(), it}); err != nil {
						return err
					}
				}
			} else {
				printDLTable(s, res.Items)
			}
			fmt.Fprintln(s.err, dlSummary(res, f.since))
			return nil
		},
	}
	f.registerDir(cmd)
	f.registerFilters(cmd, "24h")
	cmd.Flags().IntVar(&limit, "limit", 50, "entries to print (0: only the summary)")
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "print each entry as one JSON line, record included")
	return cmd
}

func printDLTable(s streams, items []deadletter.Item) {
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSTAGE\tDATASET\tREASON\tSOURCE\tLINE\tSTATE\tREF\tERROR")
	for _, it := range items {
		line := ""
		if it.Line > 0 {
			line = fmt.Sprint(it.Line)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
			cell(it.Stage, 20), orDash(cell(it.Dataset, 40)), cell(it.Reason, 30), orDash(cell(it.Source, 20)), orDash(line),
			orDash(it.State), it.Ref.Short(), cell(it.Error, 100))
	}
	tw.Flush()
}

// cell makes a value safe for one table cell: control characters (a
// newline, an escape sequence from a hostile record) become spaces, long
// values are cut.
func cell(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dlSummary(res *deadletter.Result, since string) string {
	var b strings.Builder
	window := ""
	if since != "" && since != "all" {
		window = " in the last " + since
		if _, err := time.ParseDuration(since); err != nil && !strings.HasSuffix(since, "d") && !strings.HasSuffix(since, "w") {
			window = " since " + since
		}
	}
	fmt.Fprintf(&b, "%d dead letter(s)%s", res.Total, window)
	if res.Total > 0 {
		b.WriteString(": ")
		b.WriteString(countList(res.ByReason))
		if p := res.ByState["pending"]; p != res.Total {
			fmt.Fprintf(&b, " (replay: %s)", countList(res.ByState))
		}
	}
	if len(res.Items) < res.Total {
		fmt.Fprintf(&b, "; showing the newest %d", len(res.Items))
	}
	if st := res.Stats; st.Skipped() > 0 {
		fmt.Fprintf(&b, "\nskipped %d unreadable line(s): %d torn (a crash mid-write, or being written now), %d invalid, %d oversized", st.Skipped(), st.Torn, st.Invalid, st.Oversized)
	}
	if res.MarksInvalid > 0 {
		fmt.Fprintf(&b, "\n%s: %d unreadable line(s) ignored", deadletter.MarksFile, res.MarksInvalid)
	}
	return b.String()
}

// countList renders counts as "a 3, b 1", largest first.
func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func newDLShowCmd(s streams) *cobra.Command {
	var f dlFlags
	var raw bool
	cmd := &cobra.Command{
		Use:   "show REF...",
		Short: "Show dead letters in full",
		Long: `Show entries named by the REF column of 'list' (DAY:OFFSET): every field and the whole
record. --raw prints only the record, byte for byte (one per line), for piping into jq
or 'flarehose normalize'; --json the entry as JSON.`,
		Example: `  flarehose deadletter show 20261121:48213
  flarehose deadletter show 20261121:48213 --raw | flarehose normalize --dataset http_requests`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if raw && f.jsonOut {
				return usagef("--raw and --json do not go together")
			}
			refs := make([]deadletter.Ref, len(args))
			for i, a := range args {
				r, err := deadletter.ParseRef(a)
				if err != nil {
					return usageError{err}
				}
				refs[i] = r
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			dir, err := f.dir(cfg)
			if err != nil {
				return err
			}
			marks, err := deadletter.LoadMarks(dir)
			if err != nil {
				return err
			}
			for i, r := range refs {
				e, err := deadletter.Get(dir, r)
				if err != nil {
					return err
				}
				switch {
				case raw:
					s.out.Write(e.Payload())
					fmt.Fprintln(s.out)
				case f.jsonOut:
					enc := json.NewEncoder(s.out)
					enc.SetEscapeHTML(false)
					enc.Encode(struct {
						Ref   string `json:"ref"`
						State string `json:"state,omitempty"`
						*deadletter.Entry
					}{r.Short(), marks.State(r), e})
				default:
					if i > 0 {
						fmt.Fprintln(s.out)
					}
					printDLEntry(s, r, marks.State(r), e)
				}
			}
			return nil
		},
	}
	f.registerDir(cmd)
	cmd.Flags().BoolVar(&raw, "raw", false, "print only the record (raw bytes, or the document)")
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "print the entry as JSON")
	return cmd
}

func printDLEntry(s streams, r deadletter.Ref, state string, e *deadletter.Entry) {
	tw := tabwriter.NewWriter(s.out, 0, 0, 1, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, cell(v, 4096))
		}
	}
	row("ref", r.Short())
	row("time", e.Time.UTC().Format(time.RFC3339Nano))
	row("stage", e.Stage)
	row("state", orDash(state))
	row("source", e.Source)
	row("origin", e.Origin)
	row("dataset", orDash(e.Dataset))
	if e.Line > 0 {
		row("line", fmt.Sprint(e.Line))
	}
	row("reason", e.Reason)
	row("error", e.Error)
	row("record_id", e.RecordID)
	if !e.EventTime.IsZero() {
		row("event_time", e.EventTime.Format(time.RFC3339Nano))
	}
	tw.Flush()
	switch {
	case len(e.Doc) > 0:
		fmt.Fprintf(s.out, "document (%d bytes):\n%s\n", len(e.Doc), e.Doc)
	case e.RawB64 != "":
		fmt.Fprintf(s.out, "raw (%d bytes, not UTF-8, base64; --raw prints the bytes):\n%s\n", len(e.RawBytes()), e.RawB64)
	default:
		fmt.Fprintf(s.out, "raw (%d bytes):\n%s\n", len(e.Raw), cell(e.Raw, len(e.Raw)+1))
	}
}

func newDLReplayCmd(s streams) *cobra.Command {
	var f dlFlags
	var rp deadletter.Replay
	var sinkName string
	var secretSet bool
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Send dead-lettered records again through a running receiver, after a fix",
		Long: `Send the raw records of dead letters (stage "normalize") again to a running flarehose
Logpush receiver, grouped by dataset into gzip'd NDJSON uploads with the secret header,
so they go through today's normalizer: after an upgrade that fixes what rejected them,
or after fixing the Logpush job. The receiver answers 200 for each upload; records that
still fail are dead-lettered again by the receiver (a new entry, today's error).

What replay remembers (in deadletter/replay.log):
  - every entry in an upload the receiver acknowledged is marked "replayed" and is
    never sent again;
  - records that came back to the dead letters during the replay are counted as
    "failed again" and their new entries marked failed_again: a plain replay skips
    them (they would fail the same way); --retry-failed sends them after another fix.
Records that failed again are only seen when the receiver writes to this data
directory: run replay on the receiver's host with its --data-dir (or --config).

Skipped: entries without a dataset (the delivery named none), records the receiver had
cut to its max_line_bytes (they can never parse), and documents a sink rejected: those
go back to their sink with --sink NAME (and --config, which defines the sink).

By default every pending entry is sent (--since all). Exit status 1 when the receiver
refused something or replay had to stop (what was not sent stays pending: run it again).`,
		Example: `  flarehose deadletter replay --dry-run
  FLAREHOSE_SECRET=... flarehose deadletter replay --to http://127.0.0.1:9560
  flarehose deadletter replay --config /etc/flarehose/flarehose.yaml --dataset http_requests --since 7d
  flarehose deadletter replay --retry-failed
  flarehose deadletter replay --sink es --config /etc/flarehose/flarehose.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secretSet = cmd.Flags().Changed("secret")
			flt, err := f.filter(time.Now())
			if err != nil {
				return err
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			dir, err := f.dir(cfg)
			if err != nil {
				return err
			}
			rp.Dir, rp.Filter = dir, flt
			if sinkName != "" {
				return replayToSink(cmd.Context(), s, cfg, f, &rp, sinkName)
			}
			if err := receiverFromConfig(cmd, cfg, &f, &rp, secretSet); err != nil {
				return err
			}
			rp.Progress = func(ds string, n int, status string) {
				fmt.Fprintf(s.err, "%s: %d record(s): %s\n", ds, n, status)
			}
			res, runErr := rp.Run(cmd.Context())
			printReplay(s, res, f.jsonOut)
			if runErr != nil {
				return runErr
			}
			if res.Refused > 0 {
				return exitError{exitFail}
			}
			return nil
		},
	}
	f.registerDir(cmd)
	f.registerFilters(cmd, "all")
	fl := cmd.Flags()
	fl.StringVar(&rp.To, "to", "http://"+logpush.DefaultListen, "the receiver's base URL; with --config, the address of its logpush_http source")
	fl.StringVar(&rp.Secret, "secret", "", "the receiver's shared secret (default $FLAREHOSE_SECRET, or the source's secret in --config)")
	fl.StringVar(&rp.SecretHeader, "secret-header", "", "header carrying the secret (default "+logpush.DefaultSecretHeader+")")
	fl.StringVar(&rp.PathPrefix, "path-prefix", "", "the receiver's path prefix (default "+logpush.DefaultPathPrefix+")")
	fl.BoolVar(&rp.RetryFailed, "retry-failed", false, "also send records that failed again on an earlier replay")
	fl.BoolVar(&rp.DryRun, "dry-run", false, "only count what would be sent")
	fl.IntVar(&rp.BatchBytes, "batch-bytes", 8<<20, "uncompressed bytes per upload (at most)")
	fl.StringVar(&sinkName, "sink", "", "send the documents a sink rejected back to that sink (needs --config; a store held by a running serve cannot be opened)")
	fl.BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
	return cmd
}

// receiverFromConfig fills the receiver's address and credentials: flags
// first, then the logpush_http source of --config, then the environment.
func receiverFromConfig(cmd *cobra.Command, cfg *config.Config, f *dlFlags, rp *deadletter.Replay, secretSet bool) error {
	var lc *logpush.Config
	if f.configPath != "" {
		for _, c := range cfg.Sources {
			if c.Type != "logpush_http" {
				continue
			}
			_, v, err := registry.DecodeSource(c)
			if err != nil {
				return err
			}
			lc = v.(*logpush.Config)
			break
		}
	}
	if lc != nil {
		if !cmd.Flags().Changed("to") {
			host, port, err := net.SplitHostPort(lc.Listen)
			if err == nil {
				if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
					host = "127.0.0.1"
				}
				scheme := "http"
				if lc.TLS.CertFile != "" {
					scheme = "https"
				}
				rp.To = scheme + "://" + net.JoinHostPort(host, port)
			}
		}
		if rp.PathPrefix == "" {
			rp.PathPrefix = lc.PathPrefix
		}
		if rp.SecretHeader == "" {
			rp.SecretHeader = lc.SecretHeader
		}
		if !secretSet {
			rp.Secret = lc.Secret
			if lc.Secret == "" && lc.BasicAuth.Username != "" {
				rp.Username, rp.Password = lc.BasicAuth.Username, lc.BasicAuth.Password
			}
		}
	}
	if !secretSet && rp.Secret == "" && rp.Username == "" {
		rp.Secret = os.Getenv("FLAREHOSE_SECRET")
	}
	if !rp.DryRun && rp.Secret == "" && rp.Username == "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "flarehose: no secret (--secret, FLAREHOSE_SECRET or --config): sending without one, which only a receiver with insecure_no_auth accepts")
	}
	return nil
}

func printReplay(s streams, res *deadletter.ReplayResult, jsonOut bool) {
	if res == nil {
		return
	}
	if jsonOut {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		enc.Encode(res)
		return
	}
	names := make([]string, 0, len(res.ByDataset))
	for n, c := range res.ByDataset {
		if *c != (deadletter.DatasetCounts{}) {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', tabwriter.AlignRight)
		if res.DryRun {
			fmt.Fprintln(tw, "DATASET\tWOULD SEND\t")
			for _, n := range names {
				fmt.Fprintf(tw, "%s\t%d\t\n", n, res.ByDataset[n].Sent)
			}
		} else {
			fmt.Fprintln(tw, "DATASET\tSENT\tACCEPTED\tFAILED AGAIN\tREFUSED\t")
			for _, n := range names {
				c := res.ByDataset[n]
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", n, c.Sent, c.Accepted, c.FailedAgain, c.Refused)
			}
		}
		tw.Flush()
	}
	if res.DryRun {
		fmt.Fprintf(s.out, "dry run: %d of %d matching entries would be sent; nothing was sent or marked\n", res.Sent, res.Matched)
	} else if res.Sent == 0 {
		fmt.Fprintf(s.out, "nothing sent (%d matching entries)\n", res.Matched)
	} else {
		fmt.Fprintf(s.out, "%d sent: %d accepted, %d dead-lettered again", res.Sent, res.Accepted, res.FailedAgain)
		if res.FailedAgain > 0 {
			fmt.Fprint(s.out, " (marked failed_again: see 'flarehose deadletter list --state failed_again'; --retry-failed after another fix)")
		}
		fmt.Fprintln(s.out)
	}
	var skipped []string
	for _, p := range []struct {
		n    int
		what string
	}{
		{res.AlreadyReplayed, "already replayed"},
		{res.SkippedFailed, "failed again on an earlier replay (--retry-failed)"},
		{res.SkippedNoDataset, "without a dataset"},
		{res.SkippedTruncated, "cut by the receiver (can never parse)"},
		{res.SkippedDocs, "sink documents (--sink NAME)"},
		{res.Refused, "refused by the receiver (still pending)"},
		{res.NotSent, "not sent because replay stopped (still pending)"},
	} {
		if p.n > 0 {
			skipped = append(skipped, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(s.out, "not sent: %s\n", strings.Join(skipped, ", "))
	}
	for _, e := range res.Errors {
		fmt.Fprintln(s.err, "flarehose:", e)
	}
	if st := res.Stats; st.Skipped() > 0 {
		fmt.Fprintf(s.err, "skipped %d unreadable line(s) of the dead-letter files: %d torn, %d invalid, %d oversized\n", st.Skipped(), st.Torn, st.Invalid, st.Oversized)
	}
}

// replayToSink sends the documents a sink rejected back to it, building
// the sink from the configuration.
func replayToSink(ctx context.Context, s streams, cfg *config.Config, f dlFlags, rp *deadletter.Replay, name string) error {
	if f.configPath == "" {
		return usagef("--sink needs --config: the sink is built from its section")
	}
	var comp *config.Component
	for i := range cfg.Sinks {
		if cfg.Sinks[i].Name == name {
			comp = &cfg.Sinks[i]
		}
	}
	if comp == nil {
		names := make([]string, len(cfg.Sinks))
		for i, c := range cfg.Sinks {
			names[i] = c.Name
		}
		return usagef("--sink %q: no such sink in %s (sinks: %s)", name, f.configPath, strings.Join(names, ", "))
	}
	factory, scfg, err := registry.DecodeSink(*comp)
	if err != nil {
		return err
	}
	if rp.DryRun {
		flt := rp.Filter
		flt.Stage = name
		res, err := deadletter.Query(rp.Dir, flt, 0)
		if err != nil {
			return err
		}
		n := res.ByState["pending"]
		if rp.RetryFailed {
			n += res.ByState[deadletter.StateFailedAgain]
		}
		fmt.Fprintf(s.out, "dry run: %d of %d matching documents of sink %q would be written to it; nothing was sent or marked\n", n, res.Total, name)
		return nil
	}
	dead, err := deadletter.Open(rp.Dir)
	if err != nil {
		return err
	}
	defer dead.Close()
	log, _ := telemetry.NewLogger(s.err, telemetry.LogConfig{Level: "warn", Format: "text"})
	sk, err := factory.Build(name, scfg, sink.Deps{Logger: log, Metrics: telemetry.NewMetrics(), DataDir: cfg.DataDir, DeadLetters: dead})
	if err != nil {
		return fmt.Errorf("sink %q: %w (a store held by a running 'flarehose serve' cannot be opened: stop it first)", name, err)
	}
	defer sk.Close()
	res, err := deadletter.ReplayDocs(ctx, rp.Dir, rp.Filter, name, rp.RetryFailed, 1000, sk.Write)
	printReplay(s, res, f.jsonOut)
	if err != nil {
		return err
	}
	if res.Refused > 0 {
		return exitError{exitFail}
	}
	return nil
}

func newDLPurgeCmd(s streams) *cobra.Command {
	var f dlFlags
	var before string
	var dry bool
	cmd := &cobra.Command{
		Use:   "purge --before AGE",
		Short: "Remove the dead-letter files of days before a cutoff",
		Long: `Remove whole daily files whose every entry is older than --before (a duration before
now such as 30d, or a date); today's file is never removed. Their replay marks are
dropped too. Safe while 'flarehose serve' runs.`,
		Example: `  flarehose deadletter purge --before 30d
  flarehose deadletter purge --before 2026-11-01 --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if before == "" {
				return usagef("--before is required, e.g. --before 30d")
			}
			cutoff, err := api.ParseTime(before, time.Now())
			if err != nil {
				return usagef("--before: %v", err)
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			dir, err := f.dir(cfg)
			if err != nil {
				return err
			}
			res, err := deadletter.Purge(dir, cutoff, dry)
			if err != nil && res == nil {
				return err
			}
			verb := "removed"
			if dry {
				verb = "would remove"
			}
			for _, n := range res.Files {
				fmt.Fprintf(s.out, "%s %s\n", verb, n)
			}
			fmt.Fprintf(s.out, "%s %d file(s), %s, older than %s; %d kept\n", verb, len(res.Files), humanBytes(res.Bytes), res.Cutoff.UTC().Format(time.RFC3339), res.Kept)
			for _, sk := range res.Skipped {
				fmt.Fprintln(s.err, "flarehose: could not remove", sk)
			}
			if err != nil {
				return err
			}
			if len(res.Skipped) > 0 {
				return exitError{exitFail}
			}
			return nil
		},
	}
	f.registerDir(cmd)
	cmd.Flags().StringVar(&before, "before", "", "remove files whose entries are all older than this: 30d, 2w, or a date (required)")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "only print what would be removed")
	return cmd
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
