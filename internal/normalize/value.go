package normalize

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// maxDepth bounds the nesting of a field value (objects and arrays).
const maxDepth = 32

// failf marks the record as rejected (hostile input); the first failure wins.
func (r *Rec) failf(reason, format string, a ...any) {
	if r.fail == nil {
		r.fail = &RecordError{Reason: reason, Msg: fmt.Sprintf(format, a...)}
	}
}

// appendClean appends v as JSON, dropping null, "", empty objects and empty
// arrays at every level (Elastic's final cleanup script; with DropNA also
// "N/A" object members). ok is false when nothing is left, and dst may then
// hold a partial value the caller must cut. Hostile values (bad numbers,
// duplicate keys, deep nesting, huge strings) fail the record.
func (r *Rec) appendClean(dst []byte, v *fastjson.Value, depth int, member bool) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if len(b) == 0 || (member && r.s.ds.DropNA && string(b) == "N/A") {
			return dst, false
		}
		if len(b) > r.n.env.maxField {
			r.failf("too_large", "a string value is %d bytes (limit %d)", len(b), r.n.env.maxField)
			return dst, false
		}
		return ecsjson.AppendStringBytes(dst, b), true
	case fastjson.TypeNumber:
		off := len(dst)
		dst = v.MarshalTo(dst)
		if !validFiniteNumber(b2s(dst[off:])) {
			r.failf("bad_number", "%q is not a finite JSON number", truncate(b2s(dst[off:]), 40))
			return dst[:off], false
		}
		return dst, true
	case fastjson.TypeTrue:
		return append(dst, "true"...), true
	case fastjson.TypeFalse:
		return append(dst, "false"...), true
	case fastjson.TypeNull:
		return dst, false
	case fastjson.TypeArray:
		if depth >= maxDepth {
			r.failf("too_deep", "values nest deeper than %d levels", maxDepth)
			return dst, false
		}
		arr, _ := v.Array()
		start := len(dst)
		dst = append(dst, '[')
		n := 0
		for _, e := range arr {
			mark := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			dst, ok = r.appendClean(dst, e, depth+1, false)
			if r.fail != nil {
				return dst[:start], false
			}
			if !ok {
				dst = dst[:mark]
				continue
			}
			n++
		}
		if n == 0 {
			return dst[:start], false
		}
		return append(dst, ']'), true
	case fastjson.TypeObject:
		if depth >= maxDepth {
			r.failf("too_deep", "values nest deeper than %d levels", maxDepth)
			return dst, false
		}
		o, _ := v.Object()
		start := len(dst)
		dst = append(dst, '{')
		n := 0
		base := len(r.keys)
		var seen map[string]struct{}
		if o.Len() > 64 {
			seen = make(map[string]struct{}, o.Len())
		}
		o.Visit(func(k []byte, e *fastjson.Value) {
			if r.fail != nil {
				return
			}
			key := b2s(k)
			if seen != nil {
				if _, dup := seen[key]; dup {
					r.failf("duplicate_key", "duplicate key %q in an object", truncate(key, 40))
					return
				}
				seen[key] = struct{}{}
			} else {
				for _, prev := range r.keys[base:] {
					if prev == key {
						r.failf("duplicate_key", "duplicate key %q in an object", truncate(key, 40))
						return
					}
				}
				r.keys = append(r.keys, key)
			}
			if len(k) > r.n.env.maxField {
				r.failf("too_large", "an object key is %d bytes", len(k))
				return
			}
			mark := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = ecsjson.AppendKey(dst, key)
			var ok bool
			dst, ok = r.appendClean(dst, e, depth+1, true)
			if !ok {
				dst = dst[:mark]
				return
			}
			n++
		})
		r.keys = r.keys[:base]
		if r.fail != nil || n == 0 {
			return dst[:start], false
		}
		return append(dst, '}'), true
	}
	return dst, false
}

// validFiniteNumber: strict JSON number syntax, and finite as a float64
// (1e400 is valid JSON but no consumer can store it).
func validFiniteNumber(s string) bool {
	if !ecsjson.ValidNumber(s) {
		return false
	}
	if len(s) > 300 || hasExponent(s) {
		f, err := strconv.ParseFloat(s, 64)
		return err == nil && !math.IsInf(f, 0)
	}
	return true
}

func hasExponent(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			return true
		}
	}
	return false
}

// convStatus is the outcome of a typed conversion.
type convStatus uint8

const (
	convOK    convStatus = iota
	convEmpty            // nothing to write (null, "", empty array)
	convFail             // the value does not have the field's type
)

// convert appends v converted to t (arrays element by element, like
// Elastic's convert processor). It also returns the parsed time for
// Timestamp values.
func (r *Rec) convert(dst []byte, t Type, v *fastjson.Value) ([]byte, convStatus, int64) {
	switch v.Type() {
	case fastjson.TypeNull:
		return dst, convEmpty, 0
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if len(b) == 0 || (t == String && r.s.ds.DropNA && string(b) == "N/A") {
			return dst, convEmpty, 0
		}
	case fastjson.TypeArray:
		if t == Timestamp {
			return dst, convFail, 0
		}
		arr, _ := v.Array()
		start := len(dst)
		dst = append(dst, '[')
		n := 0
		for _, e := range arr {
			if e.Type() == fastjson.TypeNull {
				continue
			}
			mark := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			var st convStatus
			dst, st, _ = r.convertScalar(dst, t, e)
			switch {
			case st == convEmpty && t == String: // "" elements: dropped by the final cleanup
				dst = dst[:mark]
				continue
			case st != convOK:
				return dst[:start], convFail, 0
			}
			n++
		}
		if n == 0 {
			return dst[:start], convEmpty, 0
		}
		return append(dst, ']'), convOK, 0
	}
	return r.convertScalar(dst, t, v)
}

func (r *Rec) convertScalar(dst []byte, t Type, v *fastjson.Value) ([]byte, convStatus, int64) {
	vt := v.Type()
	var s string
	if vt == fastjson.TypeString {
		b, _ := v.StringBytes()
		s = b2s(b)
		if s == "" {
			return dst, convEmpty, 0
		}
	}
	switch t {
	case Long:
		switch vt {
		case fastjson.TypeNumber:
			off := len(dst)
			dst = v.MarshalTo(dst)
			raw := b2s(dst[off:])
			if !ecsjson.IsInteger(raw) {
				return dst[:off], convFail, 0
			}
			if len(raw) > 18 { // up to 18 digits always fit
				if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
					return dst[:off], convFail, 0
				}
			}
			return dst, convOK, 0
		case fastjson.TypeString:
			n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
			if err != nil {
				return dst, convFail, 0
			}
			return ecsjson.AppendInt(dst, n), convOK, 0
		}
	case Double:
		switch vt {
		case fastjson.TypeNumber:
			off := len(dst)
			dst = v.MarshalTo(dst)
			if !validFiniteNumber(b2s(dst[off:])) {
				return dst[:off], convFail, 0
			}
			return dst, convOK, 0
		case fastjson.TypeString:
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return dst, convFail, 0
			}
			dst, _ = ecsjson.AppendFloat(dst, f)
			return dst, convOK, 0
		}
	case Bool:
		if b, ok := readBool(v); ok {
			return strconv.AppendBool(dst, b), convOK, 0
		}
	case IP:
		if vt == fastjson.TypeString && validIP(s) {
			return ecsjson.AppendString(dst, s), convOK, 0
		}
	case String:
		switch vt {
		case fastjson.TypeString:
			if len(s) > r.n.env.maxField {
				r.failf("too_large", "a string value is %d bytes (limit %d)", len(s), r.n.env.maxField)
				return dst, convFail, 0
			}
			return ecsjson.AppendString(dst, s), convOK, 0
		case fastjson.TypeNumber: // the number's text as it came
			off := len(dst)
			dst = append(dst, '"')
			dst = v.MarshalTo(dst)
			if !validFiniteNumber(b2s(dst[off+1:])) {
				return dst[:off], convFail, 0
			}
			return append(dst, '"'), convOK, 0
		case fastjson.TypeTrue:
			return append(dst, `"true"`...), convOK, 0
		case fastjson.TypeFalse:
			return append(dst, `"false"`...), convOK, 0
		}
	case Timestamp:
		if vt == fastjson.TypeNumber || vt == fastjson.TypeString {
			if ns, ok := parseTimeValue(v); ok {
				return appendTimeMillisCached(&r.n.tc, dst, ns), convOK, ns
			}
		}
	case Keyword:
		var ok bool
		dst, ok = r.appendClean(dst, v, 1, true)
		if !ok {
			return dst, convEmpty, 0
		}
		return dst, convOK, 0
	}
	return dst, convFail, 0
}

// applyField writes one table row for the record.
func (r *Rec) applyField(f *cfield, v *fastjson.Value) {
	keepDup := r.keepDup
	off := len(r.arena)
	var (
		b      []byte
		status convStatus
		ns     int64
	)
	if f.Type == Keyword && v.Type() == fastjson.TypeString {
		// Fast path for the common case, a string.
		sb, _ := v.StringBytes()
		switch {
		case len(sb) == 0 || (r.s.ds.DropNA && string(sb) == "N/A"):
			b, status = r.arena, convEmpty
		case len(sb) > r.n.env.maxField:
			r.failf("too_large", "a string value is %d bytes (limit %d)", len(sb), r.n.env.maxField)
			return
		default:
			b, status = ecsjson.AppendStringBytes(r.arena, sb), convOK
		}
	} else if f.Type == Keyword {
		var ok bool
		b, ok = r.appendClean(r.arena, v, 0, true)
		if r.fail != nil {
			r.arena = r.arena[:off]
			return
		}
		status = convOK
		if !ok {
			status = convEmpty
			b = b[:off]
		}
	} else {
		b, status, ns = r.convert(r.arena, f.Type, v)
		if status == convOK && f.intStrings && !integers(v) {
			b, status = b[:off], convFail
		}
	}
	r.arena = b
	end := len(b)

	switch status {
	case convEmpty:
		// A rename of an empty value still occupies the target (Elastic's
		// "if still null" renames then skip), but nothing is written.
		if f.Type == Keyword && f.custom.Valid() && !r.claimed(f.custom) {
			r.assign(f.custom, off, off)
		}
		// "N/A" is only dropped by Elastic's final cleanup: related.* and
		// enrichments saw it before (and lists keep it).
		if v.Type() == fastjson.TypeString && (f.related != NoRelated || f.enrich != nil) {
			if sb, _ := v.StringBytes(); len(sb) > 0 {
				if f.related != NoRelated {
					r.AddRelated(f.related, b2s(sb))
				}
				if f.enrich != nil {
					f.enrich(r, b2s(sb))
				}
			}
		}
		return
	case convFail:
		// Nothing is written: a value of the wrong type in a typed field
		// would make Elasticsearch reject the whole document (and give the
		// store's typed column garbage). The record keeps it in
		// event.original, and a later row may still fill the targets, like
		// Elastic's "rename if still null" after a failed convert. The value
		// must still be sound JSON (a NaN or a duplicate key rejects the
		// record, as anywhere else): it is checked, not kept.
		if r.appendClean(r.arena, v, 0, true); r.fail != nil {
			return
		}
		r.AddError(conversionError(f.Src, v, f.Type.String()))
		return
	}

	if f.custom.Valid() && !r.claimed(f.custom) {
		if f.custom.dup && !keepDup {
			r.assign(f.custom, off, off)
		} else {
			r.assign(f.custom, off, end)
		}
	}
	if !f.extra {
		return
	}
	var str string
	isStr := v.Type() == fastjson.TypeString
	if isStr {
		sb, _ := v.StringBytes()
		str = b2s(sb)
	}
	for _, target := range [2]SlotRef{f.ecs, f.copy} {
		if !target.Valid() || r.claimed(target) {
			continue
		}
		if isStr && (f.Lower || f.TrimPrefix != "") {
			t := strings.TrimPrefix(str, f.TrimPrefix)
			if f.Lower {
				r.SetLower(target, t)
			} else {
				r.SetString(target, t)
			}
			continue
		}
		r.assign(target, off, end)
		if f.Type == Timestamp && target == r.s.timestamp {
			r.tsNS, r.hasTS = ns, true
		}
	}
	if f.related != NoRelated && isStr {
		r.AddRelated(f.related, str)
	}
	if f.enrich != nil && isStr {
		f.enrich(r, str)
	}
}

// ---- reading values (for Derive functions) ----
//
// They read a value the way the engine's conversions do, so that a Derive
// function deciding on a converted value agrees with the table.

// readBool reads a boolean like Elastic's convert to boolean: true / false,
// or the strings "true" / "false" in any case.
func readBool(v *fastjson.Value) (val, ok bool) {
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

// readLong reads an integer like Elastic's convert to long: a JSON integer
// (1.5 and 1e2 are not), or a string holding a base-10 one.
func readLong(v *fastjson.Value) (int64, bool) {
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

// integers reports whether v is an integer (readLong), or an array whose
// elements are integers, null or "".
func integers(v *fastjson.Value) bool {
	if v.Type() != fastjson.TypeArray {
		_, ok := readLong(v)
		return ok
	}
	arr, _ := v.Array()
	for _, e := range arr {
		if isEmpty(e) { // null, "": dropped by the final cleanup
			continue
		}
		if _, ok := readLong(e); !ok {
			return false
		}
	}
	return true
}

// isEmpty: v is missing, null or "" (what a rename keeps nothing of).
func isEmpty(v *fastjson.Value) bool {
	if v == nil {
		return true
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return len(b) == 0
	}
	return false
}

// stringOf returns v's string when v is a non-empty JSON string. The
// string is only valid during the current record.
func stringOf(v *fastjson.Value) (string, bool) {
	if v == nil || v.Type() != fastjson.TypeString {
		return "", false
	}
	b, _ := v.StringBytes()
	return b2s(b), len(b) > 0
}

// validIP is Elastic's convert to ip check: an IPv4 or IPv6 address.
func validIP(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// conversionError is the error.message of a value that does not convert
// to its field's type: the field, the value (shortened) and the type.
func conversionError(src string, v *fastjson.Value, typ string) string {
	return src + ": cannot convert " + describe(v) + " to " + typ
}

// describe renders a value for an error message: a string quoted, other
// values as JSON, shortened to about 64 bytes.
func describe(v *fastjson.Value) string {
	if v.Type() == fastjson.TypeString {
		b, _ := v.StringBytes()
		return strconv.Quote(truncate(b2s(b), 64))
	}
	var buf [80]byte
	b := v.MarshalTo(buf[:0])
	if len(b) > 64 {
		return truncate(b2s(b), 64) // a copy
	}
	return string(b)
}

// truncate shortens s to at most n bytes (not splitting a UTF-8 sequence)
// plus "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// snakeCase turns a Cloudflare field name into an ECS-style member name:
// ClientIPClass -> client_ip_class, JA4Signals -> ja4_signals. Characters
// other than letters and digits become '_' (so names never contain dots).
func snakeCase(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	prev := byte(0) // class of the previous byte: 'l' lower, 'u' upper, 'd' digit, '_' other
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			next := byte(0)
			if i+1 < len(s) {
				next = s[i+1]
			}
			if prev == 'l' || ((prev == 'u' || prev == 'd') && next >= 'a' && next <= 'z') {
				b.WriteByte('_')
			}
			b.WriteByte(c + 'a' - 'A')
			prev = 'u'
		case c >= 'a' && c <= 'z':
			b.WriteByte(c)
			prev = 'l'
		case c >= '0' && c <= '9':
			b.WriteByte(c)
			prev = 'd'
		default:
			if prev != '_' && b.Len() > 0 {
				b.WriteByte('_')
			}
			prev = '_'
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out == "" {
		return "_"
	}
	return out
}
