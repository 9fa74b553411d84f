package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/config"
)

// faultProxy sits between the sink and the node and injects failures into
// bulk requests: whole-request 429s, then per-item 429/503s for some of the
// actions (those are not forwarded, so they are really not indexed).
type faultProxy struct {
	target     *url.URL
	wholeLeft  atomic.Int32 // bulk requests still to answer 429 as a whole
	itemLeft   atomic.Int32 // bulk requests still to inject item failures into
	injected   atomic.Int64 // item failures injected
	wholeCount atomic.Int64 // whole-request 429s answered
}

func newFaultProxy(t *testing.T, target string) (*faultProxy, *httptest.Server) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{target: u}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/_bulk" {
			rp.ServeHTTP(w, r)
			return
		}
		if p.wholeLeft.Add(-1) >= 0 {
			p.wholeCount.Add(1)
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"type":"es_rejected_execution_exception","reason":"injected"},"status":429}`)
			return
		}
		if p.itemLeft.Add(-1) < 0 {
			rp.ServeHTTP(w, r)
			return
		}
		p.injectItems(t, w, r)
	}))
	t.Cleanup(srv.Close)
	return p, srv
}

func (p *faultProxy) injectItems(t *testing.T, w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
	var fwd []byte
	fail := make([]int, len(lines)/2) // 0 = forwarded, else injected status
	for k := 0; k < len(lines)/2; k++ {
		if k%3 == 0 {
			fail[k] = 429
			if k%2 == 1 {
				fail[k] = 503
			}
			p.injected.Add(1)
			continue
		}
		fwd = append(fwd, lines[2*k]...)
		fwd = append(fwd, '\n')
		fwd = append(fwd, lines[2*k+1]...)
		fwd = append(fwd, '\n')
	}
	var fwdItems []*fastjson.Value
	if len(fwd) > 0 {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, p.target.String()+"/_bulk?"+r.URL.RawQuery, bytes.NewReader(fwd))
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			w.WriteHeader(resp.StatusCode)
			w.Write(rb)
			return
		}
		v, err := fastjson.ParseBytes(rb)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		fwdItems = v.GetArray("items")
	}
	var out bytes.Buffer
	out.WriteString(`{"errors":true,"items":[`)
	j := 0
	for k, st := range fail {
		if k > 0 {
			out.WriteByte(',')
		}
		if st != 0 {
			fmt.Fprintf(&out, `{"create":{"status":%d,"error":{"type":"es_rejected_execution_exception","reason":"injected"}}}`, st)
			continue
		}
		if fwdItems == nil {
			// errors:false with filter_path may still list items; be safe.
			out.WriteString(`{"create":{"status":201}}`)
			continue
		}
		out.Write(fwdItems[j].MarshalTo(nil))
		j++
	}
	out.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	w.Write(out.Bytes())
}

func TestIntegration429(t *testing.T) {
	url := nodeURL(t)
	ns := testNamespace(t)
	c := adminClient(t, url)
	t.Cleanup(func() { dropNamespace(t, c, ns) })
	p, srv := newFaultProxy(t, url)
	s := newTestSink(t, testConfig(srv.URL, ns), Options{OnRejected: func(rs []Rejected) error {
		t.Errorf("%d records rejected: %s", len(rs), rs[0].Reason)
		return nil
	}})
	ctx := context.Background()
	if err := s.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	p.wholeLeft.Store(2)
	p.itemLeft.Store(3)
	b := syntheticBatch("r429", 0, 2000, 500)
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := count(t, c, ns, ""); got != b.Len() {
		t.Fatalf("%d documents, want %d", got, b.Len())
	}
	st := s.Stats()
	t.Logf("whole-request 429s %d, item failures injected %d, stats %+v", p.wholeCount.Load(), p.injected.Load(), st)
	if p.wholeCount.Load() != 2 || p.injected.Load() == 0 || st.Retried < p.injected.Load() {
		t.Errorf("faults not exercised: whole %d, injected %d, retried %d", p.wholeCount.Load(), p.injected.Load(), st.Retried)
	}

	// Persistent 429s: Write gives up after retry.attempts with an error
	// (the pipeline keeps the batch), and a later Write lands it.
	cfg := testConfig(srv.URL, ns)
	cfg.Retry.Attempts = 3
	s2 := newTestSink(t, cfg, Options{})
	p.wholeLeft.Store(1000)
	b2 := syntheticBatch("r429b", 0, 100, 300)
	if err := s2.Write(ctx, b2); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("Write under persistent 429 = %v", err)
	}
	p.wholeLeft.Store(0)
	if err := s2.Write(ctx, b2); err != nil {
		t.Fatal(err)
	}
	if got := count(t, c, ns, ""); got != b.Len()+b2.Len() {
		t.Fatalf("%d documents, want %d", got, b.Len()+b2.Len())
	}
}

func TestIntegrationTemplateDecisions(t *testing.T) {
	url := nodeURL(t)
	c := adminClient(t, url)
	ctx := context.Background()
	// One dataset of its own, so other tests' templates are not touched.
	opts := Options{Datasets: []string{"magic_bgp_logs"}}
	const name = "logs-cloudflare_logpush.magic_bgp"
	setup := func(force bool) TemplateAction {
		t.Helper()
		cfg := testConfig(url, "default")
		cfg.ForceTemplates = force
		s := newTestSink(t, cfg, opts)
		if err := s.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		return s.Templates()[name]
	}
	priority := func() int {
		return mustJSON(t, c, http.MethodGet, "/_index_template/"+name, nil).GetInt("index_templates", "0", "index_template", "priority")
	}
	_, _ = c.Do(ctx, Request{Method: http.MethodDelete, Path: "/_index_template/" + name})
	if a := setup(false); a != TemplateInstalled {
		t.Fatalf("missing template: %q", a)
	}
	if a := setup(false); a != TemplateCurrent {
		t.Fatalf("installed template: %q", a)
	}
	// Our template as the cluster has it, to edit.
	cur := mustJSON(t, c, http.MethodGet, "/_index_template/"+name, nil).Get("index_templates", "0", "index_template")
	put := func(edit func(m map[string]any)) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(cur.MarshalTo(nil), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "data_stream")
		m["data_stream"] = map[string]any{}
		edit(m)
		mustJSON(t, c, http.MethodPut, "/_index_template/"+name, m)
	}
	// A user edited it (priority), keeping our _meta: left alone.
	put(func(m map[string]any) { m["priority"] = 250 })
	if a := setup(false); a != TemplateModified {
		t.Fatalf("edited template: %q", a)
	}
	if p := priority(); p != 250 {
		t.Fatalf("edited template was overwritten: priority %d", p)
	}
	// force_templates overwrites it.
	if a := setup(true); a != TemplateForced {
		t.Fatalf("forced: %q", a)
	}
	if p := priority(); p != templatePriority {
		t.Fatalf("force did not restore: priority %d", p)
	}
	// Someone else's template (no flarehose _meta): left alone.
	put(func(m map[string]any) { delete(m, "_meta"); m["priority"] = 201 })
	if a := setup(false); a != TemplateNotOurs {
		t.Fatalf("foreign template: %q", a)
	}
	if p := priority(); p != 201 {
		t.Fatalf("foreign template was overwritten: priority %d", p)
	}
	// Ours from an older version, untouched: updated.
	cur = mustJSON(t, c, http.MethodGet, "/_index_template/"+name, nil).Get("index_templates", "0", "index_template")
	setup(true)
	cur = mustJSON(t, c, http.MethodGet, "/_index_template/"+name, nil).Get("index_templates", "0", "index_template")
	put(func(m map[string]any) {
		meta := m["_meta"].(map[string]any)
		meta["version"] = TemplateVersion - 1
		m["version"] = TemplateVersion - 1
	})
	if a := setup(false); a != TemplateUpdated {
		t.Fatalf("older template: %q", a)
	}
	if v := mustJSON(t, c, http.MethodGet, "/_index_template/"+name, nil).GetInt("index_templates", "0", "index_template", "_meta", "version"); v != TemplateVersion {
		t.Fatalf("after update: _meta.version %d", v)
	}
	// Written by a newer flarehose: left alone.
	put(func(m map[string]any) {
		meta := m["_meta"].(map[string]any)
		meta["version"] = TemplateVersion + 1
	})
	if a := setup(false); a != TemplateNewer {
		t.Fatalf("newer template: %q", a)
	}
	setup(true)
}

// TestIntegrationNodeRestart stops the node with test/opensearch/stop.sh in
// the middle of a load and starts it again: Write fails while it is down,
// and once it is back every record lands exactly once. It restarts the
// shared node, so it only runs when FLAREHOSE_OPENSEARCH_RESTART=1 (and
// packages must not run in parallel: go test -p 1).
func TestIntegrationNodeRestart(t *testing.T) {
	url := nodeURL(t)
	if os.Getenv("FLAREHOSE_OPENSEARCH_RESTART") != "1" {
		t.Skip("restarts the shared node: set FLAREHOSE_OPENSEARCH_RESTART=1 (and run packages with -p 1)")
	}
	scripts, err := filepath.Abs("../../../test/opensearch")
	if err != nil {
		t.Fatal(err)
	}
	ns := testNamespace(t)
	c := adminClient(t, url)
	t.Cleanup(func() { dropNamespace(t, c, ns) })
	cfg := testConfig(url, ns)
	cfg.Timeout = config.Duration(5 * time.Second)
	s := newTestSink(t, cfg, Options{})
	ctx := context.Background()

	const batches, per = 60, 500
	var failures atomic.Int64
	var wg sync.WaitGroup
	restarted := make(chan struct{})
	progress := make(chan int, batches)
	wg.Add(1)
	go func() { // the pipeline: retry each batch until it commits
		defer wg.Done()
		for i := range batches {
			b := syntheticBatch(ns, i*per, per, 1500)
			for {
				err := s.Write(ctx, b)
				if err == nil {
					break
				}
				failures.Add(1)
				time.Sleep(200 * time.Millisecond)
			}
			progress <- i
			if i == batches/3 {
				<-restarted // keep some load for after the restart
			}
		}
	}()
	for i := range progress {
		if i == 10 {
			break
		}
	}
	run := func(script string) {
		cmd := exec.Command("bash", filepath.Join(scripts, script))
		cmd.Env = append(os.Environ(), "OPENSEARCH_PORT="+url[strings.LastIndexByte(url, ':')+1:])
		out, err := cmd.CombinedOutput()
		t.Logf("%s: %s", script, strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatalf("%s: %v", script, err)
		}
	}
	run("stop.sh")
	down := time.Now()
	time.Sleep(3 * time.Second)
	run("start.sh")
	t.Logf("node was down %v", time.Since(down).Round(time.Second))
	close(restarted)
	wg.Wait()
	if failures.Load() == 0 {
		t.Error("no Write failed while the node was down")
	}
	if got := count(t, c, ns, ""); got != batches*per {
		t.Fatalf("%d documents after the restart, want %d", got, batches*per)
	}
	t.Logf("failed writes while down: %d; stats %+v", failures.Load(), s.Stats())
}
