package normalize

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// Helpers of the "network" datasets (dns_logs, dns_firewall_logs,
// network_analytics_logs, magic_ids_detections, spectrum_events,
// sinkhole_http_logs, ipsec_logs, magic_bgp_logs, mnm_flow_logs): the
// processors their Elastic pipelines use that the engine has no table
// equivalent for. Names start with nw to stay clear of other groups'
// helpers; CommunityID and the DNS code tables are reusable as they are.

// nwLong is Elastic's convert-to-long as the engine's Long type does it
// (an integer number, or a string holding a base-10 integer).
func nwLong(v *fastjson.Value) (int64, bool) {
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		n, err := v.Int64() // integers only: "1.5" and "1e2" fail
		return n, err == nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		n, err := strconv.ParseInt(strings.TrimPrefix(b2s(b), "+"), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// nwBool is Elastic's convert-to-boolean (true/false, or the strings).
func nwBool(v *fastjson.Value) (val, ok bool) {
	if v == nil {
		return false, false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		switch {
		case strings.EqualFold(b2s(b), "true"):
			return true, true
		case strings.EqualFold(b2s(b), "false"):
			return false, true
		}
	}
	return false, false
}

// nwAppendString is Elastic's convert-to-string: numbers and booleans
// become their text ("0", "true"), strings stay, arrays are converted
// element by element (null elements dropped). It appends the encoded JSON
// value to dst; ok is false when nothing is left.
func nwAppendString(dst []byte, v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if len(b) == 0 {
			return dst, false
		}
		return ecsjson.AppendStringBytes(dst, b), true
	case fastjson.TypeTrue:
		return append(dst, `"true"`...), true
	case fastjson.TypeFalse:
		return append(dst, `"false"`...), true
	case fastjson.TypeNumber:
		// The number's text as it came: nothing in it needs escaping.
		start := len(dst)
		dst = append(dst, '"')
		dst = v.MarshalTo(dst)
		if !validFiniteNumber(b2s(dst[start+1:])) {
			return dst[:start], false
		}
		return append(dst, '"'), true
	case fastjson.TypeArray:
		arr, _ := v.Array()
		start := len(dst)
		dst = append(dst, '[')
		n := 0
		for _, e := range arr {
			if e.Type() == fastjson.TypeArray || e.Type() == fastjson.TypeObject {
				continue
			}
			mark := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = nwAppendString(dst, e); !ok {
				dst = dst[:mark]
				continue
			}
			n++
		}
		if n == 0 {
			return dst[:start], false
		}
		return append(dst, ']'), true
	}
	return dst, false
}

// nwSetString writes a field the Elastic pipeline converts to a string.
func nwSetString(r *Rec, s SlotRef, v *fastjson.Value) {
	if v == nil || (s.dup && !r.KeepDuplicates()) {
		return
	}
	b := r.begin()
	if b, ok := nwAppendString(b, v); ok {
		r.commit(s, b)
	}
}

// nwSetKeyword writes a value as a rename keeps it (what a Keyword row
// does), for custom fields a Derive writes.
func nwSetKeyword(r *Rec, s SlotRef, v *fastjson.Value) {
	if v == nil || (s.dup && !r.KeepDuplicates()) {
		return
	}
	if v.Type() == fastjson.TypeString {
		b, _ := v.StringBytes()
		if len(b) > r.n.env.maxField {
			return
		}
		r.SetString(s, b2s(b))
		return
	}
	b := r.begin()
	b, ok := r.appendClean(b, v, 0, true)
	if ok && r.fail == nil {
		r.commit(s, b)
	}
}

// nwCanonicalInt parses s when it is exactly how Painless' String.valueOf
// prints a long (no sign, no leading zero): the form the Elastic scripts
// look up in their code tables.
func nwCanonicalInt(s string) (int64, bool) {
	if s == "" || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// nwRaw is the JSON text of v, for comparing two source values.
func nwRaw(dst []byte, v *fastjson.Value) []byte {
	if v == nil {
		return dst
	}
	return v.MarshalTo(dst)
}

// ---- DNS code tables ----

// DNSQueryType names an IANA DNS RR TYPE (dns.question.type) as the
// Elastic dns and dns_firewall pipelines do; "" when their table has no
// name for it.
func DNSQueryType(t int64) string {
	switch {
	case t >= 0 && t < int64(len(dnsQTypes)):
		return dnsQTypes[t]
	case t == 32768:
		return "TA"
	case t == 32769:
		return "DLV"
	}
	return ""
}

var dnsQTypes = func() [265]string {
	var a [265]string
	for i, n := range []string{"Reserved", "A", "NS", "MD", "MF", "CNAME", "SOA", "MB", "MG", "MR", "NULL", "WKS",
		"PTR", "HINFO", "MINFO", "MX", "TXT", "RP", "AFSDB", "X25", "ISDN", "RT", "NSAP", "NSAP-PTR", "SIG", "KEY",
		"PX", "GPOS", "AAAA", "LOC", "NXT", "EID", "NIMLOC", "SRV", "ATMA", "NAPTR", "KX", "CERT", "A6", "DNAME",
		"SINK", "OPT", "APL", "DS", "SSHFP", "IPSECKEY", "RRSIG", "NSEC", "DNSKEY", "DHCID", "NSEC3", "NSEC3PARAM",
		"TLSA", "SMIMEA", "", "HIP", "NINFO", "RKEY", "TALINK", "CDS", "CDNSKEY", "OPENPGPKEY", "CSYNC", "ZONEMD",
		"SVCB", "HTTPS", "DSYNC", "HHIT", "BRID"} {
		a[i] = n
	}
	for i, n := range []string{"SPF", "UINFO", "UID", "GID", "UNSPEC", "NID", "L32", "L64", "LP", "EUI48", "EUI64"} {
		a[99+i] = n
	}
	a[128] = "NXNAME"
	for i, n := range []string{"TKEY", "TSIG", "IXFR", "AXFR", "MAILB", "MAILA", "ANY", "URI", "CAA", "AVC", "DOA",
		"AMTRELAY", "RESINFO", "WALLET", "CLA", "IPN"} {
		a[249+i] = n
	}
	return a
}()

// DNSResponseCode names an IANA DNS RCODE (dns.response_code) as the
// Elastic dns and dns_firewall pipelines do; "" when unknown to them.
func DNSResponseCode(c int64) string {
	if c >= 0 && c < int64(len(dnsRcodes)) {
		return dnsRcodes[c]
	}
	return ""
}

var dnsRcodes = [...]string{"NoError", "FormErr", "ServFail", "NXDomain", "NotImp", "Refused", "YXDomain",
	"YXRRSet", "NXRRSet", "NotAuth", "NotZone", "DSOTYPENI", "", "", "", "", "BADVERS", "BADKEY", "BADTIME",
	"BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE"}

// ---- Community ID ----

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
	num, ok := nwTransportNumber(proto)
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
	b = nwAppendAddr(b, src)
	b = nwAppendAddr(b, dstIP)
	b = append(b, byte(num), 0)
	if hasPorts {
		b = binary.BigEndian.AppendUint16(b, uint16(sp))
		b = binary.BigEndian.AppendUint16(b, uint16(dp))
	}
	sum := sha1.Sum(b)
	dst = append(dst, "1:"...)
	return base64.StdEncoding.AppendEncode(dst, sum[:]), true
}

// nwAppendAddr appends the address bytes (4 for IPv4, 16 for IPv6).
func nwAppendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

// nwSetCommunityID writes network.community_id when the flow has one.
func nwSetCommunityID(r *Rec, s SlotRef, f *Flow) {
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
	sa, da := nwAppendAddr(a[:0:16], src), nwAppendAddr(b[:0:16], dst)
	// Left-align into 16 bytes as numbers: IPv4 values are the smaller.
	var x, y [16]byte
	copy(x[16-len(sa):], sa)
	copy(y[16-len(da):], da)
	c := bytes.Compare(x[:], y[:])
	return c < 0 || (c == 0 && sp < dp)
}

// nwTransportNumber is Transport.fromObject: a protocol name known to the
// processor, or a number 0..254.
func nwTransportNumber(p string) (int64, bool) {
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

// nwIANATransport names an IP protocol number the way ECS
// network.transport spells it ("" for numbers without a common name).
func nwIANATransport(n int64) string {
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

// ---- small shared pieces ----

// nwSmallInts holds the decimal strings of 0..255 (protocol numbers).
var nwSmallInts = func() (a [256]string) {
	for i := range a {
		a[i] = strconv.Itoa(i)
	}
	return a
}()

// nwIPString is the value of an IP field as Elastic's convert-to-ip keeps
// it: the string, when it is an address.
func nwIPString(r *Rec, f FieldRef) string {
	s, ok := r.String(f)
	if !ok || s == "" || len(s) > 64 {
		return ""
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return ""
	}
	return s
}
