// Package deadletter keeps records flarehose could not store, with the reason,
// so nothing is silently lost: a malformed line from a source, or later a
// document a sink permanently rejected. Entries are NDJSON files under
// <data_dir>/deadletter, one file per UTC day, fsynced before Write returns
// so a source may acknowledge its sender afterwards.
package deadletter

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Entry is one dead letter.
type Entry struct {
	Time    time.Time `json:"time"`              // when it was dead-lettered
	Stage   string    `json:"stage"`             // "normalize" or a sink name
	Source  string    `json:"source,omitempty"`  // source component
	Origin  string    `json:"origin,omitempty"`  // remote address, object key, ...
	Dataset string    `json:"dataset,omitempty"` // dataset the record was sent as
	Line    int       `json:"line,omitempty"`    // 1-based line within its delivery
	Reason  string    `json:"reason"`            // short code, e.g. invalid_json
	Error   string    `json:"error"`             // the full message
	Raw     string    `json:"raw,omitempty"`     // the record as received, when valid UTF-8
	RawB64  string    `json:"raw_b64,omitempty"` // the record base64-encoded, when not
}

// RawBytes returns the record as it was received.
func (e *Entry) RawBytes() []byte {
	if e.RawB64 != "" {
		b, _ := base64.StdEncoding.DecodeString(e.RawB64)
		return b
	}
	return []byte(e.Raw)
}

// SetRaw stores raw exactly: as text when it is valid UTF-8, else base64.
func (e *Entry) SetRaw(raw []byte) {
	if utf8.Valid(raw) {
		e.Raw, e.RawB64 = string(raw), ""
		return
	}
	e.Raw, e.RawB64 = "", base64.StdEncoding.EncodeToString(raw)
}

// Store appends entries to daily files in a directory.
type Store struct {
	dir string

	mu   sync.Mutex
	day  string
	file *os.File
}

// Open creates the directory if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the directory the entries are written to.
func (s *Store) Dir() string { return s.dir }

// Write appends entries and fsyncs before returning.
func (s *Store) Write(entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var buf []byte
	for i := range entries {
		b, err := json.Marshal(&entries[i]) // cold path: only bad records get here
		if err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	day := entries[0].Time.UTC().Format("20060102")
	if s.file == nil || day != s.day {
		if s.file != nil {
			s.file.Close()
		}
		f, err := os.OpenFile(filepath.Join(s.dir, "deadletter-"+day+".ndjson"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
		s.file, s.day = f, day
	}
	if _, err := s.file.Write(buf); err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	if err := s.file.Sync(); err != nil {
		return fmt.Errorf("dead letters: fsync: %w", err)
	}
	return nil
}

// Close closes the current file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}

// Read calls fn for every entry in dir, oldest file first. A line that does
// not parse (a torn write after a crash) is reported through fn's error-free
// path as skipped: Read returns how many lines it skipped.
func Read(dir string, fn func(Entry) error) (skipped int, err error) {
	names, err := filepath.Glob(filepath.Join(dir, "deadletter-*.ndjson"))
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return skipped, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 256<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if len(strings.TrimSpace(string(line))) == 0 {
				continue
			}
			var e Entry
			if json.Unmarshal(line, &e) != nil {
				skipped++
				continue
			}
			if err := fn(e); err != nil {
				f.Close()
				return skipped, err
			}
		}
		f.Close()
		if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
			return skipped, err
		}
	}
	return skipped, nil
}
