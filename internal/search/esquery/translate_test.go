package esquery

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/flarehose/flarehose/internal/search"
)

var testTypes = Types{
	"http.response.status_code": {{Type: "long"}},
	"event.risk_score":          {{Type: "float"}},
	"source.ip":                 {{Type: "ip"}},
	"url.path":                  {{Type: "wildcard"}},
	"http.request.method":       {{Type: "keyword"}},
	"error.message":             {{Type: "match_only_text"}},
	"@timestamp":                {{Type: "date"}},
	"tls.established":           {{Type: "boolean"}},
	"data_stream.dataset":       {{Type: "constant_keyword"}},
	"mixed":                     {{Type: "keyword", Indices: []string{"i1"}}, {Type: "long", Indices: []string{"i2"}}},
}

func translate(t *testing.T, q string) (string, error) {
	t.Helper()
	n, err := search.Parse(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	dsl, err := Translate(n, testTypes)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(dsl)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), nil
}

func TestTranslate(t *testing.T) {
	for _, tt := range []struct{ q, want string }{
		{"*", `{"match_all":{}}`},
		{"http.request.method:GET", `{"term":{"http.request.method":"GET"}}`},
		{"http.response.status_code:403", `{"term":{"http.response.status_code":403}}`},
		{"http.response.status_code:403.0", `{"term":{"http.response.status_code":403}}`},
		{"http.response.status_code:403.5", `{"bool":{"must_not":[{"match_all":{}}]}}`},
		{"event.risk_score:1.5", `{"term":{"event.risk_score":1.5}}`},
		{"source.ip:10.0.0.0/8", `{"term":{"source.ip":"10.0.0.0/8"}}`},
		{"source.ip:::ffff:10.1.2.3", `{"term":{"source.ip":"10.1.2.3"}}`},
		{`error.message:"gateway timeout"`, `{"match_phrase":{"error.message":"gateway timeout"}}`},
		{"tls.established:TRUE", `{"term":{"tls.established":true}}`},
		{"url.path:/api/*", `{"wildcard":{"url.path":{"value":"/api/*"}}}`},
		{`url.path:a\*b*`, `{"wildcard":{"url.path":{"value":"a\\*b*"}}}`},
		{"url.path:*", `{"exists":{"field":"url.path"}}`},
		{"http.response.status_code >= 400", `{"range":{"http.response.status_code":{"gte":400}}}`},
		{"http.response.status_code:{400 TO 500]", `{"range":{"http.response.status_code":{"gt":400,"lte":500}}}`},
		{"source.ip < 10.0.0.9", `{"range":{"source.ip":{"lt":"10.0.0.9"}}}`},
		{"@timestamp >= 2024-05-01", `{"range":{"@timestamp":{"format":"strict_date_optional_time_nanos","gte":"2024-05-01T00:00:00Z"}}}`},
		{"@timestamp:2024-05-01T09:00:00Z", `{"range":{"@timestamp":{"format":"strict_date_optional_time_nanos","gte":"2024-05-01T09:00:00Z","lte":"2024-05-01T09:00:00Z"}}}`},
		{"NOT http.request.method:GET", `{"bool":{"must_not":[{"term":{"http.request.method":"GET"}}]}}`},
		{"a.b:x", `{"bool":{"must_not":[{"match_all":{}}]}}`}, // unmapped
		{"_id:abc", `{"ids":{"values":["abc"]}}`},
		{"Googlebot", `{"match_phrase":{"flarehose.text":"Googlebot"}}`},
		{`"gateway timeout"`, `{"match_phrase":{"flarehose.text":"gateway timeout"}}`},
		{"*Brute*", `{"wildcard":{"flarehose.text":{"value":"*brute*"}}}`},
		{"http.request.method:GET OR http.request.method:POST", `{"bool":{"minimum_should_match":1,"should":[{"term":{"http.request.method":"GET"}},{"term":{"http.request.method":"POST"}}]}}`},
		{"http.request.method:GET source.ip:10.1.2.3", `{"bool":{"filter":[{"term":{"http.request.method":"GET"}},{"term":{"source.ip":"10.1.2.3"}}]}}`},
		// a field with two types: one clause per type, each on its indices
		{"mixed:42", `{"bool":{"minimum_should_match":1,"should":[{"bool":{"filter":[{"terms":{"_index":["i1"]}},{"term":{"mixed":"42"}}]}},{"bool":{"filter":[{"terms":{"_index":["i2"]}},{"term":{"mixed":42}}]}}]}}`},
		{"mixed:abc", `{"bool":{"minimum_should_match":1,"should":[{"bool":{"filter":[{"terms":{"_index":["i1"]}},{"term":{"mixed":"abc"}}]}}]}}`},
	} {
		got, err := translate(t, tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.q, got, tt.want)
		}
	}
}

func TestTranslateErrors(t *testing.T) {
	for _, q := range []string{
		"http.response.status_code:abc",
		"http.response.status_code >= high",
		"http.response.status_code:4*3",
		"source.ip:not-an-ip",
		"source.ip >= 10.0.0.0/8",
		"source.ip:2001:db8:*",
		"@timestamp >= yesterday",
		"@timestamp:now",
		"@timestamp:2024*",
		"tls.established:maybe",
		"_id:ab*",
	} {
		_, err := translate(t, q)
		if !errors.Is(err, search.ErrInvalidQuery) {
			t.Errorf("%s: %v, want ErrInvalidQuery", q, err)
		}
	}
}

func TestDigitPrefixRanges(t *testing.T) {
	r, err := digitPrefixRanges("4")
	if err != nil {
		t.Fatal(err)
	}
	if r[0] != [2]int64{4, 4} || r[1] != [2]int64{40, 49} || r[2] != [2]int64{400, 499} || r[len(r)-1] != [2]int64{4e18, 4999999999999999999} {
		t.Errorf("4*: %v", r)
	}
	// every range really holds numbers starting with the prefix
	for _, p := range []string{"4", "40", "9", "123", "-4"} {
		rs, err := digitPrefixRanges(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range rs {
			for _, v := range []int64{x[0], x[1]} {
				if s := strconvI(v); !strings.HasPrefix(s, p) {
					t.Errorf("%s*: %d in %v", p, v, x)
				}
			}
		}
	}
	if r, _ := digitPrefixRanges("0"); !slices.Equal(r, [][2]int64{{0, 0}}) {
		t.Errorf("0*: %v", r)
	}
	if r, _ := digitPrefixRanges("05"); r != nil {
		t.Errorf("05*: %v", r)
	}
	for _, bad := range []string{"", "a", "4.5", "99999999999999999999"} {
		if _, err := digitPrefixRanges(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func strconvI(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestIPv4PrefixRanges(t *testing.T) {
	for _, tt := range []struct{ p, want string }{
		{"10.1.", "[10.1.0.0-10.1.255.255]"},
		{"10.1", "[10.1.0.0-10.1.255.255 10.10.0.0-10.19.255.255 10.100.0.0-10.199.255.255]"},
		{"10.", "[10.0.0.0-10.255.255.255]"},
		{"2", "[2.0.0.0-2.255.255.255 20.0.0.0-29.255.255.255 200.0.0.0-255.255.255.255]"},
		{"1.2.3.4", "[1.2.3.4-1.2.3.4 1.2.3.40-1.2.3.49]"},
		{"1.2.3.0", "[1.2.3.0-1.2.3.0]"},
	} {
		rs, err := ipv4PrefixRanges(tt.p)
		if err != nil {
			t.Errorf("%s: %v", tt.p, err)
			continue
		}
		var parts []string
		for _, r := range rs {
			parts = append(parts, r[0].String()+"-"+r[1].String())
		}
		if got := "[" + strings.Join(parts, " ") + "]"; got != tt.want {
			t.Errorf("%s*: %s, want %s", tt.p, got, tt.want)
		}
	}
	for _, bad := range []string{"", "300.", "1.2.3.4.", "a.b", "1.2.3.4.5", "01."} {
		if _, err := ipv4PrefixRanges(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestFields(t *testing.T) {
	n, err := search.Parse(`a:1 AND (b:x* OR NOT c:*) AND d >= 3 AND free AND _id:z AND a:2`)
	if err != nil {
		t.Fatal(err)
	}
	if got := Fields(n); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("Fields = %v", got)
	}
}
