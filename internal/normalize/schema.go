package normalize

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// Type says how a Cloudflare value is converted. Each type mirrors the
// Elastic ingest processor that handles such a field.
type Type uint8

const (
	// Keyword is Elastic's rename: the value is kept exactly as it came
	// (string, number, bool, object or array), minus empty values.
	Keyword Type = iota
	// Long is Elastic's convert to long: integers, or strings holding one.
	// Arrays are converted element by element.
	Long
	// Double is convert to double.
	Double
	// Bool is convert to boolean (true/false, or the strings "true"/"false").
	Bool
	// IP is convert to ip: the string must be an IPv4 or IPv6 address.
	IP
	// Timestamp is Elastic's date processor: unix seconds, milliseconds,
	// microseconds or nanoseconds (number or string, told apart by
	// magnitude), RFC 3339 / ISO 8601 at any precision, or RFC 1123.
	// Written as RFC 3339 UTC with milliseconds, like Elastic.
	Timestamp
	// String is convert to string: numbers and booleans become their text
	// (7 → "7", true → "true"), strings stay, arrays are converted element
	// by element (null and "" elements dropped). An object, or an array in
	// an array, does not convert (Elastic would write Java's toString).
	// With an integer Mapping (ids Elastic converts to strings but maps as
	// long), only integers convert: Elasticsearch would reject the
	// document for another string.
	String
)

func (t Type) String() string {
	switch t {
	case Keyword:
		return "keyword"
	case Long:
		return "long"
	case Double:
		return "double"
	case Bool:
		return "boolean"
	case IP:
		return "ip"
	case Timestamp:
		return "date"
	case String:
		return "string"
	}
	return "unknown"
}

// mapping is the Elastic mapping type of a field holding values of type t.
func (t Type) mapping() string {
	if t == String {
		return "keyword"
	}
	return t.String()
}

// Related names an ECS related.* list a field's value is appended to.
type Related uint8

const (
	NoRelated Related = iota
	RelatedIP
	RelatedHosts
	RelatedUser
	RelatedHash
	numRelated
)

var relatedPaths = [numRelated]string{"", "related.ip", "related.hosts", "related.user", "related.hash"}

// Field is one row of a dataset's mapping table: what becomes of one
// Cloudflare field. Rows are applied in table order, and when two rows write
// the same output field the earlier row wins (Elastic's "rename ... if the
// target is still null" idiom, e.g. SecurityAction before WAFAction).
type Field struct {
	// Src is the Cloudflare field name, exactly as in the record.
	Src string
	// Custom is the path under the dataset's namespace
	// (cloudflare_logpush.<stream>.) that keeps the value; "" keeps none.
	Custom string
	// ECS is an ECS field that gets a copy of the value. The Custom copy is
	// then one of Elastic's "duplicate custom fields": it is written only
	// with Options.KeepDuplicateFields (Elastic's
	// preserve_duplicate_custom_fields tag).
	ECS string
	// Copy is an ECS field that gets a copy while the Custom field is always
	// kept (e.g. RayID → event.id).
	Copy string
	// Type is the conversion applied (default Keyword).
	Type Type
	// Lower lowercases the ECS/Copy value (the Custom value stays as is).
	Lower bool
	// TrimPrefix is removed from the start of the ECS/Copy value.
	TrimPrefix string
	// Related appends the (converted) value to an ECS related.* list.
	Related Related
	// Enrich runs an enrichment on the value (user agent, GeoIP).
	Enrich Enricher
	// Mapping is the Elastic mapping type of the Custom field when Type
	// does not imply it (flattened, text, object, ...). See FieldDefs.
	Mapping string
}

// Static is a constant ECS value every document of a dataset carries,
// written unless something else already set the field. Value is JSON.
type Static struct {
	Path  string
	Value string
}

// DeriveFunc computes the fields a mapping table cannot express. It runs
// after every table row was applied and may overwrite their results.
type DeriveFunc func(r *Rec)

// Dataset is everything the normalizer knows about one Cloudflare dataset.
// Each dataset lives in its own ds_<name>.go file and is listed in
// datasetList (registry.go); see doc.go.
type Dataset struct {
	// Name is Cloudflare's dataset name, the canonical name (http_requests).
	Name string
	// Elastic is the Elastic data stream dataset (cloudflare_logpush.http_request).
	Elastic string
	// Namespace is the prefix of the custom fields; default Elastic.
	Namespace string
	// Aliases are further accepted names (e.g. Elastic's bare stream name).
	Aliases []string
	// Fields is the mapping table.
	Fields []Field
	// Static values, e.g. event.kind, event.category, event.type.
	Static []Static
	// Derive, when set, is called once when the schema is compiled; it looks
	// up the slots and fields it needs and returns the per-record function.
	Derive func(s *Schema) DeriveFunc
	// IDFields make the deduplication id: when the first one is present, the
	// id hashes the dataset and these fields' values; otherwise the raw record.
	IDFields []string
	// DropNA also drops the string "N/A" wherever Elastic's newer pipelines
	// drop it (object members, not array elements).
	DropNA bool
	// Declare gives the Elastic mapping type of output fields the table does
	// not type: custom fields written by Derive, and overrides (see
	// FieldDefs). ECS fields need no declaration.
	Declare []FieldDef
	// Catalog is the datasets.json dataset whose fields the table must cover
	// (default Name; "-" for API datasets that are not in the catalog).
	Catalog string
	// Envelope: records may arrive as whole Cloudflare API responses
	// ({"success":..,"result":[...]}); see NormalizeEach.
	Envelope bool
}

// SlotRef designates one output field of a compiled schema.
type SlotRef struct {
	id  int32
	dup bool // written only with KeepDuplicateFields
}

// NoSlot is the zero-ish SlotRef for "no output".
var NoSlot = SlotRef{id: -1}

// Valid reports whether s designates an output field.
func (s SlotRef) Valid() bool { return s.id >= 0 }

// FieldRef designates a row of the mapping table, to read its raw value.
type FieldRef int32

type slotDef struct {
	path string
	segs []string
	ids  []int32  // interned segment ids (equal id = equal segment)
	keys [][]byte // segments encoded as JSON keys: "seg":
	// open[c] is what writes the path once the first c segments are open:
	// "seg_c":{ ... "seg_last": (one append per leaf).
	open [][]byte
}

type cfield struct {
	Field
	custom, ecs, copy SlotRef
	enrich            enrichFunc
	related           Related
	extra             bool // has ECS/Copy, Related or Enrich: more than the custom slot to write
	intStrings        bool // Type String with an integer Mapping: only integers convert
}

// integerMapping reports whether an Elastic mapping type holds integers.
func integerMapping(m string) bool {
	switch m {
	case "long", "integer", "short", "byte", "unsigned_long":
		return true
	}
	return false
}

// Schema is a dataset compiled for the hot path: every output field has a
// slot index, slots are ordered by path segments for nested emission, and
// source fields are found by name in one map lookup.
type Schema struct {
	ds      *Dataset
	ns      string
	nsSegs  []string
	nsIDs   []int32
	nsKeys  [][]byte
	segIDs  map[string]int32
	fields  []cfield
	srcs    []string // fields[i].Src, compact for the name prediction
	bySrc   map[string]int32
	nested  map[string]*nestGroup // top-level objects holding dotted Src fields (nested.go)
	slots   []slotDef
	byPath  map[string]int32
	order   []int32 // slot ids in emission order
	adjLCP  []int32 // adjLCP[k]: segments shared by the paths at order[k-1] and order[k]
	derive  DeriveFunc
	statics []staticVal
	// reserved are the member names used by the schema directly under the
	// namespace; unknown fields must not collide with them.
	reserved map[string]bool
	idFields []int32
	sealed   bool

	// well-known slots
	timestamp, original, errorMessage, eventKind SlotRef
	related                                      [numRelated]SlotRef
}

type staticVal struct {
	slot  SlotRef
	value []byte
}

// Slot returns the slot of an ECS path (adding it to the schema). Only valid
// while the schema is compiled (from a Dataset.Derive or Enricher bind).
func (s *Schema) Slot(path string) SlotRef {
	if id, ok := s.byPath[path]; ok {
		return SlotRef{id: id}
	}
	if s.sealed {
		panic("normalize: Slot(" + path + ") after the schema was compiled")
	}
	id := int32(len(s.slots))
	segs := strings.Split(path, ".")
	ids, keys := s.internSegs(segs)
	open := make([][]byte, len(segs))
	for c := range segs {
		var b []byte
		for i := c; i < len(segs)-1; i++ {
			b = append(append(b, keys[i]...), '{')
		}
		open[c] = append(b, keys[len(segs)-1]...)
	}
	s.slots = append(s.slots, slotDef{path: path, segs: segs, ids: ids, keys: keys, open: open})
	s.byPath[path] = id
	return SlotRef{id: id}
}

func (s *Schema) internSegs(segs []string) ([]int32, [][]byte) {
	ids := make([]int32, len(segs))
	keys := make([][]byte, len(segs))
	for i, seg := range segs {
		id, ok := s.segIDs[seg]
		if !ok {
			id = int32(len(s.segIDs))
			s.segIDs[seg] = id
		}
		ids[i] = id
		keys[i] = ecsjson.AppendKey(nil, seg)
	}
	return ids, keys
}

// Custom returns the slot of a path under the dataset namespace. dup marks
// it as an Elastic duplicate, written only with KeepDuplicateFields.
func (s *Schema) Custom(sub string, dup bool) SlotRef {
	r := s.Slot(s.ns + "." + sub)
	r.dup = dup
	return r
}

// Field returns the table row for a Cloudflare field; it panics when the
// table has no such row (a programming error caught by the tests).
func (s *Schema) Field(src string) FieldRef {
	i, ok := s.bySrc[src]
	if !ok {
		i, ok = s.nestedField(src)
	}
	if !ok {
		panic(fmt.Sprintf("normalize: dataset %s has no field %s", s.ds.Name, src))
	}
	return FieldRef(i)
}

// Dataset returns the dataset the schema was compiled from.
func (s *Schema) Dataset() *Dataset { return s.ds }

// compile builds the schema of ds. It panics on table errors (duplicate
// source fields, a path that is both a leaf and an object): they are
// programming errors, caught by the package tests.
func compile(ds *Dataset) *Schema {
	ns := ds.Namespace
	if ns == "" {
		ns = ds.Elastic
	}
	s := &Schema{
		ds:       ds,
		ns:       ns,
		nsSegs:   strings.Split(ns, "."),
		bySrc:    make(map[string]int32, len(ds.Fields)),
		byPath:   make(map[string]int32, 2*len(ds.Fields)),
		reserved: map[string]bool{},
		segIDs:   map[string]int32{},
	}
	s.nsIDs, s.nsKeys = s.internSegs(s.nsSegs)
	for i, f := range ds.Fields {
		if f.Src == "" {
			panic(fmt.Sprintf("normalize: %s: field %d has no Src", ds.Name, i))
		}
		if _, dup := s.bySrc[f.Src]; dup {
			panic(fmt.Sprintf("normalize: %s: field %s listed twice", ds.Name, f.Src))
		}
		if strings.Contains(f.Src, ".") {
			s.addNested(f.Src, int32(i)) // a member of a top-level object (API records)
		} else {
			if s.nested[f.Src] != nil {
				panic(fmt.Sprintf("normalize: %s: %s is both a field and an object of fields", ds.Name, f.Src))
			}
			s.bySrc[f.Src] = int32(i)
		}
		cf := cfield{Field: f, custom: NoSlot, ecs: NoSlot, copy: NoSlot, related: f.Related}
		if f.Custom != "" {
			cf.custom = s.Custom(f.Custom, f.ECS != "")
		}
		if f.ECS != "" {
			cf.ecs = s.Slot(f.ECS)
		}
		if f.Copy != "" {
			cf.copy = s.Slot(f.Copy)
		}
		if f.Enrich != nil {
			cf.enrich = f.Enrich.bind(s)
		}
		cf.extra = cf.ecs.Valid() || cf.copy.Valid() || cf.related != NoRelated || cf.enrich != nil
		cf.intStrings = f.Type == String && integerMapping(f.Mapping)
		s.fields = append(s.fields, cf)
		s.srcs = append(s.srcs, f.Src)
	}
	for i := Related(1); i < numRelated; i++ {
		s.related[i] = s.Slot(relatedPaths[i])
	}
	s.timestamp = s.Slot("@timestamp")
	s.original = s.Slot("event.original")
	s.errorMessage = s.Slot("error.message")
	s.eventKind = s.Slot("event.kind")
	statics := append([]Static{
		{"data_stream.dataset", quote(ds.Elastic)},
		{"data_stream.namespace", `"default"`},
		{"data_stream.type", `"logs"`},
		{"event.dataset", quote(ds.Elastic)},
		{"ecs.version", quote(ECSVersion)},
	}, ds.Static...)
	for _, st := range statics {
		s.statics = append(s.statics, staticVal{slot: s.Slot(st.Path), value: []byte(st.Value)})
	}
	if ds.Derive != nil {
		s.derive = ds.Derive(s)
	}
	for _, f := range ds.IDFields {
		s.idFields = append(s.idFields, int32(s.Field(f)))
	}
	s.sealed = true

	s.order = make([]int32, len(s.slots))
	for i := range s.order {
		s.order[i] = int32(i)
	}
	slices.SortFunc(s.order, func(a, b int32) int {
		return ecsjson.ComparePaths(s.slots[a].segs, s.slots[b].segs)
	})
	s.adjLCP = make([]int32, len(s.order))
	for k := 1; k < len(s.order); k++ {
		a, b := s.slots[s.order[k-1]].segs, s.slots[s.order[k]].segs
		n := 0
		for n < len(a) && n < len(b) && a[n] == b[n] {
			n++
		}
		s.adjLCP[k] = int32(n)
	}
	for i := 0; i+1 < len(s.order); i++ {
		a, b := s.slots[s.order[i]].segs, s.slots[s.order[i+1]].segs
		if len(a) <= len(b) && slices.Equal(a, b[:len(a)]) {
			panic(fmt.Sprintf("normalize: %s: %s is both a value and an object (%s)",
				ds.Name, s.slots[s.order[i]].path, s.slots[s.order[i+1]].path))
		}
	}
	for _, sl := range s.slots {
		if len(sl.segs) > len(s.nsSegs) && slices.Equal(sl.segs[:len(s.nsSegs)], s.nsSegs) {
			s.reserved[sl.segs[len(s.nsSegs)]] = true
		}
	}
	return s
}

func quote(s string) string { return string(ecsjson.AppendString(nil, s)) }

// ECSVersion is the ecs.version written on every document.
const ECSVersion = "9.3.0"
