package cfaudit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
	cfsim "github.com/flarehose/flarehose/internal/sim/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi/cfapitest"
)

// run starts s with rec and waits until it is caught up (its idle sleep
// began), then stops it.
func run(t *testing.T, s *Source, clk *cfapitest.SimClock, rec *cfapitest.Recorder) {
	t.Helper()
	if err := s.Start(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	ok := clk.WaitIdle(20 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !ok {
		t.Fatal("the source never caught up")
	}
}

// A low rate limit: the source waits what Retry-After says, then goes on.
func TestRateLimitBacksOffThenSucceeds(t *testing.T) {
	e := newEnv(t, cfsim.Config{RateLimit: 4, RateWindow: time.Minute, RatePenalty: 2 * time.Minute})
	cfg := e.config("v2", func(c *Config) { c.PageSize = 10; c.Interval = config.Duration(time.Hour) })
	s, clk := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "id"}
	run(t, s, clk, rec)

	got, _ := rec.IDs()
	sameSet(t, got, e.expected(t0.Add(-24*time.Hour)))
	if n := counter(e.metrics, "audit", "rate_limited"); n < 1 {
		t.Fatalf("rate_limited errors counted: %v", n)
	}
	if !slices.Contains(clk.Sleeps(), 2*time.Minute) {
		t.Fatalf("never waited the 2m Retry-After: sleeps %v", clk.Sleeps())
	}
	if n := testutilValue(e.metrics, "flarehose_source_requests_total", map[string]string{"source": "audit", "code": "429"}); n < 1 {
		t.Fatalf("429 answers counted: %v", n)
	}
	if ts := testutilValue(e.metrics, "flarehose_poll_last_success_timestamp_seconds", map[string]string{"source": "audit"}); ts < float64(t0.Unix()) {
		t.Fatalf("last success %v", ts)
	}
}

// Authentication failures: a clear error naming what is missing, no
// checkpoint movement, no secret anywhere.
func TestAuthFailures(t *testing.T) {
	const badToken = "not-a-valid-token-0123456789abcdefghijk"
	key := cfsim.NewGlobalKey("owner")
	cases := []struct {
		name   string
		sim    cfsim.Config
		mod    func(*Config)
		want   []string
		secret string
	}{
		{"bad token", cfsim.Config{}, func(c *Config) { c.APIToken = badToken },
			[]string{"HTTP 403", "10000 Authentication error", "invalid API token", "Account Settings Read"}, badToken},
		{"missing permission", cfsim.Config{Tokens: []cfsim.Token{{Value: mainToken, Permissions: []cfsim.Permission{cfsim.PermLogsRead}}}}, nil,
			[]string{"HTTP 403", "lacks the Account Settings Read permission", "it has: Logs Read"}, mainToken},
		{"token for another account", cfsim.Config{Tokens: []cfsim.Token{{Value: mainToken, Permissions: cfsim.AllPermissions, Accounts: []string{strings.Repeat("ab", 16)}}}}, nil,
			[]string{"HTTP 403", "no access to account"}, mainToken},
		{"wrong global key", cfsim.Config{Keys: []cfsim.GlobalKey{{Email: "owner@example.com", Key: key}}},
			func(c *Config) {
				c.APIToken, c.APIEmail, c.APIKey = "", "owner@example.com", cfsim.NewGlobalKey("other")
			},
			[]string{"HTTP 403", "invalid X-Auth-Key"}, cfsim.NewGlobalKey("other")},
		{"malformed key", cfsim.Config{}, func(c *Config) { c.APIToken, c.APIEmail, c.APIKey = "", "owner@example.com", "shortkey123" },
			[]string{"HTTP 400", "6003 Invalid request headers", "Invalid format for X-Auth-Key header"}, "shortkey123"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.sim)
			// A checkpoint from an earlier, working run (with the helper token).
			good := e.config("v2", func(c *Config) { c.APIToken = helperToken })
			s0, _ := e.source(good, 0)
			if err := pollOnce(t, s0, &cfapitest.Recorder{IDField: "id"}); err != nil {
				t.Fatal(err)
			}
			before := e.checkpointBytes("audit")
			e.clock.Advance(time.Hour)

			cfg := e.config("v2", tc.mod)
			cfg.Interval = config.Duration(time.Hour)
			s, _ := e.source(cfg, 0)
			rec := &cfapitest.Recorder{IDField: "id"}
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
			if strings.Contains(err.Error(), tc.secret) {
				t.Fatalf("the error shows the secret: %s", err)
			}
			if len(rec.Deliveries()) != 0 || e.checkpointBytes("audit") != before {
				t.Fatal("an authentication failure moved something")
			}

			// The running source logs it at error level, counted, without the secret.
			s2, clk2 := e.source(cfg, 0)
			clk2.Block = 30 * time.Minute // stop when the backoff (1m, 2m, ...) reaches 30m
			run(t, s2, clk2, rec)
			logs := e.logs.String()
			if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "authentication failed") || strings.Contains(logs, tc.secret) {
				t.Fatalf("logs:\n%s", logs)
			}
			if counter(e.metrics, "audit", "auth") < 1 || e.checkpointBytes("audit") != before {
				t.Fatal("not counted, or the checkpoint moved")
			}
		})
	}
}

// Malformed answers: an error, counted, nothing advanced past the last
// good page; the next poll gets everything, once.
func TestMalformedAnswers(t *testing.T) {
	cases := []struct {
		name    string
		version string
		status  int
		body    string
		kind    cfapi.Kind
		want    string
	}{
		{"bad JSON", "v2", 200, `{"success":true,"result":[{"id":`, cfapi.KindMalformed, "not the API's JSON envelope"},
		{"HTML", "v1", 200, `<html><body>maintenance</body></html>`, cfapi.KindMalformed, "not the API's JSON envelope"},
		{"no result", "v2", 200, `{"success":true,"errors":[],"messages":[]}`, cfapi.KindMalformed, "no result member"},
		{"no success", "v1", 200, `{"errors":[],"result":[]}`, cfapi.KindMalformed, "no success member"},
		{"success not a bool", "v1", 200, `{"success":"yes","errors":[],"result":[]}`, cfapi.KindMalformed, "not the API's JSON envelope"},
		{"result an object", "v2", 200, `{"success":true,"errors":[],"result":{"id":"x"}}`, cfapi.KindMalformed, "result is an object, not a list"},
		{"result a string", "v1", 200, `{"success":true,"errors":[],"result":"none"}`, cfapi.KindMalformed, "result is a string, not a list"},
		{"cursor a number", "v2", 200, `{"success":true,"errors":[],"result":[],"result_info":{"count":0,"cursor":12}}`, cfapi.KindMalformed, "result_info.cursor is not a string"},
		{"result_info a list", "v2", 200, `{"success":true,"errors":[],"result":[],"result_info":[1]}`, cfapi.KindMalformed, "result_info is not an object"},
		{"success false", "v2", 200, `{"success":false,"errors":[{"code":1000,"message":"internal"}],"result":null}`, cfapi.KindServer, "1000 internal"},
		{"502 page", "v1", 502, `<html>Bad gateway</html>`, cfapi.KindServer, "(HTTP 502): <html>Bad gateway</html>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cfsim.Config{})
			corrupt := 3 // the third page
			e.tamper.Change = func(n int, r *http.Request, rec *httptest.ResponseRecorder) *cfapitest.Answer {
				if n == corrupt {
					return &cfapitest.Answer{Status: tc.status, Body: tc.body}
				}
				return nil
			}
			cfg := e.config(tc.version, func(c *Config) { c.PageSize = 20 })
			s, _ := e.source(cfg, 0)
			rec := &cfapitest.Recorder{IDField: "id"}
			err := pollOnce(t, s, rec)
			var ae *cfapi.Error
			if !errors.As(err, &ae) || ae.Kind != tc.kind || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %s saying %q", err, tc.kind, tc.want)
			}
			if got, _ := rec.IDs(); len(got) != 40 {
				t.Fatalf("%d items stored before the bad page, want 40", len(got))
			}
			st := e.readCheckpoint("audit")
			if len(st.Seen) == 0 || !st.CaughtUp.IsZero() {
				t.Fatalf("checkpoint after the bad page: %+v", st)
			}
			if err := pollOnce(t, s, rec); err != nil {
				t.Fatal(err)
			}
			got, _ := rec.IDs()
			sameSet(t, got, e.expected(t0.Add(-24*time.Hour)))
		})
	}
}

// A malformed answer in the running loop is logged and counted.
func TestMalformedAnswerCountedAndRetried(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	e.tamper.Change = func(n int, r *http.Request, rec *httptest.ResponseRecorder) *cfapitest.Answer {
		if n == 1 {
			return &cfapitest.Answer{Status: 200, Body: `{"success":true,"errors":[],"result":{"unexpected":true}}`}
		}
		return nil
	}
	cfg := e.config("v2", func(c *Config) { c.Interval = config.Duration(time.Hour) })
	s, clk := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "id"}
	run(t, s, clk, rec)
	got, _ := rec.IDs()
	sameSet(t, got, e.expected(t0.Add(-24*time.Hour)))
	if counter(e.metrics, "audit", "malformed") != 1 || !strings.Contains(e.logs.String(), "malformed answer") {
		t.Fatalf("malformed answer not counted or logged:\n%s", e.logs.String())
	}
	if sl := clk.Sleeps(); len(sl) == 0 || sl[0] != time.Second {
		t.Fatalf("sleeps %v: want a 1s backoff first", sl)
	}
}

// Empty answers: no events at all; a v1 page exactly full then an empty
// one; v2 with count as a string and only cursors.after (cloudflare-go).
func TestEmptyPages(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		t.Run("no events "+version, func(t *testing.T) {
			e := newEnv(t, cfsim.Config{AuditRate: 0.0001, AuditHistory: 2 * time.Hour})
			if n := len(e.expected(t0.Add(-24 * time.Hour))); n != 0 {
				t.Fatalf("the simulator has %d events", n)
			}
			s, _ := e.source(e.config(version), 0)
			rec := &cfapitest.Recorder{IDField: "id"}
			if err := pollOnce(t, s, rec); err != nil {
				t.Fatal(err)
			}
			if rec.Calls() != 0 {
				t.Fatalf("%d deliveries of nothing", rec.Calls())
			}
			st := e.readCheckpoint("audit")
			if !st.Since.Equal(t0.Add(-24*time.Hour)) || !st.CaughtUp.Equal(t0) || len(st.Seen) != 0 {
				t.Fatalf("checkpoint %+v", st)
			}
			if n := len(e.sourceRequests()); n != 1 {
				t.Fatalf("%d requests for an empty log, want 1", n)
			}
		})
	}
	t.Run("v1 full page then empty", func(t *testing.T) {
		e := newEnv(t, cfsim.Config{})
		want := e.expected(t0.Add(-24 * time.Hour))
		s, _ := e.source(e.config("v1", func(c *Config) { c.PageSize = len(want) }), 0)
		rec := &cfapitest.Recorder{IDField: "id"}
		if err := pollOnce(t, s, rec); err != nil {
			t.Fatal(err)
		}
		got, _ := rec.IDs()
		sameSet(t, got, want)
		var pages []string
		for _, r := range e.sourceRequests() {
			pages = append(pages, r.URL.Query().Get("page"))
		}
		if !slices.Equal(pages, []string{"1", "2"}) {
			t.Fatalf("pages asked: %v, want [1 2]", pages)
		}
	})
	t.Run("v2 cursors.after and count as a string", func(t *testing.T) {
		e := newEnv(t, cfsim.Config{})
		e.tamper.Change = func(n int, r *http.Request, rec *httptest.ResponseRecorder) *cfapitest.Answer {
			var env map[string]any
			if json.Unmarshal(rec.Body.Bytes(), &env) != nil {
				return nil
			}
			info, _ := env["result_info"].(map[string]any)
			if info == nil {
				return nil
			}
			info["count"] = "17"
			if c, ok := info["cursor"]; ok {
				info["cursors"] = map[string]any{"after": c}
				delete(info, "cursor")
			}
			b, _ := json.Marshal(env)
			return &cfapitest.Answer{Status: rec.Code, Body: string(b)}
		}
		s, _ := e.source(e.config("v2", func(c *Config) { c.PageSize = 30 }), 0)
		rec := &cfapitest.Recorder{IDField: "id"}
		if err := pollOnce(t, s, rec); err != nil {
			t.Fatal(err)
		}
		got, _ := rec.IDs()
		sameSet(t, got, e.expected(t0.Add(-24*time.Hour)))
		if len(rec.Deliveries()) < 2 {
			t.Fatal("one page only: the cursor was not followed")
		}
	})
}

// The simulator's clock ahead of or behind the source's: nothing lost,
// nothing repeated.
func TestClockSkew(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		for _, offset := range []time.Duration{-10 * time.Minute, 10 * time.Minute, -3 * time.Hour} {
			t.Run(version+" source clock "+offset.String(), func(t *testing.T) {
				e := newEnv(t, cfsim.Config{AuditRate: 300, AuditLateFraction: 0.1, AuditLateMax: 2 * time.Minute})
				s, _ := e.source(e.config(version, func(c *Config) { c.PageSize = 40 }), offset)
				rec := &cfapitest.Recorder{IDField: "id"}
				for range 8 {
					if err := pollOnce(t, s, rec); err != nil {
						t.Fatal(err)
					}
					e.clock.Advance(2 * time.Minute)
				}
				e.clock.Advance(3 * time.Minute)
				if err := pollOnce(t, s, rec); err != nil {
					t.Fatal(err)
				}
				if offset > 0 {
					// A source clock ahead of Cloudflare's: since and before
					// come from it, so everything visible is read.
					got, _ := rec.IDs()
					sameSet(t, got, e.expected(t0.Add(offset-24*time.Hour)))
					return
				}
				// Behind: v1 has no before, v2's is the source's time + 1h:
				// everything visible is read unless the source is more than
				// an hour behind; then v2 reads what is older than its before
				// (the rest once its clock gets there), never repeating.
				got, dups := rec.IDs()
				if len(dups) > 0 {
					t.Fatalf("%d repeated", len(dups))
				}
				want := e.expected(t0.Add(offset - 24*time.Hour))
				if offset > -time.Hour || version == "v1" {
					sameSet(t, got, want)
				} else if len(got) == 0 || len(got) >= len(want) {
					t.Fatalf("3h behind: %d of %d read; want the older part", len(got), len(want))
				}
			})
		}
	}
}

// The pipeline refusing (queue full, shutting down): the source pauses
// with a short backoff, the checkpoint does not move, then it goes on.
func TestBackpressurePausesWithoutAdvancing(t *testing.T) {
	for _, refusal := range []error{event.ErrBackpressure, event.ErrClosed, event.ErrUnavailable} {
		t.Run(refusal.Error(), func(t *testing.T) {
			e := newEnv(t, cfsim.Config{})
			cfg := e.config("v2", func(c *Config) { c.PageSize = 50; c.Interval = config.Duration(time.Hour) })
			rec := &cfapitest.Recorder{IDField: "id", Fail: func(n int) error { return refusal }}
			s, _ := e.source(cfg, 0)
			err := pollOnce(t, s, rec)
			if !errors.Is(err, refusal) || e.checkpointBytes("audit") != "" {
				t.Fatalf("err %v; checkpoint %q", err, e.checkpointBytes("audit"))
			}
			// Running: three more refusals, then accepted.
			rec.Fail = func(n int) error {
				if n <= 4 {
					return refusal
				}
				return nil
			}
			s2, clk := e.source(cfg, 0)
			run(t, s2, clk, rec)
			got, _ := rec.IDs()
			sameSet(t, got, e.expected(t0.Add(-24*time.Hour)))
			if sl := clk.Sleeps(); len(sl) < 4 || !slices.Equal(sl[:3], []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}) {
				t.Fatalf("sleeps %v: want 1s, 2s, 4s then the interval", sl)
			}
			reason := cfapi.Reason(refusal)
			if counter(e.metrics, "audit", reason) != 3 {
				t.Fatalf("%s counted %v times, want 3", reason, counter(e.metrics, "audit", reason))
			}
		})
	}
}

// Stop while a page is being stored: the store gets until Stop's
// deadline, then is cancelled; the checkpoint does not move.
func TestStopAbandonsInFlightPage(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	s, _ := e.source(e.config("v2"), 0)
	rec := &cfapitest.Recorder{IDField: "id"}
	blocked := rec.BlockNext()
	if err := s.Start(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	select {
	case <-blocked:
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s.Stop(ctx)
	if cp := e.checkpointBytes("audit"); cp != "" {
		t.Fatalf("checkpoint written for an abandoned page: %s", cp)
	}
	// Stopping again, or a source never started, is harmless.
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	s2, _ := e.source(e.config("v2"), 0)
	if err := s2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Stop while idle returns at once.
func TestStopWhileIdle(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	s, clk := e.source(e.config("v1", func(c *Config) { c.Interval = config.Duration(time.Hour) }), 0)
	rec := &cfapitest.Recorder{IDField: "id"}
	run(t, s, clk, rec)
	if len(rec.Deliveries()) == 0 || e.readCheckpoint("audit").CaughtUp.IsZero() {
		t.Fatal("nothing done before stopping")
	}
}

// api_token_file: the token comes from the file; a missing file is an
// error at New naming the path, not the content.
func TestTokenFile(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(mainToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := e.config("v2", func(c *Config) { c.APIToken, c.APITokenFile = "", path })
	s, _ := e.source(cfg, 0)
	rec := &cfapitest.Recorder{IDField: "id"}
	if err := pollOnce(t, s, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Deliveries()) == 0 {
		t.Fatal("nothing read with the token from the file")
	}
	cfg.APITokenFile = path + ".missing"
	_, err := New("audit2", cfg, sourceDeps(e))
	if err == nil || !strings.Contains(err.Error(), "api_token_file "+path+".missing") {
		t.Fatalf("missing token file: %v", err)
	}
}

// A checkpoint that does not decode is an error at Start, never replaced;
// one for another account is replaced.
func TestCheckpointProblems(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	path := cfapi.CheckpointPath(e.dir, "audit")
	os.MkdirAll(filepath.Dir(path), 0o750)
	os.WriteFile(path, []byte("{broken"), 0o640)
	s, _ := e.source(e.config("v2"), 0)
	err := s.Start(context.Background(), &cfapitest.Recorder{IDField: "id"})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("corrupt checkpoint: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{broken" {
		t.Fatal("the corrupt checkpoint was replaced")
	}

	os.WriteFile(path, []byte(`{"version":1,"type":"cloudflare_audit","api":"v2","account_id":"`+strings.Repeat("0", 32)+`","since":"2020-01-01T00:00:00Z","seen":[]}`), 0o640)
	s, _ = e.source(e.config("v2"), 0)
	rec := &cfapitest.Recorder{IDField: "id"}
	if err := pollOnce(t, s, rec); err != nil {
		t.Fatal(err)
	}
	if st := e.readCheckpoint("audit"); st.AccountID != e.sim.AccountID() {
		t.Fatalf("checkpoint of another account kept: %+v", st)
	}
	if !strings.Contains(e.logs.String(), "another account") {
		t.Fatal("no warning about the other account's checkpoint")
	}
}

// Items that are not what the API documents (not objects, no id, an id
// that is a number, no time) are handed on as they are (the pipeline
// dead-letters what it cannot read) and remembered by id or content hash.
func TestOddItemsHandedOn(t *testing.T) {
	e := newEnv(t, cfsim.Config{})
	e.tamper.Change = func(n int, r *http.Request, rec *httptest.ResponseRecorder) *cfapitest.Answer {
		if r.URL.Query().Get("page") == "1" {
			return &cfapitest.Answer{Status: 200, Body: `{"success":true,"errors":[],"result":[1,"x",null,{"id":5},{"no":"id"},
				{"id":"a","when":"not a time"},{"id":"b","when":"2999-01-01T00:00:00Z"}]}`}
		}
		return &cfapitest.Answer{Status: 200, Body: `{"success":true,"errors":[],"result":[]}`}
	}
	s, _ := e.source(e.config("v1"), 0)
	rec := &cfapitest.Recorder{IDField: "id"}
	if err := pollOnce(t, s, rec); err != nil {
		t.Fatal(err)
	}
	if d := rec.Deliveries(); len(d) != 1 || d[0].Lines != 7 {
		t.Fatalf("deliveries %+v", d)
	}
	st := e.readCheckpoint("audit")
	if len(st.Seen) != 7 || !st.Newest.IsZero() || !st.Since.Equal(t0.Add(-24*time.Hour)) {
		t.Fatalf("checkpoint %+v: a far-future time must not move newest", st)
	}
	// Again: all seen, nothing handed on twice.
	if err := pollOnce(t, s, rec); err != nil || rec.Calls() != 1 {
		t.Fatalf("%v, %d deliveries", err, rec.Calls())
	}
	if !strings.Contains(e.logs.String(), "far ahead") {
		t.Fatal("no warning about the far-future time")
	}
}
