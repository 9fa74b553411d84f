package cfapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/service"
	cfsim "github.com/flarehose/flarehose/internal/sim/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi/cfapitest"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// Both pollers through the real pipeline (service: queue, normalizer,
// DuckDB store) against the simulator on a real port: every audit event
// and every Logpull record of the pulled windows is searchable, once.
func TestEndToEndThroughTheStore(t *testing.T) {
	// The simulator's clock stands still at the start (the sources use the
	// real clock, seconds later): no events appear while the test runs.
	now := time.Now().UTC().Truncate(time.Second)
	const token = "flarehose-e2e-token-0123456789abcdefghij"
	sim, err := cfsim.Listen("127.0.0.1:0", cfsim.Config{
		Seed: 5, Clock: cfsim.NewFakeClock(now), RetentionOn: true,
		Tokens:       []cfsim.Token{{Value: token, Permissions: cfsim.AllPermissions}},
		AuditHistory: 3 * time.Hour, AuditRate: 40, AuditLateFraction: -1,
		LogpullPerMinute: 15, LogpullZoneLimit: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	zone := sim.Zones()[0].ID

	// Logpull starts from a checkpoint at a known minute.
	dir := t.TempDir()
	start := now.Add(-20 * time.Minute).Truncate(time.Minute)
	cp := fmt.Sprintf(`{"version":1,"type":"cloudflare_logpull","zone_id":%q,"end":%q}`, zone, start.Format(time.RFC3339))
	if err := cfapi.WriteFileAtomic(cfapi.CheckpointPath(dir, "logpull"), []byte(cp)); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`
data_dir: %s
http: {listen: ""}
shutdown_timeout: 20s
sources:
  - type: cloudflare_audit
    name: audit
    account_id: %s
    api_token: %s
    base_url: %s
    page_size: 25
  - type: cloudflare_logpull
    name: logpull
    zone_id: %s
    api_token: %s
    base_url: %s
    window: 7m
    delay: 2m
sinks:
  - type: duckdb
    retention: 0s
`, dir, sim.AccountID(), token, sim.BaseURL, zone, token, sim.BaseURL)
	cfg, err := config.Parse([]byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &cfapitest.SyncBuffer{}
	svc, err := service.New(cfg, slog.New(slog.NewTextHandler(logs, nil)), telemetry.NewMetrics(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := svc.Shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		}
	}
	defer stop()

	audit := auditIDs(t, sim.BaseURL, token, sim.AccountID())
	if len(audit) < 50 {
		t.Fatalf("the simulator has %d audit events", len(audit))
	}
	// Logpull: wait for the checkpoint to reach now - delay.
	for deadline := time.Now().Add(60 * time.Second); logpullEnd(t, dir).Before(now.Add(-3 * time.Minute).Truncate(time.Minute)); {
		if time.Now().After(deadline) {
			t.Fatalf("logpull checkpoint stuck at %s; logs:\n%s", logpullEnd(t, dir), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	e := svc.Engine()
	waitCount(t, e, "audit_logs_v2_api", "", int64(len(audit)), logs)
	rays := waitLogpull(t, e, sim.BaseURL, token, zone, dir, start, logs)
	t.Logf("%d audit events, %d Logpull records", len(audit), len(rays))
	// Searchable by their fields.
	waitCount(t, e, "", fmt.Sprintf("event.id:%q", audit[len(audit)/2]), 1, logs)
	waitCount(t, e, "", fmt.Sprintf("cloudflare.ray_id:%q", rays[len(rays)/2]), 1, logs)
	res, err := e.Search(context.Background(), search.Request{Dataset: "audit_logs_v2_api", Limit: 1})
	if err != nil || len(res.Hits) != 1 {
		t.Fatalf("search: %v", err)
	}
	var doc map[string]any
	json.Unmarshal(res.Hits[0].Doc, &doc)
	if ds, _ := doc["data_stream"].(map[string]any); ds == nil || ds["dataset"] != "cloudflare.audit_v2" {
		t.Fatalf("audit document: %s", res.Hits[0].Doc)
	}

	// A restart resumes: nothing new, nothing repeated.
	stop()
	restart := time.Now()
	svc2, err := service.New(cfg, slog.New(slog.NewTextHandler(logs, nil)), telemetry.NewMetrics(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		svc2.Shutdown(ctx)
	}()
	for { // until the restarted audit source completed a poll
		var st struct {
			Updated time.Time `json:"updated"`
		}
		b, _ := os.ReadFile(filepath.Join(dir, "checkpoints", "audit.json"))
		json.Unmarshal(b, &st)
		if st.Updated.After(restart) {
			break
		}
		if time.Since(restart) > 30*time.Second {
			t.Fatalf("the restarted source never polled; logs:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitCount(t, svc2.Engine(), "audit_logs_v2_api", "", int64(len(audit)), logs)
	waitLogpull(t, svc2.Engine(), sim.BaseURL, token, zone, dir, start, logs)
}

// logpullEnd reads the Logpull source's checkpoint end (zero while a
// window is pending).
func logpullEnd(t *testing.T, dir string) time.Time {
	var st struct {
		End     time.Time       `json:"end"`
		Pending json.RawMessage `json:"pending"`
	}
	b, _ := os.ReadFile(cfapi.CheckpointPath(dir, "logpull"))
	json.Unmarshal(b, &st)
	if st.Pending != nil {
		return time.Time{}
	}
	return st.End
}

// waitLogpull waits until the store holds exactly the simulator's
// records from start to the checkpoint's end (the source may pull one more
// minute meanwhile: the expectation follows it; a repeat never matches).
func waitLogpull(t *testing.T, e search.Engine, base, token, zone, dir string, start time.Time, logs *cfapitest.SyncBuffer) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		end := logpullEnd(t, dir)
		var rays []string
		if !end.IsZero() {
			rays = logpullRays(t, base, token, zone, start, end)
			res, err := e.Search(context.Background(), search.Request{Dataset: "logpull", Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res.Total == int64(len(rays)) && len(rays) > 100 && logpullEnd(t, dir).Equal(end) {
				return rays
			}
			if time.Now().After(deadline) {
				t.Fatalf("logpull: %d records stored, the simulator has %d in [%s, %s); logs:\n%s", res.Total, len(rays), start, end, logs.String())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitCount(t *testing.T, e search.Engine, dataset, q string, want int64, logs *cfapitest.SyncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := e.Search(context.Background(), search.Request{Dataset: dataset, Query: q, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total == want {
			return
		}
		if time.Now().After(deadline) || res.Total > want {
			t.Fatalf("dataset %q query %q: %d events, want %d; logs:\n%s", dataset, q, res.Total, want, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(t *testing.T, u, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", u, resp.StatusCode, b)
	}
	return resp
}

// auditIDs lists every audit event the simulator shows, through v1.
func auditIDs(t *testing.T, base, token, account string) []string {
	var ids []string
	for page := 1; ; page++ {
		resp := get(t, base+"/accounts/"+account+"/audit_logs?direction=asc&per_page=1000&page="+strconv.Itoa(page), token)
		var env struct {
			Result []struct {
				ID string `json:"id"`
			} `json:"result"`
		}
		json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if len(env.Result) == 0 {
			return ids
		}
		for _, r := range env.Result {
			ids = append(ids, r.ID)
		}
	}
}

// logpullRays lists the Ray IDs of [start, end) (at most an hour).
func logpullRays(t *testing.T, base, token, zone string, start, end time.Time) []string {
	q := url.Values{"start": {start.Format(time.RFC3339)}, "end": {end.Format(time.RFC3339)}, "fields": {"RayID"}}
	resp := get(t, base+"/zones/"+zone+"/logs/received?"+q.Encode(), token)
	defer resp.Body.Close()
	var rays []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var r struct{ RayID string }
		json.Unmarshal(sc.Bytes(), &r)
		rays = append(rays, r.RayID)
	}
	return rays
}
