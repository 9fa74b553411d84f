package decode

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
)

// ErrLineTooLong is wrapped by the error Lines and Split report for a line
// longer than the limit.
var ErrLineTooLong = errors.New("line too long")

// LineTooLongError reports one line over the limit.
type LineTooLongError struct {
	Len int // bytes in the line, without its terminator
	Max int // the limit
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line too long: %d bytes, limit %d", e.Len, e.Max)
}

// Unwrap makes errors.Is(err, ErrLineTooLong) true.
func (e *LineTooLongError) Unwrap() error { return ErrLineTooLong }

// Line is one non-blank line of a body.
type Line struct {
	No     int    // 1-based physical line number; blank lines are counted
	Offset int    // offset of the line's first byte in the body
	End    int    // offset just past the line's terminator ("\n", "\r\n", or none at the end)
	Data   []byte // the line without its terminator; aliases the body
	Err    error  // *LineTooLongError when len(Data) > maxLine, else nil
}

// Lines calls fn for every non-blank line of body, in order. lineNo is the
// 1-based physical line number (blank lines count, so it matches what an
// editor shows). A line ends at "\n"; a "\r" just before it is dropped too,
// and a missing final newline is fine. A blank line is one made only of
// spaces, tabs and "\r". A line longer than maxLine bytes (maxLine <= 0: no
// limit) is not an error for Lines: fn gets it with lineErr set to a
// *LineTooLongError (errors.Is ErrLineTooLong) and decides what to do; the
// other lines go on. Lines stops at the first error fn returns and returns it.
//
// line aliases body: copy it to keep it past fn.
//
// Lines does not check that the body is NDJSON at all; see CheckNDJSON.
func Lines(body []byte, maxLine int, fn func(lineNo int, line []byte, lineErr error) error) error {
	for l := range Split(body, maxLine) {
		if err := fn(l.No, l.Data, l.Err); err != nil {
			return err
		}
	}
	return nil
}

// Split yields the non-blank lines of body with their positions. It follows
// the rules of Lines.
func Split(body []byte, maxLine int) iter.Seq[Line] {
	return func(yield func(Line) bool) {
		no := 0
		for off := 0; off < len(body); {
			no++
			start := off
			var data []byte
			if i := bytes.IndexByte(body[off:], '\n'); i >= 0 {
				data = body[start : start+i]
				off = start + i + 1
			} else {
				data = body[start:]
				off = len(body)
			}
			if n := len(data); n > 0 && data[n-1] == '\r' && off > start+n {
				// "\r\n": the \r belongs to the terminator. A lone "\r" at
				// the very end (no "\n") stays in the data, where it makes
				// the line blank or fails JSON parsing like any other junk.
				data = data[:n-1]
			}
			if IsBlank(data) {
				continue
			}
			l := Line{No: no, Offset: start, End: off, Data: data}
			if maxLine > 0 && len(data) > maxLine {
				l.Err = &LineTooLongError{Len: len(data), Max: maxLine}
			}
			if !yield(l) {
				return
			}
		}
	}
}

// IsBlank reports whether line holds only spaces, tabs and carriage returns
// (or nothing).
func IsBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
