package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/telemetry"
)

func newTestServer(t *testing.T, o Options) *httptest.Server {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return testNow }
	}
	srv := httptest.NewServer(NewHandler(o))
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path and returns status, headers and body.
func get(t *testing.T, srv *httptest.Server, path string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// getJSON fetches path, checks the status and the JSON content type, and
// decodes the body into a generic map.
func getJSON(t *testing.T, srv *httptest.Server, path string, wantCode int) map[string]any {
	t.Helper()
	code, h, b := get(t, srv, path)
	if code != wantCode {
		t.Fatalf("GET %s = %d, want %d: %s", path, code, wantCode, b)
	}
	if ct := h.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET %s: Cache-Control %q", path, cc)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
	return m
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return fmt.Sprint(len(ks), " ", strings.Join(sortStrings(ks), ","))
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestSearch(t *testing.T) {
	eng := &fakeEngine{events: demoEvents(300, testNow)}
	srv := newTestServer(t, Options{Engine: eng})

	m := getJSON(t, srv, "/api/search?q=event.action:block&dataset=firewall_events&since=24h&limit=5&offset=2", 200)
	if got := keys(m); got != "5 hits,now,since,took_ms,total" {
		t.Errorf("keys = %s", got)
	}
	req := eng.last()
	want := search.Request{Query: "event.action:block", Dataset: "firewall_events", Since: testNow.Add(-24 * time.Hour), Limit: 5, Offset: 2}
	if req != want {
		t.Errorf("engine got %+v, want %+v", req, want)
	}
	if m["since"] != "2025-03-13T15:09:26Z" || m["now"] != "2025-03-14T15:09:26Z" {
		t.Errorf("window: since %v now %v", m["since"], m["now"])
	}
	hits := m["hits"].([]any)
	if len(hits) != 5 {
		t.Fatalf("%d hits, want 5", len(hits))
	}
	h := hits[0].(map[string]any)
	if got := keys(h); got != "4 dataset,doc,id,time" {
		t.Errorf("hit keys = %s", got)
	}
	if h["dataset"] != "firewall_events" {
		t.Errorf("dataset %v", h["dataset"])
	}
	if _, ok := h["doc"].(map[string]any); !ok {
		t.Errorf("doc is %T, want an object (raw JSON)", h["doc"])
	}
	if _, err := time.Parse(time.RFC3339Nano, h["time"].(string)); err != nil {
		t.Errorf("time: %v", err)
	}
	if total := m["total"].(float64); total < 10 {
		t.Errorf("total = %v", total)
	}
	if m["took_ms"].(float64) != 1.5 {
		t.Errorf("took_ms = %v, want the engine's 1.5", m["took_ms"])
	}

	// defaults and ordering
	getJSON(t, srv, "/api/search?order=asc", 200)
	if r := eng.last(); r.Limit != 100 || !r.Asc || r.Offset != 0 || !r.Since.IsZero() || !r.Until.IsZero() {
		t.Errorf("defaults: %+v", r)
	}
	getJSON(t, srv, "/api/search?limit=1000000", 200)
	if r := eng.last(); r.Limit != 10000 {
		t.Errorf("limit not capped: %d", r.Limit)
	}
}

func TestSearchNoHitsIsEmptyArray(t *testing.T) {
	srv := newTestServer(t, Options{Engine: &fakeEngine{}})
	_, _, b := get(t, srv, "/api/search")
	if !strings.Contains(string(b), `"hits":[]`) || !strings.Contains(string(b), `"total":0`) {
		t.Errorf("body %s", b)
	}
	_, _, b = get(t, srv, "/api/histogram?since=1h")
	if !strings.Contains(string(b), `"buckets":[]`) {
		t.Errorf("histogram body %s", b)
	}
	_, _, b = get(t, srv, "/api/top?field=source.ip")
	if !strings.Contains(string(b), `"values":[]`) {
		t.Errorf("top body %s", b)
	}
}

func TestBadParameters(t *testing.T) {
	eng := &fakeEngine{}
	srv := newTestServer(t, Options{Engine: eng})
	for _, tt := range []struct{ path, msg string }{
		{"/api/search?since=yesterday", "since: "},
		{"/api/search?limit=x", "limit: "},
		{"/api/search?order=up", "order: "},
		{"/api/search?since=1h&until=2h", "must be before until"},
		{"/api/histogram?buckets=0", "buckets: "},
		{"/api/histogram?buckets=many", "buckets: "},
		{"/api/histogram?until=soon", "until: "},
		{"/api/top", "field: required"},
		{"/api/top?field=a;b", "field: "},
		{"/api/top?field=a..b", "field: "},
		{"/api/top?field=source.ip&limit=-1", "limit: "},
		{"/api/top?field=source.ip&dataset=a%20b", "dataset: "},
	} {
		m := getJSON(t, srv, tt.path, 400)
		if msg, _ := m["error"].(string); !strings.Contains(msg, tt.msg) {
			t.Errorf("GET %s: error %q, want it to contain %q", tt.path, msg, tt.msg)
		}
	}
	if len(eng.reqs) != 0 {
		t.Errorf("engine called with bad parameters: %+v", eng.reqs)
	}
}

func TestQuerySyntaxError(t *testing.T) {
	srv := newTestServer(t, Options{Engine: &fakeEngine{}})
	for _, p := range []string{"/api/search", "/api/histogram", "/api/top?field=source.ip"} {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		m := getJSON(t, srv, p+sep+"q=(a:b", 400)
		if msg, _ := m["error"].(string); !strings.HasPrefix(msg, "query: column") {
			t.Errorf("%s: error %q", p, msg)
		}
	}
}

func TestEngineErrorStatus(t *testing.T) {
	wrappedInvalid := fmt.Errorf("translate: %w: field http.response.status_code wants a number", search.ErrInvalidQuery)
	for _, tt := range []struct {
		err  error
		code int
	}{
		{wrappedInvalid, 400},
		{&search.ParseError{Column: 3, Msg: "bad"}, 400},
		{errors.New("duckdb: disk I/O error"), 500},
		{fmt.Errorf("store: %w", context.DeadlineExceeded), 504},
	} {
		srv := newTestServer(t, Options{Engine: &fakeEngine{err: tt.err}})
		for _, p := range []string{"/api/search", "/api/histogram", "/api/top?field=x"} {
			m := getJSON(t, srv, p, tt.code)
			if msg, _ := m["error"].(string); !strings.Contains(msg, tt.err.Error()) {
				t.Errorf("%s with %v: error %q", p, tt.err, msg)
			}
		}
	}
}

func TestSearchTimeout(t *testing.T) {
	srv := newTestServer(t, Options{Engine: &fakeEngine{blockCtx: true}, SearchTimeout: 50 * time.Millisecond})
	m := getJSON(t, srv, "/api/search", 504)
	if msg, _ := m["error"].(string); !strings.Contains(msg, "timed out after 50ms") {
		t.Errorf("error %q", msg)
	}
}

func TestErrorStatusCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := ErrorStatus(ctx, fmt.Errorf("x: %w", context.Canceled)); got != statusClientClosed {
		t.Errorf("canceled by client: %d", got)
	}
	// canceled but the request still live: the store canceled on its own
	if got := ErrorStatus(context.Background(), context.Canceled); got != 500 {
		t.Errorf("canceled by the store: %d", got)
	}
}

func TestHistogram(t *testing.T) {
	eng := &fakeEngine{events: demoEvents(500, testNow)}
	srv := newTestServer(t, Options{Engine: eng})
	m := getJSON(t, srv, "/api/histogram?q=source.ip:203.0.113.7&dataset=http_requests&since=24h&until=1h&buckets=48", 200)
	if got := keys(m); got != "6 buckets,interval_ms,now,since,took_ms,until" {
		t.Errorf("keys = %s", got)
	}
	if eng.buckets[len(eng.buckets)-1] != 48 {
		t.Errorf("buckets passed = %v", eng.buckets)
	}
	r := eng.last()
	if r.Query != "source.ip:203.0.113.7" || r.Dataset != "http_requests" || !r.Since.Equal(testNow.Add(-24*time.Hour)) || !r.Until.Equal(testNow.Add(-time.Hour)) {
		t.Errorf("request %+v", r)
	}
	if iv := m["interval_ms"].(float64); iv != float64(30*time.Minute/time.Millisecond) {
		t.Errorf("interval_ms = %v", iv)
	}
	bs := m["buckets"].([]any)
	if len(bs) == 0 {
		t.Fatal("no buckets")
	}
	b := bs[0].(map[string]any)
	if got := keys(b); got != "2 count,start" {
		t.Errorf("bucket keys %s", got)
	}
	getJSON(t, srv, "/api/histogram", 200)
	if n := eng.buckets[len(eng.buckets)-1]; n != 60 {
		t.Errorf("default buckets = %d", n)
	}
	getJSON(t, srv, "/api/histogram?buckets=100000", 200)
	if n := eng.buckets[len(eng.buckets)-1]; n != MaxBuckets {
		t.Errorf("buckets not capped: %d", n)
	}
}

func TestTop(t *testing.T) {
	eng := &fakeEngine{events: demoEvents(500, testNow)}
	srv := newTestServer(t, Options{Engine: eng})
	m := getJSON(t, srv, "/api/top?field=http.response.status_code&q=url.domain:*&since=7d&limit=3", 200)
	if got := keys(m); got != "3 field,took_ms,values" {
		t.Errorf("keys = %s", got)
	}
	if m["field"] != "http.response.status_code" {
		t.Errorf("field %v", m["field"])
	}
	vals := m["values"].([]any)
	if len(vals) != 3 {
		t.Fatalf("values %v", vals)
	}
	if got := keys(vals[0].(map[string]any)); got != "2 count,value" {
		t.Errorf("value keys %s", got)
	}
	if v := vals[0].(map[string]any)["value"]; v != "200" {
		t.Errorf("top status = %v", v)
	}
	if f, l := eng.fields[len(eng.fields)-1], eng.limits[len(eng.limits)-1]; f != "http.response.status_code" || l != 3 {
		t.Errorf("engine got field %q limit %d", f, l)
	}
	if r := eng.last(); r.Query != "url.domain:*" || !r.Since.Equal(testNow.Add(-7*24*time.Hour)) || r.Limit != 0 {
		t.Errorf("request %+v", r)
	}
	getJSON(t, srv, "/api/top?field=source.ip", 200)
	if l := eng.limits[len(eng.limits)-1]; l != 10 {
		t.Errorf("default limit %d", l)
	}
	getJSON(t, srv, "/api/top?field=source.ip&limit=5000", 200)
	if l := eng.limits[len(eng.limits)-1]; l != MaxTopLimit {
		t.Errorf("limit not capped: %d", l)
	}
}

func TestDatasetsAndVersion(t *testing.T) {
	eng := &fakeEngine{events: demoEvents(100, testNow)}
	srv := newTestServer(t, Options{Engine: eng, Datasets: eng.datasets, Version: "v1.2.3"})
	m := getJSON(t, srv, "/api/datasets", 200)
	ds := m["datasets"].([]any)
	if len(ds) != 3 {
		t.Fatalf("datasets %v", ds)
	}
	if got := keys(ds[0].(map[string]any)); got != "2 count,value" {
		t.Errorf("dataset keys %s", got)
	}
	if d := ds[0].(map[string]any); d["value"] != "http_requests" || d["count"].(float64) < 30 {
		t.Errorf("first dataset %v", d)
	}
	v := getJSON(t, srv, "/api/version", 200)
	if v["version"] != "v1.2.3" || v["search"] != true || !strings.HasPrefix(v["go"].(string), "go") {
		t.Errorf("version %v", v)
	}

	failing := newTestServer(t, Options{Datasets: func(context.Context) ([]search.Count, error) { return nil, errors.New("db closed") }})
	if m := getJSON(t, failing, "/api/datasets", 500); m["error"] != "db closed" {
		t.Errorf("error %v", m)
	}
}

func TestNoEngine(t *testing.T) {
	srv := newTestServer(t, Options{})
	for _, p := range []string{"/api/search", "/api/histogram", "/api/top?field=source.ip", "/api/datasets"} {
		m := getJSON(t, srv, p, 503)
		if msg, _ := m["error"].(string); !strings.Contains(msg, "no searchable store is configured") {
			t.Errorf("%s: error %q", p, msg)
		}
	}
	// bad parameters are still reported as such
	getJSON(t, srv, "/api/search?since=x", 400)
	if v := getJSON(t, srv, "/api/version", 200); v["search"] != false || v["version"] != "dev" {
		t.Errorf("version %v", v)
	}
}

func TestUnknownAPIAndMethods(t *testing.T) {
	srv := newTestServer(t, Options{Engine: &fakeEngine{}})
	if m := getJSON(t, srv, "/api/nope", 404); !strings.Contains(m["error"].(string), "/api/nope") {
		t.Errorf("error %v", m)
	}
	resp, err := srv.Client().Post(srv.URL+"/api/search", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
		t.Errorf("POST /api/search = %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, err = srv.Client().Post(srv.URL+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST / = %d", resp.StatusCode)
	}
}

func TestHealthAndReady(t *testing.T) {
	var readyErr error
	srv := newTestServer(t, Options{Ready: func() error { return readyErr }})
	check := func(path string, code int, body string) {
		t.Helper()
		c, h, b := get(t, srv, path)
		if c != code || string(b) != body {
			t.Errorf("GET %s = %d %q, want %d %q", path, c, b, code, body)
		}
		if ct := h.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	}
	check("/healthz", 200, "ok\n")
	check("/readyz", 200, "ok\n")
	readyErr = errors.New("not ready: starting or shutting down")
	check("/readyz", 503, "not ready: starting or shutting down\n")
	check("/healthz", 200, "ok\n")

	noReady := newTestServer(t, Options{})
	if c, _, _ := get(t, noReady, "/readyz"); c != 200 {
		t.Errorf("readyz without Ready = %d", c)
	}
}

func TestMetrics(t *testing.T) {
	m := telemetry.NewMetrics()
	m.SourceRecords.WithLabelValues("logpush", "http_requests").Add(42)
	srv := newTestServer(t, Options{Metrics: m})
	code, h, b := get(t, srv, "/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics = %d", code)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		"# TYPE flarehose_source_records_total counter",
		`flarehose_source_records_total{dataset="http_requests",source="logpush"} 42`,
		"go_goroutines",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if c, _, _ := get(t, newTestServer(t, Options{}), "/metrics"); c != 503 {
		t.Errorf("/metrics without Metrics = %d", c)
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv := newTestServer(t, Options{Engine: &fakeEngine{}})
	for _, p := range []string{"/", "/app.js", "/api/search", "/api/nope", "/healthz", "/some/page"} {
		_, h, _ := get(t, srv, p)
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP too lax: %q", p, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", p, k, h.Get(k), v)
			}
		}
	}
}

func TestUIServed(t *testing.T) {
	srv := newTestServer(t, Options{})
	for _, tt := range []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `id="q"`},
		{"/index.html", "text/html; charset=utf-8", `id="q"`},
		{"/some/unknown/page", "text/html; charset=utf-8", `id="q"`},
		{"/app.js", "text/javascript; charset=utf-8", "use strict"},
		{"/app.css", "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	} {
		code, h, b := get(t, srv, tt.path)
		if code != 200 || h.Get("Content-Type") != tt.ctype || !strings.Contains(string(b), tt.contains) {
			t.Errorf("GET %s = %d %q (contains %q: %v)", tt.path, code, h.Get("Content-Type"), tt.contains, strings.Contains(string(b), tt.contains))
		}
	}
}

func TestClient(t *testing.T) {
	eng := &fakeEngine{events: demoEvents(50, testNow)}
	srv := newTestServer(t, Options{Engine: eng})
	c := &Client{BaseURL: srv.URL + "/", HTTP: srv.Client()}
	req := search.Request{Query: "a:b", Dataset: "http_requests", Since: testNow.Add(-48 * time.Hour), Until: testNow.Add(time.Hour), Limit: 7, Offset: 1, Asc: true}
	res, err := c.Search(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.last(); got != req {
		t.Errorf("server got %+v, want %+v", got, req)
	}
	if len(res.Hits) != 7 || res.Total < 7 || res.Took != 1.5 {
		t.Errorf("result: %d hits, total %d, took %v", len(res.Hits), res.Total, res.Took)
	}
	if h := res.Hits[0]; h.Dataset != "http_requests" || h.ID == "" || !json.Valid(h.Doc) || h.Time.IsZero() {
		t.Errorf("hit %+v", h)
	}
	if !res.Hits[0].Time.Before(res.Hits[1].Time) {
		t.Error("asc order lost")
	}

	_, err = c.Search(context.Background(), search.Request{Query: "(a"})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 400 || !se.BadRequest() || !strings.HasPrefix(se.Message, "query: column") {
		t.Errorf("syntax error: %v", err)
	}

	noStore := &Client{BaseURL: newTestServer(t, Options{}).URL}
	_, err = noStore.Search(context.Background(), search.Request{})
	if !errors.As(err, &se) || se.StatusCode != 503 || se.BadRequest() {
		t.Errorf("no store: %v", err)
	}

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway from proxy", http.StatusBadGateway)
	}))
	defer plain.Close()
	_, err = (&Client{BaseURL: plain.URL}).Search(context.Background(), search.Request{})
	if !errors.As(err, &se) || se.StatusCode != 502 || se.Message != "bad gateway from proxy" {
		t.Errorf("plain error: %v", err)
	}
}

func TestAllowedHosts(t *testing.T) {
	h := NewHandler(Options{AllowedHosts: []string{"Logs.Example.com"}})
	for host, want := range map[string]int{
		"127.0.0.1:8080":        200,
		"[::1]:8080":            200,
		"localhost:8080":        200,
		"logs.example.com":      200,
		"logs.example.com.:443": 200,
		"evil.example.net:8080": 421,
		"127.0.0.1.nip.io":      421,
	} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: %d, want %d", host, rec.Code, want)
		}
	}
	// nil allows every host
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Host = "anything.example"
	rec := httptest.NewRecorder()
	NewHandler(Options{}).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("without AllowedHosts: %d", rec.Code)
	}
}

func TestInvalidStoredDocument(t *testing.T) {
	eng := &fakeEngine{events: []search.Hit{{Time: testNow, Dataset: "http_requests", ID: "x", Doc: []byte(`{"broken":`)}}}
	srv := newTestServer(t, Options{Engine: eng})
	m := getJSON(t, srv, "/api/search", 200)
	if doc := m["hits"].([]any)[0].(map[string]any)["doc"]; doc != `{"broken":` {
		t.Errorf("doc = %#v, want the raw bytes as a string", doc)
	}
	rec := httptest.NewRecorder()
	writeJSON(rec, 200, map[string]any{"bad": func() {}})
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "encoding the response") {
		t.Errorf("unencodable response: %d %s", rec.Code, rec.Body)
	}
}
