package elasticsearch

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/config"
)

// Config is the `type: elasticsearch` sink section of the configuration. It
// works with Elasticsearch 7.10+/8.x and OpenSearch 1.x/2.x: the flavour and
// version are read from GET / when the sink first connects.
type Config struct {
	// URLs of the cluster's HTTP endpoints; requests go round robin and
	// fail over to the next URL when one cannot be reached.
	URLs []string `yaml:"urls"`
	// Username and Password: HTTP basic authentication.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// APIKey is an Elasticsearch API key in its encoded form (base64 of
	// id:key), sent as "Authorization: ApiKey <api_key>".
	APIKey string `yaml:"api_key"`
	// BearerToken is sent as "Authorization: Bearer <token>".
	BearerToken string    `yaml:"bearer_token"`
	TLS         TLSConfig `yaml:"tls"`
	// Namespace is the data stream namespace: events of dataset D go to
	// logs-<elastic dataset of D>-<namespace>.
	Namespace string `yaml:"namespace"`
	// BulkMaxBytes bounds one bulk request body (before compression).
	BulkMaxBytes config.ByteSize `yaml:"bulk_max_bytes"`
	// FlushInterval is accepted for configuration compatibility; Write is
	// synchronous (it returns once the batch is committed), so a batch is
	// always sent at once and the pipeline's gathering does the batching.
	FlushInterval config.Duration `yaml:"flush_interval"`
	// MaxInFlight is how many bulk requests one Write sends concurrently.
	MaxInFlight int `yaml:"max_in_flight"`
	// Timeout bounds one HTTP request.
	Timeout config.Duration `yaml:"timeout"`
	Retry   RetryConfig     `yaml:"retry"`
	// InstallTemplates installs the index and component templates of every
	// known data stream when the sink first connects.
	InstallTemplates bool `yaml:"install_templates"`
	// ForceTemplates overwrites templates that were not written by
	// flarehose or were changed since (otherwise they are left alone).
	ForceTemplates bool `yaml:"force_templates"`
}

// TLSConfig configures HTTPS.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`   // PEM CA bundle to trust (in addition to none: replaces the system pool)
	CertFile           string `yaml:"cert_file"` // client certificate (PEM)
	KeyFile            string `yaml:"key_file"`  // its key (PEM)
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// RetryConfig bounds the retries of items the cluster answered 429 or 5xx
// (and of bulk requests answered 429) inside one Write. When they still fail
// after Attempts tries, Write returns an error and the pipeline retries the
// whole batch later: nothing is dropped.
type RetryConfig struct {
	Initial  config.Duration `yaml:"initial"`
	Max      config.Duration `yaml:"max"`
	Attempts int             `yaml:"attempts"`
}

// Defaults.
const (
	DefaultNamespace    = "default"
	DefaultBulkMaxBytes = 8 << 20
	DefaultMaxInFlight  = 4
	DefaultTimeout      = 60 * time.Second
	DefaultRetryInitial = 200 * time.Millisecond
	DefaultRetryMax     = 10 * time.Second
	DefaultAttempts     = 8
)

// SetDefaults fills every field that has a default.
func (c *Config) SetDefaults() {
	c.Namespace = DefaultNamespace
	c.BulkMaxBytes = DefaultBulkMaxBytes
	c.FlushInterval = config.Duration(time.Second)
	c.MaxInFlight = DefaultMaxInFlight
	c.Timeout = config.Duration(DefaultTimeout)
	c.Retry = RetryConfig{Initial: config.Duration(DefaultRetryInitial), Max: config.Duration(DefaultRetryMax), Attempts: DefaultAttempts}
	c.InstallTemplates = true
	c.ForceTemplates = false
}

// DefaultConfig returns a config with defaults set (and no URL).
func DefaultConfig() *Config {
	c := &Config{}
	c.SetDefaults()
	return c
}

// Elastic's naming rules for the namespace part of a data stream name.
var namespaceRE = regexp.MustCompile(`^[a-z0-9_.]+$`)

// Validate checks the section.
func (c *Config) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("urls: at least one URL is required (e.g. https://localhost:9200)")
	}
	for _, s := range c.URLs {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("urls: %q: %v", s, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("urls: %q: scheme must be http or https", s)
		}
		if u.Host == "" {
			return fmt.Errorf("urls: %q: no host", s)
		}
		if u.User != nil {
			return fmt.Errorf("urls: %q: put credentials in username/password, not in the URL", redact(u))
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("urls: %q: no query or fragment allowed", s)
		}
	}
	auth := 0
	if c.Username != "" || c.Password != "" {
		if c.Username == "" {
			return errors.New("password is set but username is empty")
		}
		auth++
	}
	if c.APIKey != "" {
		auth++
	}
	if c.BearerToken != "" {
		auth++
	}
	if auth > 1 {
		return errors.New("set only one of username/password, api_key and bearer_token")
	}
	if strings.ContainsAny(c.APIKey+c.BearerToken, "\r\n") {
		return errors.New("api_key and bearer_token must be one line")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("tls: cert_file and key_file go together")
	}
	for _, f := range []struct{ name, path string }{{"ca_file", c.TLS.CAFile}, {"cert_file", c.TLS.CertFile}, {"key_file", c.TLS.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("tls: %s: %v", f.name, err)
		}
	}
	if len(c.Namespace) == 0 || len(c.Namespace) > 100 || !namespaceRE.MatchString(c.Namespace) {
		return fmt.Errorf("namespace %q: use 1-100 characters of a-z, 0-9, _ and . (no -)", c.Namespace)
	}
	if c.BulkMaxBytes < 64<<10 || c.BulkMaxBytes > 512<<20 {
		return fmt.Errorf("bulk_max_bytes %s: must be between 64KiB and 512MiB", c.BulkMaxBytes)
	}
	if c.FlushInterval < 0 {
		return errors.New("flush_interval must not be negative")
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > 64 {
		return fmt.Errorf("max_in_flight %d: must be between 1 and 64", c.MaxInFlight)
	}
	if c.Timeout <= 0 {
		return errors.New("timeout must be positive")
	}
	if c.Retry.Initial <= 0 || c.Retry.Max <= 0 {
		return errors.New("retry: initial and max must be positive")
	}
	if c.Retry.Max < c.Retry.Initial {
		return errors.New("retry: max must not be below initial")
	}
	if c.Retry.Attempts < 1 || c.Retry.Attempts > 100 {
		return fmt.Errorf("retry: attempts %d: must be between 1 and 100", c.Retry.Attempts)
	}
	return nil
}

func redact(u *url.URL) string {
	c := *u
	c.User = url.User("REDACTED")
	return c.String()
}
