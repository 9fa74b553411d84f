package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/flarehose/flarehose/internal/search"
)

// Client calls a running flarehose server's search API. The CLI uses it when
// the store is held by a running `flarehose serve`.
type Client struct {
	BaseURL string       // e.g. "http://127.0.0.1:8080"; a path prefix is kept
	HTTP    *http.Client // nil = http.DefaultClient
}

// StatusError is an error answer from the server.
type StatusError struct {
	StatusCode int    // HTTP status, e.g. 400 for a query syntax error
	Message    string // the server's "error" text
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("flarehose server: %s (HTTP %d)", e.Message, e.StatusCode)
}

// BadRequest reports whether the request (query, parameters) was at fault.
func (e *StatusError) BadRequest() bool { return e.StatusCode >= 400 && e.StatusCode < 500 }

// maxResponse bounds what the client reads: 10000 hits of large documents.
const maxResponse = 1 << 30

// Search runs r on the server. Times are sent as absolute instants; a zero
// Limit lets the server pick its default (100); the server caps it at 10000.
func (c *Client) Search(ctx context.Context, r search.Request) (*search.Result, error) {
	var res search.Result
	if err := c.get(ctx, "/api/search", EncodeRequest(r).Encode(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func (c *Client) get(ctx context.Context, path, query string, out any) error {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxResponse)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &StatusError{StatusCode: resp.StatusCode, Message: msg}
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fmt.Errorf("flarehose server: decoding %s: %w", path, err)
	}
	return nil
}
