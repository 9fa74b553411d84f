package logpull

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
	cfsim "github.com/flarehose/flarehose/internal/sim/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi/cfapitest"
)

// The first poll walks windows from since to now - delay, each at most
// window long, contiguous, every record once; the next poll goes on from
// the checkpoint.
func TestFirstPollBackfillsWindows(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	cfg := e.config(func(c *Config) {
		c.Since = config.Duration(2 * time.Hour)
		c.Window = config.Duration(25 * time.Minute)
		c.Timestamps = "rfc3339ns" // not a Logpull format: exercises the fallback
	})
	s, _ := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "RayID"}
	if err := pollOnce(t, s, rec); err != nil {
		t.Fatal(err)
	}
	from, to := t0.Add(-2*time.Hour), t0.Add(-5*time.Minute)
	got, _ := rec.IDs()
	cfapitest.SameSet(t, got, e.expected(from, to))

	reqs := e.received()
	var windows [][2]time.Time
	for _, r := range reqs {
		start, end := window(t, r)
		windows = append(windows, [2]time.Time{start, end})
	}
	// The first request asked for rfc3339ns, was refused, and the same
	// window was asked again with unixnano.
	if q := reqs[0].URL.Query(); q.Get("timestamps") != "rfc3339ns" {
		t.Fatalf("first request timestamps=%s", q.Get("timestamps"))
	}
	windows = windows[1:]
	next := from
	for i, w := range windows {
		q := reqs[i+1].URL.Query()
		if q.Get("timestamps") != "unixnano" || len(strings.Split(q.Get("fields"), ",")) < 50 {
			t.Fatalf("request %d: timestamps=%s, %d fields", i+1, q.Get("timestamps"), len(strings.Split(q.Get("fields"), ",")))
		}
		if !w[0].Equal(next) || w[1].Sub(w[0]) > 25*time.Minute || w[1].After(to) {
			t.Fatalf("window %d [%s, %s): want a start at %s, at most 25m, ending by %s", i, w[0], w[1], next, to)
		}
		next = w[1]
	}
	if !next.Equal(to) || len(windows) != 5 {
		t.Fatalf("%d windows ending at %s, want 5 ending at %s", len(windows), next, to)
	}
	st := e.readCheckpoint()
	if !st.End.Equal(to) || st.Pending != nil || st.ZoneID != e.zone {
		t.Fatalf("checkpoint %+v", st)
	}
	if _, err := os.Stat(s.spoolPath); !os.IsNotExist(err) {
		t.Fatalf("spool file left: %v", err)
	}
	for _, d := range rec.Deliveries() {
		if d.Dataset != "logpull" || d.FirstLine != 1 {
			t.Fatalf("delivery %+v", d)
		}
	}
	if lag := cfapitest.MetricValue(e.metrics, "flarehose_poll_lag_seconds", map[string]string{"source": "lp"}); lag != 300 {
		t.Fatalf("lag %v, want 300 (the delay)", lag)
	}

	// Three minutes later: one 3-minute window.
	e.clock.Advance(3 * time.Minute)
	n := len(reqs)
	if err := pollOnce(t, s, rec); err != nil {
		t.Fatal(err)
	}
	reqs = e.received()
	if len(reqs) != n+1 {
		t.Fatalf("%d requests, want 1", len(reqs)-n)
	}
	if start, end := window(t, reqs[n]); !start.Equal(to) || !end.Equal(to.Add(3*time.Minute)) {
		t.Fatalf("next window [%s, %s)", start, end)
	}
	got, _ = rec.IDs()
	cfapitest.SameSet(t, got, e.expected(from, to.Add(3*time.Minute)))
	// Less than a minute later: nothing to ask.
	e.clock.Advance(40 * time.Second)
	if err := pollOnce(t, s, rec); err != nil || len(e.received()) != n+1 {
		t.Fatalf("poll within the same minute: %v, %d requests", err, len(e.received())-n-1)
	}
}

// Whatever window, delay and poll times: never more than an hour (nor
// window), never ending after now - delay, whole minutes, contiguous.
func TestWindowRules(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 6 {
		e := newEnv(t, cfsim.Config{LogpullPerMinute: 2})
		win := time.Duration(1+rnd.IntN(60)) * time.Minute
		delay := time.Duration(1+rnd.IntN(20))*time.Minute + time.Duration(rnd.IntN(60))*time.Second
		cfg := e.config(func(c *Config) {
			c.Window, c.Delay = config.Duration(win), config.Duration(delay)
			c.Since = config.Duration(win*time.Duration(1+rnd.IntN(5)) + delay)
			c.Fields, c.Timestamps = []string{"RayID", "EdgeStartTimestamp"}, "unixnano"
		})
		s, _ := e.source(cfg, 0)
		rec := &cfapitest.Recorder{IDField: "RayID"}
		var prevEnd time.Time
		seen := 0
		for range 5 {
			now := e.clock.Now()
			if err := pollOnce(t, s, rec); err != nil {
				t.Fatalf("case %d (window %s delay %s): %v", i, win, delay, err)
			}
			for _, r := range e.received()[seen:] {
				start, end := window(t, r)
				switch {
				case end.Sub(start) > time.Hour || end.Sub(start) > win:
					t.Fatalf("case %d: window [%s, %s) longer than %s", i, start, end, win)
				case end.After(now.Add(-delay)):
					t.Fatalf("case %d: end %s later than now - delay %s", i, end, now.Add(-delay))
				case start.Second() != 0 || end.Second() != 0:
					t.Fatalf("case %d: [%s, %s) not whole minutes", i, start, end)
				case !prevEnd.IsZero() && !start.Equal(prevEnd):
					t.Fatalf("case %d: start %s after end %s", i, start, prevEnd)
				}
				prevEnd = end
			}
			seen = len(e.received())
			e.clock.Advance(time.Duration(rnd.IntN(600)) * time.Second)
		}
		if _, dups := rec.IDs(); len(dups) > 0 {
			t.Fatalf("case %d: %d repeated", i, len(dups))
		}
	}
}

// Big windows go in chunks; a failure in the middle of a window, then a
// restart: it resumes from the spool at the first chunk not stored, so
// every record comes once, line numbers continuing.
func TestChunksAndRestartMidWindow(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	cfg := e.config(func(c *Config) {
		c.Since, c.Window = config.Duration(35*time.Minute), config.Duration(30*time.Minute)
		c.Fields = []string{"RayID", "EdgeStartTimestamp", "ClientIP", "ClientRequestURI"}
		c.ChunkBytes = 2048
	})
	rec := &cfapitest.Recorder{IDField: "RayID", Fail: func(n int) error {
		if n == 7 {
			return cfapitest.ErrTest
		}
		return nil
	}}
	s1, _ := e.source(cfg, 0)
	if err := pollOnce(t, s1, rec); !errors.Is(err, cfapitest.ErrTest) {
		t.Fatalf("err = %v", err)
	}
	st := e.readCheckpoint()
	if st.Pending == nil || st.Pending.Offset == 0 || st.Pending.Line == 0 || !st.End.Equal(t0.Add(-35*time.Minute)) {
		t.Fatalf("checkpoint after 6 chunks: %+v %+v", st, st.Pending)
	}
	if got, _ := rec.IDs(); len(got) != st.Pending.Line {
		t.Fatalf("%d records stored, the checkpoint says %d lines", len(got), st.Pending.Line)
	}
	before := len(e.received())

	s2, _ := e.source(cfg, 0)
	if err := pollOnce(t, s2, rec); err != nil {
		t.Fatal(err)
	}
	got, _ := rec.IDs()
	cfapitest.SameSet(t, got, e.expected(t0.Add(-35*time.Minute), t0.Add(-5*time.Minute)))
	// The pending window was not asked again.
	for _, r := range e.received()[before:] {
		if start, _ := window(t, r); start.Before(t0.Add(-5 * time.Minute)) {
			t.Fatalf("window starting %s asked again", start)
		}
	}
	// Chunks of about 2 KiB, line numbers continuing across the restart.
	ds := rec.Deliveries()
	if len(ds) < 10 {
		t.Fatalf("%d deliveries: not chunked", len(ds))
	}
	line := 1
	for _, d := range ds[:len(ds)-1] { // the last window is a new one
		if d.FirstLine != line {
			t.Fatalf("delivery starts at line %d, want %d", d.FirstLine, line)
		}
		line += d.Lines
	}
	if st := e.readCheckpoint(); st.Pending != nil || !st.End.Equal(t0.Add(-5*time.Minute)) {
		t.Fatalf("checkpoint %+v", st)
	}
}

// A lost spool file: the window is asked again (records already stored
// come twice, never lost), with a warning.
func TestLostSpoolRefetches(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	cfg := e.config(func(c *Config) {
		c.Since, c.Window = config.Duration(20*time.Minute), config.Duration(15*time.Minute)
		c.Fields, c.ChunkBytes = []string{"RayID"}, 1024
	})
	rec := &cfapitest.Recorder{IDField: "RayID", Fail: func(n int) error {
		if n == 2 {
			return cfapitest.ErrTest
		}
		return nil
	}}
	s1, _ := e.source(cfg, 0)
	if err := pollOnce(t, s1, rec); !errors.Is(err, cfapitest.ErrTest) {
		t.Fatal(err)
	}
	os.Remove(s1.spoolPath)
	s2, _ := e.source(cfg, 0)
	if err := pollOnce(t, s2, rec); err != nil {
		t.Fatal(err)
	}
	got, dups := rec.IDs()
	want := e.expected(t0.Add(-20*time.Minute), t0.Add(-5*time.Minute))
	cfapitest.SameSet(t, uniq(got), want)
	if len(dups) == 0 || !strings.Contains(e.logs.String(), "spool file is unusable") {
		t.Fatalf("%d repeated; logs:\n%s", len(dups), e.logs.String())
	}
}

func uniq(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// "Error streaming data." at the end of a 200 answer, a gzip that breaks
// off, a body cut short: the window is not handed on and is asked again.
func TestBrokenStreamRetried(t *testing.T) {
	cases := []struct {
		name   string
		fault  bool // the simulator's own fault injection
		change func(rec *httptest.ResponseRecorder) *cfapitest.Answer
		want   string
	}{
		{name: "error tail", fault: true, want: `ended with "Error streaming data."`},
		{name: "error tail only", change: func(rec *httptest.ResponseRecorder) *cfapitest.Answer {
			return &cfapitest.Answer{Status: 200, Header: map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"}, Body: gzipped("Error streaming data.\n")}
		}, want: `ended with "Error streaming data."`},
		{name: "bad gzip", change: func(rec *httptest.ResponseRecorder) *cfapitest.Answer {
			return &cfapitest.Answer{Status: 200, Header: map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"}, Body: "\x1f\x8b\x08\x00garbage that is not deflate"}
		}, want: "cannot decompress"},
		{name: "gzip cut short", change: func(rec *httptest.ResponseRecorder) *cfapitest.Answer {
			b := rec.Body.Bytes()
			return &cfapitest.Answer{Status: 200, Header: map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"}, Body: string(b[:len(b)/2])}
		}, want: "unexpected end of gzip data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := t0.Add(-25 * time.Minute) // the third window
			calls := 0
			simCfg := cfsim.Config{}
			if tc.fault {
				simCfg.LogpullFault = func(zone string, start, end time.Time) (int, bool) {
					if start.Equal(broken) {
						calls++
						return 7, calls == 1
					}
					return 0, false
				}
			}
			e := newEnv(t, simCfg)
			if tc.change != nil {
				e.tamper.Change = func(n int, r *http.Request, rec *httptest.ResponseRecorder) *cfapitest.Answer {
					if r.Header.Get("Authorization") == "Bearer "+mainToken && r.URL.Query().Get("start") == broken.Format(time.RFC3339) {
						calls++
						if calls == 1 {
							return tc.change(rec)
						}
					}
					return nil
				}
			}
			cfg := e.config(func(c *Config) {
				c.Since, c.Window = config.Duration(45*time.Minute), config.Duration(10*time.Minute)
				c.Fields, c.Timestamps = []string{"RayID", "EdgeStartTimestamp"}, "unixnano"
			})
			s, _ := e.source(cfg, 0)
			rec := &cfapitest.Recorder{IDField: "RayID"}
			err := pollOnce(t, s, rec)
			var ae *cfapi.Error
			if !errors.As(err, &ae) || ae.Kind != cfapi.KindStream || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a stream error saying %q", err, tc.want)
			}
			got, _ := rec.IDs()
			cfapitest.SameSet(t, got, e.expected(t0.Add(-45*time.Minute), broken))
			if st := e.readCheckpoint(); !st.End.Equal(broken) || st.Pending != nil {
				t.Fatalf("checkpoint %+v", st)
			}
			if parts, _ := filepath.Glob(filepath.Join(e.dir, "checkpoints", "*.part-*")); len(parts) > 0 {
				t.Fatalf("partial downloads left: %v", parts)
			}
			if err := pollOnce(t, s, rec); err != nil {
				t.Fatal(err)
			}
			got, _ = rec.IDs()
			cfapitest.SameSet(t, got, e.expected(t0.Add(-45*time.Minute), t0.Add(-5*time.Minute)))
		})
	}
}

// Logpull's per-zone limit set low: 429 with Retry-After, waited, done.
func TestRateLimitBacksOffThenSucceeds(t *testing.T) {
	e := newEnv(t, cfsim.Config{LogpullZoneLimit: 3})
	cfg := e.config(func(c *Config) {
		c.Since, c.Window = config.Duration(2*time.Hour), config.Duration(10*time.Minute)
		c.Fields, c.Timestamps = []string{"RayID"}, "unixnano"
		c.Interval = config.Duration(time.Hour)
	})
	s, clk := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "RayID"}
	run(t, s, clk, rec)
	end := s.st.End
	got, _ := rec.IDs()
	cfapitest.SameSet(t, got, e.expected(t0.Add(-2*time.Hour), end))
	if end.Before(t0.Add(-5 * time.Minute)) {
		t.Fatalf("stopped at %s", end)
	}
	if counter(e.metrics, "rate_limited") < 1 {
		t.Fatal("no rate_limited error counted")
	}
	waited := false
	for _, d := range clk.Sleeps() {
		waited = waited || (d > time.Second && d <= time.Minute)
	}
	if !waited {
		t.Fatalf("never waited a Retry-After: %v", clk.Sleeps())
	}
}

// Authentication: bad token, missing Logs Read, retention off: a clear
// error with what to do, nothing moved, no secret shown.
func TestAuthFailures(t *testing.T) {
	cases := []struct {
		name  string
		sim   cfsim.Config
		mod   func(*Config)
		want  []string
		token string
	}{
		{"bad token", cfsim.Config{RetentionOn: true}, func(c *Config) { c.APIToken = "wrong-token-0123456789abcdefghijklmnopq" },
			[]string{"HTTP 403", "invalid API token", "Logs Read"}, "wrong-token-0123456789abcdefghijklmnopq"},
		{"missing Logs Read", cfsim.Config{RetentionOn: true, Tokens: []cfsim.Token{{Value: mainToken, Permissions: []cfsim.Permission{cfsim.PermAccountSettingsRead}}}}, nil,
			[]string{"HTTP 403", "lacks the Logs Read permission"}, mainToken},
		{"zone-scoped token for another zone", cfsim.Config{RetentionOn: true, Tokens: []cfsim.Token{{Value: mainToken, Permissions: cfsim.AllPermissions, Zones: []string{strings.Repeat("cd", 16)}}}}, nil,
			[]string{"HTTP 403", "no access to zone"}, mainToken},
		{"retention off", cfsim.Config{}, func(c *Config) { c.Fields = []string{"RayID"} },
			[]string{"HTTP 403", "Log retention is not enabled", "turn log retention on"}, mainToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.sim)
			if tc.name == "retention off" {
				e.sim.SetRetention(e.zone, false)
			}
			s, _ := e.source(e.config(tc.mod), 0)
			rec := &cfapitest.Recorder{IDField: "RayID"}
			err := pollOnce(t, s, rec)
			var ae *cfapi.Error
			if !errors.As(err, &ae) || ae.Kind != cfapi.KindAuth {
				t.Fatalf("err = %v, want an authentication error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), tc.token) || rec.Calls() != 0 {
				t.Fatal("secret shown, or records handed on")
			}
			if cp := e.checkpointBytes(); strings.Contains(cp, `"pending"`) || strings.Contains(cp, tc.token) {
				t.Fatalf("checkpoint %s", cp)
			}
		})
	}
}

// /logs/received/fields answering something else than an object of
// field names: malformed, nothing pulled; then it works.
func TestMalformedFieldList(t *testing.T) {
	for _, body := range []string{`["RayID"]`, `{}`, `"RayID"`, `{"RayID":`, `<html>oops</html>`, ``} {
		t.Run(body, func(t *testing.T) {
			e := newEnv(t, cfsim.Config{RetentionOn: true})
			bad := true
			e.tamper.Change = func(n int, r *http.Request, rec *httptest.ResponseRecorder) *cfapitest.Answer {
				if bad && strings.HasSuffix(r.URL.Path, "/fields") {
					return &cfapitest.Answer{Status: 200, Body: body}
				}
				return nil
			}
			s, _ := e.source(e.config(func(c *Config) { c.Since = config.Duration(15 * time.Minute) }), 0)
			rec := &cfapitest.Recorder{IDField: "RayID"}
			err := pollOnce(t, s, rec)
			var ae *cfapi.Error
			if !errors.As(err, &ae) || ae.Kind != cfapi.KindMalformed || len(e.received()) != 0 {
				t.Fatalf("err = %v (%d windows asked), want malformed", err, len(e.received()))
			}
			bad = false
			if err := pollOnce(t, s, rec); err != nil {
				t.Fatal(err)
			}
			got, _ := rec.IDs()
			cfapitest.SameSet(t, got, e.expected(t0.Add(-15*time.Minute), t0.Add(-5*time.Minute)))
		})
	}
}

// Cloudflare's clock behind the source's: "too recent" refusals add
// delay until accepted; ahead: nothing special. Nothing lost or repeated.
func TestClockSkew(t *testing.T) {
	for _, tc := range []struct {
		offset time.Duration
		plain  bool // Logpull's 400s as plain text, as third parties saw them
	}{{10 * time.Minute, false}, {10 * time.Minute, true}, {-10 * time.Minute, false}} {
		offset := tc.offset
		t.Run(fmt.Sprintf("source clock %s plain errors %v", offset, tc.plain), func(t *testing.T) {
			e := newEnv(t, cfsim.Config{LogpullPlainErrors: tc.plain})
			cfg := e.config(func(c *Config) {
				c.Since, c.Window = config.Duration(40*time.Minute), config.Duration(10*time.Minute)
				c.Fields, c.Timestamps = []string{"RayID"}, "unixnano"
			})
			s, _ := e.source(cfg, offset)
			rec := &cfapitest.Recorder{IDField: "RayID"}
			for range 4 {
				if err := pollOnce(t, s, rec); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(3 * time.Minute)
			}
			got, _ := rec.IDs()
			cfapitest.SameSet(t, got, e.expected(t0.Add(offset-40*time.Minute), s.st.End))
			simNow := e.clock.Now()
			if s.st.End.After(simNow.Add(-time.Minute)) {
				t.Fatalf("end %s past what the simulator serves (%s)", s.st.End, simNow.Add(-time.Minute))
			}
			if offset > 0 {
				if counter(e.metrics, "clock_skew") < 1 || s.skew == 0 || !strings.Contains(e.logs.String(), "too recent") {
					t.Fatalf("skew %s, counted %v", s.skew, counter(e.metrics, "clock_skew"))
				}
				if s.st.End.Before(simNow.Add(-15 * time.Minute)) {
					t.Fatalf("end %s lags far behind %s", s.st.End, simNow)
				}
			}
		})
	}
}

// The pipeline refusing: the window stays pending, the checkpoint's end
// does not move, the next poll hands it on.
func TestBackpressurePausesWithoutAdvancing(t *testing.T) {
	for _, refusal := range []error{event.ErrBackpressure, event.ErrClosed} {
		t.Run(refusal.Error(), func(t *testing.T) {
			e := newEnv(t, cfsim.Config{})
			cfg := e.config(func(c *Config) {
				c.Since, c.Fields, c.Interval = config.Duration(20*time.Minute), []string{"RayID"}, config.Duration(time.Hour)
			})
			rec := &cfapitest.Recorder{IDField: "RayID", Fail: func(n int) error {
				if n <= 3 {
					return refusal
				}
				return nil
			}}
			s, _ := e.source(cfg, 0)
			if err := pollOnce(t, s, rec); !errors.Is(err, refusal) {
				t.Fatal(err)
			}
			st := e.readCheckpoint()
			if !st.End.Equal(t0.Add(-20*time.Minute)) || st.Pending == nil || st.Pending.Offset != 0 {
				t.Fatalf("checkpoint %+v", st)
			}
			s2, clk := e.source(cfg, 0)
			run(t, s2, clk, rec)
			got, _ := rec.IDs()
			cfapitest.SameSet(t, got, e.expected(t0.Add(-20*time.Minute), t0.Add(-5*time.Minute)))
			if sl := clk.Sleeps(); len(sl) < 2 || sl[0] != time.Second || sl[1] != 2*time.Second {
				t.Fatalf("sleeps %v", sl)
			}
			if counter(e.metrics, cfapi.Reason(refusal)) != 2 {
				t.Fatalf("counted %v", counter(e.metrics, cfapi.Reason(refusal)))
			}
		})
	}
}

// A checkpoint older than Logpull's 7 days skips ahead, counted.
func TestRetentionGap(t *testing.T) {
	e := newEnv(t, cfsim.Config{LogpullPerMinute: 1})
	path := cfapi.CheckpointPath(e.dir, "lp")
	old := t0.Add(-8 * 24 * time.Hour)
	if err := cfapi.SaveCheckpoint(path, checkpoint{Version: 1, Type: "cloudflare_logpull", ZoneID: e.zone, End: old}); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(func(c *Config) { c.Window, c.Fields = config.Duration(time.Hour), []string{"RayID"} })
	s, _ := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "RayID"}
	if err := pollOnce(t, s, rec); err != nil {
		t.Fatal(err)
	}
	first, _ := window(t, e.received()[0])
	if want := t0.Add(-7*24*time.Hour + 10*time.Minute); !first.Equal(want) {
		t.Fatalf("first window starts %s, want %s", first, want)
	}
	if counter(e.metrics, "retention_gap") != 1 || !strings.Contains(e.logs.String(), "older than Logpull keeps") {
		t.Fatal("the gap was not reported")
	}
	// 168 windows at Logpull's 15 a minute: the (fake) clock moved on meanwhile.
	if st := e.readCheckpoint(); !st.End.Equal(e.clock.Now().Add(-5 * time.Minute).Truncate(time.Minute)) {
		t.Fatalf("end %s, now %s", st.End, e.clock.Now())
	}
}

// Sampling and timestamps as configured go into the query.
func TestQueryOptions(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	cfg := e.config(func(c *Config) {
		c.Since, c.Sample, c.Timestamps = config.Duration(10*time.Minute), 0.25, "rfc3339"
		c.Fields = []string{"RayID", "EdgeStartTimestamp", "ClientIP"}
	})
	s, _ := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "RayID"}
	if err := pollOnce(t, s, rec); err != nil {
		t.Fatal(err)
	}
	q := e.received()[0].URL.Query()
	if q.Get("sample") != "0.25" || q.Get("timestamps") != "rfc3339" || q.Get("fields") != "RayID,EdgeStartTimestamp,ClientIP" {
		t.Fatalf("query %v", q)
	}
	all := e.expected(t0.Add(-10*time.Minute), t0.Add(-5*time.Minute))
	got, _ := rec.IDs()
	if len(got) == 0 || len(got) >= len(all) {
		t.Fatalf("sampled %d of %d", len(got), len(all))
	}
}

func TestEndsWithStreamError(t *testing.T) {
	cases := map[string]bool{
		"":                        false,
		"Error streaming data.":   true,
		"Error streaming data.\n": true,
		"{\"RayID\":\"a\"}\nError streaming data.\n":                            true,
		"{\"RayID\":\"a\"}\nError streaming data.":                              true,
		"{\"RayID\":\"a\"}\n":                                                   false,
		"{\"x\":\"Error streaming data.\"}\n":                                   false,
		"xError streaming data.\n":                                              false,
		strings.Repeat("{\"RayID\":\"a\"}\n", 50) + "Error streaming data.\n\n": true,
	}
	for body, want := range cases {
		var buf bytes.Buffer
		tw := &tailWriter{w: &buf}
		for chunk := range slicesChunk([]byte(body), 7) {
			tw.Write(chunk)
		}
		if got := tw.endsWithStreamError(); got != want || buf.String() != body {
			t.Errorf("%q: %v, want %v", body, got, want)
		}
	}
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

// Every window's first answer broken: each is asked again after a short
// backoff that does not grow, since every window still gets stored.
func TestStreamErrorOnEveryWindowKeepsBackoffShort(t *testing.T) {
	tried := map[time.Time]bool{}
	var mu sync.Mutex
	e := newEnv(t, cfsim.Config{LogpullFault: func(zone string, start, end time.Time) (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		first := !tried[start]
		tried[start] = true
		return 3, first
	}})
	cfg := e.config(func(c *Config) {
		c.Since, c.Window, c.Interval = config.Duration(time.Hour), config.Duration(5*time.Minute), config.Duration(time.Hour)
		c.Fields, c.Timestamps = []string{"RayID"}, "unixnano"
	})
	s, clk := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "RayID"}
	run(t, s, clk, rec)
	got, _ := rec.IDs()
	cfapitest.SameSet(t, got, e.expected(t0.Add(-time.Hour), s.st.End))
	// 1s after each failure, never the 2s of a second failure in a row
	// (other waits are Logpull's 15 requests a minute).
	sleeps := clk.Sleeps()
	ones := 0
	for _, d := range sleeps {
		if d == 2*time.Second {
			t.Fatalf("sleeps %v: the backoff grew", sleeps)
		}
		if d == time.Second {
			ones++
		}
	}
	if n := counter(e.metrics, "stream"); n < 11 || float64(ones) < n {
		t.Fatalf("%v stream errors counted, want one per window", n)
	}
}

// Empty minutes are 200 with an empty body (gzip or not): the checkpoint
// moves on, nothing is handed on, no spool is kept.
func TestEmptyWindows(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	e.tamper.Change = func(n int, r *http.Request, rec *httptest.ResponseRecorder) *cfapitest.Answer {
		if !strings.HasSuffix(r.URL.Path, "/received") {
			return nil
		}
		if n%2 == 0 {
			return &cfapitest.Answer{Status: 200, Header: map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"}, Body: gzipped("")}
		}
		return &cfapitest.Answer{Status: 200, Header: map[string]string{"Content-Type": "application/x-ndjson"}, Body: "\n"}
	}
	cfg := e.config(func(c *Config) {
		c.Since, c.Window = config.Duration(30*time.Minute), config.Duration(5*time.Minute)
		c.Fields, c.Timestamps = []string{"RayID"}, "unixnano"
	})
	s, _ := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "RayID"}
	if err := pollOnce(t, s, rec); err != nil {
		t.Fatal(err)
	}
	if rec.Calls() != 0 || len(e.received()) != 5 {
		t.Fatalf("%d deliveries, %d requests", rec.Calls(), len(e.received()))
	}
	if st := e.readCheckpoint(); !st.End.Equal(t0.Add(-5*time.Minute)) || st.Pending != nil {
		t.Fatalf("checkpoint %+v", st)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "checkpoints")); len(entries) != 1 {
		t.Fatalf("files left: %v", entries)
	}
}
