package deadletter

import (
	"sort"
	"time"
)

// Filter selects entries. Zero fields match everything.
type Filter struct {
	Since, Until time.Time // Time in [Since, Until)
	Dataset      string    // exact; NoDataset matches entries without one
	Reason       string    // exact reason code
	Stage        string    // exact stage ("normalize" or a sink name)
	State        string    // replay state; "" matches every state, StatePending is spelled "pending"
}

// NoDataset selects entries whose delivery named no dataset.
const NoDataset = "none"

// Match reports whether e passes the filter (State is checked by callers
// that have the marks).
func (f *Filter) Match(e *Entry) bool {
	if !f.Since.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !e.Time.Before(f.Until) {
		return false
	}
	if f.Dataset != "" && e.Dataset != f.Dataset && (f.Dataset != NoDataset || e.Dataset != "") {
		return false
	}
	if f.Reason != "" && e.Reason != f.Reason {
		return false
	}
	if f.Stage != "" && e.Stage != f.Stage {
		return false
	}
	return true
}

func (f *Filter) matchState(s string) bool {
	switch f.State {
	case "":
		return true
	case "pending":
		return s == StatePending
	default:
		return s == f.State
	}
}

// Item is an entry with where it is and its replay state.
type Item struct {
	Ref   Ref    `json:"ref"`
	State string `json:"state,omitempty"` // "", replayed, failed_again
	Entry
}

// Result is the answer to a Query.
type Result struct {
	Items     []Item         // newest first, at most the limit
	Total     int            // entries matching the filter
	ByReason  map[string]int // matching entries per reason
	ByDataset map[string]int // matching entries per dataset ("none" for entries without one)
	ByState   map[string]int // matching entries per replay state ("pending" for none)
	Stats     Stats          // what the scan read and skipped
	// MarksInvalid counts unreadable lines of the marks file.
	MarksInvalid int
}

// Query returns the newest entries matching f (at most limit; limit <= 0
// returns none but still counts) and counts of all matching entries. Memory
// is bounded by limit whatever the size of the files: it reads the newest
// file first and keeps only the last limit matches of each file.
func Query(dir string, f Filter, limit int) (*Result, error) {
	marks, err := LoadMarks(dir)
	if err != nil {
		return nil, err
	}
	res := &Result{ByReason: map[string]int{}, ByDataset: map[string]int{}, ByState: map[string]int{}, MarksInvalid: marks.Invalid}
	var ring []Item // the newest matches of the current file, as a ring
	next := 0       // where the next match goes in ring
	flush := func() {
		// ring holds the file's last matches; the newest first go to Items.
		n := len(ring)
		for i := 0; i < n && len(res.Items) < limit; i++ {
			res.Items = append(res.Items, ring[(next-1-i+2*n)%n])
		}
		ring, next = ring[:0], 0
	}
	curFile := ""
	st, err := Scan(dir, ScanOptions{Since: f.Since, Until: f.Until, Reverse: true}, func(r Ref, e *Entry) error {
		if r.File != curFile {
			flush()
			curFile = r.File
		}
		if !f.Match(e) {
			return nil
		}
		state := marks.State(r)
		if !f.matchState(state) {
			return nil
		}
		res.Total++
		res.ByReason[e.Reason]++
		ds := e.Dataset
		if ds == "" {
			ds = NoDataset
		}
		res.ByDataset[ds]++
		sk := state
		if sk == StatePending {
			sk = "pending"
		}
		res.ByState[sk]++
		if want := limit - len(res.Items); want > 0 {
			it := Item{Ref: r, State: state, Entry: *e}
			if len(ring) < want {
				ring = append(ring, it)
				next = len(ring) % want
			} else {
				ring[next] = it
				next = (next + 1) % len(ring)
			}
		}
		return nil
	})
	flush()
	res.Stats = st
	if err != nil {
		return res, err
	}
	// Entries of one file are appended in time order, give or take
	// concurrent writers: order by time, newest first, file order breaking
	// ties.
	sort.SliceStable(res.Items, func(i, j int) bool { return res.Items[i].Time.After(res.Items[j].Time) })
	return res, nil
}
