package cfclient

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/flarehose/flarehose/internal/objstore"
)

// DefaultSecretHeader is the header the flarehose receiver reads its shared
// secret from (sources[].secret_header).
const DefaultSecretHeader = "X-Flarehose-Secret"

// DefaultPathPrefix is the receiver's default path_prefix: uploads go to
// <prefix><dataset>.
const DefaultPathPrefix = "/logpush/"

// HTTPDestination builds the destination_conf of an HTTP job that delivers
// dataset to a flarehose receiver at base (PROTOCOL.md §2.1):
//
//	<base>/logpush/<dataset>?header_<header>=<url-encoded secret>
//
// The path of base decides where the dataset goes: none (or "/") means the
// receiver's default prefix, /logpush/<dataset>; a path ending in the
// dataset's name is used as given; any other path is taken as the
// receiver's path_prefix and gets /<dataset> appended. Query parameters of
// base are kept (Cloudflare sends them on); a header_<header> parameter in
// base is replaced. An empty secret adds no header.
func HTTPDestination(base, dataset, header, secret string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return "", fmt.Errorf("--url %q: %v", MaskDestination(base), err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("--url %q: want https://host[:port][/path]", MaskDestination(base))
	}
	if u.User != nil {
		return "", fmt.Errorf("--url: Cloudflare does not send URL user info; give the secret with --secret (a header) instead")
	}
	if u.Fragment != "" {
		return "", fmt.Errorf("--url: a #fragment is not sent")
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	switch {
	case path == "":
		path = strings.TrimRight(DefaultPathPrefix, "/") + "/" + url.PathEscape(dataset)
	case lastSegment(path) == dataset:
	default:
		path += "/" + url.PathEscape(dataset)
	}
	conf := u.Scheme + "://" + u.Host + path
	if header == "" {
		header = DefaultSecretHeader
	}
	if !validHeaderName(header) {
		return "", fmt.Errorf("--secret-header %q is not a valid HTTP header name", header)
	}
	query := dropParam(u.RawQuery, "header_"+header)
	if secret != "" {
		if query != "" {
			query += "&"
		}
		query += "header_" + header + "=" + EncodeHeaderValue(secret)
	}
	if query != "" {
		conf += "?" + query
	}
	return conf, nil
}

// SetHeaderParam replaces (or adds) the header_<header> parameter of an
// HTTP destination_conf, leaving the rest as written: how a secret is
// rotated.
func SetHeaderParam(conf, header, value string) (string, error) {
	if !validHeaderName(header) {
		return "", fmt.Errorf("%q is not a valid HTTP header name", header)
	}
	base, query, _ := strings.Cut(conf, "?")
	query = dropParam(query, "header_"+header)
	if query != "" {
		query += "&"
	}
	return base + "?" + query + "header_" + header + "=" + EncodeHeaderValue(value), nil
}

// HeaderParam returns the decoded value of a destination_conf's
// header_<header> parameter (header matched case-insensitively).
func HeaderParam(conf, header string) (string, bool) {
	_, query, _ := strings.Cut(conf, "?")
	for _, p := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil && strings.EqualFold(dk, "header_"+header) {
			dv, err := url.QueryUnescape(v)
			if err != nil {
				dv = v
			}
			return dv, true
		}
	}
	return "", false
}

// HeaderParams returns the header names of a destination_conf's header_*
// parameters, in order.
func HeaderParams(conf string) []string {
	_, query, _ := strings.Cut(conf, "?")
	var names []string
	for _, p := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil && len(dk) > len("header_") && strings.EqualFold(dk[:7], "header_") {
			names = append(names, dk[7:])
		}
	}
	return names
}

// EncodeHeaderValue URL-encodes a header_* value the way Cloudflare asks:
// every special character escaped, a space as %20 (not +).
func EncodeHeaderValue(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// dropParam removes every name=... parameter (name compared after
// unescaping, case-insensitively) from a raw query.
func dropParam(query, name string) string {
	if query == "" {
		return ""
	}
	var kept []string
	for _, p := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil && strings.EqualFold(dk, name) || p == "" {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

func lastSegment(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[i+1:]
	}
	return path
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

// ObjectDestination is an object storage destination_conf (PROTOCOL.md
// §3.1): s3://, r2://, gs://, azure:// or sumo://.
type ObjectDestination struct {
	Conf   string     // as given
	Scheme string     // s3, r2, gs, azure, sumo
	Bucket string     // bucket or container (the host for sumo)
	Path   string     // key prefix without leading or trailing "/"; may hold {DATE}
	Query  url.Values // region, endpoint, access-key-id, SAS parameters...
}

// ObjectSchemes are the object storage schemes Logpush writes to.
var ObjectSchemes = []string{"s3", "r2", "gs", "azure", "sumo"}

// ParseObjectDestination parses an object storage destination_conf.
func ParseObjectDestination(conf string) (*ObjectDestination, error) {
	u, err := url.Parse(conf)
	if err != nil {
		return nil, fmt.Errorf("destination %q: %v", MaskDestination(conf), err)
	}
	known := false
	for _, s := range ObjectSchemes {
		known = known || u.Scheme == s
	}
	if !known {
		return nil, fmt.Errorf("destination %q: not an object storage destination (want %s)", MaskDestination(conf), strings.Join(ObjectSchemes, "://, ")+"://")
	}
	if u.Host == "" {
		return nil, fmt.Errorf("destination %q: no bucket", MaskDestination(conf))
	}
	if u.Scheme != "sumo" {
		// The bucket and path as the simulator and the object stores read
		// them (azure://<account host>/<container>/<dir> included).
		cfg, err := objstore.FromDestination(conf)
		if err != nil {
			return nil, fmt.Errorf("destination %q: %v", MaskDestination(conf), err)
		}
		return &ObjectDestination{Conf: conf, Scheme: u.Scheme, Bucket: cfg.Bucket, Path: cfg.Prefix, Query: u.Query()}, nil
	}
	p := strings.Trim(u.Path, "/")
	if u.RawPath != "" {
		p = strings.Trim(u.RawPath, "/")
	}
	return &ObjectDestination{Conf: conf, Scheme: u.Scheme, Bucket: u.Host, Path: p, Query: u.Query()}, nil
}

// NeedsOwnership reports whether Cloudflare asks for an ownership
// challenge (PROTOCOL.md §3.3): AWS S3 without embedded keys, GCS, Azure
// and Sumo Logic; not S3-compatible endpoints (keys in the URL) or R2.
func (d *ObjectDestination) NeedsOwnership() bool {
	switch d.Scheme {
	case "gs", "azure", "sumo":
		return true
	case "s3":
		return d.Query.Get("access-key-id") == ""
	}
	return false
}
