package normalize

import (
	"encoding/hex"
	"strings"
	"sync/atomic"

	"github.com/valyala/fastjson"
	"github.com/zeebo/xxh3"
)

// Options configure an Env.
type Options struct {
	// PreserveOriginal keeps the raw record in event.original (Elastic's
	// preserve_original_event tag). Records with conversion errors always
	// keep it.
	PreserveOriginal bool
	// KeepDuplicateFields keeps the custom copies of fields that also have
	// an ECS field (Elastic's preserve_duplicate_custom_fields tag).
	KeepDuplicateFields bool
	// AccountID is the Cloudflare account the records belong to (used by
	// datasets whose Elastic pipeline reads it from its configuration).
	AccountID string
	// GeoIPDir holds MaxMind databases (GeoLite2-City.mmdb, GeoLite2-ASN.mmdb,
	// or their GeoIP2 / -Test variants). Empty: no GeoIP enrichment.
	GeoIPDir string

	// MaxRecordBytes rejects larger records (default 4 MiB).
	MaxRecordBytes int
	// MaxFieldBytes rejects records holding a longer string (default 1 MiB).
	MaxFieldBytes int
	// UACacheSize bounds the user agent cache (entries, default 16384).
	UACacheSize int
	// OnUnknownFields, when set, is called for every record that has fields
	// the dataset's mapping does not know, with their number. It must be
	// safe for concurrent use. UnknownFields offers the same as a counter.
	OnUnknownFields func(dataset string, n int)
}

// Default limits.
const (
	DefaultMaxRecordBytes = 4 << 20
	DefaultMaxFieldBytes  = 1 << 20
)

// Env is what normalizers share: options, the user agent parser and its
// cache, the GeoIP readers, and counters. It is safe for concurrent use.
type Env struct {
	opts      Options
	maxRecord int
	maxField  int
	ua        *uaParser
	geoDB     *geoDB
	unknown   map[string]*atomic.Uint64 // canonical dataset -> unknown fields seen
	// unknownNames remembers which unknown fields were seen (unknown.go).
	unknownNames *UnknownTracker
}

// NewEnv prepares an Env; it opens the GeoIP databases when
// opts.GeoIPDir is set. Close it when done.
func NewEnv(opts Options) (*Env, error) {
	reg := registry()
	e := &Env{
		opts:      opts,
		maxRecord: opts.MaxRecordBytes,
		maxField:  opts.MaxFieldBytes,
		ua:        newUAParser(opts.UACacheSize),
		unknown:   map[string]*atomic.Uint64{},

		unknownNames: newUnknownTracker(UnknownFieldLimit),
	}
	if e.maxRecord <= 0 {
		e.maxRecord = DefaultMaxRecordBytes
	}
	if e.maxField <= 0 {
		e.maxField = DefaultMaxFieldBytes
	}
	for _, ds := range reg.datasets {
		e.unknown[ds.Name] = new(atomic.Uint64)
	}
	if opts.GeoIPDir != "" {
		g, err := openGeoDB(opts.GeoIPDir, opts.UACacheSize)
		if err != nil {
			return nil, err
		}
		e.geoDB = g
	}
	return e, nil
}

// Close releases the GeoIP databases.
func (e *Env) Close() error {
	if e.geoDB != nil {
		err := e.geoDB.close()
		e.geoDB = nil
		return err
	}
	return nil
}

// UnknownFields returns how many fields not in the dataset's mapping were
// seen so far (kept under the dataset namespace), for a canonical name.
func (e *Env) UnknownFields(dataset string) uint64 {
	if c, ok := e.unknown[dataset]; ok {
		return c.Load()
	}
	return 0
}

func (e *Env) geo(ip string) *geoInfo {
	if e.geoDB == nil {
		return nil
	}
	return e.geoDB.lookup(ip)
}

// Meta describes the document Normalize produced.
type Meta struct {
	Dataset    string // canonical (Cloudflare) dataset name
	ID         string // deterministic deduplication id (32 hex digits)
	Time       int64  // @timestamp in unix nanoseconds; 0 when the record has none
	Drop       bool   // the record was dropped on purpose; nothing was appended
	DropReason string // why: "validation_probe", "empty" or "empty_response" (an empty API page)
	Fields     int    // top-level members of the record
	Unknown    int    // fields the dataset's mapping does not know (kept under its namespace)
	// RoutedFrom is set by NormalizeAuto when the record was normalized as
	// another dataset than the one it came as (infer.go).
	RoutedFrom string
}

// RecordError says why one record could not be normalized.
type RecordError struct {
	Reason string // short code: invalid_json, not_object, too_large, too_deep, duplicate_key, bad_number, unknown_dataset
	Msg    string
}

func (e *RecordError) Error() string { return e.Reason + ": " + e.Msg }

// Normalizer turns raw records into ECS documents. It reuses its buffers
// and is not safe for concurrent use: use one per goroutine.
type Normalizer struct {
	env     *Env
	tags    Tags
	p       fastjson.Parser
	rec     Rec
	lastDS  string
	lastSch *Schema
	idBuf   []byte

	predict    []int32 // field index by position in the previous record (-1: unknown)
	predictFor *Schema
	uaFront    [uaFrontSize]*uaInfo
	tc         timeCache

	ep       fastjson.Parser // NormalizeEach's envelope parser (envelope.go)
	items    []byte          // the envelope's items, re-encoded back to back
	itemEnds []int
}

// Tags are the two output options Elastic sets with tags on an integration
// input; a source may override the Env's defaults (config: a source's
// normalize: section).
type Tags struct {
	PreserveOriginal    bool // keep event.original (preserve_original_event)
	KeepDuplicateFields bool // keep custom fields that duplicate ECS (preserve_duplicate_custom_fields)
}

// DefaultTags returns the Env's options as Tags.
func (e *Env) DefaultTags() Tags {
	return Tags{PreserveOriginal: e.opts.PreserveOriginal, KeepDuplicateFields: e.opts.KeepDuplicateFields}
}

// NewNormalizer returns a normalizer using e and its default tags.
func (e *Env) NewNormalizer() *Normalizer { return e.NewNormalizerWith(e.DefaultTags()) }

// NewNormalizerWith returns a normalizer using e with its own tags.
func (e *Env) NewNormalizerWith(t Tags) *Normalizer {
	n := &Normalizer{env: e, tags: t}
	n.rec.n = n
	return n
}

func (n *Normalizer) schema(dataset string) *Schema {
	if dataset == n.lastDS && n.lastSch != nil {
		return n.lastSch
	}
	ds, ok := lookup(dataset)
	if !ok {
		return nil
	}
	n.lastDS, n.lastSch = strings.Clone(dataset), schemaOf(ds)
	return n.lastSch
}

// Normalize appends the ECS document for one raw record (one NDJSON line,
// any dataset name Resolve accepts) to dst. meta.Drop means the record was
// dropped on purpose (Cloudflare's validation probe, a blank line) and
// nothing was appended. On error (a *RecordError) dst is returned unchanged.
func (n *Normalizer) Normalize(dataset string, raw []byte, dst []byte) ([]byte, Meta, error) {
	s := n.schema(dataset)
	if s == nil {
		return dst, Meta{}, &RecordError{Reason: "unknown_dataset", Msg: "unknown dataset " + quote(truncate(dataset, 64))}
	}
	return n.normalize(s, raw, dst)
}

func (n *Normalizer) normalize(s *Schema, raw []byte, dst []byte) ([]byte, Meta, error) {
	meta := Meta{Dataset: s.ds.Name}
	body := trimSpace(raw)
	if len(body) == 0 {
		meta.Drop, meta.DropReason = true, "empty"
		return dst, meta, nil
	}
	if len(body) > n.env.maxRecord {
		return dst, meta, &RecordError{Reason: "too_large", Msg: "record is " + itoa(len(body)) + " bytes (limit " + itoa(n.env.maxRecord) + ")"}
	}
	if string(body) == "test" {
		meta.Drop, meta.DropReason = true, "validation_probe"
		return dst, meta, nil
	}
	v, err := n.p.ParseBytes(body)
	if err != nil {
		reason := "invalid_json"
		if strings.Contains(err.Error(), "too big depth") {
			reason = "too_deep"
		}
		return dst, meta, &RecordError{Reason: reason, Msg: truncate(err.Error(), 200)}
	}
	obj, err := v.Object()
	if err != nil {
		return dst, meta, &RecordError{Reason: "not_object", Msg: "record is a JSON " + v.Type().String() + ", not an object"}
	}
	if obj.Len() == 1 {
		if c := obj.Get("content"); c != nil && c.Type() == fastjson.TypeString {
			if b, _ := c.StringBytes(); string(b) == "tests" {
				meta.Drop, meta.DropReason = true, "validation_probe"
				return dst, meta, nil
			}
		}
	}

	if s.ds.Envelope && isEnvelope(obj) { // a whole API response (envelope.go)
		drop, rerr := envelopeOutcome(obj)
		if rerr != nil {
			return dst, meta, rerr
		}
		meta.Drop, meta.DropReason = drop, "empty_response"
		return dst, meta, nil
	}

	r := &n.rec
	r.reset(s, body)
	if n.predictFor != s {
		n.predict, n.predictFor = n.predict[:0], s
	}
	pos := 0
	obj.Visit(func(k []byte, fv *fastjson.Value) {
		if r.fail != nil {
			return
		}
		// Records of one job list their fields in the same order: try the
		// field seen at this position last time before hashing the name.
		i := int32(-1)
		if pos < len(n.predict) {
			if p := n.predict[pos]; p >= 0 && s.srcs[p] == b2s(k) {
				i = p
			}
		}
		if i < 0 {
			var ok bool
			if i, ok = s.bySrc[string(k)]; !ok {
				i = -1
			}
			if pos < len(n.predict) {
				n.predict[pos] = i
			} else if pos < 1024 {
				n.predict = append(n.predict, i)
			}
		}
		pos++
		if i < 0 {
			if s.nested != nil {
				r.visitTop(b2s(k), fv) // may be an object of dotted Src fields
			} else {
				r.addExtra(b2s(k), fv)
			}
			return
		}
		slot := &r.fields[i]
		if slot.gen == r.gen {
			r.failf("duplicate_key", "duplicate field %q", s.fields[i].Src)
			return
		}
		slot.gen, slot.v = r.gen, fv
	})
	if r.fail != nil {
		return dst, meta, r.fail
	}
	for i := range s.fields {
		fv := &r.fields[i]
		if fv.gen != r.gen {
			continue
		}
		r.applyField(&s.fields[i], fv.v)
		if r.fail != nil {
			return dst, meta, r.fail
		}
	}
	if s.derive != nil {
		s.derive(r)
	}
	r.finish()

	if r.hasTS && r.IsSet(s.timestamp) {
		meta.Time = r.tsNS
	}
	meta.ID = n.id(s, body)
	meta.Fields, meta.Unknown = pos, r.unknown
	if r.unknown > 0 {
		n.env.unknown[s.ds.Name].Add(uint64(r.unknown))
		n.env.unknownNames.observe(s.ds.Name, s.ns, r.extras)
		if f := n.env.opts.OnUnknownFields; f != nil {
			f(s.ds.Name, r.unknown)
		}
	}
	return r.emit(dst), meta, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\r', '\n':
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

// id is the deterministic deduplication id: a hash of the dataset and the
// IDFields' values when the first one is present, else of the raw record.
func (n *Normalizer) id(s *Schema, body []byte) string {
	b := append(n.idBuf[:0], s.ds.Name...)
	b = append(b, 0)
	useFields := false
	if len(s.idFields) > 0 {
		if v := n.rec.Value(FieldRef(s.idFields[0])); v != nil {
			if str, isStr := n.rec.String(FieldRef(s.idFields[0])); !isStr || str != "" {
				useFields = true
			}
		}
	}
	if useFields {
		for _, f := range s.idFields {
			if v := n.rec.Value(FieldRef(f)); v != nil {
				b = v.MarshalTo(b)
			}
			b = append(b, 0)
		}
	} else {
		b = append(b, body...)
	}
	n.idBuf = b
	h := xxh3.Hash128(b).Bytes()
	return hex.EncodeToString(h[:])
}
