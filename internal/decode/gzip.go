package decode

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Errors of the decompression helpers. Errors that come from the underlying
// reader (a network timeout, a body cut short by the client, an
// *http.MaxBytesError) are returned as they are, not wrapped in these, so a
// caller can tell "the sender's bytes are bad" from "the transport failed".
var (
	// ErrTooLarge means the decompressed body is over the limit.
	ErrTooLarge = errors.New("decompressed body too large")
	// ErrCorrupt means the gzip data does not decode: bad header, bad
	// deflate data, checksum mismatch, or cut short (ErrTruncated).
	ErrCorrupt = errors.New("corrupt gzip data")
	// ErrTruncated means the gzip data ended in the middle of a member.
	// It wraps ErrCorrupt.
	ErrTruncated = fmt.Errorf("%w: unexpected end of gzip data", ErrCorrupt)
	// ErrUnsupportedEncoding is a Content-Encoding other than gzip/identity.
	ErrUnsupportedEncoding = errors.New("unsupported content encoding")
)

// IsGzip reports whether b starts with the gzip magic bytes 1f 8b.
func IsGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// Reader streams a decompressed body. Make one with NewReader and Close it
// when done (it returns its buffers to a pool). It is not safe for concurrent
// use.
type Reader struct {
	p       *pooled
	src     errTracker
	r       io.Reader // p.gz or p.br
	limit   int64
	n       int64
	err     error
	gzipped bool
}

// pooled holds the reusable state: a 64 KiB input buffer and a gzip
// decompressor (about 40 KiB of tables and window).
type pooled struct {
	br *bufio.Reader
	gz *gzip.Reader
}

var pool = sync.Pool{New: func() any { return &pooled{br: bufio.NewReaderSize(nil, 64<<10)} }}

// errTracker passes reads through and remembers the first error other than
// io.EOF that the underlying reader returned, so that a failure of the
// transport is not mistaken for corrupt gzip data.
type errTracker struct {
	r   io.Reader
	err error
}

func (t *errTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// NewReader returns a Reader that yields the decompressed content of r.
//
// contentEncoding is the value of the Content-Encoding header ("" when there
// is none). "gzip" and "x-gzip" mean gzip; "", "identity" mean "look at the
// first two bytes": gzip if they are the gzip magic, plain otherwise. Any
// other value fails with ErrUnsupportedEncoding. Concatenated gzip members are
// read as one stream.
//
// limit caps the decompressed size: reading byte limit+1 fails with
// ErrTooLarge (limit <= 0: no limit). The Reader itself never buffers more
// than 64 KiB of input plus the decompressor's window, whatever the input.
//
// NewReader reads the start of r (the gzip header), so it may itself fail
// with ErrCorrupt or an error of r. An empty r is an empty body, gzip or not.
func NewReader(r io.Reader, contentEncoding string, limit int64) (*Reader, error) {
	wantGzip := false
	switch enc := strings.ToLower(strings.TrimSpace(contentEncoding)); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		wantGzip = true
	default:
		return nil, fmt.Errorf("%w %q: only gzip is supported", ErrUnsupportedEncoding, enc)
	}
	z := &Reader{p: pool.Get().(*pooled), limit: limit}
	z.src.r = r
	z.p.br.Reset(&z.src)
	z.r = z.p.br
	head, err := z.p.br.Peek(2)
	switch {
	case len(head) == 0 && err == io.EOF:
		return z, nil // empty body
	case err != nil && err != io.EOF:
		z.Close()
		return nil, err
	}
	if !IsGzip(head) {
		if wantGzip {
			z.Close()
			return nil, fmt.Errorf("%w: Content-Encoding is gzip but the body does not start with the gzip magic bytes", ErrCorrupt)
		}
		return z, nil
	}
	z.gzipped = true
	if z.p.gz == nil {
		z.p.gz = new(gzip.Reader)
	}
	if err := z.p.gz.Reset(z.p.br); err != nil {
		err = z.classify(err)
		z.Close()
		return nil, err
	}
	z.p.gz.Multistream(true)
	z.r = z.p.gz
	return z, nil
}

// Gzipped reports whether the body is gzip-compressed.
func (z *Reader) Gzipped() bool { return z.gzipped }

// N returns the number of decompressed bytes read so far.
func (z *Reader) N() int64 { return z.n }

// Read implements io.Reader.
func (z *Reader) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if z.p == nil {
		return 0, errors.New("decode: read after Close")
	}
	if z.limit > 0 {
		// Ask for at most one byte past the limit: if it comes, the body
		// is too large, and we never decompressed more than that.
		if room := z.limit - z.n + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := z.r.Read(p)
	z.n += int64(n)
	if z.limit > 0 && z.n > z.limit {
		n -= int(z.n - z.limit)
		z.n = z.limit
		z.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, z.limit)
		return n, z.err
	}
	if err != nil {
		if err == io.EOF {
			z.err = io.EOF
		} else {
			z.err = z.classify(err)
		}
	}
	return n, z.err
}

// classify turns an error of the decompressor into ErrCorrupt/ErrTruncated,
// unless the underlying reader failed first: then that error is the cause.
func (z *Reader) classify(err error) error {
	if z.src.err != nil {
		return z.src.err
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return ErrTruncated
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// Close releases the Reader's buffers. It does not close the underlying
// reader.
func (z *Reader) Close() error {
	if z.p == nil {
		return nil
	}
	z.p.br.Reset(nil)
	if z.p.gz != nil {
		// Drop the reference to our errTracker; Reset on an empty input
		// just records io.EOF and keeps the allocated decompressor.
		_ = z.p.gz.Reset(bytes.NewReader(nil))
	}
	pool.Put(z.p)
	z.p = nil
	if z.err == nil {
		z.err = errors.New("decode: read after Close")
	}
	return nil
}

// Gunzip returns the decompressed content of body: gzip (one or more
// members) when body starts with the gzip magic, body itself otherwise. It
// fails with ErrTooLarge when the result would exceed limit bytes, without
// allocating more than about limit bytes; limit must be positive.
func Gunzip(body []byte, limit int64) ([]byte, error) {
	if limit <= 0 {
		return nil, errors.New("decode: Gunzip needs a positive limit")
	}
	if !IsGzip(body) {
		if int64(len(body)) > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
		}
		return body, nil
	}
	z, err := NewReader(bytes.NewReader(body), "gzip", limit)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	// The trailer of the last member holds its size mod 2^32: a good first
	// guess for single-member bodies, clamped so a lying trailer cannot make
	// us allocate more than the limit (or absurdly more than deflate's best
	// ratio of about 1032:1 allows).
	hint := int64(64 << 10)
	if len(body) >= 18 {
		hint = int64(binary.LittleEndian.Uint32(body[len(body)-4:])) + 1
	}
	hint = min(hint, limit+1, int64(len(body))*1032+512)
	buf := make([]byte, 0, max(hint, 512))
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(max(min(int64(cap(buf)), limit+1-int64(cap(buf))), 1)))
		}
		n, err := z.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
