package queue

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flarehose/flarehose/internal/telemetry"
)

// recordOffsets lists the start offsets of the valid records of a segment.
func recordOffsets(t testing.TB, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	sr := segReader{r: f, limit: fi.Size()}
	var offs []int64
	for off := int64(0); off < fi.Size(); {
		n, ok, err := sr.verify(off)
		if err != nil || !ok {
			t.Fatalf("record at %d: ok=%v err=%v", off, ok, err)
		}
		offs = append(offs, off)
		off += n
	}
	return offs
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// writeEntries fills a fresh queue with n entries of the given size and
// closes it.
func writeEntries(t testing.TB, o Options, n, size int) [][]byte {
	t.Helper()
	q := openQ(t, o)
	var want [][]byte
	for i := range n {
		p := payload(i, size)
		want = append(want, p)
		mustAppend(t, q, p)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

func TestRecoveryTornTail(t *testing.T) {
	const n, size = 5, 100
	rec := int64(headerSize + size)
	cases := []struct {
		name string
		// damage changes the segment; it returns how many entries must survive.
		damage func(t *testing.T, path string) int
	}{
		{"cut inside the last header", func(t *testing.T, path string) int {
			truncate(t, path, 4*rec+5)
			return 4
		}},
		{"cut inside the last payload", func(t *testing.T, path string) int {
			truncate(t, path, 5*rec-1)
			return 4
		}},
		{"cut after the first byte of the last record", func(t *testing.T, path string) int {
			truncate(t, path, 4*rec+1)
			return 4
		}},
		{"cut inside the first record", func(t *testing.T, path string) int {
			truncate(t, path, 50)
			return 0
		}},
		{"random garbage appended", func(t *testing.T, path string) int {
			appendBytes(t, path, payload(99, 777))
			return 5
		}},
		{"zeros appended (unwritten blocks after a crash)", func(t *testing.T, path string) int {
			appendBytes(t, path, make([]byte, 4096))
			return 5
		}},
		{"header with a length past the end", func(t *testing.T, path string) int {
			full := appendRecord(nil, payload(7, 500))
			appendBytes(t, path, full[:300])
			return 5
		}},
		{"valid header and payload with a wrong checksum at the end", func(t *testing.T, path string) int {
			r := appendRecord(nil, payload(7, 50))
			r[len(r)-1] ^= 0xff
			appendBytes(t, path, r)
			return 5
		}},
		{"torn record followed by garbage with magics", func(t *testing.T, path string) int {
			truncate(t, path, 5*rec-30)
			appendBytes(t, path, bytes.Repeat(append(magic[:], 1, 0, 0, 0, 9, 9), 50))
			return 4
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			m := telemetry.NewMetrics()
			o := Options{Dir: dir, Metrics: m}
			want := writeEntries(t, o, n, size)
			path := segPath(dir, 1)
			keep := c.damage(t, path)

			log, lb := testLogger(t)
			o.Logger = log
			q := openQ(t, o)
			if got := fileSize(t, path); got != int64(keep)*rec {
				t.Fatalf("segment is %d bytes after recovery, want %d", got, int64(keep)*rec)
			}
			if !strings.Contains(lb.String(), "cut torn tail") {
				t.Fatalf("recovery did not log the cut; log:\n%s", lb)
			}
			r := mustReader(t, q, "sink")
			wantData(t, drain(t, r), want[:keep])
			// The queue is writable after recovery and the new entry follows.
			mustAppend(t, q, []byte("after recovery"))
			wantData(t, drain(t, r), [][]byte{[]byte("after recovery")})
			if c := metricValue(t, m.QueueCorrupt); c != 0 {
				t.Fatalf("a torn tail was counted as corruption (%v)", c)
			}
		})
	}
}

func TestRecoveryMidSegmentCorruption(t *testing.T) {
	const n, size, bad = 10, 100, 4
	rec := headerSize + size
	cases := []struct {
		name   string
		sealed bool // corrupt a sealed segment instead of the last one
		at     int  // byte offset within the record to flip
	}{
		{"payload byte, last segment", false, headerSize + 50},
		{"checksum byte, last segment", false, 9},
		{"length byte, last segment", false, 5},
		{"magic byte, last segment", false, 0},
		{"payload byte, sealed segment", true, headerSize},
		{"length high byte, sealed segment", true, 7},
		{"magic byte, sealed segment", true, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			m := telemetry.NewMetrics()
			o := Options{Dir: dir, Metrics: m}
			if c.sealed {
				// 4 records per segment: record 4 is the first of segment 2,
				// segment 3 is the last one.
				o.SegmentBytes, o.MaxEntryBytes, o.MaxBytes = int64(4*rec), 200, 1<<20
			}
			want := writeEntries(t, o, n, size)
			seg, idx := uint64(1), bad
			if c.sealed {
				seg, idx = 2, bad-4
			}
			path := segPath(dir, seg)
			offs := recordOffsets(t, path)
			sizeBefore := fileSize(t, path)
			flip(t, path, offs[idx]+int64(c.at))

			log, lb := testLogger(t)
			o.Logger = log
			q := openQ(t, o)
			if got := fileSize(t, path); got != sizeBefore {
				t.Fatalf("segment cut to %d bytes (was %d): mid-segment corruption must not be truncated", got, sizeBefore)
			}
			a, b := mustReader(t, q, "a"), mustReader(t, q, "b")
			wantSkip := append(append([][]byte{}, want[:bad]...), want[bad+1:]...)
			wantData(t, drain(t, a), wantSkip)
			wantData(t, drain(t, b), wantSkip)
			if got := metricValue(t, m.QueueCorrupt); got != 1 || q.Stats().Corrupt != 1 {
				t.Fatalf("corrupt metric %v, stats %d; want 1 (one region, counted once for two readers)", got, q.Stats().Corrupt)
			}
			if !strings.Contains(lb.String(), "skipped corrupt data") {
				t.Fatalf("corruption not logged; log:\n%s", lb)
			}
		})
	}
}

// The last record of the last segment damaged is indistinguishable from a
// torn write: it is cut, not counted as corruption.
func TestRecoveryCorruptLastRecordIsCut(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir}
	want := writeEntries(t, o, 3, 100)
	path := segPath(dir, 1)
	flip(t, path, fileSize(t, path)-1)
	q := openQ(t, o)
	wantData(t, drain(t, mustReader(t, q, "sink")), want[:2])
	if q.Stats().Corrupt != 0 {
		t.Fatal("counted as corruption")
	}
}

// A zeroed region spanning several records (a lost page) is one skip.
func TestRecoveryZeroedRegion(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir}
	want := writeEntries(t, o, 10, 100)
	path := segPath(dir, 1)
	offs := recordOffsets(t, path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, offs[5]-offs[2]+10), offs[2]); err != nil { // records 2,3,4 and the start of 5
		t.Fatal(err)
	}
	f.Close()
	q := openQ(t, o)
	wantData(t, drain(t, mustReader(t, q, "sink")), append(append([][]byte{}, want[:2]...), want[6:]...))
	if q.Stats().Corrupt != 1 {
		t.Fatalf("corrupt = %d, want 1", q.Stats().Corrupt)
	}
}

func TestRecoveryEmptyAndMissingSegments(t *testing.T) {
	dir := t.TempDir()
	o := smallOpts(dir)
	want := writeEntries(t, o, 6, 300) // 3 per segment: segments 1, 2
	// An empty next segment, as a crash right after a roll leaves.
	if err := os.WriteFile(segPath(dir, 3), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	// A stray file that is not a segment.
	if err := os.WriteFile(filepath.Join(dir, "notes.seg"), []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	q := openQ(t, o)
	r := mustReader(t, q, "sink")
	wantData(t, drain(t, r), want)
	mustAppend(t, q, []byte("next"))
	wantData(t, drain(t, r), [][]byte{[]byte("next")})
	if st := q.Stats(); st.LastSegment != 3 {
		t.Fatalf("active segment %d, want the empty segment 3 reused", st.LastSegment)
	}
}

func truncate(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
