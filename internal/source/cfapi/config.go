// Package cfapi is the plumbing the Cloudflare API pollers (cfaudit:
// audit logs v1/v2; logpull: Logpull) share, following
// shared/cloudflare/PROTOCOL.md §1: the base URL and credentials of their
// configuration, a Client that sends the auth headers, decodes the response
// envelope and maps failures to *Error (auth, rate limit with Retry-After,
// server, network, malformed answer), a client-side request budget
// (Cloudflare's 1200 requests per 5 minutes per credential, shared by every
// source using the same credential), the Runner that polls, backs off and
// pauses, and atomic checkpoint files.
//
// Secrets (the API token or key) go into request headers only: never into
// errors, logs or checkpoints.
package cfapi

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/config"
)

// DefaultBaseURL is Cloudflare's API base URL (PROTOCOL.md §1.1).
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// APIConfig holds the keys every API source has: where the API is and how
// to authenticate. Sources embed it inline, so the keys sit at the top of
// the source's section.
type APIConfig struct {
	// BaseURL is the API base, default https://api.cloudflare.com/client/v4.
	BaseURL string `yaml:"base_url"`
	// APIToken is an API token (Authorization: Bearer), the preferred
	// credential. APITokenFile reads it from a file instead (trailing
	// whitespace dropped), for secrets mounted as files.
	APIToken     string `yaml:"api_token"`
	APITokenFile string `yaml:"api_token_file"`
	// APIEmail and APIKey are the legacy Global API Key and its account
	// e-mail (X-Auth-Email / X-Auth-Key).
	APIEmail string `yaml:"api_email"`
	APIKey   string `yaml:"api_key"`
	// RequestTimeout bounds one API call up to its response headers (and,
	// for JSON answers, the whole body). Default 1m.
	RequestTimeout config.Duration `yaml:"request_timeout"`
}

// SetDefaults fills unset fields.
func (c *APIConfig) SetDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = config.Duration(time.Minute)
	}
}

var headerSafe = regexp.MustCompile(`^[!-~]+$`) // visible ASCII, no spaces

// Validate reports every problem with the API keys. Error messages never
// contain the secrets themselves.
func (c APIConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		add("base_url %q: want an http(s) URL without query, such as %s", c.BaseURL, DefaultBaseURL)
	}
	token := c.APIToken != "" || c.APITokenFile != ""
	key := c.APIEmail != "" || c.APIKey != ""
	switch {
	case c.APIToken != "" && c.APITokenFile != "":
		add("api_token and api_token_file are both set: use one")
	case token && key:
		add("set either api_token (or api_token_file) or api_email + api_key, not both")
	case !token && !key:
		add("no credentials: set api_token (or api_token_file) to an API token, or api_email + api_key to the Global API Key")
	case key && (c.APIEmail == "" || c.APIKey == ""):
		add("the Global API Key needs both api_email and api_key")
	}
	if c.APIToken != "" && !headerSafe.MatchString(c.APIToken) {
		add("api_token holds spaces or control characters: copy the token alone")
	}
	if c.APIKey != "" && !headerSafe.MatchString(c.APIKey) {
		add("api_key holds spaces or control characters: copy the key alone")
	}
	if c.APIEmail != "" && !strings.Contains(c.APIEmail, "@") {
		add("api_email %q is not an e-mail address", c.APIEmail)
	}
	if c.RequestTimeout < config.Duration(time.Second) {
		add("request_timeout %s: must be at least 1s", c.RequestTimeout)
	}
	return errors.Join(errs...)
}

// credentials are the resolved secrets. They have no String method on
// purpose and never leave the package.
type credentials struct {
	token      string
	email, key string
}

// id is a non-secret identifier of the credential, for sharing budgets
// between sources (a hash, never the secret).
func (c credentials) id() string {
	if c.token != "" {
		return "token:" + shortHash(c.token)
	}
	return "key:" + strings.ToLower(c.email) + ":" + shortHash(c.key)
}

// resolve reads the token file if there is one.
func (c APIConfig) resolve() (credentials, error) {
	switch {
	case c.APITokenFile != "":
		b, err := os.ReadFile(c.APITokenFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is named below; nothing of the content
			}
			return credentials{}, fmt.Errorf("api_token_file %s: %v", c.APITokenFile, err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return credentials{}, fmt.Errorf("api_token_file %s is empty", c.APITokenFile)
		}
		if !headerSafe.MatchString(tok) {
			return credentials{}, fmt.Errorf("api_token_file %s: the token holds spaces or control characters (the file should hold the token alone)", c.APITokenFile)
		}
		return credentials{token: tok}, nil
	case c.APIToken != "":
		return credentials{token: c.APIToken}, nil
	}
	return credentials{email: c.APIEmail, key: c.APIKey}, nil
}

// InsecureBaseURL reports whether base_url sends credentials in clear text
// to another machine (http:// to a host that is not loopback).
func (c APIConfig) InsecureBaseURL() bool {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
