package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/store"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidate(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"validate", "--config", "testdata/valid.yaml"}, 0, "valid (1 source(s), 1 sink(s)"},
		{[]string{"validate", "--config", "testdata/typo.yaml"}, 1, `line 4: unknown key "lisen"`},
		{[]string{"validate", "--config", "testdata/noauth.yaml"}, 1, "secret"},
		{[]string{"validate", "--config", "testdata/missing.yaml"}, 1, "no such file"},
		{[]string{"validate"}, 2, "--config FILE is required"},
		{[]string{"validate", "--bogus"}, 2, "unknown flag"},
	}
	for _, c := range cases {
		code, out, errs := run(t, "", c.args...)
		if code != c.code || !strings.Contains(out+errs, c.contains) {
			t.Errorf("%v: exit %d (want %d), output %q, want it to contain %q", c.args, code, c.code, out+errs, c.contains)
		}
	}
}

func TestServeRefusesWithoutSecret(t *testing.T) {
	t.Setenv("FLAREHOSE_SECRET", "")
	code, _, errs := run(t, "", "serve", "--data-dir", t.TempDir())
	if code != 2 || !strings.Contains(errs, "FLAREHOSE_SECRET") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, cmd := range []string{"serve", "demo", "search", "normalize", "validate", "version", "bench"} {
		code, out, _ := run(t, "", cmd, "--help")
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: exit %d, %q", cmd, code, out)
		}
	}
}

func TestSearchLocalStore(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, store.DefaultFile)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	b := &event.Batch{}
	for i, ip := range []string{"198.51.100.1", "198.51.100.2", "192.0.2.9"} {
		doc := `{"@timestamp":"` + now.UTC().Format(time.RFC3339Nano) + `","data_stream":{"dataset":"cloudflare_logpush.firewall_event"},"event":{"action":"block"},"source":{"ip":"` + ip + `"}}`
		b.Records = append(b.Records, event.Record{Dataset: "firewall_events", ID: ip, Time: now.Add(-time.Duration(i) * time.Minute).UnixNano(), Doc: []byte(doc)})
	}
	if err := st.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errs := run(t, "", "search", "--data-dir", dir, "source.ip:198.51.100.0/24")
	if code != 0 || !strings.Contains(out, "198.51.100.1") || strings.Contains(out, "192.0.2.9") || !strings.Contains(errs, "2 of 2 matching") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	code, out, _ = run(t, "", "search", "--data-dir", dir, "--json", "--limit", "1")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "{") {
		t.Fatalf("--json: exit %d, %q", code, out)
	}
	code, _, errs = run(t, "", "search", "--data-dir", dir, "source.ip:(")
	if code != 2 || errs == "" {
		t.Fatalf("bad query: exit %d, %q", code, errs)
	}
	code, _, errs = run(t, "", "search", "--data-dir", dir, "--since", "yesterday-ish")
	if code != 2 || !strings.Contains(errs, "since") {
		t.Fatalf("bad --since: exit %d, %q", code, errs)
	}
	code, _, errs = run(t, "", "search", "--data-dir", t.TempDir())
	if code != 1 || !strings.Contains(errs, "no store at") {
		t.Fatalf("no store: exit %d, %q", code, errs)
	}
}
