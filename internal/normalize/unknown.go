package normalize

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Unknown field names.
//
// Fields a dataset's mapping does not know are kept (snake_cased under the
// namespace) and counted (Env.UnknownFields). The UnknownTracker also
// remembers which: per dataset, up to UnknownFieldLimit distinct names with
// their count and first / last sighting; further names are only counted
// (Overflow). A running server persists it to <data_dir>/unknown_fields.json
// (Env.PersistUnknownFields), which `flarehose fields --unknown` reads: the
// way to see that Cloudflare added fields a mapping should learn.

// UnknownFieldLimit bounds the distinct unknown names tracked per dataset.
const UnknownFieldLimit = 256

// UnknownFieldsFile is the file name, in the data directory, of the
// persisted unknown field names.
const UnknownFieldsFile = "unknown_fields.json"

// UnknownField is one field name a dataset's mapping does not know.
type UnknownField struct {
	Name      string    `json:"name"` // as in the record (dotted for a member of an API record's object)
	Path      string    `json:"path"` // where the document keeps it
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// UnknownDataset is what was seen for one dataset.
type UnknownDataset struct {
	Fields   []UnknownField `json:"fields"`             // by name
	Overflow uint64         `json:"overflow,omitempty"` // sightings of names beyond UnknownFieldLimit
}

// UnknownReport is the content of unknown_fields.json.
type UnknownReport struct {
	Version  int                        `json:"version"`
	Updated  time.Time                  `json:"updated"`
	Datasets map[string]*UnknownDataset `json:"datasets"` // canonical dataset name
}

type unknownEntry struct {
	path  string
	count atomic.Uint64
	first int64 // unix nanoseconds; set once
	last  atomic.Int64
}

type unknownSet struct {
	names    atomic.Pointer[map[string]*unknownEntry] // copy-on-write: replaced, never mutated
	overflow atomic.Uint64
}

func newUnknownSet() *unknownSet {
	s := &unknownSet{}
	m := map[string]*unknownEntry{}
	s.names.Store(&m)
	return s
}

// UnknownTracker records unknown field names; safe for concurrent use. The
// hot path (a name seen before) takes no lock.
type UnknownTracker struct {
	limit int
	mu    sync.Mutex
	sets  sync.Map // dataset -> *unknownSet
	now   func() time.Time
}

func newUnknownTracker(limit int) *UnknownTracker {
	return &UnknownTracker{limit: limit, now: time.Now}
}

// UnknownNames returns the Env's tracker of unknown field names.
func (e *Env) UnknownNames() *UnknownTracker { return e.unknownNames }

func (t *UnknownTracker) set(dataset string) *unknownSet {
	if v, ok := t.sets.Load(dataset); ok {
		return v.(*unknownSet)
	}
	v, _ := t.sets.LoadOrStore(dataset, newUnknownSet())
	return v.(*unknownSet)
}

// observe records the unknown fields of one record.
func (t *UnknownTracker) observe(dataset, ns string, extras []extra) {
	set := t.set(dataset)
	names := *set.names.Load()
	now := t.now().UnixNano()
	for i := range extras {
		x := &extras[i]
		e := names[x.src]
		if e == nil {
			if e = t.add(set, x.src, ns+"."+x.key, now); e == nil {
				set.overflow.Add(1)
				continue
			}
		}
		e.count.Add(1)
		if e.last.Load() < now {
			e.last.Store(now)
		}
	}
}

// add inserts a name (copy-on-write); nil when the set is full.
func (t *UnknownTracker) add(set *unknownSet, name, path string, now int64) *unknownEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *set.names.Load()
	if e := old[name]; e != nil {
		return e
	}
	if len(old) >= t.limit {
		return nil
	}
	names := make(map[string]*unknownEntry, len(old)+1)
	for k, v := range old {
		names[k] = v
	}
	e := &unknownEntry{path: path, first: now}
	names[name] = e
	set.names.Store(&names)
	return e
}

// Report returns what was seen so far.
func (t *UnknownTracker) Report() UnknownReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := UnknownReport{Version: 1, Updated: t.now().UTC(), Datasets: map[string]*UnknownDataset{}}
	t.sets.Range(func(k, v any) bool {
		set := v.(*unknownSet)
		d := &UnknownDataset{Overflow: set.overflow.Load()}
		for name, e := range *set.names.Load() {
			d.Fields = append(d.Fields, UnknownField{Name: name, Path: e.path, Count: e.count.Load(),
				FirstSeen: time.Unix(0, e.first).UTC(), LastSeen: time.Unix(0, e.last.Load()).UTC()})
		}
		sort.Slice(d.Fields, func(i, j int) bool { return d.Fields[i].Name < d.Fields[j].Name })
		if len(d.Fields) > 0 || d.Overflow > 0 {
			rep.Datasets[k.(string)] = d
		}
		return true
	})
	return rep
}

// total is the number of sightings, to tell whether anything changed.
func (t *UnknownTracker) total() uint64 {
	var n uint64
	t.sets.Range(func(_, v any) bool {
		set := v.(*unknownSet)
		n += set.overflow.Load()
		for _, e := range *set.names.Load() {
			n += e.count.Load()
		}
		return true
	})
	return n
}

// Merge adds a report (a previous run's file) to the tracker: counts add
// up, the earliest first and the latest last sighting win.
func (t *UnknownTracker) Merge(rep UnknownReport) {
	for ds, d := range rep.Datasets {
		if d == nil {
			continue
		}
		set := t.set(ds)
		set.overflow.Add(d.Overflow)
		for _, f := range d.Fields {
			first := f.FirstSeen.UnixNano()
			e := (*set.names.Load())[f.Name]
			if e == nil {
				if e = t.add(set, f.Name, f.Path, first); e == nil {
					set.overflow.Add(f.Count)
					continue
				}
			}
			t.mu.Lock()
			if first < e.first {
				e.first = first
			}
			t.mu.Unlock()
			e.count.Add(f.Count)
			if l := f.LastSeen.UnixNano(); e.last.Load() < l {
				e.last.Store(l)
			}
		}
	}
}

// Save writes the report to path atomically (a temporary file renamed).
func (t *UnknownTracker) Save(path string) error {
	b, err := json.MarshalIndent(t.Report(), "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".unknown_fields-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving unknown field names: %w", err)
	}
	return nil
}

// ReadUnknownFields reads a file Save wrote.
func ReadUnknownFields(path string) (UnknownReport, error) {
	var rep UnknownReport
	b, err := os.ReadFile(path)
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("%s: %w", path, err)
	}
	if rep.Datasets == nil {
		rep.Datasets = map[string]*UnknownDataset{}
	}
	return rep, nil
}

// PersistUnknownFields keeps path (normally <data_dir>/unknown_fields.json)
// up to date with the unknown field names this Env sees: it first merges
// what the file holds from earlier runs, then saves every interval (when
// something changed) and once more when ctx ends, and returns then. Run it
// in its own goroutine for the life of the server. onError (may be nil) is
// told about files it could not read or write; it keeps going.
func (e *Env) PersistUnknownFields(ctx context.Context, path string, every time.Duration, onError func(error)) {
	report := func(err error) {
		if err != nil && onError != nil {
			onError(err)
		}
	}
	t := e.unknownNames
	if rep, err := ReadUnknownFields(path); err == nil {
		t.Merge(rep)
	} else if !os.IsNotExist(err) {
		report(err) // a damaged file is replaced by the next save
	}
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	saved := ^uint64(0)
	save := func() {
		if n := t.total(); n != saved {
			if err := t.Save(path); err != nil {
				report(err)
				return
			}
			saved = n
		}
	}
	for {
		select {
		case <-ctx.Done():
			save()
			return
		case <-tick.C:
			save()
		}
	}
}
