package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/service"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// writeDead writes entries to <dataDir>/deadletter as the pipeline does.
func writeDead(t *testing.T, dataDir string, es ...deadletter.Entry) {
	t.Helper()
	st, err := deadletter.Open(filepath.Join(dataDir, "deadletter"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, e := range es {
		if err := st.Write([]deadletter.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
}

func deadEntry(ts time.Time, ds, reason, raw string) deadletter.Entry {
	e := deadletter.Entry{Time: ts, Stage: deadletter.StageNormalize, Source: "logpush", Dataset: ds, Line: 1, Reason: reason, Error: reason + ": details\nsecond line"}
	e.SetRaw([]byte(raw))
	return e
}

func TestDeadletterListShowPurge(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	writeDead(t, dir,
		deadEntry(now.Add(-40*24*time.Hour), "http_requests", "invalid_json", "ancient"),
		deadEntry(now.Add(-2*time.Hour), "firewall_events", "not_object", "[1]"),
		deadEntry(now.Add(-time.Hour), "http_requests", "invalid_json", "{broken\x1b[31m"),
	)
	// Bad input in the files: an invalid line and a torn tail.
	path := filepath.Join(dir, "deadletter", deadletter.FileName(now))
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("garbage\n{\"time\":\"2026-")
	f.Close()

	code, out, errs := run(t, "", "deadletter", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "TIME") || strings.Contains(out, "ancient") || strings.Count(out, "\n") != 3 {
		t.Fatalf("list: exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "details\nsecond") {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	if !strings.Contains(errs, "2 dead letter(s) in the last 24h: invalid_json 1, not_object 1") || !strings.Contains(errs, "skipped 2 unreadable line(s): 1 torn") {
		t.Errorf("summary: %s", errs)
	}
	// Elastic dataset names work; --json prints whole entries.
	code, out, _ = run(t, "", "deadletter", "list", "--data-dir", dir, "--since", "all", "--dataset", "cloudflare_logpush.http_request", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first struct{ Ref, Raw, Reason string }
	if code != 0 || len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || first.Raw != "{broken\x1b[31m" {
		t.Fatalf("list --json: exit %d\n%s", code, out)
	}
	// show REF prints the entry; --raw the record exactly.
	code, out, _ = run(t, "", "deadletter", "show", first.Ref, "--data-dir", dir, "--raw")
	if code != 0 || out != "{broken\x1b[31m\n" {
		t.Fatalf("show --raw: exit %d %q", code, out)
	}
	code, out, _ = run(t, "", "deadletter", "show", first.Ref, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "reason:  invalid_json") || !strings.Contains(out, "raw (12 bytes):") {
		t.Fatalf("show: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"show", "nope", "--data-dir", dir}, 2, "want DAY:OFFSET"},
		{[]string{"show", first.Ref + "1", "--data-dir", dir}, 1, "no dead letter there"},
		{[]string{"list", "--data-dir", filepath.Join(dir, "missing")}, 1, "no dead letters at"},
		{[]string{"list", "--data-dir", dir, "--since", "yesterday"}, 2, "--since"},
		{[]string{"list", "--data-dir", dir, "--dataset", "nope_logs"}, 2, "unknown dataset"},
		{[]string{"list", "--data-dir", dir, "--state", "lost"}, 2, "--state"},
		{[]string{"purge", "--data-dir", dir}, 2, "--before is required"},
		{[]string{"replay", "--sink", "es", "--data-dir", dir}, 2, "--sink needs --config"},
	} {
		code, out, errs := run(t, "", append([]string{"deadletter"}, c.args...)...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("%v: exit %d (want %d), %q", c.args, code, c.code, out+errs)
		}
	}
	code, out, _ = run(t, "", "deadletter", "purge", "--data-dir", dir, "--before", "30d")
	if code != 0 || !strings.Contains(out, "removed 1 file(s)") {
		t.Fatalf("purge: exit %d %s", code, out)
	}
	for _, cmd := range []string{"list", "show", "replay", "purge"} {
		if code, out, _ := run(t, "", "deadletter", cmd, "--help"); code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d", cmd, code)
		}
	}
}

// TestDeadletterReplay replays through a real running service: a record a
// past bug dead-lettered is stored now, a bad one comes back as failed
// again, and a second replay sends nothing.
func TestDeadletterReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	const secret = "replay-secret-0123456789"
	cfg, err := config.Parse(fmt.Appendf(nil, `
data_dir: %s
http: {listen: "127.0.0.1:0"}
sources:
  - type: logpush_http
    listen: 127.0.0.1:0
    secret: %s
sinks:
  - type: duckdb
    retention: 0s
`, dir, secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(cfg, slog.New(slog.DiscardHandler), telemetry.NewMetrics(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Shutdown(context.Background())
	to := "http://" + svc.Sources()[0].(interface{ Addr() string }).Addr()

	now := time.Now().UTC()
	good := fmt.Sprintf(`{"RayID":"7a0000000000abcd","EdgeStartTimestamp":%d,"ClientIP":"203.0.113.9","ClientRequestHost":"shop.example.com","ClientRequestMethod":"GET","ClientRequestURI":"/replayed","EdgeResponseStatus":200}`, now.UnixNano())
	writeDead(t, dir,
		deadEntry(now.Add(-time.Minute), "http_requests", "bad_timestamp", good), // what an old normalizer rejected
		deadEntry(now.Add(-time.Minute), "http_requests", "invalid_json", `{"still":broken`),
		deadEntry(now.Add(-time.Minute), "", "invalid_json", `{"no":"dataset"}`),
	)

	code, out, errs := run(t, "", "deadletter", "replay", "--data-dir", dir, "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run: 2 of 3 matching entries would be sent") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = run(t, "", "deadletter", "replay", "--data-dir", dir, "--to", to, "--secret", "wrong-secret-0123456789")
	if code != 1 || !strings.Contains(errs, "refused the credentials") || !strings.Contains(out, "2 not sent because replay stopped") {
		t.Fatalf("wrong secret: exit %d\n%s\n%s", code, out, errs)
	}
	t.Setenv("FLAREHOSE_SECRET", secret)
	code, out, errs = run(t, "", "deadletter", "replay", "--data-dir", dir, "--to", to)
	if code != 0 || !strings.Contains(out, "2 sent: 1 accepted, 1 dead-lettered again") || !strings.Contains(out, "1 without a dataset") {
		t.Fatalf("replay: exit %d\n%s\n%s", code, out, errs)
	}
	waitStored(t, svc, "url.path:/replayed")
	code, out, _ = run(t, "", "deadletter", "replay", "--data-dir", dir, "--to", to)
	if code != 0 || !strings.Contains(out, "nothing sent") || !strings.Contains(out, "2 already replayed, 1 failed again on an earlier replay") {
		t.Fatalf("second replay: exit %d\n%s", code, out)
	}
	code, out, errs = run(t, "", "deadletter", "list", "--data-dir", dir, "--state", "failed_again")
	if code != 0 || !strings.Contains(out, "failed_again") || !strings.Contains(errs, "1 dead letter(s)") {
		t.Fatalf("list failed again: exit %d\n%s\n%s", code, out, errs)
	}
}

func waitStored(t *testing.T, svc *service.Service, q string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := svc.Engine().Search(context.Background(), search.Request{Query: q, Limit: 10})
		if err == nil && res.Total == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not stored: %v", q, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDeadletterReplayToSink sends the documents a sink rejected back to
// it, the sink built from the configuration (here the embedded store, not
// held by a running serve).
func TestDeadletterReplayToSink(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "flarehose.yaml")
	os.WriteFile(cfgPath, []byte("data_dir: "+dir+"\nsources:\n  - type: logpush_http\n    secret: sink-replay-secret-0123\nsinks:\n  - type: duckdb\n    name: store\n"), 0o600)
	now := time.Now().UTC()
	doc := `{"@timestamp":"` + now.Format(time.RFC3339Nano) + `","data_stream":{"dataset":"cloudflare_logpush.firewall_event"},"event":{"action":"block"},"source":{"ip":"192.0.2.77"}}`
	e := deadletter.Entry{Time: now, Stage: "store", Reason: "sink_rejected", Error: "simulated rejection"}
	e.SetRecord(&event.Record{Dataset: "firewall_events", ID: "fw-77", Time: now.UnixNano(), Doc: []byte(doc)})
	writeDead(t, dir, e, deadEntry(now, "http_requests", "invalid_json", "{raw"))

	code, out, errs := run(t, "", "deadletter", "replay", "--config", cfgPath, "--sink", "store", "--dry-run")
	if code != 0 || !strings.Contains(out, `dry run: 1 of 1 matching documents of sink "store"`) {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = run(t, "", "deadletter", "replay", "--config", cfgPath, "--sink", "store")
	if code != 0 || !strings.Contains(out, "1 sent: 1 accepted, 0 dead-lettered again") {
		t.Fatalf("replay --sink: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = run(t, "", "search", "--data-dir", dir, "source.ip:192.0.2.77")
	if code != 0 || !strings.Contains(errs, "1 of 1 matching") {
		t.Fatalf("search: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = run(t, "", "deadletter", "replay", "--config", cfgPath, "--sink", "store")
	if code != 0 || !strings.Contains(out, "nothing sent") {
		t.Fatalf("second replay --sink: exit %d\n%s", code, out)
	}
	if code, _, errs := run(t, "", "deadletter", "replay", "--config", cfgPath, "--sink", "nope"); code != 2 || !strings.Contains(errs, "sinks: store") {
		t.Fatalf("unknown sink: exit %d %s", code, errs)
	}
}
