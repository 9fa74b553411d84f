package normalize

import (
	"fmt"
	"strings"

	"github.com/valyala/fastjson"
)

// Nested source fields.
//
// Logpush records are flat ({"ActorEmail": ...}), but the API's records are
// nested JSON ({"actor": {"email": ...}}). A mapping row whose Src holds
// dots ("actor.email") names a member of a top-level object: the normalizer
// descends into that object (and its sub-objects) instead of keeping it
// whole. Members the table does not know are kept like any unknown field,
// snake_cased from their path ("action.info" -> action_info). A literal
// top-level key "actor.email" never matches such a row.

// nestGroup is one object level of the dotted Src fields.
type nestGroup struct {
	fields map[string]int32      // member -> row index
	groups map[string]*nestGroup // member -> deeper object
	names  map[string]int32      // full dotted Src -> row index (top level only)
}

func newNestGroup() *nestGroup {
	return &nestGroup{fields: map[string]int32{}, groups: map[string]*nestGroup{}}
}

// addNested registers row i, whose Src is a dotted path.
func (s *Schema) addNested(src string, i int32) {
	segs := strings.Split(src, ".")
	for _, seg := range segs {
		if seg == "" {
			panic(fmt.Sprintf("normalize: %s: bad field name %q", s.ds.Name, src))
		}
	}
	if _, ok := s.nestedField(src); ok {
		panic(fmt.Sprintf("normalize: %s: field %s listed twice", s.ds.Name, src))
	}
	if _, ok := s.bySrc[segs[0]]; ok {
		panic(fmt.Sprintf("normalize: %s: %s is both a field and an object of fields", s.ds.Name, segs[0]))
	}
	if s.nested == nil {
		s.nested = map[string]*nestGroup{}
	}
	g := s.nested[segs[0]]
	if g == nil {
		g = newNestGroup()
		g.names = map[string]int32{}
		s.nested[segs[0]] = g
	}
	g.names[src] = i
	for _, seg := range segs[1 : len(segs)-1] {
		if _, ok := g.fields[seg]; ok {
			panic(fmt.Sprintf("normalize: %s: %s is both a field and an object of fields", s.ds.Name, src))
		}
		sub := g.groups[seg]
		if sub == nil {
			sub = newNestGroup()
			g.groups[seg] = sub
		}
		g = sub
	}
	last := segs[len(segs)-1]
	if g.groups[last] != nil {
		panic(fmt.Sprintf("normalize: %s: %s is both a field and an object of fields", s.ds.Name, src))
	}
	g.fields[last] = i
}

// nestedField finds the row of a dotted Src.
func (s *Schema) nestedField(src string) (int32, bool) {
	top, _, ok := strings.Cut(src, ".")
	if !ok || s.nested == nil {
		return 0, false
	}
	g := s.nested[top]
	if g == nil {
		return 0, false
	}
	i, ok := g.names[src]
	return i, ok
}

// visitNested takes a top-level member that is not a table field: when it
// is an object holding table fields, its members are visited; otherwise it
// is an unknown field.
func (r *Rec) visitTop(key string, v *fastjson.Value) {
	if g := r.s.nested[key]; g != nil {
		switch v.Type() {
		case fastjson.TypeObject:
			r.pathBuf = append(r.pathBuf[:0], key...)
			r.visitNested(g, v, 1)
			return
		case fastjson.TypeNull:
			return // Elastic drops nulls; nothing is lost
		}
	}
	r.addExtra(key, v)
}

func (r *Rec) visitNested(g *nestGroup, v *fastjson.Value, depth int) {
	o, _ := v.Object()
	base := len(r.pathBuf)
	o.Visit(func(k []byte, fv *fastjson.Value) {
		if r.fail != nil {
			return
		}
		if i, ok := g.fields[b2s(k)]; ok {
			slot := &r.fields[i]
			if slot.gen == r.gen {
				r.failf("duplicate_key", "duplicate field %q", r.s.fields[i].Src)
				return
			}
			slot.gen, slot.v = r.gen, fv
			return
		}
		r.pathBuf = append(append(r.pathBuf[:base], '.'), k...)
		if sub := g.groups[b2s(k)]; sub != nil && fv.Type() == fastjson.TypeObject && depth < maxDepth {
			r.visitNested(sub, fv, depth+1)
		} else if fv.Type() != fastjson.TypeNull || sub == nil {
			r.addExtra(string(r.pathBuf), fv)
		}
		r.pathBuf = r.pathBuf[:base]
	})
}
