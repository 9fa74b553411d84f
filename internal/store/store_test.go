package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// Short names of the testdata events.
var alias = map[string]string{
	"h1": "8a1b2c3d4e5f6001",                     // GET /api/v1/users 200 203.0.113.10 US FRA
	"h2": "8a1b2c3d4e5f6002",                     // POST /login 403 10.1.2.3 DE FRA
	"h3": "8a1b2c3d4e5f6003",                     // GET /static/app.js 304 2001:db8::1 GB LHR
	"h4": "8a1b2c3d4e5f6004",                     // GET /api/v1/orders 500 10.200.0.5 US IAD, error.message
	"h5": "8a1b2c3d4e5f6005",                     // GET /wp-admin/100%_done 404 198.51.100.7 CN SIN Googlebot
	"f1": "8a1b2c3d4e5f7001",                     // block, 10.1.2.3 DE 403 /login
	"f2": "8a1b2c3d4e5f7002",                     // managed_challenge 198.51.100.7 CN 403
	"f3": "8a1b2c3d4e5f7003",                     // log 2001:db8:ffff::5 GB 200
	"a1": "73fd39ed-5aab-4a2a-b93c-c9a4abf0c425", // token_create success user@example.com
	"a2": "0c3e1c8a-1f7e-4d6e-9a63-2d1f6b6f0b11", // zone_setting_update failure admin@example.org
	"o1": "8a1b2c3d4e5f5999",                     // 2024-03-01, old
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

// loadTestdata reads testdata/events.ndjson into a batch.
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

func openTest(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "flarehose.duckdb")
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func filledStore(t testing.TB) *Store {
	t.Helper()
	s := openTest(t, Options{Retention: 30 * 24 * time.Hour, Metrics: telemetry.NewMetrics()})
	if err := s.Write(context.Background(), loadTestdata(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

func searchIDs(t *testing.T, s *Store, r search.Request) ([]string, error) {
	t.Helper()
	r.Limit = 1000
	res, err := s.Search(context.Background(), r)
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

func TestSearchQueries(t *testing.T) {
	s := filledStore(t)
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
	s := filledStore(t)
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
	s := filledStore(t)
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
	s := filledStore(t)
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
	s := filledStore(t)
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
		if got := bucketWidth(tt.span, tt.n); got != tt.want {
			t.Errorf("bucketWidth(%v, %d) = %v, want %v", tt.span, tt.n, got, tt.want)
		}
	}
}

func TestTop(t *testing.T) {
	s := filledStore(t)
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

func TestDatasetsRetentionReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "flarehose.duckdb")
	s, err := Open(Options{Path: path, Retention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Write(ctx, loadTestdata(t)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []search.Count{{Value: "http_requests", Count: 6}, {Value: "firewall_events", Count: 3}, {Value: "audit", Count: 2}}
	if !slices.Equal(ds, want) {
		t.Fatalf("Datasets = %v, want %v", ds, want)
	}
	n, err := s.ApplyRetention(ctx, at(12, 0).Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("retention deleted %d (%v), want 1", n, err)
	}
	n, err = s.ApplyRetention(ctx, at(12, 0).Add(24*time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("second retention deleted %d (%v), want 0", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(ctx, search.Request{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}

	// Reopen: data and schema are kept; nothing migrates twice.
	s, err = Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ds, err = s.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want[0].Count = 5
	if !slices.Equal(ds, want) {
		t.Fatalf("after reopen Datasets = %v, want %v", ds, want)
	}
	var versions int
	if err := s.db.QueryRow("SELECT count(*) FROM schema_version").Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("schema_version rows %d (%v)", versions, err)
	}
	// Retention 0 keeps everything.
	if n, err := s.ApplyRetention(ctx, time.Now()); n != 0 || err != nil {
		t.Fatalf("retention 0: %d %v", n, err)
	}
	s.Close()

	// Read-only: queries work, writes are refused.
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ids, err := searchIDs(t, ro, search.Request{Query: "source.ip:10.0.0.0/8"})
	if err != nil || !slices.Equal(ids, set("h2 h4 f1")) {
		t.Fatalf("read-only search: %v %v", ids, err)
	}
	if err := ro.Write(ctx, loadTestdata(t)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only write: %v", err)
	}
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "missing.duckdb")); err == nil {
		t.Fatal("OpenReadOnly of a missing file succeeded")
	}
}

func TestRunRetention(t *testing.T) {
	s := openTest(t, Options{Retention: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	old := event.Record{Dataset: "audit", ID: "old", Time: time.Now().Add(-2 * time.Hour).UnixNano(), Doc: []byte(`{"a":1}`)}
	recent := event.Record{Dataset: "audit", ID: "new", Time: time.Now().UnixNano(), Doc: []byte(`{"a":2}`)}
	if err := s.Write(ctx, &event.Batch{Records: []event.Record{old, recent}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.RunRetention(ctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := s.Search(ctx, search.Request{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total == 1 && res.Hits[0].ID == "new" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention did not run: %d events", res.Total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestWriteEdgeCases(t *testing.T) {
	m := telemetry.NewMetrics()
	s := openTest(t, Options{Metrics: m})
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	b := &event.Batch{Records: []event.Record{
		{Dataset: "http_requests", ID: "ok", Time: 0, Doc: []byte(`{"http":{"response":{"status_code":"404"}},"source":{"ip":"not-an-ip"},"event":{"category":"web"}}`)},
		{Dataset: "http_requests", ID: "big", Time: 1, Doc: []byte(`{"http":{"response":{"status_code":99999}},"cloudflare_logpush":{"http_request":{"edge":{"response":{"bytes":1.5}}}},"source":{"as":{"number":"x"}}}`)},
		{Dataset: "http_requests", ID: "bad", Time: 1, Doc: []byte(`{"truncated":`)},
		{Dataset: "http_requests", ID: "array", Time: 1, Doc: []byte(`[1,2]`)},
		{Dataset: "http_requests", ID: "utf8", Time: 1, Doc: []byte("{\"a\":\"\xff\"}")},
	}}
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, &event.Batch{}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, search.Request{Asc: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2 {
		t.Fatalf("stored %d, want 2 (invalid documents skipped)", res.Total)
	}
	// No time: stored with the write time.
	okHit := res.Hits[1]
	if okHit.ID != "ok" || okHit.Time.Before(before) {
		t.Fatalf("record without time: %+v", okHit)
	}
	ids, _ := searchIDs(t, s, search.Request{Query: "http.response.status_code:404 AND event.category:web AND source.ip:*"})
	if !slices.Equal(ids, []string{"ok"}) {
		t.Fatalf("string status / scalar category / unparsable IP: %v", ids)
	}
	// Out-of-range and wrong-typed values are NULL, the doc is kept.
	ids, _ = searchIDs(t, s, search.Request{Query: "NOT http.response.status_code:* AND NOT cloudflare_logpush.http_request.edge.response.bytes:* AND NOT source.as.number:*"})
	if !slices.Equal(ids, []string{"big"}) {
		t.Fatalf("out of range values: %v", ids)
	}
	if n := counterValue(t, m, "flarehose_records_dropped_total"); n != 3 {
		t.Errorf("records_dropped_total = %v, want 3", n)
	}
	// sink_records_total is the pipeline's to count, not the store's.
	if n := counterValue(t, m, "flarehose_sink_records_total"); n != 0 {
		t.Errorf("sink_records_total = %v, want 0 (counted by the pipeline)", n)
	}
}

func counterValue(t *testing.T, m *telemetry.Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, mm := range mf.GetMetric() {
				sum += mm.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestHostileQueries: nothing a user types reaches the SQL text, and nothing
// makes the database fail: every query either works or is refused with
// ErrInvalidQuery.
func TestHostileQueries(t *testing.T) {
	s := filledStore(t)
	ctx := context.Background()
	deep := strings.Repeat("(", 10000) + "a" + strings.Repeat(")", 10000)
	okDeep := strings.Repeat("(", search.MaxDepth) + "googlebot" + strings.Repeat(")", search.MaxDepth)
	manyOr := strings.TrimSuffix(strings.Repeat("source.ip:10.1.2.3 OR ", 1000), " OR ")
	queries := []string{
		`url.path:"'; DROP TABLE events; --"`,
		`url.path:'; DROP TABLE events; --`,
		`"a' OR '1'='1"`,
		`' OR 1=1 --`,
		`x:' OR 1=1 --`,
		`user.email:"\' OR ''='"`,
		`cloudflare_logpush.http_request.edge.colo.code:"') OR 1=1 --"`,
		`cloudflare_logpush.x:*'*`,
		`a')--:x`,
		`a"b:x`,
		`a$.b:x`,
		`a[0]:x`,
		`doc:x`,
		`events:*`,
		`ts:x`,
		`"; SELECT * FROM duckdb_settings(); --`,
		`url.path:*\*\%_*`,
		`http.response.status_code:1e400`,
		`http.response.status_code:-99999999999999999999`,
		`source.as.number:9223372036854775808`,
		`source.ip:::ffff:0:0/0`,
		`@timestamp >= "9999-12-31T23:59:59Z"`,
		`@timestamp >= "0001-01-01"`,
		"url.path:" + strings.Repeat("x", 10000),
		strings.Repeat("x", 10000),
		strings.Repeat("a", search.MaxQueryBytes+1),
		deep,
		okDeep,
		strings.Repeat("NOT ", 5000) + "a",
		manyOr,
		"\xff\xfe",
		"url.path:\xc3",
		"a\x00b",
		"url.path:\u202e\u0000",
		`\u0027`,
		"\u2028 googlebot \u00a0",
	}
	for i, q := range queries {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			for _, r := range []search.Request{{Query: q}, {Query: q, Dataset: q, Since: day, Until: day.Add(time.Hour)}} {
				res, err := s.Search(ctx, r)
				if err != nil {
					if !errors.Is(err, search.ErrInvalidQuery) {
						t.Fatalf("Search(%.60q): %v (want results or ErrInvalidQuery)", q, err)
					}
					if strings.Contains(err.Error(), "SELECT") || strings.Contains(err.Error(), "json_extract") {
						t.Fatalf("error leaks SQL: %v", err)
					}
				} else if res == nil {
					t.Fatal("nil result")
				}
				if _, _, err := s.Histogram(ctx, r, 10); err != nil && !errors.Is(err, search.ErrInvalidQuery) {
					t.Fatalf("Histogram: %v", err)
				}
				if _, err := s.Top(ctx, r, "source.ip", 5); err != nil && !errors.Is(err, search.ErrInvalidQuery) {
					t.Fatalf("Top: %v", err)
				}
				if _, err := s.Top(ctx, search.Request{}, q, 5); err != nil && !errors.Is(err, search.ErrInvalidQuery) {
					t.Fatalf("Top(field=%.60q): %v", q, err)
				}
			}
		})
	}
	// Still all there.
	ds, err := s.Datasets(ctx)
	if err != nil || len(ds) != 3 {
		t.Fatalf("after hostile queries: %v %v", ds, err)
	}
	ids, err := searchIDs(t, s, search.Request{Query: okDeep})
	if err != nil || !slices.Equal(ids, []string{"h5"}) {
		t.Fatalf("deep query: %v %v", ids, err)
	}
}

func TestTranslateParametrized(t *testing.T) {
	sc, err := newSchema(columns)
	if err != nil {
		t.Fatal(err)
	}
	marker := "Z9q'\"\\%_"
	for _, q := range []string{
		`url.path:"` + strings.ReplaceAll(strings.ReplaceAll(marker, `\`, `\\`), `"`, `\"`) + `"`,
		`x.y:"` + strings.ReplaceAll(strings.ReplaceAll(marker, `\`, `\\`), `"`, `\"`) + `"`,
		`x.y:Z9q*`,
		`"Z9q"`,
		`x.y >= Z9q`,
		`event.category:Z9q*`,
	} {
		where, args, err := sc.where(search.Request{Query: q, Dataset: marker})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Contains(where, "Z9q") {
			t.Errorf("%s: user value in SQL text: %s", q, where)
		}
		if len(args) != strings.Count(where, "?") {
			t.Errorf("%s: %d args for %d placeholders", q, len(args), strings.Count(where, "?"))
		}
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flarehose.duckdb")
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	// A second Store on the same file in this process.
	if _, err := Open(Options{Path: path}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open in process: %v, want ErrLocked", err)
	}
	if _, err := OpenReadOnly(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("OpenReadOnly in process: %v, want ErrLocked", err)
	}
	// Another process: DuckDB's file lock.
	out, err := runChild(t, path)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(out, "CHILD rw: locked") || !strings.Contains(out, "CHILD ro: locked") {
		t.Fatalf("child did not get ErrLocked:\n%s", out)
	}
	s.Close()
	out, err = runChild(t, path)
	if err != nil || !strings.Contains(out, "CHILD rw: ok") {
		t.Fatalf("after Close the child should open: %v\n%s", err, out)
	}
}

func runChild(t *testing.T, path string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildOpen$", "-test.v")
	cmd.Env = append(os.Environ(), "FLAREHOSE_STORE_CHILD="+path)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestChildOpen runs in the child process of TestLocked.
func TestChildOpen(t *testing.T) {
	path := os.Getenv("FLAREHOSE_STORE_CHILD")
	if path == "" {
		t.Skip("helper for TestLocked")
	}
	report := func(mode string, s *Store, err error) {
		switch {
		case errors.Is(err, ErrLocked):
			fmt.Printf("CHILD %s: locked (%v)\n", mode, err)
		case err != nil:
			fmt.Printf("CHILD %s: error %v\n", mode, err)
		default:
			fmt.Printf("CHILD %s: ok\n", mode)
			s.Close()
		}
	}
	s, err := Open(Options{Path: path})
	report("rw", s, err)
	s, err = OpenReadOnly(path)
	report("ro", s, err)
}

func TestConcurrentWriteAndSearch(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	base := loadTestdata(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			b := &event.Batch{Records: slices.Clone(base.Records)}
			for j := range b.Records {
				b.Records[j].ID = fmt.Sprintf("%d-%d", i, j)
			}
			if err := s.Write(ctx, b); err != nil {
				errs <- err
				return
			}
		}
	}()
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := s.Search(ctx, search.Request{Query: "source.ip:10.0.0.0/8", Limit: 5}); err != nil {
					errs <- err
					return
				}
				if _, err := s.Top(ctx, search.Request{}, "event.category", 5); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, search.Request{Limit: 1})
	if err != nil || res.Total != int64(20*len(base.Records)) {
		t.Fatalf("total %v, %v", res, err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{}).Validate(); err == nil {
		t.Error("empty path accepted")
	}
	if err := (Options{Path: "x", Retention: -1}).Validate(); err == nil {
		t.Error("negative retention accepted")
	}
	if err := (Options{Path: "x"}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestSchemaReconcile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.duckdb")
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	// Simulate a database created before a column existed.
	if _, err := s.db.Exec("ALTER TABLE events DROP COLUMN rule_name"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if ro, err := OpenReadOnly(path); err == nil {
		ro.Close()
		t.Fatal("read-only open of an outdated schema succeeded")
	}
	s, err = Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	have, err := tableColumns(context.Background(), s.db)
	if err != nil || have["rule_name"] != "VARCHAR" {
		t.Fatalf("rule_name not re-added: %v %v", have, err)
	}
}
