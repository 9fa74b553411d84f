package elasticsearch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"
)

// Client is a minimal HTTP client for an Elasticsearch or OpenSearch
// cluster: round robin over the configured URLs with failover, one
// authentication scheme, TLS, gzip request bodies. The search engine
// (internal/search/esquery) uses it too.
type Client struct {
	urls    []*url.URL
	next    atomic.Uint32
	hc      *http.Client
	auth    string // Authorization header value, "" for none
	timeout time.Duration
}

// Response is a complete HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// maxResponseBytes bounds a response body held in memory.
const maxResponseBytes = 256 << 20

// NewClient builds a client from a validated config.
func NewClient(c *Config) (*Client, error) {
	cl := &Client{timeout: c.Timeout.D()}
	for _, s := range c.URLs {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		u.Path = strings.TrimRight(u.Path, "/")
		cl.urls = append(cl.urls, u)
	}
	switch {
	case c.Username != "":
		cl.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Username+":"+c.Password))
	case c.APIKey != "":
		cl.auth = "ApiKey " + c.APIKey
	case c.BearerToken != "":
		cl.auth = "Bearer " + c.BearerToken
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLS.InsecureSkipVerify} //nolint:gosec // opt-in
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca_file %s: no PEM certificate found", c.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   c.MaxInFlight + 4,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: c.Timeout.D(),
		ForceAttemptHTTP2:     true,
	}
	cl.hc = &http.Client{Transport: tr}
	return cl, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Request is one request. Path includes the query string.
type Request struct {
	Method string
	Path   string
	Body   []byte // nil for none
	// Gzipped says Body is already gzip-compressed (Content-Encoding: gzip).
	Gzipped     bool
	ContentType string // default application/json
}

// ErrUnavailable wraps transport failures (connection refused, reset,
// timeout) after every URL was tried.
var ErrUnavailable = errors.New("cluster unreachable")

// Do sends a request to one URL after another until one answers (any HTTP
// status counts as an answer; transport errors move on to the next URL).
// The timeout of the config bounds each attempt.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	start := int(c.next.Add(1))
	var lastErr error
	for i := range c.urls {
		u := c.urls[(start+i)%len(c.urls)]
		resp, err := c.do(ctx, u, r)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lastErr = err
	}
	return nil, fmt.Errorf("%w: %v", ErrUnavailable, lastErr)
}

func (c *Client) do(ctx context.Context, u *url.URL, r Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String()+r.Path, body)
	if err != nil {
		return nil, err
	}
	ct := r.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", ct)
		if r.Gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "flarehose")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if len(b) > maxResponseBytes {
		return nil, fmt.Errorf("response larger than %d bytes", maxResponseBytes)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// JSON sends a JSON request and returns the response when its status is
// 2xx, or an *HTTPError.
func (c *Client) JSON(ctx context.Context, method, path string, body []byte) (*Response, error) {
	resp, err := c.Do(ctx, Request{Method: method, Path: path, Body: body})
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return resp, newHTTPError(method, path, resp)
	}
	return resp, nil
}

// HTTPError is a non-2xx answer.
type HTTPError struct {
	Method, Path string
	Status       int
	Type         string // error.type of the answer, when it has one
	Reason       string // error.reason, or the start of the body
}

func (e *HTTPError) Error() string {
	if e.Type != "" {
		return fmt.Sprintf("%s %s: HTTP %d: %s: %s", e.Method, e.Path, e.Status, e.Type, e.Reason)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Reason)
}

func newHTTPError(method, path string, resp *Response) *HTTPError {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	e := &HTTPError{Method: method, Path: path, Status: resp.Status}
	if v, err := fastjson.ParseBytes(resp.Body); err == nil {
		if ev := v.Get("error"); ev != nil {
			if ev.Type() == fastjson.TypeString {
				e.Reason = string(ev.GetStringBytes())
			} else {
				e.Type = string(ev.GetStringBytes("type"))
				e.Reason = string(ev.GetStringBytes("reason"))
				if cb := ev.GetStringBytes("caused_by", "reason"); len(cb) > 0 {
					e.Reason += " (" + string(cb) + ")"
				}
			}
		}
	}
	if e.Reason == "" {
		e.Reason = snippet(resp.Body)
	}
	return e
}

func snippet(b []byte) string {
	const n = 300
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strconv.Quote(s)
}

// Info is what GET / tells about the cluster.
type Info struct {
	Flavor  string // FlavorElasticsearch or FlavorOpenSearch
	Version string // e.g. "8.15.0", "2.19.6"
	Major   int
	Minor   int
}

// Flavours.
const (
	FlavorElasticsearch = "elasticsearch"
	FlavorOpenSearch    = "opensearch"
)

// AtLeast reports whether the version is major.minor or newer.
func (i Info) AtLeast(major, minor int) bool {
	return i.Major > major || (i.Major == major && i.Minor >= minor)
}

func (i Info) String() string { return i.Flavor + " " + i.Version }

// Info reads the cluster's flavour and version from GET /.
func (c *Client) Info(ctx context.Context) (Info, error) {
	resp, err := c.JSON(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return Info{}, err
	}
	return parseInfo(resp.Body)
}

func parseInfo(body []byte) (Info, error) {
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		return Info{}, fmt.Errorf("GET /: not JSON: %w", err)
	}
	num := string(v.GetStringBytes("version", "number"))
	if num == "" {
		return Info{}, fmt.Errorf("GET /: no version.number in %s", snippet(body))
	}
	info := Info{Flavor: FlavorElasticsearch, Version: num}
	if string(v.GetStringBytes("version", "distribution")) == "opensearch" {
		info.Flavor = FlavorOpenSearch
	}
	parts := strings.SplitN(num, ".", 3)
	info.Major, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		info.Minor, _ = strconv.Atoi(parts[1])
	}
	switch info.Flavor {
	case FlavorElasticsearch:
		if !info.AtLeast(7, 10) {
			return info, fmt.Errorf("elasticsearch %s is not supported: data streams need 7.10 or newer", num)
		}
	case FlavorOpenSearch:
		if info.Major < 1 {
			return info, fmt.Errorf("opensearch %s is not supported", num)
		}
	}
	return info, nil
}

// gzip writers and buffers are reused across requests.
var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// appendGzip compresses src and appends it to dst.
func appendGzip(dst, src []byte) []byte {
	buf := bytes.NewBuffer(dst)
	w := gzipPool.Get().(*gzip.Writer)
	w.Reset(buf)
	_, _ = w.Write(src) // a bytes.Buffer does not fail
	_ = w.Close()
	gzipPool.Put(w)
	return buf.Bytes()
}
