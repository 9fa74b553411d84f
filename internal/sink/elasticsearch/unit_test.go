package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"
	"gopkg.in/yaml.v3"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/sink"
)

// ---- encoder ----

func TestAppendAction(t *testing.T) {
	for _, id := range []string{"abc", `a"b\c`, "new\nline\ttab\x01", "ünï€ode", "bad\xffutf8", ""} {
		line := appendAction(nil, "logs-x-default", id)
		if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("%q: not one line: %q", id, line)
		}
		var a struct {
			Create struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			} `json:"create"`
		}
		if err := json.Unmarshal(line, &a); err != nil {
			t.Fatalf("%q: %v: %s", id, err, line)
		}
		want := strings.ToValidUTF8(id, "\ufffd")
		if a.Create.ID != want || a.Create.Index != "logs-x-default" {
			t.Errorf("%q: decoded %+v", id, a.Create)
		}
	}
}

func TestDocLine(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{`{"a":1}`, `{"a":1}`, true},
		{"  {\"a\":1}\n", `{"a":1}`, true},
		{"{\n  \"a\": \"x\\ny\"\n}", `{"a":"x\ny"}`, true}, // pretty-printed: compacted
		{"{\n  \"a\": \n}", "", false},                     // invalid and multi-line
		{``, "", false},
		{`[1,2]`, "", false},
		{`not json`, "", false},
	} {
		got, err := docLine([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		if tt.ok && string(got) != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// ---- response parsing and classification ----

func TestParseBulk(t *testing.T) {
	var p fastjson.Parser
	errs, items, err := parseBulk(&p, []byte(`{"errors":false,"items":[{"create":{"status":201}}]}`), 1)
	if err != nil || errs || items != nil {
		t.Fatalf("fast path: %v %v %v", errs, items, err)
	}
	errs, items, err = parseBulk(&p, []byte(`{"took":3,"errors":false}`), 5)
	if err != nil || errs {
		t.Fatalf("errors false elsewhere: %v %v", errs, err)
	}
	body := `{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},` +
		`{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]}`
	errs, items, err = parseBulk(&p, []byte(body), 4)
	if err != nil || !errs || len(items) != 4 {
		t.Fatalf("%v %v %v", errs, items, err)
	}
	want := []itemResult{{201, "", ""}, {409, "version_conflict_engine_exception", "exists"}, {400, "mapper_parsing_exception", "failed to parse"}, {429, "es_rejected_execution_exception", "queue full"}}
	for i := range want {
		if items[i] != want[i] {
			t.Errorf("item %d: %+v, want %+v", i, items[i], want[i])
		}
	}
	if _, _, err := parseBulk(&p, []byte(body), 3); err == nil {
		t.Error("item count mismatch not detected")
	}
	for _, bad := range []string{`nope`, `{"items":[]}`, `{"errors":true,"items":[1]}`} {
		if _, _, err := parseBulk(&p, []byte(bad), 1); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		r    itemResult
		want outcome
	}{
		{itemResult{Status: 201}, itemOK},
		{itemResult{Status: 200}, itemOK},
		{itemResult{Status: 409, Type: "version_conflict_engine_exception"}, itemOK},
		{itemResult{Status: 429}, itemRetry},
		{itemResult{Status: 500}, itemRetry},
		{itemResult{Status: 503, Type: "unavailable_shards_exception"}, itemRetry},
		{itemResult{Status: 0}, itemRetry},
		{itemResult{Status: 400, Type: "mapper_parsing_exception"}, itemRejected},
		{itemResult{Status: 400, Type: "illegal_argument_exception"}, itemRejected},
		{itemResult{Status: 413}, itemRejected},
		{itemResult{Status: 403, Type: "cluster_block_exception"}, itemFail},
		{itemResult{Status: 401}, itemFail},
		{itemResult{Status: 404, Type: "index_not_found_exception"}, itemFail},
		{itemResult{Status: 400, Type: "index_closed_exception"}, itemFail},
	} {
		if got := classify(tt.r); got != tt.want {
			t.Errorf("classify(%+v) = %d, want %d", tt.r, got, tt.want)
		}
	}
}

// ---- Write against a fake cluster ----

// fakeCluster answers GET / and template calls, and hands bulk requests
// (decoded: action/doc pairs) to onBulk.
type fakeCluster struct {
	t      *testing.T
	info   string
	onBulk func(call int, ids []string) (status int, body string)
	calls  atomic.Int32
	mu     sync.Mutex
	puts   []string
}

func (f *fakeCluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		io.WriteString(w, f.info)
	case r.Method == http.MethodGet && (r.URL.Path == "/_index_template" || r.URL.Path == "/_component_template"):
		w.WriteHeader(404)
		io.WriteString(w, `{"error":{"type":"resource_not_found_exception","reason":"none"},"status":404}`)
	case r.Method == http.MethodPut:
		f.mu.Lock()
		f.puts = append(f.puts, r.URL.Path)
		f.mu.Unlock()
		io.WriteString(w, `{"acknowledged":true}`)
	case r.Method == http.MethodPost && r.URL.Path == "/_bulk":
		if r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Content-Type") != "application/x-ndjson" {
			f.t.Errorf("bulk headers: %v", r.Header)
		}
		if !strings.Contains(r.URL.RawQuery, "filter_path=") {
			f.t.Errorf("bulk without filter_path: %s", r.URL.RawQuery)
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			f.t.Error(err)
			return
		}
		raw, _ := io.ReadAll(zr)
		lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
		if len(lines)%2 != 0 {
			f.t.Errorf("odd number of bulk lines: %d", len(lines))
		}
		var ids []string
		for i := 0; i < len(lines); i += 2 {
			var a struct {
				Create struct {
					ID string `json:"_id"`
				} `json:"create"`
			}
			if err := json.Unmarshal(lines[i], &a); err != nil {
				f.t.Errorf("action line %q: %v", lines[i], err)
			}
			if !json.Valid(lines[i+1]) {
				f.t.Errorf("document line %q is not JSON", lines[i+1])
			}
			ids = append(ids, a.Create.ID)
		}
		status, body := f.onBulk(int(f.calls.Add(1)), ids)
		w.WriteHeader(status)
		io.WriteString(w, body)
	default:
		w.WriteHeader(404)
	}
}

const osInfo = `{"name":"n","version":{"distribution":"opensearch","number":"2.19.6"}}`

func fake(t *testing.T, onBulk func(call int, ids []string) (int, string)) (*fakeCluster, string) {
	f := &fakeCluster{t: t, info: osInfo, onBulk: onBulk}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func okItems(ids []string, status func(id string) string) string {
	var b strings.Builder
	b.WriteString(`{"errors":true,"items":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"create":` + status(id) + `}`)
	}
	b.WriteString("]}")
	return b.String()
}

func batchOf(ids ...string) *event.Batch {
	b := &event.Batch{}
	for _, id := range ids {
		b.Records = append(b.Records, event.Record{Dataset: "http_requests", ID: id, Doc: []byte(`{"@timestamp":"2024-05-01T00:00:00Z","id":"` + id + `"}`)})
	}
	return b
}

func TestWriteRetriesOnlyFailedItems(t *testing.T) {
	var mu sync.Mutex
	sent := map[string]int{}
	f, url := fake(t, func(call int, ids []string) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			sent[id]++
		}
		return 200, okItems(ids, func(id string) string {
			switch {
			case id == "bad":
				return `{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [x]"}}`
			case id == "dup":
				return `{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}`
			case id == "slow" && sent[id] < 3:
				return `{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}`
			case id == "flaky" && sent[id] < 2:
				return `{"status":503,"error":{"type":"unavailable_shards_exception","reason":"primary not active"}}`
			}
			return `{"status":201}`
		})
	})
	var rejected []Rejected
	s := newTestSink(t, testConfig(url, "default"), Options{OnRejected: func(rs []Rejected) error { rejected = append(rejected, rs...); return nil }})
	if err := s.Write(context.Background(), batchOf("a", "bad", "dup", "slow", "flaky", "b")); err != nil {
		t.Fatal(err)
	}
	if sent["a"] != 1 || sent["b"] != 1 || sent["bad"] != 1 || sent["dup"] != 1 {
		t.Errorf("items that did not fail were sent again: %v", sent)
	}
	if sent["slow"] != 3 || sent["flaky"] != 2 {
		t.Errorf("retries: %v", sent)
	}
	if len(rejected) != 1 || rejected[0].Record.ID != "bad" || rejected[0].Status != 400 || !strings.Contains(rejected[0].Reason, "mapper_parsing_exception") {
		t.Errorf("rejected: %+v", rejected)
	}
	st := s.Stats()
	if st.Created != 4 || st.Duplicates != 1 || st.Rejected != 1 || st.Retried != 3 {
		t.Errorf("stats %+v", st)
	}
	if len(f.puts) == 0 {
		t.Error("no templates installed")
	}
}

func TestWriteWholeRequestFailures(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"500", 500, `{"error":{"type":"illegal_state_exception","reason":"boom"},"status":500}`, "illegal_state_exception"},
		{"503", 503, `{"error":{"type":"cluster_block_exception","reason":"no master"},"status":503}`, "HTTP 503"},
		{"401", 401, `{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}`, "security_exception"},
		{"garbage 200", 200, `<html>proxy</html>`, "not JSON"},
		{"cluster block item", 200, `{"errors":true,"items":[{"create":{"status":403,"error":{"type":"cluster_block_exception","reason":"index read-only"}}}]}`, "refused writes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, url := fake(t, func(int, []string) (int, string) { return tt.status, tt.body })
			s := newTestSink(t, testConfig(url, "default"), Options{OnRejected: func([]Rejected) error { t.Error("OnRejected called"); return nil }})
			err := s.Write(context.Background(), batchOf("x"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestWriteWhole429ThenGivesUp(t *testing.T) {
	f, url := fake(t, func(int, []string) (int, string) {
		return 429, `{"error":{"type":"es_rejected_execution_exception","reason":"busy"},"status":429}`
	})
	cfg := testConfig(url, "default")
	cfg.Retry.Attempts = 4
	s := newTestSink(t, cfg, Options{})
	err := s.Write(context.Background(), batchOf("x", "y"))
	if err == nil || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Fatalf("Write = %v", err)
	}
	if n := f.calls.Load(); n != 4 {
		t.Errorf("%d bulk requests, want 4", n)
	}
}

func TestWriteSplitsByBytesAndOn413(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	_, url := fake(t, func(call int, ids []string) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) > 40 {
			return 413, `{"error":"request too large"}`
		}
		sizes = append(sizes, len(ids))
		return 200, `{"errors":false}`
	})
	cfg := testConfig(url, "default")
	cfg.BulkMaxBytes = 64 << 10
	cfg.MaxInFlight = 3
	s := newTestSink(t, cfg, Options{})
	b := syntheticBatch("split", 0, 500, 1000) // ~500 KB: 8+ requests by bytes, then 413 splits
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	if total != 500 || len(sizes) < 8 {
		t.Errorf("requests %v (total %d)", sizes, total)
	}
	if st := s.Stats(); st.Created != 500 {
		t.Errorf("stats %+v", st)
	}
}

func TestWriteRejectedHookError(t *testing.T) {
	_, url := fake(t, func(_ int, ids []string) (int, string) {
		return 200, okItems(ids, func(string) string { return `{"status":400,"error":{"type":"x","reason":"y"}}` })
	})
	s := newTestSink(t, testConfig(url, "default"), Options{OnRejected: func([]Rejected) error { return errors.New("disk full") }})
	if err := s.Write(context.Background(), batchOf("a")); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write = %v", err)
	}
}

func TestWriteFailover(t *testing.T) {
	_, url := fake(t, func(_ int, ids []string) (int, string) { return 200, `{"errors":false}` })
	cfg := testConfig("http://127.0.0.1:1", "default")
	cfg.URLs = append(cfg.URLs, url)
	s := newTestSink(t, cfg, Options{})
	for range 3 {
		if err := s.Write(context.Background(), batchOf("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewSinkDeadLetters(t *testing.T) {
	_, url := fake(t, func(_ int, ids []string) (int, string) {
		return 200, okItems(ids, func(id string) string {
			if id == "bad" {
				return `{"status":400,"error":{"type":"mapper_parsing_exception","reason":"nope"}}`
			}
			return `{"status":201}`
		})
	})
	dir := t.TempDir()
	dead, err := deadletter.Open(filepath.Join(dir, "deadletter"))
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	var s sink.Sink
	s, err = NewSink("es", testConfig(url, "default"), sink.Deps{DataDir: dir, DeadLetters: dead})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(context.Background(), batchOf("ok", "bad")); err != nil {
		t.Fatal(err)
	}
	var got []deadletter.Entry
	if _, err := deadletter.Read(filepath.Join(dir, "deadletter"), func(e deadletter.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Stage != "es" || got[0].Reason != "sink_rejected" || !strings.Contains(got[0].Error, "mapper_parsing_exception") || got[0].RecordID != "bad" || !strings.Contains(string(got[0].Doc), `"id":"bad"`) {
		t.Fatalf("dead letters: %+v", got)
	}
}

func TestSetupRetriedAfterFailure(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			w.WriteHeader(503)
			return
		}
		f := &fakeCluster{t: t, info: osInfo, onBulk: func(int, []string) (int, string) { return 200, `{"errors":false}` }}
		f.ServeHTTP(w, r)
	}))
	defer srv.Close()
	s := newTestSink(t, testConfig(srv.URL, "default"), Options{})
	if err := s.Write(context.Background(), batchOf("a")); err == nil {
		t.Fatal("Write succeeded while the cluster answered 503")
	}
	up.Store(true)
	if err := s.Write(context.Background(), batchOf("a")); err != nil {
		t.Fatal(err)
	}
}

func TestParseInfo(t *testing.T) {
	for _, tt := range []struct {
		body, flavor string
		major, minor int
		ok           bool
	}{
		{osInfo, FlavorOpenSearch, 2, 19, true},
		{`{"version":{"number":"8.15.1","build_flavor":"default"},"tagline":"You Know, for Search"}`, FlavorElasticsearch, 8, 15, true},
		{`{"version":{"number":"7.17.0"}}`, FlavorElasticsearch, 7, 17, true},
		{`{"version":{"number":"7.9.3"}}`, FlavorElasticsearch, 7, 9, false}, // no data streams
		{`{"version":{"distribution":"opensearch","number":"1.3.0"}}`, FlavorOpenSearch, 1, 3, true},
		{`{}`, "", 0, 0, false},
		{`<html>`, "", 0, 0, false},
	} {
		info, err := parseInfo([]byte(tt.body))
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v", tt.body, err)
			continue
		}
		if tt.flavor != "" && (info.Flavor != tt.flavor || info.Major != tt.major || info.Minor != tt.minor) {
			t.Errorf("%s: %+v", tt.body, info)
		}
	}
}

func TestAuthHeaders(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		io.WriteString(w, osInfo)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.Username, c.Password = "elastic", "secret" }, "Basic ZWxhc3RpYzpzZWNyZXQ="},
		{func(c *Config) { c.APIKey = "aWQ6a2V5" }, "ApiKey aWQ6a2V5"},
		{func(c *Config) { c.BearerToken = "tok" }, "Bearer tok"},
	} {
		cfg := testConfig(srv.URL, "default")
		tt.set(&cfg)
		c, err := NewClient(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Info(context.Background()); err != nil {
			t.Fatal(err)
		}
		if g, _ := got.Load().(string); g != tt.want {
			t.Errorf("Authorization %q, want %q", g, tt.want)
		}
	}
}

// ---- templates ----

func TestDecide(t *testing.T) {
	const ours = "h1"
	cur := existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion, Hash: ours, ContentHash: ours}
	for _, tt := range []struct {
		name  string
		ex    existingTemplate
		force bool
		want  TemplateAction
		put   bool
	}{
		{"missing", existingTemplate{}, false, TemplateInstalled, true},
		{"missing+force", existingTemplate{}, true, TemplateInstalled, true},
		{"current", cur, false, TemplateCurrent, false},
		{"current+force", cur, true, TemplateCurrent, false},
		{"older", existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion - 1, Hash: "h0", ContentHash: "h0"}, false, TemplateUpdated, true},
		{"same version, other content", existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion, Hash: "h0", ContentHash: "h0"}, false, TemplateUpdated, true},
		{"edited by a user", existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion, Hash: ours, ContentHash: "other"}, false, TemplateModified, false},
		{"edited, older", existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion - 1, Hash: "h0", ContentHash: "other"}, false, TemplateModified, false},
		{"edited+force", existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion, Hash: ours, ContentHash: "other"}, true, TemplateForced, true},
		{"no hash", existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion}, false, TemplateModified, false},
		{"foreign", existingTemplate{Found: true, ManagedBy: "fleet", ContentHash: "x"}, false, TemplateNotOurs, false},
		{"no _meta", existingTemplate{Found: true, ContentHash: "x"}, false, TemplateNotOurs, false},
		{"foreign+force", existingTemplate{Found: true, ManagedBy: "fleet"}, true, TemplateForced, true},
		{"newer", existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion + 1, Hash: "h2", ContentHash: "h2"}, false, TemplateNewer, false},
		{"newer+force", existingTemplate{Found: true, ManagedBy: managedBy, Version: TemplateVersion + 1, Hash: "h2", ContentHash: "h2"}, true, TemplateForced, true},
	} {
		act, put := decide(tt.ex, ours, tt.force)
		if act != tt.want || put != tt.put {
			t.Errorf("%s: (%q, %v), want (%q, %v)", tt.name, act, put, tt.want, tt.put)
		}
	}
}

func TestContentHashStable(t *testing.T) {
	// What we send (flat settings, numbers) and what a cluster returns
	// (nested settings, strings, _doc wrapper, extra data_stream fields).
	sent := `{"template":{"settings":{"index.mapping.total_fields.limit":"10000","index.query.default_field":["flarehose.text"]},
		"mappings":{"dynamic":true,"properties":{"a":{"type":"keyword","ignore_above":1024}}}}}`
	got := `{"version":1,"_meta":{"managed_by":"flarehose"},"template":{"settings":{"index":{"query":{"default_field":["flarehose.text"]},"mapping":{"total_fields":{"limit":"10000"}}}},
		"mappings":{"_doc":{"properties":{"a":{"ignore_above":"1024","type":"keyword"}},"dynamic":"true"}}}}`
	h1, err := hashJSON([]byte(sent), false)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := hashJSON([]byte(got), false)
	if err != nil {
		t.Fatal(err)
	}
	if h1 != h2 {
		t.Errorf("hash differs: %s vs %s", h1, h2)
	}
	edited := strings.Replace(got, `"1024"`, `"2048"`, 1)
	if h3, _ := hashJSON([]byte(edited), false); h3 == h1 {
		t.Error("an edit does not change the hash")
	}
	// Index templates: data_stream details are ignored, priority is not.
	it := `{"index_patterns":["logs-x-*"],"priority":200,"composed_of":["a","b"],"data_stream":{}}`
	itBack := `{"index_patterns":["logs-x-*"],"priority":"200","composed_of":["a","b"],"data_stream":{"timestamp_field":{"name":"@timestamp"}},"_meta":{"x":1}}`
	a, _ := hashJSON([]byte(it), true)
	b, _ := hashJSON([]byte(itBack), true)
	c, _ := hashJSON([]byte(strings.Replace(itBack, `"200"`, `"250"`, 1)), true)
	if a != b || a == c {
		t.Errorf("index template hashes: %s %s %s", a, b, c)
	}
}

func TestTemplatesPerFlavor(t *testing.T) {
	find := func(defs []templateDef, name string) map[string]any {
		for _, d := range defs {
			if d.name == name {
				return d.body
			}
		}
		t.Fatalf("no template %s", name)
		return nil
	}
	prop := func(body map[string]any, path string) map[string]any {
		m := body["template"].(map[string]any)["mappings"].(map[string]any)
		for _, seg := range strings.Split(path, ".") {
			m = m["properties"].(map[string]any)[seg].(map[string]any)
		}
		return m
	}
	extra := func(string) []Field {
		return []Field{{"cloudflare_logpush.x.flags", "flattened"}, {"host.cpu.usage", "scaled_float"}}
	}
	for _, tt := range []struct {
		info                           Info
		flat, scaled, ns, url, message string
	}{
		{Info{Flavor: FlavorOpenSearch, Major: 2, Minor: 19}, "flat_object", "float", "keyword", "wildcard", "match_only_text"},
		{Info{Flavor: FlavorOpenSearch, Major: 2, Minor: 5}, "object", "float", "keyword", "keyword", "text"},
		{Info{Flavor: FlavorElasticsearch, Major: 8, Minor: 15}, "flattened", "scaled_float", "constant_keyword", "wildcard", "match_only_text"},
	} {
		defs, err := buildTemplates(tt.info, []string{"cloudflare_logpush.x"}, extra)
		if err != nil {
			t.Fatal(err)
		}
		common := find(defs, commonComponent)
		ds := find(defs, "logs-cloudflare_logpush.x@flarehose")
		idx := find(defs, "logs-cloudflare_logpush.x")
		check := func(what, got, want string) {
			if got != want {
				t.Errorf("%s: %s is %q, want %q", tt.info, what, got, want)
			}
		}
		check("flattened", fmt.Sprint(prop(ds, "cloudflare_logpush.x.flags")["type"]), tt.flat)
		check("scaled_float", fmt.Sprint(prop(ds, "host.cpu.usage")["type"]), tt.scaled)
		check("data_stream.namespace", fmt.Sprint(prop(common, "data_stream.namespace")["type"]), tt.ns)
		check("url.original", fmt.Sprint(prop(common, "url.original")["type"]), tt.url)
		check("message", fmt.Sprint(prop(common, "message")["type"]), tt.message)
		if tt.info.Flavor == FlavorElasticsearch || tt.info.AtLeast(2, 14) {
			check("data_stream.dataset", fmt.Sprint(prop(ds, "data_stream.dataset")["value"]), "cloudflare_logpush.x")
		} else {
			check("data_stream.dataset (no constant_keyword)", fmt.Sprint(prop(ds, "data_stream.dataset")["type"]), "keyword")
		}
		check("source.ip", fmt.Sprint(prop(common, "source.ip")["type"]), "ip")
		check("source.ip copy_to", fmt.Sprint(prop(common, "source.ip")["copy_to"]), CatchAllField)
		check("source.geo.location", fmt.Sprint(prop(common, "source.geo.location")["type"]), "geo_point")
		check("event.original index", fmt.Sprint(prop(common, "event.original")["index"]), "false")
		check("pattern", fmt.Sprint(idx["index_patterns"]), "[logs-cloudflare_logpush.x-*]")
		check("composed_of", fmt.Sprint(idx["composed_of"]), "["+commonComponent+" logs-cloudflare_logpush.x@flarehose]")
		for _, d := range defs {
			if d.hash == "" {
				t.Errorf("%s: no hash", d.name)
			}
			p, err := d.payload()
			if err != nil || !bytes.Contains(p, []byte(`"managed_by":"flarehose"`)) {
				t.Errorf("%s: payload %s %v", d.name, p, err)
			}
		}
	}
}

func TestDataStream(t *testing.T) {
	for in, want := range map[string]string{
		"http_requests":                   "logs-cloudflare_logpush.http_request-prod",
		"cloudflare_logpush.http_request": "logs-cloudflare_logpush.http_request-prod",
		"audit_logs_api":                  "logs-cloudflare.audit-prod",
		"nope":                            "",
	} {
		if got := DataStream(in, "prod"); got != want {
			t.Errorf("DataStream(%q) = %q, want %q", in, got, want)
		}
	}
}

// ---- config ----

func TestConfigYAML(t *testing.T) {
	src := `
urls: [https://es1:9200, "https://es2:9200/prefix"]
api_key: aWQ6a2V5
namespace: prod
bulk_max_bytes: 16MiB
flush_interval: 2s
max_in_flight: 8
timeout: 30s
retry: {initial: 100ms, max: 5s, attempts: 5}
install_templates: false
force_templates: true
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if err := config.DecodeStrict(n.Content[0], c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BulkMaxBytes != 16<<20 || c.MaxInFlight != 8 || c.Retry.Max.D() != 5*time.Second || c.InstallTemplates || !c.ForceTemplates || c.Namespace != "prod" || len(c.URLs) != 2 {
		t.Errorf("decoded %+v", c)
	}
	// Unknown keys are refused.
	if err := yaml.Unmarshal([]byte("urls: [http://x]\nbulk_size: 1"), &n); err != nil {
		t.Fatal(err)
	}
	if err := config.DecodeStrict(n.Content[0], DefaultConfig()); err == nil {
		t.Error("unknown key accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	good := func() *Config { c := DefaultConfig(); c.URLs = []string{"http://localhost:9200"}; return c }
	if err := good().Validate(); err != nil {
		t.Fatalf("defaults + url: %v", err)
	}
	d := DefaultConfig()
	if d.Namespace != "default" || d.BulkMaxBytes != 8<<20 || d.MaxInFlight != 4 || !d.InstallTemplates || d.ForceTemplates {
		t.Errorf("defaults %+v", d)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.pem")
	present := filepath.Join(dir, "ca.pem")
	os.WriteFile(present, []byte("x"), 0o600)
	for _, tt := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"no urls", func(c *Config) { c.URLs = nil }, "at least one URL"},
		{"bad scheme", func(c *Config) { c.URLs = []string{"ftp://x"} }, "scheme"},
		{"no host", func(c *Config) { c.URLs = []string{"http://"} }, "no host"},
		{"unparsable", func(c *Config) { c.URLs = []string{"http://[::1"} }, "urls"},
		{"credentials in url", func(c *Config) { c.URLs = []string{"https://u:secret@x"} }, "username/password"},
		{"query in url", func(c *Config) { c.URLs = []string{"https://x?a=b"} }, "query"},
		{"password only", func(c *Config) { c.Password = "x" }, "username is empty"},
		{"two auths", func(c *Config) { c.Username, c.APIKey = "u", "k" }, "only one"},
		{"multi-line token", func(c *Config) { c.BearerToken = "a\nb" }, "one line"},
		{"cert without key", func(c *Config) { c.TLS.CertFile = present }, "go together"},
		{"missing ca", func(c *Config) { c.TLS.CAFile = missing }, "ca_file"},
		{"namespace dash", func(c *Config) { c.Namespace = "my-ns" }, "namespace"},
		{"namespace upper", func(c *Config) { c.Namespace = "Prod" }, "namespace"},
		{"namespace empty", func(c *Config) { c.Namespace = "" }, "namespace"},
		{"bulk too small", func(c *Config) { c.BulkMaxBytes = 100 }, "bulk_max_bytes"},
		{"bulk too big", func(c *Config) { c.BulkMaxBytes = 1 << 30 }, "bulk_max_bytes"},
		{"in flight 0", func(c *Config) { c.MaxInFlight = 0 }, "max_in_flight"},
		{"timeout 0", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"negative flush", func(c *Config) { c.FlushInterval = -1 }, "flush_interval"},
		{"retry max < initial", func(c *Config) { c.Retry.Max = c.Retry.Initial / 2 }, "max must not be below"},
		{"retry zero", func(c *Config) { c.Retry.Initial = 0 }, "positive"},
		{"attempts 0", func(c *Config) { c.Retry.Attempts = 0 }, "attempts"},
	} {
		c := good()
		tt.edit(c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error leaks the password: %v", tt.name, err)
		}
	}
}
