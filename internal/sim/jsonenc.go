package sim

import (
	"strconv"
	"unicode/utf8"
)

// Append-style JSON encoding. Records are written straight into the output
// buffer: no maps, no reflection, no allocation per record.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Only what JSON requires is
// escaped (quote, backslash, control characters); invalid UTF-8 becomes
// U+FFFD, like encoding/json.
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends the JSON escaping of s, without quotes.
func appendEscaped[S ~string | ~[]byte](b []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		var tmp [utf8.UTFMax]byte
		n := copy(tmp[:], s[i:])
		r, size := utf8.DecodeRune(tmp[:n])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

func appendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

func appendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// appendFloat appends v with up to two decimals and no trailing zeros, the
// way Cloudflare writes ratios (2.5, 0, 3.14).
func appendFloat(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, float64(int64(v*100+0.5))/100, 'f', -1, 64)
}

// appendStrings appends a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendInts appends a JSON array of integers.
func appendInts(b []byte, vs []int) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, v)
	}
	return append(b, ']')
}

// appendHex appends v as 2*n lower-case hex digits (the low n bytes).
func appendHex(b []byte, v uint64, n int) []byte {
	for i := 2*n - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(uint(i)*4))&0xf])
	}
	return b
}

// appendUUID appends a version 4 UUID built from two random words.
func appendUUID(b []byte, hi, lo uint64) []byte {
	hi = hi&^0xf000 | 0x4000                  // version 4
	lo = lo&^(0xc<<60) | 0x8<<60              // variant 10
	b = appendHex(b, hi>>32, 4)               // 8
	b = append(b, '-')                        //
	b = appendHex(b, (hi>>16)&0xffff, 2)      // 4
	b = append(b, '-')                        //
	b = appendHex(b, hi&0xffff, 2)            // 4
	b = append(b, '-')                        //
	b = appendHex(b, lo>>48, 2)               // 4
	b = append(b, '-')                        //
	return appendHex(b, lo&0xffffffffffff, 6) // 12
}

// replaceCVE rewrites every "${" in b[from:] to "x{" (output_options
// CVE-2021-44228).
func replaceCVE(b []byte, from int) []byte {
	for i := from; i+1 < len(b); i++ {
		if b[i] == '$' && b[i+1] == '{' {
			b[i] = 'x'
		}
	}
	return b
}
