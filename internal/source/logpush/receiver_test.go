package logpush

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/decode"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/telemetry"
)

const testSecret = "s3cret-s3cret-s3cret"

// fakeConsumer records deliveries; fail, when set, decides the error of
// each call (n counts calls from 1).
// value reads a counter.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

type fakeConsumer struct {
	mu    sync.Mutex
	calls int
	got   []event.Delivery
	fail  func(n int, d *event.Delivery) error
	block chan struct{} // when set, Consume waits for it (or ctx)
}

func (c *fakeConsumer) Consume(ctx context.Context, d *event.Delivery) (event.Result, error) {
	if c.block != nil {
		select {
		case <-c.block:
		case <-ctx.Done():
			return event.Result{}, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		if err := c.fail(c.calls, d); err != nil {
			return event.Result{}, err
		}
	}
	dd := *d
	dd.Body = bytes.Clone(d.Body)
	c.got = append(c.got, dd)
	n := 0
	_ = decode.Lines(d.Body, 0, func(int, []byte, error) error { n++; return nil })
	return event.Result{Records: n, Accepted: n}, nil
}

func (c *fakeConsumer) deliveries() []event.Delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]event.Delivery(nil), c.got...)
}

func (c *fakeConsumer) body() string {
	var b strings.Builder
	for _, d := range c.deliveries() {
		b.Write(d.Body)
	}
	return b.String()
}

// testDatasets stands in for the normalizer's resolver: Cloudflare and
// Elastic names both resolve to the Cloudflare name.
func testDatasets(name string) (string, bool) {
	switch name {
	case "http_requests", "http_request":
		return "http_requests", true
	case "firewall_events", "firewall_event":
		return "firewall_events", true
	}
	return "", false
}

type testServer struct {
	rv      *Receiver
	url     string
	cons    *fakeConsumer
	metrics *telemetry.Metrics
	client  *http.Client
	logs    *syncBuffer
}

func start(t testing.TB, cons *fakeConsumer, mutate func(*Config)) *testServer {
	t.Helper()
	c := Config{Listen: "127.0.0.1:0", Secret: testSecret}
	if mutate != nil {
		mutate(&c)
	}
	c.SetDefaults()
	logs := &syncBuffer{}
	m := telemetry.NewMetrics()
	rv, err := New("lp", c, source.Deps{
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:  m,
		Datasets: testDatasets,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cons == nil {
		cons = &fakeConsumer{}
	}
	if err := rv.Start(context.Background(), cons); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rv.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	scheme := "http"
	if c.TLS.CertFile != "" {
		scheme = "https"
	}
	return &testServer{rv: rv, url: scheme + "://" + rv.Addr(), cons: cons, metrics: m, client: &http.Client{Timeout: 30 * time.Second}, logs: logs}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func gz(t testing.TB, parts ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&out)
		_, _ = io.WriteString(w, p)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

const ndjson = `{"RayID":"1","ClientIP":"192.0.2.1"}
{"RayID":"2","ClientIP":"192.0.2.2"}
{"RayID":"3","ClientIP":"192.0.2.3"}
`

var (
	authHdr = map[string]string{"X-Flarehose-Secret": testSecret}
	gzHdr   = map[string]string{"X-Flarehose-Secret": testSecret, "Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"}
)

func hdr(base map[string]string, kv ...string) map[string]string {
	h := map[string]string{}
	for k, v := range base {
		h[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(h, kv[i])
		} else {
			h[kv[i]] = kv[i+1]
		}
	}
	return h
}

func TestReceiver(t *testing.T) {
	errBoom := errors.New("disk on fire")
	longLine := `{"a":"` + strings.Repeat("x", 3000) + `"}`
	bigPlain := strings.Repeat(`{"RayID":"abcdef","ClientIP":"192.0.2.1"}`+"\n", 2000)
	for _, tc := range []struct {
		name     string
		method   string
		path     string
		hdr      map[string]string
		body     []byte
		cfg      func(*Config)
		fail     func(n int, d *event.Delivery) error
		code     int
		respHas  string
		respHdr  map[string]string
		want     string // concatenated delivered bodies
		chunks   int    // deliveries; -1: at least 2
		dataset  string
		dropped  float64 // validation probes counted
		notAlive bool
	}{
		{name: "gzip", hdr: gzHdr, body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1, dataset: "http_requests"},
		{name: "plain", hdr: authHdr, body: []byte(ndjson), code: 200, want: ndjson, chunks: 1, dataset: "http_requests"},
		{name: "gzip by magic without header", hdr: authHdr, body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1},
		{name: "any content type", hdr: hdr(gzHdr, "Content-Type", "application/x-whatever"), body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1},
		{name: "crlf and no final newline", hdr: authHdr, body: []byte("{\"a\":1}\r\n{\"b\":2}"), code: 200, want: "{\"a\":1}\r\n{\"b\":2}", chunks: 1},
		{name: "concatenated gzip members", hdr: gzHdr, body: gz(t, ndjson[:37], ndjson[37:80], ndjson[80:]), code: 200, want: ndjson, chunks: 1},
		{name: "elastic dataset name", path: "/logpush/http_request", hdr: gzHdr, body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1, dataset: "http_requests"},
		{name: "trailing slash", path: "/logpush/firewall_events/", hdr: gzHdr, body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1, dataset: "firewall_events"},
		{name: "query string ignored", path: "/logpush/http_requests?tags=host:example.com,dataset:http_requests", hdr: gzHdr, body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1},
		{name: "probe json", hdr: gzHdr, body: gz(t, `{"content":"tests"}`), code: 200, dropped: 1},
		{name: "probe test", hdr: gzHdr, body: gz(t, "test"), code: 200, dropped: 1},
		{name: "probe plain with whitespace", hdr: authHdr, body: []byte("  {\"content\":\"tests\"}\n"), code: 200, dropped: 1},
		{name: "empty body", hdr: authHdr, body: nil, code: 200, respHas: "empty"},
		{name: "blank body", hdr: authHdr, body: []byte("\n \r\n"), code: 200},
		{name: "wrong secret", hdr: hdr(gzHdr, "X-Flarehose-Secret", "nope"), body: gz(t, ndjson), code: 401},
		{name: "secret prefix is not the secret", hdr: hdr(gzHdr, "X-Flarehose-Secret", testSecret[:10]), body: gz(t, ndjson), code: 401},
		{name: "missing secret", hdr: hdr(gzHdr, "X-Flarehose-Secret", ""), body: gz(t, ndjson), code: 401},
		{name: "secret header configurable", cfg: func(c *Config) { c.SecretHeader = "X-Other" }, hdr: hdr(gzHdr, "X-Flarehose-Secret", "", "X-Other", testSecret), body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1},
		{name: "basic auth", cfg: basic, hdr: hdr(gzHdr, "X-Flarehose-Secret", "", "Authorization", basicHdr("cf", "p4ssw0rd-p4ssw0rd")), body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1},
		{name: "basic auth and secret both accepted", cfg: basic, hdr: gzHdr, body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1},
		{name: "basic auth wrong password", cfg: basic, hdr: hdr(gzHdr, "X-Flarehose-Secret", "", "Authorization", basicHdr("cf", "wrong")), body: gz(t, ndjson), code: 401,
			respHdr: map[string]string{"WWW-Authenticate": `Basic realm="flarehose", charset="UTF-8"`}},
		{name: "basic auth only, no header", cfg: func(c *Config) { basic(c); c.Secret = "" }, hdr: gzHdr, body: gz(t, ndjson), code: 401},
		{name: "insecure no auth", cfg: func(c *Config) { c.Secret, c.InsecureNoAuth = "", true }, hdr: map[string]string{"Content-Encoding": "gzip"}, body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1},
		{name: "GET dataset", method: "GET", hdr: authHdr, code: 405, respHdr: map[string]string{"Allow": "POST"}},
		{name: "PUT dataset", method: "PUT", hdr: gzHdr, body: gz(t, ndjson), code: 405, respHdr: map[string]string{"Allow": "POST"}},
		{name: "unknown dataset", path: "/logpush/nope", hdr: gzHdr, body: gz(t, ndjson), code: 404, respHas: `unknown dataset "nope"`},
		{name: "unknown dataset needs auth first", path: "/logpush/nope", hdr: hdr(gzHdr, "X-Flarehose-Secret", ""), body: gz(t, ndjson), code: 401},
		{name: "no dataset", path: "/logpush/", hdr: gzHdr, body: gz(t, ndjson), code: 404},
		{name: "nested path", path: "/logpush/http_requests/x", hdr: gzHdr, body: gz(t, ndjson), code: 404},
		{name: "outside prefix", path: "/other", hdr: gzHdr, body: gz(t, ndjson), code: 404},
		{name: "alive page", method: "GET", path: "/", code: 200, respHas: "flarehose logpush receiver", notAlive: true},
		{name: "bad gzip", hdr: gzHdr, body: append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, "garbage garbage"...), code: 400, respHas: "bad gzip"},
		{name: "truncated gzip", hdr: gzHdr, body: gz(t, ndjson)[:40], code: 400, respHas: "unexpected end"},
		{name: "gzip header but plain body", hdr: gzHdr, body: []byte(ndjson), code: 400, respHas: "gzip magic"},
		{name: "unsupported encoding", hdr: hdr(gzHdr, "Content-Encoding", "br"), body: []byte("xx"), code: 415},
		{name: "json array body", hdr: gzHdr, body: gz(t, `[{"a":1},{"b":2}]`), code: 415, respHas: "JSON array"},
		{name: "wrapped document", hdr: gzHdr, body: gz(t, "{\"events\":[\n  {\"info\":{\"a\":1}},\n  {\"info\":{\"b\":2}}\n]}\n"), code: 415, respHas: "output_options"},
		{name: "non json lines handed on", hdr: gzHdr, body: gz(t, "not json\n{\"a\":1}\n\"csv\",1\n"), code: 200, want: "not json\n{\"a\":1}\n\"csv\",1\n", chunks: 1},
		{name: "huge line truncated and handed on", cfg: func(c *Config) { c.MaxLineBytes = 1024 }, hdr: gzHdr, body: gz(t, "{\"a\":1}\n"+longLine+"\n{\"b\":2}\n"), code: 200,
			want: "{\"a\":1}\n" + longLine[:1024] + decode.TruncationMarker + fmt.Sprintf(":%d\n", len(longLine)) + "{\"b\":2}\n", chunks: 1},
		{name: "content-length over max body", cfg: func(c *Config) { c.MaxBodyBytes = 100 }, hdr: authHdr, body: []byte(bigPlain), code: 413, respHas: "max_body_bytes"},
		{name: "decompressed over max", cfg: func(c *Config) { c.MaxDecompressedBytes = 1000 }, hdr: gzHdr, body: gz(t, bigPlain), code: 413, respHas: "max_decompressed_bytes"},
		{name: "exactly max decompressed", cfg: func(c *Config) { c.MaxDecompressedBytes = config.ByteSize(len(ndjson)) }, hdr: gzHdr, body: gz(t, ndjson), code: 200, want: ndjson, chunks: 1},
		{name: "chunks", cfg: func(c *Config) { c.ChunkBytes = 4096 }, hdr: gzHdr, body: gz(t, bigPlain), code: 200, want: bigPlain, chunks: -1},
		{name: "backpressure", hdr: gzHdr, body: gz(t, ndjson), fail: always(event.ErrBackpressure), code: 429, respHdr: map[string]string{"Retry-After": "30"}},
		{name: "backpressure retry after configurable", cfg: func(c *Config) { c.RetryAfter = 1500 * time.Millisecond }, hdr: gzHdr, body: gz(t, ndjson), fail: always(event.ErrBackpressure), code: 429, respHdr: map[string]string{"Retry-After": "2"}},
		{name: "closed", hdr: gzHdr, body: gz(t, ndjson), fail: always(fmt.Errorf("queue: %w", event.ErrClosed)), code: 503, respHdr: map[string]string{"Retry-After": "30"}},
		{name: "consumer unknown dataset", hdr: gzHdr, body: gz(t, ndjson), fail: always(event.ErrUnknownDataset), code: 404},
		{name: "consumer error", hdr: gzHdr, body: gz(t, ndjson), fail: always(errBoom), code: 500, respHas: "retry later"},
		{name: "consumer error mid chunks", cfg: func(c *Config) { c.ChunkBytes = 4096 }, hdr: gzHdr, body: gz(t, bigPlain),
			fail: func(n int, _ *event.Delivery) error {
				if n == 3 {
					return errBoom
				}
				return nil
			}, code: 500, respHas: "after 2 chunk(s) were stored", chunks: 2},
		{name: "backpressure mid chunks", cfg: func(c *Config) { c.ChunkBytes = 4096 }, hdr: gzHdr, body: gz(t, bigPlain),
			fail: func(n int, _ *event.Delivery) error {
				if n == 2 {
					return event.ErrBackpressure
				}
				return nil
			}, code: 429, chunks: 1, respHdr: map[string]string{"Retry-After": "30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cons := &fakeConsumer{fail: tc.fail}
			s := start(t, cons, tc.cfg)
			method, path := tc.method, tc.path
			if method == "" {
				method = "POST"
			}
			if path == "" {
				path = "/logpush/http_requests"
			}
			req, err := http.NewRequest(method, s.url+path, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			respBody, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, respBody, tc.code)
			}
			if !strings.Contains(string(respBody), tc.respHas) || bytes.Count(respBody, []byte("\n")) != 1 {
				t.Fatalf("response %q, want one line with %q", respBody, tc.respHas)
			}
			for k, v := range tc.respHdr {
				if got := resp.Header.Get(k); got != v {
					t.Fatalf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Retry-After"); got != "" && tc.respHdr["Retry-After"] == "" {
				t.Fatalf("unexpected Retry-After %q", got)
			}
			ds := cons.deliveries()
			switch {
			case tc.chunks == -1 && len(ds) < 2:
				t.Fatalf("%d deliveries, want several", len(ds))
			case tc.chunks >= 0 && len(ds) != tc.chunks:
				t.Fatalf("%d deliveries, want %d", len(ds), tc.chunks)
			}
			if tc.want != "" && cons.body() != tc.want {
				t.Fatalf("delivered %q\nwant %q", clip(cons.body(), 300), clip(tc.want, 300))
			}
			for i, d := range ds {
				if d.Source != "lp" || d.Origin == "" || d.Received.IsZero() {
					t.Fatalf("delivery %d: %+v", i, d)
				}
				if tc.dataset != "" && d.Dataset != tc.dataset {
					t.Fatalf("dataset %q, want %q", d.Dataset, tc.dataset)
				}
				if i < len(ds)-1 && !bytes.HasSuffix(d.Body, []byte("\n")) {
					t.Fatalf("chunk %d does not end at a line end", i)
				}
			}
			if got := value(s.metrics.RecordsDropped.WithLabelValues("http_requests", DropReasonProbe)); got != tc.dropped {
				t.Fatalf("dropped probes %v, want %v", got, tc.dropped)
			}
			want := 1.0
			if tc.notAlive {
				want = 0
			}
			if got := value(s.metrics.SourceRequests.WithLabelValues("lp", fmt.Sprint(tc.code))); got != want {
				t.Fatalf("source_requests_total{code=%d} = %v, want %v", tc.code, got, want)
			}
			if strings.Contains(s.logs.String(), testSecret) {
				t.Fatal("the secret is in the logs")
			}
		})
	}
}

func basic(c *Config) { c.BasicAuth = BasicAuth{Username: "cf", Password: "p4ssw0rd-p4ssw0rd"} }

func basicHdr(u, p string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(u, p)
	return r.Header.Get("Authorization")
}

func always(err error) func(int, *event.Delivery) error {
	return func(int, *event.Delivery) error { return err }
}

func TestMetrics(t *testing.T) {
	s := start(t, nil, nil)
	body := gz(t, ndjson)
	for _, secret := range []string{testSecret, testSecret, "not-the-secret-xyz"} {
		req, _ := http.NewRequest("POST", s.url+"/logpush/http_requests", bytes.NewReader(body))
		req.Header.Set("X-Flarehose-Secret", secret)
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	m := s.metrics
	if got := value(m.SourceRequests.WithLabelValues("lp", "200")); got != 2 {
		t.Fatalf("200s: %v", got)
	}
	if got := value(m.SourceRequests.WithLabelValues("lp", "401")); got != 1 {
		t.Fatalf("401s: %v", got)
	}
	if got := value(m.SourceBytes.WithLabelValues("lp")); got != float64(2*len(body)) {
		t.Fatalf("bytes %v, want %d (401 reads nothing)", got, 2*len(body))
	}
	var hist dto.Metric
	if err := m.AckLatency.WithLabelValues("lp").(prometheus.Metric).Write(&hist); err != nil || hist.GetHistogram().GetSampleCount() != 2 {
		t.Fatalf("ack latency: %v %v", hist.GetHistogram().GetSampleCount(), err)
	}
	// The pipeline counts records (per delivery); the receiver does not.
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "flarehose_source_records_total" && len(f.GetMetric()) > 0 {
			t.Fatal("receiver counted source records")
		}
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "status=401") || !strings.Contains(logs, "level=DEBUG") {
		t.Fatalf("logs:\n%s", logs)
	}
	if strings.Contains(logs, testSecret) || strings.Contains(logs, "not-the-secret-xyz") {
		t.Fatal("a secret is in the logs")
	}
}

// A body sent with chunked encoding (no Content-Length) over max_body_bytes.
func TestOversizedStreamingBody(t *testing.T) {
	s := start(t, nil, func(c *Config) { c.MaxBodyBytes = 64 << 10 })
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte(`{"a":1}`+"\n"), 1024)
		for i := 0; i < 1000; i++ {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	defer pr.Close()
	req, _ := http.NewRequest("POST", s.url+"/logpush/http_requests", pr)
	req.Header.Set("X-Flarehose-Secret", testSecret)
	code := doMaybeCut(t, s, req)
	if code != 413 {
		t.Fatalf("status %d", code)
	}
}

// doMaybeCut sends a request whose body the server stops reading. Go's
// client may report the write error instead of the response; the server's
// metrics say what it answered.
func doMaybeCut(t *testing.T, s *testServer, req *http.Request) int {
	t.Helper()
	resp, err := s.client.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Logf("client saw %v; using the server's metrics", err)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, code := range []int{200, 400, 408, 413, 500} {
			if value(s.metrics.SourceRequests.WithLabelValues("lp", fmt.Sprint(code))) > 0 {
				return code
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

// A gzip bomb: 10 GB of zeros, compressed on the fly, must cost bounded
// memory and get 413 once past max_decompressed_bytes.
func TestGzipBomb(t *testing.T) {
	t.Run("zeros", func(t *testing.T) { testGzipBomb(t, make([]byte, 4<<20)) })
	// Records: chunks are handed on until the limit, then 413.
	t.Run("lines", func(t *testing.T) { testGzipBomb(t, bytes.Repeat([]byte(`{"a":1}`+"\n"), 1<<19)) })
}

func testGzipBomb(t *testing.T, block []byte) {
	const limit = 8 << 20
	cons := &fakeConsumer{}
	s := start(t, cons, func(c *Config) {
		c.MaxDecompressedBytes = limit
		c.ChunkBytes = 1 << 20
		c.MaxLineBytes = 1 << 20
		c.MaxBodyBytes = 1 << 40
	})
	// One gzip member of the block, compressed once and sent over and over:
	// concatenated members are one stream to the receiver, so this is a
	// 10 GiB bomb that costs the client no CPU (a single member would make
	// the client compress gigabytes while the socket buffers fill).
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(block)
	zw.Close()
	pr, pw := io.Pipe()
	var sent atomic.Int64
	go func() {
		for n := int64(0); n < 10<<30; n += int64(len(block)) { // 10 GiB
			if _, err := pw.Write(member.Bytes()); err != nil {
				pw.CloseWithError(err)
				return
			}
			sent.Add(int64(len(block)))
		}
		pw.Close()
	}()
	defer pr.Close()
	req, _ := http.NewRequest("POST", s.url+"/logpush/http_requests", pr)
	req.Header.Set("X-Flarehose-Secret", testSecret)
	req.Header.Set("Content-Encoding", "gzip")

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	code := doMaybeCut(t, s, req)
	runtime.ReadMemStats(&after)
	if code != 413 {
		t.Fatalf("status %d, want 413", code)
	}
	// Nothing past the limit was handed on or even decompressed. (Zeros are
	// one line with no newline: cut at max_line_bytes, never handed on
	// since the limit comes first.)
	var delivered int
	for _, d := range cons.deliveries() {
		delivered += len(d.Body)
	}
	if delivered > limit {
		t.Fatalf("delivered %d bytes, limit %d", delivered, limit)
	}
	if hasLines := bytes.IndexByte(block, '\n') >= 0; hasLines != (delivered > 0) {
		t.Fatalf("delivered %d bytes", delivered)
	}
	// Allocation over the whole exchange (client gzip writer included) is a
	// few MB, not the gigabytes the bomb expands to.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Fatalf("allocated %d MiB for a bomb with an %d MiB limit", alloc>>20, limit>>20)
	} else {
		t.Logf("allocated %.1f MiB; the client had sent %d MiB (decompressed) when the server hung up", float64(alloc)/(1<<20), sent.Load()>>20)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, certFile, keyFile := selfSigned(t, dir)
	cons := &fakeConsumer{}
	s := start(t, cons, func(c *Config) { c.TLS = TLS{CertFile: certFile, KeyFile: keyFile} })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
		if proto == "HTTP/1.1" {
			tr.ForceAttemptHTTP2 = false
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		client := &http.Client{Transport: tr}
		req, _ := http.NewRequest("POST", s.url+"/logpush/http_requests", bytes.NewReader(gz(t, ndjson)))
		req.Header.Set("X-Flarehose-Secret", testSecret)
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Proto != proto {
			t.Fatalf("status %d over %s, want 200 over %s", resp.StatusCode, resp.Proto, proto)
		}
	}
	if cons.body() != ndjson+ndjson {
		t.Fatalf("delivered %q", cons.body())
	}
	// Plain http to the TLS port fails.
	resp, err := http.Post("http://"+s.rv.Addr()+"/logpush/http_requests", "text/plain", strings.NewReader(ndjson))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain http accepted on the TLS port")
		}
	}
}

func TestTLSBadFiles(t *testing.T) {
	c := Config{Listen: "127.0.0.1:0", Secret: testSecret, TLS: TLS{CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem"}}
	c.SetDefaults()
	rv, err := New("lp", c, source.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rv.Start(context.Background(), &fakeConsumer{}); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("Start: %v", err)
	}
}

func selfSigned(t *testing.T, dir string) (certPEM []byte, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "flarehose test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPEM, certFile, keyFile
}

// A client that sends part of its body and stalls gets 408 after
// read_timeout, and nothing is handed on.
func TestSlowClient(t *testing.T) {
	for _, tc := range []struct {
		name string
		head string
		body string
	}{
		{"stalls mid body", "Content-Length: 1000\r\n", `{"a":1}` + "\n" + `{"b":`},
		{"stalls before body", "Content-Length: 1000\r\n", ""},
		{"chunked stalls", "Transfer-Encoding: chunked\r\n", "8\r\n{\"a\":1}\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cons := &fakeConsumer{}
			s := start(t, cons, func(c *Config) { c.ReadTimeout = 300 * time.Millisecond })
			conn, err := net.Dial("tcp", s.rv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			t0 := time.Now()
			fmt.Fprintf(conn, "POST /logpush/http_requests HTTP/1.1\r\nHost: x\r\nX-Flarehose-Secret: %s\r\n%s\r\n%s", testSecret, tc.head, tc.body)
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("status %d, want 408", resp.StatusCode)
			}
			if el := time.Since(t0); el < 250*time.Millisecond || el > 3*time.Second {
				t.Fatalf("answered after %v, read_timeout 300ms", el)
			}
			if n := len(cons.deliveries()); n != 0 {
				t.Fatalf("%d deliveries", n)
			}
		})
	}
}

// Consumer time does not count against read_timeout.
func TestSlowConsumerIsNotAReadTimeout(t *testing.T) {
	cons := &fakeConsumer{fail: func(int, *event.Delivery) error { time.Sleep(200 * time.Millisecond); return nil }}
	s := start(t, cons, func(c *Config) { c.ReadTimeout = 100 * time.Millisecond; c.ChunkBytes = 4096 })
	body := strings.Repeat(`{"RayID":"abcdef","ClientIP":"192.0.2.1"}`+"\n", 300)
	req, _ := http.NewRequest("POST", s.url+"/logpush/http_requests", bytes.NewReader(gz(t, body)))
	req.Header.Set("X-Flarehose-Secret", testSecret)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || cons.body() != body {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	cons := &fakeConsumer{block: make(chan struct{})}
	s := start(t, cons, func(c *Config) { c.MaxConcurrent = 1 })
	s.rv.admitWait = 100 * time.Millisecond
	post := func() (*http.Response, error) {
		req, _ := http.NewRequest("POST", s.url+"/logpush/http_requests", bytes.NewReader(gz(t, ndjson)))
		req.Header.Set("X-Flarehose-Secret", testSecret)
		return s.client.Do(req)
	}
	first := make(chan int)
	go func() {
		resp, err := post()
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	waitFor(t, func() bool { return s.rv.active.Load() == 1 })
	time.Sleep(50 * time.Millisecond) // let it take the slot
	resp, err := post()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" {
		t.Fatalf("second upload: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(cons.block)
	if code := <-first; code != 200 {
		t.Fatalf("first upload: %d", code)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached")
}

// Stop waits for an upload in flight, and refuses new connections.
func TestGracefulStop(t *testing.T) {
	cons := &fakeConsumer{block: make(chan struct{})}
	c := Config{Listen: "127.0.0.1:0", Secret: testSecret}
	c.SetDefaults()
	rv, err := New("lp", c, source.Deps{Datasets: testDatasets})
	if err != nil {
		t.Fatal(err)
	}
	if err := rv.Start(context.Background(), cons); err != nil {
		t.Fatal(err)
	}
	addr := rv.Addr()
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+addr+"/logpush/http_requests", strings.NewReader(ndjson))
		req.Header.Set("X-Flarehose-Secret", testSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	waitFor(t, func() bool { return rv.active.Load() == 1 })
	stopped := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- rv.Stop(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("new connection accepted while stopping")
	}
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v with an upload in flight", err)
	default:
	}
	close(cons.block)
	if code := <-done; code != 200 {
		t.Fatalf("in-flight upload got %d", code)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if cons.body() != ndjson {
		t.Fatal("in-flight upload not consumed")
	}
}

// When Stop's context ends first, in-flight consumers are cancelled and Stop
// returns the context's error.
func TestStopTimeout(t *testing.T) {
	cons := &fakeConsumer{block: make(chan struct{})} // never released: only ctx ends it
	c := Config{Listen: "127.0.0.1:0", Secret: testSecret}
	c.SetDefaults()
	rv, _ := New("lp", c, source.Deps{Datasets: testDatasets})
	if err := rv.Start(context.Background(), cons); err != nil {
		t.Fatal(err)
	}
	go func() {
		req, _ := http.NewRequest("POST", "http://"+rv.Addr()+"/logpush/http_requests", strings.NewReader(ndjson))
		req.Header.Set("X-Flarehose-Secret", testSecret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, func() bool { return rv.active.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := rv.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v", err)
	}
	waitFor(t, func() bool { return rv.active.Load() == 0 })
	if len(cons.deliveries()) != 0 {
		t.Fatal("cancelled upload was consumed")
	}
}

func TestStartErrors(t *testing.T) {
	c := Config{Listen: "127.0.0.1:0", Secret: testSecret}
	c.SetDefaults()
	rv, _ := New("lp", c, source.Deps{})
	// As a bare http.Handler before Start: 503, not a panic.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/logpush/http_requests", strings.NewReader(ndjson))
	req.Header.Set("X-Flarehose-Secret", testSecret)
	rv.ServeHTTP(rec, req)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("before Start: %d", rec.Code)
	}
	if err := rv.Start(context.Background(), nil); err == nil {
		t.Fatal("Start without consumer")
	}
	if err := rv.Start(context.Background(), &fakeConsumer{}); err != nil {
		t.Fatal(err)
	}
	defer rv.Stop(context.Background())
	if err := rv.Start(context.Background(), &fakeConsumer{}); err == nil {
		t.Fatal("second Start")
	}
	c.Listen = rv.Addr() // taken
	rv2, _ := New("lp2", c, source.Deps{})
	if err := rv2.Start(context.Background(), &fakeConsumer{}); err == nil {
		t.Fatal("Start on a used port")
	}
	if err := rv2.Stop(context.Background()); err != nil {
		t.Fatalf("Stop of a never-started receiver: %v", err)
	}
}

// Without a resolver, any sane dataset name is passed on and the consumer
// decides.
func TestNoResolver(t *testing.T) {
	cons := &fakeConsumer{fail: func(_ int, d *event.Delivery) error {
		if d.Dataset != "dns_logs" {
			return event.ErrUnknownDataset
		}
		return nil
	}}
	c := Config{Listen: "127.0.0.1:0", Secret: testSecret}
	c.SetDefaults()
	rv, _ := New("lp", c, source.Deps{})
	if err := rv.Start(context.Background(), cons); err != nil {
		t.Fatal(err)
	}
	defer rv.Stop(context.Background())
	for path, want := range map[string]int{"dns_logs": 200, "made_up": 404, "Bad%20Name": 404} {
		req, _ := http.NewRequest("POST", "http://"+rv.Addr()+"/logpush/"+path, strings.NewReader(ndjson))
		req.Header.Set("X-Flarehose-Secret", testSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		errHas string // "" means valid
	}{
		{"defaults with secret", func(c *Config) { c.Secret = testSecret }, ""},
		{"basic only", func(c *Config) { basic(c) }, ""},
		{"insecure", func(c *Config) { c.InsecureNoAuth = true }, ""},
		{"no auth", func(c *Config) {}, "no authentication configured"},
		{"insecure plus secret", func(c *Config) { c.InsecureNoAuth, c.Secret = true, testSecret }, "insecure_no_auth is set together"},
		{"short secret", func(c *Config) { c.Secret = "short" }, "at least 16"},
		{"basic without password", func(c *Config) { c.BasicAuth.Username = "u" }, "both username and password"},
		{"basic short password", func(c *Config) { c.BasicAuth = BasicAuth{"u", "p"} }, "basic_auth.password"},
		{"basic colon", func(c *Config) { c.BasicAuth = BasicAuth{"u:v", "p4ssw0rd-p4ssw0rd"} }, "must not contain"},
		{"bad listen", func(c *Config) { c.Secret, c.Listen = testSecret, "9560" }, "listen"},
		{"bad prefix", func(c *Config) { c.Secret, c.PathPrefix = testSecret, "logpush" }, "path_prefix"},
		{"prefix with query", func(c *Config) { c.Secret, c.PathPrefix = testSecret, "/a?b/" }, "path_prefix"},
		{"bad header", func(c *Config) { c.Secret, c.SecretHeader = testSecret, "X Bad" }, "secret_header"},
		{"half tls", func(c *Config) { c.Secret, c.TLS.CertFile = testSecret, "c.pem" }, "tls needs both"},
		{"negative size", func(c *Config) { c.Secret, c.ChunkBytes = testSecret, -1 }, "chunk_bytes"},
		{"huge line", func(c *Config) { c.Secret, c.MaxLineBytes = testSecret, 2<<30 }, "max_line_bytes"},
		{"retry after", func(c *Config) { c.Secret, c.RetryAfter = testSecret, time.Millisecond }, "retry_after"},
		{"timeout", func(c *Config) { c.Secret, c.ReadTimeout = testSecret, -time.Second }, "read_timeout"},
		{"concurrency", func(c *Config) { c.Secret, c.MaxConcurrent = testSecret, -1 }, "max_concurrent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			tc.mutate(&c)
			c.SetDefaults()
			err := c.Validate()
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("Validate() = %v, want %q", err, tc.errHas)
			}
			if _, nerr := New("x", c, source.Deps{}); (nerr == nil) != (err == nil) {
				t.Fatalf("New and Validate disagree: %v / %v", nerr, err)
			}
		})
	}
	var c Config
	c.SetDefaults()
	if c.Listen != "127.0.0.1:9560" || c.PathPrefix != "/logpush/" || c.SecretHeader != "X-Flarehose-Secret" ||
		c.MaxBodyBytes != 256<<20 || c.MaxDecompressedBytes != 1<<30 || c.MaxLineBytes != 16<<20 || c.ChunkBytes != 8<<20 ||
		c.RetryAfter != 30*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
}
