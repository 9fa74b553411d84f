package normalize

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// Helpers of the "edge" datasets (email_security_alerts,
// email_security_post_delivery_events, nel_reports, page_shield_events,
// workers_trace_events, websocket_analytics, zaraz_events, audit_logs_v2).
// They only use the engine's package-internal API (Rec.appendClean,
// begin/commit, the time formatter); no engine file is changed.

// edgeSetClean writes v, cleaned like Elastic's final cleanup script (null,
// "", empty objects and arrays dropped; "N/A" too with Dataset.DropNA), to
// slot s: Elastic's set copy_from / rename of a value of any JSON type. A
// duplicate slot is skipped without KeepDuplicateFields. It reports whether
// something was written.
func edgeSetClean(r *Rec, s SlotRef, v *fastjson.Value) bool {
	if v == nil || !s.Valid() || (s.dup && !r.KeepDuplicates()) {
		return false
	}
	b := r.begin()
	b, ok := r.appendClean(b, v, 0, true)
	if !ok || r.fail != nil {
		return false
	}
	r.commit(s, b)
	return true
}

// edgeStrings calls fn for each non-empty string of v: v itself when it is a
// string (only if scalar), or its string elements when it is an array
// (Elastic's foreach ... append '{{{_ingest._value}}}'; other element types
// are skipped).
func edgeStrings(v *fastjson.Value, scalar bool, fn func(string)) {
	if v == nil {
		return
	}
	switch v.Type() {
	case fastjson.TypeString:
		if scalar {
			if b, _ := v.StringBytes(); len(b) > 0 {
				fn(b2s(b))
			}
		}
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, e := range arr {
			if e.Type() == fastjson.TypeString {
				if b, _ := e.StringBytes(); len(b) > 0 {
					fn(b2s(b))
				}
			}
		}
	}
}

// edgeStringArray writes the unique non-empty strings of v (a string or an
// array; see edgeStrings) as a JSON array to slot s: Elastic's append with
// allow_duplicates: false into an ECS list such as email.to.address.
// Nothing is written when there is none.
func edgeStringArray(r *Rec, s SlotRef, v *fastjson.Value) {
	if v == nil || (s.dup && !r.KeepDuplicates()) {
		return
	}
	b := append(r.scratch[:0], '[')
	n := 0
	switch v.Type() {
	case fastjson.TypeString:
		if str, ok := edgeStringOf(v); ok {
			b = ecsjson.AppendString(b, str)
			n++
		}
	case fastjson.TypeArray:
		arr, _ := v.Array()
	next:
		for i, e := range arr {
			str, ok := edgeStringOf(e)
			if !ok {
				continue
			}
			for _, p := range arr[:i] {
				if ps, ok := edgeStringOf(p); ok && ps == str {
					continue next
				}
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = ecsjson.AppendString(b, str)
			n++
		}
	}
	b = append(b, ']')
	r.scratch = b
	if n == 0 {
		r.Unset(s)
		return
	}
	r.SetRaw(s, b)
}

// edgeEmailDomains adds to related.hosts the domain of every related.user
// entry that is an address (exactly one '@', at least 3 characters), as the
// script of Elastic's email_security_alerts pipeline does.
func edgeEmailDomains(r *Rec) {
	users := r.related[RelatedUser]
	for _, u := range users {
		if len(u) < 3 || utf8.RuneCountInString(u) < 3 {
			continue
		}
		i := strings.IndexByte(u, '@')
		if i < 0 || strings.IndexByte(u[i+1:], '@') >= 0 {
			continue
		}
		r.AddRelated(RelatedHosts, u[i+1:])
	}
}

// edgeTime parses a table field holding a Cloudflare timestamp (any format
// the Timestamp type accepts) to unix nanoseconds.
func edgeTime(r *Rec, f FieldRef) (int64, bool) {
	v := r.Value(f)
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber, fastjson.TypeString:
		return parseTimeValue(v)
	}
	return 0, false
}

// edgeSetTime writes a time as RFC 3339 UTC with milliseconds.
func edgeSetTime(r *Rec, s SlotRef, ns int64) {
	if s.dup && !r.KeepDuplicates() {
		return
	}
	b := r.begin()
	b = appendTimeMillisCached(&r.n.tc, b, ns)
	r.commit(s, b)
}

// edgeSpan writes ECS event.start, event.end and event.duration (ns) from
// two timestamp fields (either may be missing).
type edgeSpan struct {
	startF, endF         FieldRef
	start, end, duration SlotRef
}

func bindEdgeSpan(s *Schema, start, end string) edgeSpan {
	return edgeSpan{
		startF: s.Field(start), endF: s.Field(end),
		start: s.Slot("event.start"), end: s.Slot("event.end"), duration: s.Slot("event.duration"),
	}
}

// apply writes the span; altStart / altEnd (-1: none) are the same times
// under other names (the account-scope spelling of a dataset).
func (sp edgeSpan) apply(r *Rec, altStart, altEnd FieldRef) {
	st, okS := edgeTime(r, sp.startF)
	if !okS && altStart >= 0 {
		st, okS = edgeTime(r, altStart)
	}
	en, okE := edgeTime(r, sp.endF)
	if !okE && altEnd >= 0 {
		en, okE = edgeTime(r, altEnd)
	}
	if okS {
		edgeSetTime(r, sp.start, st)
	}
	if okE {
		edgeSetTime(r, sp.end, en)
	}
	if okS && okE && en >= st {
		r.SetInt(sp.duration, en-st)
	}
}

// edgeURIError is the error.message of a failed uri_parts processor.
func edgeURIError(tag, raw string) string {
	return tag + ": unable to parse URI [" + truncate(raw, 64) + "]"
}

// edgeStringOf returns v's string when it is a non-empty JSON string.
func edgeStringOf(v *fastjson.Value) (string, bool) {
	if v == nil || v.Type() != fastjson.TypeString {
		return "", false
	}
	b, _ := v.StringBytes()
	return b2s(b), len(b) > 0
}

// edgeBool reads a boolean like Elastic's convert to boolean: true / false,
// or the strings "true" / "false" in any case.
func edgeBool(v *fastjson.Value) (val, ok bool) {
	if v == nil {
		return false, false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		switch {
		case strings.EqualFold(b2s(b), "true"):
			return true, true
		case strings.EqualFold(b2s(b), "false"):
			return false, true
		}
	}
	return false, false
}

// edgeInt reads an integer: a JSON integer, or a string holding one (like
// Elastic's convert to long).
func edgeInt(v *fastjson.Value) (int64, bool) {
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		n, err := v.Int64()
		return n, err == nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		n, err := strconv.ParseInt(strings.TrimPrefix(b2s(b), "+"), 10, 64)
		return n, err == nil
	}
	return 0, false
}
