package decode

import (
	"bufio"
	"io"
	"strconv"
)

// TruncationMarker is appended (followed by ":<original length>") to a line
// that ChunkReader cut short because it was longer than the line limit. The
// marker holds no double quote and starts with '#', a byte no JSON text may
// hold outside a string, so a cut line can never parse as JSON, whatever
// prefix was kept: inside a string the string never closes, outside one '#'
// is a syntax error. The normalizer therefore always dead-letters a cut line
// (as too long when its own limit is the same, as invalid JSON otherwise),
// and the dead letter shows the start of the line and its real length.
const TruncationMarker = "#flarehose:truncated"

// Default sizes for ChunkReader.
const (
	DefaultChunkBytes = 8 << 20
	DefaultMaxLine    = 16 << 20
)

// Chunk is a run of whole lines.
type Chunk struct {
	// Data holds whole lines, each ending in "\n", except that the last line
	// of the stream keeps whatever ending it had (possibly none). Blank lines
	// are kept. Data is freshly allocated for each chunk: the caller (and
	// whoever it hands Data to) may keep it.
	Data      []byte
	Lines     int  // non-blank lines in Data
	Truncated int  // lines cut to the line limit (see TruncationMarker)
	Last      bool // no chunk follows: the next call to Next returns io.EOF
}

// ChunkReader cuts a stream into chunks of whole lines of about a target
// size. A chunk is cut after the first line that brings it to the target size
// or more, so a chunk holds at most target + one line bytes, and one line is
// at most the line limit plus the marker: memory per ChunkReader is bounded
// by about target + line limit + 64 KiB, whatever the stream holds.
type ChunkReader struct {
	br      *bufio.Reader
	size    int
	maxLine int
	err     error
	hint    int64 // expected bytes still to come; 0: unknown
}

// NewChunkReader returns a ChunkReader over r cutting chunks of about size
// bytes (size <= 0: DefaultChunkBytes). A line longer than maxLine bytes
// (terminator not counted; maxLine <= 0: no limit, which only the limit on r
// then bounds) is cut to its first maxLine bytes, followed by
// TruncationMarker, ":", its original length and "\n"; the rest of the line
// is read and dropped.
func NewChunkReader(r io.Reader, size, maxLine int) *ChunkReader {
	if size <= 0 {
		size = DefaultChunkBytes
	}
	return &ChunkReader{br: bufio.NewReaderSize(r, 64<<10), size: size, maxLine: maxLine}
}

// SizeHint tells the expected size of the whole stream (say, a plain
// body's Content-Length, or an estimate for a compressed one), so chunk
// buffers start at the right size instead of growing by copying. A wrong
// hint costs only memory or copies, never correctness; buffers never start
// above the chunk size.
func (c *ChunkReader) SizeHint(n int64) { c.hint = max(n, 0) }

// Next returns the next chunk, or io.EOF once the stream is exhausted (an
// empty stream yields io.EOF at once). Any other error comes from the
// underlying reader; the lines read since the previous chunk are then lost,
// and Next keeps returning that error.
func (c *ChunkReader) Next() (Chunk, error) {
	if c.err != nil {
		return Chunk{}, c.err
	}
	var ch Chunk
	initial := int64(64 << 10)
	if c.hint > 0 {
		initial = max(c.hint, 4<<10)
	}
	buf := make([]byte, 0, min(initial, int64(c.size)+256<<10))
	defer func() { c.hint = max(c.hint-int64(len(buf)), 0) }()
	for {
		start := len(buf)
		raw := 0      // bytes of this line read so far, terminator included
		cut := false  // the line went over the limit: the rest is dropped
		blank := true // while cut: the line holds only blanks so far
		var prev byte // the byte before the last one read
		var last byte // the last byte read
		var err error
		for {
			var frag []byte
			frag, err = c.br.ReadSlice('\n')
			raw += len(frag)
			switch len(frag) {
			case 0:
			case 1:
				prev, last = last, frag[0]
			default:
				prev, last = frag[len(frag)-2], frag[len(frag)-1]
			}
			if !cut {
				buf = c.grow(buf, len(frag))
				buf = append(buf, frag...)
				// Over the limit even if the line ends in "\r\n": stop
				// keeping its bytes now, so memory stays bounded.
				if c.maxLine > 0 && len(buf)-start > c.maxLine+2 {
					blank = allSpace(buf[start:])
					buf = buf[:start+c.maxLine]
					cut = true
				}
			} else if blank {
				blank = allSpace(frag)
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err != nil && err != io.EOF {
			c.err = err
			return Chunk{}, err
		}
		if raw > 0 {
			term := 0
			if err == nil { // the line ended in '\n'
				term = 1
				if raw >= 2 && prev == '\r' {
					term = 2
				}
			}
			content := raw - term
			if !cut && c.maxLine > 0 && content > c.maxLine {
				blank = allSpace(buf[start:])
				buf = buf[:start+c.maxLine]
				cut = true
			}
			switch {
			case cut && blank:
				// A blank line stays blank, however long: keep it as an
				// empty line so that line numbers do not move.
				buf = append(buf[:start], '\n')
			case cut:
				buf = c.grow(buf, len(TruncationMarker)+22)
				buf = append(buf, TruncationMarker...)
				buf = append(buf, ':')
				buf = strconv.AppendInt(buf, int64(content), 10)
				buf = append(buf, '\n')
				ch.Lines++
				ch.Truncated++
			case !IsBlank(buf[start : len(buf)-term]):
				ch.Lines++
			}
		}
		if err == io.EOF {
			c.err = io.EOF
			if len(buf) == 0 {
				return Chunk{}, io.EOF
			}
			ch.Data, ch.Last = buf, true
			return ch, nil
		}
		if len(buf) >= c.size {
			// Say whether this is the last chunk when that is known cheaply.
			// An error other than EOF is kept for the next call: the lines
			// in this chunk are whole and good.
			if _, perr := c.br.Peek(1); perr != nil {
				c.err = perr
				ch.Last = perr == io.EOF
			}
			ch.Data = buf
			return ch, nil
		}
	}
}

// allSpace reports whether b holds only spaces, tabs, "\r" and "\n".
func allSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// grow makes room for n more bytes, doubling but not far past the target
// size, since a chunk is cut soon after reaching it.
func (c *ChunkReader) grow(buf []byte, n int) []byte {
	if cap(buf)-len(buf) >= n {
		return buf
	}
	newCap := min(2*cap(buf), c.size+256<<10)
	newCap = max(newCap, len(buf)+n)
	nb := make([]byte, len(buf), newCap)
	copy(nb, buf)
	return nb
}
