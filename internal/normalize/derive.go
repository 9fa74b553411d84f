package normalize

import (
	"strings"
)

// Helpers shared by the datasets' Derive functions. Each mirrors one
// recurring Elastic processor.

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
	if !ok {
		return false
	}
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
	return true
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

// hasNewline: grok's DATA (.*?) does not match line breaks.
func hasNewline(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == '\n' || v[i] == '\r' {
			return true
		}
	}
	return false
}
