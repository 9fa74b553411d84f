package normalize

import (
	"math/bits"
	"sort"
	"sync"

	"github.com/valyala/fastjson"
)

// Dataset inference.
//
// A record's dataset is told from its field names. The fingerprints are not
// a hand-written list: they come from the mapping tables, which cover every
// field of Cloudflare's dataset catalogue (datasets.json, see TestSchemas),
// plus the top-level objects of the API datasets. For a record, every
// dataset "explains" the top-level keys its table knows; the dataset that
// explains the most keys wins when
//
//   - it explains strictly more keys than any other dataset (a record of
//     ClientIP and RayID alone fits http_requests and firewall_events
//     equally: ambiguous), and
//   - it explains at least half of the record's keys (a record of mostly
//     unknown fields is not guessed).
//
// Field sets nest: dns_logs' QueryName / ResponseCode also exist in
// gateway_dns, but a dns_logs record also has ColoCode, EDNSSubnet, ...:
// the most specific complete match wins, exactly what "distinctive fields"
// means, computed. Datasets whose Catalog is another dataset (logpull: the
// http_requests fields) are aliases and never inferred. A whole API
// response is inferred from its first item.

// inferIndex maps each top-level key to the datasets that know it.
type inferIndex struct {
	datasets []*Dataset          // candidates, by bit
	byKey    map[string][]uint64 // key -> bitset of candidates
	words    int
	bit      map[*Dataset]int
}

var inferIdx = sync.OnceValue(func() *inferIndex {
	reg := registry()
	idx := &inferIndex{byKey: map[string][]uint64{}, bit: map[*Dataset]int{}}
	for _, ds := range reg.datasets {
		if ds.Catalog != "" && ds.Catalog != "-" && ds.Catalog != ds.Name {
			continue // an alias of another dataset's field set (logpull)
		}
		idx.bit[ds] = len(idx.datasets)
		idx.datasets = append(idx.datasets, ds)
	}
	idx.words = (len(idx.datasets) + 63) / 64
	for _, ds := range idx.datasets {
		b := idx.bit[ds]
		for _, f := range ds.Fields {
			key := f.Src
			if i := indexByte(key, '.'); i >= 0 {
				key = key[:i] // a member of a top-level object (API records)
			}
			set := idx.byKey[key]
			if set == nil {
				set = make([]uint64, idx.words)
				idx.byKey[key] = set
			}
			set[b/64] |= 1 << (b % 64)
		}
	}
	return idx
})

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

var inferParsers fastjson.ParserPool

// Inference is what Infer concluded about a record.
type Inference struct {
	Dataset   string // the dataset, when OK
	OK        bool
	Keys      int // top-level keys of the record
	Explained int // keys the inferred (or best) dataset knows
	// Ambiguous lists the datasets that explain as many keys as the best
	// one (sorted), when that is why OK is false.
	Ambiguous []string
	counts    []int // per candidate
}

// Infer tells a record's dataset (canonical name) from its field names.
// ok is false when the record is not a JSON object, or no dataset explains
// its fields clearly better than every other.
func Infer(raw []byte) (dataset string, ok bool) {
	inf := InferDetail(raw)
	return inf.Dataset, inf.OK
}

// InferDetail is Infer with the evidence.
func InferDetail(raw []byte) Inference {
	p := inferParsers.Get()
	defer inferParsers.Put(p)
	v, err := p.ParseBytes(trimSpace(raw))
	if err != nil {
		return Inference{}
	}
	obj, err := v.Object()
	if err != nil {
		return Inference{}
	}
	if isEnvelope(obj) { // an API response: its first item
		arr, _ := obj.Get("result").Array()
		if len(arr) == 0 {
			return Inference{}
		}
		if obj, err = arr[0].Object(); err != nil {
			return Inference{}
		}
	}
	return inferObject(obj)
}

func inferObject(obj *fastjson.Object) Inference {
	idx := inferIdx()
	inf := Inference{counts: make([]int, len(idx.datasets))}
	obj.Visit(func(k []byte, _ *fastjson.Value) {
		inf.Keys++
		set := idx.byKey[b2s(k)]
		for w, word := range set {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				word &^= 1 << b
				inf.counts[w*64+b]++
			}
		}
	})
	best, bestN, ties := -1, 0, 0
	for i, n := range inf.counts {
		switch {
		case n > bestN:
			best, bestN, ties = i, n, 1
		case n == bestN && n > 0:
			ties++
		}
	}
	inf.Explained = bestN
	if best < 0 {
		return inf
	}
	if ties > 1 {
		for i, n := range inf.counts {
			if n == bestN {
				inf.Ambiguous = append(inf.Ambiguous, idx.datasets[i].Name)
			}
		}
		sort.Strings(inf.Ambiguous)
		return inf
	}
	if 2*bestN < inf.Keys {
		return inf // mostly fields no dataset knows
	}
	inf.Dataset, inf.OK = idx.datasets[best].Name, true
	return inf
}

// explainedBy returns how many of the record's keys ds knows (an alias
// dataset counts as its catalogue dataset).
func (inf *Inference) explainedBy(ds *Dataset) int {
	idx := inferIdx()
	if inf.counts == nil {
		return 0
	}
	if b, ok := idx.bit[ds]; ok {
		return inf.counts[b]
	}
	if c, ok := lookup(ds.Catalog); ok {
		if b, ok := idx.bit[c]; ok {
			return inf.counts[b]
		}
	}
	return inf.Keys // not a candidate at all: never contradicted
}

// NormalizeAuto is Normalize for records whose dataset may be unknown or
// wrong (a generic route, an object without a dataset, a misconfigured
// job):
//
//   - dataset "": the record is normalized as the dataset Infer finds; an
//     ambiguous record is a *RecordError "unknown_dataset" (the caller keeps
//     it, e.g. in the dead letters).
//   - otherwise the record is normalized as dataset, unless it clearly
//     belongs to another one: it has fields dataset does not know (at least
//     one, and at least a fifth of its keys) and Infer names another dataset
//     that knows more of them. It is then normalized as that dataset and
//     Meta.RoutedFrom holds the dataset it came as.
//
// A record whose every field the given dataset knows is never rerouted.
func (n *Normalizer) NormalizeAuto(dataset string, raw []byte, dst []byte) ([]byte, Meta, error) {
	if dataset == "" {
		inf := InferDetail(raw)
		if !inf.OK {
			body := trimSpace(raw)
			if len(body) == 0 || string(body) == "test" || isProbe(body) {
				// Blank lines and Cloudflare's validation probe need no dataset.
				return dst, Meta{Drop: true, DropReason: dropReason(body)}, nil
			}
			return dst, Meta{}, &RecordError{Reason: "unknown_dataset", Msg: inferFailure(&inf)}
		}
		return n.Normalize(inf.Dataset, raw, dst)
	}
	base := len(dst)
	out, meta, err := n.Normalize(dataset, raw, dst)
	if err != nil || meta.Drop || meta.Unknown == 0 || 5*meta.Unknown < meta.Fields {
		return out, meta, err // nothing (or too little) to contradict the route: no inference
	}
	inf := InferDetail(raw)
	if !inf.OK || inf.Dataset == meta.Dataset {
		return out, meta, err
	}
	route, _ := lookup(dataset)
	have := inf.explainedBy(route)
	missing := inf.Keys - have
	if inf.Explained <= have || missing < 1 || 5*missing < inf.Keys {
		return out, meta, err
	}
	out2, meta2, err2 := n.Normalize(inf.Dataset, raw, out[:base])
	if err2 != nil {
		return out2, meta2, err2
	}
	meta2.RoutedFrom = meta.Dataset
	return out2, meta2, nil
}

func isProbe(body []byte) bool {
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return false
	}
	o, err := v.Object()
	return err == nil && o.Len() == 1 && string(v.GetStringBytes("content")) == "tests"
}

func dropReason(body []byte) string {
	if len(body) == 0 {
		return "empty"
	}
	return "validation_probe"
}

func inferFailure(inf *Inference) string {
	switch {
	case inf.Keys == 0:
		return "no dataset given and the record is not a JSON object with fields"
	case len(inf.Ambiguous) > 0:
		return "no dataset given and the record's fields fit several datasets equally: " + joinMax(inf.Ambiguous, 6)
	case inf.Explained == 0:
		return "no dataset given and no dataset knows the record's fields"
	}
	return "no dataset given and most of the record's fields belong to no dataset"
}

func joinMax(s []string, n int) string {
	out := ""
	for i, v := range s {
		if i == n {
			return out + ", ..."
		}
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}
