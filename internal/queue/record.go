package queue

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// Record framing on disk (all integers little endian):
//
//	magic (4 bytes) | length (uint32) | crc32c of payload (uint32) | payload
//
// The magic's last byte is the format version. A length of 0 is invalid: the
// queue refuses empty entries, so a zero-filled region (what a filesystem may
// leave after a crash) never parses as a record, and resynchronisation cannot
// lock onto a trivially "valid" empty frame.
const headerSize = 12

var magic = [4]byte{0xFB, 'F', 'Q', 0x01}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// putHeader writes the frame header for payload into h.
func putHeader(h []byte, payload []byte) {
	copy(h[0:4], magic[:])
	binary.LittleEndian.PutUint32(h[4:8], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[8:12], crc32.Checksum(payload, castagnoli))
}

// appendRecord appends one framed record to dst (tests and tools).
func appendRecord(dst, payload []byte) []byte {
	var h [headerSize]byte
	putHeader(h[:], payload)
	return append(append(dst, h[:]...), payload...)
}

// scratchSize is the chunk size used to stream a payload through the
// checksum and to scan for a magic while resynchronising.
const scratchSize = 64 << 10

// segReader reads and verifies records of one segment file up to limit.
// Every method distinguishes "no valid record here" (ok == false, err == nil)
// from an I/O error (err != nil): the first is data to skip, the second is
// the disk failing and must reach the caller.
type segReader struct {
	r     io.ReaderAt
	limit int64  // bytes of the file that may be read (the durable end)
	buf   []byte // payload of the last record returned by read
	tmp   []byte // scratch for verify
	scan  []byte // scratch for resync
}

// readFull reads len(p) bytes at off. ok is false when the file ends first.
func readFull(r io.ReaderAt, p []byte, off int64) (ok bool, err error) {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return true, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return false, nil
	}
	return false, err
}

// header reads the frame header at off and checks what can be checked
// without the payload.
func (s *segReader) header(off int64) (n, sum uint32, ok bool, err error) {
	if off < 0 || s.limit-off < headerSize {
		return 0, 0, false, nil
	}
	var h [headerSize]byte
	if ok, err := readFull(s.r, h[:], off); !ok {
		return 0, 0, false, err
	}
	if [4]byte(h[0:4]) != magic {
		return 0, 0, false, nil
	}
	n = binary.LittleEndian.Uint32(h[4:8])
	sum = binary.LittleEndian.Uint32(h[8:12])
	if n == 0 || int64(n) > s.limit-off-headerSize {
		return 0, 0, false, nil
	}
	return n, sum, true, nil
}

// read returns the payload of the record at off (aliasing s.buf, valid until
// the next call) and the record's total size on disk.
func (s *segReader) read(off int64) (payload []byte, size int64, ok bool, err error) {
	n, sum, ok, err := s.header(off)
	if !ok {
		return nil, 0, false, err
	}
	// Reuse the buffer, but do not keep a huge one alive for small entries.
	if cap(s.buf) < int(n) || (cap(s.buf) > 16<<20 && int(n) < cap(s.buf)/4) {
		s.buf = make([]byte, n)
	}
	p := s.buf[:n]
	if ok, err := readFull(s.r, p, off+headerSize); !ok {
		return nil, 0, false, err
	}
	if crc32.Checksum(p, castagnoli) != sum {
		return nil, 0, false, nil
	}
	return p, headerSize + int64(n), true, nil
}

// verify reports whether a valid record starts at off, and its size. It
// streams the payload through the checksum, so probing a candidate with a
// bogus length costs I/O but no allocation.
func (s *segReader) verify(off int64) (size int64, ok bool, err error) {
	n, sum, ok, err := s.header(off)
	if !ok {
		return 0, false, err
	}
	if s.tmp == nil {
		s.tmp = make([]byte, scratchSize)
	}
	var crc uint32
	pos, end := off+headerSize, off+headerSize+int64(n)
	for pos < end {
		chunk := s.tmp[:min(int64(len(s.tmp)), end-pos)]
		if ok, err := readFull(s.r, chunk, pos); !ok {
			return 0, false, err
		}
		crc = crc32.Update(crc, castagnoli, chunk)
		pos += int64(len(chunk))
	}
	if crc != sum {
		return 0, false, nil
	}
	return headerSize + int64(n), true, nil
}

// resync returns the offset of the first valid record at or after from, or
// s.limit when there is none. Valid means magic, plausible length and a
// matching checksum: a magic inside a payload or in garbage is not enough.
func (s *segReader) resync(from int64) (int64, error) {
	if s.scan == nil {
		s.scan = make([]byte, scratchSize)
	}
	pos := from
	for s.limit-pos >= headerSize {
		want := min(int64(len(s.scan)), s.limit-pos)
		n, err := s.r.ReadAt(s.scan[:want], pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		data := s.scan[:n]
		for i := 0; ; {
			j := bytes.Index(data[i:], magic[:])
			if j < 0 {
				break
			}
			c := pos + int64(i+j)
			if _, ok, err := s.verify(c); err != nil {
				return 0, err
			} else if ok {
				return c, nil
			}
			i += j + 1
		}
		if int64(n) < want {
			break // the file ends before limit
		}
		// Overlap the next chunk by len(magic)-1 bytes so that a magic split
		// across the boundary is still seen.
		pos += int64(n - (len(magic) - 1))
	}
	return s.limit, nil
}
