package searchtest

import (
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/search"
)

// Kind names an engine, for the few expectations that differ per engine.
type Kind string

// The engines.
const (
	DuckDB     Kind = "duckdb"     // internal/store
	OpenSearch Kind = "opensearch" // internal/search/esquery (OpenSearch or Elasticsearch)
)

// QueryCase is a query and the events it finds (short names, see Alias).
type QueryCase struct {
	Query string
	Want  string
	// Per, when set, is what each engine finds instead of Want: a
	// difference between the engines that is by design (the case's comment
	// says why). Every engine must have an entry.
	Per map[Kind]string
}

// WantOn returns what the case finds on engine k.
func (c QueryCase) WantOn(k Kind) string {
	if c.Per != nil {
		return c.Per[k]
	}
	return c.Want
}

// differ is a per-engine expectation.
func differ(duckdb, opensearch string) map[Kind]string {
	return map[Kind]string{DuckDB: duckdb, OpenSearch: opensearch}
}

// Queries is the query table: Search(Request{Query: q}) over the whole
// fixture must find exactly Want.
var Queries = []QueryCase{
	{Query: "", Want: AllRecent + " o1"},
	{Query: "*", Want: AllRecent + " o1"},
	// typed fields
	{Query: "http.response.status_code:403", Want: "h2 f1 f2"},
	{Query: "http.response.status_code:403.0", Want: "h2 f1 f2"},
	{Query: "http.response.status_code >= 400", Want: "h2 h4 h5 f1 f2"},
	{Query: "http.response.status_code:[400 TO 499]", Want: "h2 h5 f1 f2"},
	{Query: "http.response.status_code:{403 TO 500}", Want: "h5"},
	{Query: "http.response.status_code:[403 TO 500}", Want: "h2 h5 f1 f2"},
	{Query: "http.response.status_code < 300", Want: "h1 f3 o1"},
	{Query: "http.response.status_code:(403 OR 500)", Want: "h2 h4 f1 f2"},
	{Query: "http.response.status_code:4*", Want: "h2 h5 f1 f2"},
	{Query: "http.request.method:POST", Want: "h2 f1"},
	{Query: "http.request.method:post", Want: ""}, // keyword fields are case-sensitive, as in Elasticsearch
	{Query: "event.action:block", Want: "f1"},
	{Query: "NOT event.action:block", Want: "h1 h2 h3 h4 h5 f2 f3 a1 a2 o1"},
	{Query: "event.outcome:failure", Want: "a2"},
	{Query: "source.geo.country_iso_code:US", Want: "h1 h4"},
	{Query: "source.as.number:13335", Want: "h1 h4"},
	{Query: "source.as.number >= 4000 AND source.as.number < 5000", Want: "h5"},
	{Query: "url.path:/api/*", Want: "h1 h4 f3"},
	{Query: "url.domain:*.example.com", Want: "h1 h2 h3 h4 h5 f1 f2 f3 o1"},
	{Query: "url.domain:api.example.*", Want: "h1 h4 f3"},
	{Query: "user_agent.name:Googlebot", Want: "h5"},
	{Query: "user.email:*", Want: "a1 a2"},
	{Query: `user.email:"user@example.com"`, Want: "a1"},
	{Query: "user.email:*@example.org", Want: "a2"},
	{Query: "rule.id:7dc666e026974dab84884c73b3e2afe1", Want: "f1"},
	{Query: `rule.name:"Block login brute force"`, Want: "f1"},
	{Query: "rule.name:Bot*", Want: "f2"},
	{Query: "cloudflare_logpush.http_request.zone.name:example.com", Want: "h1 h2 h3 h4 h5 o1"},
	{Query: "http.response.bytes > 2000", Want: "h4 h5 o1"},
	{Query: "http.response.bytes:0", Want: "h3"},
	{Query: "data_stream.dataset:cloudflare_logpush.audit", Want: "a1 a2"},
	{Query: "event.dataset:cloudflare_logpush.firewall_event", Want: "f1 f2 f3"},
	{Query: "_id:8a1b2c3d4e5f6001", Want: "h1"},
	// list field
	{Query: "event.category:authentication", Want: "a1"},
	{Query: "event.category:web", Want: "h1 h2 h4 h5 o1"},
	{Query: "event.category:config*", Want: "a2"},
	{Query: "event.category:*", Want: AllRecent + " o1"},
	{Query: "NOT event.category:network", Want: "a1 a2"},
	// IPs and CIDR
	{Query: "source.ip:10.0.0.0/8", Want: "h2 h4 f1"},
	{Query: "source.ip:10.1.2.3", Want: "h2 f1"},
	{Query: "source.ip:10.1.2.3/32", Want: "h2 f1"},
	{Query: "source.ip:::ffff:10.1.2.3", Want: "h2 f1"},
	{Query: "source.ip:2001:db8::/32", Want: "h3 f3"},
	{Query: "source.ip:2001:db8:0:0:0:0:0:1", Want: "h3"},
	{Query: "source.ip:0.0.0.0/0", Want: "h1 h2 h4 h5 f1 f2 a1 a2 o1"},
	{Query: "source.ip:::/0", Want: AllRecent + " o1"},
	{Query: "source.ip >= 198.51.100.0 AND source.ip < 198.51.101.0", Want: "h5 f2"},
	{Query: "source.ip:[81.2.69.0 TO 81.2.69.150]", Want: "a1"},
	{Query: "source.ip:10.1.*", Want: "h2 f1"},
	{Query: "destination.ip:198.18.0.0/15", Want: "h1 h2 h3 h4 h5 o1"},
	{Query: "NOT source.ip:10.0.0.0/8", Want: "h1 h3 h5 f2 f3 a1 a2 o1"},
	// time
	{Query: `@timestamp >= "2024-05-01T10:30:00Z"`, Want: "h5 f2 f3 a2"},
	{Query: "@timestamp:[2024-05-01T10:00:00Z TO 2024-05-01T10:10:00Z}", Want: "h1 h2 f1"},
	{Query: "@timestamp < 2024-05-01", Want: "o1"},
	{Query: "@timestamp:2024-05-01T09:00:00Z", Want: "a1"},
	// fields outside the typed columns / template (DuckDB: JSON path;
	// OpenSearch: dynamically mapped)
	{Query: "cloudflare_logpush.http_request.edge.colo.code:FRA", Want: "h1 h2"},
	{Query: "cloudflare_logpush.http_request.edge.colo.code:(LHR OR IAD)", Want: "h3 h4"},
	{Query: "cloudflare_logpush.http_request.edge.colo.code:*", Want: "h1 h2 h3 h4 h5 o1"},
	{Query: "cloudflare_logpush.http_request.edge.colo.code:?", Want: ""},
	{Query: "cloudflare_logpush.firewall_event.action:managed_*", Want: "f2"},
	{Query: "cloudflare_logpush.http_request.edge.response.bytes > 5000", Want: "h4"},
	{Query: "cloudflare_logpush.http_request.edge.response.bytes:[1000 TO 2048]", Want: "h1 h5"},
	{Query: "cloudflare_logpush.http_request.client.asn:13335", Want: "h1 h4"},
	{Query: "cloudflare_logpush.audit.actor.email:user@example.com", Want: "a1"},
	{Query: "cloudflare_logpush.audit.action.type:zone_*", Want: "a2"},
	{Query: "tags:cloudflare_logpush-firewall_event", Want: "f1 f2 f3"},
	{Query: "tags:preserve_original_event", Want: "h1 h2 h3 h4 h5 a1 a2 o1"},
	{Query: "tags:cloudflare_logpush-*", Want: "h1 h2 h3 h4 h5 f1 f2 f3 o1"},
	{Query: "related.ip:81.2.69.142", Want: "a1"},
	{Query: "related.ip:*", Want: "h1 h2 h3 h4 h5 a1 a2 o1"},
	{Query: "url.query:*", Want: "h5"},
	{Query: `labels.note:"[beta] cdn"`, Want: "h3"},
	{Query: `labels.note:\[beta*`, Want: "h3"},
	{Query: `labels.note:beta`, Want: ""},
	{Query: "no.such.field:x", Want: ""},
	{Query: "NOT no.such.field:x", Want: AllRecent + " o1"},
	// free text
	{Query: "googlebot", Want: "h5"},
	{Query: "GoogleBot", Want: "h5"}, // case-insensitive on both
	{Query: `"gateway timeout"`, Want: "h4"},
	{Query: `"said \"hi\" \\ bye"`, Want: "h4"},
	{Query: "*brute*", Want: "f1"},
	{Query: "*brut*", Want: "f1"},
	{Query: "brute force", Want: "f1"},
	{Query: "brute OR googlebot", Want: "h5 f1"},
	{Query: `"100%_done"`, Want: "h5"},
	{Query: `100%`, Want: "h5"},
	{Query: "nothing-like-this-anywhere", Want: ""},
	// A part of a word: DuckDB matches substrings of the document text,
	// OpenSearch whole words of the catch-all field (standard analyzer),
	// so "brut" finds "brute" only on DuckDB ("*brut*" finds it on both).
	{Query: "brut", Per: differ("f1", "")},
	// A free-text pattern matches anywhere: a prefix pattern finds the word
	// on both engines.
	{Query: "brut*", Want: "f1"},
	// A field name: DuckDB scans the document's JSON text, keys included;
	// OpenSearch's catch-all field holds values only.
	{Query: "security_level", Per: differ("h1 h2 h3 h4 h5 o1", "")},
	// boolean combinations
	{Query: "http.request.method:POST AND source.geo.country_iso_code:DE", Want: "h2 f1"},
	{Query: "(event.action:block OR event.action:managed_challenge) AND NOT source.geo.country_iso_code:CN", Want: "f1"},
	{Query: "source.geo.country_iso_code:GB OR user.email:admin@example.org", Want: "h3 f3 a2"},
	{Query: "NOT (source.geo.country_iso_code:US OR source.geo.country_iso_code:DE) AND http.response.status_code:*", Want: "h3 h5 f2 f3 o1"},
	{Query: "url.path:%", Want: ""},      // LIKE metacharacters in values are literal
	{Query: "url.path:*%_*", Want: "h5"}, // "%_" literally
	{Query: "url.path:/wp-admin_*", Want: ""},
}

// FilterCase is a request with the filters every search has (dataset, time
// range) and the events it finds.
type FilterCase struct {
	Name string
	Req  search.Request
	Want string
}

// Filters is the filter table.
var Filters = []FilterCase{
	{"dataset", search.Request{Dataset: "firewall_events"}, "f1 f2 f3"},
	{"dataset+query", search.Request{Dataset: "http_requests", Query: "source.ip:10.1.2.3"}, "h2"},
	{"since", search.Request{Since: At(10, 45)}, "h5 f3 a2"},
	{"until exclusive", search.Request{Until: At(10, 5)}, "h1 a1 o1"},
	{"range", search.Request{Since: At(10, 0), Until: At(10, 10)}, "h1 h2 f1"},
	{"range+query", search.Request{Since: At(10, 0), Until: At(11, 0), Query: "http.response.status_code >= 400"}, "h2 h4 f1 f2"},
	{"unknown dataset", search.Request{Dataset: "x' OR '1'='1"}, ""},
	{"unicode dataset", search.Request{Dataset: "データ"}, ""},
}

// InvalidQueries must fail with search.ErrInvalidQuery.
var InvalidQueries = []string{
	"http.response.status_code:abc",
	"http.response.status_code >= high",
	"source.ip:not-an-ip",
	"source.ip >= 10.0.0.0/8",
	"@timestamp >= yesterday",
	"@timestamp:now",
	"a AND",
	"(a",
	"source.as.number:[1 TO x]",
}

// InvalidDatasets must fail with search.ErrInvalidQuery.
var InvalidDatasets = []string{"\xff", "a\x00b", "x\ny"}

// HistogramCase is a Histogram call and the bars it returns.
type HistogramCase struct {
	Name    string
	Req     search.Request
	Buckets int
	Width   time.Duration // 0: not checked
	Start   time.Time     // of the first bar
	Counts  string        // of every bar, space-separated; "" for no bars
}

// Histograms is the histogram table.
var Histograms = []HistogramCase{
	{"closed range", search.Request{Since: At(9, 0), Until: At(13, 0)}, 4, time.Hour, At(9, 0), "1 7 1 1"},
	// With a query, 10-minute buckets, empty ones filled: h2 f1 | - | h4 | f2 | - | -
	{"query", search.Request{Since: At(10, 0), Until: At(11, 0), Query: "http.response.status_code >= 400"}, 6, 10 * time.Minute, At(10, 0), "2 0 1 1 0 0"},
	// Open range: derived from the matching events (09:00 and 12:00).
	{"open range", search.Request{Dataset: "audit"}, 4, time.Hour, At(9, 0), "1 0 0 1"},
	// Open start: o1 (2024-03-01 08:00) is the only match; weekly bars
	// from the week (since the epoch, a Thursday) holding it.
	{"open start", search.Request{Until: At(10, 0), Query: "http.response.status_code:*"}, 10, 7 * 24 * time.Hour, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), bars(9, 0)},
	// Nothing matches: no buckets, no error.
	{"no match", search.Request{Query: "no.such:thing"}, 10, 0, time.Time{}, ""},
	// A closed range over an unknown dataset: the range's empty bars.
	{"unknown dataset", search.Request{Dataset: "no_such_dataset", Since: At(9, 0), Until: At(11, 0)}, 2, time.Hour, At(9, 0), "0 0"},
	{"empty range", search.Request{Since: At(11, 0), Until: At(10, 0)}, 10, time.Second, time.Time{}, ""},
	// 60 one-minute bars by default: h1 10:00, h2 10:05, f1 10:06, h3 10:10,
	// h4 10:20, f2 10:30, f3 10:45 (h5 at 11:00 is outside).
	{"default buckets", search.Request{Since: At(10, 0), Until: At(11, 0)}, 0, time.Minute, At(10, 0), bars(60, 0, 5, 6, 10, 20, 30, 45)},
}

// bars is n bar counts, 1 at the given bars and 0 elsewhere.
func bars(n int, ones ...int) string {
	c := make([]string, n)
	for i := range c {
		c[i] = "0"
	}
	for _, i := range ones {
		c[i] = "1"
	}
	return strings.Join(c, " ")
}

// TopCase is a Top call and the counts it returns ("value=count ...").
type TopCase struct {
	Field string
	Req   search.Request
	Limit int
	Want  string
}

// Tops is the Top table.
var Tops = []TopCase{
	{"source.geo.country_iso_code", search.Request{}, 3, "CN=2 DE=2 GB=2"},
	{"source.geo.country_iso_code", search.Request{Query: "http.response.status_code >= 400"}, 10, "CN=2 DE=2 US=1"},
	{"http.response.status_code", search.Request{}, 3, "200=3 403=3 304=1"},
	{"event.category", search.Request{}, 10, "network=9 web=5 authentication=1 configuration=1"},
	{"cloudflare_logpush.http_request.edge.colo.code", search.Request{Since: Day}, 2, "FRA=2 IAD=1"},
	{"data_stream.dataset", search.Request{}, 10, "cloudflare_logpush.http_request=6 cloudflare_logpush.firewall_event=3 cloudflare_logpush.audit=2"},
	{"source.ip", search.Request{Dataset: "firewall_events"}, 10, "10.1.2.3=1 198.51.100.7=1 2001:db8:ffff::5=1"},
	{"@timestamp", search.Request{Dataset: "audit"}, 1, "2024-05-01 09:00:00=1"},
	{"no.such.field", search.Request{}, 10, ""},
}

// InvalidTopFields must fail with search.ErrInvalidQuery.
var InvalidTopFields = []string{"a'b"}
