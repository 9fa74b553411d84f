// Package esquery runs flarehose searches on Elasticsearch or OpenSearch:
// it translates the search language AST (internal/search) to query DSL and
// implements search.Engine over the data streams the elasticsearch sink
// writes (logs-<elastic dataset>-<namespace>).
//
// Translation follows the field's mapped type, read with _field_caps (so
// dynamically mapped fields are typed too):
//
//	field:v, field:"v"  keyword/wildcard/constant_keyword: term (exact, case-
//	                    sensitive); numbers: term on the parsed number (a
//	                    non-number is an invalid query); ip: term with the
//	                    address or CIDR prefix; date: the instant; text:
//	                    match_phrase; boolean: true/false
//	field:a*b           wildcard on keyword-like fields; on numbers and IPv4
//	                    fields a trailing * becomes ranges (4* = 4, 40-49,
//	                    400-499, ...; 10.1.* = 10.1.0.0/16); other patterns
//	                    there are invalid queries
//	field:*             exists
//	ranges              range on the typed value
//	free text           match_phrase (a word or phrase) or a lower-cased
//	                    wildcard on the catch-all field every value is copied
//	                    into (elasticsearch.CatchAllField), analyzed by the
//	                    standard analyzer: whole words, case-insensitive
//	NOT x               bool.must_not: events without the field match
//	_id:v               ids
//
// A field with several types across the searched indices gets one clause
// per type, each limited to that type's indices. An unmapped field matches
// nothing (and NOT of it everything).
package esquery

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
)

// Q is a query DSL object.
type Q = map[string]any

// queryError is a translation error caused by the query; it matches
// search.ErrInvalidQuery.
type queryError struct{ msg string }

func (e *queryError) Error() string        { return "query: " + e.msg }
func (e *queryError) Is(target error) bool { return target == search.ErrInvalidQuery }

func badQuery(format string, args ...any) error {
	return &queryError{msg: fmt.Sprintf(format, args...)}
}

// FieldType is one mapped type of a field and where it has it.
type FieldType struct {
	Type    string
	Indices []string // nil: every searched index that has the field
}

// Types says how fields are mapped; a missing field is unmapped.
type Types map[string][]FieldType

func matchNone() Q { return Q{"bool": Q{"must_not": []any{Q{"match_all": Q{}}}}} }

// Fields lists the fields a query names (to look their types up).
func Fields(n search.Node) []string {
	seen := map[string]bool{}
	var out []string
	search.Walk(n, func(n search.Node) bool {
		var f string
		switch n := n.(type) {
		case *search.Match:
			f = n.Field
		case *search.Wildcard:
			f = n.Field
		case *search.Exists:
			f = n.Field
		case *search.Range:
			f = n.Field
		}
		if f != "" && f != "_id" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
		return true
	})
	return out
}

// Translate turns a parsed query into query DSL, given the fields' types.
func Translate(n search.Node, types Types) (Q, error) {
	t := translator{types: types}
	return t.node(n)
}

type translator struct{ types Types }

func (t *translator) node(n search.Node) (Q, error) {
	switch n := n.(type) {
	case *search.MatchAll:
		return Q{"match_all": Q{}}, nil
	case *search.And:
		qs, err := t.list(n.Nodes)
		if err != nil {
			return nil, err
		}
		return Q{"bool": Q{"filter": qs}}, nil
	case *search.Or:
		qs, err := t.list(n.Nodes)
		if err != nil {
			return nil, err
		}
		return Q{"bool": Q{"should": qs, "minimum_should_match": 1}}, nil
	case *search.Not:
		q, err := t.node(n.Node)
		if err != nil {
			return nil, err
		}
		return Q{"bool": Q{"must_not": []any{q}}}, nil
	case *search.Match:
		if n.Field == "" {
			return Q{"match_phrase": Q{elasticsearch.CatchAllField: n.Value}}, nil
		}
		if n.Field == "_id" {
			return Q{"ids": Q{"values": []any{n.Value}}}, nil
		}
		return t.perType(n.Field, func(typ string) (Q, error) { return matchQ(n.Field, typ, n.Value) })
	case *search.Wildcard:
		if n.Field == "" {
			return Q{"wildcard": Q{elasticsearch.CatchAllField: Q{"value": strings.ToLower(n.Pattern())}}}, nil
		}
		if n.Field == "_id" {
			return nil, badQuery("_id takes exact ids, not wildcards")
		}
		return t.perType(n.Field, func(typ string) (Q, error) { return wildcardQ(n, typ) })
	case *search.Exists:
		if n.Field == "_id" {
			return Q{"match_all": Q{}}, nil
		}
		if err := search.CheckField(n.Field); err != nil {
			return nil, badQuery("%v", err)
		}
		return Q{"exists": Q{"field": n.Field}}, nil
	case *search.Range:
		if n.Field == "_id" {
			return nil, badQuery("_id does not take ranges")
		}
		return t.perType(n.Field, func(typ string) (Q, error) { return rangeQ(n, typ) })
	}
	return nil, fmt.Errorf("esquery: unknown query node %T", n)
}

func (t *translator) list(nodes []search.Node) ([]any, error) {
	out := make([]any, 0, len(nodes))
	for _, c := range nodes {
		q, err := t.node(c)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// perType builds one clause per mapped type of field; types whose clause is
// invalid for the value are skipped unless every one is.
func (t *translator) perType(field string, build func(typ string) (Q, error)) (Q, error) {
	if err := search.CheckField(field); err != nil {
		return nil, badQuery("%v", err)
	}
	fts := t.types[field]
	if len(fts) == 0 {
		return matchNone(), nil
	}
	if len(fts) == 1 {
		return build(fts[0].Type)
	}
	var should []any
	var firstErr error
	for _, ft := range fts {
		q, err := build(ft.Type)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if ft.Indices != nil {
			q = Q{"bool": Q{"filter": []any{Q{"terms": Q{"_index": toAny(ft.Indices)}}, q}}}
		}
		should = append(should, q)
	}
	if len(should) == 0 {
		return nil, firstErr
	}
	return Q{"bool": Q{"should": should, "minimum_should_match": 1}}, nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Type families.
func isKeywordLike(typ string) bool {
	switch typ {
	case "keyword", "constant_keyword", "wildcard", "version", "flattened", "flat_object":
		return true
	}
	return false
}

func isText(typ string) bool { return typ == "text" || typ == "match_only_text" }

func isInteger(typ string) bool {
	switch typ {
	case "long", "integer", "short", "byte", "unsigned_long":
		return true
	}
	return false
}

func isFloat(typ string) bool {
	switch typ {
	case "double", "float", "half_float", "scaled_float":
		return true
	}
	return false
}

func isDate(typ string) bool { return typ == "date" || typ == "date_nanos" }

// numValue parses v for a numeric field: ok=false (no error) means a number
// the field cannot hold exactly (403.5 for a long), which matches nothing.
func numValue(field, typ, v string) (any, bool, error) {
	if isInteger(typ) {
		if n, ok := search.ParseInt(v); ok {
			return n, true, nil
		}
		f, ok := search.ParseFloat(v)
		if !ok {
			return nil, false, badQuery("field %s is numeric: %q is not a number", field, v)
		}
		if f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return nil, false, nil
		}
		return int64(f), true, nil
	}
	f, ok := search.ParseFloat(v)
	if !ok {
		return nil, false, badQuery("field %s is numeric: %q is not a number", field, v)
	}
	return f, true, nil
}

func timeValue(field, v string) (string, error) {
	tm, ok := search.ParseTime(v)
	if !ok {
		return "", badQuery("field %s is a time: %q is not a time (use RFC 3339 like 2024-05-01T12:00:00Z, or a date)", field, v)
	}
	return tm.Format(time.RFC3339Nano), nil
}

const timeFormat = "strict_date_optional_time_nanos"

func matchQ(field, typ, v string) (Q, error) {
	switch {
	case isKeywordLike(typ):
		return Q{"term": Q{field: v}}, nil
	case isText(typ):
		return Q{"match_phrase": Q{field: v}}, nil
	case isInteger(typ), isFloat(typ):
		n, ok, err := numValue(field, typ, v)
		if err != nil {
			return nil, err
		}
		if !ok {
			return matchNone(), nil
		}
		return Q{"term": Q{field: n}}, nil
	case typ == "ip":
		p, ok := search.ParseIP(v)
		if !ok {
			return nil, badQuery("field %s holds IP addresses: %q is not an IP address or CIDR prefix", field, v)
		}
		if p.Bits() == p.Addr().BitLen() {
			return Q{"term": Q{field: p.Addr().String()}}, nil
		}
		return Q{"term": Q{field: p.String()}}, nil
	case isDate(typ):
		ts, err := timeValue(field, v)
		if err != nil {
			return nil, err
		}
		return Q{"range": Q{field: Q{"gte": ts, "lte": ts, "format": timeFormat}}}, nil
	case typ == "boolean":
		switch strings.ToLower(v) {
		case "true", "false":
			return Q{"term": Q{field: strings.ToLower(v) == "true"}}, nil
		}
		return nil, badQuery("field %s is true or false, not %q", field, v)
	case typ == "object", typ == "nested":
		return matchNone(), nil // an object has no value of its own
	}
	return nil, badQuery("field %s (%s) cannot be matched against a value", field, typ)
}

func wildcardQ(n *search.Wildcard, typ string) (Q, error) {
	switch {
	case isKeywordLike(typ):
		return Q{"wildcard": Q{n.Field: Q{"value": n.Pattern()}}}, nil
	case isText(typ):
		return Q{"wildcard": Q{n.Field: Q{"value": strings.ToLower(n.Pattern())}}}, nil
	case isInteger(typ):
		prefix, ok := trailingStar(n)
		if !ok {
			return nil, badQuery("field %s is numeric: only a trailing * is supported (e.g. 4*)", n.Field)
		}
		ranges, err := digitPrefixRanges(prefix)
		if err != nil {
			return nil, badQuery("field %s is numeric: %v", n.Field, err)
		}
		should := make([]any, len(ranges))
		for i, r := range ranges {
			should[i] = Q{"range": Q{n.Field: Q{"gte": r[0], "lte": r[1]}}}
		}
		return Q{"bool": Q{"should": should, "minimum_should_match": 1}}, nil
	case typ == "ip":
		prefix, ok := trailingStar(n)
		if !ok {
			return nil, badQuery("field %s holds IP addresses: only a trailing * is supported (e.g. 10.1.*)", n.Field)
		}
		ranges, err := ipv4PrefixRanges(prefix)
		if err != nil {
			return nil, badQuery("field %s holds IP addresses: %v", n.Field, err)
		}
		should := make([]any, len(ranges))
		for i, r := range ranges {
			should[i] = Q{"range": Q{n.Field: Q{"gte": r[0].String(), "lte": r[1].String()}}}
		}
		return Q{"bool": Q{"should": should, "minimum_should_match": 1}}, nil
	}
	return nil, badQuery("field %s (%s) does not take wildcards", n.Field, typ)
}

// trailingStar returns the prefix of a `prefix*` pattern.
func trailingStar(n *search.Wildcard) (string, bool) {
	if len(n.Parts) != 2 || n.Parts[1] != "" || n.Parts[0] == "" {
		return "", false
	}
	return n.Parts[0], true
}

// digitPrefixRanges: the non-negative integers whose decimal form starts
// with p (for "-4": the negative ones), as inclusive ranges.
func digitPrefixRanges(p string) ([][2]int64, error) {
	neg := strings.HasPrefix(p, "-")
	digits := strings.TrimPrefix(p, "-")
	if digits == "" {
		if neg {
			return [][2]int64{{math.MinInt64, -1}}, nil
		}
		return nil, fmt.Errorf("%q is not a number prefix", p)
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("%q is not a number prefix", p)
		}
	}
	if digits[0] == '0' {
		if len(digits) == 1 {
			return [][2]int64{{0, 0}}, nil // only 0 itself starts with "0"
		}
		return nil, nil
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is out of range", p)
	}
	var out [][2]int64
	for lo, hi := v, v; ; {
		if neg {
			out = append(out, [2]int64{-hi, -lo})
		} else {
			out = append(out, [2]int64{lo, hi})
		}
		if lo > math.MaxInt64/10 {
			break
		}
		lo *= 10
		if hi > (math.MaxInt64-9)/10 {
			hi = math.MaxInt64
		} else {
			hi = hi*10 + 9
		}
	}
	return out, nil
}

// ipv4PrefixRanges: the IPv4 addresses whose dotted form starts with p.
func ipv4PrefixRanges(p string) ([][2]netip.Addr, error) {
	octs := strings.Split(p, ".")
	if len(octs) > 4 {
		return nil, fmt.Errorf("%q is not an IPv4 prefix", p)
	}
	var fixed []byte
	for i, o := range octs[:len(octs)-1] {
		v, err := strconv.Atoi(o)
		if err != nil || v < 0 || v > 255 || (len(o) > 1 && o[0] == '0') || o == "" {
			return nil, fmt.Errorf("%q is not an IPv4 prefix (octet %d)", p, i+1)
		}
		fixed = append(fixed, byte(v))
	}
	last := octs[len(octs)-1]
	// Values of the partial octet whose decimal form starts with last.
	var vals [][2]int
	switch {
	case last == "":
		vals = [][2]int{{0, 255}}
	case len(last) > 3:
		return nil, fmt.Errorf("%q is not an IPv4 prefix", p)
	default:
		v, err := strconv.Atoi(last)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%q is not an IPv4 prefix", p)
		}
		if last[0] == '0' {
			if len(last) == 1 {
				vals = [][2]int{{0, 0}}
			}
		} else {
			for lo, hi := v, v; lo <= 255; lo, hi = lo*10, hi*10+9 {
				vals = append(vals, [2]int{lo, min(hi, 255)})
			}
		}
	}
	if last == "" && len(octs) == 1 {
		return nil, fmt.Errorf("%q is not an IPv4 prefix", p)
	}
	if len(octs) == 4 && last == "" {
		return nil, fmt.Errorf("%q is not an IPv4 prefix", p)
	}
	var out [][2]netip.Addr
	for _, r := range vals {
		var lo, hi [4]byte
		copy(lo[:], fixed)
		copy(hi[:], fixed)
		k := len(fixed)
		lo[k], hi[k] = byte(r[0]), byte(r[1])
		for j := k + 1; j < 4; j++ {
			lo[j], hi[j] = 0, 255
		}
		out = append(out, [2]netip.Addr{netip.AddrFrom4(lo), netip.AddrFrom4(hi)})
	}
	return out, nil
}

func rangeQ(n *search.Range, typ string) (Q, error) {
	body := Q{}
	set := func(b *search.Bound, op string, conv func(string) (any, error)) error {
		if b == nil {
			return nil
		}
		v, err := conv(b.Value)
		if err != nil {
			return err
		}
		if b.Inclusive {
			op += "e"
		}
		body[op] = v
		return nil
	}
	var conv func(string) (any, error)
	switch {
	case isKeywordLike(typ), isText(typ):
		conv = func(s string) (any, error) { return s, nil }
	case isInteger(typ), isFloat(typ):
		conv = func(s string) (any, error) {
			if f, ok := search.ParseFloat(s); ok {
				if isInteger(typ) {
					if i, ok := search.ParseInt(s); ok {
						return i, nil
					}
				}
				return f, nil
			}
			return nil, badQuery("field %s is numeric: %q is not a number", n.Field, s)
		}
	case typ == "ip":
		conv = func(s string) (any, error) {
			p, ok := search.ParseIP(s)
			if !ok || p.Bits() != p.Addr().BitLen() {
				return nil, badQuery("field %s holds IP addresses: range bound %q is not an IP address", n.Field, s)
			}
			return p.Addr().String(), nil
		}
	case isDate(typ):
		body["format"] = timeFormat
		conv = func(s string) (any, error) { return timeValue(n.Field, s) }
	case typ == "object", typ == "nested":
		return matchNone(), nil
	default:
		return nil, badQuery("field %s (%s) does not take ranges", n.Field, typ)
	}
	if err := set(n.Lower, "gt", conv); err != nil {
		return nil, err
	}
	if err := set(n.Upper, "lt", conv); err != nil {
		return nil, err
	}
	return Q{"range": Q{n.Field: body}}, nil
}
