package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
)

func gz(t testing.TB, parts ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, p := range parts { // one member per part
		w := gzip.NewWriter(&out)
		if _, err := io.WriteString(w, p); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

type gotLine struct {
	No   int
	Line string
	Long bool
}

func collect(t *testing.T, body string, max int) []gotLine {
	t.Helper()
	var got []gotLine
	err := Lines([]byte(body), max, func(no int, line []byte, lerr error) error {
		if lerr != nil && !errors.Is(lerr, ErrLineTooLong) {
			t.Fatalf("line %d: unexpected error %v", no, lerr)
		}
		got = append(got, gotLine{no, string(line), lerr != nil})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		max  int
		want []gotLine
	}{
		{"empty", "", 0, nil},
		{"only blanks", "\n\r\n  \t\n", 0, nil},
		{"lf", "{\"a\":1}\n{\"b\":2}\n", 0, []gotLine{{1, `{"a":1}`, false}, {2, `{"b":2}`, false}}},
		{"crlf", "{\"a\":1}\r\n{\"b\":2}\r\n", 0, []gotLine{{1, `{"a":1}`, false}, {2, `{"b":2}`, false}}},
		{"no final newline", "a\nb", 0, []gotLine{{1, "a", false}, {2, "b", false}}},
		{"blank lines counted in numbers", "\n\na\n\r\n \nb\n\n", 0, []gotLine{{3, "a", false}, {6, "b", false}}},
		{"double cr keeps one", "a\r\r\n", 0, []gotLine{{1, "a\r", false}}},
		{"lone cr at end kept", "a\r", 0, []gotLine{{1, "a\r", false}}},
		{"too long reported not aborted", "12345\n123456\n1234\n", 5, []gotLine{{1, "12345", false}, {2, "123456", true}, {3, "1234", false}}},
		{"crlf not counted in length", "12345\r\n", 5, []gotLine{{1, "12345", false}}},
		{"non json lines passed", "not json\n{\"a\":1}\n", 0, []gotLine{{1, "not json", false}, {2, `{"a":1}`, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, tc.body, tc.max)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestLinesTooLongError(t *testing.T) {
	var lerr error
	_ = Lines([]byte("123456\n"), 5, func(_ int, _ []byte, e error) error { lerr = e; return nil })
	var tl *LineTooLongError
	if !errors.As(lerr, &tl) || tl.Len != 6 || tl.Max != 5 || !errors.Is(lerr, ErrLineTooLong) {
		t.Fatalf("got %v", lerr)
	}
}

func TestLinesStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Lines([]byte("a\nb\nc\n"), 0, func(int, []byte, error) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("err %v after %d lines", err, n)
	}
}

func TestReader(t *testing.T) {
	ndjson := "{\"a\":1}\n{\"b\":2}\n"
	good := gz(t, ndjson)
	for _, tc := range []struct {
		name    string
		body    []byte
		enc     string
		limit   int64
		want    string
		gzipped bool
		newErr  error // from NewReader
		readErr error // from reading
	}{
		{name: "plain", body: []byte(ndjson), want: ndjson},
		{name: "plain identity", body: []byte(ndjson), enc: "identity", want: ndjson},
		{name: "gzip by header", body: good, enc: "gzip", want: ndjson, gzipped: true},
		{name: "gzip by header x-gzip", body: good, enc: "X-Gzip", want: ndjson, gzipped: true},
		{name: "gzip by magic", body: good, want: ndjson, gzipped: true},
		{name: "concatenated members", body: gz(t, "{\"a\":1}\n", "{\"b\":2}\n", "", "{\"c\":3}"), want: "{\"a\":1}\n{\"b\":2}\n{\"c\":3}", gzipped: true},
		{name: "empty", body: nil, want: ""},
		{name: "empty with gzip header", body: nil, enc: "gzip", want: ""},
		{name: "exactly at limit", body: good, limit: int64(len(ndjson)), want: ndjson, gzipped: true},
		{name: "one over limit", body: good, limit: int64(len(ndjson)) - 1, want: ndjson[:len(ndjson)-1], gzipped: true, readErr: ErrTooLarge},
		{name: "plain over limit", body: []byte(ndjson), limit: 3, want: ndjson[:3], readErr: ErrTooLarge},
		{name: "unsupported encoding", body: good, enc: "br", newErr: ErrUnsupportedEncoding},
		{name: "header says gzip body plain", body: []byte(ndjson), enc: "gzip", newErr: ErrCorrupt},
		{name: "bad gzip header", body: []byte{0x1f, 0x8b, 9, 0, 0, 0, 0, 0, 0, 0}, newErr: ErrCorrupt},
		{name: "truncated header", body: good[:5], newErr: ErrTruncated},
		{name: "truncated body", body: good[:len(good)-10], gzipped: true, readErr: ErrTruncated},
		{name: "truncated trailer", body: good[:len(good)-3], want: ndjson, gzipped: true, readErr: ErrTruncated},
		{name: "bad checksum", body: flip(good, len(good)-6), want: ndjson, gzipped: true, readErr: ErrCorrupt},
		{name: "garbage after member", body: append(append([]byte{}, good...), "junk"...), want: ndjson, gzipped: true, readErr: ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, err := NewReader(bytes.NewReader(tc.body), tc.enc, tc.limit)
			if tc.newErr != nil {
				if !errors.Is(err, tc.newErr) {
					t.Fatalf("NewReader: got %v, want %v", err, tc.newErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer z.Close()
			got, err := io.ReadAll(z)
			if tc.readErr == nil && err != nil || tc.readErr != nil && !errors.Is(err, tc.readErr) {
				t.Fatalf("read: got %v, want %v", err, tc.readErr)
			}
			if tc.want != "" && string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if z.Gzipped() != tc.gzipped {
				t.Fatalf("Gzipped() = %v", z.Gzipped())
			}
			if tc.readErr == nil && z.N() != int64(len(got)) {
				t.Fatalf("N() = %d, read %d", z.N(), len(got))
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 0xff
	return c
}

// A transport error under the gzip stream must come out as itself, not as
// "corrupt gzip".
func TestReaderTransportError(t *testing.T) {
	boom := errors.New("connection reset")
	body := gz(t, strings.Repeat("{\"a\":1}\n", 10000))
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"gzip mid stream", io.MultiReader(bytes.NewReader(body[:len(body)/2]), iotest.ErrReader(boom))},
		{"gzip at start", iotest.ErrReader(boom)},
		{"unexpected EOF from transport", io.MultiReader(bytes.NewReader(body[:len(body)/2]), iotest.ErrReader(io.ErrUnexpectedEOF))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, err := NewReader(tc.r, "gzip", 0)
			if err == nil {
				_, err = io.ReadAll(z)
				z.Close()
			}
			if errors.Is(err, ErrCorrupt) || err == nil {
				t.Fatalf("got %v, want the transport error", err)
			}
		})
	}
}

func TestReaderPoolReuse(t *testing.T) {
	// Readers come from a pool: make sure state does not leak between uses.
	for i := 0; i < 20; i++ {
		want := strings.Repeat(fmt.Sprintf("{\"i\":%d}\n", i), i*100)
		body := []byte(want)
		if i%2 == 0 {
			body = gz(t, want)
		}
		z, err := NewReader(bytes.NewReader(body), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(z)
		z.Close()
		if err != nil || string(got) != want {
			t.Fatalf("round %d: err %v, got %d bytes want %d", i, err, len(got), len(want))
		}
		if _, err := z.Read(make([]byte, 1)); err == nil {
			t.Fatal("read after Close succeeded")
		}
	}
}

func TestGunzip(t *testing.T) {
	big := strings.Repeat("x", 100000)
	for _, tc := range []struct {
		name  string
		body  []byte
		limit int64
		want  string
		err   error
	}{
		{"plain passthrough", []byte("abc"), 10, "abc", nil},
		{"plain too large", []byte("abcd"), 3, "", ErrTooLarge},
		{"gzip", gz(t, "abc\n"), 10, "abc\n", nil},
		{"members", gz(t, "a\n", "b\n"), 10, "a\nb\n", nil},
		{"big grows", gz(t, big, big), 1 << 20, big + big, nil},
		{"big at limit", gz(t, big), int64(len(big)), big, nil},
		{"big over limit", gz(t, big), int64(len(big)) - 1, "", ErrTooLarge},
		{"trailer lies about size", lieSize(gz(t, big), 1<<31), 1 << 20, "", ErrCorrupt},
		{"truncated", gz(t, big)[:50], 1 << 20, "", ErrTruncated},
		{"no limit", []byte("a"), 0, "", errors.New("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Gunzip(tc.body, tc.limit)
			switch {
			case tc.err == nil && err != nil:
				t.Fatal(err)
			case tc.err != nil && err == nil:
				t.Fatalf("no error, want %v", tc.err)
			case tc.err != nil && tc.err.Error() != "" && !errors.Is(err, tc.err):
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %d bytes, want %d", len(got), len(tc.want))
			}
			if tc.limit > 0 && int64(cap(got)) > 2*tc.limit+1024 {
				t.Fatalf("cap %d for limit %d", cap(got), tc.limit)
			}
		})
	}
}

func lieSize(b []byte, n uint32) []byte {
	c := append([]byte{}, b...)
	c[len(c)-4], c[len(c)-3], c[len(c)-2], c[len(c)-1] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	// The checksum check happens at the end of the stream: the lie only
	// feeds the size hint, and then fails the trailer check.
	return c
}

func TestGunzipLyingTrailerFails(t *testing.T) {
	_, err := Gunzip(lieSize(gz(t, "abc"), 1<<31), 1<<20)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want checksum/size error", err)
	}
}

func chunks(t *testing.T, r io.Reader, size, maxLine int) []Chunk {
	t.Helper()
	cr := NewChunkReader(r, size, maxLine)
	var out []Chunk
	for {
		c, err := cr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

func TestChunkReader(t *testing.T) {
	long := strings.Repeat("y", 200)
	for _, tc := range []struct {
		name      string
		in        string
		size, max int
		want      []string
		lines     []int
		trunc     int
	}{
		{name: "empty", in: "", size: 10},
		{name: "one small chunk", in: "a\nb\n", size: 10, want: []string{"a\nb\n"}, lines: []int{2}},
		{name: "cut after reaching size", in: "aaaa\nbbbb\ncccc\n", size: 8, want: []string{"aaaa\nbbbb\n", "cccc\n"}, lines: []int{2, 1}},
		{name: "exact size", in: "aaa\nbbb\n", size: 4, want: []string{"aaa\n", "bbb\n"}, lines: []int{1, 1}},
		{name: "no final newline", in: "aaa\nbbb", size: 4, want: []string{"aaa\n", "bbb"}, lines: []int{1, 1}},
		{name: "blank lines kept not counted", in: "\n\na\n\n", size: 100, want: []string{"\n\na\n\n"}, lines: []int{1}},
		{name: "only blanks", in: " \n\r\n", size: 100, want: []string{" \n\r\n"}, lines: []int{0}},
		{name: "line longer than chunk", in: "a\n" + long + "\nb\n", size: 10, max: 1000, want: []string{"a\n" + long + "\n", "b\n"}, lines: []int{2, 1}},
		{name: "truncated line", in: "a\n" + long + "\nb\n", size: 1000, max: 50,
			want: []string{"a\n" + long[:50] + TruncationMarker + ":200\nb\n"}, lines: []int{3}, trunc: 1},
		{name: "truncated crlf line", in: long + "\r\n", size: 1000, max: 50,
			want: []string{long[:50] + TruncationMarker + ":200\n"}, lines: []int{1}, trunc: 1},
		{name: "truncated last line no newline", in: long, size: 1000, max: 50,
			want: []string{long[:50] + TruncationMarker + ":200\n"}, lines: []int{1}, trunc: 1},
		{name: "limit plus one", in: "123456\n", size: 1000, max: 5, want: []string{"12345" + TruncationMarker + ":6\n"}, lines: []int{1}, trunc: 1},
		{name: "limit plus two with lf", in: "1234567\n", size: 1000, max: 5, want: []string{"12345" + TruncationMarker + ":7\n"}, lines: []int{1}, trunc: 1},
		{name: "at limit with crlf", in: "12345\r\n", size: 1000, max: 5, want: []string{"12345\r\n"}, lines: []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time too, to cross every internal buffer edge.
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got := chunks(t, r, tc.size, tc.max)
				if len(got) != len(tc.want) {
					t.Fatalf("got %d chunks %+v, want %d", len(got), got, len(tc.want))
				}
				trunc := 0
				for i, c := range got {
					if string(c.Data) != tc.want[i] || c.Lines != tc.lines[i] {
						t.Fatalf("chunk %d: got %q (%d lines), want %q (%d lines)", i, c.Data, c.Lines, tc.want[i], tc.lines[i])
					}
					if c.Last != (i == len(got)-1) {
						t.Fatalf("chunk %d: Last = %v", i, c.Last)
					}
					trunc += c.Truncated
				}
				if trunc != tc.trunc {
					t.Fatalf("truncated %d, want %d", trunc, tc.trunc)
				}
			}
		})
	}
}

// A truncated line never parses as JSON, whatever the cut point.
func TestTruncatedLineNeverJSON(t *testing.T) {
	lines := []string{
		`{"a":1}                                        `,
		`{"a":1}{"b":2}{"c":3}{"d":4}{"e":5}{"f":6}{"g":7}`,
		`{"s":"abc\"def\\","t":[1,2,3],"u":{"v":null}}  `,
		`"just a long string ........................"`,
		`12345678901234567890123456789012345678901234567890`,
	}
	for _, l := range lines {
		for max := 1; max < len(l); max++ {
			got := chunks(t, strings.NewReader(l+"\n"), 1<<20, max)
			line := bytes.TrimSuffix(got[0].Data, []byte("\n"))
			if json.Valid(line) {
				t.Fatalf("cut at %d: %q is valid JSON", max, line)
			}
		}
	}
}

// Memory stays bounded by chunk size + line limit, whatever the input.
func TestChunkReaderBounded(t *testing.T) {
	// 64 MiB with no newline at all, then a short line.
	r := io.MultiReader(io.LimitReader(zeros{}, 64<<20), strings.NewReader("\nok\n"))
	cr := NewChunkReader(r, 1<<20, 1<<20)
	c, err := cr.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := TruncationMarker + fmt.Sprintf(":%d\n", 64<<20)
	if cap(c.Data) > 3<<20 || c.Truncated != 1 || !bytes.HasSuffix(c.Data, []byte(want)) {
		t.Fatalf("cap %d truncated %d", cap(c.Data), c.Truncated)
	}
	if c, err = cr.Next(); err != nil || string(c.Data) != "ok\n" {
		t.Fatalf("second chunk %q %v", c.Data, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestChunkReaderSizeHint(t *testing.T) {
	in := strings.Repeat("{\"a\":12345}\n", 10000) // 120000 bytes
	for _, tc := range []struct {
		name    string
		hint    int64
		maxCaps int // largest buffer capacity allowed
	}{
		{"exact", int64(len(in)), len(in)},
		{"under", 1000, 256 << 10},
		{"over", 10 << 20, 1<<20 + 256<<10}, // capped at chunk size + slack
		{"none", 0, 256 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := NewChunkReader(strings.NewReader(in), 1<<20, 0)
			cr.SizeHint(tc.hint)
			got := collectChunks(t, cr)
			if len(got) != 1 || string(got[0].Data) != in {
				t.Fatalf("%d chunks", len(got))
			}
			if c := cap(got[0].Data); c > tc.maxCaps {
				t.Fatalf("cap %d, want <= %d", c, tc.maxCaps)
			}
		})
	}
	// An exact hint spread over several chunks: each starts at the size it
	// needs, and the last one only at what is left.
	cr := NewChunkReader(strings.NewReader(in), 50000, 0)
	cr.SizeHint(int64(len(in)))
	got := collectChunks(t, cr)
	if len(got) != 3 || cap(got[2].Data) > 64<<10 {
		t.Fatalf("%d chunks, last cap %d", len(got), cap(got[len(got)-1].Data))
	}
}

func TestChunkReaderError(t *testing.T) {
	boom := errors.New("boom")
	cr := NewChunkReader(io.MultiReader(strings.NewReader("aaaa\nbbbb\ncc"), iotest.ErrReader(boom)), 5, 0)
	c, err := cr.Next()
	if err != nil || string(c.Data) != "aaaa\n" {
		t.Fatalf("first chunk %q %v", c.Data, err)
	}
	if c.Last {
		t.Fatal("Last on a failing stream")
	}
	c, err = cr.Next()
	if string(c.Data) != "bbbb\n" || err != nil {
		t.Fatalf("second chunk %q %v", c.Data, err)
	}
	for range 2 {
		if _, err := cr.Next(); err != boom {
			t.Fatalf("got %v, want boom (sticky)", err)
		}
	}
}

func TestIsValidationProbe(t *testing.T) {
	for body, want := range map[string]bool{
		`{"content":"tests"}`:            true,
		"  {\"content\":\"tests\"}\n":    true,
		`{ "content" : "tests" }`:        true,
		"test":                           true,
		"\ttest\r\n":                     true,
		`{"content":"test"}`:             true,
		`{"content":"tests","x":1}`:      false,
		`{"content":"other"}`:            false,
		`{"content":1}`:                  false,
		`{"other":"tests"}`:              false,
		"testing":                        false,
		"":                               false,
		"test\ntest":                     false,
		`{"content":"tests"}` + "\n{}\n": false,
		`{"ClientIP":"1.2.3.4"}`:         false,
	} {
		if got := IsValidationProbe([]byte(body)); got != want {
			t.Errorf("IsValidationProbe(%q) = %v", body, got)
		}
	}
}

func TestCheckNDJSON(t *testing.T) {
	for body, want := range map[string]bool{ // want: is NDJSON
		"":                                 true,
		"{\"a\":1}\n{\"b\":2}\n":           true,
		"  \n{\"a\":1}":                    true,
		"not json at all\n":                true, // the normalizer dead-letters it
		`"89.163.242.206",1506702504433`:   true, // CSV: not detected
		`[{"a":1},{"b":2}]`:                false,
		"\n [\n{\"a\":1}\n]":               false,
		"{\"events\":[\n  {\"info\":{}}]}": false,
		"{\n  \"a\": 1\n}\n":               false,
		"{\r\n":                            false,
		`{"a":1}`:                          true,
	} {
		err := CheckNDJSON([]byte(body))
		if (err == nil) != want || err != nil && !errors.Is(err, ErrNotNDJSON) {
			t.Errorf("CheckNDJSON(%q) = %v", body, err)
		}
	}
}
