package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flarehose/flarehose/internal/sim"
	"github.com/flarehose/flarehose/internal/sim/cfapi"
)

type simFlags struct {
	listen        string
	token         string
	email, key    string
	account       string
	zones         []string
	seed          uint64
	retention     bool
	logpullDelay  time.Duration
	rateLimit     int
	auditRate     float64
	pushRate      float64
	ownershipDir  string
	storage       cfapi.Endpoints
	relaxed       bool
	faultRate     float64
	v2CountString bool
	logLevel      string
	stopAfter     time.Duration
}

func newSimCmd(s streams) *cobra.Command {
	f := simFlags{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run a simulated Cloudflare API (audit logs, Logpull, Logpush jobs) for testing collectors",
		Long: `Serve a simulated Cloudflare API under /client/v4, as described by
shared/cloudflare/PROTOCOL.md: API tokens and Global API Keys, the response envelope and
error codes, rate limits, audit logs v1 and v2 (a stream of realistic events that grows
with time), Logpull (retention flag, received, rayids, fields) and the Logpush job API.
Enabled Logpush jobs with an http(s) destination push gzip batches to it.

Object storage destinations (s3://, r2://, gs://, azure://) need somewhere to write:
--ownership-dir DIR keeps every bucket as DIR/<scheme>/<bucket>/<key>; the --*-endpoint
flags reach real stores or emulators instead, standing in for Cloudflare's own access:
s3:// without keys goes to --s3-endpoint with --s3-access-key/--s3-secret-key (MinIO as
AWS); s3:// with keys and endpoint= goes where the conf says (--http-endpoints: a bare
host is http://); r2:// goes to --r2-endpoint with the conf's keys; gs:// to
--gcs-endpoint (fake-gcs-server); azure:// to --azure-endpoint (Azurite,
http://127.0.0.1:10000/devstoreaccount1) with the conf's own SAS. Ownership challenges,
the test.txt.gz written at job creation and each batch (<path>/<YYYYMMDD>/<start>_<end>_<hash>.log.gz)
land there. The S3 keys can come from FLAREHOSE_SIM_S3_ACCESS_KEY and FLAREHOSE_SIM_S3_SECRET_KEY.

It prints the API base URL, the token and the account and zone IDs to use. Without
--token a random token is made; --email alone makes a random Global API Key for it.
Zones are the simulator's built-in ones; --zone ID[=NAME] gives them your IDs (in order,
or by NAME).`,
		Example: `  flarehose sim
  flarehose sim --listen 127.0.0.1:8787 --token my-test-token --retention
  flarehose sim --email me@example.com --zone 023e105f4ecef8ad9ca31a8372d0c353=northwind-traders.com
  flarehose sim --ownership-dir ./buckets --relaxed-limits
  FLAREHOSE_SIM_S3_SECRET_KEY=minioadmin flarehose sim --s3-endpoint http://127.0.0.1:9000 --s3-access-key minioadmin \
    --r2-endpoint http://127.0.0.1:9000 --gcs-endpoint http://127.0.0.1:4443 --azure-endpoint http://127.0.0.1:10000/devstoreaccount1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if f.stopAfter > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, f.stopAfter)
				defer cancel()
			}
			return runSim(ctx, s, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8787", "address to serve the API on")
	fl.StringVar(&f.token, "token", "", "API token to accept, with every permission (default: a random one)")
	fl.StringVar(&f.email, "email", "", "X-Auth-Email of a Global API Key")
	fl.StringVar(&f.key, "key", "", "X-Auth-Key (37 hex digits; default with --email: a random one)")
	fl.StringVar(&f.account, "account", "", "account ID, 32 hex digits (default: the simulator's)")
	fl.StringArrayVar(&f.zones, "zone", nil, "zone ID[=NAME] (repeatable; default: the built-in zones and their IDs)")
	fl.Uint64Var(&f.seed, "seed", 1, "simulator seed (same seed, same audit log and Logpull records)")
	fl.BoolVar(&f.retention, "retention", false, "start with Logpull retention on for every zone (Cloudflare starts with it off)")
	fl.DurationVar(&f.logpullDelay, "logpull-delay", time.Minute, "how long ago a Logpull end must be (docs: 1m; OpenAPI: 5m)")
	fl.IntVar(&f.rateLimit, "rate-limit", 1200, "requests per 5 minutes per credential (-1: no limit)")
	fl.Float64Var(&f.auditRate, "audit-rate", 30, "audit log events per hour")
	fl.Float64Var(&f.pushRate, "push-rate", 10, "records per second each enabled Logpush job pushes")
	fl.StringVar(&f.ownershipDir, "ownership-dir", "", "keep object storage destinations (ownership challenges, test.txt.gz, job batches) in this directory as DIR/<scheme>/<bucket>/<key>")
	fl.StringVar(&f.storage.S3Endpoint, "s3-endpoint", "", "S3 endpoint standing in for AWS S3 (e.g. MinIO http://127.0.0.1:9000) for s3:// destinations without keys")
	fl.StringVar(&f.storage.S3AccessKey, "s3-access-key", "", "access key for --s3-endpoint (env FLAREHOSE_SIM_S3_ACCESS_KEY)")
	fl.StringVar(&f.storage.S3SecretKey, "s3-secret-key", "", "secret key for --s3-endpoint (env FLAREHOSE_SIM_S3_SECRET_KEY, which keeps it out of ps)")
	fl.StringVar(&f.storage.S3Region, "s3-region", "", "region to sign --s3-endpoint requests with (default: the destination's, else us-east-1)")
	fl.StringVar(&f.storage.R2Endpoint, "r2-endpoint", "", "S3 endpoint standing in for R2 (e.g. MinIO) for r2:// destinations, with their keys")
	fl.StringVar(&f.storage.GCSEndpoint, "gcs-endpoint", "", "GCS endpoint (e.g. fake-gcs-server http://127.0.0.1:4443) for gs:// destinations")
	fl.StringVar(&f.storage.AzureEndpoint, "azure-endpoint", "", "Azure Blob endpoint with the account (e.g. Azurite http://127.0.0.1:10000/devstoreaccount1) for azure:// destinations, with their SAS")
	fl.BoolVar(&f.storage.HTTPEndpoints, "http-endpoints", false, "read an S3-compatible destination's endpoint=host (no scheme) as http:// (local MinIO)")
	fl.BoolVar(&f.relaxed, "relaxed-limits", false, "accept any max_upload_* values (small batches for tests)")
	fl.Float64Var(&f.faultRate, "logpull-fault-rate", 0, "share of Logpull responses cut short with \"Error streaming data.\"")
	fl.BoolVar(&f.v2CountString, "v2-count-string", false, "emit audit v2 result_info.count as a string, as the docs' example does")
	fl.StringVar(&f.logLevel, "log-level", "warn", "log level (debug, info, warn, error)")
	fl.DurationVar(&f.stopAfter, "stop-after", 0, "stop by itself after this long (0: run until Ctrl-C)")
	return cmd
}

func randomToken() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:40]
}

// simConfig turns the flags into the simulator's configuration.
func simConfig(f simFlags, logger *slog.Logger) (cfapi.Config, error) {
	cfg := cfapi.Config{
		Seed: f.seed, AccountID: f.account, RetentionOn: f.retention, LogpullMinDelay: f.logpullDelay,
		RateLimit: f.rateLimit, AuditRate: f.auditRate, PushRate: f.pushRate, RelaxedLimits: f.relaxed,
		V2CountString: f.v2CountString, Logger: logger,
	}
	if f.rateLimit == 0 {
		return cfg, usagef("--rate-limit must be positive or -1")
	}
	token := f.token
	if token == "" {
		token = randomToken()
	}
	cfg.Tokens = []cfapi.Token{{Value: token, Name: "flarehose-sim", Permissions: cfapi.AllPermissions}}
	switch {
	case f.email != "":
		key := f.key
		if key == "" {
			key = cfapi.NewGlobalKey(randomToken())
		}
		cfg.Keys = []cfapi.GlobalKey{{Email: f.email, Key: key}}
	case f.key != "":
		return cfg, usagef("--key needs --email")
	}
	builtin := sim.Zones()
	used := map[string]bool{}
	for i, spec := range f.zones {
		id, name, named := strings.Cut(spec, "=")
		if !named {
			if i >= len(builtin) {
				return cfg, usagef("--zone %s: only %d built-in zones; name one with ID=NAME", spec, len(builtin))
			}
			name = builtin[i].Name
		}
		if used[name] {
			return cfg, usagef("--zone %s: zone %s is given twice", spec, name)
		}
		used[name] = true
		cfg.Zones = append(cfg.Zones, cfapi.Zone{ID: strings.ToLower(id), Name: name})
	}
	if f.storage.S3Endpoint != "" { // the environment's keys only matter with an endpoint
		if f.storage.S3AccessKey == "" {
			f.storage.S3AccessKey = os.Getenv("FLAREHOSE_SIM_S3_ACCESS_KEY")
		}
		if f.storage.S3SecretKey == "" {
			f.storage.S3SecretKey = os.Getenv("FLAREHOSE_SIM_S3_SECRET_KEY")
		}
	}
	switch st := f.storage; {
	case f.ownershipDir != "" && st != (cfapi.Endpoints{}):
		return cfg, usagef("--ownership-dir keeps every bucket locally: it does not mix with --s3-endpoint, --r2-endpoint, --gcs-endpoint, --azure-endpoint or --http-endpoints")
	case f.ownershipDir != "":
		cfg.Storage = cfapi.LocalDir{Dir: f.ownershipDir}
	case st != (cfapi.Endpoints{}):
		if err := st.Check(); err != nil {
			return cfg, usageError{err}
		}
		cfg.Storage = st
	}
	if f.faultRate < 0 || f.faultRate > 1 {
		return cfg, usagef("--logpull-fault-rate must be in [0, 1]")
	}
	if f.faultRate > 0 {
		rate := f.faultRate
		cfg.LogpullFault = func(string, time.Time, time.Time) (int, bool) {
			if mrand.Float64() >= rate {
				return 0, false
			}
			return mrand.IntN(50), true
		}
	}
	if math.IsNaN(f.auditRate) || f.auditRate < 0 || f.pushRate < 0 {
		return cfg, usagef("--audit-rate and --push-rate must not be negative")
	}
	return cfg, nil
}

func runSim(ctx context.Context, s streams, f simFlags) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usagef("--log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: level}))
	cfg, err := simConfig(f, logger)
	if err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return usageError{err}
	}
	in, err := cfapi.Listen(f.listen, cfg)
	if err != nil {
		return err
	}
	defer in.Close()
	c := in.Config()
	fmt.Fprintf(s.out, "flarehose sim: Cloudflare API at %s  (Ctrl-C to stop)\n", in.BaseURL)
	fmt.Fprintf(s.out, "  token:    %s  (Authorization: Bearer; %s)\n", in.Token(), permissionList())
	for _, k := range c.Keys {
		fmt.Fprintf(s.out, "  key:      X-Auth-Email: %s  X-Auth-Key: %s\n", k.Email, k.Key)
	}
	fmt.Fprintf(s.out, "  account:  %s  (%s)\n", in.AccountID(), c.AccountName)
	for _, z := range in.Zones() {
		fmt.Fprintf(s.out, "  zone:     %s  %s\n", z.ID, z.Name)
	}
	retention := "off: POST /zones/{id}/logs/control/retention/flag {\"flag\":true} first"
	if f.retention {
		retention = "on"
	}
	limit := fmt.Sprintf("rate limit %d requests / 5 min", c.RateLimit)
	if c.RateLimit < 0 {
		limit = "no rate limit"
	}
	fmt.Fprintf(s.out, "  logpull retention %s; %s\n", retention, limit)
	if line := storageLine(f); line != "" {
		fmt.Fprintf(s.out, "  object storage: %s\n", line)
	}
	<-ctx.Done()
	return nil
}

// storageLine says where object storage destinations go (no secrets).
func storageLine(f simFlags) string {
	if f.ownershipDir != "" {
		return "every bucket under " + f.ownershipDir
	}
	var parts []string
	for _, p := range []struct{ scheme, endpoint string }{
		{"s3", f.storage.S3Endpoint}, {"r2", f.storage.R2Endpoint}, {"gs", f.storage.GCSEndpoint}, {"azure", f.storage.AzureEndpoint},
	} {
		if p.endpoint != "" {
			parts = append(parts, p.scheme+":// -> "+p.endpoint)
		}
	}
	if f.storage.HTTPEndpoints {
		parts = append(parts, "S3-compatible endpoints over http")
	}
	return strings.Join(parts, ", ")
}

func permissionList() string {
	names := make([]string, len(cfapi.AllPermissions))
	for i, p := range cfapi.AllPermissions {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
