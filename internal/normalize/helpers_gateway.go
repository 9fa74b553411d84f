package normalize

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// Helpers of the "gateway" group of datasets (gateway_dns, gateway_http,
// gateway_network, zero_trust_network_sessions, access_requests, ssh_logs,
// biso_user_actions, mcp_portal_logs) for what a mapping row cannot say.
// They only use the Rec API plus two package internals (slot ranges, the
// cleaning encoder), so the engine itself needs no change.

// gwStrConv is one field that Elastic converts with `convert type: string`
// (Cloudflare's integer ids, e.g. ApplicationID 0 -> "0", [7,163] ->
// ["7","163"]): the engine's Types have no string conversion.
type gwStrConv struct {
	f    FieldRef
	slot SlotRef
}

// gwBindStrings binds src -> custom path pairs of string conversions. The
// source rows must exist in the table (without Custom of their own).
func gwBindStrings(s *Schema, pairs ...[2]string) []gwStrConv {
	out := make([]gwStrConv, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, gwStrConv{f: s.Field(p[0]), slot: s.Custom(p[1], false)})
	}
	return out
}

// gwApplyStrings writes the string conversions of one record.
func gwApplyStrings(r *Rec, convs []gwStrConv) {
	for i := range convs {
		c := &convs[i]
		if v := r.Value(c.f); v != nil {
			gwSetStringValue(r, c.slot, v)
		}
	}
}

// gwSetStringValue writes v converted like Elastic's convert to string:
// numbers keep their text, booleans become "true"/"false", strings stay,
// arrays are converted element by element (null and "" elements dropped, as
// the final cleanup does). Objects are kept as they are (Elastic would
// write Java's Map.toString, which nobody wants).
func gwSetStringValue(r *Rec, slot SlotRef, v *fastjson.Value) {
	b := r.scratch[:0]
	switch v.Type() {
	case fastjson.TypeArray:
		arr, _ := v.Array()
		b = append(b, '[')
		n := 0
		for _, e := range arr {
			mark := len(b)
			if n > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = gwAppendScalarString(r, b, e); !ok {
				b = b[:mark]
				continue
			}
			n++
		}
		if n == 0 {
			r.scratch = b
			return
		}
		b = append(b, ']')
	case fastjson.TypeObject:
		var ok bool
		if b, ok = r.appendClean(b, v, 0, true); !ok {
			r.scratch = b
			return
		}
	default:
		var ok bool
		if b, ok = gwAppendScalarString(r, b, v); !ok {
			r.scratch = b
			return
		}
	}
	r.scratch = b
	r.SetRaw(slot, b)
}

func gwAppendScalarString(r *Rec, b []byte, v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		sb, _ := v.StringBytes()
		if len(sb) == 0 || (r.s.ds.DropNA && string(sb) == "N/A") {
			return b, false
		}
		return ecsjson.AppendStringBytes(b, sb), true
	case fastjson.TypeNumber:
		off := len(b)
		b = append(b, '"')
		b = v.MarshalTo(b)
		if !validFiniteNumber(b2s(b[off+1:])) {
			return b[:off], false
		}
		return append(b, '"'), true
	case fastjson.TypeTrue:
		return append(b, `"true"`...), true
	case fastjson.TypeFalse:
		return append(b, `"false"`...), true
	case fastjson.TypeArray, fastjson.TypeObject:
		return r.appendClean(b, v, 1, false)
	}
	return b, false
}

// gwCopySlot is Elastic's `set to copy_from from`: to gets the value from
// holds (nothing when from is empty, or when to is a duplicate custom field
// and those are not kept).
func gwCopySlot(r *Rec, from, to SlotRef) {
	if !r.IsSet(from) || (to.dup && !r.keepDup) {
		return
	}
	sv := r.slots[from.id]
	r.assign(to, int(sv.off), int(sv.end))
}

// gwRelatedEach appends every string element of an array (or a lone
// string) to a related.* list; for RelatedIP only valid addresses, as
// Elastic's foreach runs over the list the ip conversion produced.
func gwRelatedEach(r *Rec, kind Related, v *fastjson.Value) {
	if v == nil {
		return
	}
	add := func(e *fastjson.Value) {
		if e.Type() != fastjson.TypeString {
			return
		}
		sb, _ := e.StringBytes()
		s := b2s(sb)
		if s == "" {
			return
		}
		if kind == RelatedIP {
			if _, err := netip.ParseAddr(s); err != nil {
				return
			}
		}
		r.AddRelated(kind, s)
	}
	if v.Type() == fastjson.TypeArray {
		arr, _ := v.Array()
		for _, e := range arr {
			add(e)
		}
		return
	}
	add(v)
}

// gwEventType writes event.type as ["info", extra] (Elastic's set [info]
// then append allowed / denied).
func gwEventType(r *Rec, slot SlotRef, first, extra string) {
	b := append(r.scratch[:0], '[')
	b = ecsjson.AppendString(b, first)
	b = append(b, ',')
	b = ecsjson.AppendString(b, extra)
	b = append(b, ']')
	r.scratch = b
	r.SetRaw(slot, b)
}

// gwSplitTLSVersion is the grok of the newer network_session pipeline on a
// TLS version: "%{DATA:proto}v%{GREEDYDATA:version}" then "%{DATA:proto}
// %{GREEDYDATA:version}" ("TLSv1.3" and "TLS 1.3" both give tls / 1.3).
func gwSplitTLSVersion(v string) (proto, version string, ok bool) {
	if hasNewline(v) {
		return "", "", false
	}
	if p, ver, ok := SplitTLS(v); ok {
		return p, ver, true
	}
	if i := strings.IndexByte(v, ' '); i >= 0 {
		return v[:i], v[i+1:], true
	}
	return "", "", false
}

// gwSplitHostPort splits an address that may carry a port ("192.0.2.1:22",
// "[2001:db8::1]:22", "2001:db8::1", "host:22") into an IP (when it is
// one), a host and a port (-1: none).
func gwSplitHostPort(addr string) (ip netip.Addr, host string, port int) {
	port = -1
	if a, err := netip.ParseAddr(addr); err == nil {
		return a, addr, -1
	}
	host = addr
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 {
		return netip.Addr{}, host, -1
	}
	p, ok := gwPort(addr[i+1:])
	if !ok {
		return netip.Addr{}, host, -1
	}
	h := addr[:i]
	if len(h) > 2 && h[0] == '[' && h[len(h)-1] == ']' {
		if a, err := netip.ParseAddr(h[1 : len(h)-1]); err == nil && a.Is6() {
			return a, h[1 : len(h)-1], p
		}
		return netip.Addr{}, host, -1
	}
	if strings.IndexByte(h, ':') >= 0 { // an IPv6 address needs brackets before a port
		return netip.Addr{}, host, -1
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a, h, p
	}
	return netip.Addr{}, h, p
}

func gwPort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= 65535
}

// gwFloorMillis truncates unix nanoseconds to whole milliseconds (the
// precision of Elastic's date processor output).
func gwFloorMillis(ns int64) int64 {
	ms := ns / 1e6
	if ns%1e6 < 0 {
		ms--
	}
	return ms * 1e6
}

// gwIsString reports whether v is the JSON string s.
func gwIsString(v *fastjson.Value, s string) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	b, _ := v.StringBytes()
	return string(b) == s
}

// gwBool reads a boolean like Elastic's convert to boolean: true / false,
// or the strings "true" / "false" in any case.
func gwBool(v *fastjson.Value) (val, ok bool) {
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

// gwInt reads an integer (a JSON number or a string holding one).
func gwInt(v *fastjson.Value) (int64, bool) {
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		n, err := v.Int64()
		return n, err == nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		n, err := strconv.ParseInt(strings.TrimPrefix(b2s(b), "+"), 10, 64)
		return n, err == nil
	}
	return 0, false
}
