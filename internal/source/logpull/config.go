package logpull

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/source/cfapi"
)

// Config configures the Logpull poller (type cloudflare_logpull).
type Config struct {
	// base_url, api_token / api_token_file / api_email + api_key,
	// request_timeout.
	cfapi.APIConfig `yaml:",inline"`
	// ZoneID is the zone whose HTTP request logs are pulled (32 hex
	// digits). Logpull needs an Enterprise zone with log retention on and
	// a token with Logs Read.
	ZoneID string `yaml:"zone_id"`
	// Fields to ask for; default: every field /logs/received/fields lists
	// (fetched once at start).
	Fields []string `yaml:"fields"`
	// Sample, when set, asks for that fraction of the records (0 < sample
	// <= 1; Cloudflare samples at random).
	Sample float64 `yaml:"sample"`
	// Window is the longest time span one request covers: 1m to 1h, whole
	// minutes, default 5m.
	Window config.Duration `yaml:"window"`
	// Delay keeps every request's end at least this long before now
	// (Cloudflare: at least 1 minute; its API reference says 5). Default 5m.
	Delay config.Duration `yaml:"delay"`
	// Since is how far back the first poll starts (default 1h; at most 7
	// days, Logpull's retention).
	Since config.Duration `yaml:"since"`
	// Interval is the time between polls once caught up (default 1m).
	Interval config.Duration `yaml:"interval"`
	// Timestamps is the timestamp format asked for: unixnano (default: the
	// one of Logpull's documented formats that keeps nanoseconds), unix,
	// rfc3339, or rfc3339ns (newer Logpush format; if Cloudflare refuses it
	// for Logpull the source falls back to unixnano once and remembers).
	Timestamps string `yaml:"timestamps"`
	// ChunkBytes is the size of the pieces a window's records are handed
	// to the pipeline in (default 8MiB).
	ChunkBytes config.ByteSize `yaml:"chunk_bytes"`
	// MaxWindowTime bounds reading one window's answer (Cloudflare cuts a
	// response after 10 minutes). Default 15m.
	MaxWindowTime config.Duration `yaml:"max_window_time"`
}

// Defaults and limits (PROTOCOL.md §4).
const (
	DefaultWindow     = 5 * time.Minute
	MaxWindow         = time.Hour
	DefaultDelay      = 5 * time.Minute
	MinDelay          = time.Minute
	DefaultSince      = time.Hour
	Retention         = 7 * 24 * time.Hour
	DefaultInterval   = time.Minute
	DefaultTimestamps = "unixnano"
)

// SetDefaults fills every unset field.
func (c *Config) SetDefaults() {
	c.APIConfig.SetDefaults()
	set := func(p *config.Duration, v time.Duration) {
		if *p == 0 {
			*p = config.Duration(v)
		}
	}
	set(&c.Window, DefaultWindow)
	set(&c.Delay, DefaultDelay)
	set(&c.Since, DefaultSince)
	set(&c.Interval, DefaultInterval)
	set(&c.MaxWindowTime, 15*time.Minute)
	if c.Timestamps == "" {
		c.Timestamps = DefaultTimestamps
	}
	if c.ChunkBytes == 0 {
		c.ChunkBytes = 8 << 20
	}
}

var (
	hex32     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// Validate reports every problem (after SetDefaults).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := c.APIConfig.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !hex32.MatchString(c.ZoneID) {
		add("zone_id %q: want the zone's 32 lower-case hex digit ID (dashboard: the zone's Overview page)", c.ZoneID)
	}
	seen := map[string]bool{}
	for _, f := range c.Fields {
		switch {
		case !fieldName.MatchString(f):
			add("fields: %q is not a field name (list them one per item, such as [ClientIP, RayID])", f)
		case seen[f]:
			add("fields: %s is listed twice", f)
		}
		seen[f] = true
	}
	if c.Sample != 0 && !(c.Sample > 0 && c.Sample <= 1) {
		add("sample %g: must be more than 0 and at most 1 (0.1 = 10%%), or unset for every record", c.Sample)
	}
	if w := c.Window.D(); w < time.Minute || w > MaxWindow || w%time.Minute != 0 {
		add("window %s: must be whole minutes from 1m to 1h (Logpull's longest request)", c.Window)
	}
	if c.Delay < config.Duration(MinDelay) || c.Delay > config.Duration(24*time.Hour) {
		add("delay %s: must be between 1m (Cloudflare serves nothing newer) and 24h", c.Delay)
	}
	if c.Since <= 0 || c.Since > config.Duration(Retention) {
		add("since %s: must be positive and at most 7d (Logpull's retention)", c.Since)
	}
	if c.Interval < config.Duration(time.Second) {
		add("interval %s: must be at least 1s", c.Interval)
	}
	switch c.Timestamps {
	case "rfc3339ns", "unixnano", "unix", "rfc3339":
	default:
		add("timestamps %q: want rfc3339ns, unixnano, unix or rfc3339", c.Timestamps)
	}
	if c.ChunkBytes < 1<<10 || c.ChunkBytes > 1<<30 {
		add("chunk_bytes %s: must be between 1KiB and 1GiB", c.ChunkBytes)
	}
	if c.MaxWindowTime < config.Duration(time.Minute) {
		add("max_window_time %s: must be at least 1m", c.MaxWindowTime)
	}
	return errors.Join(errs...)
}

func joinFields(fs []string) string { return strings.Join(fs, ",") }
