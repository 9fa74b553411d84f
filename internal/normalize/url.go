package normalize

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// uriParts is what Elasticsearch's uri_parts processor extracts.
type uriParts struct {
	domain, fragment, path, query, scheme, userInfo, username, password, extension string
	hasFragment, hasQuery, hasUserInfo, hasCredentials                             bool
	port                                                                           int // -1: none
}

// parseURIParts mimics Elasticsearch's uri_parts processor, which parses
// with java.net.URI (components percent-decoded; a host that is not a valid
// host name gives no domain) and falls back to the lenient java.net.URL
// (raw components, http/https/ftp/file only) when URI rejects the string.
func parseURIParts(s string) (uriParts, bool) {
	if javaURIChars(s) {
		if p, ok := parseStrictURI(s); ok {
			return p, true
		}
	}
	return parseLenientURL(s)
}

// splitURI cuts s into scheme, authority (hasAuth), path, query, fragment.
func splitURI(s string) (scheme string, hasScheme bool, auth string, hasAuth bool, path, query string, hasQuery bool, frag string, hasFrag bool) {
	rest := s
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		frag, hasFrag = rest[i+1:], true
		rest = rest[:i]
	}
	if i := schemeEnd(rest); i > 0 {
		scheme, hasScheme = rest[:i], true
		rest = rest[i+1:]
	}
	if len(rest) >= 2 && rest[0] == '/' && rest[1] == '/' {
		rest = rest[2:]
		i := 0
		for i < len(rest) && rest[i] != '/' && rest[i] != '?' {
			i++
		}
		auth, hasAuth = rest[:i], true
		rest = rest[i:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		query, hasQuery = rest[i+1:], true
		rest = rest[:i]
	}
	path = rest
	return
}

// schemeEnd returns the index of the ':' ending a scheme, or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.':
			if i == 0 {
				return -1
			}
		case c == ':':
			if i == 0 {
				return -1
			}
			return i
		default:
			return -1
		}
	}
	return -1
}

// javaURIChars reports whether every character is one java.net.URI accepts
// where it stands: no spaces, controls, or "<>\"{}|\\^`", percent signs
// followed by two hex digits, '[' ']' only in the authority, query and
// fragment, at most one '#'.
func javaURIChars(s string) bool {
	hashes := 0
	inPath := true // before '?' / '#': path and authority
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
				return false
			}
			i += size
			continue
		}
		switch {
		case c <= ' ' || c == 0x7f, c == '"', c == '<', c == '>', c == '\\', c == '^', c == '`', c == '{', c == '|', c == '}':
			return false
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		case c == '#':
			hashes++
			if hashes > 1 {
				return false
			}
			inPath = false
		case c == '?':
			inPath = false
		case c == '[' || c == ']':
			if inPath && !bracketInAuthority(s, i) {
				return false
			}
		}
		i++
	}
	return true
}

func bracketInAuthority(s string, i int) bool {
	j := strings.Index(s, "//")
	if j < 0 || i < j {
		return false
	}
	end := strings.IndexAny(s[j+2:], "/?#")
	return end < 0 || i < j+2+end
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func parseStrictURI(s string) (uriParts, bool) {
	scheme, _, auth, hasAuth, path, query, hasQuery, frag, hasFrag := splitURI(s)
	p := uriParts{port: -1, scheme: scheme}
	if scheme != "" && !hasAuth && !strings.HasPrefix(path, "/") {
		// Opaque URI (mailto:x, host:port): no path, host or query.
		p.hasFragment, p.fragment = hasFrag, decodeJava(frag)
		return p, true
	}
	if hasAuth && auth != "" {
		host, port, userInfo, hasUser, ok := splitAuthority(auth)
		if ok && (validJavaHost(host) || isIPv4(host)) && (port == "" || allDigits(port)) {
			p.domain = host
			if port != "" {
				n, err := strconv.Atoi(port)
				if err != nil {
					return p, false
				}
				p.port = n
			}
			if hasUser {
				p.hasUserInfo, p.userInfo = true, decodeJava(userInfo)
			}
		}
	}
	p.path = decodeJava(path)
	if hasQuery {
		p.hasQuery, p.query = true, decodeJava(query)
	}
	if hasFrag {
		p.hasFragment, p.fragment = true, decodeJava(frag)
	}
	p.finish()
	return p, true
}

// parseLenientURL is the java.net.URL fallback: raw components, and only
// the protocols Java knows out of the box.
func parseLenientURL(s string) (uriParts, bool) {
	scheme, hasScheme, auth, hasAuth, path, query, hasQuery, frag, hasFrag := splitURI(s)
	switch strings.ToLower(scheme) {
	case "http", "https", "ftp", "file", "jar":
	default:
		return uriParts{}, false
	}
	if !hasScheme {
		return uriParts{}, false
	}
	p := uriParts{port: -1, scheme: scheme}
	if hasAuth {
		host, port, userInfo, hasUser, _ := splitAuthority(auth)
		p.domain = host
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 0 {
				return uriParts{}, false
			}
			p.port = n
		}
		if hasUser {
			p.hasUserInfo, p.userInfo = true, userInfo
		}
	}
	p.path = path
	if hasQuery {
		p.hasQuery, p.query = true, query
	}
	if hasFrag {
		p.hasFragment, p.fragment = true, frag
	}
	p.finish()
	return p, true
}

func (p *uriParts) finish() {
	if i := strings.LastIndexByte(p.path, '/'); i >= 0 {
		last := p.path[i:]
		if j := strings.LastIndexByte(last, '.'); j >= 0 {
			p.extension = last[j+1:]
		}
	}
	if p.hasUserInfo {
		if i := strings.IndexByte(p.userInfo, ':'); i >= 0 {
			p.hasCredentials = true
			p.username, p.password = p.userInfo[:i], p.userInfo[i+1:]
		}
	}
}

func splitAuthority(auth string) (host, port, userInfo string, hasUser, ok bool) {
	if i := strings.LastIndexByte(auth, '@'); i >= 0 {
		userInfo, hasUser = auth[:i], true
		auth = auth[i+1:]
	}
	if strings.HasPrefix(auth, "[") {
		j := strings.IndexByte(auth, ']')
		if j < 0 {
			return "", "", "", false, false
		}
		host = auth[:j+1]
		rest := auth[j+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", "", "", false, false
			}
			port = rest[1:]
		}
		return host, port, userInfo, hasUser, true
	}
	if i := strings.LastIndexByte(auth, ':'); i >= 0 {
		host, port = auth[:i], auth[i+1:]
	} else {
		host = auth
	}
	return host, port, userInfo, hasUser, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validJavaHost: an IPv6 literal, an IPv4 address, or an RFC 2396 host name
// (labels of letters, digits and inner hyphens; the last label starts with
// a letter; one trailing dot allowed).
func validJavaHost(h string) bool {
	if h == "" {
		return false
	}
	if h[0] == '[' {
		return h[len(h)-1] == ']'
	}
	h = strings.TrimSuffix(h, ".")
	for h != "" {
		l := h
		i := strings.IndexByte(h, '.')
		if i >= 0 {
			l, h = h[:i], h[i+1:]
			if h == "" {
				return false
			}
		} else {
			h = ""
		}
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
		if i < 0 && !(l[0] >= 'a' && l[0] <= 'z' || l[0] >= 'A' && l[0] <= 'Z') {
			// The last label starts with a digit: only an IPv4 address qualifies.
			return false
		}
	}
	return true
}

func isIPv4(s string) bool {
	for n := 0; n < 4; n++ {
		p := s
		if i := strings.IndexByte(s, '.'); i >= 0 && n < 3 {
			p, s = s[:i], s[i+1:]
		} else if n < 3 {
			return false
		} else {
			s = ""
		}
		if p == "" || len(p) > 3 || !allDigits(p) {
			return false
		}
		if v, _ := strconv.Atoi(p); v > 255 {
			return false
		}
	}
	return s == ""
}

// decodeJava percent-decodes like java.net.URI's getters (no '+' to space).
func decodeJava(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}
