package sim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var instant = time.Date(2024, 2, 17, 23, 52, 1, 123456789, time.UTC)

func TestTimestampFormats(t *testing.T) {
	want := map[string]string{
		"":                 "1708213921123456789",
		TimestampUnixNano:  "1708213921123456789",
		TimestampUnix:      "1708213921",
		TimestampRFC3339:   `"2024-02-17T23:52:01Z"`,
		TimestampRFC3339ms: `"2024-02-17T23:52:01.123Z"`,
		TimestampRFC3339ns: `"2024-02-17T23:52:01.123456789Z"`,
	}
	fields := map[string]string{"http_requests": "EdgeStartTimestamp", "firewall_events": "Datetime", "audit_logs": "When"}
	for ds, field := range fields {
		for tf, w := range want {
			g, _ := NewGenerator(ds, 1)
			f := MustFormat(ds, OutputOptions{TimestampFormat: tf, FieldNames: []string{field}})
			// A non-UTC zone must not change the rendering.
			got := string(g.Append(nil, instant.In(time.FixedZone("X", -5*3600)), f))
			if exp := `{"` + field + `":` + w + "}\n"; got != exp {
				t.Errorf("%s %q: got %q, want %q", ds, tf, got, exp)
			}
		}
	}
	// EdgeEndTimestamp follows the format too.
	g, _ := NewGenerator("http_requests", 1)
	rec := g.Append(nil, instant, MustFormat("http_requests", OutputOptions{TimestampFormat: TimestampRFC3339ms, FieldNames: []string{"EdgeEndTimestamp"}}))
	if !regexp.MustCompile(`^\{"EdgeEndTimestamp":"2024-02-1[78]T\d\d:\d\d:\d\d\.\d{3}Z"\}\n$`).Match(rec) {
		t.Errorf("EdgeEndTimestamp: %q", rec)
	}
}

func TestRFC3339MatchesTimePackage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	layouts := map[int]string{0: "2006-01-02T15:04:05Z", 3: "2006-01-02T15:04:05.000Z", 9: "2006-01-02T15:04:05.000000000Z"}
	times := []time.Time{time.Unix(0, 0), time.Unix(-1, 999), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}
	for range 20000 {
		times = append(times, time.Unix(r.Int64N(1<<36)-1<<35, r.Int64N(1e9)))
	}
	for _, tm := range times {
		for digits, layout := range layouts {
			got := string(appendRFC3339(nil, tm, digits))
			if want := `"` + tm.UTC().Format(layout) + `"`; got != want {
				t.Fatalf("%v (%d digits): got %s, want %s", tm, digits, got, want)
			}
		}
	}
}

func TestDefaultFraming(t *testing.T) {
	for _, ds := range Datasets() {
		out := generate(t, ds, Config{Seed: 9}, nil, 200)
		lines := strings.SplitAfter(string(out), "\n")
		if lines[len(lines)-1] != "" || len(lines) != 201 {
			t.Fatalf("%s: %d lines", ds, len(lines))
		}
		for _, l := range lines[:200] {
			if !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}\n") || !json.Valid([]byte(l)) {
				t.Fatalf("%s: bad line %q", ds, l)
			}
		}
	}
}

func TestFieldSelectionOrder(t *testing.T) {
	names := []string{"RayID", "ClientIP", "EdgeStartTimestamp", "ZoneName"}
	f := MustFormat("http_requests", OutputOptions{FieldNames: names})
	rec := generate(t, "http_requests", Config{Seed: 1}, f, 1)
	re := regexp.MustCompile(`^\{"RayID":"[0-9a-f]{16}","ClientIP":"[0-9a-f.:]+","EdgeStartTimestamp":\d+,"ZoneName":"[a-z.-]+"\}\n$`)
	if !re.Match(rec) {
		t.Errorf("got %q", rec)
	}
	if got := f.Options().FieldNames; strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("Options().FieldNames = %v", got)
	}
	all := MustFormat("firewall_events", OutputOptions{}).Options().FieldNames
	fs, _ := DatasetFields("firewall_events")
	if len(all) != len(fs) || all[0] != fs[0].Name {
		t.Errorf("default field_names %v", all)
	}
}

// The wrapped-JSON layout from the output options docs: one JSON document
// per upload.
func TestWrappedBatchLayout(t *testing.T) {
	f := MustFormat("http_requests", OutputOptions{
		FieldNames:      []string{"ClientIP", "RayID", "EdgeResponseStatus"},
		BatchPrefix:     `{"events":[`,
		BatchSuffix:     "\n]}\n",
		RecordPrefix:    "\n  {\"info\":{",
		RecordSuffix:    "}}",
		RecordDelimiter: ",",
	})
	g, _ := NewGenerator("http_requests", 1)
	w := NewBatchWriter(f, 1)
	for i := range 5 {
		w.Add(g, instant.Add(time.Duration(i)*time.Second))
	}
	if w.Records() != 5 || w.Len() != len(w.Bytes()) {
		t.Fatalf("records %d, len %d vs %d", w.Records(), w.Len(), len(w.Bytes()))
	}
	var doc struct {
		Events []struct {
			Info map[string]any `json:"info"`
		} `json:"events"`
	}
	if err := json.Unmarshal(w.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, w.Bytes())
	}
	if len(doc.Events) != 5 || len(doc.Events[0].Info) != 3 {
		t.Fatalf("got %+v", doc)
	}
	if !strings.HasSuffix(string(w.Bytes()), "}}\n]}\n") || strings.Contains(string(w.Bytes()), "}},\n]") {
		t.Errorf("delimiter after the last record:\n%s", w.Bytes())
	}
	// The writer starts over after Reset.
	w.Reset()
	w.Add(g, instant)
	if err := json.Unmarshal(w.Bytes(), &doc); err != nil || len(doc.Events) != 1 {
		t.Errorf("after Reset: %v %s", err, w.Bytes())
	}
}

func TestCSVOutput(t *testing.T) {
	f := MustFormat("http_requests", OutputOptions{OutputType: "csv", FieldNames: []string{"ClientIP", "EdgeStartTimestamp", "RayID", "EdgeResponseStatus"}, TimestampFormat: TimestampUnix})
	out := generate(t, "http_requests", Config{Seed: 1}, f, 50)
	re := regexp.MustCompile(`^"[0-9a-f.:]+",\d{10},"[0-9a-f]{16}",\d{3}$`)
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if !re.MatchString(l) {
			t.Fatalf("bad csv line %q", l)
		}
	}
	tsv := MustFormat("audit_logs", OutputOptions{OutputType: "csv", FieldDelimiter: "\t", FieldNames: []string{"ActionType", "ActionResult"}})
	if out := generate(t, "audit_logs", Config{Seed: 1}, tsv, 1); !regexp.MustCompile(`^"[a-z_]+"\t(true|false)\n$`).Match(out) {
		t.Errorf("tsv %q", out)
	}
}

func TestCVE202144228(t *testing.T) {
	// Find a Log4Shell attempt: its User-Agent carries "${jndi:".
	cfg := Config{Seed: 4, AttackBursts: 300}
	plain := MustFormat("http_requests", OutputOptions{FieldNames: []string{"RayID", "ClientRequestUserAgent"}})
	safe := MustFormat("http_requests", OutputOptions{FieldNames: []string{"RayID", "ClientRequestUserAgent"}, CVE202144228: true})
	g1, _ := NewGeneratorConfig("http_requests", cfg)
	g2, _ := NewGeneratorConfig("http_requests", cfg)
	found := 0
	for i := 0; i < 300000 && found < 3; i++ {
		a := g1.Append(nil, instant, plain)
		b := g2.Append(nil, instant, safe)
		if !bytes.Contains(a, []byte("${jndi:")) {
			if !bytes.Equal(a, b) {
				t.Fatalf("the option changed a record without ${: %s vs %s", a, b)
			}
			continue
		}
		found++
		if bytes.Contains(b, []byte("${")) || !bytes.Contains(b, []byte("x{jndi:")) {
			t.Fatalf("not rewritten: %s", b)
		}
		if !bytes.Equal(bytes.ReplaceAll(a, []byte("${"), []byte("x{")), b) {
			t.Fatalf("rewrite changed more than ${: %s vs %s", a, b)
		}
	}
	if found == 0 {
		t.Fatal("no Log4Shell attempt generated")
	}
	// Framing strings are rewritten too.
	f := MustFormat("audit_logs", OutputOptions{CVE202144228: true, FieldNames: []string{"ActionType"}, RecordPrefix: "${{", RecordSuffix: "}}\n"})
	if out := generate(t, "audit_logs", Config{Seed: 1}, f, 1); !bytes.HasPrefix(out, []byte("x{{")) {
		t.Errorf("prefix not rewritten: %q", out)
	}
}

func TestSampleRate(t *testing.T) {
	f := MustFormat("http_requests", OutputOptions{SampleRate: 0.25, FieldNames: []string{"RayID"}})
	run := func(seed uint64) (int, []byte) {
		g, _ := NewGenerator("http_requests", 1)
		w := NewBatchWriter(f, seed)
		kept := 0
		for range 20000 {
			if w.Add(g, instant) {
				kept++
			}
		}
		if kept != w.Records() {
			t.Fatalf("Add said %d kept, Records %d", kept, w.Records())
		}
		return kept, append([]byte(nil), w.Bytes()...)
	}
	kept, out := run(7)
	if kept < 4600 || kept > 5400 {
		t.Errorf("kept %d of 20000 at 0.25", kept)
	}
	if k2, out2 := run(7); k2 != kept || !bytes.Equal(out, out2) {
		t.Error("sampling is not deterministic")
	}
	if k3, _ := run(8); k3 == kept {
		t.Log("another seed kept as many records (possible, unlikely)")
	}
	// Sampled-out records still advance the generator: the kept records
	// are a subset of the unsampled stream.
	all := string(generate(t, "http_requests", Config{Seed: 1}, MustFormat("http_requests", OutputOptions{FieldNames: []string{"RayID"}}), 20000))
	for _, l := range strings.SplitAfter(string(out), "\n")[:100] {
		if !strings.Contains(all, l) {
			t.Fatalf("sampled record %q not in the full stream", l)
		}
	}
}

func TestFormatValidation(t *testing.T) {
	bad := map[string]struct {
		ds string
		o  OutputOptions
	}{
		"dataset":      {"nope", OutputOptions{}},
		"field":        {"http_requests", OutputOptions{FieldNames: []string{"RayID", "Datetime"}}},
		"duplicate":    {"http_requests", OutputOptions{FieldNames: []string{"RayID", "RayID"}}},
		"timestamp":    {"http_requests", OutputOptions{TimestampFormat: "iso8601"}},
		"sample high":  {"http_requests", OutputOptions{SampleRate: 1.5}},
		"sample low":   {"http_requests", OutputOptions{SampleRate: -0.1}},
		"output type":  {"http_requests", OutputOptions{OutputType: "xml"}},
		"template":     {"http_requests", OutputOptions{RecordTemplate: `{{.RayID}}`}},
		"scope fields": {"audit_logs", OutputOptions{FieldNames: []string{"ClientIP"}}},
	}
	for name, c := range bad {
		if _, err := NewFormat(c.ds, c.o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	o := MustFormat("audit_logs", OutputOptions{}).Options()
	if o.TimestampFormat != TimestampUnixNano || o.RecordPrefix != "{" || o.RecordSuffix != "}\n" || o.SampleRate != 1 || o.OutputType != "ndjson" || len(o.FieldNames) != 15 {
		t.Errorf("defaults: %+v", o)
	}
}

func TestFormatOfAnotherDatasetPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	g, _ := NewGenerator("audit_logs", 1)
	g.Append(nil, instant, MustFormat("http_requests", OutputOptions{}))
}

func TestAppendStringRoundTrip(t *testing.T) {
	cases := []string{"", "plain", `quote " and \ backslash`, "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f", "<script>&</script>",
		"ünïcödé ✓ 日本", "bad \xff utf8 \xc3", "${jndi:ldap://x}", "\u2028\u2029"}
	for _, s := range cases {
		enc := appendString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, enc, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want && !(strings.Contains(s, "\xc3") && utf8.ValidString(back)) {
			t.Errorf("%q -> %s -> %q", s, enc, back)
		}
	}
}
