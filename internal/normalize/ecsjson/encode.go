// Package ecsjson is the append-style JSON encoder of the normalize stage.
//
// It never builds maps and never reflects: callers append strings, numbers
// and pre-encoded values to a byte slice, and Nester turns a stream of
// (path, value) pairs sorted by path into nested JSON objects. Every function
// produces valid JSON for any input: invalid UTF-8 becomes U+FFFD, control
// characters are escaped, and non-finite floats are refused.
package ecsjson

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

const hex = "0123456789abcdef"

// safe[b] is true for ASCII bytes that need no escaping inside a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for i := 0x20; i < utf8.RuneSelf; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// AppendString appends s as a quoted JSON string. Invalid UTF-8 bytes are
// replaced by U+FFFD so the output is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// AppendStringBytes is AppendString for a byte slice.
func AppendStringBytes(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = appendEscapedBytes(dst, b)
	return append(dst, '"')
}

// NeedsEscape reports whether b holds a byte AppendStringBytes would change
// or escape (a control character, '"', '\\' or non-ASCII).
func NeedsEscape(b []byte) bool {
	i := 0
	for i+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[i:])) {
		i += 8
	}
	for ; i < len(b); i++ {
		if c := b[i]; c >= utf8.RuneSelf || !safe[c] {
			return true
		}
	}
	return false
}

// AppendKey appends "s": (a quoted object key and its colon).
func AppendKey(dst []byte, s string) []byte {
	dst = AppendString(dst, s)
	return append(dst, ':')
}

// Word-at-a-time scanning: a word needs a closer look when one of its bytes
// is a control character, '"', '\\' or non-ASCII.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

func special(x uint64) bool {
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	return ((x-lsb*0x20)&^x|(q-lsb)&^q|(bs-lsb)&^bs|x)&msb != 0
}

func appendEscaped(dst []byte, s string) []byte {
	return appendEscapedBytes(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
}

func appendEscapedBytes(dst []byte, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && !special(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscapedASCII(dst, b)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

func appendEscapedASCII(dst []byte, b byte) []byte {
	switch b {
	case '"', '\\':
		return append(dst, '\\', b)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
}

// AppendInt appends n as a JSON number.
func AppendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// AppendFloat appends f as a JSON number. ok is false (and dst unchanged)
// for NaN and infinities, which JSON cannot represent.
func AppendFloat(dst []byte, f float64) (_ []byte, ok bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		// Integral values keep a ".0" so the type stays visibly fractional.
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		return append(dst, '.', '0'), true
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64), true
}

// AppendBool appends true or false.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// ValidNumber reports whether s is a number in strict JSON syntax
// (no NaN, Infinity, leading '+', leading zeros, or bare '.').
func ValidNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	switch {
	case s[i] == '0':
		i++
	case s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

// IsInteger reports whether s is a strict JSON number without fraction or
// exponent (an integer literal).
func IsInteger(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		return i+1 == len(s)
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
