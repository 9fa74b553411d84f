package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/flarehose/flarehose/internal/search"
)

// Translation of the search AST to a DuckDB WHERE clause.
//
// Every user value is a bound parameter (?); the only user text that reaches
// the SQL is a field name, and only inside a JSON path literal after
// search.CheckField has limited it to [A-Za-z0-9_@-] and dots (checked again
// here). Rules:
//
//	field:v / field:"v"  typed column: col = ? (VARCHAR[]: list_contains;
//	                     numeric: the value must be a number; IP: address
//	                     -> col_num = ?, CIDR -> col_num BETWEEN ? AND ?;
//	                     @timestamp: the value must be a time)
//	                     other path: json_extract_string(doc, '$."a"."b"') = ?,
//	                     or any element when the JSON value is an array
//	field:a*b            col LIKE ? (ESCAPE '\' only when the value has a
//	                     literal % _ or \; non-text columns cast to text)
//	field:*              col IS NOT NULL / json value not null
//	ranges               numeric columns numerically; IP columns on col_num;
//	                     @timestamp as times; VARCHAR lexicographically;
//	                     JSON paths numerically (TRY_CAST) when every bound
//	                     is a number, else as text
//	free text / phrase   contains(lower(CAST(doc AS VARCHAR)), lower(?)), the
//	                     term JSON-escaped so quotes and backslashes match
//	                     the stored text; with wildcards lower(doc) LIKE
//	                     '%a%b%'. A substring scan of whole documents: the
//	                     slow path at 10^8 rows (measured ~3x faster than
//	                     ILIKE, which DuckDB does not turn into contains)
//	NOT x                (x) IS NOT TRUE: events without the field match, as
//	                     in Elasticsearch
type translator struct {
	sc   *schema
	b    strings.Builder
	args []any
}

// queryError is a translation error caused by the query; it matches
// search.ErrInvalidQuery.
type queryError struct{ msg string }

func (e *queryError) Error() string        { return "query: " + e.msg }
func (e *queryError) Is(target error) bool { return target == search.ErrInvalidQuery }

func badQuery(format string, args ...any) error {
	return &queryError{msg: fmt.Sprintf(format, args...)}
}

// where builds the WHERE clause (without the keyword) for a request: time
// range and dataset on typed columns, then the query.
func (sc *schema) where(r search.Request) (string, []any, error) {
	t := &translator{sc: sc}
	t.b.WriteString("TRUE")
	if !r.Since.IsZero() {
		t.b.WriteString(" AND ts >= make_timestamp(?)")
		t.args = append(t.args, r.Since.UnixMicro())
	}
	if !r.Until.IsZero() {
		t.b.WriteString(" AND ts < make_timestamp(?)")
		t.args = append(t.args, r.Until.UnixMicro())
	}
	if r.Dataset != "" {
		if !utf8.ValidString(r.Dataset) || strings.ContainsFunc(r.Dataset, unicode.IsControl) {
			return "", nil, badQuery("invalid dataset name %q", r.Dataset)
		}
		t.b.WriteString(" AND dataset = ?")
		t.args = append(t.args, r.Dataset)
	}
	n, err := search.Parse(r.Query)
	if err != nil {
		return "", nil, err
	}
	if _, all := n.(*search.MatchAll); !all {
		t.b.WriteString(" AND ")
		if err := t.node(n); err != nil {
			return "", nil, err
		}
	}
	return t.b.String(), t.args, nil
}

func (t *translator) w(s ...string) {
	for _, x := range s {
		t.b.WriteString(x)
	}
}

// arg writes a placeholder for v.
func (t *translator) arg(v any) {
	t.b.WriteByte('?')
	t.args = append(t.args, v)
}

func (t *translator) node(n search.Node) error {
	switch n := n.(type) {
	case *search.MatchAll:
		t.w("TRUE")
	case *search.And:
		return t.list(n.Nodes, " AND ")
	case *search.Or:
		return t.list(n.Nodes, " OR ")
	case *search.Not:
		t.w("((")
		if err := t.node(n.Node); err != nil {
			return err
		}
		t.w(") IS NOT TRUE)")
	case *search.Match:
		if n.Field == "" {
			t.freeText([]string{n.Value})
			return nil
		}
		return t.match(n)
	case *search.Wildcard:
		if n.Field == "" {
			t.freeText(n.Parts)
			return nil
		}
		return t.wildcard(n)
	case *search.Exists:
		return t.exists(n.Field)
	case *search.Range:
		return t.rangeQ(n)
	default:
		return fmt.Errorf("store: unknown query node %T", n)
	}
	return nil
}

func (t *translator) list(nodes []search.Node, sep string) error {
	t.w("(")
	for i, c := range nodes {
		if i > 0 {
			t.w(sep)
		}
		if err := t.node(c); err != nil {
			return err
		}
	}
	t.w(")")
	return nil
}

// resolve maps a field to its column or its JSON path.
func (sc *schema) resolve(field string) (fieldRef, error) {
	if ref, ok := sc.byPath[field]; ok {
		return ref, nil
	}
	if err := search.CheckField(field); err != nil {
		return fieldRef{}, badQuery("%v", err)
	}
	// CheckField allows only [A-Za-z0-9_@-.]; refuse anything that could end
	// the literal or the quoted JSON key, whatever CheckField becomes.
	if strings.ContainsAny(field, `'"\`) {
		return fieldRef{}, badQuery("invalid field name %q", field)
	}
	var p strings.Builder
	p.WriteString("'$")
	for _, seg := range strings.Split(field, ".") {
		p.WriteString(`."`)
		p.WriteString(seg)
		p.WriteString(`"`)
	}
	p.WriteString("'")
	return fieldRef{kind: kJSON, col: p.String(), field: field}, nil
}

// jsonScalar is the SQL text of a JSON field's value.
func jsonScalar(path string) string { return "json_extract_string(doc, " + path + ")" }

func (t *translator) match(n *search.Match) error {
	ref, err := t.sc.resolve(n.Field)
	if err != nil {
		return err
	}
	v := n.Value
	switch ref.kind {
	case kString:
		t.w("(", ref.col, " = ")
		t.arg(v)
		t.w(")")
	case kList:
		t.w("list_contains(", ref.col, ", ")
		t.arg(v)
		t.w(")")
	case kInt, kFloat:
		num, err := numArg(ref, v)
		if err != nil {
			return err
		}
		t.w("(", ref.col, " = ")
		t.arg(num)
		t.w(")")
	case kIP:
		p, ok := search.ParseIP(v)
		if !ok {
			return badQuery("field %s holds IP addresses: %q is not an IP address or CIDR prefix", ref.field, v)
		}
		lo, hi := ipRange(p)
		if lo == hi {
			t.w("(", ref.num, " = ")
			t.arg(lo)
			t.w("::UHUGEINT)")
		} else {
			t.w("(", ref.num, " BETWEEN ")
			t.arg(lo)
			t.w("::UHUGEINT AND ")
			t.arg(hi)
			t.w("::UHUGEINT)")
		}
	case kTime:
		tm, err := timeArg(ref, v)
		if err != nil {
			return err
		}
		t.w("(", ref.col, " = make_timestamp(")
		t.arg(tm)
		t.w("))")
	case kJSON:
		// One JSON parse per row (DuckDB shares the repeated extraction);
		// an array value matches when any element does.
		x := jsonScalar(ref.col)
		t.w("(", x, " = ")
		t.arg(v)
		t.w(" OR (starts_with(", x, ", '[') AND list_contains(TRY_CAST(", x, " AS JSON)->>'$[*]', ")
		t.arg(v)
		t.w(")))")
	}
	return nil
}

func numArg(ref fieldRef, v string) (any, error) {
	if ref.kind == kInt {
		if n, ok := search.ParseInt(v); ok {
			return n, nil
		}
	}
	if f, ok := search.ParseFloat(v); ok {
		return f, nil
	}
	return nil, badQuery("field %s is numeric: %q is not a number", ref.field, v)
}

func timeArg(ref fieldRef, v string) (int64, error) {
	tm, ok := search.ParseTime(v)
	if !ok {
		return 0, badQuery("field %s is a time: %q is not a time (use RFC 3339 like 2024-05-01T12:00:00Z, or a date)", ref.field, v)
	}
	return tm.UnixMicro(), nil
}

// like writes "<expr> LIKE ?" for the wildcard parts. The ESCAPE clause is
// added only when a part contains a LIKE metacharacter: DuckDB turns plain
// patterns into prefix/suffix/contains scans, but not escaped ones.
func (t *translator) like(expr string, parts []string) {
	t.w(expr, " LIKE ")
	t.arg(likePattern(parts))
	for _, p := range parts {
		if strings.ContainsAny(p, `\%_`) {
			t.w(` ESCAPE '\'`)
			break
		}
	}
}

// likePattern turns wildcard parts into a LIKE pattern with '\' as escape.
func likePattern(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('%')
		}
		b.WriteString(escapeLike(p))
	}
	return b.String()
}

func escapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '\\' || r == '%' || r == '_' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (t *translator) wildcard(n *search.Wildcard) error {
	ref, err := t.sc.resolve(n.Field)
	if err != nil {
		return err
	}
	switch ref.kind {
	case kString, kIP:
		t.w("(")
		t.like(ref.col, n.Parts)
		t.w(")")
	case kList:
		t.w("(len(list_filter(", ref.col, ", lambda x: ")
		t.like("x", n.Parts)
		t.w(")) > 0)")
	case kInt, kFloat, kTime:
		t.w("(")
		t.like("CAST("+ref.col+" AS VARCHAR)", n.Parts)
		t.w(")")
	case kJSON:
		x := jsonScalar(ref.col)
		t.w("(")
		t.like(x, n.Parts)
		t.w(" OR (starts_with(", x, ", '[') AND len(list_filter(TRY_CAST(", x, " AS JSON)->>'$[*]', lambda x: ")
		t.like("x", n.Parts)
		t.w(")) > 0))")
	}
	return nil
}

func (t *translator) exists(field string) error {
	ref, err := t.sc.resolve(field)
	if err != nil {
		return err
	}
	switch ref.kind {
	case kList:
		t.w("(len(", ref.col, ") > 0)")
	case kJSON:
		t.w("(", jsonScalar(ref.col), " IS NOT NULL)")
	default:
		t.w("(", ref.col, " IS NOT NULL)")
	}
	return nil
}

func (t *translator) rangeQ(n *search.Range) error {
	ref, err := t.sc.resolve(n.Field)
	if err != nil {
		return err
	}
	bounds := []*search.Bound{n.Lower, n.Upper}
	ops := [2][2]string{{" > ", " >= "}, {" < ", " <= "}}
	// cond writes "<expr> op <prefix>?<suffix>" for each bound, with the
	// value conv returns.
	cond := func(expr, prefix, suffix string, conv func(string) (any, error)) error {
		t.w("(")
		first := true
		for i, b := range bounds {
			if b == nil {
				continue
			}
			v, err := conv(b.Value)
			if err != nil {
				return err
			}
			if !first {
				t.w(" AND ")
			}
			first = false
			op := ops[i][0]
			if b.Inclusive {
				op = ops[i][1]
			}
			t.w(expr, op, prefix)
			t.arg(v)
			t.w(suffix)
		}
		t.w(")")
		return nil
	}
	text := func(s string) (any, error) { return s, nil }
	switch ref.kind {
	case kString:
		return cond(ref.col, "", "", text)
	case kList:
		t.w("(len(list_filter(", ref.col, ", lambda x: ")
		if err := cond("x", "", "", text); err != nil {
			return err
		}
		t.w(")) > 0)")
		return nil
	case kInt, kFloat:
		return cond(ref.col, "", "", func(s string) (any, error) { return numArg(ref, s) })
	case kIP:
		return cond(ref.num, "", "::UHUGEINT", func(s string) (any, error) {
			p, ok := search.ParseIP(s)
			if !ok || p.Bits() != p.Addr().BitLen() {
				return nil, badQuery("field %s holds IP addresses: range bound %q is not an IP address", ref.field, s)
			}
			lo, _ := ipRange(p)
			return lo, nil
		})
	case kTime:
		return cond(ref.col, "make_timestamp(", ")", func(s string) (any, error) { return timeArg(ref, s) })
	case kJSON:
		numeric := true
		for _, b := range bounds {
			if b != nil {
				if _, ok := search.ParseFloat(b.Value); !ok {
					numeric = false
				}
			}
		}
		if numeric {
			return cond("TRY_CAST("+jsonScalar(ref.col)+" AS DOUBLE)", "", "", func(s string) (any, error) {
				f, _ := search.ParseFloat(s)
				return f, nil
			})
		}
		return cond(jsonScalar(ref.col), "", "", text)
	}
	return nil
}

// freeText matches the parts (joined by wildcards) anywhere in the document
// text, case-insensitively (both sides lower-cased). Each part is JSON-
// escaped first, because that is how it appears in the stored text. A plain
// term is a contains() scan, the fastest DuckDB has for this.
func (t *translator) freeText(parts []string) {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = strings.ToLower(jsonEscape(p))
	}
	if len(esc) == 1 {
		t.w("contains(lower(CAST(doc AS VARCHAR)), ")
		t.arg(esc[0])
		t.w(")")
		return
	}
	// "anywhere" means unanchored at both ends: brut* matches "...brute...".
	if esc[0] != "" {
		esc = append([]string{""}, esc...)
	}
	if esc[len(esc)-1] != "" {
		esc = append(esc, "")
	}
	t.w("(")
	t.like("lower(CAST(doc AS VARCHAR))", esc)
	t.w(")")
}

// jsonEscape returns s as it appears inside a JSON string (without quotes),
// in the form encoding/json and most encoders write: \" \\ \n \t \uXXXX for
// other control characters; '<', '>' and '&' unescaped.
func jsonEscape(s string) string {
	needs := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			needs = true
			break
		}
	}
	if !needs {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}
