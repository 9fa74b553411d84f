package normalize

import (
	"net/netip"
	"strings"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// Helpers shared by the datasets' Derive functions. Each mirrors one
// recurring Elastic processor. The value readers and writers they build on
// are the Rec methods (record.go) and readBool, readLong, stringOf and
// validIP (value.go).

// URLSlots are the ECS url.* fields uri_parts writes.
type URLSlots struct {
	Original, Scheme, Domain, Path, Query, Fragment, Port, Extension, Username, Password, UserInfo SlotRef
}

// BindURL registers the url.* slots.
func BindURL(s *Schema) URLSlots {
	return URLSlots{
		Original:  s.Slot("url.original"),
		Scheme:    s.Slot("url.scheme"),
		Domain:    s.Slot("url.domain"),
		Path:      s.Slot("url.path"),
		Query:     s.Slot("url.query"),
		Fragment:  s.Slot("url.fragment"),
		Port:      s.Slot("url.port"),
		Extension: s.Slot("url.extension"),
		Username:  s.Slot("url.username"),
		Password:  s.Slot("url.password"),
		UserInfo:  s.Slot("url.user_info"),
	}
}

// URIParts runs Elasticsearch's uri_parts processor on raw: when it parses,
// the whole url object is replaced by its parts (and url.original = raw),
// exactly as the processor's setFieldValue("url", parts) does. It reports
// whether raw parsed.
func (u URLSlots) URIParts(r *Rec, raw string) bool {
	p, ok := parseURIParts(raw)
	if ok {
		u.setParts(r, raw, &p)
	}
	return ok
}

// setParts is URIParts with the parts already parsed (by parseURIParts, for
// a caller that needs them too).
func (u URLSlots) setParts(r *Rec, raw string, p *uriParts) {
	for _, sl := range [...]SlotRef{u.Original, u.Scheme, u.Domain, u.Path, u.Query, u.Fragment, u.Port, u.Extension, u.Username, u.Password, u.UserInfo} {
		r.Unset(sl)
	}
	r.SetString(u.Original, raw)
	r.SetString(u.Scheme, p.scheme)
	r.SetString(u.Domain, p.domain)
	r.SetString(u.Path, p.path)
	r.SetString(u.Extension, p.extension)
	if p.port >= 0 {
		r.SetInt(u.Port, int64(p.port))
	}
	if p.hasQuery {
		r.SetString(u.Query, p.query)
	}
	if p.hasFragment {
		r.SetString(u.Fragment, p.fragment)
	}
	if p.hasUserInfo {
		r.SetString(u.UserInfo, p.userInfo)
		if p.hasCredentials {
			r.SetString(u.Username, p.username)
			r.SetString(u.Password, p.password)
		}
	}
}

// uriPartsError is the error.message of a failed uri_parts processor
// (tag: its tag, or the message's prefix).
func uriPartsError(tag, raw string) string {
	return tag + ": unable to parse URI [" + truncate(raw, 64) + "]"
}

// SplitProtocol is grok "^%{DATA:name}/%{DATA:version}$" on a protocol
// string such as "HTTP/1.1": name "HTTP" (Elastic then lowercases it: use
// SetLower), version "1.1".
func SplitProtocol(v string) (name, version string, ok bool) {
	i := strings.IndexByte(v, '/')
	if i < 0 || hasNewline(v) {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}

// SplitTLS is grok "^%{DATA:tls.version_protocol}v%{DATA:tls.version}$" on
// an SSL protocol such as "TLSv1.3": protocol "TLS" (lowercased by Elastic:
// use SetLower), version "1.3".
func SplitTLS(v string) (protocol, version string, ok bool) {
	i := strings.IndexByte(v, 'v')
	if i < 0 || hasNewline(v) {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}

// splitTLSVersion is the grok of the newer pipelines on a TLS version:
// "%{DATA:proto}v%{GREEDYDATA:version}" then "%{DATA:proto}
// %{GREEDYDATA:version}" ("TLSv1.3" and "TLS 1.3" both give TLS / 1.3).
func splitTLSVersion(v string) (protocol, version string, ok bool) {
	if p, ver, ok := SplitTLS(v); ok {
		return p, ver, true
	}
	if i := strings.IndexByte(v, ' '); i >= 0 && !hasNewline(v) {
		return v[:i], v[i+1:], true
	}
	return "", "", false
}

// splitHostPort splits an address that may carry a port ("192.0.2.1:22",
// "[2001:db8::1]:22", "2001:db8::1", "host:22") into an IP (when it is
// one), a host and a port (-1: none).
func splitHostPort(addr string) (ip netip.Addr, host string, port int) {
	if a, err := netip.ParseAddr(addr); err == nil {
		return a, addr, -1
	}
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 {
		return netip.Addr{}, addr, -1
	}
	p, ok := parsePort(addr[i+1:])
	if !ok {
		return netip.Addr{}, addr, -1
	}
	h := addr[:i]
	if len(h) > 2 && h[0] == '[' && h[len(h)-1] == ']' {
		if a, err := netip.ParseAddr(h[1 : len(h)-1]); err == nil && a.Is6() {
			return a, h[1 : len(h)-1], p
		}
		return netip.Addr{}, addr, -1
	}
	if strings.IndexByte(h, ':') >= 0 { // an IPv6 address needs brackets before a port
		return netip.Addr{}, addr, -1
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a, h, p
	}
	return netip.Addr{}, h, p
}

// parsePort parses a decimal port number, 0 to 65535.
func parsePort(s string) (int, bool) {
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

// hasNewline: grok's DATA (.*?) does not match line breaks.
func hasNewline(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == '\n' || v[i] == '\r' {
			return true
		}
	}
	return false
}

// eventSpan writes ECS event.start, event.end and event.duration (ns, end
// minus start when not negative) from two timestamp fields, either of which
// may be missing.
type eventSpan struct {
	startF, endF         FieldRef
	start, end, duration SlotRef
}

func bindEventSpan(s *Schema, start, end string) eventSpan {
	return eventSpan{
		startF: s.Field(start), endF: s.Field(end),
		start: s.Slot("event.start"), end: s.Slot("event.end"), duration: s.Slot("event.duration"),
	}
}

// apply writes the span; altStart / altEnd (-1: none) are the same times
// under other names (the account-scope spelling of a dataset).
func (sp eventSpan) apply(r *Rec, altStart, altEnd FieldRef) {
	st, okS := parseTimeValue(r.Value(sp.startF))
	if !okS && altStart >= 0 {
		st, okS = parseTimeValue(r.Value(altStart))
	}
	en, okE := parseTimeValue(r.Value(sp.endF))
	if !okE && altEnd >= 0 {
		en, okE = parseTimeValue(r.Value(altEnd))
	}
	if okS {
		r.SetTime(sp.start, st)
	}
	if okE {
		r.SetTime(sp.end, en)
	}
	if okS && okE && en >= st {
		r.SetInt(sp.duration, en-st)
	}
}

// setStrings writes a list of strings, e.g. event.type ["info", "denied"]
// (Elastic's set of a list, then append).
func setStrings(r *Rec, s SlotRef, vals ...string) {
	b := append(r.scratch[:0], '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = ecsjson.AppendString(b, v)
	}
	b = append(b, ']')
	r.scratch = b
	r.SetRaw(s, b)
}

// hostOSTypes are the ECS host.os.type values, in the order Elastic's DEX
// pipelines try them.
var hostOSTypes = [...]string{"linux", "macos", "unix", "windows", "ios", "android"}

// bindHostOSType returns the per-record function of Elastic's
// script_map_host_os_type: host.os.type is the first ECS OS type that
// contains the (lowercased) platform name or is contained in it ("mac" →
// macos). An empty platform gets no type (Elastic's script would match
// "linux", because every string contains "").
func bindHostOSType(s *Schema, src string) func(r *Rec) {
	platform := s.Field(src)
	osType := s.Slot("host.os.type")
	return func(r *Rec) {
		p, ok := r.String(platform)
		if !ok || p == "" {
			return
		}
		p = lowerNoAlloc(p)
		for _, t := range hostOSTypes {
			if strings.Contains(p, t) || strings.Contains(t, p) {
				r.SetString(osType, t)
				return
			}
		}
	}
}

// lowerNoAlloc lowercases s, allocating only when it has upper case letters.
func lowerNoAlloc(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
