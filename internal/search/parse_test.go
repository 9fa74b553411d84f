package search

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// Shorthands for building expected trees.
func m(field, value string) *Match  { return &Match{Field: field, Value: value} }
func ph(field, value string) *Match { return &Match{Field: field, Value: value, Phrase: true} }
func wc(field string, parts ...string) *Wildcard {
	return &Wildcard{Field: field, Parts: parts}
}
func and(n ...Node) *And  { return &And{Nodes: n} }
func or(n ...Node) *Or    { return &Or{Nodes: n} }
func not(n Node) *Not     { return &Not{Node: n} }
func ex(f string) *Exists { return &Exists{Field: f} }
func rng(f string, lo *Bound, hi *Bound) *Range {
	return &Range{Field: f, Lower: lo, Upper: hi}
}
func incl(v string) *Bound { return &Bound{Value: v, Inclusive: true} }
func excl(v string) *Bound { return &Bound{Value: v} }

func TestParse(t *testing.T) {
	tests := []struct {
		q    string
		want Node
		str  string // canonical String(); "" = same as q
	}{
		// empty and match-all
		{"", &MatchAll{}, "*"},
		{"   \t\n", &MatchAll{}, "*"},
		{"*", &MatchAll{}, ""},
		{"*:*", &MatchAll{}, "*"},

		// field:value
		{"http.response.status_code:404", m("http.response.status_code", "404"), ""},
		{"@timestamp:2024-01-01", m("@timestamp", "2024-01-01"), ""},
		{"cloudflare_logpush.http_request.edge.colo.code:FRA", m("cloudflare_logpush.http_request.edge.colo.code", "FRA"), ""},
		{"url.path : /api/v1", m("url.path", "/api/v1"), "url.path:/api/v1"},
		{"url.path: /api/v1", m("url.path", "/api/v1"), "url.path:/api/v1"},
		{`user_agent.original:"Mozilla/5.0 (X11; Linux)"`, ph("user_agent.original", "Mozilla/5.0 (X11; Linux)"), ""},
		{`url.path:"a \"b\" c\\d"`, ph("url.path", `a "b" c\d`), ""},
		{`f:""`, ph("f", ""), ""},
		{`f:a\ b`, m("f", "a b"), ""},
		{`f:a\*b`, m("f", "a*b"), ""},
		{`f:\(x\)`, m("f", "(x)"), ""},
		{`f:and`, m("f", "and"), ""},
		{`f:a:b`, m("f", "a:b"), ""},
		{`f:é`, m("f", "é"), ""},

		// IP / CIDR values stay text in the tree
		{"source.ip:10.0.0.0/8", m("source.ip", "10.0.0.0/8"), ""},
		{"source.ip:2001:db8::/32", m("source.ip", "2001:db8::/32"), ""},
		{"destination.ip:::1", m("destination.ip", "::1"), ""},

		// free text
		{"timeout", m("", "timeout"), ""},
		{`"gateway timeout"`, ph("", "gateway timeout"), ""},
		{`\and`, m("", "and"), ""},
		{`a\:b`, m("", "a:b"), ""},
		{`"AND"`, ph("", "AND"), ""},
		{"ORACLE android notation", and(m("", "ORACLE"), m("", "android"), m("", "notation")), "ORACLE AND android AND notation"},

		// wildcards and exists
		{"url.path:/api/*", wc("url.path", "/api/", ""), ""},
		{"url.domain:*.example.com", wc("url.domain", "", ".example.com"), ""},
		{"*admin*", wc("", "", "admin", ""), ""},
		{"a**b", wc("", "a", "b"), "a*b"},
		{"f:*a\\*b*", wc("f", "", "a*b", ""), ""},
		{"user.email:*", ex("user.email"), ""},
		{"f:**", ex("f"), "f:*"},

		// boolean structure
		{"a b", and(m("", "a"), m("", "b")), "a AND b"},
		{"a and b", and(m("", "a"), m("", "b")), "a AND b"},
		{"a or b", or(m("", "a"), m("", "b")), "a OR b"},
		{"not a", not(m("", "a")), "NOT a"},
		{"NOT NOT a", not(not(m("", "a"))), ""},
		{"a OR b AND c", or(m("", "a"), and(m("", "b"), m("", "c"))), ""},
		{"a AND b OR c", or(and(m("", "a"), m("", "b")), m("", "c")), ""},
		{"(a OR b) AND c", and(or(m("", "a"), m("", "b")), m("", "c")), ""},
		{"NOT a b", and(not(m("", "a")), m("", "b")), "NOT a AND b"},
		{"NOT (a b)", not(and(m("", "a"), m("", "b"))), "NOT (a AND b)"},
		{"(a AND b) AND (c AND d)", and(m("", "a"), m("", "b"), m("", "c"), m("", "d")), "a AND b AND c AND d"},
		{"((a))", m("", "a"), "a"},
		{"NOT(a)", not(m("", "a")), "NOT a"},
		{`event.action:block NOT source.geo.country_iso_code:US`,
			and(m("event.action", "block"), not(m("source.geo.country_iso_code", "US"))),
			`event.action:block AND NOT source.geo.country_iso_code:US`},

		// field groups
		{"http.response.status_code:(403 OR 429)", or(m("http.response.status_code", "403"), m("http.response.status_code", "429")), "http.response.status_code:403 OR http.response.status_code:429"},
		{`f:(a b* NOT "c d")`, and(m("f", "a"), wc("f", "b", ""), not(ph("f", "c d"))), `f:a AND f:b* AND NOT f:"c d"`},
		{"f:(a OR (b c))", or(m("f", "a"), and(m("f", "b"), m("f", "c"))), "f:a OR f:b AND f:c"},
		{"f:(*)", ex("f"), "f:*"},

		// ranges
		{"http.response.status_code >= 400", rng("http.response.status_code", incl("400"), nil), ""},
		{"http.response.status_code>=400", rng("http.response.status_code", incl("400"), nil), "http.response.status_code >= 400"},
		{"f > 1", rng("f", excl("1"), nil), ""},
		{"f < 1", rng("f", nil, excl("1")), ""},
		{"f <= 1.5", rng("f", nil, incl("1.5")), ""},
		{"f:>=400", rng("f", incl("400"), nil), "f >= 400"},
		{`@timestamp >= "2024-01-01T00:00:00Z"`, rng("@timestamp", incl("2024-01-01T00:00:00Z"), nil), "@timestamp >= 2024-01-01T00:00:00Z"},
		{"f:[400 TO 499]", rng("f", incl("400"), incl("499")), ""},
		{"f:{400 TO 499}", rng("f", excl("400"), excl("499")), ""},
		{"f:[400 to 499}", rng("f", incl("400"), excl("499")), "f:[400 TO 499}"},
		{"f:[400 TO *]", rng("f", incl("400"), nil), "f >= 400"},
		{"f:{* TO 5}", rng("f", nil, excl("5")), "f < 5"},
		{"f:[* TO *]", ex("f"), "f:*"},
		{`f:["a b" TO "*"]`, rng("f", incl("a b"), incl("*")), ""},
		{`f:["TO" TO z]`, rng("f", incl("TO"), incl("z")), ""},
		{"source.ip:[10.0.0.0 TO 10.255.255.255]", rng("source.ip", incl("10.0.0.0"), incl("10.255.255.255")), ""},
		{"NOT<0", rng("NOT", nil, excl("0")), "NOT:<0"},
		{"and:x", m("and", "x"), ""},
		{"f:[1 TO 2] g:x", and(rng("f", incl("1"), incl("2")), m("g", "x")), "f:[1 TO 2] AND g:x"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got, err := Parse(tt.q)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.q, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q)\n got  %s (%#v)\n want %s (%#v)", tt.q, got, got, tt.want, tt.want)
			}
			wantStr := tt.str
			if wantStr == "" {
				wantStr = tt.q
			}
			if s := got.String(); s != wantStr {
				t.Errorf("String() = %q, want %q", s, wantStr)
			}
			assertRoundTrip(t, got)
		})
	}
}

func assertRoundTrip(t *testing.T, n Node) {
	t.Helper()
	s := n.String()
	again, err := Parse(s)
	if err != nil {
		t.Fatalf("String() %q does not parse: %v", s, err)
	}
	if !reflect.DeepEqual(n, again) {
		t.Fatalf("String() %q parses to %#v, want %#v", s, again, n)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		q      string
		col    int
		substr string
	}{
		{"a AND", 6, `expected a term, a phrase, a field expression, NOT or "(", found end of query`},
		{"AND a", 1, `found "AND": AND needs an operand on each side`},
		{"a OR OR b", 6, `found "OR"`},
		{"NOT", 4, "found end of query"},
		{"(a", 3, `expected ")" to close "(" at column 1, found end of query`},
		{"(a b", 5, `expected ")" to close "(" at column 1`},
		{"a)", 2, `unexpected ")" without a matching "("`},
		{"()", 2, "empty parentheses"},
		{"a:", 3, `expected a value after "a:", found end of query`},
		{"a:)", 3, `expected a value after "a:", found ")"`},
		{"(a:)", 4, `expected a value after "a:"`},
		{`"abc`, 1, `unterminated phrase`},
		{`f:"abc\`, 7, `unterminated phrase started at column 3`},
		{`a\`, 2, `expected a character after "\"`},
		{":a", 1, `expected a field name before ":"`},
		{">= 4", 1, `expected a field name before ">"`},
		{"a >=", 5, `expected a value after ">=", found end of query`},
		{"a > *", 5, "a comparison needs a bound"},
		{"f:[1 TO", 8, `expected a value after "TO", found end of query`},
		{"f:[1 2]", 6, `expected "TO" in the range started at column 3, found "2"`},
		{"f:[1 TO 2", 10, `expected "]" or "}" to close the range started at column 3, found end of query`},
		{"f:[1* TO 2]", 4, "wildcards are not allowed in a range bound"},
		{"f:[]", 4, `expected a value after "[", found "]"`},
		{"x.y*:z", 1, "wildcards in field names are not supported"},
		{"x:y:[1 TO 2]", -1, ""}, // not an error: value "y:[1" ... see below
		{`a\.b:c`, 1, "escapes are not allowed in field names"},
		{"a..b:c", 1, `invalid field name "a..b": empty segment`},
		{".a:c", 1, "empty segment"},
		{"a.:c", 1, "empty segment"},
		{"a';DROP--:x", 1, `character '\'' is not allowed`},
		{"a';DROP TABLE events;--:x", 15, `invalid field name "events;--": character ';' is not allowed`},
		{`é:x`, 1, `character 'Ã' is not allowed`},
		{"f:(a:b OR [1 TO 2])", 11, "ranges are not allowed inside a field group"},
		{"a\x00b", 2, "control character U+0000 is not allowed"},
		{"ab\xffc", 3, "invalid UTF-8"},
		{"éé\xff", 3, "invalid UTF-8"},
		{strings.Repeat("a", MaxQueryBytes+1), MaxQueryBytes + 1, "query is longer than"},
		{strings.Repeat("(", MaxDepth+1) + "a" + strings.Repeat(")", MaxDepth+1), MaxDepth + 1, "nested more than"},
		{strings.Repeat("NOT ", MaxDepth+1) + "a", 4*MaxDepth + 1, "nested more than"},
		{strings.Repeat("a ", MaxClauses+1), 2*MaxClauses + 2, "more than 1024 clauses"},
		{"f:" + strings.Repeat("x", MaxFieldLength) + ":1", 3, ""}, // value "xxx:1": fine
		{strings.Repeat("x", MaxFieldLength+1) + ":1", 1, "field name is longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.q[:min(len(tt.q), 40)], func(t *testing.T) {
			n, err := Parse(tt.q)
			if tt.substr == "" {
				if err != nil {
					t.Fatalf("Parse(%q): unexpected error %v", tt.q, err)
				}
				assertRoundTrip(t, n)
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error containing %q", tt.q, n, tt.substr)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if !errors.Is(err, ErrInvalidQuery) {
				t.Errorf("errors.Is(err, ErrInvalidQuery) = false")
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q does not contain %q", err, tt.substr)
			}
			if pe.Column != tt.col {
				t.Errorf("error %q: column %d, want %d", err, pe.Column, tt.col)
			}
			if pe.Pos < 0 || pe.Pos > len(tt.q) {
				t.Errorf("Pos %d out of range", pe.Pos)
			}
		})
	}
}

func TestParseLongValueAccepted(t *testing.T) {
	// A long but legal query: one 10 000-character value.
	q := "url.path:" + strings.Repeat("a", 10000)
	n, err := Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.(*Match).Value; len(got) != 10000 {
		t.Fatalf("value length %d", len(got))
	}
	// Just below the depth limit parses.
	d := MaxDepth
	q = strings.Repeat("(", d) + "a" + strings.Repeat(")", d)
	if _, err := Parse(q); err != nil {
		t.Fatal(err)
	}
}

func TestPrintEscapes(t *testing.T) {
	// Trees a caller may build by hand print to text that parses back.
	nodes := []Node{
		m("", `a "b" (c) d:e *f* <g> \h`),
		m("f", `[x`),
		m("f", `<x`),
		m("f", "a b\tc"),
		m("", "not"),
		m("", "Or"),
		ph("", `say "hi" \o/`),
		wc("f", "[a", "b c", ""),
		wc("", "and", ""),
		rng("f", incl(""), incl("to")),
		rng("f", incl("a]b"), excl("*")),
		rng("f", excl("x y"), nil),
		not(or(m("", "a"), and(m("", "b"), m("", "c")))),
		or(and(m("", "a"), m("", "b")), m("", "c")),
	}
	for _, n := range nodes {
		assertRoundTrip(t, n)
	}
}

func TestWildcardPattern(t *testing.T) {
	w := wc("f", "a*b", "c?", "")
	if got, want := w.Pattern(), `a\*b*c\?*`; got != want {
		t.Fatalf("Pattern() = %q, want %q", got, want)
	}
}

func TestWalk(t *testing.T) {
	n, err := Parse("a:1 OR NOT (b:2 c:3)")
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	Walk(n, func(n Node) bool {
		if mm, ok := n.(*Match); ok {
			fields = append(fields, mm.Field)
		}
		return true
	})
	if strings.Join(fields, ",") != "a,b,c" {
		t.Fatalf("fields = %v", fields)
	}
}

func TestValueHelpers(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"10.1.2.3/8", "10.0.0.0/8", true},
		{"10.1.2.3", "10.1.2.3/32", true},
		{"::ffff:10.1.2.3", "10.1.2.3/32", true},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", true},
		{"2001:db8::1/32", "2001:db8::/32", true},
		{"fe80::1%eth0", "fe80::1/128", true},
		{"10.0.0.0/33", "", false},
		{"example.com", "", false},
	} {
		p, ok := ParseIP(tt.in)
		if ok != tt.ok || (ok && p.String() != tt.want) {
			t.Errorf("ParseIP(%q) = %v, %v; want %v, %v", tt.in, p, ok, tt.want, tt.ok)
		}
	}
	for _, s := range []string{"1", "-2.5", "1e3"} {
		if _, ok := ParseFloat(s); !ok {
			t.Errorf("ParseFloat(%q) failed", s)
		}
	}
	for _, s := range []string{"", "NaN", "inf", "0x10", "1_000", "abc"} {
		if _, ok := ParseFloat(s); ok {
			t.Errorf("ParseFloat(%q) succeeded", s)
		}
	}
	for _, s := range []string{"2024-01-02", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123+02:00", "2024-01-02 03:04:05", "2024-01-02T03:04"} {
		if _, ok := ParseTime(s); !ok {
			t.Errorf("ParseTime(%q) failed", s)
		}
	}
	if tm, _ := ParseTime("2024-01-02T03:04:05+02:00"); tm.Hour() != 1 || tm.Location().String() != "UTC" {
		t.Errorf("ParseTime zone handling: %v", tm)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a", `a:b c:"d e" NOT f:*`, "x >= 4 AND y:[1 TO 5}", "(a OR b*) c",
		"source.ip:10.0.0.0/8", `f:(a OR "b" OR NOT c*)`, `\*\:\\`, "*:*", "a:b:c",
		`f:["a" TO *]`, "NOT NOT (x)", "é*ü", "f:<=3", "a\tb\nc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		n, err := Parse(q)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, not *ParseError", err)
			}
			if pe.Pos < 0 || pe.Pos > len(q) || pe.Column < 1 {
				t.Fatalf("bad error position %+v for %q", pe, q)
			}
			return
		}
		s := n.String()
		if !utf8.ValidString(s) {
			t.Fatalf("String() is not valid UTF-8: %q", s)
		}
		if len(s) > MaxQueryBytes {
			return // escaping can push a maximal query over the limit
		}
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String() %q fails: %v", q, s, err)
		}
		if !reflect.DeepEqual(n, again) {
			t.Fatalf("Parse(%q) = %#v; String() %q parses to %#v", q, n, s, again)
		}
	})
}
