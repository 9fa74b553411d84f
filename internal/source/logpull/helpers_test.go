package logpull

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
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
	helperToken = "flarehose-test-token-helper-0123456789ab"
)

type env struct {
	t       *testing.T
	clock   *cfsim.FakeClock
	sim     *cfsim.Server
	tamper  *cfapitest.Tamper
	ts      *httptest.Server
	base    string
	zone    string
	dir     string
	metrics *telemetry.Metrics
	logs    *cfapitest.SyncBuffer
}

// newEnv starts the simulator (clock at t0, retention on, 20 records a
// minute, Logpull's own rate limits off unless cfg sets them) behind a
// Tamper.
func newEnv(t *testing.T, cfg cfsim.Config) *env {
	t.Helper()
	e := &env{t: t, clock: cfsim.NewFakeClock(t0), dir: t.TempDir(), metrics: telemetry.NewMetrics(), logs: &cfapitest.SyncBuffer{}}
	if cfg.Clock == nil {
		cfg.Clock = e.clock
	}
	if cfg.Seed == 0 {
		cfg.Seed = 11
	}
	cfg.RetentionOn = true // tests turn it off with sim.SetRetention
	if cfg.LogpullPerMinute == 0 {
		cfg.LogpullPerMinute = 20
	}
	if cfg.LogpullZoneLimit == 0 {
		cfg.LogpullZoneLimit = -1
	}
	if cfg.LogpullUserLimit == 0 {
		cfg.LogpullUserLimit = -1
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
	e.zone = srv.Zones()[0].ID
	e.tamper = &cfapitest.Tamper{Next: srv}
	e.ts = httptest.NewServer(e.tamper)
	e.base = e.ts.URL + cfsim.BasePath
	t.Cleanup(func() {
		e.ts.Close()
		srv.Close()
	})
	return e
}

func (e *env) config(mod ...func(*Config)) Config {
	c := Config{ZoneID: e.zone}
	c.BaseURL, c.APIToken = e.base, mainToken
	c.SetDefaults()
	for _, m := range mod {
		if m != nil {
			m(&c)
		}
	}
	return c
}

func (e *env) deps() source.Deps {
	return source.Deps{
		Logger:  slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: e.metrics, DataDir: e.dir,
	}
}

// source builds a source whose clock follows the simulator's (shifted by
// offset: the source's clock minus the simulator's).
func (e *env) source(cfg Config, offset time.Duration) (*Source, *cfapitest.SimClock) {
	e.t.Helper()
	clk := &cfapitest.SimClock{Fake: e.clock, Offset: offset}
	if cfg.Interval.D() >= time.Hour {
		clk.Block = cfg.Interval.D() // run() waits for that sleep: caught up
	}
	s, err := newSource("lp", cfg, e.deps(), clk)
	if err != nil {
		e.t.Fatal(err)
	}
	return s, clk
}

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

func run(t *testing.T, s *Source, clk *cfapitest.SimClock, rec *cfapitest.Recorder) {
	t.Helper()
	if err := s.Start(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	ok := clk.WaitIdle(30 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !ok {
		t.Fatal("the source never caught up")
	}
}

// expected lists the Ray IDs the simulator has for [start, end), read
// with the helper token in hour windows.
func (e *env) expected(start, end time.Time) []string {
	e.t.Helper()
	var rays []string
	for from := start; from.Before(end); from = from.Add(time.Hour) {
		to := from.Add(time.Hour)
		if to.After(end) {
			to = end
		}
		q := url.Values{"start": {from.Format(time.RFC3339)}, "end": {to.Format(time.RFC3339)}, "fields": {"RayID"}}
		req, _ := http.NewRequest(http.MethodGet, e.base+"/zones/"+e.zone+"/logs/received?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+helperToken)
		resp, err := http.DefaultClient.Do(req) // Go decompresses gzip itself
		if err != nil {
			e.t.Fatal(err)
		}
		if resp.StatusCode == http.StatusTooManyRequests { // the zone's limit: wait it out (data do not change)
			resp.Body.Close()
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			e.clock.Advance(time.Duration(wait) * time.Second)
			from = from.Add(-time.Hour)
			continue
		}
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			e.t.Fatalf("expected: %d %s", resp.StatusCode, b)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var r struct{ RayID string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				e.t.Fatalf("expected: %q: %v", sc.Text(), err)
			}
			rays = append(rays, r.RayID)
		}
		resp.Body.Close()
	}
	return rays
}

// received returns the source's /logs/received requests (main token).
func (e *env) received() []*http.Request {
	var out []*http.Request
	for _, r := range e.tamper.Requests("/logs/received") {
		if r.Header.Get("Authorization") == "Bearer "+mainToken && !strings.HasSuffix(r.URL.Path, "/fields") {
			out = append(out, r)
		}
	}
	return out
}

func window(t *testing.T, r *http.Request) (time.Time, time.Time) {
	t.Helper()
	start, err1 := time.Parse(time.RFC3339, r.URL.Query().Get("start"))
	end, err2 := time.Parse(time.RFC3339, r.URL.Query().Get("end"))
	if err1 != nil || err2 != nil {
		t.Fatalf("request %s: start/end not RFC 3339", r.URL.RawQuery)
	}
	return start, end
}

func (e *env) checkpointBytes() string {
	b, err := os.ReadFile(cfapi.CheckpointPath(e.dir, "lp"))
	if err != nil {
		return ""
	}
	return string(b)
}

func (e *env) readCheckpoint() checkpoint {
	e.t.Helper()
	var st checkpoint
	found, err := cfapi.LoadCheckpoint(cfapi.CheckpointPath(e.dir, "lp"), &st)
	if err != nil || !found {
		e.t.Fatalf("checkpoint: found %v, %v", found, err)
	}
	return st
}

func counter(m *telemetry.Metrics, reason string) float64 {
	return cfapitest.MetricValue(m, "flarehose_poll_errors_total", map[string]string{"source": "lp", "reason": reason})
}

func gzipped(s string) string {
	var b strings.Builder
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}
