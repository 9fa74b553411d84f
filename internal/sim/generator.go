package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"
)

// Generator produces the records of one dataset, one at a time. A generator
// is deterministic (the same Config and the same sequence of timestamps give
// the same bytes) and not safe for concurrent use; make one per goroutine.
type Generator interface {
	// Dataset returns the Logpush dataset name, e.g. "http_requests".
	Dataset() string
	// Fields returns every field the generator fills, in the dataset's
	// (alphabetical) order. It is the default field selection.
	Fields() []Field
	// Append renders the next record, stamped t, with the format's framing
	// (record_prefix, fields, record_suffix, no delimiter) and appends it to
	// dst. A nil f means the dataset's default format. f must have been
	// compiled for the generator's dataset.
	Append(dst []byte, t time.Time, f *Format) []byte
}

// Stepper is implemented by generators whose records follow another event
// stream: firewall_events follows the requests of the zone traffic, which
// http_requests logs one to one. Step advances that stream by one event
// (one request) stamped t and returns how many records it produced (0 or
// more); the next that many Append calls render them with t, whatever
// timestamp they are given. Driving a Stepper and an http_requests
// generator of the same Config with the same timestamps gives firewall
// events whose RayIDs and timestamps match the requests exactly; the Pusher
// does this with PushOptions.FollowTraffic.
type Stepper interface {
	Generator
	Step(t time.Time) int
}

// Config tunes a generator. The zero value (plus a seed) is the normal,
// realistic mix.
type Config struct {
	// Seed makes the output reproducible.
	Seed uint64
	// Zones restricts the zone datasets to these built-in zones (names as in
	// Zones()); empty means all of them. A zone-scoped Logpush job should get
	// exactly its own zone.
	Zones []string
	// AttackBursts is the average number of attack bursts started per
	// 100,000 zone requests; 0 means the default of 4, a negative value turns
	// them off.
	AttackBursts float64
}

// Scope says whether a dataset belongs to zones or to accounts.
const (
	ScopeZone    = "zone"
	ScopeAccount = "account"
)

type datasetInfo struct {
	name   string
	scope  string
	fields []Field
	index  map[string]int
	newGen func(cfg Config) (Generator, error)
	def    func() *Format // the default output options, compiled on first use
}

// datasetList is every simulated dataset, one gen_<dataset>.go file each.
var datasetList = []*datasetInfo{httpDataset, fwDataset, auditDataset}

func register(name, scope string, fields []Field, newGen func(Config) (Generator, error)) *datasetInfo {
	ds := &datasetInfo{name: name, scope: scope, fields: fields, index: make(map[string]int, len(fields)), newGen: newGen}
	for i, f := range fields {
		ds.index[f.Name] = i
	}
	ds.def = sync.OnceValue(func() *Format {
		f, err := newFormat(ds, OutputOptions{})
		if err != nil {
			panic(err) // the dataset's own default options: a bug
		}
		return f
	})
	return ds
}

func lookupDataset(name string) (*datasetInfo, error) {
	for _, ds := range datasetList {
		if ds.name == name {
			return ds, nil
		}
	}
	return nil, fmt.Errorf("dataset %q is not simulated (have %v)", name, Datasets())
}

// Datasets returns the names of the simulated datasets, sorted.
func Datasets() []string {
	names := make([]string, 0, len(datasetList))
	for _, ds := range datasetList {
		names = append(names, ds.name)
	}
	sort.Strings(names)
	return names
}

// DatasetScope returns ScopeZone or ScopeAccount for a simulated dataset.
func DatasetScope(dataset string) (string, error) {
	ds, err := lookupDataset(dataset)
	if err != nil {
		return "", err
	}
	return ds.scope, nil
}

// DatasetFields returns the fields of a simulated dataset.
func DatasetFields(dataset string) ([]Field, error) {
	ds, err := lookupDataset(dataset)
	if err != nil {
		return nil, err
	}
	return slices.Clone(ds.fields), nil
}

// NewGenerator returns a generator for dataset with the default Config and
// the given seed.
func NewGenerator(dataset string, seed uint64) (Generator, error) {
	return NewGeneratorConfig(dataset, Config{Seed: seed})
}

// NewGeneratorConfig returns a generator for dataset.
func NewGeneratorConfig(dataset string, cfg Config) (Generator, error) {
	ds, err := lookupDataset(dataset)
	if err != nil {
		return nil, err
	}
	return ds.newGen(cfg)
}

// formatFor returns f, or the dataset's default format when f is nil. It
// panics when f belongs to another dataset: that is a programming error.
func formatFor(ds *datasetInfo, f *Format) *Format {
	if f == nil {
		return ds.def()
	}
	if f.dataset != ds.name {
		panic(fmt.Sprintf("sim: format for %s used with a %s generator", f.dataset, ds.name))
	}
	return f
}

// newRand returns a PCG generator for one independent stream of a seed.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream*0x9e3779b97f4a7c15+0x632be59bd9b4e019))
}
