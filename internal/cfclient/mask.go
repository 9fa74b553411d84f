package cfclient

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Mask is what replaces a secret in printed output.
const Mask = "***"

// MaskDestination hides the secrets a destination_conf can carry, leaving
// the rest as written: the values of header_* parameters (the shared
// secret, Authorization), of parameters whose name says key, secret, token,
// signature or password (secret-access-key, Azure's sig, New Relic's
// Api-Key; not access-key-id, an identifier), the password of URL userinfo,
// and a Sumo Logic collector code (the last path segment of sumo://).
func MaskDestination(conf string) string {
	base, query, hasQuery := strings.Cut(conf, "?")
	if scheme, rest, ok := strings.Cut(base, "://"); ok {
		host, path, _ := strings.Cut(rest, "/")
		if at := strings.LastIndex(host, "@"); at >= 0 {
			if user, _, ok := strings.Cut(host[:at], ":"); ok {
				host = user + ":" + Mask + host[at:]
			}
		}
		if strings.EqualFold(scheme, "sumo") && path != "" {
			segs := strings.Split(path, "/")
			if last := len(segs) - 1; segs[last] != "" {
				segs[last] = Mask
			}
			path = strings.Join(segs, "/")
		}
		base = scheme + "://" + host
		if path != "" || strings.Contains(rest, "/") {
			base += "/" + path
		}
	}
	if !hasQuery {
		return base
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, _, hasVal := strings.Cut(p, "=")
		if hasVal && secretParam(k) {
			parts[i] = k + "=" + Mask
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

// secretParam reports whether a destination_conf query parameter holds a
// secret.
func secretParam(raw string) bool {
	k, err := url.QueryUnescape(raw)
	if err != nil {
		k = raw
	}
	k = strings.ToLower(k)
	if strings.HasPrefix(k, "header_") {
		return true
	}
	if k == "access-key-id" || k == "account-id" {
		return false
	}
	for _, s := range []string{"secret", "key", "token", "password", "passwd", "sig", "auth", "credential"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// MaskJSON masks the secrets of a decoded JSON value in place (maps and
// slices are walked): destination_conf values through MaskDestination,
// ownership_challenge values entirely. It returns v.
func MaskJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			switch s, isString := e.(string); {
			case k == "destination_conf" && isString:
				t[k] = MaskDestination(s)
			case k == "ownership_challenge" && isString && s != "":
				t[k] = Mask
			default:
				t[k] = MaskJSON(e)
			}
		}
	case []any:
		for i, e := range t {
			t[i] = MaskJSON(e)
		}
	}
	return v
}

// Redactor scrubs known secret values (and their URL-encoded forms) from
// text: the last line of defence behind the structural masking, for error
// messages that quote a request and anything else printed. Secrets shorter
// than 4 characters are not scrubbed (they would mangle ordinary text).
// It is safe for concurrent use.
type Redactor struct {
	mu      sync.Mutex
	secrets []string // longest first
}

// NewRedactor returns a Redactor for secrets (empty ones are ignored).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers more secrets.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), strings.ReplaceAll(url.QueryEscape(s), "+", "%20")} {
			if !contains(r.secrets, form) {
				r.secrets = append(r.secrets, form)
			}
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// inlineSecretRe finds destination_conf secrets quoted inside free text
// (an error_message that repeats a URL): header_*, secret-access-key, sig
// and Api-Key parameter values.
var inlineSecretRe = regexp.MustCompile(`(?i)\b(header_[!#$%&'*+.^_|~0-9a-z-]+|secret-access-key|sig|api-key)=([^&\s"'<>)]+)`)

// Scrub replaces every registered secret in s with Mask, and the values of
// secret destination_conf parameters quoted in s (even unregistered ones).
// A nil Redactor only does the latter.
func (r *Redactor) Scrub(s string) string {
	if r != nil {
		r.mu.Lock()
		for _, sec := range r.secrets {
			if strings.Contains(s, sec) {
				s = strings.ReplaceAll(s, sec, Mask)
			}
		}
		r.mu.Unlock()
	}
	if strings.Contains(s, "=") {
		s = inlineSecretRe.ReplaceAllString(s, "${1}="+Mask)
	}
	return s
}
