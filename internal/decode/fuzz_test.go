package decode

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
)

// FuzzLines checks the splitting invariants: the emitted lines, their
// terminators and the skipped blank lines between them cover the input
// exactly, in order, and Lines agrees with Split.
func FuzzLines(f *testing.F) {
	for _, s := range []string{"", "\n", "a", "a\nb", "a\r\nb\r\n", "\r\n\r\n", "a\r", "\r", " \t\r\n{}\n", "123456\n12\n"} {
		f.Add([]byte(s), 5)
	}
	f.Fuzz(func(t *testing.T, body []byte, maxLine int) {
		maxLine %= 64
		prevEnd, prevNo := 0, 0
		var fromSplit []Line
		for l := range Split(body, maxLine) {
			fromSplit = append(fromSplit, l)
			if l.Offset < prevEnd || l.No <= prevNo || l.End > len(body) {
				t.Fatalf("line %+v after end %d no %d", l, prevEnd, prevNo)
			}
			// Everything skipped since the previous line is blank lines.
			gap := body[prevEnd:l.Offset]
			if !IsBlank(bytes.ReplaceAll(gap, []byte("\n"), nil)) || (len(gap) > 0 && gap[len(gap)-1] != '\n') {
				t.Fatalf("skipped non-blank %q", gap)
			}
			if l.No-prevNo-1 != bytes.Count(gap, []byte("\n")) {
				t.Fatalf("line number %d after %d with %q skipped", l.No, prevNo, gap)
			}
			if !bytes.Equal(body[l.Offset:l.Offset+len(l.Data)], l.Data) || IsBlank(l.Data) || bytes.IndexByte(l.Data, '\n') >= 0 {
				t.Fatalf("bad line %+v", l)
			}
			switch term := string(body[l.Offset+len(l.Data) : l.End]); term {
			case "\n", "\r\n":
			case "":
				if l.End != len(body) {
					t.Fatalf("unterminated line %+v before the end", l)
				}
			default:
				t.Fatalf("terminator %q", term)
			}
			if tooLong := maxLine > 0 && len(l.Data) > maxLine; tooLong != (l.Err != nil) || l.Err != nil && !errors.Is(l.Err, ErrLineTooLong) {
				t.Fatalf("line %+v max %d", l, maxLine)
			}
			prevEnd, prevNo = l.End, l.No
		}
		if rest := body[prevEnd:]; !IsBlank(bytes.ReplaceAll(rest, []byte("\n"), nil)) {
			t.Fatalf("trailing non-blank %q", rest)
		}
		i := 0
		err := Lines(body, maxLine, func(no int, line []byte, lerr error) error {
			l := fromSplit[i]
			if no != l.No || !bytes.Equal(line, l.Data) || (lerr == nil) != (l.Err == nil) || lerr != nil && lerr.Error() != l.Err.Error() {
				t.Fatalf("Lines and Split disagree at %d", i)
			}
			i++
			return nil
		})
		if err != nil || i != len(fromSplit) {
			t.Fatalf("Lines: %v, %d of %d lines", err, i, len(fromSplit))
		}
	})
}

// FuzzChunks checks that chunks are whole lines that rebuild the input, or
// the input with over-long lines cut and marked.
func FuzzChunks(f *testing.F) {
	for _, s := range []string{"", "a\nb\n", "aaaa\nbbbb\ncc", "\r\n\r\n", strings.Repeat("x", 100) + "\ny\n"} {
		f.Add([]byte(s), 4, 0, 0)
		f.Add([]byte(s), 3, 7, len(s))
	}
	f.Fuzz(func(t *testing.T, in []byte, size, maxLine, hint int) {
		size = 1 + abs(size)%64
		maxLine = abs(maxLine) % 32
		cr := NewChunkReader(iotest.HalfReader(bytes.NewReader(in)), size, maxLine)
		cr.SizeHint(int64(hint % 1024)) // any hint, even a wrong or negative one
		got := collectChunks(t, cr)
		var all []byte
		lines := 0
		for i, c := range got {
			if len(c.Data) == 0 {
				t.Fatal("empty chunk")
			}
			if i < len(got)-1 && (c.Data[len(c.Data)-1] != '\n' || len(c.Data) < size || c.Last) {
				t.Fatalf("chunk %d of %d: %q (size %d, last %v)", i, len(got), c.Data, size, c.Last)
			}
			// Cut after the first line that reaches size: without its last
			// line the chunk is under size.
			body := bytes.TrimSuffix(c.Data, []byte("\n"))
			if j := bytes.LastIndexByte(body, '\n'); j >= 0 && j+1 >= size {
				t.Fatalf("chunk %d too big: %q (size %d)", i, c.Data, size)
			}
			lines += c.Lines
			all = append(all, c.Data...)
		}
		if len(got) > 0 && !got[len(got)-1].Last {
			t.Fatal("last chunk not marked Last")
		}
		want := expectChunked(in, maxLine)
		if !bytes.Equal(all, want) {
			t.Fatalf("chunks rebuild\n%q\nwant\n%q", all, want)
		}
		n := 0
		for range Split(in, 0) {
			n++
		}
		if lines != n {
			t.Fatalf("counted %d lines, Split says %d", lines, n)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		if x = -x; x < 0 { // math.MinInt
			return 0
		}
	}
	return x
}

func collectChunks(t *testing.T, cr *ChunkReader) []Chunk {
	var got []Chunk
	for {
		c, err := cr.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
}

// expectChunked is the simple model of what ChunkReader emits.
func expectChunked(in []byte, maxLine int) []byte {
	var out []byte
	for len(in) > 0 {
		line := in
		rest := []byte(nil)
		if i := bytes.IndexByte(in, '\n'); i >= 0 {
			line, rest = in[:i+1], in[i+1:]
		}
		content := bytes.TrimSuffix(line, []byte("\n"))
		if len(content) < len(line) {
			content = bytes.TrimSuffix(content, []byte("\r"))
		}
		if maxLine > 0 && len(content) > maxLine && IsBlank(content) {
			out = append(out, '\n')
		} else if maxLine > 0 && len(content) > maxLine {
			out = append(out, content[:maxLine]...)
			out = append(out, TruncationMarker+":"...)
			out = append(out, itoa(len(content))...)
			out = append(out, '\n')
		} else {
			out = append(out, line...)
		}
		in = rest
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// FuzzGunzip feeds arbitrary bytes (and real gzip of arbitrary bytes, cut in
// members) to the decompressor: no panic, never more than the limit, and
// valid input round-trips.
func FuzzGunzip(f *testing.F) {
	f.Add([]byte("hello\n"), []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0}, uint8(2), uint16(100))
	f.Add([]byte(""), []byte("plain"), uint8(0), uint16(3))
	f.Fuzz(func(t *testing.T, data, raw []byte, members uint8, limit uint16) {
		lim := int64(limit) + 1
		// Arbitrary input: must not panic, must respect the limit.
		if out, err := Gunzip(raw, lim); err == nil && int64(len(out)) > lim {
			t.Fatalf("%d bytes for limit %d", len(out), lim)
		}
		if z, err := NewReader(bytes.NewReader(raw), "gzip", lim); err == nil {
			n, _ := io.Copy(io.Discard, z)
			z.Close()
			if n > lim {
				t.Fatalf("%d bytes for limit %d", n, lim)
			}
		}
		// Valid gzip, 1..4 members: round trip, or ErrTooLarge at the limit.
		var comp bytes.Buffer
		parts := int(members%4) + 1
		for i := 0; i < parts; i++ {
			lo, hi := len(data)*i/parts, len(data)*(i+1)/parts
			w, _ := gzip.NewWriterLevel(&comp, int(members%10))
			w.Write(data[lo:hi])
			w.Close()
		}
		out, err := Gunzip(comp.Bytes(), lim)
		switch {
		case int64(len(data)) > lim:
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d bytes, limit %d: %v", len(data), lim, err)
			}
		case err != nil || !bytes.Equal(out, data):
			t.Fatalf("round trip: %v", err)
		}
	})
}
