package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/telemetry"
)

const secret = "e2e-secret-0123456789"

func testConfig(t *testing.T, dataDir string) *config.Config {
	t.Helper()
	yaml := fmt.Sprintf(`
data_dir: %s
http: {listen: "127.0.0.1:0"}
shutdown_timeout: 20s
sources:
  - type: logpush_http
    listen: 127.0.0.1:0
    secret: %s
sinks:
  - type: duckdb
    retention: 0s
`, dataDir, secret)
	cfg, err := config.Parse([]byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func start(t *testing.T, dataDir string) (*Service, string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := New(testConfig(t, dataDir), log, telemetry.NewMetrics(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := svc.Sources()[0].(interface{ Addr() string }).Addr()
	return svc, "http://" + addr
}

// httpRecord is a small, valid http_requests record.
func httpRecord(i int, ts time.Time) string {
	return fmt.Sprintf(`{"RayID":"%016x","EdgeStartTimestamp":%d,"EdgeEndTimestamp":%d,"ClientIP":"203.0.113.%d","ClientCountry":"de","ClientRequestHost":"shop.example.com","ClientRequestMethod":"%s","ClientRequestURI":"/item/%d","ClientRequestScheme":"https","ClientRequestProtocol":"HTTP/2","EdgeResponseStatus":%d,"ClientRequestUserAgent":"curl/8.5.0","ZoneName":"example.com"}`,
		0x7a00000000000000+i, ts.UnixNano(), ts.Add(20*time.Millisecond).UnixNano(), i%250, []string{"GET", "POST"}[i%2], i, []int{200, 404, 503}[i%3])
}

func push(t *testing.T, base, dataset, body string, headers map[string]string) (int, string) {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(body))
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/logpush/"+dataset, &gz)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-Flarehose-Secret", secret)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// waitTotal polls the engine until it holds want events (sinks commit asynchronously).
func waitTotal(t *testing.T, e search.Engine, q string, want int64) *search.Result {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := e.Search(context.Background(), search.Request{Query: q, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total == want || time.Now().After(deadline) {
			if res.Total != want {
				t.Fatalf("query %q: %d events, want %d", q, res.Total, want)
			}
			return res
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	svc, base := start(t, dir)
	now := time.Now().UTC().Truncate(time.Millisecond)

	var lines []string
	for i := 0; i < 300; i++ {
		lines = append(lines, httpRecord(i, now.Add(-time.Duration(i)*time.Second)))
	}
	// Two bad lines in the middle of a good batch: the batch is stored, they are dead-lettered.
	body := strings.Join(lines[:150], "\n") + "\nnot json at all\n{\"RayID\":\"x\",\n" + strings.Join(lines[150:], "\n") + "\n"

	if code, msg := push(t, base, "http_requests", body, map[string]string{"X-Flarehose-Secret": "wrong"}); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d %s", code, msg)
	}
	if code, msg := push(t, base, "http_requests", `{"content":"tests"}`, nil); code != http.StatusOK {
		t.Fatalf("validation probe: %d %s", code, msg)
	}
	if code, msg := push(t, base, "cloudflare_logpush.http_request", body, nil); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	// Acked means durable: the store may lag, but it must reach every record.
	waitTotal(t, svc.Engine(), "", 300)
	res := waitTotal(t, svc.Engine(), "http.request.method:POST AND http.response.status_code >= 500", 50)
	var doc struct {
		Source struct{ IP string } `json:"source"`
		URL    struct{ Domain string }
	}
	if err := json.Unmarshal(res.Hits[0].Doc, &doc); err != nil || !strings.HasPrefix(doc.Source.IP, "203.0.113.") || doc.URL.Domain != "shop.example.com" {
		t.Errorf("stored document not normalized as expected: %s (%v)", res.Hits[0].Doc, err)
	}

	// The API serves the same store.
	resp, err := http.Get("http://" + svc.HTTPAddr() + "/api/search?" + url.Values{"q": {"source.ip:203.0.113.0/24"}, "since": {"1h"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var api search.Result
	json.NewDecoder(resp.Body).Decode(&api)
	resp.Body.Close()
	if api.Total != 300 {
		t.Errorf("/api/search total = %d, want 300", api.Total)
	}
	if b, err := os.ReadFile(filepath.Join(dir, AddrFile)); err != nil || strings.TrimSpace(string(b)) != svc.HTTPAddr() {
		t.Errorf("address file = %q, %v", b, err)
	}

	if err := svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var dead []deadletter.Entry
	if _, err := deadletter.Read(filepath.Join(dir, "deadletter"), func(e deadletter.Entry) error { dead = append(dead, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(dead) != 2 || dead[0].Line != 151 || dead[0].Raw != "not json at all" || dead[0].Reason == "" {
		t.Errorf("dead letters = %+v", dead)
	}

	// Restart on the same data directory: everything is still there.
	svc2, _ := start(t, dir)
	defer svc2.Shutdown(context.Background())
	waitTotal(t, svc2.Engine(), "", 300)
}

// TestQueuedDataSurvivesRestart stops the service before the sink can
// commit (zero shutdown deadline) and checks the next start delivers it.
func TestQueuedDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	svc, base := start(t, dir)
	now := time.Now().UTC()
	var lines []string
	for i := 0; i < 2000; i++ {
		lines = append(lines, httpRecord(i, now.Add(-time.Duration(i)*time.Millisecond)))
	}
	if code, msg := push(t, base, "http_requests", strings.Join(lines, "\n"), nil); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time to drain: what is not in the store stays queued
	svc.Shutdown(ctx)

	svc2, _ := start(t, dir)
	defer svc2.Shutdown(context.Background())
	waitTotal(t, svc2.Engine(), "", 2000)
}

func TestBadConfigNamesTheProblem(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Sources = append(cfg.Sources, config.Component{Type: "s3_nope", Name: "x", Line: 42, Node: cfg.Sources[0].Node})
	_, err := New(cfg, slog.New(slog.DiscardHandler), telemetry.NewMetrics(), "test")
	if err == nil || !strings.Contains(err.Error(), `line 42: unknown source type "s3_nope"`) {
		t.Fatalf("err = %v", err)
	}
}
