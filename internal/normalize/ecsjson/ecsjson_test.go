package ecsjson

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	alphabet := []string{"a", "Z", " ", "\"", "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "€", "😀", "\u2028", "/", "<", "&"}
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		for j := rng.IntN(40); j > 0; j-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		s := b.String()
		enc := AppendString(nil, s)
		if !json.Valid(enc) {
			t.Fatalf("%q -> invalid %s", s, enc)
		}
		var back string
		if err := json.Unmarshal(enc, &back); err != nil || back != s {
			t.Fatalf("%q -> %s -> %q (%v)", s, enc, back, err)
		}
		if string(AppendStringBytes(nil, []byte(s))) != string(enc) {
			t.Fatalf("AppendStringBytes differs for %q", s)
		}
	}
}

func TestAppendStringInvalidUTF8(t *testing.T) {
	for _, s := range []string{"\xff", "a\xc3", "\xe2\x82", "ok\xed\xa0\x80ok", strings.Repeat("\xfe", 20), "12345678\xff12345678"} {
		enc := AppendString(nil, s)
		if !json.Valid(enc) || !utf8.Valid(enc) {
			t.Errorf("%q -> %q", s, enc)
		}
		if !strings.Contains(string(enc), `\ufffd`) {
			t.Errorf("%q: invalid bytes not replaced: %s", s, enc)
		}
	}
}

func TestSpecialWord(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			want := c < 0x20 || c == '"' || c == '\\' || c >= 0x80
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(b[i])
			}
			if got := special(x); got != want {
				t.Fatalf("byte %#x at %d: special = %v", c, pos, got)
			}
		}
	}
}

func TestNeedsEscape(t *testing.T) {
	for s, want := range map[string]bool{"": false, "plain ascii text here": false, "quote\"": true, "tab\there": true, "é": true, "0123456789abcdef\\": true} {
		if NeedsEscape([]byte(s)) != want {
			t.Errorf("NeedsEscape(%q) = %v", s, !want)
		}
	}
}

func TestValidNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "-12", "1.5", "0.25", "1e5", "1E+5", "-1.5e-3", "123456789012345678901234567890"} {
		if !ValidNumber(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", "-", "+1", "01", "1.", ".5", "1e", "1e+", "NaN", "nan", "Inf", "-inf", "1.2.3", "0x10", "1_000", " 1"} {
		if ValidNumber(s) {
			t.Errorf("%q accepted", s)
		}
	}
	for s, want := range map[string]bool{"0": true, "-7": true, "12": true, "1.0": false, "1e3": false, "-": false, "007": false, "": false} {
		if IsInteger(s) != want {
			t.Errorf("IsInteger(%q) = %v", s, !want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	for f, want := range map[float64]string{0: "0.0", 1: "1.0", -2.5: "-2.5", 1e20: "1e+20", 0.1: "0.1"} {
		got, ok := AppendFloat(nil, f)
		if !ok || string(got) != want {
			t.Errorf("%v -> %s", f, got)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got, ok := AppendFloat([]byte("x"), f); ok || string(got) != "x" {
			t.Errorf("%v accepted", f)
		}
	}
}

func TestNester(t *testing.T) {
	var n Nester
	n.Begin([]byte("prefix"))
	n.Field([]string{"@timestamp"}, []byte(`"t"`))
	n.Field([]string{"a", "b", "c"}, []byte(`1`))
	n.Field([]string{"a", "b", "d"}, []byte(`2`))
	n.Field([]string{"a", "e"}, []byte(`3`))
	n.Field([]string{"f"}, []byte(`[4]`))
	n.Field([]string{"g", "h", "i", "j"}, []byte(`{}`))
	out := n.End()
	want := `prefix{"@timestamp":"t","a":{"b":{"c":1,"d":2},"e":3},"f":[4],"g":{"h":{"i":{"j":{}}}}}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	n.Begin(nil)
	if out := n.End(); string(out) != "{}" {
		t.Fatalf("empty: %s", out)
	}
	n.Begin(nil)
	n.Field([]string{"we\"ird", "k"}, []byte(`true`))
	if out := n.End(); string(out) != `{"we\"ird":{"k":true}}` {
		t.Fatalf("escaping: %s", out)
	}
}

func TestComparePaths(t *testing.T) {
	a, b := []string{"a", "b"}, []string{"a", "b", "c"}
	if ComparePaths(a, b) >= 0 || ComparePaths(b, a) <= 0 || ComparePaths(a, a) != 0 {
		t.Fatal("prefix order")
	}
	if ComparePaths([]string{"a", "z"}, []string{"b"}) >= 0 {
		t.Fatal("segment order")
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	for i := 0; i < b.N; i++ {
		buf = AppendString(buf[:0], s)
	}
}
