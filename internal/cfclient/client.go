// Package cfclient is a small client for the Cloudflare API endpoints the
// flarehose CLI manages Logpush with (shared/cloudflare/PROTOCOL.md §1, §6):
// jobs, dataset fields, the ownership challenge and the validation
// endpoints. It speaks the response envelope, turns failures into *APIError
// (code, message, error_chain, a hint), honours Retry-After on 429 up to a
// bound, masks secrets in everything it prints, and can print the calls it
// would make instead of making them (DryRun).
//
// The pollers' client (internal/source/cfapi, GET only: budgets,
// checkpoints, metrics) appeared while this one was written; this package
// covers what the CLI needs and that one does not: writes (POST, PUT,
// DELETE), dry runs and masking. Folding the two into one transport is
// left for when both have landed.
package cfclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultBaseURL is Cloudflare's API base URL (PROTOCOL.md §1.1).
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Auth holds the credentials: an API token (preferred), or the legacy
// Global API Key with its account e-mail.
type Auth struct {
	Token      string
	Email, Key string
}

// Secrets returns the credential values that must never be printed.
func (a Auth) Secrets() []string { return []string{a.Token, a.Key} }

// Scope is the zone or account a call is made for: {scope} in
// /{zones|accounts}/{id}/logpush/... (PROTOCOL.md §6).
type Scope struct {
	Kind string // "zone" or "account"
	ID   string
}

// Zone returns a zone scope.
func Zone(id string) Scope { return Scope{Kind: "zone", ID: id} }

// Account returns an account scope.
func Account(id string) Scope { return Scope{Kind: "account", ID: id} }

// Path returns the scope's path segment: zones/<id> or accounts/<id>.
func (s Scope) Path() string {
	if s.Kind == "account" {
		return "accounts/" + s.ID
	}
	return "zones/" + s.ID
}

func (s Scope) String() string { return s.Kind + " " + s.ID }

// Client calls the Cloudflare API. The zero value (plus Auth) talks to
// DefaultBaseURL with default limits.
type Client struct {
	BaseURL   string // default DefaultBaseURL
	Auth      Auth
	HTTP      *http.Client // default: 60 s timeout
	UserAgent string       // default "flarehose"

	// MaxRetries is how many times a rate-limited call (429), or a GET that
	// failed with a 5xx or a network error, is retried (default 3; < 0: none).
	// Other calls are not retried: a POST that failed after reaching
	// Cloudflare may have created the job.
	MaxRetries int
	// MaxWait bounds the Retry-After the client honours (default 1 min):
	// Cloudflare blocks a credential for 5 minutes after it went over its
	// limit, and a command should rather fail clearly than hang that long.
	MaxWait time.Duration
	// Sleep waits between retries (default: a timer honouring ctx). Tests
	// replace it.
	Sleep func(ctx context.Context, d time.Duration) error

	// DryRun, when set, receives each call (method, URL, body; secrets
	// masked) instead of sending it; the call then returns ErrDryRun.
	DryRun io.Writer
	// Redact scrubs secrets from what the client prints or returns in
	// errors (DryRun output, error messages). Nil: only the structural
	// masking (destination_conf, ownership_challenge).
	Redact *Redactor
}

// NetError is a call that got no answer (its message names the call and
// is scrubbed of secrets). Permanent: connection refused or an unknown
// host, not worth retrying.
type NetError struct {
	Msg       string
	Permanent bool
}

func (e *NetError) Error() string { return e.Msg }

// ErrDryRun is what calls return in dry-run mode, after printing.
var ErrDryRun = errors.New("dry run: not sent")

func (c *Client) baseURL() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 60 * time.Second}
}

func (c *Client) maxWait() time.Duration {
	if c.MaxWait <= 0 {
		return time.Minute
	}
	return c.MaxWait
}

func (c *Client) maxRetries() int {
	switch {
	case c.MaxRetries < 0:
		return 0
	case c.MaxRetries == 0:
		return 3
	}
	return c.MaxRetries
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scrub applies the Redactor, if any.
func (c *Client) scrub(s string) string {
	if c.Redact == nil {
		return s
	}
	return c.Redact.Scrub(s)
}

// Note writes a comment line to the dry-run output (no-op otherwise).
func (c *Client) Note(format string, a ...any) {
	if c.DryRun != nil {
		fmt.Fprintf(c.DryRun, "# %s\n", c.scrub(fmt.Sprintf(format, a...)))
	}
}

// Message is an item of the envelope's errors (PROTOCOL.md §1.2).
type Message struct {
	Code       int       `json:"code"`
	Message    string    `json:"message"`
	ErrorChain []Message `json:"error_chain,omitempty"`
}

type envelope struct {
	Success  *bool           `json:"success"`
	Errors   []Message       `json:"errors"`
	Messages json.RawMessage `json:"messages"`
	Result   json.RawMessage `json:"result"`
}

// Do makes one API call: method on path (relative to the base URL, e.g.
// "zones/<id>/logpush/jobs"), with body marshalled to JSON when not nil,
// and decodes the envelope's result into out (when not nil).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	url := c.baseURL() + "/" + strings.TrimLeft(path, "/")
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encoding the request body: %w", err)
		}
	}
	if c.DryRun != nil {
		c.printCall(method, url, payload)
		return ErrDryRun
	}
	retries := c.maxRetries()
	for attempt := 0; ; attempt++ {
		result, err := c.once(ctx, method, url, payload)
		if err == nil {
			if out != nil && len(result) > 0 && string(result) != "null" {
				if err := json.Unmarshal(result, out); err != nil {
					return fmt.Errorf("%s %s: decoding the result: %w", method, c.scrub(url), err)
				}
			}
			return nil
		}
		wait, retry := c.retryable(method, err, attempt)
		if !retry || attempt >= retries {
			return err
		}
		if wait > c.maxWait() {
			var ae *APIError
			if errors.As(err, &ae) {
				ae.WaitTooLong = c.maxWait()
			}
			return err
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// retryable decides whether a failed attempt is retried, and after how long.
func (c *Client) retryable(method string, err error, attempt int) (time.Duration, bool) {
	backoff := time.Duration(1<<min(attempt, 5)) * time.Second
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.Status == http.StatusTooManyRequests:
			if ae.RetryAfter > 0 {
				return ae.RetryAfter, true
			}
			return backoff, true
		case ae.Status >= 500 && method == http.MethodGet:
			return backoff, true
		}
		return 0, false
	}
	var ne *NetError
	if !errors.As(err, &ne) || ne.Permanent {
		return 0, false // context ended, or nothing listens / no such host
	}
	return backoff, method == http.MethodGet
}

func (c *Client) once(ctx context.Context, method, url string, payload []byte) (json.RawMessage, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", method, c.scrub(url), c.scrub(err.Error()))
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	ua := c.UserAgent
	if ua == "" {
		ua = "flarehose"
	}
	req.Header.Set("User-Agent", ua)
	switch {
	case c.Auth.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Auth.Token)
	case c.Auth.Email != "" || c.Auth.Key != "":
		req.Header.Set("X-Auth-Email", c.Auth.Email)
		req.Header.Set("X-Auth-Key", c.Auth.Key)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		// *url.Error repeats the URL; scrub it all the same.
		var dnsErr *net.DNSError
		return nil, &NetError{Msg: fmt.Sprintf("%s %s: %s", method, c.scrub(url), c.scrub(unwrapURLError(err))),
			Permanent: errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dnsErr) && dnsErr.IsNotFound}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the response: %v", method, c.scrub(url), err)
	}
	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	if jsonErr == nil && env.Success != nil && *env.Success && resp.StatusCode < 300 {
		return env.Result, nil
	}
	ae := &APIError{Status: resp.StatusCode, Method: method, URL: c.scrub(url)}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			ae.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			ae.RetryAfter = max(time.Until(t), 0)
		}
	}
	if jsonErr == nil {
		ae.Errors = scrubMessages(env.Errors, c.scrub)
	}
	if len(ae.Errors) == 0 {
		snippet := strings.TrimSpace(string(raw))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "..."
		}
		if snippet == "" {
			snippet = "(empty body)"
		}
		if jsonErr != nil {
			snippet = "not a Cloudflare API response: " + snippet
		}
		ae.Body = c.scrub(snippet)
	}
	return nil, ae
}

func scrubMessages(ms []Message, scrub func(string) string) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = Message{Code: m.Code, Message: scrub(m.Message), ErrorChain: scrubMessages(m.ErrorChain, scrub)}
	}
	return out
}

// unwrapURLError drops the "Get \"url\": " prefix *url.Error adds: the
// caller names the call itself.
func unwrapURLError(err error) string {
	var ue *neturl.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// printCall writes a call in dry-run mode: "METHOD URL" and the body as
// indented JSON, secrets masked.
func (c *Client) printCall(method, url string, payload []byte) {
	fmt.Fprintf(c.DryRun, "%s %s\n", method, c.scrub(url))
	if payload == nil {
		return
	}
	var v any
	if err := json.Unmarshal(payload, &v); err == nil {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if enc.Encode(MaskJSON(v)) == nil {
			payload = bytes.TrimRight(b.Bytes(), "\n")
		}
	}
	fmt.Fprintf(c.DryRun, "%s\n", c.scrub(string(payload)))
}
