package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/registry"
	"github.com/flarehose/flarehose/internal/service"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// defaultConfigYAML is what `serve` runs without --config: the Logpush
// receiver (secret from FLAREHOSE_SECRET) into the embedded store.
const defaultConfigYAML = `
sources:
  - type: logpush_http
    secret: ${FLAREHOSE_SECRET:-}
sinks:
  - type: duckdb
`

// serveFlags are the overrides shared by serve and demo.
type serveFlags struct {
	configPath     string
	listen         string
	httpAddr       string
	dataDir        string
	insecureNoAuth bool
	logLevel       string
	logFormat      string
}

func (f *serveFlags) register(cmd *cobra.Command, withConfig bool) {
	fl := cmd.Flags()
	if withConfig {
		fl.StringVarP(&f.configPath, "config", "c", "", "configuration file (YAML); without it: Logpush receiver -> embedded store")
		fl.BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "accept Logpush uploads without a secret (testing only)")
	}
	fl.StringVar(&f.listen, "listen", "", "Logpush receiver address (default 127.0.0.1:9560)")
	fl.StringVar(&f.httpAddr, "http", "", "UI, API and metrics address (default 127.0.0.1:8080)")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory: queue, store, dead letters (default ./flarehose-data)")
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (default info)")
	fl.StringVar(&f.logFormat, "log-format", "", "text or json (default text)")
}

// load builds the configuration: the file or the default, then the flags.
func (f *serveFlags) load() (*config.Config, error) {
	var cfg *config.Config
	var err error
	if f.configPath != "" {
		cfg, err = config.Load(f.configPath)
	} else {
		if os.Getenv("FLAREHOSE_SECRET") == "" && !f.insecureNoAuth {
			return nil, usagef("set FLAREHOSE_SECRET to the shared secret Cloudflare will send in the X-Flarehose-Secret header (see README), or pass --insecure-no-auth for a local test")
		}
		cfg, err = config.Parse([]byte(defaultConfigYAML), os.LookupEnv)
	}
	if err != nil {
		return nil, err
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if f.httpAddr != "" {
		cfg.HTTP.Listen = f.httpAddr
	}
	if f.logLevel != "" {
		cfg.Log.Level = f.logLevel
	}
	if f.logFormat != "" {
		cfg.Log.Format = f.logFormat
	}
	for _, c := range cfg.Sources {
		if c.Type != "logpush_http" {
			continue
		}
		if f.listen != "" {
			setKey(c.Node, "listen", f.listen)
		}
		if f.insecureNoAuth {
			setKey(c.Node, "insecure_no_auth", "true")
		}
	}
	return cfg, cfg.Validate()
}

// setKey sets a scalar key in a YAML mapping node, replacing an existing one.
func setKey(n *yaml.Node, key, value string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: value}
			return
		}
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}

func newServeCmd(s streams) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the collector: receive Cloudflare logs, store them, serve the UI and API",
		Long: `Run what the configuration says. Without --config: a Logpush HTTP receiver on
127.0.0.1:9560 (secret from FLAREHOSE_SECRET), the embedded DuckDB store in ./flarehose-data,
and the UI, API and /metrics on 127.0.0.1:8080.

SIGINT or SIGTERM stops accepting uploads, lets the store commit what is queued
(up to shutdown_timeout) and exits; anything not yet stored stays in the durable
queue and is delivered on the next start.`,
		Example: `  FLAREHOSE_SECRET=$(openssl rand -hex 24) flarehose serve
  flarehose serve --config /etc/flarehose/flarehose.yaml
  flarehose serve --insecure-no-auth --listen 127.0.0.1:9560 --http 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runService(ctx, s, cfg, nil)
		},
	}
	f.register(cmd, true)
	return cmd
}

// runService starts a service, calls started (if any) once it runs, waits
// for ctx and shuts down gracefully.
func runService(ctx context.Context, s streams, cfg *config.Config, started func(*service.Service) error) error {
	log, err := telemetry.NewLogger(s.err, cfg.Log)
	if err != nil {
		return err
	}
	svc, err := service.New(cfg, log, telemetry.NewMetrics(), Version)
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		_ = svc.Shutdown(context.Background())
		return err
	}
	log.Info("flarehose running", "data_dir", cfg.DataDir, "ui", httpURL(svc.HTTPAddr()), "version", Version)
	if started != nil {
		if err := started(svc); err != nil {
			_ = svc.Shutdown(context.Background())
			return err
		}
	}
	<-ctx.Done()
	log.Info("shutting down", "deadline", cfg.ShutdownTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout.D())
	defer cancel()
	start := time.Now()
	err = svc.Shutdown(shutCtx)
	log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
	return err
}

func httpURL(addr string) string {
	if addr == "" {
		return ""
	}
	return "http://" + addr + "/"
}

func newValidateCmd(s streams) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate --config FILE",
		Short: "Check a configuration file without starting anything",
		Long: `Parse the configuration, expand ${ENV} references, reject unknown keys (with their
line) and validate every source and sink section. Exits 0 when valid, 1 when not.`,
		Example: `  flarehose validate --config flarehose.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if path == "" {
				return usagef("--config FILE is required")
			}
			cfg, err := config.Load(path)
			if err == nil {
				err = registry.Check(cfg)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "%s: valid (%d source(s), %d sink(s), data_dir %s)\n", path, len(cfg.Sources), len(cfg.Sinks), cfg.DataDir)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "configuration file to check")
	return cmd
}
