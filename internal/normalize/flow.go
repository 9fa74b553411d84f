package normalize

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
)

// Network flows: Elasticsearch's community_id processor and the names of IP
// protocol numbers.

// Flow is what Elasticsearch's community_id processor reads from a
// document: source/destination ip and port, network.iana_number (or
// network.transport), icmp.type and icmp.code. The processor reads an
// absent port, type or code as 0, so callers pass the converted value or 0.
type Flow struct {
	SrcIP, DstIP       string
	SrcPort, DstPort   int64
	IANANumber         string // network.iana_number, "" when absent
	Transport          string // network.transport, "" when absent
	ICMPType, ICMPCode int64
}

// CommunityID computes network.community_id (v1, seed 0) exactly as
// Elasticsearch's community_id processor with ignore_missing (its
// default) and ignore_failure: ok is false where the processor would add
// nothing (a missing or invalid address or protocol, a bad port).
func CommunityID(f *Flow) (string, bool) {
	var buf [40]byte
	b, ok := AppendCommunityID(buf[:0], f)
	return string(b), ok
}

// AppendCommunityID appends the Community ID of f (unquoted) to dst.
func AppendCommunityID(dst []byte, f *Flow) ([]byte, bool) {
	if f.SrcIP == "" || f.DstIP == "" {
		return dst, false
	}
	src, err := netip.ParseAddr(f.SrcIP)
	if err != nil || src.Zone() != "" {
		return dst, false
	}
	dstIP, err := netip.ParseAddr(f.DstIP)
	if err != nil || dstIP.Zone() != "" {
		return dst, false
	}
	src, dstIP = src.Unmap(), dstIP.Unmap() // Java turns ::ffff:a.b.c.d into an Inet4Address
	proto := f.IANANumber
	if proto == "" {
		proto = f.Transport
		if proto == "" {
			return dst, false
		}
	}
	num, ok := transportNumber(proto)
	if !ok {
		return dst, false
	}
	var sp, dp int64
	hasPorts, keepOrder := false, false
	switch num {
	case 6, 17, 132: // tcp, udp, sctp
		hasPorts = true
		sp, dp = int64(int32(f.SrcPort)), int64(int32(f.DstPort)) // Number.intValue()
		if sp < 0 || sp > 65535 || dp < 0 || dp > 65535 {
			return dst, false
		}
	case 1, 58: // icmp, ipv6-icmp: missing or invalid type and code are tolerated (0)
		hasPorts = true
		typ, code := int64(int32(f.ICMPType)), int64(int32(f.ICMPCode))
		eq, twoWay := icmpEquivalent(typ, num == 58)
		sp = typ
		if twoWay {
			dp = eq
		} else {
			dp = code
			keepOrder = true // one-way ICMP keeps its direction
		}
		if sp < 0 || sp > 65535 || dp < 0 || dp > 65535 {
			return dst, false
		}
	}
	if !keepOrder && !flowOrdered(src, dstIP, sp, dp) {
		src, dstIP, sp, dp = dstIP, src, dp, sp
	}
	var in [2 + 16 + 16 + 2 + 4]byte
	b := in[:2] // seed 0
	b = appendAddr(b, src)
	b = appendAddr(b, dstIP)
	b = append(b, byte(num), 0)
	if hasPorts {
		b = binary.BigEndian.AppendUint16(b, uint16(sp))
		b = binary.BigEndian.AppendUint16(b, uint16(dp))
	}
	sum := sha1.Sum(b)
	dst = append(dst, "1:"...)
	return base64.StdEncoding.AppendEncode(dst, sum[:]), true
}

// appendAddr appends the address bytes (4 for IPv4, 16 for IPv6).
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

// setCommunityID writes network.community_id when the flow has one.
func setCommunityID(r *Rec, s SlotRef, f *Flow) {
	b := r.begin()
	b = append(b, '"')
	b, ok := AppendCommunityID(b, f)
	if ok {
		r.commit(s, append(b, '"'))
	}
}

// flowOrdered compares the addresses as unsigned numbers (Java's
// new BigInteger(1, bytes)), then the ports.
func flowOrdered(src, dst netip.Addr, sp, dp int64) bool {
	var a, b [16]byte
	sa, da := appendAddr(a[:0:16], src), appendAddr(b[:0:16], dst)
	// Left-align into 16 bytes as numbers: IPv4 values are the smaller.
	var x, y [16]byte
	copy(x[16-len(sa):], sa)
	copy(y[16-len(da):], da)
	c := bytes.Compare(x[:], y[:])
	return c < 0 || (c == 0 && sp < dp)
}

// transportNumber is Transport.fromObject: a protocol name known to the
// processor, or a number 0..254.
func transportNumber(p string) (int64, bool) {
	switch strings.ToLower(p) {
	case "icmp":
		return 1, true
	case "igmp":
		return 2, true
	case "tcp":
		return 6, true
	case "udp":
		return 17, true
	case "gre":
		return 47, true
	case "ipv6-icmp", "icmpv6":
		return 58, true
	case "eigrp":
		return 88, true
	case "ospf":
		return 89, true
	case "pim":
		return 103, true
	case "sctp":
		return 132, true
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil || n < 0 || n >= 255 {
		return 0, false
	}
	return n, true
}

// icmpEquivalent is the processor's table of two-way ICMP message types.
func icmpEquivalent(t int64, v6 bool) (int64, bool) {
	if v6 {
		switch t {
		case 128:
			return 129, true
		case 129:
			return 128, true
		case 133:
			return 134, true
		case 134:
			return 133, true
		case 135:
			return 136, true
		case 136:
			return 135, true
		case 130:
			return 131, true
		case 139:
			return 140, true
		case 140:
			return 139, true
		case 144:
			return 145, true
		case 145:
			return 144, true
		}
		return 0, false
	}
	switch t {
	case 8:
		return 0, true
	case 0:
		return 8, true
	case 13:
		return 14, true
	case 14:
		return 13, true
	case 15:
		return 16, true
	case 10:
		return 9, true
	case 9:
		return 10, true
	case 17:
		return 18, true
	case 18:
		return 17, true
	}
	return 0, false
}

// ianaTransport names an IP protocol number the way ECS
// network.transport spells it ("" for numbers without a common name).
func ianaTransport(n int64) string {
	switch n {
	case 1:
		return "icmp"
	case 2:
		return "igmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 41:
		return "ipv6"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 58:
		return "ipv6-icmp"
	case 88:
		return "eigrp"
	case 89:
		return "ospf"
	case 103:
		return "pim"
	case 112:
		return "vrrp"
	case 132:
		return "sctp"
	}
	return ""
}

// smallInts holds the decimal strings of 0..255 (protocol numbers).
var smallInts = func() (a [256]string) {
	for i := range a {
		a[i] = strconv.Itoa(i)
	}
	return a
}()
