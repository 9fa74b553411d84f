package deadletter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxLineBytes bounds one line read back: longer lines are skipped and
// counted (Stats.Oversized), never loaded. A raw record is at most the
// receiver's max_line_bytes (16 MiB by default), which JSON escaping can
// grow up to six times.
var MaxLineBytes = 1 << 30

// Ref identifies an entry: the file it is in and the byte offset of its
// line. Files are append-only and removed only whole (Purge), so a Ref stays
// valid as long as its entry exists.
type Ref struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
}

func (r Ref) String() string { return fmt.Sprintf("%s:%d", r.File, r.Offset) }

// Short is the Ref as the CLI and the UI show it: "20261121:1234" (day of
// the file, offset). ParseRef reads both forms.
func (r Ref) Short() string {
	day := strings.TrimSuffix(strings.TrimPrefix(r.File, FilePrefix), FileSuffix)
	return fmt.Sprintf("%s:%d", day, r.Offset)
}

// ParseRef parses "20261121:1234" or "deadletter-20261121.ndjson:1234".
func ParseRef(s string) (Ref, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Ref{}, fmt.Errorf("dead letter reference %q: want DAY:OFFSET as listed, e.g. 20261121:1234", s)
	}
	file, off := s[:i], s[i+1:]
	if !strings.HasPrefix(file, FilePrefix) {
		file = FilePrefix + file + FileSuffix
	}
	n, err := strconv.ParseInt(off, 10, 64)
	if _, ok := fileDay(file); !ok || err != nil || n < 0 {
		return Ref{}, fmt.Errorf("dead letter reference %q: want DAY:OFFSET as listed, e.g. 20261121:1234", s)
	}
	return Ref{File: file, Offset: n}, nil
}

// ErrNoEntry is returned by Get when no entry starts at the reference.
var ErrNoEntry = errors.New("no dead letter there")

// Get reads the entry at r.
func Get(dir string, r Ref) (*Entry, error) {
	if _, ok := fileDay(r.File); !ok || r.Offset < 0 {
		return nil, fmt.Errorf("%s: %w", r, ErrNoEntry)
	}
	path := filepath.Join(dir, r.File)
	if r.Offset > 0 {
		// An entry starts a line.
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%s: %w (file removed?)", r.Short(), ErrNoEntry)
			}
			return nil, err
		}
		var b [1]byte
		_, err = f.ReadAt(b[:], r.Offset-1)
		f.Close()
		if err != nil || b[0] != '\n' {
			return nil, fmt.Errorf("%s: %w", r.Short(), ErrNoEntry)
		}
	}
	var got *Entry
	_, err := scanFile(path, r.File, r.Offset, -1, func(at Ref, e *Entry) error {
		if at.Offset == r.Offset {
			got = e
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if got == nil {
		return nil, fmt.Errorf("%s: %w", r.Short(), ErrNoEntry)
	}
	return got, nil
}

// Stats say what a scan read and what it had to skip.
type Stats struct {
	Files     int `json:"files"`     // files read
	Entries   int `json:"entries"`   // entries decoded
	Invalid   int `json:"invalid"`   // complete lines that are not an entry (bad JSON, no time)
	Torn      int `json:"torn"`      // unterminated last lines: torn by a crash, or being written
	Oversized int `json:"oversized"` // lines over MaxLineBytes, skipped unread
	// Ends holds, per file, the offset just past its last complete line:
	// where a later scan of new entries starts (ScanOptions.From).
	Ends map[string]int64 `json:"-"`
}

// Skipped is the number of lines that were not entries.
func (s Stats) Skipped() int { return s.Invalid + s.Torn + s.Oversized }

func (s *Stats) add(o Stats) {
	s.Files += o.Files
	s.Entries += o.Entries
	s.Invalid += o.Invalid
	s.Torn += o.Torn
	s.Oversized += o.Oversized
	for k, v := range o.Ends {
		if s.Ends == nil {
			s.Ends = map[string]int64{}
		}
		s.Ends[k] = v
	}
}

// ScanOptions narrow a scan.
type ScanOptions struct {
	// Since and Until skip whole files whose day lies outside [Since,
	// Until); entries are not filtered by time here (see Filter).
	Since, Until time.Time
	// From starts reading a file at this offset (a line start, normally a
	// previous Stats.Ends value) instead of 0.
	From map[string]int64
	// Stop, when not nil, reads only the files it names, each up to the
	// given size: a snapshot (see Sizes), so entries appended meanwhile are
	// not read.
	Stop map[string]int64
	// Reverse reads the newest file first (entries within a file still in
	// file order).
	Reverse bool
}

// Files returns the names (not paths) of the daily files in dir, oldest
// first. A missing directory has none.
func Files(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var names []string
	for _, de := range des {
		if n := de.Name(); !de.IsDir() && isDayFile(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

func isDayFile(name string) bool {
	_, ok := fileDay(name)
	return ok
}

// fileDay returns the UTC midnight a daily file name stands for.
func fileDay(name string) (time.Time, bool) {
	d, ok := strings.CutPrefix(name, FilePrefix)
	if !ok {
		return time.Time{}, false
	}
	if d, ok = strings.CutSuffix(d, FileSuffix); !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(dayLayout, d)
	return t, err == nil
}

// Sizes returns the current size of every daily file: a snapshot for
// ScanOptions.Stop.
func Sizes(dir string) (map[string]int64, error) {
	names, err := Files(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // purged meanwhile
			}
			return nil, err
		}
		out[n] = st.Size()
	}
	return out, nil
}

// errStop ends a scan early without an error.
var errStop = errors.New("stop")

// Scan calls fn for every entry in dir, oldest file first (newest first with
// Reverse), with the entry's Ref. The *Entry is fn's to keep. A line that
// is not an entry is counted in the Stats, never fatal; an error from fn
// stops the scan and is returned. A missing directory holds no entries.
func Scan(dir string, o ScanOptions, fn func(Ref, *Entry) error) (Stats, error) {
	var st Stats
	names, err := Files(dir)
	if err != nil {
		return st, err
	}
	if o.Reverse {
		for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
			names[i], names[j] = names[j], names[i]
		}
	}
	for _, name := range names {
		day, _ := fileDay(name)
		if !o.Since.IsZero() && !day.Add(24*time.Hour).After(o.Since) {
			continue
		}
		if !o.Until.IsZero() && !day.Before(o.Until) {
			continue
		}
		stop := int64(-1)
		if o.Stop != nil {
			n, ok := o.Stop[name]
			if !ok {
				continue
			}
			stop = n
		}
		fs, err := scanFile(filepath.Join(dir, name), name, o.From[name], stop, fn)
		st.add(fs)
		if err != nil {
			if errors.Is(err, errStop) {
				return st, nil
			}
			return st, err
		}
	}
	return st, nil
}

// scanFile reads one file from offset from up to stop (-1: its end).
func scanFile(path, name string, from, stop int64, fn func(Ref, *Entry) error) (Stats, error) {
	st := Stats{Ends: map[string]int64{name: from}}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Stats{}, nil // purged meanwhile
		}
		return st, err
	}
	defer f.Close()
	st.Files = 1
	var r io.Reader = f
	if from > 0 {
		if _, err := f.Seek(from, io.SeekStart); err != nil {
			return st, err
		}
	}
	if stop >= 0 {
		if stop <= from {
			return st, nil
		}
		r = io.LimitReader(f, stop-from)
	}
	br := bufio.NewReaderSize(r, 256<<10)
	off := from
	var long []byte // a line longer than the reader's buffer, being assembled
	for {
		frag, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if long != nil || len(frag) > 0 {
				if len(long)+len(frag) > MaxLineBytes {
					// Skip the rest of this line unread.
					n, terminated, serr := skipLine(br)
					off += int64(len(long)+len(frag)) + n
					long = nil
					if serr != nil && !errors.Is(serr, io.EOF) {
						return st, serr
					}
					if !terminated {
						st.Torn++
						return st, nil
					}
					st.Oversized++
					st.Ends[name] = off
					continue
				}
				long = append(long, frag...)
			}
			continue
		case err == nil:
			line := frag
			if long != nil {
				long = append(long, frag...)
				line = long
			}
			start := off
			off += int64(len(line))
			long = nil
			st.Ends[name] = off
			body := bytes.TrimRight(line, "\r\n")
			if len(bytes.TrimSpace(body)) == 0 {
				continue
			}
			e := new(Entry)
			if json.Unmarshal(body, e) != nil || e.Time.IsZero() {
				st.Invalid++
				continue
			}
			st.Entries++
			if err := fn(Ref{File: name, Offset: start}, e); err != nil {
				return st, err
			}
		case errors.Is(err, io.EOF):
			if len(long)+len(frag) > 0 && len(bytes.TrimSpace(append(long, frag...))) > 0 {
				st.Torn++ // no newline: torn by a crash, or still being written
			}
			return st, nil
		default:
			return st, err
		}
	}
}

// skipLine discards input up to and including the next newline. It returns
// how many bytes it discarded and whether it found the newline.
func skipLine(br *bufio.Reader) (int64, bool, error) {
	var n int64
	for {
		frag, err := br.ReadSlice('\n')
		n += int64(len(frag))
		switch {
		case err == nil:
			return n, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return n, false, err
		}
	}
}
