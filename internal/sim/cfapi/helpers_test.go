package cfapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the fake clock's start in most tests.
var t0 = time.Date(2026, 3, 18, 14, 30, 0, 0, time.UTC)

type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	base  string
	clock *FakeClock
}

// newHarness starts a simulator on an httptest server. A nil cfg.Clock
// gets a FakeClock at t0.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t}
	if cfg.Clock == nil {
		h.clock = NewFakeClock(t0)
		cfg.Clock = h.clock
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.ts = httptest.NewServer(srv)
	h.base = h.ts.URL + BasePath
	t.Cleanup(func() {
		h.ts.Close()
		srv.Close()
	})
	return h
}

func (h *harness) zone() string { return h.srv.Zones()[0].ID }

type response struct {
	status int
	header http.Header
	body   []byte
	env    map[string]any
}

// do sends a request with the default token unless hdr sets credentials
// (an empty hdr value deletes a header).
func (h *harness) do(method, path string, body any, hdr map[string]string) *response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.srv.Token())
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := &response{status: resp.StatusCode, header: resp.Header, body: b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(b, &r.env)
	}
	return r
}

func (h *harness) get(path string) *response { return h.do(http.MethodGet, path, nil, nil) }

// ok checks a success envelope and returns its result.
func (r *response) ok(t *testing.T) any {
	t.Helper()
	if r.status != http.StatusOK || r.env == nil || r.env["success"] != true {
		t.Fatalf("want a 200 success envelope, got %d %s", r.status, r.body)
	}
	return r.env["result"]
}

// fails checks a failure envelope with status and code and returns the
// first error.
func (r *response) fails(t *testing.T, status, code int) map[string]any {
	t.Helper()
	if r.status != status || r.env == nil || r.env["success"] != false || r.env["result"] != nil {
		t.Fatalf("want a %d failure envelope, got %d %s", status, r.status, r.body)
	}
	errs, _ := r.env["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("no errors in %s", r.body)
	}
	e := errs[0].(map[string]any)
	if int(e["code"].(float64)) != code {
		t.Fatalf("want code %d, got %s", code, r.body)
	}
	if _, ok := r.env["messages"].([]any); !ok {
		t.Fatalf("messages is not an array: %s", r.body)
	}
	return e
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any         { l, _ := v.([]any); return l }

// receiver is an HTTP Logpush destination that records deliveries.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	batches []delivery
	status  int // answer; 0 = 200
	notify  chan struct{}
}

type delivery struct {
	header http.Header
	url    string
	body   []byte // decompressed
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{notify: make(chan struct{}, 1000)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		body := raw
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				http.Error(w, "bad gzip", http.StatusBadRequest)
				return
			}
			body, err = io.ReadAll(zr)
			if err != nil {
				http.Error(w, "bad gzip", http.StatusBadRequest)
				return
			}
		}
		rc.mu.Lock()
		rc.batches = append(rc.batches, delivery{header: r.Header.Clone(), url: r.URL.String(), body: body})
		status := rc.status
		rc.mu.Unlock()
		select {
		case rc.notify <- struct{}{}:
		default:
		}
		if status != 0 {
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setStatus(code int) {
	rc.mu.Lock()
	rc.status = code
	rc.mu.Unlock()
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.batches...)
}

// waitFor waits (up to a generous deadline) until cond holds for the
// deliveries.
func (rc *receiver) waitFor(t *testing.T, what string, cond func([]delivery) bool) []delivery {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if d := rc.deliveries(); cond(d) {
			return d
		}
		select {
		case <-rc.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; have %d deliveries", what, len(rc.deliveries()))
		}
	}
}
