package normalize

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Cloudflare writes every timestamp field in the job's timestamp_format:
// unixnano (int), unix (int seconds), rfc3339, rfc3339ms, rfc3339ns
// (strings); ints may also arrive as strings, and some fields (the origin's
// Expires / Last-Modified headers) hold RFC 1123 dates. Elastic turns all of
// them into an RFC 3339 UTC string with milliseconds.

// Bounds of a time that fits int64 nanoseconds (years 1678..2262).
const (
	minUnixSec int64 = math.MinInt64/1_000_000_000 + 1
	maxUnixSec int64 = math.MaxInt64/1_000_000_000 - 1
)

// unixByMagnitude converts a unix time in s, ms, µs or ns (told apart by
// magnitude: realistic Cloudflare values are ~1.7e9 s, 1.7e12 ms, 1.7e18 ns)
// to nanoseconds.
func unixByMagnitude(n int64) (ns int64, ok bool) {
	a := n
	if a < 0 {
		if a == math.MinInt64 {
			return n, true
		}
		a = -a
	}
	switch {
	case a < 1e11: // seconds (up to year 5138; int64 ns holds up to 2262)
		if n < minUnixSec || n > maxUnixSec {
			return 0, false
		}
		return n * 1e9, true
	case a < 1e14: // milliseconds
		return n * 1e6, true
	case a < 1e17: // microseconds
		return n * 1e3, true
	default: // nanoseconds
		return n, true
	}
}

// parseTimeValue parses a JSON timestamp value (a number or a string, in
// any form the Timestamp type accepts) to unix nanoseconds. nil: false.
func parseTimeValue(v *fastjson.Value) (int64, bool) {
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		if n, err := v.Int64(); err == nil {
			return unixByMagnitude(n)
		}
		f, err := v.Float64()
		if err != nil {
			return 0, false
		}
		return floatTime(f)
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return parseTimeString(b2s(b))
	}
	return 0, false
}

func parseTimeNumber(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return unixByMagnitude(n)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return floatTime(f)
}

func floatTime(f float64) (int64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 9.2e18 {
		return 0, false
	}
	a := math.Abs(f)
	var scale float64
	switch {
	case a < 1e11:
		scale = 1e9
	case a < 1e14:
		scale = 1e6
	case a < 1e17:
		scale = 1e3
	default:
		scale = 1
	}
	ns := f * scale
	if ns >= 9.2e18 || ns <= -9.2e18 {
		return 0, false
	}
	return int64(ns), true
}

// parseTimeString parses a timestamp held in a string.
func parseTimeString(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if c := s[0]; c == '-' || (c >= '0' && c <= '9') {
		if isDigits(s) || (c == '-' && len(s) > 1 && isDigits(s[1:])) {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, false
			}
			return unixByMagnitude(n)
		}
		if ns, ok := parseISO(s); ok {
			return ns, true
		}
		if looksNumeric(s) {
			return parseTimeNumber(s)
		}
		return 0, false
	}
	// RFC 1123 (HTTP dates), with a zone name or a numeric offset.
	for _, layout := range [...]string{time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			return timeToNS(t)
		}
	}
	return 0, false
}

func timeToNS(t time.Time) (int64, bool) {
	sec := t.Unix()
	if sec < minUnixSec || sec > maxUnixSec {
		return 0, false
	}
	return sec*1e9 + int64(t.Nanosecond()), true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func looksNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return false
		}
	}
	return true
}

// parseISO parses ISO 8601 / RFC 3339 as Elastic's date processor accepts
// it: YYYY-MM-DD, optionally followed by T (or a space) hh:mm[:ss[.frac]]
// and a zone (Z, ±hh, ±hhmm, ±hh:mm). No zone means UTC.
func parseISO(s string) (int64, bool) {
	p := isoParser{s: s}
	year, ok := p.num(4)
	if !ok || !p.lit('-') {
		return 0, false
	}
	month, ok := p.num(2)
	if !ok || !p.lit('-') {
		return 0, false
	}
	day, ok := p.num(2)
	if !ok || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	var hour, min, sec, nsec, offset int
	if p.more() {
		if c := p.s[p.i]; c != 'T' && c != 't' && c != ' ' {
			return 0, false
		}
		p.i++
		if hour, ok = p.num(2); !ok || !p.lit(':') {
			return 0, false
		}
		if min, ok = p.num(2); !ok {
			return 0, false
		}
		if p.lit(':') {
			if sec, ok = p.num(2); !ok {
				return 0, false
			}
			if p.more() && (p.s[p.i] == '.' || p.s[p.i] == ',') {
				p.i++
				start := p.i
				for p.more() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
					if p.i-start < 9 {
						nsec = nsec*10 + int(p.s[p.i]-'0')
					}
					p.i++
				}
				n := p.i - start
				if n == 0 {
					return 0, false
				}
				for ; n < 9; n++ {
					nsec *= 10
				}
			}
		}
		if hour > 23 || min > 59 || sec > 59 {
			return 0, false
		}
		if p.more() {
			switch c := p.s[p.i]; c {
			case 'Z', 'z':
				p.i++
			case '+', '-':
				p.i++
				oh, ok := p.num(2)
				if !ok {
					return 0, false
				}
				om := 0
				if p.lit(':') {
					if om, ok = p.num(2); !ok {
						return 0, false
					}
				} else if p.more() {
					if om, ok = p.num(2); !ok {
						return 0, false
					}
				}
				if oh > 23 || om > 59 {
					return 0, false
				}
				offset = oh*3600 + om*60
				if c == '-' {
					offset = -offset
				}
			default:
				return 0, false
			}
		}
		if p.more() {
			return 0, false
		}
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+min*60+sec) - int64(offset)
	if unix < minUnixSec || unix > maxUnixSec {
		return 0, false
	}
	return unix*1e9 + int64(nsec), true
}

type isoParser struct {
	s string
	i int
}

func (p *isoParser) more() bool { return p.i < len(p.s) }

func (p *isoParser) lit(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *isoParser) num(n int) (int, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	v := 0
	for j := 0; j < n; j++ {
		c := p.s[p.i+j]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

// timeCache remembers the last second formatted: the records of a batch
// are close in time, so most timestamps share it.
type timeCache struct {
	sec    int64
	prefix [20]byte // `"2006-01-02T15:04:05`
	ok     bool
}

// appendTimeMillisCached is appendTimeMillis through c.
func appendTimeMillisCached(c *timeCache, dst []byte, ns int64) []byte {
	sec := ns / 1e9
	rem := ns % 1e9
	if rem < 0 {
		rem += 1e9
		sec--
	}
	if !c.ok || c.sec != sec {
		var tmp [32]byte
		b := appendTimeMillis(tmp[:0], sec*1e9)
		if len(b) != 27 { // `"` + 19 + `.000Z"`
			return appendTimeMillis(dst, ns)
		}
		copy(c.prefix[:], b[:20])
		c.sec, c.ok = sec, true
	}
	ms := int(rem / 1e6)
	dst = append(dst, c.prefix[:]...)
	return append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}

// appendTimeMillis appends ns as "2006-01-02T15:04:05.000Z" (quoted).
func appendTimeMillis(dst []byte, ns int64) []byte {
	sec := ns / 1e9
	rem := ns % 1e9
	if rem < 0 {
		rem += 1e9
		sec--
	}
	days := sec / 86400
	sod := sec % 86400
	if sod < 0 {
		sod += 86400
		days--
	}
	y, m, d := civilFromDays(days)
	ms := int(rem / 1e6)
	dst = append(dst, '"')
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, int(sod/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(sod/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(sod%60))
	dst = append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
	return dst
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func append4(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// floorMillis truncates unix nanoseconds to a whole millisecond (toward
// -inf): the precision of Elastic's date processor output, for durations
// computed from two dates.
func floorMillis(ns int64) int64 {
	ms := ns / 1e6
	if ns%1e6 < 0 {
		ms--
	}
	return ms * 1e6
}
