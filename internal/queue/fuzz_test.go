package queue

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"testing"
)

// FuzzSegmentRecovery feeds arbitrary bytes as the only segment file: Open
// must not panic or fail, and every entry a reader returns must be exactly a
// checksummed record of the input, in order, without overlaps. The queue
// must stay usable after recovery.
func FuzzSegmentRecovery(f *testing.F) {
	var good []byte
	for i := range 5 {
		good = appendRecord(good, payload(i, 1+i*40))
	}
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add(append(bytes.Clone(good), 0, 0, 0, 0))
	bad := bytes.Clone(good)
	bad[headerSize+60] ^= 1 // inside the second record
	f.Add(bad)
	f.Add(append(magic[:], 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4))
	f.Add(append(append(magic[:], 0, 0, 0, 0, 0, 0, 0, 0), good...)) // zero length frame
	f.Add([]byte{})
	f.Add(bytes.Repeat(magic[:], 10))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(segPath(dir, 1), data, 0o640); err != nil {
			t.Fatal(err)
		}
		q, err := Open(Options{Dir: dir, SegmentBytes: 1 << 20, MaxEntryBytes: 1 << 20, MaxBytes: 1 << 22})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer q.Close()
		r, err := q.Reader("fuzz")
		if err != nil {
			t.Fatal(err)
		}
		var prevEnd int64
		for {
			e, err := r.next(context.Background(), false)
			if err == errCaughtUp {
				break
			}
			if err != nil {
				t.Fatalf("next: %v", err)
			}
			start := e.Pos.Offset - int64(len(e.Data)) - headerSize
			if e.Pos.Segment != 1 || start < prevEnd || e.Pos.Offset > int64(len(data)) {
				t.Fatalf("entry at %s (start %d) overlaps or is outside the input (prev end %d, len %d)",
					e.Pos, start, prevEnd, len(data))
			}
			h := data[start : start+headerSize]
			if !bytes.Equal(h[:4], magic[:]) ||
				binary.LittleEndian.Uint32(h[4:8]) != uint32(len(e.Data)) ||
				binary.LittleEndian.Uint32(h[8:12]) != crc32.Checksum(e.Data, castagnoli) ||
				!bytes.Equal(data[start+headerSize:e.Pos.Offset], e.Data) {
				t.Fatalf("entry at %s is not a verified record of the input", e.Pos)
			}
			prevEnd = e.Pos.Offset
		}
		if fileSize(t, segPath(dir, 1)) > int64(len(data)) {
			t.Fatal("recovery grew the segment")
		}
		// Still usable: a new entry comes back intact after the recovered ones.
		if err := q.Append(context.Background(), []byte("fresh")); err != nil {
			t.Fatal(err)
		}
		e, err := r.next(context.Background(), false)
		if err != nil || string(e.Data) != "fresh" {
			t.Fatalf("after recovery: %q, %v", e.Data, err)
		}
	})
}
