package normalize

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAPIDatasetNames(t *testing.T) {
	for name, want := range map[string]string{
		"cloudflare.audit":    "audit_logs_api",
		"audit_logs_api":      "audit_logs_api",
		"audit_api":           "audit_logs_api",
		"cloudflare.logpull":  "logpull",
		"logpull":             "logpull",
		"cloudflare.audit_v2": "audit_logs_v2_api",
		"audit_logs_v2_api":   "audit_logs_v2_api",
	} {
		if got, ok := Resolve(name); !ok || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if ElasticDataset("logpull") != "cloudflare.logpull" || ElasticDataset("audit_logs_api") != "cloudflare.audit" {
		t.Error("ElasticDataset")
	}
}

// TestNestedSources: dotted Src rows read members of top-level objects;
// unknown members are kept snake_cased; a literal dotted key is not a match.
func TestNestedSources(t *testing.T) {
	env := newTestEnv(t, Options{KeepDuplicateFields: true})
	var unknown int
	env.opts.OnUnknownFields = func(_ string, n int) { unknown += n }
	doc, meta := normalizeOne(t, env, "audit_logs_api",
		`{"actor":{"email":"a@example.com","ip":"192.0.2.1","extra":{"x":1},"sub":null},"actor.id":"literal","action":{"type":"LOGIN","result":true},"id":"i1","resource":"flat"}`)
	for k, v := range map[string]string{
		"cloudflare.audit.actor.email":   "a@example.com",
		"user.email":                     "a@example.com",
		"source.ip":                      "192.0.2.1",
		"event.action":                   "login",
		"event.outcome":                  "success",
		"cloudflare.audit.actor_extra.x": "1",
		"cloudflare.audit.actor_id":      "literal",
		"cloudflare.audit.resource_1":    "flat",
	} {
		if fmt.Sprint(doc[k]) != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	if _, ok := doc["user.id"]; ok {
		t.Error("a literal top-level \"actor.id\" key was taken for actor.id")
	}
	if unknown != 4 { // actor.extra, actor.sub (null), actor.id literal, resource (not an object)
		t.Errorf("unknown fields = %d, want 4", unknown)
	}
	if meta.ID == "" {
		t.Error("no id")
	}
	// Duplicate members inside a nested object are rejected like top-level ones.
	_, _, err := env.NewNormalizer().Normalize("audit_logs_api", []byte(`{"actor":{"id":"x","id":"y"}}`), nil)
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != "duplicate_key" {
		t.Errorf("duplicate nested member: %v", err)
	}
	// The dotted names address the rows.
	s := schemaOf(auditLogsAPI)
	if f := s.Field("actor.email"); s.fields[f].Src != "actor.email" {
		t.Error("Schema.Field on a dotted Src")
	}
}

func TestEnvelope(t *testing.T) {
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	for _, tc := range []struct {
		line, reason string
		drop         bool
	}{
		{`{"errors":[],"messages":[],"result":[],"success":true}`, "", true},
		{`{"success":true,"errors":[],"result":null}`, "", true},
		{`{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"result":null}`, "api_error", false},
		{`{"success":true,"errors":[],"result":[{"id":"a"}]}`, "envelope", false},
		{`{"success":true,"errors":[],"result":{"flag":true}}`, "envelope", false},
	} {
		_, meta, err := n.Normalize("audit_logs_api", []byte(tc.line), nil)
		var re *RecordError
		switch {
		case tc.drop && (err != nil || !meta.Drop || meta.DropReason != "empty_response"):
			t.Errorf("%s: meta %+v err %v, want a drop", tc.line, meta, err)
		case !tc.drop && (!errors.As(err, &re) || re.Reason != tc.reason):
			t.Errorf("%s: err %v, want %s", tc.line, err, tc.reason)
		}
	}
	// A Logpush dataset does not look for envelopes.
	if _, meta, err := n.Normalize("http_requests", []byte(`{"success":true,"result":[]}`), nil); err != nil || meta.Drop {
		t.Errorf("http_requests envelope-like record: %v %+v", err, meta)
	}
	// NormalizeEach splits result[].
	var ids []string
	n.NormalizeEach("audit_logs_api", []byte(`{"success":true,"errors":[],"result":[{"id":"a","when":"2024-01-01T00:00:00Z"},{"id":"b"}],"result_info":{"page":1}}`), nil,
		func(doc []byte, meta Meta, err error) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, fmt.Sprint(decode(t, doc)["event.id"]))
		})
	if strings.Join(ids, ",") != "a,b" {
		t.Errorf("NormalizeEach ids = %v", ids)
	}
	calls := 0
	n.NormalizeEach("http_requests", []byte(`{"RayID":"r"}`), nil, func([]byte, Meta, error) { calls++ })
	n.NormalizeEach("audit_logs_api", []byte(`{"success":true,"errors":[],"result":[]}`), nil, func(_ []byte, m Meta, _ error) {
		if !m.Drop {
			t.Error("empty envelope not dropped")
		}
		calls++
	})
	if calls != 2 {
		t.Errorf("calls = %d", calls)
	}
}

func TestLogpullDerived(t *testing.T) {
	env := newTestEnv(t, Options{})
	doc, meta := normalizeOne(t, env, "logpull",
		`{"RayID":"r1","ClientIP":"198.51.100.1","ClientRequestBytes":10,"EdgeResponseBytes":32,"EdgeStartTimestamp":1713355200000000000,"EdgeEndTimestamp":1713355200250000000,`+
			`"ClientRequestHost":"h.example","ClientRequestURI":"/p/x.js?q=1","ClientSSLProtocol":"TLSv1.2","CacheResponseBytes":0,"OriginResponseStatus":0,"FirewallMatchesActions":["block"]}`)
	for k, v := range map[string]string{
		"event.duration":  "250000000",
		"network.bytes":   "42",
		"client.bytes":    "10",
		"client.ip":       "198.51.100.1",
		"server.bytes":    "32",
		"url.full":        "https://h.example/p/x.js?q=1",
		"url.extension":   "js",
		"event.type":      "[denied]",
		"event.category":  "network",
		"tls.version":     "1.2",
		"observer.vendor": "cloudflare",
	} {
		if fmt.Sprint(doc[k]) != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	for _, absent := range []string{"cloudflare.cache.bytes", "http.response.status_code", "error.message"} {
		if _, ok := doc[absent]; ok {
			t.Errorf("%s present: %v", absent, doc[absent])
		}
	}
	if meta.Time != 1713355200000000000 {
		t.Errorf("meta.Time = %d", meta.Time)
	}
}

// FuzzAPIRecords feeds arbitrary records to the API datasets (nested
// sources, envelopes) and to inference: every document is one valid JSON
// object without duplicate keys, nothing panics.
//
//	go test ./internal/normalize -run - -fuzz FuzzAPIRecords -fuzztime 10s
func FuzzAPIRecords(f *testing.F) {
	var apiDatasets []string
	for _, ds := range registry().datasets {
		if ds.Envelope {
			apiDatasets = append(apiDatasets, ds.Name)
		}
	}
	for _, ds := range apiDatasets {
		in, _ := os.ReadFile(filepath.Join("testdata", ds, "input.ndjson"))
		for _, line := range bytes.Split(in, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Add([]byte(`{"actor":{"actor":{"id":1}},"action":[],"raw":{"uri":"::"}}`))
	f.Add([]byte(`{"success":true,"result":[{"id":"a"},1,null,{"actor":{"id":"x","id":"y"}}]}`))
	env, err := NewEnv(Options{PreserveOriginal: true, KeepDuplicateFields: true})
	if err != nil {
		f.Fatal(err)
	}
	n := env.NewNormalizer()
	var buf []byte
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, ds := range apiDatasets {
			buf = n.NormalizeEach(ds, raw, buf, func(doc []byte, meta Meta, err error) {
				if err == nil && !meta.Drop {
					checkDoc(t, doc)
				}
			})
		}
		Infer(raw)
		if doc, meta, err := n.NormalizeAuto("", raw, nil); err == nil && !meta.Drop {
			checkDoc(t, doc)
		}
	})
}
