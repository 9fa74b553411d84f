package cfapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return ctx.Err()
}

func TestBudget(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewBudget(3, time.Minute)
	for i := range 3 {
		if w := b.reserve(t0.Add(time.Duration(i) * time.Second)); w != 0 {
			t.Fatalf("request %d waits %s", i, w)
		}
	}
	if w := b.reserve(t0.Add(10 * time.Second)); w != 50*time.Second {
		t.Fatalf("4th request waits %s, want 50s (until the first leaves the window)", w)
	}
	if w := b.reserve(t0.Add(60 * time.Second)); w != 0 {
		t.Fatalf("after the window: %s", w)
	}
	b.Block(t0.Add(2*time.Minute), t0.Add(5*time.Minute))
	if w := b.reserve(t0.Add(2 * time.Minute)); w != 3*time.Minute {
		t.Fatalf("blocked: waits %s", w)
	}
	clk := &fakeClock{t: t0.Add(2 * time.Minute)}
	if err := b.Wait(context.Background(), clk); err != nil || clk.t.Before(t0.Add(5*time.Minute)) {
		t.Fatalf("Wait: %v at %s", err, clk.t)
	}
	// A clock that goes back does not wedge the budget.
	if w := b.reserve(t0.Add(-time.Hour)); w != 0 {
		t.Fatalf("clock back: %s", w)
	}
	if SharedBudget("k", 1, time.Second) != SharedBudget("k", 5, time.Hour) || SharedBudget("k", 1, time.Second) == SharedBudget("j", 1, time.Second) {
		t.Fatal("shared budgets are not shared by key")
	}
}

func TestRetryDelay(t *testing.T) {
	rl := &Error{Kind: KindRateLimit, RetryAfter: 90 * time.Second}
	cases := []struct {
		err      error
		failures int
		want     time.Duration
	}{
		{rl, 1, 90 * time.Second},
		{rl, 7, 90 * time.Second},
		{&Error{Kind: KindRateLimit}, 1, 5 * time.Second},
		{&Error{Kind: KindRateLimit}, 10, 5 * time.Minute},
		{&ConsumerError{Err: event.ErrBackpressure}, 1, time.Second},
		{&ConsumerError{Err: event.ErrClosed}, 3, 4 * time.Second},
		{fmt.Errorf("x: %w", event.ErrUnavailable), 20, 30 * time.Second},
		{&Error{Kind: KindAuth}, 1, time.Minute},
		{&Error{Kind: KindAuth}, 3, 4 * time.Minute},
		{&Error{Kind: KindAuth}, 50, 30 * time.Minute},
		{&Error{Kind: KindServer}, 1, time.Second},
		{&Error{Kind: KindMalformed}, 30, 5 * time.Minute},
		{errors.New("other"), 2, 2 * time.Second},
	}
	for _, c := range cases {
		if got := RetryDelay(c.err, c.failures); got != c.want {
			t.Errorf("RetryDelay(%v, %d) = %s, want %s", c.err, c.failures, got, c.want)
		}
	}
	reasons := map[error]string{
		rl: "rate_limited",
		&ConsumerError{Err: event.ErrBackpressure}:    "backpressure",
		&ConsumerError{Err: errors.New("x")}:          "consumer",
		&CheckpointError{Err: errors.New("x")}:        "checkpoint",
		fmt.Errorf("w: %w", &Error{Kind: KindStream}): "stream",
		errors.New("x"): "internal",
	}
	for err, want := range reasons {
		if got := Reason(err); got != want {
			t.Errorf("Reason(%v) = %s, want %s", err, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "-3": 0, "120": 2 * time.Minute, " 7 ": 7 * time.Second, "soon": 0,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second,
		"99999999": 24 * time.Hour,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("%q: %s, want %s", v, got, want)
		}
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Kind: KindAuth, Op: "GET /accounts/x/logs/audit", Status: 403,
		Errors: []Message{{Code: 10000, Message: "Authentication error", ErrorChain: []Message{{Code: 10000, Message: "lacks the X permission"}}}},
		Hint:   "the token needs X"}
	want := "cloudflare API GET /accounts/x/logs/audit: authentication failed (HTTP 403): 10000 Authentication error (10000 lacks the X permission). the token needs X"
	if e.Error() != want {
		t.Fatalf("%s\nwant %s", e.Error(), want)
	}
	if !e.HasCode(10000) || e.HasCode(6003) || !strings.Contains(e.Messages(), "lacks the X permission") {
		t.Fatal("HasCode / Messages")
	}
	if kindOf(400, []Message{{Code: 6003, ErrorChain: []Message{{Code: 6111}}}}) != KindAuth || kindOf(400, nil) != KindBadRequest ||
		kindOf(408, nil) != KindServer || kindOf(503, nil) != KindServer || kindOf(404, nil) != KindNotFound {
		t.Fatal("kindOf")
	}
}

func TestCheckpointFiles(t *testing.T) {
	dir := t.TempDir()
	if p := CheckpointPath(dir, "my source/../x"); p != filepath.Join(dir, "checkpoints", "my_source_.._x.json") {
		t.Fatalf("path %s", p)
	}
	if SafeName("..") != "_.." || SafeName("") != "_" {
		t.Fatal("SafeName")
	}
	path := CheckpointPath(dir, "a")
	var v map[string]int
	if found, err := LoadCheckpoint(path, &v); found || err != nil {
		t.Fatalf("absent: %v %v", found, err)
	}
	for i := range 3 {
		if err := SaveCheckpoint(path, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	if found, err := LoadCheckpoint(path, &v); !found || err != nil || v["n"] != 2 {
		t.Fatalf("%v %v %v", found, err, v)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	os.WriteFile(path, []byte("{"), 0o640)
	var ce *CheckpointError
	if _, err := LoadCheckpoint(path, &v); !errors.As(err, &ce) || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt: %v", err)
	}
}

func TestAPIConfig(t *testing.T) {
	c := APIConfig{APIToken: "tok"}
	c.SetDefaults()
	if err := c.Validate(); err != nil || c.BaseURL != DefaultBaseURL || c.InsecureBaseURL() {
		t.Fatalf("%v %+v", err, c)
	}
	for url, insecure := range map[string]bool{"http://127.0.0.1:8080/client/v4": false, "http://localhost/x": false,
		"http://[::1]:9/x": false, "http://api.internal/client/v4": true, "https://api.internal": false} {
		c.BaseURL = url
		if c.InsecureBaseURL() != insecure || c.Validate() != nil {
			t.Errorf("%s: insecure %v, %v", url, c.InsecureBaseURL(), c.Validate())
		}
	}
	c = APIConfig{APITokenFile: filepath.Join(t.TempDir(), "none"), RequestTimeout: config.Duration(time.Second), BaseURL: DefaultBaseURL}
	if _, err := c.resolve(); err == nil || !strings.Contains(err.Error(), "none: no such file") {
		t.Fatalf("missing token file: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	c.APITokenFile = empty
	if _, err := c.resolve(); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty token file: %v", err)
	}
}

// The client: auth headers, the envelope, no redirects followed, a
// network failure and a cancelled call told apart.
func TestClient(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		switch r.URL.Path {
		case "/v4/ok":
			w.Write([]byte(`{"success":true,"errors":[],"result":[1,2],"result_info":null}`))
		case "/v4/null":
			w.Write([]byte(`{"success":true,"errors":[],"result":null}`))
		case "/v4/redirect":
			http.Redirect(w, r, "https://elsewhere.example/steal", http.StatusFound)
		case "/v4/limited":
			w.Header().Set("Retry-After", "42")
			w.WriteHeader(429)
			w.Write([]byte(`{"success":false,"errors":[{"code":971,"message":"Please wait"}],"result":null}`))
		}
	}))
	defer srv.Close()
	cfg := APIConfig{BaseURL: srv.URL + "/v4", APIEmail: "a@example.com", APIKey: "k123"}
	cfg.SetDefaults()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c, err := NewClient(cfg, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	env, err := c.Get(context.Background(), "/ok", nil)
	if err != nil || env.ResultInfo != nil {
		t.Fatalf("%v %+v", err, env)
	}
	if items, err := env.ResultList("op"); err != nil || len(items) != 2 {
		t.Fatalf("%v %v", items, err)
	}
	if got.Get("X-Auth-Email") != "a@example.com" || got.Get("X-Auth-Key") != "k123" || got.Get("Authorization") != "" {
		t.Fatalf("headers %v", got)
	}
	if env, err := c.Get(context.Background(), "/null", nil); err != nil {
		t.Fatal(err)
	} else if items, err := env.ResultList("op"); err != nil || len(items) != 0 {
		t.Fatalf("null result: %v %v", items, err)
	}
	_, err = c.Get(context.Background(), "/redirect", nil)
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != KindNetwork || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("redirect: %v", err)
	}
	_, err = c.Get(context.Background(), "/limited", nil)
	if !errors.As(err, &ae) || ae.Kind != KindRateLimit || ae.RetryAfter != 42*time.Second || !strings.Contains(err.Error(), "971 Please wait") {
		t.Fatalf("429: %v", err)
	}
	// The 429 blocks the credential's budget for everyone using it.
	if w := c.budget.reserve(clk.t); w != 42*time.Second {
		t.Fatalf("budget after 429: wait %s", w)
	}
	clk.t = clk.t.Add(time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, "/ok", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	srv.Close()
	_, err = c.Get(context.Background(), "/ok", nil)
	if !errors.As(err, &ae) || ae.Kind != KindNetwork || strings.Contains(err.Error(), "k123") {
		t.Fatalf("server gone: %v", err)
	}
}
