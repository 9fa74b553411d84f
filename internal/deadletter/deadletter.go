// Package deadletter keeps records flarehose could not store, with the reason,
// so nothing is silently lost: a malformed line from a source (stage
// "normalize", the raw record kept byte for byte), or a document a sink
// permanently rejected (stage = the sink's name, the ECS document kept in
// Doc). Entries are NDJSON files under <data_dir>/deadletter, one file per
// UTC day (deadletter-YYYYMMDD.ndjson), fsynced before Write returns so a
// source may acknowledge its sender afterwards.
//
// Reading (Scan, Query) is robust to what a crash or a bug can leave: an
// unterminated last line (a torn write, or one being written right now) is
// skipped and counted, a line that is not a valid entry is counted and
// skipped, and lines of any size up to MaxLineBytes are read.
//
// Replay sends raw records back through a running receiver after a fix and
// remembers what it sent in <dir>/replay.log (see Marks), so the same entry
// is never sent twice. Purge removes whole day files.
package deadletter

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/flarehose/flarehose/internal/event"
)

// StageNormalize is the stage of records that could not be normalized: they
// carry the raw record as received. Any other stage is a sink's name: those
// entries carry the ECS document the sink rejected.
const StageNormalize = "normalize"

// Entry is one dead letter. It holds either the raw record as received
// (Raw/RawB64: stage "normalize") or the normalized record a sink rejected
// (Doc, RecordID, EventTime: stage = the sink's name).
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

	// Sink stage: the normalized record (event.Record) the sink rejected.
	Doc       json.RawMessage `json:"doc,omitempty"`       // the ECS document
	RecordID  string          `json:"record_id,omitempty"` // its deterministic id (dedup downstream)
	EventTime time.Time       `json:"event_time,omitzero"` // its @timestamp
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

// SetRecord stores a normalized record a sink rejected: its document in Doc
// (or, should it not be valid JSON, in Raw), its id and time.
func (e *Entry) SetRecord(r *event.Record) {
	if e.Dataset == "" {
		e.Dataset = r.Dataset
	}
	e.RecordID = r.ID
	e.EventTime = time.Time{}
	if r.Time != 0 {
		e.EventTime = time.Unix(0, r.Time).UTC()
	}
	if json.Valid(r.Doc) {
		e.Doc = append(json.RawMessage(nil), r.Doc...)
		e.Raw, e.RawB64 = "", ""
		return
	}
	e.Doc = nil
	e.SetRaw(r.Doc)
}

// IsDoc reports whether the entry holds a normalized document (sink stage)
// rather than a raw record.
func (e *Entry) IsDoc() bool {
	return len(e.Doc) > 0 || (e.Stage != StageNormalize && e.Stage != "")
}

// Record returns the normalized record of a sink-stage entry, for sending it
// to the sink again. Entries written before Doc existed kept the document in
// Raw; it is used when it is a JSON object. ok is false for raw records.
func (e *Entry) Record() (r event.Record, ok bool) {
	if !e.IsDoc() {
		return r, false
	}
	doc := []byte(e.Doc)
	if len(doc) == 0 {
		doc = e.RawBytes()
		if !json.Valid(doc) {
			return r, false
		}
	}
	r = event.Record{Dataset: e.Dataset, ID: e.RecordID, Doc: doc}
	if !e.EventTime.IsZero() {
		r.Time = e.EventTime.UnixNano()
	}
	return r, true
}

// Payload returns what the entry keeps of the record: the raw bytes, or the
// document of a sink-stage entry.
func (e *Entry) Payload() []byte {
	if len(e.Doc) > 0 {
		return e.Doc
	}
	return e.RawBytes()
}

// FilePrefix and FileSuffix frame the daily files: deadletter-20261121.ndjson.
const (
	FilePrefix = "deadletter-"
	FileSuffix = ".ndjson"
	dayLayout  = "20060102"
)

// FileName returns the name of the file holding entries dead-lettered on t's
// UTC day.
func FileName(t time.Time) string { return FilePrefix + t.UTC().Format(dayLayout) + FileSuffix }

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
	day := entries[0].Time.UTC().Format(dayLayout)
	if s.file == nil || day != s.day {
		if s.file != nil {
			s.file.Close()
			s.file = nil
		}
		f, err := openAppend(filepath.Join(s.dir, FilePrefix+day+FileSuffix))
		if err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
		s.file, s.day = f, day
	}
	if _, err := s.file.Write(buf); err != nil {
		// A partial write leaves a line without its newline: reopen next
		// time, which terminates it, so the next entry is not glued to it.
		s.file.Close()
		s.file = nil
		return fmt.Errorf("dead letters: %w", err)
	}
	if err := s.file.Sync(); err != nil {
		s.file.Close()
		s.file = nil
		return fmt.Errorf("dead letters: fsync: %w", err)
	}
	return nil
}

// openAppend opens a file for appending. If it ends in an unterminated line
// (a write torn by a crash or a full disk), a newline is written first: the
// torn line stays one invalid line that readers skip, instead of swallowing
// the next entry.
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	if err := terminate(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func terminate(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], st.Size()-1); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = f.Write([]byte{'\n'})
	return err
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

// Read calls fn for every entry in dir, oldest file first, and returns how
// many lines it skipped (torn, invalid or oversized; see Scan for the
// details). A missing directory holds no entries.
func Read(dir string, fn func(Entry) error) (skipped int, err error) {
	st, err := Scan(dir, ScanOptions{}, func(_ Ref, e *Entry) error { return fn(*e) })
	return st.Skipped(), err
}
