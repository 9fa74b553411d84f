package search

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Helpers that interpret a value's text the same way in every translator,
// so that one query means the same on every store.

// ParseIP reads an IP address or a CIDR prefix ("10.0.0.0/8",
// "2001:db8::/32"). An address is returned as a full-length prefix; a prefix
// is masked (10.1.2.3/8 means 10.0.0.0/8). IPv4-mapped IPv6 addresses are
// unmapped.
func ParseIP(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() && bits >= 96 {
			a = a.Unmap()
			bits -= 96
		}
		return netip.PrefixFrom(a.WithZone(""), bits).Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), true
}

// ParseInt reads a decimal integer.
func ParseInt(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// ParseFloat reads a finite decimal number (integers included).
func ParseFloat(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, "xXpPnN_") { // no hex, NaN, Inf or Go digit separators
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime reads a time: RFC 3339 (with or without zone; none means UTC,
// 'T' or a space between date and time) or a bare date (midnight UTC).
func ParseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
