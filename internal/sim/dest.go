package sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Destination is an HTTP Logpush destination parsed from destination_conf
// (PROTOCOL.md §2.1).
type Destination struct {
	// URL is where uploads go: the destination_conf URL with every header_*
	// query parameter removed and the other parameters kept as written.
	URL string
	// Header holds one header per header_<Name>=<value> parameter (the
	// value URL-decoded).
	Header http.Header
}

// ParseDestination parses an HTTP destination_conf such as
// "https://logs.example.com/cf?header_Authorization=Basic%20abc&tags=a".
// Cloudflare only takes https; the simulator also takes http for local
// tests. Vendor schemes (datadog://, splunk://, s3://...) are not HTTP
// destinations and are refused.
func ParseDestination(conf string) (*Destination, error) {
	u, err := url.Parse(conf)
	if err != nil {
		// url's error quotes the whole conf, header_* secrets included.
		return nil, fmt.Errorf("destination_conf %q: not a valid URL", redactConf(conf))
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("destination_conf %q: not an HTTP destination (scheme must be https)", redactConf(conf))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("destination_conf %q: no host", redactConf(conf))
	}
	d := &Destination{Header: http.Header{}}
	var kept []string
	if u.RawQuery != "" {
		for _, part := range strings.Split(u.RawQuery, "&") {
			rawKey, rawVal, _ := strings.Cut(part, "=")
			key, err := url.QueryUnescape(rawKey)
			if err != nil || !strings.HasPrefix(key, "header_") {
				if part != "" {
					kept = append(kept, part)
				}
				continue
			}
			name := strings.TrimPrefix(key, "header_")
			if !validHeaderName(name) {
				return nil, fmt.Errorf("destination_conf: %q is not a valid header name", name)
			}
			val, err := url.QueryUnescape(rawVal)
			if err != nil {
				return nil, fmt.Errorf("destination_conf: header_%s: %w", name, err)
			}
			d.Header.Add(name, val)
		}
	}
	u.RawQuery = strings.Join(kept, "&")
	u.Fragment, u.RawFragment = "", ""
	d.URL = u.String()
	return d, nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// redactConf hides header values (they usually carry secrets) for error
// messages and logs.
func redactConf(conf string) string {
	base, query, ok := strings.Cut(conf, "?")
	if !ok {
		return conf
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok && strings.HasPrefix(k, "header_") {
			parts[i] = k + "=REDACTED"
		}
	}
	return base + "?" + strings.Join(parts, "&")
}
