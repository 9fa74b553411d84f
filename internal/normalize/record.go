package normalize

import (
	"strings"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// Rec is the document being built for one record. Output fields live in
// slots (one per schema path) whose encoded JSON values sit in a reusable
// arena; a generation counter marks which slots belong to the current
// record, so nothing is cleared between records.
//
// Dataset Derive functions read source values with Value/String and write
// with the Set* methods, which overwrite whatever the table wrote.
type Rec struct {
	n      *Normalizer
	s      *Schema
	gen    uint32
	slots  []slotVal
	fields []fieldVal
	arena  []byte
	mark   int

	related [numRelated][]string
	errs    []string
	extras  []extra
	keys    []string // stack of object keys, for duplicate detection
	pbuf    []string
	xids    []int32
	xkeys   [][]byte
	xkeyBuf []byte
	scratch []byte // free for Derive functions, valid until the next use
	pathBuf []byte // dotted path of the nested member being visited (nested.go)
	nest    ecsjson.Nester

	body          []byte
	keepDup       bool
	tsNS          int64
	hasTS         bool
	forceOriginal bool
	unknown       int
	fail          *RecordError
}

type slotVal struct {
	gen      uint32
	off, end uint32 // arena range; off == end: claimed but empty (not written)
}

type fieldVal struct {
	gen uint32
	v   *fastjson.Value
}

type extra struct {
	src      string
	key      string
	off, end uint32
}

func (r *Rec) reset(s *Schema, body []byte) {
	r.s = s
	r.gen++
	if r.gen == 0 { // wrapped: stale stamps could match again
		clear(r.slots)
		clear(r.fields)
		r.gen = 1
	}
	if len(r.slots) < len(s.slots) {
		r.slots = make([]slotVal, len(s.slots))
	}
	if len(r.fields) < len(s.fields) {
		r.fields = make([]fieldVal, len(s.fields))
	}
	r.arena = r.arena[:0]
	for i := range r.related {
		r.related[i] = r.related[i][:0]
	}
	r.errs = r.errs[:0]
	r.extras = r.extras[:0]
	r.keys = r.keys[:0]
	r.body = body
	r.keepDup = r.n.tags.KeepDuplicateFields
	r.tsNS, r.hasTS, r.forceOriginal = 0, false, false
	r.unknown = 0
	r.fail = nil
}

// ---- reading source values (for Derive functions) ----

// Value returns the raw value of a table field in this record, or nil.
func (r *Rec) Value(f FieldRef) *fastjson.Value {
	fv := &r.fields[f]
	if fv.gen != r.gen {
		return nil
	}
	return fv.v
}

// String returns the value of a table field when it is a JSON string.
// The string is only valid during the current record.
func (r *Rec) String(f FieldRef) (string, bool) {
	v := r.Value(f)
	if v == nil || v.Type() != fastjson.TypeString {
		return "", false
	}
	b, _ := v.StringBytes()
	return b2s(b), true
}

// IP returns the value of a table field when it is an IP address string
// (what Elastic's convert to ip keeps), else "".
func (r *Rec) IP(f FieldRef) string {
	if s, ok := r.String(f); ok && validIP(s) {
		return s
	}
	return ""
}

// KeepDuplicates reports whether Elastic's duplicate custom fields are kept.
func (r *Rec) KeepDuplicates() bool { return r.keepDup }

// AccountID is Options.AccountID.
func (r *Rec) AccountID() string { return r.n.env.opts.AccountID }

// ---- writing output fields ----

// Raw returns the encoded JSON value of a slot, or nil when it is not set.
// It is only valid during the current record.
func (r *Rec) Raw(s SlotRef) []byte {
	sv := &r.slots[s.id]
	if sv.gen != r.gen || sv.end <= sv.off {
		return nil
	}
	return r.arena[sv.off:sv.end]
}

// CopySlot writes src's value (if set) to dst, like Elastic's set with
// copy_from.
func (r *Rec) CopySlot(dst, src SlotRef) {
	if sv := r.slots[src.id]; sv.gen == r.gen && sv.end > sv.off && !(dst.dup && !r.KeepDuplicates()) {
		r.assign(dst, int(sv.off), int(sv.end))
	}
}

// IsSet reports whether the slot holds a value for this record.
func (r *Rec) IsSet(s SlotRef) bool {
	sv := &r.slots[s.id]
	return sv.gen == r.gen && sv.end > sv.off
}

// Unset removes a slot's value.
func (r *Rec) Unset(s SlotRef) { r.slots[s.id].gen = 0 }

// SetString writes a string field; an empty string writes nothing (Elastic
// drops empty values), like a duplicate slot without KeepDuplicateFields.
func (r *Rec) SetString(s SlotRef, v string) {
	if v == "" || (s.dup && !r.KeepDuplicates()) {
		return
	}
	b := r.begin()
	b = ecsjson.AppendString(b, v)
	r.commit(s, b)
}

// SetLower writes a string field lowercased (like Elastic's lowercase
// processor), without allocating for ASCII.
func (r *Rec) SetLower(s SlotRef, v string) {
	if v == "" || (s.dup && !r.KeepDuplicates()) {
		return
	}
	b := r.begin()
	b = appendLowerString(b, v)
	r.commit(s, b)
}

func appendLowerString(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return ecsjson.AppendString(dst, strings.ToLower(v))
		}
	}
	dst = append(dst, '"')
	start := len(dst)
	dst = append(dst, v...)
	for i := start; i < len(dst); i++ {
		if c := dst[i]; c >= 'A' && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	lowered := dst[start:]
	if ecsjson.NeedsEscape(lowered) {
		tmp := append([]byte(nil), lowered...)
		dst = ecsjson.AppendStringBytes(dst[:start-1], tmp)
		return dst
	}
	return append(dst, '"')
}

// SetInt writes an integer field.
func (r *Rec) SetInt(s SlotRef, v int64) {
	if s.dup && !r.KeepDuplicates() {
		return
	}
	b := r.begin()
	b = ecsjson.AppendInt(b, v)
	r.commit(s, b)
}

// SetRaw writes pre-encoded JSON.
func (r *Rec) SetRaw(s SlotRef, json []byte) {
	if s.dup && !r.KeepDuplicates() {
		return
	}
	b := r.begin()
	b = append(b, json...)
	r.commit(s, b)
}

// SetValue writes v as Elastic's rename or set copy_from keeps it: any JSON
// type, cleaned like the final cleanup (null, "", empty objects and arrays
// dropped; "N/A" members too with Dataset.DropNA). It reports whether
// something was written.
func (r *Rec) SetValue(s SlotRef, v *fastjson.Value) bool {
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

// SetTime writes a time (unix nanoseconds) as the Timestamp type does: RFC
// 3339 UTC with milliseconds.
func (r *Rec) SetTime(s SlotRef, ns int64) {
	if s.dup && !r.KeepDuplicates() {
		return
	}
	b := r.begin()
	b = appendTimeMillisCached(&r.n.tc, b, ns)
	r.commit(s, b)
}

// AddRelated appends a value to a related.* list (duplicates are removed).
func (r *Rec) AddRelated(kind Related, v string) {
	if v != "" && kind > NoRelated && kind < numRelated {
		r.related[kind] = append(r.related[kind], v)
	}
}

// AddRelatedEach appends v, a string or the strings of an array (other
// elements are skipped), to a related.* list: Elastic's foreach ... append.
// For RelatedIP only valid addresses count, as the foreach runs over what
// the ip conversion kept.
func (r *Rec) AddRelatedEach(kind Related, v *fastjson.Value) {
	if v == nil {
		return
	}
	add := func(e *fastjson.Value) {
		if s, ok := stringOf(e); ok && (kind != RelatedIP || validIP(s)) {
			r.AddRelated(kind, s)
		}
	}
	if v.Type() != fastjson.TypeArray {
		add(v)
		return
	}
	arr, _ := v.Array()
	for _, e := range arr {
		add(e)
	}
}

// AddError records a problem with the record: it gets error.message,
// event.kind "pipeline_error" and event.original, like Elastic's on_failure.
func (r *Rec) AddError(msg string) { r.errs = append(r.errs, msg) }

// begin starts encoding a value into the arena; commit assigns it to a slot.
func (r *Rec) begin() []byte {
	r.mark = len(r.arena)
	return r.arena
}

func (r *Rec) commit(s SlotRef, b []byte) {
	r.arena = b
	r.slots[s.id] = slotVal{gen: r.gen, off: uint32(r.mark), end: uint32(len(b))}
}

// claim takes a free slot for a table row; false when an earlier row (or
// value) already holds it.
func (r *Rec) claimed(s SlotRef) bool { return r.slots[s.id].gen == r.gen }

// assign points a slot at an arena range already written.
func (r *Rec) assign(s SlotRef, off, end int) {
	r.slots[s.id] = slotVal{gen: r.gen, off: uint32(off), end: uint32(end)}
}

// ---- finishing and emitting ----

func (r *Rec) finish() {
	s := r.s
	for i := Related(1); i < numRelated; i++ {
		vals := r.related[i]
		if len(vals) == 0 {
			continue
		}
		b := r.begin()
		b = append(b, '[')
		n := 0
		for j, v := range vals {
			dupe := false
			for _, w := range vals[:j] {
				if w == v {
					dupe = true
					break
				}
			}
			if dupe {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = ecsjson.AppendString(b, v)
			n++
		}
		b = append(b, ']')
		r.commit(s.related[i], b)
	}
	if len(r.errs) > 0 {
		b := r.begin()
		b = append(b, '[')
		for j, e := range r.errs {
			if j > 0 {
				b = append(b, ',')
			}
			b = ecsjson.AppendString(b, e)
		}
		b = append(b, ']')
		r.commit(s.errorMessage, b)
		b = r.begin()
		b = append(b, `"pipeline_error"`...)
		r.commit(s.eventKind, b)
		r.forceOriginal = true
	}
	for _, st := range s.statics {
		if !r.claimed(st.slot) {
			b := r.begin()
			b = append(b, st.value...)
			r.commit(st.slot, b)
		}
	}
	if r.forceOriginal || r.n.tags.PreserveOriginal {
		b := r.begin()
		b = ecsjson.AppendStringBytes(b, r.body)
		r.commit(s.original, b)
	}
}

// emit appends the nested JSON document.
func (r *Rec) emit(dst []byte) []byte {
	if len(r.extras) == 0 {
		return r.emitFast(dst)
	}
	return r.emitMerged(dst)
}

// emitMerged writes the slots merged with the unknown fields, with the
// general Nester (segment ids compared at run time).
func (r *Rec) emitMerged(dst []byte) []byte {
	s := r.s
	r.nest.Begin(dst)
	sortExtras(r.extras)
	x := 0
	for _, id := range s.order {
		sv := r.slots[id]
		if sv.gen != r.gen || sv.end <= sv.off {
			continue
		}
		sd := &s.slots[id]
		for x < len(r.extras) {
			r.pbuf = append(append(r.pbuf[:0], s.nsSegs...), r.extras[x].key)
			if ecsjson.ComparePaths(r.pbuf, sd.segs) > 0 {
				break
			}
			r.emitExtra(x)
			x++
		}
		r.nest.FieldIDs(sd.ids, sd.keys, r.arena[sv.off:sv.end])
	}
	for ; x < len(r.extras); x++ {
		r.emitExtra(x)
	}
	return r.nest.End()
}

// emitFast is emit for records without unknown fields, in one tight loop.
// Paths are sorted, so the prefix a leaf shares with the previous one
// written is the minimum of the adjacent common prefixes in between: no
// segment is compared at run time.
func (r *Rec) emitFast(dst []byte) []byte {
	s := r.s
	buf := append(dst, '{')
	arena := r.arena
	depth, comma := 0, false
	m := 1 << 30
	for k, id := range s.order {
		if l := int(s.adjLCP[k]); l < m {
			m = l
		}
		sv := r.slots[id]
		if sv.gen != r.gen || sv.end <= sv.off {
			continue
		}
		sd := &s.slots[id]
		last := len(sd.keys) - 1
		common := min(m, depth, last)
		for ; depth > common; depth-- {
			buf = append(buf, '}')
			comma = true
		}
		if comma {
			buf = append(buf, ',')
		}
		buf = append(buf, sd.open[common]...)
		buf = append(buf, arena[sv.off:sv.end]...)
		depth = last
		comma = true
		m = 1 << 30
	}
	for ; depth > 0; depth-- {
		buf = append(buf, '}')
	}
	return append(buf, '}')
}

// emitExtra writes unknown field x: the namespace segments, then its key
// (with an id no schema segment has).
func (r *Rec) emitExtra(x int) {
	e := &r.extras[x]
	if e.end <= e.off {
		return
	}
	s := r.s
	r.xids = append(append(r.xids[:0], s.nsIDs...), -2-int32(x))
	r.xkeyBuf = ecsjson.AppendKey(r.xkeyBuf[:0], e.key)
	r.xkeys = append(append(r.xkeys[:0], s.nsKeys...), r.xkeyBuf)
	r.nest.FieldIDs(r.xids, r.xkeys, r.arena[e.off:e.end])
}

func sortExtras(x []extra) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j].key < x[j-1].key; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

// ---- unknown fields ----

// maxUnknownFields bounds the unknown fields of one record (Cloudflare's
// datasets have at most a few hundred fields in all).
const maxUnknownFields = 1000

// addExtra keeps an unknown field under the namespace, snake_cased, with a
// name that collides neither with the schema nor with other unknown fields.
func (r *Rec) addExtra(src string, v *fastjson.Value) {
	if len(r.extras) >= maxUnknownFields {
		r.failf("too_many_fields", "more than %d fields the dataset does not know", maxUnknownFields)
		return
	}
	for i := range r.extras {
		if r.extras[i].src == src {
			r.failf("duplicate_key", "duplicate field %q", src)
			return
		}
	}
	r.unknown++
	key := snakeCase(src)
	for n := 1; r.s.reserved[key] || r.extraKeyUsed(key); n++ {
		key = snakeCase(src) + "_" + itoa(n)
	}
	off := len(r.arena)
	b, ok := r.appendClean(r.arena, v, 0, true)
	if r.fail != nil {
		return
	}
	if !ok {
		b = b[:off]
	}
	r.arena = b
	r.extras = append(r.extras, extra{src: strings.Clone(src), key: key, off: uint32(off), end: uint32(len(b))})
}

func (r *Rec) extraKeyUsed(k string) bool {
	for i := range r.extras {
		if r.extras[i].key == k {
			return true
		}
	}
	return false
}

func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func itoa(n int) string {
	return string(ecsjson.AppendInt(nil, int64(n)))
}
