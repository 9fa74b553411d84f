package cfaudit

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	cfsim "github.com/flarehose/flarehose/internal/sim/cfapi"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/source/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi/cfapitest"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// t0 is the simulator's clock at the start of most tests.
var t0 = time.Date(2026, 3, 18, 14, 30, 0, 0, time.UTC)

const (
	mainToken   = "flarehose-test-token-main-0123456789abcd"
	helperToken = "flarehose-test-token-helper-0123456789ab" // the test's own reads, outside the source's rate limit
)

type env struct {
	t       *testing.T
	clock   *cfsim.FakeClock
	sim     *cfsim.Server
	tamper  *cfapitest.Tamper
	ts      *httptest.Server
	base    string
	dir     string
	metrics *telemetry.Metrics
	logs    *syncBuffer
}

// newEnv starts the simulator (clock at t0, no late events unless cfg
// says) behind a Tamper, on an httptest server.
func newEnv(t *testing.T, cfg cfsim.Config) *env {
	t.Helper()
	e := &env{t: t, clock: cfsim.NewFakeClock(t0), dir: t.TempDir(), metrics: telemetry.NewMetrics(), logs: &syncBuffer{}}
	if cfg.Clock == nil {
		cfg.Clock = e.clock
	}
	if cfg.Seed == 0 {
		cfg.Seed = 7
	}
	if cfg.AuditLateFraction == 0 {
		cfg.AuditLateFraction = -1
	}
	if cfg.AuditHistory == 0 {
		cfg.AuditHistory = 6 * time.Hour
	}
	if cfg.AuditRate == 0 {
		cfg.AuditRate = 60
	}
	if len(cfg.Tokens) == 0 {
		cfg.Tokens = []cfsim.Token{{Value: mainToken, Name: "main", Permissions: cfsim.AllPermissions}}
	}
	cfg.Tokens = append(cfg.Tokens, cfsim.Token{Value: helperToken, Name: "helper", Permissions: cfsim.AllPermissions})
	srv, err := cfsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.sim = srv
	e.tamper = &cfapitest.Tamper{Next: srv}
	e.ts = httptest.NewServer(e.tamper)
	e.base = e.ts.URL + cfsim.BasePath
	t.Cleanup(func() {
		e.ts.Close()
		srv.Close()
	})
	return e
}

// config returns a configuration with defaults for the simulator's account.
func (e *env) config(version string, mod ...func(*Config)) Config {
	c := Config{AccountID: e.sim.AccountID(), Version: version}
	c.BaseURL, c.APIToken = e.base, mainToken
	c.SetDefaults()
	for _, m := range mod {
		if m != nil {
			m(&c)
		}
	}
	return c
}

// source builds a source whose clock follows the simulator's (shifted
// by offset); with an interval of an hour or more, sleeping it blocks
// (run() then knows the source caught up).
func (e *env) source(cfg Config, offset time.Duration) (*Source, *cfapitest.SimClock) {
	e.t.Helper()
	clk := &cfapitest.SimClock{Fake: e.clock, Offset: offset}
	if cfg.Interval.D() >= time.Hour {
		clk.Block = cfg.Interval.D() // run() waits for that sleep: caught up
	}
	s, err := newSource("audit", cfg, source.Deps{
		Logger:  slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: e.metrics, DataDir: e.dir,
	}, clk)
	if err != nil {
		e.t.Fatal(err)
	}
	return s, clk
}

// pollOnce runs one poll of s (prepared with rec) outside its loop.
func pollOnce(t *testing.T, s *Source, rec *cfapitest.Recorder) error {
	t.Helper()
	if s.next == nil {
		if err := s.prepare(rec); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.poll(context.Background(), context.Background())
	return err
}

// expected lists the IDs of the events the simulator shows now with a
// time at or after since, oldest first, read through v1 with the helper
// token (independent of the code under test).
func (e *env) expected(since time.Time) []string {
	e.t.Helper()
	var ids []string
	for page := 1; ; page++ {
		q := "?direction=asc&per_page=1000&page=" + strconv.Itoa(page) + "&since=" + since.UTC().Format(time.RFC3339)
		req, _ := http.NewRequest(http.MethodGet, e.base+"/accounts/"+e.sim.AccountID()+"/audit_logs"+q, nil)
		req.Header.Set("Authorization", "Bearer "+helperToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		var env struct {
			Result []struct {
				ID string `json:"id"`
			} `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			e.t.Fatalf("expected: %d %v", resp.StatusCode, err)
		}
		if len(env.Result) == 0 {
			return ids
		}
		for _, r := range env.Result {
			ids = append(ids, r.ID)
		}
	}
}

// checkpointBytes returns the checkpoint file's content ("" when absent).
func (e *env) checkpointBytes(name string) string {
	b, err := os.ReadFile(cfapi.CheckpointPath(e.dir, name))
	if err != nil {
		return ""
	}
	return string(b)
}

func (e *env) readCheckpoint(name string) checkpoint {
	e.t.Helper()
	var st checkpoint
	found, err := cfapi.LoadCheckpoint(cfapi.CheckpointPath(e.dir, name), &st)
	if err != nil || !found {
		e.t.Fatalf("checkpoint: found %v, %v", found, err)
	}
	return st
}

func sameSet(t *testing.T, got, want []string) { t.Helper(); cfapitest.SameSet(t, got, want) }

func counter(m *telemetry.Metrics, source, reason string) float64 {
	return cfapitest.MetricValue(m, "flarehose_poll_errors_total", map[string]string{"source": source, "reason": reason})
}

func testutilValue(m *telemetry.Metrics, name string, labels map[string]string) float64 {
	return cfapitest.MetricValue(m, name, labels)
}

type syncBuffer = cfapitest.SyncBuffer

// sourceRequests returns the requests the source made (with the main
// token), not the test's own.
func (e *env) sourceRequests() []*http.Request {
	var out []*http.Request
	for _, r := range e.tamper.Requests("/") {
		if r.Header.Get("Authorization") == "Bearer "+mainToken {
			out = append(out, r)
		}
	}
	return out
}

func sourceDeps(e *env) source.Deps {
	return source.Deps{Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Metrics: e.metrics, DataDir: e.dir}
}
