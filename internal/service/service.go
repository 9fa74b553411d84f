// Package service assembles a running flarehose from a configuration: the
// durable queue, the normalizer, dead letters, sinks, sources and the HTTP
// server for UI, API and metrics. `serve` and `demo` both run a Service.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flarehose/flarehose/internal/api"
	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/normalize"
	"github.com/flarehose/flarehose/internal/pipeline"
	"github.com/flarehose/flarehose/internal/queue"
	"github.com/flarehose/flarehose/internal/registry"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/sink"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// AddrFile, in the data directory, holds the UI/API address of the running
// service, so `flarehose search` can reach it while the store is held.
const AddrFile = "server.addr"

// Service is a configured, not yet started, flarehose.
type Service struct {
	cfg     *config.Config
	log     *slog.Logger
	metrics *telemetry.Metrics
	version string

	queue   *queue.Queue
	env     *normalize.Env
	dead    *deadletter.Store
	pipe    *pipeline.Pipeline
	sources []source.Source
	sinks   []sink.Sink
	engine  search.Engine

	httpSrv  *http.Server
	httpAddr string

	sinkCancel context.CancelFunc
	sinkWG     sync.WaitGroup
	bgCancel   context.CancelFunc
	bgWG       sync.WaitGroup
	ready      atomic.Bool
	closeOnce  sync.Once
}

// New builds every component from cfg; nothing runs until Start. On error
// whatever was opened is closed again.
func New(cfg *config.Config, log *slog.Logger, metrics *telemetry.Metrics, version string) (s *Service, err error) {
	if err := registry.Check(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s = &Service{cfg: cfg, log: log, metrics: metrics, version: version}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	s.env, err = normalize.NewEnv(normalize.Options{
		PreserveOriginal:    cfg.Normalize.PreserveOriginal,
		KeepDuplicateFields: cfg.Normalize.KeepDuplicateFields,
		GeoIPDir:            cfg.Normalize.GeoIPDir,
		AccountID:           cfg.Normalize.AccountID,
		OnUnknownFields: func(dataset string, n int) {
			metrics.UnknownFields.WithLabelValues(dataset).Add(float64(n))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	sinkNames := make([]string, len(cfg.Sinks))
	for i, c := range cfg.Sinks {
		sinkNames[i] = c.Name
	}
	s.queue, err = queue.Open(queue.Options{
		Dir:          filepath.Join(cfg.DataDir, "queue"),
		Readers:      sinkNames, // every sink's cursor holds back deletion from the start
		MaxBytes:     int64(cfg.Queue.MaxBytes),
		SegmentBytes: int64(cfg.Queue.SegmentBytes),
		Metrics:      metrics,
		Logger:       log.With("component", "queue"),
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	s.dead, err = deadletter.Open(filepath.Join(cfg.DataDir, "deadletter"))
	if err != nil {
		return nil, err
	}
	s.pipe = pipeline.New(pipeline.Options{Queue: s.queue, Env: s.env, DeadLetters: s.dead, Metrics: metrics, Logger: log, SourceTags: sourceTags(cfg, s.env.DefaultTags())})

	for _, c := range cfg.Sinks {
		f, scfg, _ := registry.DecodeSink(c) // checked above
		sk, err := f.Build(c.Name, scfg, sink.Deps{Logger: log.With("sink", c.Name), Metrics: metrics, DataDir: cfg.DataDir, DeadLetters: s.dead})
		if err != nil {
			return nil, fmt.Errorf("sink %q: %w", c.Name, err)
		}
		s.sinks = append(s.sinks, sk)
		if s.engine == nil { // the first searchable sink serves the UI and API
			if e, ok := sk.(search.Engine); ok {
				s.engine = e
			} else if f.Engine != nil {
				s.engine = f.Engine(sk)
			}
		}
	}
	for _, c := range cfg.Sources {
		f, scfg, _ := registry.DecodeSource(c)
		src, err := f.Build(c.Name, scfg, source.Deps{
			Logger: log.With("source", c.Name), Metrics: metrics, DataDir: cfg.DataDir,
			Datasets: normalize.Resolve,
		})
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", c.Name, err)
		}
		s.sources = append(s.sources, src)
	}
	return s, nil
}

// Engine returns the store that serves searches, or nil.
func (s *Service) Engine() search.Engine { return s.engine }

// HTTPAddr returns the UI/API address once started ("" when disabled).
func (s *Service) HTTPAddr() string { return s.httpAddr }

// Sources returns the built sources (the demo needs the receiver's address).
func (s *Service) Sources() []source.Source { return s.sources }

// Start runs sink loops, the HTTP server and then the sources, so nothing
// is accepted before it can be stored.
func (s *Service) Start(ctx context.Context) error {
	sinkCtx, cancel := context.WithCancel(context.Background())
	s.sinkCancel = cancel
	for _, sk := range s.sinks {
		s.sinkWG.Add(1)
		go func() {
			defer s.sinkWG.Done()
			if err := s.pipe.RunSink(sinkCtx, sk); err != nil {
				s.log.Error("sink stopped", "sink", sk.Name(), "err", err)
			}
		}()
	}
	bgCtx, bgCancel := context.WithCancel(context.Background())
	s.bgCancel = bgCancel
	for _, sk := range s.sinks {
		if r, ok := sk.(interface {
			RunRetention(context.Context, time.Duration)
		}); ok {
			s.bgWG.Add(1)
			go func() { defer s.bgWG.Done(); r.RunRetention(bgCtx, time.Hour) }()
		}
	}
	// New Cloudflare fields: remembered across restarts for `flarehose fields --unknown`.
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		s.env.PersistUnknownFields(bgCtx, filepath.Join(s.cfg.DataDir, normalize.UnknownFieldsFile), time.Minute,
			func(err error) { s.log.Warn("cannot save unknown field names", "err", err) })
	}()
	if s.cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("http listen %s: %w", s.cfg.HTTP.Listen, err)
		}
		s.httpAddr = ln.Addr().String()
		opts := api.Options{
			Metrics: s.metrics, Logger: s.log.With("component", "api"), Version: s.version,
			Ready: s.readyErr, DeadLetterDir: s.dead.Dir(),
		}
		if s.engine != nil {
			opts.Engine = s.engine
			if d, ok := s.engine.(interface {
				Datasets(context.Context) ([]search.Count, error)
			}); ok {
				opts.Datasets = d.Datasets
			}
		}
		// Tell `flarehose search` where to go while we hold the store.
		if err := os.WriteFile(filepath.Join(s.cfg.DataDir, AddrFile), []byte(s.httpAddr+"\n"), 0o640); err != nil {
			s.log.Warn("cannot record the server address for flarehose search", "err", err)
		}
		s.httpSrv = &http.Server{Handler: api.NewHandler(opts), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", "err", err)
			}
		}()
	}
	for _, src := range s.sources {
		if err := src.Start(ctx, s.pipe); err != nil {
			return fmt.Errorf("source %q: %w", src.Name(), err)
		}
	}
	s.ready.Store(true)
	return nil
}

func (s *Service) readyErr() error {
	if !s.ready.Load() {
		return errors.New("not ready: starting or shutting down")
	}
	return s.healthErr(time.Now())
}

// healthErr reports what makes a running service unable to deliver: writes
// to disk failing (uploads get 503), or a sink failing for longer than
// sink_unhealthy_after (data piles up in the queue).
func (s *Service) healthErr(now time.Time) error {
	var msgs []string
	if since, err := s.pipe.StorageError(); err != nil {
		msgs = append(msgs, fmt.Sprintf("writing to disk has failed since %s (%s ago): %v", since.UTC().Format(time.RFC3339), roundDur(now.Sub(since)), err))
	}
	if after := s.cfg.SinkUnhealthyAfter.D(); after > 0 {
		health := s.pipe.SinkHealth()
		names := make([]string, 0, len(health))
		for name := range health {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			h := health[name]
			if h.FailingSince.IsZero() || now.Sub(h.FailingSince) < after {
				continue
			}
			what := "failing"
			if h.Stopped {
				what = "stopped"
			}
			msgs = append(msgs, fmt.Sprintf("sink %q %s since %s (%s, longer than sink_unhealthy_after %s; %d failed attempts): %s",
				name, what, h.FailingSince.UTC().Format(time.RFC3339), roundDur(now.Sub(h.FailingSince)), after, h.Failures, clip(h.LastError, 300)))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New("not ready: " + strings.Join(msgs, "; "))
}

func roundDur(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Shutdown stops accepting input, lets the sinks commit what is queued
// (until ctx ends), then closes everything. What the sinks could not commit
// in time stays in the durable queue for the next start.
func (s *Service) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	var errs []error
	for _, src := range s.sources {
		if err := src.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("source %q: %w", src.Name(), err))
		}
	}
	if err := s.pipe.Drain(ctx); err != nil {
		s.log.Warn("shutdown deadline reached before sinks caught up; the rest stays queued", "err", err)
	}
	if s.httpSrv != nil {
		_ = os.Remove(filepath.Join(s.cfg.DataDir, AddrFile))
		shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.httpSrv.Shutdown(shutCtx)
		cancel()
	}
	errs = append(errs, s.closeAll())
	return errors.Join(errs...)
}

// closeAll stops the loops and closes every opened part, in reverse order.
func (s *Service) closeAll() error {
	var errs []error
	s.closeOnce.Do(func() {
		if s.bgCancel != nil {
			s.bgCancel()
			s.bgWG.Wait() // the last save of unknown field names finishes
		}
		if s.sinkCancel != nil {
			s.sinkCancel()
		}
		if s.queue != nil {
			errs = append(errs, s.queue.Close())
		}
		s.sinkWG.Wait()
		for _, sk := range s.sinks {
			errs = append(errs, sk.Close())
		}
		if s.dead != nil {
			errs = append(errs, s.dead.Close())
		}
		if s.env != nil {
			errs = append(errs, s.env.Close())
		}
	})
	return errors.Join(errs...)
}

// sourceTags resolves each source's normalize: overrides against the
// top-level defaults; sources without overrides are left out.
func sourceTags(cfg *config.Config, defaults normalize.Tags) map[string]normalize.Tags {
	out := map[string]normalize.Tags{}
	for _, c := range cfg.Sources {
		o := c.Normalize
		if o.PreserveOriginal == nil && o.KeepDuplicateFields == nil {
			continue
		}
		t := defaults
		if o.PreserveOriginal != nil {
			t.PreserveOriginal = *o.PreserveOriginal
		}
		if o.KeepDuplicateFields != nil {
			t.KeepDuplicateFields = *o.KeepDuplicateFields
		}
		out[c.Name] = t
	}
	return out
}
