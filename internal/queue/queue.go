// Package queue is flarehose's durable on-disk queue: the stage between
// normalize and the sinks. A source acknowledges Cloudflare only after
// Append returned nil, so Append means "written and fsynced"; a sink commits
// its reader's position only after the destination has the data, so nothing
// accepted is lost between the two (delivery is at least once).
//
// # Layout
//
// Dir holds numbered segment files (00000000000000000001.seg, ...), one
// cursor file per reader (<name>.cursor) and a LOCK file. A segment is a
// sequence of framed records (see record.go): magic | length | crc32c |
// payload. Entries are only ever appended to the last ("active") segment;
// past Options.SegmentBytes the queue rolls to a new one. Older segments are
// immutable and are deleted whole once every registered reader has
// committed past them.
//
// # Writes: group commit
//
// Append queues its entry and waits. One committer goroutine takes
// everything pending (up to the end of the segment), writes it with one
// buffered pass and one fdatasync, then releases all those Appends at once.
// While it is in fsync new Appends pile up and form the next batch, so
// concurrent appenders share the fsync cost without any artificial delay.
// Readers only ever see the fsynced ("durable") end of the log: a reader
// must never commit a position that a crash could take back, or entries
// appended after the crash at lower offsets would be skipped.
//
// # Crash recovery
//
// Every batch is fsynced before its Appends return and before the next
// segment is created, so only the last segment can end in a torn record.
// Open therefore verifies the last segment record by record and cuts it
// after the last record whose checksum verifies (logging what it cut).
// Sealed segments are not rescanned at Open, which keeps startup
// proportional to one segment instead of to MaxBytes; readers verify every
// record they read anyway. Corruption inside a segment (bad checksum or
// framing followed by valid records) is not cut: a reader that meets it
// counts it (QueueCorrupt, once per region), logs it, and resyncs to the
// next offset where a magic is followed by a record whose checksum
// verifies, so the good records around it are kept.
//
// # Readers and deletion
//
// Only readers of this process hold back segment deletion: those registered
// with Queue.Reader, and those named in Options.Readers (the configured
// sinks), which pin their persisted cursor from Open on, before they
// register. A cursor file left by a sink that was removed from the
// configuration is in neither set, so it does not pin the disk forever; the
// queue cannot tell such a file from a sink that has not registered yet,
// which is why configured sinks are declared up front (or every reader
// must be registered before any of them commits). The first deletion while
// cursor files of undeclared, unregistered readers exist is logged with
// their names. With no reader registered or declared nothing is deleted. A
// reader whose cursor points before the oldest retained segment starts at
// the oldest retained entry, with a warning.
//
// # Disk bound
//
// MaxBytes bounds the bytes of all segment files plus the entries waiting
// to be written. Append refuses an entry that would exceed it with an error
// wrapping event.ErrBackpressure; it succeeds again once readers commit and
// whole segments are deleted. The active segment is never deleted, so when
// an entry does not fit in it and every reader has consumed all of it,
// Append counts it as free (the committer seals it and it is deleted right
// after the write). With Validate's rule MaxBytes >= max(SegmentBytes,
// MaxEntryBytes+12), a queue whose readers have caught up therefore always
// accepts the largest entry.
package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// Defaults for zero Options fields.
const (
	DefaultSegmentBytes  = 64 << 20
	DefaultMaxBytes      = 8 << 30
	DefaultMaxEntryBytes = 256 << 20
)

const (
	segSuffix    = ".seg"
	cursorSuffix = ".cursor"
	tmpSuffix    = ".tmp"
	lockName     = "LOCK"
	writeBufSize = 256 << 10
)

var (
	// ErrClosed is returned by every operation on a closed queue. It wraps
	// event.ErrClosed, which sources map to "retry later".
	ErrClosed = fmt.Errorf("queue closed: %w", event.ErrClosed)
	// ErrEntryTooLarge is returned by Append for an entry above MaxEntryBytes.
	ErrEntryTooLarge = errors.New("queue: entry too large")
	// ErrEmptyEntry is returned by Append for an empty entry.
	ErrEmptyEntry = errors.New("queue: empty entry")
)

// Options configure a Queue.
type Options struct {
	Dir           string             // required; created if missing
	SegmentBytes  int64              // roll to a new segment file past this size; default 64 MiB
	MaxBytes      int64              // disk bound, see the package doc; default 8 GiB
	MaxEntryBytes int64              // larger entries are rejected; default 256 MiB, or MaxBytes/4 if smaller
	Metrics       *telemetry.Metrics // may be nil
	Logger        *slog.Logger       // may be nil

	// Readers names the consumers the application will register (its
	// configured sinks). Their persisted cursors hold back deletion from
	// Open on, so entries are not deleted under a sink that registers after
	// another one committed. Optional; see the package doc.
	Readers []string
}

func (o Options) withDefaults() Options {
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxEntryBytes == 0 {
		o.MaxEntryBytes = min(DefaultMaxEntryBytes, o.MaxBytes/4)
	}
	return o
}

// Validate checks the options; zero sizes mean the defaults.
func (o Options) Validate() error {
	if o.Dir == "" {
		return errors.New("queue: dir is required")
	}
	if o.SegmentBytes < 0 || o.MaxBytes < 0 || o.MaxEntryBytes < 0 {
		return fmt.Errorf("queue: sizes must not be negative (segment_bytes %d, max_bytes %d, max_entry_bytes %d)",
			o.SegmentBytes, o.MaxBytes, o.MaxEntryBytes)
	}
	for _, name := range o.Readers {
		if !readerName.MatchString(name) {
			return fmt.Errorf("queue: invalid reader name %q", name)
		}
	}
	d := o.withDefaults()
	if d.MaxEntryBytes < 1 {
		return fmt.Errorf("queue: max_bytes %d is too small", d.MaxBytes)
	}
	if d.MaxEntryBytes > math.MaxUint32 {
		return fmt.Errorf("queue: max_entry_bytes %d is above the record format's limit %d", d.MaxEntryBytes, uint64(math.MaxUint32))
	}
	if need := max(d.SegmentBytes, d.MaxEntryBytes+headerSize); d.MaxBytes < need {
		return fmt.Errorf("queue: max_bytes %d must be at least max(segment_bytes %d, max_entry_bytes %d + %d) = %d, "+
			"so that a queue whose readers have caught up always accepts the largest entry",
			d.MaxBytes, d.SegmentBytes, d.MaxEntryBytes, headerSize, need)
	}
	return nil
}

// Position is a place in the queue: a segment and a byte offset in it.
type Position struct {
	Segment uint64
	Offset  int64
}

// Compare returns -1, 0 or +1 as p is before, at or after o.
func (p Position) Compare(o Position) int {
	switch {
	case p.Segment != o.Segment:
		if p.Segment < o.Segment {
			return -1
		}
		return 1
	case p.Offset < o.Offset:
		return -1
	case p.Offset > o.Offset:
		return 1
	}
	return 0
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Segment, p.Offset) }

// Stats is a snapshot of the queue's state.
type Stats struct {
	Bytes        int64  // bytes in segment files (durable, not yet deleted)
	PendingBytes int64  // bytes accepted by Append and not yet fsynced
	Segments     int    // segment files retained
	FirstSegment uint64 // oldest retained segment
	LastSegment  uint64 // active segment
	Entries      int64  // entries appended (fsynced) since Open
	Commits      int64  // group commits (one write + fdatasync each) since Open
	Corrupt      int64  // corrupt regions skipped by readers since Open
	Backpressure int64  // Appends refused because of MaxBytes since Open
	Readers      int    // readers registered
}

// segment is one retained segment file.
type segment struct {
	id    uint64
	start int64 // logical offset of the segment's first byte (cumulative since the oldest segment at Open)
	size  int64 // durable size; only grows while active, fixed once sealed
}

type appendReq struct {
	data  []byte
	size  int64 // on disk, with the header
	taken bool  // handed to the committer (guarded by Queue.mu)
	done  chan error
}

// Queue is a durable, segmented, multi-reader FIFO of opaque entries.
// All methods are safe for concurrent use.
type Queue struct {
	opt  Options
	dir  string
	log  *slog.Logger
	m    *telemetry.Metrics
	lock *os.File

	// Owned by the committer goroutine (and Open before it starts).
	wf   *os.File      // active segment, open for writing
	woff int64         // end of the data written to wf
	bw   *bufio.Writer // batches small writes into few syscalls

	committerDone chan struct{}
	closeDone     chan struct{}
	closedCh      chan struct{} // closed by Close: wakes blocked readers

	mu           sync.Mutex
	cond         *sync.Cond // wakes the committer
	segs         []*segment // oldest first; the last one is active; never empty
	durable      Position   // end of the fsynced log: readers stop here
	notify       chan struct{}
	pending      []*appendReq
	pendingBytes int64
	diskBytes    int64
	readers      map[string]*Reader
	declared     map[string]Position // Options.Readers not registered yet: their persisted cursor
	closing      bool
	failed       error // set when the log can no longer be written safely
	cursorNames  []string
	warnedStale  bool
	corruptSeen  map[Position]struct{}
	stats        Stats // counters only: Entries, Commits, Corrupt, Backpressure
}

// Open opens (creating if needed) the queue in o.Dir and recovers it: the
// last segment is verified and a torn tail is cut. Only one Queue may have
// a directory open at a time.
func Open(o Options) (*Queue, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	q := &Queue{
		opt:           o,
		dir:           o.Dir,
		log:           o.Logger,
		m:             o.Metrics,
		committerDone: make(chan struct{}),
		closeDone:     make(chan struct{}),
		closedCh:      make(chan struct{}),
		notify:        make(chan struct{}),
		readers:       make(map[string]*Reader),
		declared:      make(map[string]Position),
		corruptSeen:   make(map[Position]struct{}),
	}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	q.cond = sync.NewCond(&q.mu)
	if err := q.makeDir(); err != nil {
		return nil, err
	}
	lk, err := lockDir(q.dir)
	if err != nil {
		return nil, err
	}
	q.lock = lk
	if err := q.load(); err != nil {
		lk.Close()
		return nil, err
	}
	q.bw = bufio.NewWriterSize(q.wf, writeBufSize)
	if q.m != nil {
		q.m.QueueBytes.Set(float64(q.diskBytes))
	}
	last := q.segs[len(q.segs)-1]
	q.log.Info("queue opened", "dir", q.dir, "segments", len(q.segs), "bytes", q.diskBytes,
		"first_segment", q.segs[0].id, "active_segment", last.id, "active_bytes", last.size)
	go q.run()
	return q, nil
}

// makeDir creates the queue directory. A freshly created directory is made
// durable in its parent, or a crash could lose the whole queue directory
// along with entries already acknowledged.
func (q *Queue) makeDir() error {
	if _, err := os.Stat(q.dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(q.dir, 0o750); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	if err := syncDir(filepath.Dir(filepath.Clean(q.dir))); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	return nil
}

// load scans the directory: segments, cursor names, leftovers.
func (q *Queue) load() error {
	des, err := os.ReadDir(q.dir)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	var ids []uint64
	var maxCursorSeg uint64
	for _, de := range des {
		name := de.Name()
		switch {
		case strings.HasSuffix(name, tmpSuffix):
			// An interrupted cursor write; the cursor it was replacing is intact.
			if err := os.Remove(filepath.Join(q.dir, name)); err != nil {
				q.log.Warn("queue: cannot remove leftover temp file", "file", name, "err", err)
			}
		case strings.HasSuffix(name, segSuffix):
			id, ok := parseSegName(name)
			if !ok {
				q.log.Warn("queue: ignoring unexpected file", "file", name)
				continue
			}
			ids = append(ids, id)
		case strings.HasSuffix(name, cursorSuffix):
			rname := strings.TrimSuffix(name, cursorSuffix)
			q.cursorNames = append(q.cursorNames, rname)
			if p, ok, err := readCursor(filepath.Join(q.dir, name)); err == nil && ok {
				maxCursorSeg = max(maxCursorSeg, p.Segment)
			}
		}
	}
	slices.Sort(ids)

	var start int64
	for i, id := range ids {
		var size int64
		if i < len(ids)-1 {
			fi, err := os.Stat(segPath(q.dir, id))
			if err != nil {
				return fmt.Errorf("queue: %w", err)
			}
			size = fi.Size()
		} else {
			f, end, err := q.recoverLast(id)
			if err != nil {
				return err
			}
			q.wf, size = f, end
		}
		q.segs = append(q.segs, &segment{id: id, start: start, size: size})
		start += size
	}
	if len(ids) == 0 {
		// Segment ids never go back: start after any segment a cursor names,
		// so an old cursor can never point into a new, unrelated segment.
		id := maxCursorSeg + 1
		f, err := createSegment(q.dir, id)
		if err != nil {
			return fmt.Errorf("queue: %w", err)
		}
		q.wf = f
		q.segs = append(q.segs, &segment{id: id})
	}
	for _, name := range q.opt.Readers {
		// No cursor yet (or an unreadable one): the reader will start at the
		// oldest entry, so it pins everything. Position{} sorts before any
		// segment.
		p, _, err := readCursor(filepath.Join(q.dir, name+cursorSuffix))
		if err != nil {
			p = Position{}
		}
		q.declared[name] = p
	}
	last := q.segs[len(q.segs)-1]
	q.woff = last.size
	q.durable = Position{last.id, last.size}
	q.diskBytes = start
	return nil
}

// recoverLast opens the last segment for writing and cuts it after the last
// record whose checksum verifies. A partial record at the end is what a
// crash in the middle of a write leaves; garbage after it is treated the
// same. Invalid bytes followed by valid records are corruption, not a torn
// tail: they are kept for readers to skip, so acknowledged records after
// them are never cut.
func (q *Queue) recoverLast(id uint64) (*os.File, int64, error) {
	path := segPath(q.dir, id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("queue: %w", err)
	}
	fail := func(err error) (*os.File, int64, error) {
		f.Close()
		return nil, 0, fmt.Errorf("queue: recover %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	size := fi.Size()
	sr := segReader{r: f, limit: size}
	var off, end int64
	for off < size {
		n, ok, err := sr.verify(off)
		if err != nil {
			return fail(err)
		}
		if ok {
			off += n
			end = off
			continue
		}
		next, err := sr.resync(off + 1)
		if err != nil {
			return fail(err)
		}
		if next >= size {
			break
		}
		q.log.Warn("queue: corrupt data inside the last segment; readers will skip it",
			"segment", id, "offset", off, "bytes", next-off)
		off = next
	}
	if end < size {
		q.log.Warn("queue: cut torn tail of the last segment (partial or invalid data after the last valid record)",
			"segment", id, "offset", end, "bytes_cut", size-end)
		if err := f.Truncate(end); err != nil {
			return fail(err)
		}
		if err := datasync(f); err != nil {
			return fail(err)
		}
	}
	return f, end, nil
}

// Append writes entry to the queue and returns once it is on disk and
// fsynced. Concurrent Appends share one fsync. The queue does not keep
// entry after Append returns.
//
// If ctx ends before the entry was handed to the committer, Append returns
// ctx.Err() and nothing was written; once the committer has it, Append
// waits for the outcome (at most one group commit) and reports it.
func (q *Queue) Append(ctx context.Context, entry []byte) error {
	if len(entry) == 0 {
		return ErrEmptyEntry
	}
	if int64(len(entry)) > q.opt.MaxEntryBytes {
		return fmt.Errorf("%w: %d bytes, max_entry_bytes is %d", ErrEntryTooLarge, len(entry), q.opt.MaxEntryBytes)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &appendReq{data: entry, size: headerSize + int64(len(entry)), done: make(chan error, 1)}

	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		return ErrClosed
	}
	if q.failed != nil {
		err := q.failed
		q.mu.Unlock()
		return err
	}
	retained := q.diskBytes + q.pendingBytes
	if retained+req.size > q.opt.MaxBytes && q.pendingBytes == 0 {
		// The committer is idle and will seal the active segment to make
		// room for this entry; if every reader has consumed all of it, it is
		// deleted right after the write. Count it as free, or a queue whose
		// readers caught up could refuse entries forever. (A reader that
		// registers in between and starts on that segment pins it: the disk
		// then exceeds MaxBytes by that segment until the reader moves on.)
		act := q.segs[len(q.segs)-1]
		if held, ok := q.heldLocked(); ok && act.size > 0 && act.size+req.size > q.opt.SegmentBytes && held >= act.start+act.size {
			retained -= act.size
		}
	}
	if retained+req.size > q.opt.MaxBytes {
		q.stats.Backpressure++
		q.mu.Unlock()
		if q.m != nil {
			q.m.QueueBackpressure.Inc()
		}
		return fmt.Errorf("queue: %d bytes retained, %d more would exceed max_bytes %d: %w",
			retained, req.size, q.opt.MaxBytes, event.ErrBackpressure)
	}
	q.pending = append(q.pending, req)
	q.pendingBytes += req.size
	q.cond.Signal()
	q.mu.Unlock()

	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
	}
	q.mu.Lock()
	if !req.taken {
		if i := slices.Index(q.pending, req); i >= 0 {
			q.pending = slices.Delete(q.pending, i, i+1)
			q.pendingBytes -= req.size
		}
		q.mu.Unlock()
		return ctx.Err()
	}
	q.mu.Unlock()
	// The committer is writing it: wait, so the caller learns whether it is
	// durable and may reuse entry's memory once we return.
	return <-req.done
}

// run is the committer: it turns pending Appends into batches, one write
// and one fdatasync each, until Close and nothing is pending.
func (q *Queue) run() {
	defer close(q.committerDone)
	var batch []*appendReq
	for {
		q.mu.Lock()
		for len(q.pending) == 0 && !q.closing {
			q.cond.Wait()
		}
		if len(q.pending) == 0 {
			q.mu.Unlock()
			return
		}
		// A batch never spans two segments: roll first if the oldest
		// pending entry does not fit, then take what fits. An entry larger
		// than a segment gets an empty segment to itself.
		roll := q.woff > 0 && q.woff+q.pending[0].size > q.opt.SegmentBytes
		used := q.woff
		if roll {
			used = 0
		}
		n := 0
		for _, r := range q.pending {
			if n > 0 && used+r.size > q.opt.SegmentBytes {
				break
			}
			used += r.size
			r.taken = true
			n++
		}
		batch = append(batch[:0], q.pending[:n]...)
		k := copy(q.pending, q.pending[n:])
		clear(q.pending[k:])
		q.pending = q.pending[:k]
		q.mu.Unlock()

		err := q.commit(batch, roll)
		for _, r := range batch {
			r.done <- err
		}
		clear(batch)
	}
}

// commit writes batch to the active segment (after rolling if asked) and
// fsyncs it, then publishes the new durable end.
func (q *Queue) commit(batch []*appendReq, roll bool) error {
	var total int64
	for _, r := range batch {
		total += r.size
	}
	if roll {
		if err := q.roll(); err != nil {
			// Nothing was written; the old segment is still active and
			// valid, so only this batch fails and the next one retries.
			q.releasePending(total)
			q.log.Error("queue: cannot create a new segment", "err", err)
			return fmt.Errorf("queue: roll segment: %w", err)
		}
	}
	t0 := time.Now()
	start := q.woff
	q.bw.Reset(io.NewOffsetWriter(q.wf, start))
	var h [headerSize]byte
	for _, r := range batch {
		putHeader(h[:], r.data)
		q.bw.Write(h[:]) // errors are sticky: Flush reports them
		q.bw.Write(r.data)
	}
	if err := q.bw.Flush(); err != nil {
		// E.g. ENOSPC. Nothing of this batch was acknowledged: cut the
		// partial write so the file ends at a record boundary again and
		// fail only this batch.
		if terr := q.wf.Truncate(start); terr != nil {
			return q.fail(fmt.Errorf("queue: write segment: %w; truncating the partial write also failed: %v", err, terr), total)
		}
		q.releasePending(total)
		q.log.Error("queue: write failed; batch refused", "entries", len(batch), "err", err)
		return fmt.Errorf("queue: write segment: %w", err)
	}
	if err := datasync(q.wf); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages
		// and cleared the error, so a retry can "succeed" with the data
		// lost. The only safe answer is to stop writing; restarting
		// re-verifies the segment.
		return q.fail(fmt.Errorf("queue: fsync segment: %w", err), total)
	}
	q.woff = start + total
	elapsed := time.Since(t0)

	q.mu.Lock()
	act := q.segs[len(q.segs)-1]
	act.size = q.woff
	q.diskBytes += total
	q.pendingBytes -= total
	q.durable = Position{act.id, q.woff}
	q.stats.Entries += int64(len(batch))
	q.stats.Commits++
	q.wakeReadersLocked()
	dels := q.collectLocked()
	q.publishMetricsLocked()
	q.mu.Unlock()

	if q.m != nil {
		q.m.QueueEntries.Add(float64(len(batch)))
		q.m.QueueFsync.Observe(elapsed.Seconds())
	}
	q.removeSegments(dels)
	return nil
}

func (q *Queue) releasePending(n int64) {
	q.mu.Lock()
	q.pendingBytes -= n
	q.mu.Unlock()
}

// fail puts the queue in the failed state: the batch being written and
// everything pending get err, later Appends too. Readers keep working on
// what is durable.
func (q *Queue) fail(err error, batchBytes int64) error {
	q.log.Error("queue: cannot write safely any more; appends will fail until restart", "err", err)
	q.mu.Lock()
	q.failed = err
	q.pendingBytes -= batchBytes
	for _, r := range q.pending {
		r.taken = true
		q.pendingBytes -= r.size
		r.done <- err
	}
	clear(q.pending)
	q.pending = q.pending[:0]
	q.mu.Unlock()
	return err
}

// roll seals the active segment and starts the next one. The active
// segment's records are already fsynced (every batch is), which is what
// confines torn tails to the last segment.
func (q *Queue) roll() error {
	q.mu.Lock()
	last := q.segs[len(q.segs)-1]
	id, start := last.id+1, last.start+last.size
	q.mu.Unlock()
	f, err := createSegment(q.dir, id)
	if err != nil {
		return err
	}
	old := q.wf
	q.wf, q.woff = f, 0
	if err := old.Close(); err != nil {
		q.log.Warn("queue: closing sealed segment", "segment", last.id, "err", err)
	}
	q.mu.Lock()
	q.segs = append(q.segs, &segment{id: id, start: start})
	q.durable = Position{id, 0}
	q.wakeReadersLocked() // readers at the end of the sealed segment move on
	q.mu.Unlock()
	q.log.Debug("queue: rolled segment", "sealed", last.id, "sealed_bytes", last.size, "active", id)
	return nil
}

// createSegment creates segment id and makes its name durable. fsync on the
// file persists its content, not necessarily its directory entry: without
// the directory fsync a crash could make the file, and records acknowledged
// in it, disappear.
func createSegment(dir string, id uint64) (*os.File, error) {
	path := segPath(dir, id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

func (q *Queue) wakeReadersLocked() {
	close(q.notify)
	q.notify = make(chan struct{})
}

// collectLocked removes from q.segs the sealed segments that every
// registered reader has committed past and returns them for deletion.
func (q *Queue) collectLocked() []*segment {
	minPos, ok := q.heldLocked()
	if !ok {
		return nil // no reader: nobody has consumed anything, keep everything
	}
	var dels []*segment
	for len(q.segs) > 1 { // never the active segment
		s := q.segs[0]
		if s.start+s.size > minPos {
			break
		}
		dels = append(dels, s)
		q.segs = q.segs[1:]
		q.diskBytes -= s.size
		for p := range q.corruptSeen {
			if p.Segment == s.id {
				delete(q.corruptSeen, p)
			}
		}
	}
	if len(dels) > 0 && !q.warnedStale {
		var stale []string
		for _, name := range q.cursorNames {
			_, registered := q.readers[name]
			if _, declared := q.declared[name]; !registered && !declared {
				stale = append(stale, name)
			}
		}
		if len(stale) > 0 {
			q.warnedStale = true
			q.log.Warn("queue: deleting segments although cursor files of unregistered readers exist; "+
				"only readers registered in this process hold back deletion", "unregistered", stale)
		}
	}
	return dels
}

// heldLocked returns the oldest logical position a reader still needs: the
// minimum over registered readers' commits and declared readers' persisted
// cursors. ok is false when there is no reader at all.
func (q *Queue) heldLocked() (pos int64, ok bool) {
	pos = math.MaxInt64
	for _, r := range q.readers {
		pos, ok = min(pos, q.globalLocked(r.committed)), true
	}
	for _, p := range q.declared {
		pos, ok = min(pos, q.globalLocked(p)), true
	}
	return pos, ok
}

// removeSegments deletes segment files already dropped from q.segs. The
// directory is not fsynced: a deletion undone by a crash only brings back
// entries every reader had committed, which readers skip (their cursors
// are past them) and the next commit deletes again.
func (q *Queue) removeSegments(dels []*segment) {
	for _, s := range dels {
		if err := os.Remove(segPath(q.dir, s.id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			q.log.Error("queue: cannot delete consumed segment", "segment", s.id, "err", err)
			continue
		}
		q.log.Debug("queue: deleted consumed segment", "segment", s.id, "bytes", s.size)
	}
	if len(dels) > 0 && q.m != nil {
		q.mu.Lock()
		q.m.QueueBytes.Set(float64(q.diskBytes))
		q.mu.Unlock()
	}
}

// findLocked returns the index of the first retained segment with id >= id
// (len(q.segs) if none).
func (q *Queue) findLocked(id uint64) int {
	i, _ := slices.BinarySearchFunc(q.segs, id, func(s *segment, id uint64) int {
		switch {
		case s.id < id:
			return -1
		case s.id > id:
			return 1
		}
		return 0
	})
	return i
}

// globalLocked maps p to a logical byte offset comparable across segments.
// A position in a deleted segment maps to the start of the oldest retained
// one.
func (q *Queue) globalLocked(p Position) int64 {
	i := q.findLocked(p.Segment)
	if i == len(q.segs) {
		last := q.segs[len(q.segs)-1]
		return last.start + last.size
	}
	s := q.segs[i]
	if s.id != p.Segment {
		return s.start
	}
	return s.start + min(p.Offset, s.size)
}

func (q *Queue) durableGlobalLocked() int64 {
	last := q.segs[len(q.segs)-1]
	return last.start + last.size
}

func (q *Queue) publishMetricsLocked() {
	if q.m == nil {
		return
	}
	q.m.QueueBytes.Set(float64(q.diskBytes))
	end := q.durableGlobalLocked()
	for name, r := range q.readers {
		q.m.SinkLag.WithLabelValues(name).Set(float64(end - q.globalLocked(r.committed)))
	}
}

// Stats returns a snapshot of the queue's state.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Bytes = q.diskBytes
	s.PendingBytes = q.pendingBytes
	s.Segments = len(q.segs)
	s.FirstSegment = q.segs[0].id
	s.LastSegment = q.segs[len(q.segs)-1].id
	s.Readers = len(q.readers)
	return s
}

// Close stops the queue. Appends already accepted are written and fsynced
// first (their callers get nil); later Appends, and Readers blocked in Next
// or called afterwards, get ErrClosed. Close is idempotent.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		<-q.closeDone
		return nil
	}
	q.closing = true
	close(q.closedCh)
	q.cond.Broadcast()
	readers := slices.Collect(maps.Values(q.readers))
	q.mu.Unlock()

	<-q.committerDone
	for _, r := range readers {
		r.cmu.Lock() // wait for an in-flight Commit
		r.mu.Lock()  // and an in-flight Next
		r.closeFile()
		r.mu.Unlock()
		r.cmu.Unlock()
	}
	err := errors.Join(q.wf.Close(), q.lock.Close())
	close(q.closeDone)
	q.log.Info("queue closed", "dir", q.dir)
	return err
}

func segPath(dir string, id uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", id, segSuffix))
}

func parseSegName(name string) (uint64, bool) {
	s := strings.TrimSuffix(name, segSuffix)
	if len(s) != 20 {
		return 0, false
	}
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil
}

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
