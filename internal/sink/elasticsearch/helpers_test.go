package elasticsearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
)

// Integration tests run against a real OpenSearch (or Elasticsearch) node
// named by FLAREHOSE_OPENSEARCH_URL; test/opensearch/start.sh starts one.
const urlEnv = "FLAREHOSE_OPENSEARCH_URL"

func nodeURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(urlEnv)
	if u == "" {
		t.Skipf("%s is not set: start a node with test/opensearch/start.sh and export %s=<its URL> (make test-opensearch does both)", urlEnv, urlEnv)
	}
	return strings.TrimRight(u, "/")
}

var nsCounter atomic.Int64

// testNamespace is a namespace of its own per test, so tests sharing the
// node do not see each other's documents.
func testNamespace(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, nsCounter.Add(1))
}

func testConfig(url, ns string) Config {
	c := DefaultConfig()
	c.URLs = []string{url}
	c.Namespace = ns
	c.Retry.Initial = config.Duration(20 * time.Millisecond)
	c.Retry.Max = config.Duration(200 * time.Millisecond)
	c.Timeout = config.Duration(30 * time.Second)
	return *c
}

func newTestSink(t testing.TB, cfg Config, o Options) *Sink {
	t.Helper()
	s, err := New("es-test", cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// adminClient talks to the node directly.
func adminClient(t testing.TB, url string) *Client {
	t.Helper()
	c, err := NewClient(&Config{URLs: []string{url}, Timeout: config.Duration(60 * time.Second), MaxInFlight: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustJSON(t testing.TB, c *Client, method, path string, body any) *fastjson.Value {
	t.Helper()
	var b []byte
	switch x := body.(type) {
	case nil:
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(x); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := c.JSON(context.Background(), method, path, b)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	v, err := fastjson.ParseBytes(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return v
}

// count refreshes and counts the documents of a namespace's data streams.
func count(t testing.TB, c *Client, ns, query string) int {
	t.Helper()
	idx := "logs-*-" + ns
	mustJSON(t, c, http.MethodPost, "/"+idx+"/_refresh?ignore_unavailable=true&allow_no_indices=true", nil)
	path := "/" + idx + "/_count?ignore_unavailable=true&allow_no_indices=true"
	var body any
	if query != "" {
		body = query
	}
	return mustJSON(t, c, http.MethodPost, path, body).GetInt("count")
}

// dropNamespace deletes a namespace's data streams.
func dropNamespace(t testing.TB, c *Client, ns string) {
	t.Helper()
	_, _ = c.Do(context.Background(), Request{Method: http.MethodDelete, Path: "/_data_stream/logs-*-" + ns})
}

// syntheticBatch makes n http_requests records of about docBytes each
// (event.original pads them, as Cloudflare's raw record does), ids
// prefix-start..prefix-(start+n-1).
func syntheticBatch(prefix string, start, n, docBytes int) *event.Batch {
	b := &event.Batch{Records: make([]event.Record, n)}
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	const words = "ClientIP ClientRequestHost www.example.com ClientRequestMethod GET EdgeResponseStatus 200 RayID "
	for i := range n {
		k := start + i
		ts := base.Add(time.Duration(k) * time.Millisecond)
		build := func(orig string) []byte {
			return fmt.Appendf(nil, `{"@timestamp":"%s","data_stream":{"dataset":"cloudflare_logpush.http_request","namespace":"default","type":"logs"},`+
				`"event":{"category":["network","web"],"dataset":"cloudflare_logpush.http_request","kind":"event","type":["info"],"original":"%s"},`+
				`"http":{"request":{"method":"GET"},"response":{"status_code":%d,"bytes":%d},"version":"2"},`+
				`"source":{"ip":"10.%d.%d.%d","as":{"number":%d},"geo":{"country_iso_code":"US"}},"destination":{"ip":"198.18.0.10"},`+
				`"url":{"domain":"www.example.com","path":"/api/v1/items/%d","original":"/api/v1/items/%d?q=1"},`+
				`"user_agent":{"original":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},`+
				`"tags":["preserve_original_event","forwarded"],"cloudflare_logpush":{"http_request":{"ray":{"id":"%s-%d"},"edge":{"colo":{"code":"FRA"}},"client":{"asn":%d}}}}`,
				ts.Format(time.RFC3339Nano), orig, 200+k%5*100, k%50000, (k>>16)&255, (k>>8)&255, k&255, 13335+k%7, k, k, prefix, k, 13335+k%7)
		}
		doc := build("")
		if pad := docBytes - len(doc); pad > 0 {
			orig := strings.Repeat(words, pad/len(words)+1)[:pad]
			doc = build(orig)
		}
		b.Records[i] = event.Record{Dataset: "http_requests", ID: fmt.Sprintf("%s-%d", prefix, k), Time: ts.UnixNano(), Doc: doc}
	}
	return b
}
