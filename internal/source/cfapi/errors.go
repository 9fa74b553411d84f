package cfapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/event"
)

// Kind classifies a failed API call: it decides how long the poller waits
// before trying again and the reason label of flarehose_poll_errors_total.
type Kind string

// Kinds of failure.
const (
	KindAuth       Kind = "auth"         // 401/403 (10000 Authentication error, missing permission), 400 6003 bad credential format
	KindRateLimit  Kind = "rate_limited" // 429: wait Retry-After
	KindServer     Kind = "server"       // 5xx, 408, a 200 with success:false
	KindNetwork    Kind = "network"      // no answer: connection refused, reset, timeout
	KindMalformed  Kind = "malformed"    // an answer that is not what the API documents: bad JSON, missing result, wrong types
	KindBadRequest Kind = "bad_request"  // other 4xx: the request was refused as it was
	KindNotFound   Kind = "not_found"    // 404
	KindStream     Kind = "stream"       // Logpull: the body ended with "Error streaming data." or was cut
)

// Message is one item of an envelope's errors (PROTOCOL.md §1.2).
type Message struct {
	Code       int       `json:"code"`
	Message    string    `json:"message"`
	ErrorChain []Message `json:"error_chain,omitempty"`
}

func (m Message) String() string {
	s := m.Message
	if m.Code != 0 {
		s = strconv.Itoa(m.Code) + " " + s
	}
	if len(m.ErrorChain) > 0 {
		parts := make([]string, len(m.ErrorChain))
		for i, c := range m.ErrorChain {
			parts[i] = c.String()
		}
		s += " (" + strings.Join(parts, "; ") + ")"
	}
	return s
}

// Error is a failed API call. It never holds a credential: only the
// method, the path (IDs are not secret), the status and Cloudflare's
// error messages.
type Error struct {
	Kind   Kind
	Op     string // "GET /accounts/<id>/logs/audit"
	Status int    // 0 when there was no HTTP answer
	// Errors are the envelope's errors (with their error_chain).
	Errors []Message
	// Detail says what was wrong when Errors cannot: a network error, what
	// is malformed in the answer, the start of a non-JSON body.
	Detail string
	// RetryAfter is the answer's Retry-After (0 when absent).
	RetryAfter time.Duration
	// Hint is a sentence telling the operator what to do (set by the
	// source: the permission the token needs, the setting to turn on).
	Hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cloudflare API ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch e.Kind {
	case KindAuth:
		b.WriteString("authentication failed")
	case KindRateLimit:
		b.WriteString("rate limited")
	case KindMalformed:
		b.WriteString("malformed answer")
	case KindNetwork:
		b.WriteString("no answer")
	case KindStream:
		b.WriteString("incomplete answer")
	default:
		b.WriteString("failed")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	for i, m := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(m.String())
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (Retry-After %s)", e.RetryAfter)
	}
	if e.Hint != "" {
		b.WriteString(". ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Messages returns every message of the error and its chains, flattened,
// for matching ("lacks the ... permission", "too recent").
func (e *Error) Messages() string {
	var parts []string
	var walk func([]Message)
	walk = func(ms []Message) {
		for _, m := range ms {
			parts = append(parts, m.Message)
			walk(m.ErrorChain)
		}
	}
	walk(e.Errors)
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	return strings.Join(parts, "; ")
}

// HasCode reports whether the error or its chains carry code.
func (e *Error) HasCode(code int) bool {
	var has func([]Message) bool
	has = func(ms []Message) bool {
		for _, m := range ms {
			if m.Code == code || has(m.ErrorChain) {
				return true
			}
		}
		return false
	}
	return has(e.Errors)
}

// Malformed returns a KindMalformed error for op.
func Malformed(op string, format string, a ...any) *Error {
	return &Error{Kind: KindMalformed, Op: op, Status: http.StatusOK, Detail: fmt.Sprintf(format, a...)}
}

// kindOf maps an HTTP status (and Cloudflare's codes) to a Kind.
func kindOf(status int, msgs []Message) Kind {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return KindAuth
	case status == http.StatusBadRequest && hasCode(msgs, 6003):
		return KindAuth // "Invalid request headers": a malformed token or key
	case status == http.StatusTooManyRequests:
		return KindRateLimit
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusRequestTimeout || status >= 500:
		return KindServer
	case status >= 400:
		return KindBadRequest
	}
	return KindServer
}

func hasCode(ms []Message, code int) bool {
	return (&Error{Errors: ms}).HasCode(code)
}

// Reason returns the flarehose_poll_errors_total reason of an error a poll
// returned: the Kind of an *Error, the consumer's refusal
// (backpressure, closed, unavailable, consumer), "checkpoint" for a
// checkpoint that could not be saved, else "internal".
func Reason(err error) string {
	var ae *Error
	var ce *CheckpointError
	switch {
	case errors.As(err, &ae):
		return string(ae.Kind)
	case errors.Is(err, event.ErrBackpressure):
		return "backpressure"
	case errors.Is(err, event.ErrClosed):
		return "closed"
	case errors.Is(err, event.ErrUnavailable):
		return "unavailable"
	case errors.As(err, &ce):
		return "checkpoint"
	case errors.As(err, new(*ConsumerError)):
		return "consumer"
	case errors.Is(err, context.DeadlineExceeded):
		return string(KindNetwork)
	}
	return "internal"
}

// ConsumerError wraps an error the pipeline's Consume returned.
type ConsumerError struct{ Err error }

func (e *ConsumerError) Error() string { return "handing records to the pipeline: " + e.Err.Error() }
func (e *ConsumerError) Unwrap() error { return e.Err }

// CheckpointError is a checkpoint that could not be read or written.
type CheckpointError struct {
	Path string
	Err  error
}

func (e *CheckpointError) Error() string { return "checkpoint " + e.Path + ": " + e.Err.Error() }
func (e *CheckpointError) Unwrap() error { return e.Err }

// RetryDelay is how long a poller waits after failures consecutive failed
// polls, the last one err:
//
//	rate_limited                      Retry-After (at least 1 s), else 5 s doubling to 5 min
//	backpressure, closed, unavailable 1 s doubling to 30 s (the pipeline is busy; nothing was lost)
//	auth, bad_request, not_found      1 min doubling to 30 min (needs a person; keep trying quietly)
//	anything else                     1 s doubling to 5 min
func RetryDelay(err error, failures int) time.Duration {
	exp := func(base, ceiling time.Duration) time.Duration {
		d := base
		for i := 1; i < failures && d < ceiling; i++ {
			d *= 2
		}
		return min(d, ceiling)
	}
	switch Reason(err) {
	case string(KindRateLimit):
		var ae *Error
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			return max(ae.RetryAfter, time.Second)
		}
		return exp(5*time.Second, 5*time.Minute)
	case "backpressure", "closed", "unavailable":
		return exp(time.Second, 30*time.Second)
	case string(KindAuth), string(KindBadRequest), string(KindNotFound):
		return exp(time.Minute, 30*time.Minute)
	}
	return exp(time.Second, 5*time.Minute)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}
