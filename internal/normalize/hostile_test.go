package normalize

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestHostileInput: each record is rejected with its reason code, dst is
// left untouched, and the normalizer keeps working for the next record.
func TestHostileInput(t *testing.T) {
	deep := func(n int) string {
		return `{"Metadata":` + strings.Repeat(`{"a":`, n) + `1` + strings.Repeat(`}`, n+1)
	}
	deepArr := func(n int) string {
		return `{"BotTags":` + strings.Repeat(`[`, n) + `"x"` + strings.Repeat(`]`, n) + `}`
	}
	wide := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
		}
		return b.String() + "}"
	}
	cases := []struct {
		name, ds, line, reason string
	}{
		{"truncated", "http_requests", `{"RayID":"abc"`, "invalid_json"},
		{"garbage", "http_requests", `RayID=abc`, "invalid_json"},
		{"trailing data", "http_requests", `{"RayID":"a"} {"RayID":"b"}`, "invalid_json"},
		{"unterminated string", "http_requests", `{"RayID":"abc}`, "invalid_json"},
		{"array", "http_requests", `[{"RayID":"a"}]`, "not_object"},
		{"string", "http_requests", `"hello"`, "not_object"},
		{"number", "firewall_events", `42`, "not_object"},
		{"null", "audit_logs", `null`, "not_object"},
		{"true", "audit_logs", `true`, "not_object"},
		{"deep object", "firewall_events", deep(40), "too_deep"},
		{"deep array", "http_requests", deepArr(40), "too_deep"},
		{"very deep", "http_requests", deep(400), "too_deep"},
		{"unknown deep", "audit_logs", `{"Whatever":` + strings.Repeat(`[`, 50) + strings.Repeat(`]`, 50) + `}`, "too_deep"},
		{"10 MB field", "http_requests", `{"ClientRequestUserAgent":"` + strings.Repeat("A", 10<<20) + `"}`, "too_large"},
		{"2 MB field", "http_requests", `{"ClientRequestUserAgent":"` + strings.Repeat("A", 2<<20) + `"}`, "too_large"},
		{"2 MB key", "http_requests", `{"Cookies":{"` + strings.Repeat("k", 2<<20) + `":"v"}}`, "too_large"},
		{"NaN", "http_requests", `{"BotScore":NaN}`, "bad_number"},
		{"nan keyword", "http_requests", `{"BotDetectionIDs":[nan]}`, "bad_number"},
		{"Inf", "firewall_events", `{"Unknown":-Inf}`, "bad_number"},
		{"1e400", "audit_logs", `{"Metadata":{"x":1e400}}`, "bad_number"},
		{"leading plus", "audit_logs", `{"Metadata":{"x":+1}}`, "bad_number"},
		{"double dot", "audit_logs", `{"NewValue":{"x":1.2.3}}`, "bad_number"},
		{"wide", "http_requests", wide(50000), "too_many_fields"},
		{"duplicate known", "http_requests", `{"RayID":"a","ClientIP":"192.0.2.1","RayID":"b"}`, "duplicate_key"},
		{"duplicate unknown", "http_requests", `{"Foo":1,"Foo":2}`, "duplicate_key"},
		{"duplicate nested", "audit_logs", `{"Metadata":{"a":1,"b":2,"a":3}}`, "duplicate_key"},
		{"duplicate escaped", "http_requests", `{"RayID":"a","Ray\u0049D":"b"}`, "duplicate_key"},
	}
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			out, _, err := n.Normalize(c.ds, []byte(c.line), dst)
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("got %v (%T), want a *RecordError %s; output %.200s", err, err, c.reason, out)
			}
			if re.Reason != c.reason {
				t.Errorf("reason %s (%v), want %s", re.Reason, err, c.reason)
			}
			if len(re.Msg) > 300 || re.Msg == "" {
				t.Errorf("message not short and clear: %.400q", re.Msg)
			}
			if string(out) != "keep" {
				t.Errorf("dst changed: %.100q", out)
			}
			// The normalizer is still fine.
			doc, _, err := n.Normalize("http_requests", []byte(`{"RayID":"ok"}`), nil)
			if err != nil || !json.Valid(doc) {
				t.Fatalf("next record: %v %s", err, doc)
			}
		})
	}
}

func TestRecordSizeLimit(t *testing.T) {
	env := newTestEnv(t, Options{MaxRecordBytes: 1000})
	big := `{"RayID":"` + strings.Repeat("x", 1000) + `"}`
	_, _, err := env.NewNormalizer().Normalize("http_requests", []byte(big), nil)
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != "too_large" {
		t.Fatalf("got %v", err)
	}
}

// TestInvalidUTF8 and friends: input JSON that is sloppy but parseable
// always gives valid JSON output.
func TestSloppyStringsGiveValidJSON(t *testing.T) {
	env := newTestEnv(t, Options{PreserveOriginal: true})
	n := env.NewNormalizer()
	for _, line := range []string{
		"{\"ClientRequestUserAgent\":\"bad \xff\xfe utf8 \xc3\",\"RayID\":\"\xe2\x82\"}",
		"{\"ClientRequestPath\":\"/a\x01b\x1f\",\"Cookies\":{\"k\xff\":\"v\x00\"}}",
		`{"RayID":"bad escape \x and \u12 and \ud800 lone surrogate"}`,
		"{\"Unknown\xff\xfeKey\":\"v\",\"ClientRequestURI\":\"/\xff?\xfe\"}",
		`{"ClientRequestURI":"/%zz/%e2%82?%%","ClientRequestHost":"h\"o\\st"}`,
		"{\"ClientRequestUserAgent\":\"Mozilla\u2028\u2029 \\\"quoted\\\" \\\\ back\"}",
	} {
		doc, _, err := n.Normalize("http_requests", []byte(line), nil)
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if !json.Valid(doc) || !utf8.Valid(doc) {
			t.Errorf("%q: invalid output %q", line, doc)
		}
		checkDoc(t, doc)
	}
}
