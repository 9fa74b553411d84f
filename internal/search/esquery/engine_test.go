package esquery

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
)

// These tests run the DuckDB store's search tests (internal/store) against
// a real OpenSearch/Elasticsearch node holding the same fixture, written by
// the elasticsearch sink: one query means the same on both stores. They
// need FLAREHOSE_OPENSEARCH_URL (test/opensearch/start.sh starts a node).

// Short names of the testdata events (as in the store's tests).
var alias = map[string]string{
	"h1": "8a1b2c3d4e5f6001",
	"h2": "8a1b2c3d4e5f6002",
	"h3": "8a1b2c3d4e5f6003",
	"h4": "8a1b2c3d4e5f6004",
	"h5": "8a1b2c3d4e5f6005",
	"f1": "8a1b2c3d4e5f7001",
	"f2": "8a1b2c3d4e5f7002",
	"f3": "8a1b2c3d4e5f7003",
	"a1": "73fd39ed-5aab-4a2a-b93c-c9a4abf0c425",
	"a2": "0c3e1c8a-1f7e-4d6e-9a63-2d1f6b6f0b11",
	"o1": "8a1b2c3d4e5f5999",
}

func names(ids []string) []string {
	rev := map[string]string{}
	for k, v := range alias {
		rev[v] = k
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if n, ok := rev[id]; ok {
			out[i] = n
		} else {
			out[i] = id
		}
	}
	slices.Sort(out)
	return out
}

func set(s string) []string {
	if s == "" {
		return []string{}
	}
	out := strings.Fields(s)
	slices.Sort(out)
	return out
}

var (
	day       = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	at        = func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	allRecent = "h1 h2 h3 h4 h5 f1 f2 f3 a1 a2"
)

func loadTestdata(t testing.TB) *event.Batch {
	t.Helper()
	f, err := os.Open("testdata/events.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b event.Batch
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Dataset string          `json:"dataset"`
			ID      string          `json:"id"`
			Doc     json.RawMessage `json:"doc"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		var ts struct {
			T time.Time `json:"@timestamp"`
		}
		if err := json.Unmarshal(line.Doc, &ts); err != nil {
			t.Fatal(err)
		}
		b.Records = append(b.Records, event.Record{Dataset: line.Dataset, ID: line.ID, Time: ts.T.UnixNano(), Doc: line.Doc})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return &b
}

var (
	fillOnce sync.Once
	fillErr  error
	filled   *Engine
)

// filledEngine writes the fixture once (its own namespace) through the
// sink and returns an engine over it.
func filledEngine(t *testing.T) *Engine {
	t.Helper()
	url := os.Getenv("FLAREHOSE_OPENSEARCH_URL")
	if url == "" {
		t.Skip("FLAREHOSE_OPENSEARCH_URL is not set: start a node with test/opensearch/start.sh and export FLAREHOSE_OPENSEARCH_URL=<its URL> (make test-opensearch does both)")
	}
	fillOnce.Do(func() {
		ns := fmt.Sprintf("esq%d", time.Now().UnixNano()%1e9)
		cfg := elasticsearch.DefaultConfig()
		cfg.URLs = []string{url}
		cfg.Namespace = ns
		cfg.Timeout = config.Duration(30 * time.Second)
		s, err := elasticsearch.New("esquery-test", *cfg, elasticsearch.Options{})
		if err != nil {
			fillErr = err
			return
		}
		ctx := context.Background()
		if fillErr = s.Write(ctx, loadTestdata(t)); fillErr != nil {
			return
		}
		if _, fillErr = s.Client().JSON(ctx, http.MethodPost, "/logs-*-"+ns+"/_refresh", nil); fillErr != nil {
			return
		}
		filled = New(s.Client(), ns)
	})
	if fillErr != nil {
		t.Fatal(fillErr)
	}
	return filled
}

// TestMain drops the fixture's data streams afterwards.
func TestMain(m *testing.M) {
	code := m.Run()
	if filled != nil {
		_, _ = filled.c.Do(context.Background(), elasticsearch.Request{Method: http.MethodDelete, Path: "/_data_stream/logs-*-" + filled.ns})
	}
	os.Exit(code)
}

func searchIDs(t *testing.T, e *Engine, r search.Request) ([]string, error) {
	t.Helper()
	r.Limit = 1000
	res, err := e.Search(context.Background(), r)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	if res.Total != int64(len(ids)) {
		t.Errorf("Total %d, hits %d", res.Total, len(ids))
	}
	return names(ids), nil
}

// TestSearchQueries is the store's query table, unchanged.
func TestSearchQueries(t *testing.T) {
	s := filledEngine(t)
	tests := []struct {
		q    string
		want string
	}{
		{"", allRecent + " o1"},
		{"*", allRecent + " o1"},
		// typed columns
		{"http.response.status_code:403", "h2 f1 f2"},
		{"http.response.status_code:403.0", "h2 f1 f2"},
		{"http.response.status_code >= 400", "h2 h4 h5 f1 f2"},
		{"http.response.status_code:[400 TO 499]", "h2 h5 f1 f2"},
		{"http.response.status_code:{403 TO 500}", "h5"},
		{"http.response.status_code:[403 TO 500}", "h2 h5 f1 f2"},
		{"http.response.status_code < 300", "h1 f3 o1"},
		{"http.response.status_code:(403 OR 500)", "h2 h4 f1 f2"},
		{"http.response.status_code:4*", "h2 h5 f1 f2"},
		{"http.request.method:POST", "h2 f1"},
		{"http.request.method:post", ""}, // keyword fields are case-sensitive, as in Elasticsearch
		{"event.action:block", "f1"},
		{"NOT event.action:block", "h1 h2 h3 h4 h5 f2 f3 a1 a2 o1"},
		{"event.outcome:failure", "a2"},
		{"source.geo.country_iso_code:US", "h1 h4"},
		{"source.as.number:13335", "h1 h4"},
		{"source.as.number >= 4000 AND source.as.number < 5000", "h5"},
		{"url.path:/api/*", "h1 h4 f3"},
		{"url.domain:*.example.com", "h1 h2 h3 h4 h5 f1 f2 f3 o1"},
		{"url.domain:api.example.*", "h1 h4 f3"},
		{"user_agent.name:Googlebot", "h5"},
		{"user.email:*", "a1 a2"},
		{`user.email:"user@example.com"`, "a1"},
		{"user.email:*@example.org", "a2"},
		{"rule.id:7dc666e026974dab84884c73b3e2afe1", "f1"},
		{`rule.name:"Block login brute force"`, "f1"},
		{"rule.name:Bot*", "f2"},
		{"cloudflare_logpush.http_request.zone.name:example.com", "h1 h2 h3 h4 h5 o1"},
		{"http.response.bytes > 2000", "h4 h5 o1"},
		{"http.response.bytes:0", "h3"},
		{"data_stream.dataset:cloudflare_logpush.audit", "a1 a2"},
		{"event.dataset:cloudflare_logpush.firewall_event", "f1 f2 f3"},
		{"_id:8a1b2c3d4e5f6001", "h1"},
		// list column
		{"event.category:authentication", "a1"},
		{"event.category:web", "h1 h2 h4 h5 o1"},
		{"event.category:config*", "a2"},
		{"event.category:*", allRecent + " o1"},
		{"NOT event.category:network", "a1 a2"},
		// IPs and CIDR
		{"source.ip:10.0.0.0/8", "h2 h4 f1"},
		{"source.ip:10.1.2.3", "h2 f1"},
		{"source.ip:10.1.2.3/32", "h2 f1"},
		{"source.ip:::ffff:10.1.2.3", "h2 f1"},
		{"source.ip:2001:db8::/32", "h3 f3"},
		{"source.ip:2001:db8:0:0:0:0:0:1", "h3"},
		{"source.ip:0.0.0.0/0", "h1 h2 h4 h5 f1 f2 a1 a2 o1"},
		{"source.ip:::/0", allRecent + " o1"},
		{"source.ip >= 198.51.100.0 AND source.ip < 198.51.101.0", "h5 f2"},
		{"source.ip:[81.2.69.0 TO 81.2.69.150]", "a1"},
		{"source.ip:10.1.*", "h2 f1"},
		{"destination.ip:198.18.0.0/15", "h1 h2 h3 h4 h5 o1"},
		{"NOT source.ip:10.0.0.0/8", "h1 h3 h5 f2 f3 a1 a2 o1"},
		// time
		{`@timestamp >= "2024-05-01T10:30:00Z"`, "h5 f2 f3 a2"},
		{"@timestamp:[2024-05-01T10:00:00Z TO 2024-05-01T10:10:00Z}", "h1 h2 f1"},
		{"@timestamp < 2024-05-01", "o1"},
		{"@timestamp:2024-05-01T09:00:00Z", "a1"},
		// fields outside the typed columns: JSON path
		{"cloudflare_logpush.http_request.edge.colo.code:FRA", "h1 h2"},
		{"cloudflare_logpush.http_request.edge.colo.code:(LHR OR IAD)", "h3 h4"},
		{"cloudflare_logpush.http_request.edge.colo.code:*", "h1 h2 h3 h4 h5 o1"},
		{"cloudflare_logpush.http_request.edge.colo.code:?", ""},
		{"cloudflare_logpush.firewall_event.action:managed_*", "f2"},
		{"cloudflare_logpush.http_request.edge.response.bytes > 5000", "h4"},
		{"cloudflare_logpush.http_request.edge.response.bytes:[1000 TO 2048]", "h1 h5"},
		{"cloudflare_logpush.http_request.client.asn:13335", "h1 h4"},
		{"cloudflare_logpush.audit.actor.email:user@example.com", "a1"},
		{"cloudflare_logpush.audit.action.type:zone_*", "a2"},
		{"tags:cloudflare_logpush-firewall_event", "f1 f2 f3"},
		{"tags:preserve_original_event", "h1 h2 h3 h4 h5 a1 a2 o1"},
		{"tags:cloudflare_logpush-*", "h1 h2 h3 h4 h5 f1 f2 f3 o1"},
		{"related.ip:81.2.69.142", "a1"},
		{"related.ip:*", "h1 h2 h3 h4 h5 a1 a2 o1"},
		{"url.query:*", "h5"},
		{`labels.note:"[beta] cdn"`, "h3"},
		{`labels.note:\[beta*`, "h3"},
		{`labels.note:beta`, ""},
		{"no.such.field:x", ""},
		{"NOT no.such.field:x", allRecent + " o1"},
		// free text
		{"googlebot", "h5"},
		{`"gateway timeout"`, "h4"},
		{`"said \"hi\" \\ bye"`, "h4"},
		{"*brute*", "f1"},
		{"brute force", "f1"},
		{"brute OR googlebot", "h5 f1"},
		{`"100%_done"`, "h5"},
		{`100%`, "h5"},
		{"nothing-like-this-anywhere", ""},
		// boolean combinations
		{"http.request.method:POST AND source.geo.country_iso_code:DE", "h2 f1"},
		{"(event.action:block OR event.action:managed_challenge) AND NOT source.geo.country_iso_code:CN", "f1"},
		{"source.geo.country_iso_code:GB OR user.email:admin@example.org", "h3 f3 a2"},
		{"NOT (source.geo.country_iso_code:US OR source.geo.country_iso_code:DE) AND http.response.status_code:*", "h3 h5 f2 f3 o1"},
		{"url.path:%", ""},      // LIKE metacharacters in values are literal
		{"url.path:*%_*", "h5"}, // "%_" literally
		{"url.path:/wp-admin_*", ""},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got, err := searchIDs(t, s, search.Request{Query: tt.q})
			if err != nil {
				t.Fatal(err)
			}
			if want := set(tt.want); !slices.Equal(got, want) {
				t.Errorf("Search(%q) = %v, want %v", tt.q, got, want)
			}
		})
	}
}

func TestSearchFilters(t *testing.T) {
	s := filledEngine(t)
	tests := []struct {
		name string
		r    search.Request
		want string
	}{
		{"dataset", search.Request{Dataset: "firewall_events"}, "f1 f2 f3"},
		{"dataset+query", search.Request{Dataset: "http_requests", Query: "source.ip:10.1.2.3"}, "h2"},
		{"since", search.Request{Since: at(10, 45)}, "h5 f3 a2"},
		{"until exclusive", search.Request{Until: at(10, 5)}, "h1 a1 o1"},
		{"range", search.Request{Since: at(10, 0), Until: at(10, 10)}, "h1 h2 f1"},
		{"range+query", search.Request{Since: at(10, 0), Until: at(11, 0), Query: "http.response.status_code >= 400"}, "h2 h4 f1 f2"},
		{"unknown dataset", search.Request{Dataset: "x' OR '1'='1"}, ""},
		{"unicode dataset", search.Request{Dataset: "データ"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := searchIDs(t, s, tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if want := set(tt.want); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestSearchOrderAndPaging(t *testing.T) {
	s := filledEngine(t)
	ctx := context.Background()
	res, err := s.Search(ctx, search.Request{Dataset: "http_requests", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 6 || len(res.Hits) != 2 {
		t.Fatalf("total %d hits %d", res.Total, len(res.Hits))
	}
	if got := names([]string{res.Hits[0].ID}); got[0] != "h5" || !res.Hits[0].Time.Equal(at(11, 0)) {
		t.Errorf("newest first: got %v at %v", got, res.Hits[0].Time)
	}
	if res.Hits[0].Dataset != "http_requests" {
		t.Errorf("dataset %q", res.Hits[0].Dataset)
	}
	var doc map[string]any
	if err := json.Unmarshal(res.Hits[0].Doc, &doc); err != nil || doc["@timestamp"] != "2024-05-01T11:00:00Z" {
		t.Errorf("doc does not round-trip: %v %v", err, doc["@timestamp"])
	}
	res, err = s.Search(ctx, search.Request{Dataset: "http_requests", Limit: 2, Offset: 1, Asc: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := names([]string{res.Hits[0].ID, res.Hits[1].ID}); !slices.Equal(got, []string{"h1", "h2"}) {
		t.Errorf("asc page 2 = %v", got)
	}
	res, err = s.Search(ctx, search.Request{Offset: 100})
	if err != nil || len(res.Hits) != 0 || res.Total != 11 {
		t.Errorf("offset past the end: %v %+v", err, res)
	}
	if _, err := s.Search(ctx, search.Request{Limit: MaxLimit + 1}); !errors.Is(err, search.ErrInvalidQuery) {
		t.Errorf("limit above max: %v", err)
	}
	if _, err := s.Search(ctx, search.Request{Offset: -1}); !errors.Is(err, search.ErrInvalidQuery) {
		t.Errorf("negative offset: %v", err)
	}
}

func TestSearchErrors(t *testing.T) {
	s := filledEngine(t)
	t.Run("dataset", func(t *testing.T) {
		for _, ds := range []string{"\xff", "a\x00b", "x\ny"} {
			if _, err := s.Search(context.Background(), search.Request{Dataset: ds}); !errors.Is(err, search.ErrInvalidQuery) {
				t.Errorf("dataset %q: %v", ds, err)
			}
		}
	})
	for _, q := range []string{
		"http.response.status_code:abc",
		"http.response.status_code >= high",
		"source.ip:not-an-ip",
		"source.ip >= 10.0.0.0/8",
		"@timestamp >= yesterday",
		"@timestamp:now",
		"a AND",
		"(a",
		"source.as.number:[1 TO x]",
	} {
		t.Run(q, func(t *testing.T) {
			_, err := s.Search(context.Background(), search.Request{Query: q})
			if !errors.Is(err, search.ErrInvalidQuery) {
				t.Fatalf("Search(%q) error = %v, want ErrInvalidQuery", q, err)
			}
			if strings.Contains(err.Error(), "SELECT") || strings.Contains(err.Error(), "LINE 1") {
				t.Errorf("error leaks SQL: %v", err)
			}
		})
	}
}

func TestHistogram(t *testing.T) {
	s := filledEngine(t)
	ctx := context.Background()
	bs, width, err := s.Histogram(ctx, search.Request{Since: at(9, 0), Until: at(13, 0)}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if width != time.Hour {
		t.Fatalf("width %v", width)
	}
	want := []search.Bucket{{Start: at(9, 0), Count: 1}, {Start: at(10, 0), Count: 7}, {Start: at(11, 0), Count: 1}, {Start: at(12, 0), Count: 1}}
	if !slices.Equal(bs, want) {
		t.Fatalf("buckets %v, want %v", bs, want)
	}
	// With a query, 10-minute buckets, empty ones filled.
	bs, width, err = s.Histogram(ctx, search.Request{Since: at(10, 0), Until: at(11, 0), Query: "http.response.status_code >= 400"}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if width != 10*time.Minute || len(bs) != 6 {
		t.Fatalf("width %v, %d buckets", width, len(bs))
	}
	counts := make([]int64, len(bs))
	for i, b := range bs {
		counts[i] = b.Count
	}
	if !slices.Equal(counts, []int64{2, 0, 1, 1, 0, 0}) { // h2 f1 | - | h4 | f2 | - | -
		t.Fatalf("counts %v", counts)
	}
	// Open range: derived from the matching events.
	bs, width, err = s.Histogram(ctx, search.Request{Dataset: "audit"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range bs {
		total += b.Count
	}
	if width != time.Hour || total != 2 || !bs[0].Start.Equal(at(9, 0)) || len(bs) != 4 {
		t.Fatalf("open range: width %v, buckets %v", width, bs)
	}
	// Nothing matches: no buckets, no error.
	bs, _, err = s.Histogram(ctx, search.Request{Query: "no.such:thing"}, 10)
	if err != nil || len(bs) != 0 {
		t.Fatalf("empty: %v %v", bs, err)
	}
}

func TestBucketWidth(t *testing.T) {
	for _, tt := range []struct {
		span time.Duration
		n    int
		want time.Duration
	}{
		{time.Hour, 60, time.Minute},
		{time.Hour, 61, time.Minute},
		{time.Hour, 50, 2 * time.Minute},
		{24 * time.Hour, 100, 15 * time.Minute},
		{30 * 24 * time.Hour, 60, 12 * time.Hour},
		{3 * time.Second, 100, time.Second},
		{5000 * 24 * time.Hour, 10, 730 * 24 * time.Hour},
	} {
		if got := BucketWidth(tt.span, tt.n); got != tt.want {
			t.Errorf("BucketWidth(%v, %d) = %v, want %v", tt.span, tt.n, got, tt.want)
		}
	}
}

func TestTop(t *testing.T) {
	s := filledEngine(t)
	ctx := context.Background()
	tests := []struct {
		field string
		r     search.Request
		limit int
		want  string
	}{
		{"source.geo.country_iso_code", search.Request{}, 3, "CN=2 DE=2 GB=2"},
		{"source.geo.country_iso_code", search.Request{Query: "http.response.status_code >= 400"}, 10, "CN=2 DE=2 US=1"},
		{"http.response.status_code", search.Request{}, 3, "200=3 403=3 304=1"},
		{"event.category", search.Request{}, 10, "network=9 web=5 authentication=1 configuration=1"},
		{"cloudflare_logpush.http_request.edge.colo.code", search.Request{Since: day}, 2, "FRA=2 IAD=1"},
		{"data_stream.dataset", search.Request{}, 10, "cloudflare_logpush.http_request=6 cloudflare_logpush.firewall_event=3 cloudflare_logpush.audit=2"},
		{"source.ip", search.Request{Dataset: "firewall_events"}, 10, "10.1.2.3=1 198.51.100.7=1 2001:db8:ffff::5=1"},
		{"@timestamp", search.Request{Dataset: "audit"}, 1, "2024-05-01 09:00:00=1"},
		{"no.such.field", search.Request{}, 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			got, err := s.Top(ctx, tt.r, tt.field, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, c := range got {
				parts = append(parts, fmt.Sprintf("%s=%d", c.Value, c.Count))
			}
			if g := strings.Join(parts, " "); g != tt.want {
				t.Errorf("Top(%s) = %q, want %q", tt.field, g, tt.want)
			}
		})
	}
	if _, err := s.Top(ctx, search.Request{}, "a'b", 10); !errors.Is(err, search.ErrInvalidQuery) {
		t.Errorf("bad field: %v", err)
	}
}
