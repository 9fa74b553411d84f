package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flarehose/flarehose/internal/normalize"
)

func TestFieldsCommand(t *testing.T) {
	code, out, errs := run(t, "", "fields")
	if code != 0 || !strings.Contains(out, "http_requests") || !strings.Contains(out, "cloudflare.logpull") {
		t.Fatalf("fields: exit %d, %q %q", code, out, errs)
	}
	code, out, _ = run(t, "", "fields", "cloudflare.audit")
	if code != 0 || !strings.Contains(out, "source.ip") || !strings.Contains(out, "cloudflare.audit.metadata") || !strings.Contains(out, "flattened") {
		t.Fatalf("fields cloudflare.audit: exit %d, %q", code, out)
	}
	code, out, _ = run(t, "", "fields", "http_requests", "--json")
	var defs []struct{ Path, Type, Source string }
	if code != 0 || json.Unmarshal([]byte(out), &defs) != nil || len(defs) < 50 {
		t.Fatalf("fields --json: exit %d, %d defs", code, len(defs))
	}
	found := false
	for _, d := range defs {
		found = found || d.Path == "source.ip" && d.Type == "ip" && d.Source == "ClientIP"
	}
	if !found {
		t.Error("source.ip ip ClientIP not listed")
	}
	if code, _, errs := run(t, "", "fields", "nope_logs"); code != 2 || !strings.Contains(errs, "unknown dataset") {
		t.Errorf("unknown dataset: exit %d %q", code, errs)
	}
	code, out, _ = run(t, "", "fields", "--help")
	if code != 0 || !strings.Contains(out, "--unknown") || !strings.Contains(out, "Examples:") {
		t.Errorf("help: %q", out)
	}
}

func TestFieldsUnknown(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "", "fields", "--unknown", "--data-dir", dir)
	if code != 0 || !strings.Contains(errs, "no unknown fields recorded") || out != "" {
		t.Fatalf("empty: exit %d %q %q", code, out, errs)
	}
	// What a running server saves.
	env, err := normalize.NewEnv(normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	n := env.NewNormalizer()
	n.Normalize("http_requests", []byte(`{"RayID":"r","BrandNewField":1}`), nil)
	n.Normalize("firewall_events", []byte(`{"RayID":"r","Another":"x"}`), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env.PersistUnknownFields(ctx, filepath.Join(dir, normalize.UnknownFieldsFile), 0, func(err error) { t.Error(err) })

	code, out, _ = run(t, "", "fields", "--unknown", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "BrandNewField") || !strings.Contains(out, "cloudflare_logpush.http_request.brand_new_field") || !strings.Contains(out, "Another") {
		t.Fatalf("unknown: exit %d %q", code, out)
	}
	code, out, _ = run(t, "", "fields", "--unknown", "--data-dir", dir, "cloudflare_logpush.firewall_event", "--json")
	var rows []struct {
		Dataset, Name, Path string
		Count               int
	}
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].Dataset != "firewall_events" || rows[0].Name != "Another" || rows[0].Count != 1 {
		t.Fatalf("unknown --json: exit %d %q", code, out)
	}
}
