package normalize

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func newTestEnv(t testing.TB, opts Options) *Env {
	t.Helper()
	env, err := NewEnv(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	return env
}

// checkDoc asserts doc is one valid JSON object without duplicate keys.
func checkDoc(t testing.TB, doc []byte) {
	t.Helper()
	if !json.Valid(doc) {
		t.Fatalf("invalid JSON: %s", doc)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := checkNoDupKeys(dec); err != nil {
		t.Fatalf("%v in %s", err, doc)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("trailing data after the document: %s", doc)
	}
}

func checkNoDupKeys(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			if seen[key] {
				return fmt.Errorf("duplicate key %q", key)
			}
			seen[key] = true
			if err := checkNoDupKeys(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for dec.More() {
			if err := checkNoDupKeys(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// decode parses a document into a flat map of dotted paths (objects are
// flattened, arrays kept), for assertions.
func decode(t testing.TB, doc []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode: %v: %s", err, doc)
	}
	out := map[string]any{}
	flatten("", m, out)
	return out
}

func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flatten(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = v
	}
}

func normalizeOne(t testing.TB, env *Env, dataset, line string) (map[string]any, Meta) {
	t.Helper()
	doc, meta, err := env.NewNormalizer().Normalize(dataset, []byte(line), nil)
	if err != nil {
		t.Fatalf("Normalize(%s): %v", line, err)
	}
	if meta.Drop {
		return nil, meta
	}
	checkDoc(t, doc)
	return decode(t, doc), meta
}

// normalizeFlat normalizes one line with opts and returns the flat document.
func normalizeFlat(t *testing.T, opts Options, dataset, line string) map[string]any {
	t.Helper()
	doc, _ := normalizeOne(t, newTestEnv(t, opts), dataset, line)
	return doc
}

// expectFields checks fields of a flat document (fmt.Sprint comparison; nil
// means absent).
func expectFields(t *testing.T, doc map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := doc[k]
		if w == nil {
			if ok {
				t.Errorf("%s = %v, want absent", k, g)
			}
			continue
		}
		if !ok || fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
}

func TestNormalizeFields(t *testing.T) {
	env := newTestEnv(t, Options{})
	doc, meta := normalizeOne(t, env, "cloudflare_logpush.http_request",
		`{"RayID":"8757d2a4bc1e2f01","EdgeStartTimestamp":1713355200301000000,"ClientIP":"198.51.100.23","OriginIP":"203.0.113.1",`+
			`"ClientRequestHost":"shop.example.net","ClientRequestURI":"/a/b.TXT?x=%41","ClientRequestScheme":"https",`+
			`"ClientRequestProtocol":"HTTP/2","ClientSSLProtocol":"TLSv1.3","EdgeResponseStatus":"200","SecurityAction":"block","WAFAction":"simulate",`+
			`"JA3Hash":"abc","Cookies":{"a":"","b":"1"},"BotTags":[],"Unknown Field.X":5}`)
	want := map[string]any{
		"@timestamp":                "2024-04-17T12:00:00.301Z",
		"event.id":                  "8757d2a4bc1e2f01",
		"source.ip":                 "198.51.100.23",
		"destination.ip":            "203.0.113.1",
		"url.original":              "https://shop.example.net/a/b.TXT?x=%41",
		"url.path":                  "/a/b.TXT",
		"url.query":                 "x=A",
		"url.extension":             "TXT",
		"url.domain":                "shop.example.net",
		"url.scheme":                "https",
		"network.protocol":          "http",
		"http.version":              "2",
		"tls.version_protocol":      "tls",
		"tls.version":               "1.3",
		"http.response.status_code": json.Number("200"),
		"data_stream.dataset":       "cloudflare_logpush.http_request",
		"data_stream.type":          "logs",
		"data_stream.namespace":     "default",
		"event.dataset":             "cloudflare_logpush.http_request",
		"event.kind":                "event",
		"cloudflare_logpush.http_request.waf.action":            "block",
		"cloudflare_logpush.http_request.cookies.b":             "1",
		"cloudflare_logpush.http_request.unknown_field_x":       json.Number("5"),
		"cloudflare_logpush.http_request.ray.id":                "8757d2a4bc1e2f01",
		"cloudflare_logpush.http_request.edge.start_time":       "2024-04-17T12:00:00.301Z",
		"cloudflare_logpush.http_request.client.request.host":   "shop.example.net",
		"cloudflare_logpush.http_request.client.request.scheme": "https",
	}
	for k, v := range want {
		if got, ok := doc[k]; !ok || fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	for _, absent := range []string{
		"cloudflare_logpush.http_request.client.ip", // duplicates are dropped by default
		"cloudflare_logpush.http_request.edge.response.status",
		"cloudflare_logpush.http_request.cookies.a",
		"cloudflare_logpush.http_request.bot.tag",
		"event.original",
		"error.message",
	} {
		if _, ok := doc[absent]; ok {
			t.Errorf("%s should be absent: %v", absent, doc[absent])
		}
	}
	if meta.Dataset != "http_requests" || meta.Time != 1713355200301000000 || len(meta.ID) != 32 {
		t.Errorf("meta = %+v", meta)
	}
	if got := env.UnknownFields("http_requests"); got != 1 {
		t.Errorf("UnknownFields = %d, want 1", got)
	}
}

func TestMetaID(t *testing.T) {
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	id := func(ds, line string) string {
		_, m, err := n.Normalize(ds, []byte(line), nil)
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	a := id("http_requests", `{"RayID":"8757d2a4bc1e2f01","EdgeStartTimestamp":1}`)
	if b := id("http_requests", `{"EdgeStartTimestamp":"1970-01-01T00:00:01Z","RayID":"8757d2a4bc1e2f01"}`); a != b {
		t.Error("same RayID, different ids")
	}
	if b := id("http_requests", `{"RayID":"8757d2a4bc1e2f02"}`); a == b {
		t.Error("different RayIDs, same id")
	}
	if b := id("firewall_events", `{"RayID":"8757d2a4bc1e2f01"}`); a == b {
		t.Error("ids collide across datasets")
	}
	f1 := id("firewall_events", `{"RayID":"8757d2a4bc1e2f01","RuleID":"r1","Action":"log"}`)
	f2 := id("firewall_events", `{"RayID":"8757d2a4bc1e2f01","RuleID":"r2","Action":"block"}`)
	if f1 == f2 {
		t.Error("two firewall events of one request share an id")
	}
	r1 := id("http_requests", `{"ClientIP":"192.0.2.1"}`)
	if r2 := id("http_requests", ` {"ClientIP":"192.0.2.1"}`+"\r\n"); r1 != r2 {
		t.Error("raw-hash id depends on surrounding whitespace")
	}
	if r3 := id("http_requests", `{"ClientIP":"192.0.2.2"}`); r1 == r3 {
		t.Error("different raw records, same id")
	}
}

func TestKeepDuplicatesAndOriginal(t *testing.T) {
	line := `{"RayID":"r1","ClientIP":"192.0.2.1","Action":"BLOCK","Datetime":"2024-04-17T12:03:11Z"}`
	doc, _ := normalizeOne(t, newTestEnv(t, Options{KeepDuplicateFields: true, PreserveOriginal: true}), "firewall_events", line)
	for k, v := range map[string]string{
		"cloudflare_logpush.firewall_event.client.ip": "192.0.2.1",
		"cloudflare_logpush.firewall_event.action":    "BLOCK",
		"event.action": "block",
		"cloudflare_logpush.firewall_event.timestamp": "2024-04-17T12:03:11.000Z",
		"event.original": line,
	} {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
}

// TestConversionErrorOmitsField: a value that does not convert to its
// field's type is not written anywhere (Elasticsearch would reject the
// document, the store's typed column would get garbage), also not as a
// duplicate custom field; the record is kept, with the raw record in
// event.original and one error.message per field naming it and its value.
// A later row for the same output (Datetime for @timestamp) still fills it.
func TestConversionErrorOmitsField(t *testing.T) {
	long := strings.Repeat("x", 300)
	line := `{"RayID":"r","EdgeResponseStatus":"abc","ClientIP":"999.1.1.1","EdgeStartTimestamp":"soon",` +
		`"Datetime":"2024-04-17T12:00:00Z","BotScore":"` + long + `","FraudDetectionIDs":[1,{"x":2}],"CacheTieredFill":"maybe"}`
	for _, opts := range []Options{{}, {KeepDuplicateFields: true}} {
		env := newTestEnv(t, opts)
		doc, meta := normalizeOne(t, env, "http_requests", line)
		if doc["event.kind"] != "pipeline_error" || doc["event.original"] != line {
			t.Errorf("event.kind %v, event.original %v", doc["event.kind"], doc["event.original"])
		}
		var msgs []string
		for _, m := range doc["error.message"].([]any) {
			msgs = append(msgs, m.(string))
		}
		want := []string{
			`EdgeStartTimestamp: cannot convert "soon" to date`,
			`EdgeResponseStatus: cannot convert "abc" to long`,
			`ClientIP: cannot convert "999.1.1.1" to ip`,
			`BotScore: cannot convert "` + strings.Repeat("x", 64) + `..." to long`,
			`CacheTieredFill: cannot convert "maybe" to boolean`,
			`FraudDetectionIDs: cannot convert [1,{"x":2}] to long`,
		}
		slices.Sort(msgs)
		slices.Sort(want)
		if !slices.Equal(msgs, want) {
			t.Errorf("error.message =\n\t%s\nwant\n\t%s", strings.Join(msgs, "\n\t"), strings.Join(want, "\n\t"))
		}
		for k := range doc {
			for _, bad := range []string{"edge.response.status", "client.ip", "edge.start_time", "bot.score", "fraud.detection_ids", "cache.tiered_fill",
				"http.response.status_code", "source.ip", "related.ip"} {
				if strings.HasSuffix(k, bad) {
					t.Errorf("%v: %s = %v written from an invalid value", opts, k, doc[k])
				}
			}
		}
		if doc["@timestamp"] != "2024-04-17T12:00:00.000Z" || meta.Time != 1713355200000000000 {
			t.Errorf("@timestamp %v (meta %d): Datetime should fill it", doc["@timestamp"], meta.Time)
		}
	}
}

func TestDrops(t *testing.T) {
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	for _, line := range []string{`{"content":"tests"}`, " {\"content\" : \"tests\"}\n", "test", "test\n", "", "  \r\n"} {
		dst := []byte("prefix")
		out, meta, err := n.Normalize("http_requests", []byte(line), dst)
		if err != nil || !meta.Drop || string(out) != "prefix" {
			t.Errorf("%q: out %q meta %+v err %v", line, out, meta, err)
		}
	}
	if _, meta, _ := n.Normalize("http_requests", []byte(`{"content":"tests","RayID":"x"}`), nil); meta.Drop {
		t.Error("a record with more than the probe's field was dropped")
	}
}

func TestAppendsToDst(t *testing.T) {
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	dst := []byte(`{"first":1}` + "\n")
	out, _, err := n.Normalize("audit_logs", []byte(`{"ID":"x","ActionResult":true}`), dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, dst) || !json.Valid(out[len(dst):]) {
		t.Fatalf("bad append: %s", out)
	}
}

func TestUnknownFieldNames(t *testing.T) {
	env := newTestEnv(t, Options{})
	var calls, total int
	env.opts.OnUnknownFields = func(ds string, n int) {
		if ds != "audit_logs" {
			t.Errorf("dataset %s", ds)
		}
		calls++
		total += n
	}
	// "Metadata" collides with nothing; "metadata" (lower case) snake_cases
	// to the schema's own member name; "Foo.Bar" and "foo_bar" collide with
	// each other.
	doc, _ := normalizeOne(t, env, "audit_logs", `{"ID":"i","Metadata":{"a":"1"},"metadata":"x","Foo.Bar":1,"foo_bar":2,"ClientRequestHTTPProtocolV2":"h2"}`)
	for k, v := range map[string]string{
		"cloudflare_logpush.audit.metadata.a":                      "1",
		"cloudflare_logpush.audit.metadata_1":                      "x",
		"cloudflare_logpush.audit.foo_bar":                         "1",
		"cloudflare_logpush.audit.foo_bar_1":                       "2",
		"cloudflare_logpush.audit.client_request_http_protocol_v2": "h2",
	} {
		if fmt.Sprint(doc[k]) != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	if calls != 1 || total != 4 || env.UnknownFields("audit_logs") != 4 {
		t.Errorf("unknown fields: %d calls, %d total, counter %d", calls, total, env.UnknownFields("audit_logs"))
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"ClientIPClass":       "client_ip_class",
		"JA4Signals":          "ja4_signals",
		"EdgeCFConnectingO2O": "edge_cf_connecting_o2o",
		"RayID":               "ray_id",
		"already_snake":       "already_snake",
		"With Space.And-Dash": "with_space_and_dash",
		"":                    "_",
		"__":                  "_",
		"X":                   "x",
		"ClientTCPRTTMs":      "client_tcprtt_ms",
		"OriginResponseTime2": "origin_response_time2",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	for name, want := range map[string]string{
		"http_requests":                     "http_requests",
		"cloudflare_logpush.http_request":   "http_requests",
		"http_request":                      "http_requests",
		"firewall_events":                   "firewall_events",
		"cloudflare_logpush.firewall_event": "firewall_events",
		"audit_logs":                        "audit_logs",
		"cloudflare_logpush.audit":          "audit_logs",
		" HTTP_REQUESTS ":                   "http_requests",
	} {
		got, ok := Resolve(name)
		if !ok || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	// Elastic's API integration (package cloudflare) is a separate dataset.
	if got, _ := Resolve("cloudflare.audit"); got != "audit_logs_api" {
		t.Errorf("cloudflare.audit resolved to %q, want audit_logs_api", got)
	}
	if ElasticDataset("http_requests") != "cloudflare_logpush.http_request" || ElasticDataset("audit_logs") != "cloudflare_logpush.audit" || ElasticDataset("nope") != "" {
		t.Error("ElasticDataset")
	}
	env := newTestEnv(t, Options{})
	_, _, err := env.NewNormalizer().Normalize("nope", []byte(`{}`), nil)
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != "unknown_dataset" {
		t.Errorf("unknown dataset: %v", err)
	}
}

// TestSchemas compiles every registered dataset (panics on table errors)
// and checks the tables against Cloudflare's field reference when
// ../shared is around: every field of the dataset must have a row.
func TestSchemas(t *testing.T) {
	for _, ds := range registry().datasets {
		if s := schemaOf(ds); s == nil || len(s.order) != len(s.slots) {
			t.Fatalf("%s: not compiled", ds.Name)
		}
	}
	ref := sharedPath(t, "cloudflare", "datasets.json")
	var cat struct {
		Datasets map[string]map[string]struct {
			Fields []struct{ Name string } `json:"fields"`
		} `json:"datasets"`
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	for _, ds := range registry().datasets {
		name := ds.Name
		switch ds.Catalog {
		case "-":
			continue // an API dataset, not in Cloudflare's Logpush catalog
		case "":
		default:
			name = ds.Catalog
		}
		found := false
		for scope, sets := range cat.Datasets {
			set, ok := sets[name]
			if !ok {
				continue
			}
			found = true
			for _, f := range set.Fields {
				if _, ok := schemaOf(ds).bySrc[f.Name]; !ok {
					t.Errorf("%s (%s): field %s of Cloudflare's reference has no mapping row", ds.Name, scope, f.Name)
				}
			}
		}
		if !found {
			t.Errorf("%s: not in datasets.json", ds.Name)
		}
	}
}

// sharedPath locates ../shared (next to the repository root) or skips.
func sharedPath(t testing.TB, parts ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{filepath.Dir(dir), "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not available", p)
	}
	return p
}

// readLines returns the non-empty lines of a file.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
