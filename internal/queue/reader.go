package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// Entry is one entry read from the queue.
type Entry struct {
	Data []byte   // valid until the next call to Next on the same Reader
	Pos  Position // position after this entry: pass it to Commit once the entry is delivered
}

// Reader is a named consumer of the queue (one per sink) with a durable
// cursor. Next must not be called concurrently with itself; Commit, Lag and
// Close may be called from other goroutines (e.g. Commit from a goroutine
// that finishes writing while Next fetches the following entry).
type Reader struct {
	q    *Queue
	name string
	path string // cursor file
	done chan struct{}

	mu  sync.Mutex // serialises Next; guards the fields below
	pos Position   // next record to read
	f   *os.File   // open segment
	seg uint64     // segment f belongs to
	sr  segReader

	cmu sync.Mutex // serialises Commit and cursor writes

	// Guarded by q.mu.
	committed Position // durable cursor
	high      Position // position after the last entry returned by Next
	closed    bool
}

var readerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// errCaughtUp is returned by next when it must not wait and nothing is left.
var errCaughtUp = errors.New("queue: reader caught up")

// Reader registers the consumer name and returns its reader. The reader
// resumes from its persisted cursor (Dir/<name>.cursor); a new name starts
// at the oldest retained entry. A name may be registered once per Queue.
// Register every reader before any of them commits: only registered readers
// hold back segment deletion (see the package doc).
func (q *Queue) Reader(name string) (*Reader, error) {
	if !readerName.MatchString(name) {
		return nil, fmt.Errorf("queue: invalid reader name %q: want 1-128 of [A-Za-z0-9_.-], starting with a letter or digit", name)
	}
	path := filepath.Join(q.dir, name+cursorSuffix)
	cur, found, err := readCursor(path)
	if err != nil {
		// Starting over re-delivers entries; refusing to start would stop the
		// sink for good. At least once beats stuck.
		q.log.Warn("queue: unreadable cursor; reader starts at the oldest retained entry (entries may be delivered again)",
			"reader", name, "err", err)
		found = false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing {
		return nil, ErrClosed
	}
	if _, dup := q.readers[name]; dup {
		return nil, fmt.Errorf("queue: reader %q is already registered", name)
	}
	pos := Position{q.segs[0].id, 0}
	if found {
		pos = q.resumeLocked(name, cur)
	}
	r := &Reader{q: q, name: name, path: path, done: make(chan struct{}), pos: pos, committed: pos, high: pos}
	q.readers[name] = r
	delete(q.declared, name) // its registered cursor pins from now on
	q.publishMetricsLocked()
	q.log.Debug("queue: reader registered", "reader", name, "position", pos.String(), "persisted", found)
	return r, nil
}

// resumeLocked maps a persisted cursor to a readable position.
func (q *Queue) resumeLocked(name string, cur Position) Position {
	first, last := q.segs[0], q.segs[len(q.segs)-1]
	oldest := Position{first.id, 0}
	switch {
	case cur.Segment < first.id:
		// cur.Segment == first.id-1 is normal: the reader committed the end
		// of a segment that was then deleted. Anything older means segments
		// it had not consumed were deleted while it was not registered.
		if cur.Segment+1 < first.id {
			q.log.Warn("queue: reader's cursor is older than the oldest retained segment; "+
				"entries it had not committed were deleted while it was not registered",
				"reader", name, "cursor", cur.String(), "oldest", oldest.String())
		}
		return oldest
	case cur.Segment > last.id:
		q.log.Warn("queue: reader's cursor is past the last segment (segment files removed?); starting at the oldest retained entry",
			"reader", name, "cursor", cur.String(), "oldest", oldest.String())
		return oldest
	}
	s := q.segs[q.findLocked(cur.Segment)]
	if s.id != cur.Segment {
		q.log.Warn("queue: reader's cursor segment is missing; continuing with the next segment",
			"reader", name, "cursor", cur.String(), "next", s.id)
		return Position{s.id, 0}
	}
	if cur.Offset < 0 || cur.Offset > s.size {
		q.log.Warn("queue: reader's cursor is past the end of its segment; clamping",
			"reader", name, "cursor", cur.String(), "segment_bytes", s.size)
		return Position{s.id, min(max(cur.Offset, 0), s.size)}
	}
	return cur
}

// Name returns the reader's name.
func (r *Reader) Name() string { return r.name }

// Next returns the next entry, blocking until one is durable, ctx ends
// (ctx.Err()) or the queue or reader is closed (ErrClosed). Corrupt records
// are skipped, counted and logged. An I/O error is returned as is and the
// reader stays where it was, so Next may be retried.
func (r *Reader) Next(ctx context.Context) (Entry, error) {
	return r.next(ctx, true)
}

// TryNext is Next without waiting: ok is false when the reader has caught
// up with everything durable. Sinks use it to gather what is already queued
// into one larger write.
func (r *Reader) TryNext(ctx context.Context) (e Entry, ok bool, err error) {
	e, err = r.next(ctx, false)
	if errors.Is(err, errCaughtUp) {
		return Entry{}, false, nil
	}
	return e, err == nil, err
}

func (r *Reader) next(ctx context.Context, wait bool) (Entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.q
	for {
		if err := ctx.Err(); err != nil {
			return Entry{}, err
		}
		q.mu.Lock()
		if q.closing || r.closed {
			q.mu.Unlock()
			return Entry{}, ErrClosed
		}
		i := q.findLocked(r.pos.Segment)
		if i == len(q.segs) {
			// Cannot happen: segments are deleted only once this reader
			// committed past them, and it never reads behind its commit.
			q.mu.Unlock()
			return Entry{}, fmt.Errorf("queue: reader %q: segment %d is gone", r.name, r.pos.Segment)
		}
		s := q.segs[i]
		if s.id != r.pos.Segment {
			r.pos = Position{s.id, 0}
		}
		sealed := s.id != q.durable.Segment
		limit := q.durable.Offset
		var next uint64
		if sealed {
			limit = s.size
			next = q.segs[i+1].id
		}
		notify := q.notify
		q.mu.Unlock()

		if r.pos.Offset >= limit {
			if sealed {
				r.pos = Position{next, 0}
				continue
			}
			if !wait {
				return Entry{}, errCaughtUp
			}
			select {
			case <-notify:
			case <-ctx.Done():
				return Entry{}, ctx.Err()
			case <-q.closedCh:
				return Entry{}, ErrClosed
			case <-r.done:
				return Entry{}, ErrClosed
			}
			continue
		}

		if err := r.open(r.pos.Segment); err != nil {
			return Entry{}, err
		}
		r.sr.limit = limit
		data, n, ok, err := r.sr.read(r.pos.Offset)
		if err != nil {
			return Entry{}, fmt.Errorf("queue: reader %q: read segment %d at %d: %w", r.name, r.pos.Segment, r.pos.Offset, err)
		}
		if ok {
			r.pos.Offset += n
			q.mu.Lock()
			r.high = r.pos
			q.mu.Unlock()
			return Entry{Data: data, Pos: r.pos}, nil
		}
		at, err := r.sr.resync(r.pos.Offset + 1)
		if err != nil {
			return Entry{}, fmt.Errorf("queue: reader %q: scan segment %d from %d: %w", r.name, r.pos.Segment, r.pos.Offset, err)
		}
		q.corrupt(r.name, r.pos, at-r.pos.Offset)
		r.pos.Offset = at
	}
}

// corrupt records a corrupt region a reader skipped. The metric counts each
// region once however many readers skip it.
func (q *Queue) corrupt(reader string, at Position, n int64) {
	q.mu.Lock()
	_, seen := q.corruptSeen[at]
	if !seen {
		q.corruptSeen[at] = struct{}{}
		q.stats.Corrupt++
	}
	q.mu.Unlock()
	if !seen && q.m != nil {
		q.m.QueueCorrupt.Inc()
	}
	q.log.Error("queue: skipped corrupt data (checksum or framing mismatch); resynced at the next valid record",
		"reader", reader, "segment", at.Segment, "offset", at.Offset, "bytes_skipped", n)
}

// open makes r.f the file of segment id.
func (r *Reader) open(id uint64) error {
	if r.f != nil && r.seg == id {
		return nil
	}
	r.closeFile()
	f, err := os.Open(segPath(r.q.dir, id))
	if err != nil {
		return fmt.Errorf("queue: reader %q: %w", r.name, err)
	}
	r.f, r.seg = f, id
	r.sr.r = f
	return nil
}

func (r *Reader) closeFile() {
	if r.f != nil {
		r.f.Close()
		r.f, r.sr.r = nil, nil
	}
}

// Commit durably records that every entry up to p (an Entry.Pos returned by
// Next) has been delivered, then deletes the segments every registered
// reader has passed. Committing a position at or before the current cursor
// is a no-op; a position past the last entry returned by Next is an error.
func (r *Reader) Commit(p Position) error {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	q := r.q
	q.mu.Lock()
	if q.closing || r.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	if p.Compare(r.committed) <= 0 {
		q.mu.Unlock()
		return nil
	}
	if p.Compare(r.high) > 0 {
		high := r.high
		q.mu.Unlock()
		return fmt.Errorf("queue: reader %q: commit position %s is past the last entry read (%s)", r.name, p, high)
	}
	q.mu.Unlock()

	if err := writeCursor(q.dir, r.path, p); err != nil {
		return fmt.Errorf("queue: reader %q: persist cursor: %w", r.name, err)
	}

	q.mu.Lock()
	r.committed = p
	dels := q.collectLocked()
	q.publishMetricsLocked()
	q.mu.Unlock()
	q.removeSegments(dels)
	return nil
}

// Lag returns the durable bytes this reader has not committed yet.
func (r *Reader) Lag() int64 {
	q := r.q
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.durableGlobalLocked() - q.globalLocked(r.committed)
}

// Close unregisters the reader: it no longer holds back segment deletion
// (even if it was declared in Options.Readers),
// its cursor file stays, and a blocked Next returns ErrClosed. The name can
// be registered again.
func (r *Reader) Close() error {
	r.cmu.Lock() // after an in-flight Commit; also keeps Queue.Close waiting for the deletion below
	defer r.cmu.Unlock()
	q := r.q
	q.mu.Lock()
	if r.closed {
		q.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.done) // wakes a blocked Next
	if q.readers[r.name] == r {
		delete(q.readers, r.name)
	}
	if q.m != nil {
		q.m.SinkLag.DeleteLabelValues(r.name)
	}
	var dels []*segment
	if !q.closing {
		dels = q.collectLocked()
	}
	q.mu.Unlock()
	q.removeSegments(dels)

	r.mu.Lock()
	r.closeFile()
	r.mu.Unlock()
	return nil
}

type cursorJSON struct {
	Segment uint64 `json:"segment"`
	Offset  int64  `json:"offset"`
}

// readCursor reads a cursor file; found is false if there is none.
func readCursor(path string) (p Position, found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, err
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return Position{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return Position{c.Segment, c.Offset}, true, nil
}

// writeCursor replaces the cursor file atomically: write a temp file, fsync
// it (or a crash could leave the renamed file empty), rename it over the
// old one, fsync the directory (or the rename itself could be lost and the
// reader would re-deliver from an older cursor).
func writeCursor(dir, path string, p Position) error {
	b, err := json.Marshal(cursorJSON{p.Segment, p.Offset})
	if err != nil {
		return err
	}
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}
