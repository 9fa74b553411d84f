package cfapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/flarehose/flarehose/internal/sim"
)

// Permission is an API token permission group, by its dashboard name.
type Permission string

// The permissions the simulated endpoints check (PROTOCOL.md §1.1).
const (
	// PermLogsRead: Logpull (received, rayids, fields), GET retention flag.
	PermLogsRead Permission = "Logs Read"
	// PermLogsWrite: every Logpush API call, reads included; POST retention
	// flag.
	PermLogsWrite Permission = "Logs Write"
	// PermAccountSettingsRead: audit logs v1 and v2 (the docs do not name
	// it; third parties use this one).
	PermAccountSettingsRead Permission = "Account Settings Read"
	// PermZeroTrustPIIRead: Logpush jobs of Zero Trust datasets that select
	// PII fields (e-mail addresses, user names, client IPs).
	PermZeroTrustPIIRead Permission = "Zero Trust PII Read"
)

// AllPermissions is every permission the simulator knows.
var AllPermissions = []Permission{PermLogsRead, PermLogsWrite, PermAccountSettingsRead, PermZeroTrustPIIRead}

// Token is an API token (Authorization: Bearer <Value>).
type Token struct {
	// Value is the secret. Cloudflare's are 40 characters of
	// [A-Za-z0-9_-]; the simulator takes any string without spaces.
	Value string
	// ID is what /user/tokens/verify returns (32 hex; derived from Value
	// when empty).
	ID          string
	Name        string
	Permissions []Permission
	// Scope. Both empty: the whole account and all its zones. Accounts
	// lists account IDs the token may use (and so all their zones unless
	// Zones is set too); Zones lists zone IDs. A token with only Zones is
	// zone-scoped and cannot call account endpoints.
	Accounts []string
	Zones    []string
	// Disabled tokens fail authentication.
	Disabled bool
	// Email is the user the token belongs to, for the audit log entries of
	// the token's own API calls (default: the account owner).
	Email string
}

// GlobalKey is a legacy Global API Key (X-Auth-Email + X-Auth-Key). It
// has every permission on every resource.
type GlobalKey struct {
	Email string
	Key   string // 37 lower-case hex digits, as Cloudflare's are
}

// Zone is a simulated zone. Name must be one of sim.Zones(): the zone's
// traffic (Logpull records, Logpush jobs) comes from that zone's model.
type Zone struct {
	ID   string // 32 lower-case hex digits
	Name string
}

// Config sets up a Server. The zero value is a working simulator: the
// simulated account (sim.AccountID()) with the built-in zones, one API
// token with every permission (see Server.Token), the real clock and
// Cloudflare's limits.
type Config struct {
	Seed        uint64
	AccountID   string // default sim.AccountID()
	AccountName string // default "Northwind Traders"
	Zones       []Zone // default: every zone of sim.Zones()
	Tokens      []Token
	Keys        []GlobalKey
	// OwnerEmail is the account owner: the actor of audit entries made
	// through a token without Email (default the sim's super admin).
	OwnerEmail string
	Clock      Clock // default: the real clock
	Logger     *slog.Logger

	// Global rate limit per token or key (§1.3): RateLimit requests per
	// RateWindow, then 429 for RatePenalty. Defaults 1200, 5 min, 5 min;
	// RateLimit < 0 disables it.
	RateLimit   int
	RateWindow  time.Duration
	RatePenalty time.Duration

	// Logpull (§4). LogpullZoneLimit and LogpullUserLimit are requests per
	// minute per zone and per user (defaults 15 and 180; < 0 disables).
	LogpullZoneLimit int
	LogpullUserLimit int
	// LogpullMinDelay is how long ago end must be at least (default 1 m;
	// OA24 and GO6 say 5 m).
	LogpullMinDelay time.Duration
	// LogpullRetention is how far back start may go (default 7 days).
	LogpullRetention time.Duration
	// LogpullMaxWindow is the longest end - start (default 1 h).
	LogpullMaxWindow time.Duration
	// LogpullPerMinute is the average number of records per zone and
	// minute (default 60); the real rate follows the time of day.
	LogpullPerMinute float64
	// RetentionOn starts every zone with the retention flag on (Cloudflare
	// starts with it off).
	RetentionOn bool
	// LogpullFault, when set, is asked for every /logs/received response
	// that passed validation: when it returns fail, the response stops
	// after cut records with the "Error streaming data." line.
	LogpullFault func(zoneID string, start, end time.Time) (cut int, fail bool)
	// LogpullPlainErrors answers Logpull's query errors (400) with a plain
	// text body, as third-party clients observed, instead of the envelope
	// PROTOCOL.md §4.2 describes.
	LogpullPlainErrors bool

	// Audit log stream (§5). It starts AuditHistory before the clock's
	// time at New (default 24 h) and grows by AuditRate events per hour on
	// average (default 30). AuditLateFraction of the events (default 0.03;
	// < 0 for none) show up late: up to AuditLateMax (default 3 min) after
	// their `when`.
	AuditHistory      time.Duration
	AuditRate         float64
	AuditLateFraction float64
	AuditLateMax      time.Duration
	// V2CountString emits audit v2 result_info.count as a string (the docs'
	// example) instead of a number. V2CursorsAfter also emits
	// result_info.cursors.after (what cloudflare-go v6.6.0 reads).
	V2CountString  bool
	V2CursorsAfter bool

	// Logpush jobs (§6). MaxJobs is the job limit per zone (and, a sim
	// choice, per account); default 4.
	MaxJobs int
	// DenyHTTP refuses http:// destinations, as Cloudflare does (it takes
	// only https://). By default the simulator accepts them: local
	// receivers rarely have a trusted certificate.
	DenyHTTP bool
	// RelaxedLimits accepts any non-negative max_upload_* values instead of
	// Cloudflare's ranges, so tests get small batches quickly.
	RelaxedLimits bool
	// PushRate is the records per second an enabled job generates (default
	// 10). PushBackoff is the wait before a batch's first retry, doubling
	// (default 30 s: about five tries over five minutes); PushMaxAttempts
	// the tries per batch (default 5); PushDisableAfter disables a job
	// that keeps failing (default 24 h).
	PushRate         float64
	PushBackoff      time.Duration
	PushMaxAttempts  int
	PushDisableAfter time.Duration
	// PushClient makes the validation upload and the job uploads (default:
	// Logpush-like timeouts, verifying TLS certificates).
	PushClient *http.Client
	// ProbeTest sends "test" as the validation upload instead of
	// {"content":"tests"}.
	ProbeTest bool
	// Storage reaches object storage destinations (s3://, r2://, gs://,
	// azure://): ownership challenge files, the validation object
	// (test.txt.gz) written when a job gets such a destination, and the
	// batches of enabled jobs. LocalDir keeps buckets in a directory;
	// Endpoints reaches real stores or their emulators. Default: none, and
	// POST .../logpush/ownership fails for those destinations while their
	// jobs are accepted unchecked and push nothing.
	Storage Storage
}

var (
	hex32       = regexp.MustCompile(`^[0-9a-f]{32}$`)
	globalKeyRe = regexp.MustCompile(`^[0-9a-f]{37}$`)
	emailRe     = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	tokenRe     = regexp.MustCompile(`^[!-~]+$`) // visible ASCII, no spaces
)

// Check reports what is wrong with the configuration (what New would
// refuse), without starting anything.
func (c Config) Check() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults fills in the defaults and checks the configuration.
func (c Config) withDefaults() (Config, error) {
	if c.AccountID == "" {
		c.AccountID = sim.AccountID()
	}
	if !hex32.MatchString(c.AccountID) {
		return c, fmt.Errorf("account ID %q: want 32 lower-case hex digits", c.AccountID)
	}
	if c.AccountName == "" {
		c.AccountName = "Northwind Traders"
	}
	if c.OwnerEmail == "" {
		c.OwnerEmail = "maria.garcia@northwind-traders.com"
	}
	if len(c.Zones) == 0 {
		for _, z := range sim.Zones() {
			c.Zones = append(c.Zones, Zone{ID: z.ID, Name: z.Name})
		}
	}
	known := map[string]bool{}
	for _, z := range sim.Zones() {
		known[z.Name] = true
	}
	seen := map[string]bool{}
	for _, z := range c.Zones {
		if !hex32.MatchString(z.ID) {
			return c, fmt.Errorf("zone ID %q: want 32 lower-case hex digits", z.ID)
		}
		if !known[z.Name] {
			return c, fmt.Errorf("zone %s: name %q is not a simulated zone (have %v)", z.ID, z.Name, sim.Zones())
		}
		if seen[z.ID] {
			return c, fmt.Errorf("zone ID %s given twice", z.ID)
		}
		seen[z.ID] = true
	}
	if len(c.Tokens) == 0 {
		c.Tokens = []Token{{Value: DefaultToken(c.Seed), Name: "flarehose-sim", Permissions: AllPermissions}}
	}
	for i := range c.Tokens {
		t := &c.Tokens[i]
		if !tokenRe.MatchString(t.Value) {
			return c, fmt.Errorf("token %q: must be non-empty visible ASCII without spaces", t.Name)
		}
		if t.ID == "" {
			sum := sha256.Sum256([]byte("token-id:" + t.Value))
			t.ID = hex.EncodeToString(sum[:16])
		}
		if t.Email == "" {
			t.Email = c.OwnerEmail
		}
	}
	for _, k := range c.Keys {
		if !emailRe.MatchString(k.Email) {
			return c, fmt.Errorf("global key e-mail %q is not an e-mail address", k.Email)
		}
		if !globalKeyRe.MatchString(k.Key) {
			return c, fmt.Errorf("global key for %s: want 37 lower-case hex digits", k.Email)
		}
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.RateLimit == 0 {
		c.RateLimit = 1200
	}
	def(&c.RateWindow, 5*time.Minute)
	def(&c.RatePenalty, 5*time.Minute)
	if c.LogpullZoneLimit == 0 {
		c.LogpullZoneLimit = 15
	}
	if c.LogpullUserLimit == 0 {
		c.LogpullUserLimit = 180
	}
	def(&c.LogpullMinDelay, time.Minute)
	def(&c.LogpullRetention, 7*24*time.Hour)
	def(&c.LogpullMaxWindow, time.Hour)
	if c.LogpullPerMinute <= 0 {
		c.LogpullPerMinute = 60
	}
	def(&c.AuditHistory, 24*time.Hour)
	if c.AuditRate <= 0 {
		c.AuditRate = 30
	}
	if c.AuditLateFraction == 0 {
		c.AuditLateFraction = 0.03
	}
	def(&c.AuditLateMax, 3*time.Minute)
	if c.MaxJobs <= 0 {
		c.MaxJobs = 4
	}
	if c.PushRate <= 0 {
		c.PushRate = 10
	}
	def(&c.PushBackoff, 30*time.Second)
	if c.PushMaxAttempts <= 0 {
		c.PushMaxAttempts = 5
	}
	def(&c.PushDisableAfter, 24*time.Hour)
	return c, nil
}

// DefaultToken returns the token value a Server made with seed and no
// Tokens accepts: 40 characters like Cloudflare's.
func DefaultToken(seed uint64) string {
	sum := sha256.Sum256([]byte("flarehose-sim-token:" + strconv.FormatUint(seed, 10)))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:40]
}

// NewGlobalKey returns a Global API Key shaped value (37 hex digits)
// derived from s.
func NewGlobalKey(s string) string {
	sum := sha256.Sum256([]byte("flarehose-sim-key:" + s))
	return hex.EncodeToString(sum[:])[:37]
}
