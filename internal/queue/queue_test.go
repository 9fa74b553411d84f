package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// ---- helpers ----

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(t testing.TB) (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

func openQ(t testing.TB, o Options) *Queue {
	t.Helper()
	if o.Logger == nil {
		o.Logger, _ = testLogger(t)
	}
	q, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// smallOpts gives small segments so tests roll often.
func smallOpts(dir string) Options {
	return Options{Dir: dir, SegmentBytes: 1 << 10, MaxEntryBytes: 512, MaxBytes: 1 << 20}
}

// payload returns deterministic, seq-dependent bytes of length n.
func payload(seq, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(seq), 0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if n >= 8 {
		copy(b, fmt.Sprintf("%08d", seq%100000000))
	}
	return b
}

func mustAppend(t testing.TB, q *Queue, data []byte) {
	t.Helper()
	if err := q.Append(context.Background(), data); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

// drain reads every durable entry without blocking, copying the data.
func drain(t testing.TB, r *Reader) []Entry {
	t.Helper()
	var out []Entry
	for {
		e, err := r.next(context.Background(), false)
		if errors.Is(err, errCaughtUp) {
			return out
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		out = append(out, Entry{Data: bytes.Clone(e.Data), Pos: e.Pos})
	}
}

func mustReader(t testing.TB, q *Queue, name string) *Reader {
	t.Helper()
	r, err := q.Reader(name)
	if err != nil {
		t.Fatalf("Reader(%q): %v", name, err)
	}
	return r
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	slices.Sort(m)
	return m
}

func wantData(t testing.TB, got []Entry, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Fatalf("entry %d: got %d bytes %.16q, want %d bytes %.16q", i, len(got[i].Data), got[i].Data, len(want[i]), want[i])
		}
	}
}

// ---- tests ----

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name string
		o    Options
		want string // substring of the error; "" for valid
	}{
		{"defaults", Options{Dir: "x"}, ""},
		{"no dir", Options{}, "dir is required"},
		{"negative", Options{Dir: "x", SegmentBytes: -1}, "negative"},
		{"entry above format limit", Options{Dir: "x", MaxEntryBytes: 1 << 33, MaxBytes: 1 << 40}, "format's limit"},
		{"small queue: entry default shrinks", Options{Dir: "x", MaxBytes: 16 << 20, SegmentBytes: 1 << 20}, ""},
		{"segment above max bytes", Options{Dir: "x", SegmentBytes: 2 << 30, MaxBytes: 1 << 30}, "max_bytes"},
		{"entry above max bytes", Options{Dir: "x", MaxEntryBytes: 1 << 30, MaxBytes: 1 << 30}, "max_bytes"},
		{"tiny max bytes", Options{Dir: "x", MaxBytes: 3, SegmentBytes: 1}, "too small"},
		{"tight but consistent", Options{Dir: "x", SegmentBytes: 1024, MaxEntryBytes: 500, MaxBytes: 1024}, ""},
		{"bad declared reader", Options{Dir: "x", Readers: []string{"ok", "../no"}}, "invalid reader name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.o.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestAppendReadCommitRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		opts  func(dir string) Options
		sizes []int
	}{
		{"one small", func(d string) Options { return Options{Dir: d} }, []int{1}},
		{"mixed", func(d string) Options { return Options{Dir: d} }, []int{1, 7, 100, 4096, 65536, 3, 1 << 20}},
		{"rolling segments", smallOpts, []int{100, 200, 300, 400, 500, 512, 1, 2, 3, 250, 250, 250, 250, 250}},
		{"entry larger than a segment", func(d string) Options {
			return Options{Dir: d, SegmentBytes: 256, MaxEntryBytes: 4096, MaxBytes: 1 << 20}
		}, []int{10, 4096, 10, 300, 4000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			q := openQ(t, c.opts(dir))
			r := mustReader(t, q, "sink")
			var want [][]byte
			var total int64
			for i, n := range c.sizes {
				p := payload(i, n)
				mustAppend(t, q, p)
				want = append(want, p)
				total += int64(headerSize + n)
			}
			if got := r.Lag(); got != total {
				t.Fatalf("Lag before commit = %d, want %d", got, total)
			}
			got := drain(t, r)
			wantData(t, got, want)
			if err := r.Commit(got[len(got)-1].Pos); err != nil {
				t.Fatal(err)
			}
			if lag := r.Lag(); lag != 0 {
				t.Fatalf("Lag after commit = %d", lag)
			}
			st := q.Stats()
			if st.Entries != int64(len(c.sizes)) || st.Segments != 1 {
				t.Fatalf("stats after full commit: %+v (want %d entries, 1 segment)", st, len(c.sizes))
			}
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			// Reopen: everything is committed, the reader has nothing left;
			// a new entry comes next.
			q2 := openQ(t, c.opts(dir))
			r2 := mustReader(t, q2, "sink")
			mustAppend(t, q2, []byte("after reopen"))
			wantData(t, drain(t, r2), [][]byte{[]byte("after reopen")})
		})
	}
}

func TestMultipleReadersDifferentSpeeds(t *testing.T) {
	dir := t.TempDir()
	q := openQ(t, Options{Dir: dir, SegmentBytes: 4 << 10, MaxEntryBytes: 1 << 10, MaxBytes: 64 << 20})
	const n = 400
	speeds := map[string]struct {
		pause       time.Duration
		commitEvery int
	}{
		"fast":   {0, 1},
		"slow":   {200 * time.Microsecond, 7},
		"bursty": {0, 50},
	}
	readers := map[string]*Reader{}
	for name := range speeds {
		readers[name] = mustReader(t, q, name) // all registered before anyone commits
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(speeds)+1)
	for name, sp := range speeds {
		r := readers[name]
		wg.Go(func() {
			for i := range n {
				e, err := r.Next(ctx)
				if err != nil {
					errs <- fmt.Errorf("%s: Next %d: %w", name, i, err)
					return
				}
				if want := payload(i, 10+i%700); !bytes.Equal(e.Data, want) {
					errs <- fmt.Errorf("%s: entry %d mismatch", name, i)
					return
				}
				if (i+1)%sp.commitEvery == 0 || i == n-1 {
					if err := r.Commit(e.Pos); err != nil {
						errs <- fmt.Errorf("%s: Commit: %w", name, err)
						return
					}
				}
				time.Sleep(sp.pause)
			}
		})
	}
	wg.Go(func() {
		for i := range n {
			if err := q.Append(ctx, payload(i, 10+i%700)); err != nil {
				errs <- fmt.Errorf("Append %d: %w", i, err)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := q.Stats()
	if st.Segments != 1 || len(segFiles(t, dir)) != 1 {
		t.Fatalf("after every reader committed everything: %d segments (%v), want only the active one", st.Segments, segFiles(t, dir))
	}
	if st.Entries != n {
		t.Fatalf("Entries = %d, want %d", st.Entries, n)
	}
}

func TestSegmentDeletionWaitsForAllReaders(t *testing.T) {
	dir := t.TempDir()
	q := openQ(t, smallOpts(dir)) // 1 KiB segments
	a, b := mustReader(t, q, "a"), mustReader(t, q, "b")
	for i := range 30 {
		mustAppend(t, q, payload(i, 300)) // 312 bytes on disk: 3 per segment
	}
	all := len(segFiles(t, dir))
	if all != 10 {
		t.Fatalf("%d segment files, want 10", all)
	}
	ea := drain(t, a)
	if err := a.Commit(ea[len(ea)-1].Pos); err != nil {
		t.Fatal(err)
	}
	if got := len(segFiles(t, dir)); got != all {
		t.Fatalf("reader a committed everything, b nothing: %d files left, want %d", got, all)
	}
	eb := drain(t, b)
	if err := b.Commit(eb[14].Pos); err != nil { // end of segment 5 (entries 12..14)
		t.Fatal(err)
	}
	if got, want := segFiles(t, dir), []string{"00000000000000000006.seg", "00000000000000000007.seg",
		"00000000000000000008.seg", "00000000000000000009.seg", "00000000000000000010.seg"}; !slices.Equal(got, want) {
		t.Fatalf("after b committed through segment 5: files %v, want %v", got, want)
	}
	if err := b.Commit(eb[len(eb)-1].Pos); err != nil {
		t.Fatal(err)
	}
	// The active segment is fully consumed but never deleted.
	if got := segFiles(t, dir); !slices.Equal(got, []string{"00000000000000000010.seg"}) {
		t.Fatalf("after both committed everything: %v, want only the active segment", got)
	}
	if st := q.Stats(); st.Bytes != 3*312 || st.FirstSegment != 10 {
		t.Fatalf("stats %+v", st)
	}
	// A new reader starts at the oldest retained entry.
	c := mustReader(t, q, "c")
	wantData(t, drain(t, c), [][]byte{payload(27, 300), payload(28, 300), payload(29, 300)})
}

func TestReopenContinuesFromPersistedCursors(t *testing.T) {
	dir := t.TempDir()
	o := smallOpts(dir)
	q := openQ(t, o)
	a, b := mustReader(t, q, "a"), mustReader(t, q, "b")
	var want [][]byte
	for i := range 12 {
		p := payload(i, 200)
		want = append(want, p)
		mustAppend(t, q, p)
	}
	ea, eb := drain(t, a), drain(t, b)
	if err := a.Commit(ea[3].Pos); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(eb[8].Pos); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	q = openQ(t, o)
	a, b = mustReader(t, q, "a"), mustReader(t, q, "b")
	wantData(t, drain(t, a), want[4:])
	wantData(t, drain(t, b), want[9:])
	// A new name starts at the oldest retained entry: segments holding only
	// entries both a and b had committed (0..3: segment 1 has 0..3) are gone.
	c := mustReader(t, q, "c")
	got := drain(t, c)
	if len(got) == 0 || len(got) > 12-4 || !bytes.Equal(got[len(got)-1].Data, want[11]) {
		t.Fatalf("new reader got %d entries", len(got))
	}
	first := slices.IndexFunc(want, func(w []byte) bool { return bytes.Equal(w, got[0].Data) })
	wantData(t, got, want[first:])
	// Appending after reopen continues the log.
	mustAppend(t, q, []byte("more"))
	wantData(t, drain(t, a), [][]byte{[]byte("more")})
}

func TestBackpressure(t *testing.T) {
	dir := t.TempDir()
	m := telemetry.NewMetrics()
	q := openQ(t, Options{Dir: dir, SegmentBytes: 1024, MaxEntryBytes: 256, MaxBytes: 2048, Metrics: m})
	r := mustReader(t, q, "sink")
	entry := bytes.Repeat([]byte("x"), 200) // 212 on disk
	var err error
	n := 0
	for ; n < 100; n++ {
		if err = q.Append(context.Background(), entry); err != nil {
			break
		}
	}
	if !errors.Is(err, event.ErrBackpressure) {
		t.Fatalf("after %d appends: err = %v, want ErrBackpressure", n, err)
	}
	if n != 2048/212 {
		t.Fatalf("accepted %d entries before backpressure, want %d", n, 2048/212)
	}
	// Still full while the reader has not committed, even after reading.
	got := drain(t, r)
	if err := q.Append(context.Background(), entry); !errors.Is(err, event.ErrBackpressure) {
		t.Fatalf("err = %v, want ErrBackpressure", err)
	}
	if bp := metricValue(t, m.QueueBackpressure); bp != 2 || q.Stats().Backpressure != 2 {
		t.Fatalf("backpressure metric %v, stats %d; want 2", bp, q.Stats().Backpressure)
	}
	if err := r.Commit(got[len(got)-1].Pos); err != nil {
		t.Fatal(err)
	}
	// Whole sealed segments were deleted: room again.
	for i := range 4 {
		if err := q.Append(context.Background(), entry); err != nil {
			t.Fatalf("append %d after commit: %v", i, err)
		}
	}
	if b := metricValue(t, m.QueueBytes); int64(b) != q.Stats().Bytes {
		t.Fatalf("QueueBytes metric %v, stats %d", b, q.Stats().Bytes)
	}
}

// With readers caught up, the largest entry is always accepted, however
// full the active segment is, even with MaxBytes at Validate's minimum: the
// consumed active segment counts as free when the entry needs a new one.
func TestBackpressureNeverDeadlocksWhenCaughtUp(t *testing.T) {
	q := openQ(t, Options{Dir: t.TempDir(), SegmentBytes: 1000, MaxEntryBytes: 988, MaxBytes: 1000})
	r := mustReader(t, q, "sink")
	for i := range 200 {
		n := 1 + (i*37)%988
		if err := q.Append(context.Background(), payload(i, n)); err != nil {
			t.Fatalf("append %d (%d bytes): %v; stats %+v", i, n, err, q.Stats())
		}
		e := drain(t, r)
		if err := r.Commit(e[len(e)-1].Pos); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCloseUnblocks(t *testing.T) {
	dir := t.TempDir()
	q := openQ(t, Options{Dir: dir})
	r := mustReader(t, q, "sink")
	res := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background())
		res <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it block (not required for correctness)

	// Appenders racing with Close get nil (durable) or ErrClosed.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked [][]byte
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				p := payload(g*1000+i, 1000)
				err := q.Append(context.Background(), p)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, p)
				mu.Unlock()
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case err := <-res:
		// The blocked Next may have got an entry first; either way it must
		// return, and a blocked one returns ErrClosed.
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Fatalf("Next: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next still blocked after Close")
	}
	if _, err := r.Next(context.Background()); !errors.Is(err, ErrClosed) || !errors.Is(err, event.ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if err := q.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := q.Reader("other"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Reader after Close: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Every acknowledged entry is there after reopening.
	q2 := openQ(t, Options{Dir: dir})
	got := drain(t, mustReader(t, q2, "verify"))
	have := map[string]bool{}
	for _, e := range got {
		have[string(e.Data)] = true
	}
	for _, p := range acked {
		if !have[string(p)] {
			t.Fatalf("acknowledged entry %.8q missing after Close and reopen", p)
		}
	}
}

func TestNextContextCancel(t *testing.T) {
	q := openQ(t, Options{Dir: t.TempDir()})
	r := mustReader(t, q, "sink")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next: %v, want deadline exceeded", err)
	}
	// The reader still works.
	mustAppend(t, q, []byte("x"))
	e, err := r.Next(context.Background())
	if err != nil || string(e.Data) != "x" {
		t.Fatalf("Next = %q, %v", e.Data, err)
	}
}

func TestNextWakesOnAppend(t *testing.T) {
	q := openQ(t, Options{Dir: t.TempDir()})
	r := mustReader(t, q, "sink")
	got := make(chan string, 1)
	go func() {
		e, err := r.Next(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(e.Data)
	}()
	mustAppend(t, q, []byte("hello"))
	select {
	case s := <-got:
		if s != "hello" {
			t.Fatalf("Next: %s", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not wake up")
	}
}

func TestAppendRejects(t *testing.T) {
	q := openQ(t, Options{Dir: t.TempDir(), MaxEntryBytes: 100, SegmentBytes: 1000, MaxBytes: 2000})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name  string
		ctx   context.Context
		entry []byte
		want  error
	}{
		{"empty", context.Background(), nil, ErrEmptyEntry},
		{"too large", context.Background(), make([]byte, 101), ErrEntryTooLarge},
		{"canceled", canceled, []byte("x"), context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := q.Append(c.ctx, c.entry); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if st := q.Stats(); st.Entries != 0 || st.Bytes != 0 || st.PendingBytes != 0 {
		t.Fatalf("rejected appends left traces: %+v", st)
	}
	mustAppend(t, q, make([]byte, 100))
}

func TestReaderRegistration(t *testing.T) {
	q := openQ(t, Options{Dir: t.TempDir()})
	for _, name := range []string{"", ".hidden", "a/b", "../x", "has space", strings.Repeat("x", 129)} {
		if _, err := q.Reader(name); err == nil {
			t.Errorf("Reader(%q) accepted", name)
		}
	}
	r := mustReader(t, q, "duckdb-1.main_x")
	if _, err := q.Reader("duckdb-1.main_x"); err == nil {
		t.Fatal("duplicate reader accepted")
	}
	mustAppend(t, q, []byte("a"))
	e := drain(t, r)
	if err := r.Commit(e[0].Pos); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next on closed reader: %v", err)
	}
	r2 := mustReader(t, q, "duckdb-1.main_x") // re-registering resumes from the cursor
	if got := drain(t, r2); len(got) != 0 {
		t.Fatalf("re-registered reader got %d entries, want 0", len(got))
	}
}

func TestCommitPositions(t *testing.T) {
	q := openQ(t, Options{Dir: t.TempDir()})
	r := mustReader(t, q, "sink")
	for i := range 3 {
		mustAppend(t, q, payload(i, 50))
	}
	e0, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(Position{e0.Pos.Segment, e0.Pos.Offset + 62}); err == nil {
		t.Fatal("commit past the last entry read was accepted")
	}
	if err := r.Commit(e0.Pos); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(Position{e0.Pos.Segment, 0}); err != nil { // backwards: no-op
		t.Fatal(err)
	}
	if lag := r.Lag(); lag != 2*62 {
		t.Fatalf("Lag = %d, want %d", lag, 2*62)
	}
	// Commit from another goroutine while Next is blocked.
	rest := drain(t, r)
	done := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background())
		done <- err
	}()
	if err := r.Commit(rest[1].Pos); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, q, []byte("unblock"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestUnregisteredCursorDoesNotPinSegments(t *testing.T) {
	dir := t.TempDir()
	o := smallOpts(dir)
	q := openQ(t, o)
	old := mustReader(t, q, "removed-sink")
	mustAppend(t, q, payload(0, 300))
	if err := old.Commit(drain(t, old)[0].Pos); err != nil {
		t.Fatal(err)
	}
	q.Close()

	log, lb := testLogger(t)
	o.Logger = log
	q = openQ(t, o)
	r := mustReader(t, q, "sink")
	for i := range 20 {
		mustAppend(t, q, payload(i, 300))
	}
	e := drain(t, r)
	if err := r.Commit(e[len(e)-1].Pos); err != nil {
		t.Fatal(err)
	}
	if n := len(segFiles(t, dir)); n != 1 {
		t.Fatalf("%d segment files: the stale cursor pinned them", n)
	}
	if !strings.Contains(lb.String(), "unregistered=[removed-sink]") {
		t.Fatalf("no warning naming the unregistered cursor; log:\n%s", lb)
	}
	// Registering it late: it starts at the oldest retained entry, warned.
	late := mustReader(t, q, "removed-sink")
	if got := drain(t, late); len(got) == 0 || len(got) >= 21 {
		t.Fatalf("late reader got %d entries", len(got))
	}
	if !strings.Contains(lb.String(), "older than the oldest retained segment") {
		t.Fatalf("no warning about the lost entries; log:\n%s", lb)
	}
}

func TestNoReadersNoDeletion(t *testing.T) {
	dir := t.TempDir()
	q := openQ(t, smallOpts(dir))
	for i := range 20 {
		mustAppend(t, q, payload(i, 300))
	}
	if n := len(segFiles(t, dir)); n != 7 {
		t.Fatalf("%d segments, want 7", n)
	}
	r := mustReader(t, q, "late")
	if got := drain(t, r); len(got) != 20 {
		t.Fatalf("late reader got %d entries, want all 20", len(got))
	}
}

func TestDirLocked(t *testing.T) {
	dir := t.TempDir()
	openQ(t, Options{Dir: dir})
	if q, err := Open(Options{Dir: dir}); err == nil {
		q.Close()
		t.Fatal("second Open of the same dir succeeded")
	}
}

func TestConcurrentAppendsShareFsync(t *testing.T) {
	m := telemetry.NewMetrics()
	q := openQ(t, Options{Dir: t.TempDir(), Metrics: m})
	r := mustReader(t, q, "sink")
	const g, n = 8, 50
	var wg sync.WaitGroup
	for w := range g {
		wg.Go(func() {
			for i := range n {
				if err := q.Append(context.Background(), payload(w*n+i, 2000)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := q.Stats()
	if st.Entries != g*n || metricValue(t, m.QueueEntries) != g*n {
		t.Fatalf("entries %d", st.Entries)
	}
	// Informational (no timing assertion): how many fsyncs the group commit saved.
	t.Logf("%d entries in %d group commits", st.Entries, st.Commits)
	got := drain(t, r)
	seen := map[string]bool{}
	for _, e := range got {
		seen[string(e.Data[:8])] = true
	}
	if len(got) != g*n || len(seen) != g*n {
		t.Fatalf("read %d entries (%d distinct), want %d", len(got), len(seen), g*n)
	}
	if lag := metricValue(t, m.SinkLag.WithLabelValues("sink")); lag != float64(st.Bytes) {
		t.Fatalf("SinkLag %v, want %d", lag, st.Bytes)
	}
}

func TestStaleTempFileRemoved(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sink.cursor.tmp"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	openQ(t, Options{Dir: dir})
	if _, err := os.Stat(filepath.Join(dir, "sink.cursor.tmp")); !os.IsNotExist(err) {
		t.Fatalf("temp file still there: %v", err)
	}
}

func TestCorruptCursorFileRestartsFromOldest(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sink.cursor"), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	q := openQ(t, Options{Dir: dir})
	mustAppend(t, q, []byte("a"))
	if got := drain(t, mustReader(t, q, "sink")); len(got) != 1 {
		t.Fatalf("got %d entries", len(got))
	}
}

// A segment that can no longer be written fails the Appends in flight and
// every later one (no silent retry after a write/fsync failure); what was
// durable stays readable.
func TestWriteFailureFailsAppends(t *testing.T) {
	q := openQ(t, Options{Dir: t.TempDir()})
	r := mustReader(t, q, "sink")
	mustAppend(t, q, []byte("durable"))
	q.wf.Close() // the disk goes away under the committer (it is idle: no race)
	err := q.Append(context.Background(), []byte("lost"))
	if !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Append on a broken segment: %v", err)
	}
	if err2 := q.Append(context.Background(), []byte("later")); !errors.Is(err2, os.ErrClosed) {
		t.Fatalf("later Append: %v, want the sticky failure", err2)
	}
	wantData(t, drain(t, r), [][]byte{[]byte("durable")})
	if st := q.Stats(); st.PendingBytes != 0 || st.Entries != 1 {
		t.Fatalf("stats after failure: %+v", st)
	}
}

// Reader.Close stops a reader from holding back deletion.
func TestReaderCloseReleasesSegments(t *testing.T) {
	dir := t.TempDir()
	q := openQ(t, smallOpts(dir))
	fast, slow := mustReader(t, q, "fast"), mustReader(t, q, "slow")
	for i := range 12 {
		mustAppend(t, q, payload(i, 300))
	}
	e := drain(t, fast)
	if err := fast.Commit(e[len(e)-1].Pos); err != nil {
		t.Fatal(err)
	}
	if n := len(segFiles(t, dir)); n != 4 {
		t.Fatalf("%d segments, want 4 (slow reader holds them)", n)
	}
	drain(t, slow)
	blocked := make(chan error, 1)
	go func() {
		_, err := slow.Next(context.Background())
		blocked <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := slow.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Next after Reader.Close: %v", err)
	}
	if n := len(segFiles(t, dir)); n != 1 {
		t.Fatalf("%d segments after the slow reader was closed, want 1", n)
	}
}

// A reader declared in Options.Readers pins its cursor before it registers:
// another sink committing first must not delete entries under it.
func TestDeclaredReaderPinsBeforeRegistration(t *testing.T) {
	dir := t.TempDir()
	o := smallOpts(dir)
	o.Readers = []string{"a", "b"}
	q := openQ(t, o)
	a := mustReader(t, q, "a")
	var want [][]byte
	for i := range 12 {
		p := payload(i, 300)
		want = append(want, p)
		mustAppend(t, q, p)
	}
	e := drain(t, a)
	if err := a.Commit(e[len(e)-1].Pos); err != nil {
		t.Fatal(err)
	}
	if n := len(segFiles(t, dir)); n != 4 {
		t.Fatalf("%d segments: deleted under the declared reader b", n)
	}
	b := mustReader(t, q, "b")
	eb := drain(t, b)
	wantData(t, eb, want)
	if err := b.Commit(eb[7].Pos); err != nil {
		t.Fatal(err)
	}
	if n := len(segFiles(t, dir)); n != 2 {
		t.Fatalf("%d segments after b committed 8 of 12, want 2", n)
	}
	q.Close()

	// After a restart, b's persisted cursor pins from Open on.
	q = openQ(t, o)
	a = mustReader(t, q, "a")
	for i := range 12 {
		mustAppend(t, q, payload(100+i, 300))
	}
	e = drain(t, a)
	if err := a.Commit(e[len(e)-1].Pos); err != nil {
		t.Fatal(err)
	}
	b = mustReader(t, q, "b")
	got := drain(t, b)
	if len(got) != 4+12 || !bytes.Equal(got[0].Data, want[8]) {
		t.Fatalf("b resumed with %d entries, want 16 starting at entry 8", len(got))
	}
}
