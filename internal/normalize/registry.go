package normalize

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// registry holds every dataset, registered from the ds_*.go init functions.
var registry = struct {
	sync.Mutex
	datasets []*Dataset
	names    map[string]*Dataset // every accepted name -> dataset
	schemas  map[*Dataset]*Schema
	compiled bool
}{names: map[string]*Dataset{}, schemas: map[*Dataset]*Schema{}}

// Register adds a dataset. It is called from init functions and panics on a
// name clash (a programming error).
func Register(ds *Dataset) {
	registry.Lock()
	defer registry.Unlock()
	if registry.compiled {
		panic("normalize: Register after first use")
	}
	names := append([]string{ds.Name, ds.Elastic}, ds.Aliases...)
	for _, n := range names {
		if n == "" {
			continue
		}
		if other, ok := registry.names[n]; ok && other != ds {
			panic(fmt.Sprintf("normalize: dataset name %q used by %s and %s", n, other.Name, ds.Name))
		}
		registry.names[n] = ds
	}
	registry.datasets = append(registry.datasets, ds)
}

// schemas compiles every registered dataset once.
var compileAll = sync.OnceFunc(func() {
	registry.Lock()
	defer registry.Unlock()
	registry.compiled = true
	for _, ds := range registry.datasets {
		registry.schemas[ds] = compile(ds)
	}
})

func lookup(name string) (*Dataset, bool) {
	ds, ok := registry.names[name]
	if !ok {
		ds, ok = registry.names[strings.ToLower(strings.TrimSpace(name))]
	}
	return ds, ok
}

func schemaOf(ds *Dataset) *Schema {
	compileAll()
	return registry.schemas[ds]
}

// Resolve maps a dataset name as Cloudflare (http_requests) or Elastic
// (cloudflare_logpush.http_request, or the bare http_request) spell it to
// the canonical Cloudflare dataset name.
func Resolve(name string) (canonical string, ok bool) {
	ds, ok := lookup(name)
	if !ok {
		return "", false
	}
	return ds.Name, true
}

// ElasticDataset returns the Elastic dataset name (data_stream.dataset) of a
// canonical (or any accepted) dataset name, or "" for an unknown one.
func ElasticDataset(canonical string) string {
	ds, ok := lookup(canonical)
	if !ok {
		return ""
	}
	return ds.Elastic
}

// Datasets lists the canonical names of every known dataset, sorted.
func Datasets() []string {
	out := make([]string, 0, len(registry.datasets))
	for _, ds := range registry.datasets {
		out = append(out, ds.Name)
	}
	sort.Strings(out)
	return out
}
