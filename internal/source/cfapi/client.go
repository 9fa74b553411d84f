package cfapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/telemetry"
)

// MaxJSONBytes bounds a JSON answer (an audit log page of 1000 entries is
// a few MB).
const MaxJSONBytes = 64 << 20

// Options are a Client's collaborators; every field may be left zero.
type Options struct {
	Clock     Clock             // default RealClock
	Transport http.RoundTripper // default: a clone of http.DefaultTransport
	UserAgent string            // default "flarehose"
	// Source and Metrics, when set, count each answer in
	// flarehose_source_requests_total{source,code} ("error" when none
	// came) and the bytes read in flarehose_source_bytes_total.
	Source  string
	Metrics *telemetry.Metrics
}

// Client calls the Cloudflare API with one credential. Every call waits
// for the credential's shared budget (1200 requests / 5 min) first. Safe
// for concurrent use.
type Client struct {
	base    string
	cred    credentials
	http    *http.Client
	clock   Clock
	timeout time.Duration
	budget  *Budget
	ua      string
	source  string
	metrics *telemetry.Metrics
}

// NewClient returns a client for cfg (defaults set, validated). It reads
// api_token_file now, so a missing file is reported at start.
func NewClient(cfg APIConfig, o Options) (*Client, error) {
	cred, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = RealClock
	}
	if o.UserAgent == "" {
		o.UserAgent = "flarehose"
	}
	tr := o.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = cfg.RequestTimeout.D()
		tr = t
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	c := &Client{
		base:    base,
		cred:    cred,
		http:    &http.Client{Transport: tr, CheckRedirect: noCredentialRedirect},
		clock:   o.Clock,
		timeout: cfg.RequestTimeout.D(),
		ua:      o.UserAgent,
		source:  o.Source,
		metrics: o.Metrics,
	}
	c.budget = SharedBudget("api|"+base+"|"+cred.id(), APIRequests, APIWindow)
	return c, nil
}

// noCredentialRedirect refuses redirects: the API does not redirect, and
// following one could send the credential elsewhere.
func noCredentialRedirect(req *http.Request, via []*http.Request) error {
	return fmt.Errorf("the API answered with a redirect to %s (check base_url)", req.URL.Redacted())
}

// CredentialID identifies the credential without revealing it (a hash),
// for budgets of other scopes (Logpull's per-user limit).
func (c *Client) CredentialID() string { return c.base + "|" + c.cred.id() }

// Envelope is a successful JSON answer (PROTOCOL.md §1.2).
type Envelope struct {
	// Result is the result member as sent ("null" allowed).
	Result json.RawMessage
	// ResultInfo is result_info as sent (nil when absent).
	ResultInfo json.RawMessage
}

// ResultList returns Result as a list of items. A null result is an
// empty list (what Cloudflare's own clients make of it); anything else
// that is not a JSON array is malformed.
func (e *Envelope) ResultList(op string) ([]json.RawMessage, error) {
	if isNull(e.Result) {
		return nil, nil
	}
	if !bytes.HasPrefix(bytes.TrimSpace(e.Result), []byte("[")) {
		return nil, Malformed(op, "result is %s, not a list", jsonType(e.Result))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(e.Result, &items); err != nil {
		return nil, Malformed(op, "result: %v", err)
	}
	return items, nil
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

// jsonType names the JSON type of a value, for error messages.
func jsonType(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "empty"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// Get calls GET path (relative to the base URL, starting with "/") with
// query q and decodes the envelope. budgets are waited for besides the
// credential's own. Failures are *Error, or ctx's error when ctx ended.
func (c *Client) Get(ctx context.Context, path string, q url.Values, budgets ...*Budget) (*Envelope, error) {
	op := "GET " + path
	body, err := c.getBody(ctx, path, q, budgets)
	if err != nil {
		return nil, err
	}
	var env struct {
		Success    *bool           `json:"success"`
		Errors     []Message       `json:"errors"`
		Result     json.RawMessage `json:"result"`
		ResultInfo json.RawMessage `json:"result_info"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, Malformed(op, "not the API's JSON envelope: %v", err)
	}
	switch {
	case env.Success == nil:
		return nil, Malformed(op, "the answer has no success member")
	case !*env.Success || len(env.Errors) > 0:
		return nil, &Error{Kind: KindServer, Op: op, Status: http.StatusOK, Errors: env.Errors, Detail: "success is false"}
	case env.Result == nil:
		return nil, Malformed(op, "the answer has no result member")
	}
	if isNull(env.ResultInfo) {
		env.ResultInfo = nil
	}
	return &Envelope{Result: env.Result, ResultInfo: env.ResultInfo}, nil
}

// GetBare calls GET path and returns its body, a JSON value without the
// envelope (Logpull's /logs/received/fields).
func (c *Client) GetBare(ctx context.Context, path string, q url.Values, budgets ...*Budget) ([]byte, error) {
	return c.getBody(ctx, path, q, budgets)
}

func (c *Client) getBody(ctx context.Context, path string, q url.Values, budgets []*Budget) ([]byte, error) {
	op := "GET " + path
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.send(ctx, path, q, false, budgets)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJSONBytes+1))
	c.countBytes(len(body))
	if err != nil {
		return nil, c.transportError(ctx, op, err)
	}
	if len(body) > MaxJSONBytes {
		return nil, Malformed(op, "the answer is larger than %d MiB", MaxJSONBytes>>20)
	}
	return body, nil
}

// Stream calls GET path for a streamed answer (Logpull's NDJSON). On 200
// it returns the response with the body unread and not decompressed
// (Accept-Encoding: gzip is sent: decode Content-Encoding yourself); the
// caller closes it. Any other status is an *Error. The request timeout
// applies to the response headers only: bound the body with ctx.
func (c *Client) Stream(ctx context.Context, path string, q url.Values, budgets ...*Budget) (*http.Response, error) {
	return c.send(ctx, path, q, true, budgets)
}

// send waits for the budgets, makes the request and turns a non-200
// answer into an *Error (its body read and closed).
func (c *Client) send(ctx context.Context, path string, q url.Values, gzip bool, budgets []*Budget) (*http.Response, error) {
	op := "GET " + path
	all := append([]*Budget{c.budget}, budgets...)
	for _, b := range all {
		if err := b.Wait(ctx, c.clock); err != nil {
			return nil, err
		}
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &Error{Kind: KindBadRequest, Op: op, Detail: err.Error()}
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	if c.cred.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cred.token)
	} else {
		req.Header.Set("X-Auth-Email", c.cred.email)
		req.Header.Set("X-Auth-Key", c.cred.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.countAnswer(0)
		return nil, c.transportError(ctx, op, err)
	}
	c.countAnswer(resp.StatusCode)
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	c.countBytes(len(raw))
	e := &Error{Op: op, Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())}
	var env struct {
		Errors []Message `json:"errors"`
	}
	if json.Unmarshal(raw, &env) == nil && len(env.Errors) > 0 {
		e.Errors = env.Errors
	} else {
		e.Detail = snippet(raw)
	}
	e.Kind = kindOf(resp.StatusCode, e.Errors)
	if e.Kind == KindRateLimit {
		wait := e.RetryAfter
		if wait <= 0 {
			wait = 5 * time.Second
		}
		now := c.clock.Now()
		all[len(all)-1].Block(now, now.Add(wait)) // the most specific budget this call used
	}
	return nil, e
}

// transportError maps an error of the HTTP client (no answer, or the body
// cut) to a KindNetwork *Error, or ctx's error when the caller's context
// ended.
func (c *Client) transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx.Err()
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		msg = ue.Err.Error() // without the URL the caller already names
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "no complete answer within request_timeout (" + c.timeout.String() + ")"
	}
	return &Error{Kind: KindNetwork, Op: op, Detail: msg}
}

// snippet is the start of a body that is not an envelope, one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "empty body"
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func (c *Client) countAnswer(status int) {
	if c.metrics == nil {
		return
	}
	code := "error"
	if status != 0 {
		code = strconv.Itoa(status)
	}
	c.metrics.SourceRequests.WithLabelValues(c.source, code).Inc()
}

func (c *Client) countBytes(n int) {
	if c.metrics != nil && n > 0 {
		c.metrics.SourceBytes.WithLabelValues(c.source).Add(float64(n))
	}
}

// CountBytes adds n bytes read from a streamed answer to the source's
// byte counter.
func (c *Client) CountBytes(n int64) {
	if c.metrics != nil && n > 0 {
		c.metrics.SourceBytes.WithLabelValues(c.source).Add(float64(n))
	}
}
