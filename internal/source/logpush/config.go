package logpush

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/config"
)

// Config configures the Logpush HTTP receiver. Sizes accept YAML values such
// as 1048576, "256MiB" or "1GiB"; durations Go durations such as "30s".
type Config struct {
	// Listen is the address to listen on. Cloudflare requires an https://
	// destination with a trusted certificate: either set TLS here or put a
	// TLS-terminating proxy in front.
	Listen string `yaml:"listen"`
	// PathPrefix is where uploads go: POST <prefix><dataset>. It starts and
	// ends with "/".
	PathPrefix string `yaml:"path_prefix"`

	// SecretHeader is the request header that carries Secret. In the job's
	// destination_conf, `?header_X-Flarehose-Secret=<url-encoded secret>`
	// makes Cloudflare send it.
	SecretHeader string `yaml:"secret_header"`
	// Secret is the shared secret (compared in constant time). At least 16
	// characters.
	Secret string `yaml:"secret"`
	// BasicAuth is accepted as well as, or instead of, Secret:
	// header_Authorization=Basic%20<base64(user:password)>.
	BasicAuth BasicAuth `yaml:"basic_auth"`
	// InsecureNoAuth accepts requests without any credential. It must be set
	// explicitly, and not together with Secret or BasicAuth.
	InsecureNoAuth bool `yaml:"insecure_no_auth"`
	// TLS serves https with this certificate and key (PEM files).
	TLS TLS `yaml:"tls"`

	// MaxBodyBytes caps the body as sent (compressed): 413 above it.
	MaxBodyBytes config.ByteSize `yaml:"max_body_bytes"`
	// MaxDecompressedBytes caps the body once decompressed: 413 above it.
	// The default is Cloudflare's largest max_upload_bytes (1 GB) rounded
	// up; keep it at least the job's max_upload_bytes.
	MaxDecompressedBytes config.ByteSize `yaml:"max_decompressed_bytes"`
	// MaxLineBytes caps one record. A longer line is not an error for the
	// request: its first MaxLineBytes bytes are handed on, followed by a
	// marker that makes it invalid JSON, so the pipeline dead-letters it
	// (with its real length) and the other records are stored.
	MaxLineBytes config.ByteSize `yaml:"max_line_bytes"`
	// ChunkBytes is the size of the pieces an upload is handed to the
	// pipeline in (cut at line ends), so memory per request stays about
	// ChunkBytes + MaxLineBytes whatever the upload size.
	ChunkBytes config.ByteSize `yaml:"chunk_bytes"`
	// MaxConcurrent is how many uploads are read and stored at once; more
	// wait up to 5 s for a slot, then get 429. Bounds memory to about
	// MaxConcurrent x (ChunkBytes + MaxLineBytes).
	MaxConcurrent int `yaml:"max_concurrent"`

	// RetryAfter is sent with 429 and 503 answers.
	RetryAfter time.Duration `yaml:"retry_after"`
	// ReadHeaderTimeout bounds reading the request line and headers.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading each chunk of the body (ChunkBytes of
	// decompressed data): a client that stalls longer gets 408. Time the
	// pipeline takes to store a chunk does not count.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing the response.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// BasicAuth is a username and password for Authorization: Basic.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// TLS names PEM files.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Defaults.
const (
	DefaultListen       = "127.0.0.1:9560" // the port of Elastic's cloudflare_logpush integration
	DefaultPathPrefix   = "/logpush/"
	DefaultSecretHeader = "X-Flarehose-Secret"
	minSecretLen        = 16
)

// SetDefaults fills every unset field.
func (c *Config) SetDefaults() {
	setStr := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	setSize := func(p *config.ByteSize, v config.ByteSize) {
		if *p == 0 {
			*p = v
		}
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	setStr(&c.Listen, DefaultListen)
	setStr(&c.PathPrefix, DefaultPathPrefix)
	setStr(&c.SecretHeader, DefaultSecretHeader)
	setSize(&c.MaxBodyBytes, 256<<20)
	setSize(&c.MaxDecompressedBytes, 1<<30)
	setSize(&c.MaxLineBytes, 16<<20)
	setSize(&c.ChunkBytes, 8<<20)
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 8
	}
	setDur(&c.RetryAfter, 30*time.Second)
	setDur(&c.ReadHeaderTimeout, 10*time.Second)
	setDur(&c.ReadTimeout, 60*time.Second)
	setDur(&c.WriteTimeout, 10*time.Second)
	setDur(&c.IdleTimeout, 120*time.Second)
}

// Validate checks the configuration (after SetDefaults) and reports every
// problem it finds.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		add("listen %q: want host:port, such as %s or :9560", c.Listen, DefaultListen)
	}
	switch p := c.PathPrefix; {
	case !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/"):
		add("path_prefix %q: must start and end with \"/\", such as %s", p, DefaultPathPrefix)
	case strings.ContainsAny(p, "?#%") || strings.Contains(p, "//"):
		add("path_prefix %q: must be a plain path (no ?, #, %% or //)", p)
	}
	if !isToken(c.SecretHeader) {
		add("secret_header %q: not a valid HTTP header name", c.SecretHeader)
	}

	hasSecret := c.Secret != ""
	hasBasic := c.BasicAuth.Username != "" || c.BasicAuth.Password != ""
	switch {
	case c.InsecureNoAuth && (hasSecret || hasBasic):
		add("insecure_no_auth is set together with secret or basic_auth: remove one (insecure_no_auth accepts requests without any credential)")
	case !c.InsecureNoAuth && !hasSecret && !hasBasic:
		add("no authentication configured: set secret (Cloudflare sends it when destination_conf ends with ?header_%s=<url-encoded secret>) or basic_auth, or set insecure_no_auth: true to accept anyone", c.SecretHeader)
	}
	if hasSecret && len(c.Secret) < minSecretLen {
		add("secret is %d characters long: use at least %d (for example the output of: openssl rand -hex 32)", len(c.Secret), minSecretLen)
	}
	if hasBasic {
		switch {
		case c.BasicAuth.Username == "" || c.BasicAuth.Password == "":
			add("basic_auth needs both username and password")
		case strings.Contains(c.BasicAuth.Username, ":"):
			add("basic_auth.username must not contain \":\"")
		case len(c.BasicAuth.Password) < minSecretLen:
			add("basic_auth.password is %d characters long: use at least %d", len(c.BasicAuth.Password), minSecretLen)
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls needs both cert_file and key_file")
	}

	const maxInt = 1 << 30 // sizes used as int buffer sizes
	sizes := []struct {
		name string
		v    config.ByteSize
		max  config.ByteSize
	}{
		{"max_body_bytes", c.MaxBodyBytes, 1 << 62},
		{"max_decompressed_bytes", c.MaxDecompressedBytes, 1 << 62},
		{"max_line_bytes", c.MaxLineBytes, maxInt},
		{"chunk_bytes", c.ChunkBytes, maxInt},
	}
	for _, s := range sizes {
		if s.v <= 0 || s.v > s.max {
			add("%s %d: must be between 1 and %s", s.name, int64(s.v), s.max)
		}
	}
	if c.MaxConcurrent < 1 {
		add("max_concurrent %d: must be at least 1", c.MaxConcurrent)
	}
	if c.RetryAfter < time.Second {
		add("retry_after %s: must be at least 1s (Retry-After is whole seconds)", c.RetryAfter)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read_header_timeout", c.ReadHeaderTimeout},
		{"read_timeout", c.ReadTimeout},
		{"write_timeout", c.WriteTimeout},
		{"idle_timeout", c.IdleTimeout},
	} {
		if d.v <= 0 {
			add("%s %s: must be positive", d.name, d.v)
		}
	}
	return errors.Join(errs...)
}

// isToken reports whether s is a valid HTTP header field name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
