package elasticsearch

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search/searchtest"
)

// fieldType reads a field's mapped type from GET <index>/_mapping/field/<f>.
func fieldType(t *testing.T, c *Client, index, field string) string {
	t.Helper()
	v := mustJSON(t, c, http.MethodGet, "/"+index+"/_mapping/field/"+field, nil)
	var typ string
	o, _ := v.Object()
	o.Visit(func(_ []byte, idx *fastjson.Value) { // one backing index
		leaf := field[strings.LastIndexByte(field, '.')+1:]
		if ty := idx.GetStringBytes("mappings", field, "mapping", leaf, "type"); ty != nil {
			typ = string(ty)
		}
	})
	return typ
}

func TestIntegrationTemplatesAndMappings(t *testing.T) {
	url := nodeURL(t)
	ns := testNamespace(t)
	c := adminClient(t, url)
	t.Cleanup(func() { dropNamespace(t, c, ns) })
	s := newTestSink(t, testConfig(url, ns), Options{})
	ctx := context.Background()
	if err := s.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster: %s", s.Info())
	acts := s.Templates()
	for _, name := range []string{commonComponent, "logs-cloudflare_logpush.http_request", "logs-cloudflare_logpush.http_request@flarehose", "logs-cloudflare.audit"} {
		switch acts[name] {
		case TemplateInstalled, TemplateCurrent, TemplateUpdated:
		default:
			t.Errorf("template %s: %q", name, acts[name])
		}
	}
	// The index template as the cluster has it.
	v := mustJSON(t, c, http.MethodGet, "/_index_template/logs-cloudflare_logpush.http_request", nil)
	it := v.Get("index_templates", "0", "index_template")
	if it == nil {
		t.Fatalf("template missing: %s", v)
	}
	if got := string(it.GetStringBytes("_meta", "managed_by")); got != managedBy {
		t.Errorf("_meta.managed_by = %q", got)
	}
	if got := it.GetInt("_meta", "version"); got != TemplateVersion {
		t.Errorf("_meta.version = %d", got)
	}
	if it.Get("data_stream") == nil {
		t.Error("no data_stream in the template")
	}
	if got := string(it.GetStringBytes("index_patterns", "0")); got != "logs-cloudflare_logpush.http_request-*" {
		t.Errorf("index_patterns = %q", got)
	}
	if got := it.GetArray("composed_of"); len(got) != 2 {
		t.Errorf("composed_of = %v", got)
	}

	// A second sink finds everything current.
	s2 := newTestSink(t, testConfig(url, ns), Options{})
	if err := s2.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	for name, a := range s2.Templates() {
		if a != TemplateCurrent {
			t.Errorf("second setup: %s is %q, want current (hash round trip broken?)", name, a)
		}
	}

	// Documents get the template's types.
	if err := s.Write(ctx, searchtest.Batch()); err != nil {
		t.Fatal(err)
	}
	ds := "logs-cloudflare_logpush.http_request-" + ns
	// The data stream exists as a data stream.
	dv := mustJSON(t, c, http.MethodGet, "/_data_stream/"+ds, nil)
	if n := len(dv.GetArray("data_streams")); n != 1 {
		t.Fatalf("data stream %s: %s", ds, dv)
	}
	for field, want := range map[string]string{
		"@timestamp":                  "date",
		"source.ip":                   "ip",
		"destination.ip":              "ip",
		"related.ip":                  "ip",
		"http.response.status_code":   "long",
		"http.response.bytes":         "long",
		"source.as.number":            "long",
		"url.path":                    "wildcard",
		"url.original":                "wildcard",
		"url.domain":                  "keyword",
		"http.request.method":         "keyword",
		"event.category":              "keyword",
		"data_stream.dataset":         "constant_keyword",
		"event.dataset":               "constant_keyword",
		"source.geo.country_iso_code": "keyword",
		"cloudflare_logpush.http_request.edge.colo.code":  "keyword", // dynamic: strings as keyword
		"cloudflare_logpush.http_request.client.asn":      "long",    // dynamic: numbers as long
		"cloudflare_logpush.http_request.edge.start_time": "keyword", // no date detection
		CatchAllField: "text",
	} {
		if got := fieldType(t, c, ds, field); got != want {
			t.Errorf("%s mapped as %q, want %q", field, got, want)
		}
	}
	// geo_point comes from the template even before a document has it.
	mv := mustJSON(t, c, http.MethodGet, "/"+ds+"/_mapping", nil)
	o, _ := mv.Object()
	o.Visit(func(_ []byte, idx *fastjson.Value) {
		if ty := string(idx.GetStringBytes("mappings", "properties", "source", "properties", "geo", "properties", "location", "type")); ty != "geo_point" {
			t.Errorf("source.geo.location mapped as %q", ty)
		}
	})
	// Typed queries work: CIDR on ip, range on long, the catch-all.
	for q, want := range map[string]int{
		`{"query":{"term":{"source.ip":"10.0.0.0/8"}}}`:                                3, // h2 h4 f1
		`{"query":{"range":{"http.response.status_code":{"gte":400}}}}`:                5, // h2 h4 h5 f1 f2
		`{"query":{"match_phrase":{"flarehose.text":"googlebot"}}}`:                    1, // h5
		`{"query":{"wildcard":{"url.path":{"value":"/api/*"}}}}`:                       3, // h1 h4 f3
		`{"query":{"term":{"data_stream.dataset":"cloudflare_logpush.http_request"}}}`: 6,
	} {
		if got := count(t, c, ns, q); got != want {
			t.Errorf("%s: %d hits, want %d", q, got, want)
		}
	}
}

func TestIntegrationRedeliveryNoDuplicates(t *testing.T) {
	url := nodeURL(t)
	ns := testNamespace(t)
	c := adminClient(t, url)
	t.Cleanup(func() { dropNamespace(t, c, ns) })
	s := newTestSink(t, testConfig(url, ns), Options{})
	ctx := context.Background()
	b := searchtest.Batch()
	big := syntheticBatch("dup", 0, 3000, 600)
	for round := range 3 {
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, big); err != nil {
			t.Fatal(err)
		}
		if got := count(t, c, ns, ""); got != b.Len()+big.Len() {
			t.Fatalf("round %d: %d documents, want %d", round, got, b.Len()+big.Len())
		}
	}
	st := s.Stats()
	if want := int64(2 * (b.Len() + big.Len())); st.Duplicates != want {
		t.Errorf("duplicates %d, want %d", st.Duplicates, want)
	}
	if st.Created != int64(b.Len()+big.Len()) {
		t.Errorf("created %d, want %d", st.Created, b.Len()+big.Len())
	}
}

func TestIntegrationRejected(t *testing.T) {
	url := nodeURL(t)
	ns := testNamespace(t)
	c := adminClient(t, url)
	t.Cleanup(func() { dropNamespace(t, c, ns) })
	var got []Rejected
	s := newTestSink(t, testConfig(url, ns), Options{OnRejected: func(rs []Rejected) error {
		for _, r := range rs {
			r.Record.Doc = append([]byte(nil), r.Record.Doc...)
			got = append(got, r)
		}
		return nil
	}})
	ctx := context.Background()
	b := syntheticBatch("rej", 0, 50, 400)
	// A mapping conflict: an object where the template says long.
	b.Records[7].Doc = []byte(`{"@timestamp":"2024-05-01T00:00:00Z","http":{"response":{"status_code":{"oops":1}}}}`)
	// A value a long cannot hold.
	b.Records[21].Doc = []byte(`{"@timestamp":"2024-05-01T00:00:00Z","http":{"response":{"status_code":"not-a-number"}}}`)
	// Not JSON at all: rejected before sending.
	b.Records[30].Doc = []byte(`not json`)
	// A dataset flarehose does not know.
	b.Records[40].Dataset = "no_such_dataset"
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(got))
	for i, r := range got {
		ids[i] = r.Record.ID
		t.Logf("rejected %s: %d %s", r.Record.ID, r.Status, r.Reason)
	}
	slices.Sort(ids)
	if want := []string{"rej-21", "rej-30", "rej-40", "rej-7"}; !slices.Equal(ids, want) {
		t.Fatalf("rejected %v, want %v", ids, want)
	}
	for _, r := range got {
		if r.Record.ID == "rej-7" && (r.Status != 400 || !strings.Contains(r.Reason, "mapper_parsing_exception")) {
			t.Errorf("rej-7: %d %s", r.Status, r.Reason)
		}
	}
	if n := count(t, c, ns, ""); n != 46 {
		t.Fatalf("%d documents indexed, want 46", n)
	}
	// Sent again (the pipeline retried the batch): same outcome, no dups.
	got = nil
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || count(t, c, ns, "") != 46 {
		t.Fatalf("second write: %d rejected, %d documents", len(got), count(t, c, ns, ""))
	}
}

// TestIntegrationUnavailable: a cluster that cannot be reached makes Write
// fail (the batch stays queued), without calling OnRejected.
func TestIntegrationUnavailable(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1", "default")
	cfg.Timeout = config.Duration(2 * time.Second)
	s := newTestSink(t, cfg, Options{OnRejected: func([]Rejected) error { t.Error("OnRejected called"); return nil }})
	err := s.Write(context.Background(), &event.Batch{Records: []event.Record{{Dataset: "http_requests", ID: "x", Doc: []byte(`{}`)}}})
	if err == nil {
		t.Fatal("Write succeeded against a closed port")
	}
	t.Log(err)
}
