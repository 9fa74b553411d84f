package deadletter

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// MarksFile, in the dead-letter directory, remembers what replay did with
// entries: one JSON line per entry, appended and fsynced after the receiver
// acknowledged the batch. It is not a daily file, so readers of entries
// never see it.
const MarksFile = "replay.log"

// Replay states of an entry.
const (
	// StatePending: never replayed (no mark).
	StatePending = ""
	// StateReplayed: sent again and acknowledged. The record is then either
	// stored, or dead-lettered again as a new entry (StateFailedAgain).
	StateReplayed = "replayed"
	// StateFailedAgain: the entry was written by the receiver during a
	// replay because the record still fails. A plain replay skips it (it
	// would fail the same way); --retry-failed sends it after another fix.
	StateFailedAgain = "failed_again"
)

// Mark is one line of the marks file.
type Mark struct {
	Ref
	State string    `json:"state"`
	Time  time.Time `json:"time"`
	To    string    `json:"to,omitempty"` // where it was sent
}

// Marks is the replay state of entries, loaded from the marks file.
type Marks struct {
	path  string
	state map[Ref]Mark
	// Invalid counts lines of the marks file that did not parse (a torn
	// append): their entries count as pending and may be sent once more.
	Invalid int
}

// LoadMarks reads dir's marks file; a missing file means nothing was
// replayed.
func LoadMarks(dir string) (*Marks, error) {
	m := &Marks{path: filepath.Join(dir, MarksFile), state: map[Ref]Mark{}}
	f, err := os.Open(m.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return m, nil
		}
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var mk Mark
		if json.Unmarshal(sc.Bytes(), &mk) != nil || mk.File == "" || mk.State == "" {
			m.Invalid++
			continue
		}
		m.state[mk.Ref] = mk // a later line wins
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dead letters: reading %s: %w", MarksFile, err)
	}
	return m, nil
}

// State returns the replay state of an entry (StatePending when none).
func (m *Marks) State(r Ref) string { return m.state[r].State }

// Len returns the number of marked entries.
func (m *Marks) Len() int { return len(m.state) }

// Add appends marks to the file and fsyncs it, then records them in m.
func (m *Marks) Add(marks []Mark) error {
	if len(marks) == 0 {
		return nil
	}
	var buf []byte
	for i := range marks {
		b, err := json.Marshal(&marks[i])
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	f, err := openAppend(m.path)
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dead letters: writing %s: %w", MarksFile, err)
	}
	for _, mk := range marks {
		m.state[mk.Ref] = mk
	}
	return nil
}

// dropFiles rewrites the marks file without the marks of the given files
// (after Purge removed them): write a temporary file, fsync, rename.
func (m *Marks) dropFiles(files map[string]bool) error {
	keep := make([]Mark, 0, len(m.state))
	for r, mk := range m.state {
		if !files[r.File] {
			keep = append(keep, mk)
		}
	}
	if len(keep) == len(m.state) {
		return nil
	}
	sort.Slice(keep, func(i, j int) bool {
		if keep[i].File != keep[j].File {
			return keep[i].File < keep[j].File
		}
		return keep[i].Offset < keep[j].Offset
	})
	tmp := m.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range keep {
		b, _ := json.Marshal(&keep[i])
		w.Write(b)
		w.WriteByte('\n')
	}
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, m.path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(m.path))
	m.state = make(map[Ref]Mark, len(keep))
	for _, mk := range keep {
		m.state[mk.Ref] = mk
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
