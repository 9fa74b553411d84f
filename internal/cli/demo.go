package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/service"
	"github.com/flarehose/flarehose/internal/sim"
)

type demoFlags struct {
	httpAddr   string
	dataDir    string
	keep       bool
	history    time.Duration
	events     int
	rate       float64
	logLevel   string
	seed       uint64
	stopAfter  time.Duration
	secretSize int
}

// demoDatasets are the simulated Logpush jobs: share of the history volume
// and of the live rate per dataset. firewall_events follows the request
// stream (same seed and volume, FollowTraffic): its events are the rule
// matches of the very requests in http_requests, same RayIDs and instants.
var demoDatasets = []struct {
	dataset string
	share   float64
	follow  bool
}{
	{"http_requests", 1, false},
	{"firewall_events", 1, true},
	{"audit_logs", 0.002, false},
}

func newDemoCmd(s streams) *cobra.Command {
	f := demoFlags{secretSize: 24}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run flarehose with simulated Cloudflare traffic: a UI full of data in seconds",
		Long: `Start the collector (Logpush receiver, durable queue, embedded store, UI) in a
temporary data directory and point the built-in Cloudflare simulator at it: Logpush
jobs for http_requests, firewall_events and audit_logs first upload a day of history
(with attack bursts, bots and blocked requests), then keep pushing live traffic.
Open the printed address; Ctrl-C stops and removes the temporary data.`,
		Example: `  flarehose demo
  flarehose demo --http 127.0.0.1:9090 --history 72h --events 500000
  flarehose demo --data-dir ./demo-data --keep`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if f.stopAfter > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, f.stopAfter)
				defer cancel()
			}
			return runDemo(ctx, s, f, cmd.Flags().Changed("http"))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "UI and API address")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory (default: a temporary one, removed on exit)")
	fl.BoolVar(&f.keep, "keep", false, "keep the data directory on exit")
	fl.DurationVar(&f.history, "history", 24*time.Hour, "how much past traffic to upload first")
	fl.IntVar(&f.events, "events", 150000, "http_requests events in the history (other datasets in proportion)")
	fl.Float64Var(&f.rate, "rate", 20, "live http_requests events per second after the history")
	fl.StringVar(&f.logLevel, "log-level", "warn", "collector log level")
	fl.Uint64Var(&f.seed, "seed", 1, "simulator seed (same seed, same traffic)")
	fl.DurationVar(&f.stopAfter, "stop-after", 0, "stop by itself after this long (0: run until Ctrl-C)")
	return cmd
}

func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func runDemo(ctx context.Context, s streams, f demoFlags, httpExplicit bool) error {
	dir := f.dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "flarehose-demo-")
		if err != nil {
			return err
		}
		dir = tmp
		if !f.keep {
			defer os.RemoveAll(tmp)
		}
	}
	httpAddr := f.httpAddr
	if !httpExplicit {
		// The default port may be taken (a serve running): fall back to any.
		if ln, err := net.Listen("tcp", httpAddr); err != nil {
			httpAddr = "127.0.0.1:0"
		} else {
			ln.Close()
		}
	}
	secret := randomSecret(f.secretSize)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir: %q
log: {level: %s}
http: {listen: %q}
shutdown_timeout: 10s
sources:
  - type: logpush_http
    listen: 127.0.0.1:0
    secret: %s
sinks:
  - type: duckdb
`, dir, f.logLevel, httpAddr, secret)), nil)
	if err != nil {
		return err
	}
	return runService(ctx, s, cfg, func(svc *service.Service) error {
		recv := svc.Sources()[0].(interface{ Addr() string }).Addr()
		fmt.Fprintf(s.out, "flarehose demo: UI at %s  (data in %s; Ctrl-C to stop)\n", httpURL(svc.HTTPAddr()), dir)
		fmt.Fprintf(s.out, "  Logpush receiver at http://%s/logpush/<dataset>; simulating %s of history, then %.0f events/s live\n", recv, f.history, f.rate)
		go simulate(ctx, s, f, recv, secret)
		return nil
	})
}

// simulate runs, per demo dataset, a backfill of history and then a live
// pusher until ctx ends.
func simulate(ctx context.Context, s streams, f demoFlags, recv, secret string) {
	start := time.Now()
	var history sync.WaitGroup
	var mu sync.Mutex
	var total int64
	for i, d := range demoDatasets {
		job := sim.Job{
			ID: i + 1, Name: "demo-" + d.dataset, Dataset: d.dataset,
			DestinationConf: fmt.Sprintf("http://%s/logpush/%s?header_X-Flarehose-Secret=%s", recv, d.dataset, secret),
			Output:          sim.OutputOptions{TimestampFormat: "rfc3339ns"},
		}
		quiet := slog.New(slog.DiscardHandler)
		history.Add(1)
		go func() {
			n := max(int(float64(f.events)*d.share), 10)
			seed := f.seed
			if !d.follow && d.dataset != "http_requests" {
				seed += uint64(i)
			}
			sent, err := runPusher(ctx, job, sim.PushOptions{Mode: sim.ModeBackfill, Records: n, Window: f.history, End: start, Seed: seed, FollowTraffic: d.follow, Concurrency: 2, Logger: quiet})
			mu.Lock()
			total += sent
			mu.Unlock()
			history.Done()
			if err != nil {
				fmt.Fprintf(s.err, "demo: %s history: %v\n", d.dataset, err)
				return
			}
			if rate := f.rate * d.share; rate > 0 {
				job.MaxUploadInterval = 5 * time.Second // livelier than Cloudflare's 30 s for a demo
				if _, err := runPusher(ctx, job, sim.PushOptions{Mode: sim.ModeRealtime, Rate: rate, Seed: seed + 100, FollowTraffic: d.follow, Probe: sim.ProbeNone, Logger: quiet}); err != nil {
					fmt.Fprintf(s.err, "demo: %s live traffic: %v\n", d.dataset, err)
				}
			}
		}()
	}
	history.Wait()
	if ctx.Err() == nil {
		fmt.Fprintf(s.out, "  history uploaded: %d events in %s; live traffic continues\n", total, time.Since(start).Round(100*time.Millisecond))
	}
}

// runPusher runs one simulated Logpush job; a stop by ctx is not an error.
func runPusher(ctx context.Context, job sim.Job, opts sim.PushOptions) (sent int64, err error) {
	p, err := sim.NewPusher(job, opts)
	if err != nil {
		return 0, err
	}
	err = p.Run(ctx)
	if ctx.Err() != nil {
		err = nil
	}
	return p.Stats().RecordsSent, err
}
