package cfaudit

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/source/cfapi"
)

// Config configures the audit log poller (type cloudflare_audit).
type Config struct {
	// base_url, api_token / api_token_file / api_email + api_key,
	// request_timeout.
	cfapi.APIConfig `yaml:",inline"`
	// AccountID is the account whose audit log is read (32 hex digits).
	AccountID string `yaml:"account_id"`
	// Version is the API: v2 (GET /accounts/{id}/logs/audit, cursor
	// pages; default) or v1 (GET /accounts/{id}/audit_logs, numbered
	// pages).
	Version string `yaml:"version"`
	// Interval is the time between polls once caught up (default 1m).
	Interval config.Duration `yaml:"interval"`
	// Overlap is how far before the newest event seen each poll reads
	// again, for events Cloudflare shows late (default 5m). Events seen
	// within it are remembered (in the checkpoint) and not handed on twice.
	Overlap config.Duration `yaml:"overlap"`
	// Since is how far back the first poll reads (default 24h).
	Since config.Duration `yaml:"since"`
	// PageSize is per_page (v1) or limit (v2): 1 to 1000, default 1000.
	PageSize int `yaml:"page_size"`
}

// Defaults.
const (
	DefaultVersion  = "v2"
	DefaultInterval = time.Minute
	DefaultOverlap  = 5 * time.Minute
	DefaultSince    = 24 * time.Hour
	DefaultPageSize = 1000
	// MaxSince is the audit logs' retention (18 months).
	MaxSince = 548 * 24 * time.Hour
)

// SetDefaults fills every unset field.
func (c *Config) SetDefaults() {
	c.APIConfig.SetDefaults()
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.Interval == 0 {
		c.Interval = config.Duration(DefaultInterval)
	}
	if c.Overlap == 0 {
		c.Overlap = config.Duration(DefaultOverlap)
	}
	if c.Since == 0 {
		c.Since = config.Duration(DefaultSince)
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Validate reports every problem (after SetDefaults).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := c.APIConfig.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !hex32.MatchString(c.AccountID) {
		add("account_id %q: want the account's 32 lower-case hex digit ID (dashboard: Account Home, or the URL)", c.AccountID)
	}
	if c.Version != "v1" && c.Version != "v2" {
		add("version %q: want v1 or v2", c.Version)
	}
	if c.Interval < config.Duration(time.Second) {
		add("interval %s: must be at least 1s", c.Interval)
	}
	if c.Overlap < 0 || c.Overlap > config.Duration(24*time.Hour) {
		add("overlap %s: must be between 0 and 24h", c.Overlap)
	}
	if c.Since <= 0 || c.Since > config.Duration(MaxSince) {
		add("since %s: must be positive and at most 18 months (the audit logs' retention)", c.Since)
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		add("page_size %d: must be between 1 and 1000", c.PageSize)
	}
	return errors.Join(errs...)
}
