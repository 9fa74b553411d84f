package cfapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/flarehose/flarehose/internal/objstore"
	"github.com/flarehose/flarehose/internal/sim"
)

// Running enabled jobs: an enabled job with a simulated dataset
// (http_requests, firewall_events, audit_logs) and an HTTP destination, or
// an object storage one (s3, r2, gs, azure) when Config.Storage is set,
// pushes gzip batches to it through internal/sim's Pusher in real time,
// with its output_options, batch limits and filter: POSTs, or objects
// named <path>/<YYYYMMDD>/<start>_<end>_<hash>.log.gz (PROTOCOL.md §3.2).
// Zone datasets are generated per job; an audit_logs job pushes the
// account's audit log as the audit log API serves it (a sim.Feed), so a
// job and a poller see the same events. The job object shows the pusher's last_complete, last_error and
// error_message; a job that keeps failing for Config.PushDisableAfter gets
// disabled.

type jobRun struct {
	pusher *sim.Pusher
	cancel context.CancelFunc
	done   chan struct{}
}

// wait blocks until the run has stopped; nil waits for nothing.
func (r *jobRun) wait() {
	if r != nil {
		<-r.done
	}
}

// pushable reports whether the simulator pushes this job.
func (s *Server) pushable(j *job, dest *destination) bool {
	if !j.enabled || dest == nil || dest.http == nil && !s.objectPushable(dest) {
		return false
	}
	scope, err := sim.DatasetScope(j.dataset)
	return err == nil && scope == j.scope.kind // account firewall_events is not simulated
}

// startLocked starts the job's pusher when it should run. The caller
// holds s.mu.
func (s *Server) startLocked(j *job, dest *destination) {
	if s.closed || !s.pushable(j, dest) {
		return
	}
	out, err := j.simOutput()
	if err != nil {
		j.lastError, j.errorMessage = s.clock.Now(), err.Error()
		return
	}
	sj := sim.Job{ID: j.id, Dataset: j.dataset, DestinationConf: j.destinationConf, Output: out}
	if j.name != nil {
		sj.Name = *j.name
	}
	if j.scope.zone != nil {
		sj.Zone = j.scope.zone.Name
	}
	if j.maxRecords != nil {
		sj.MaxUploadRecords = *j.maxRecords
	}
	if j.maxBytes != nil {
		sj.MaxUploadBytes = *j.maxBytes
	}
	if j.maxInterval != nil {
		sj.MaxUploadInterval = time.Duration(*j.maxInterval) * time.Second
	}
	seed := s.cfg.Seed*1_000_003 + uint64(j.id)
	opts := sim.PushOptions{
		Mode: sim.ModeRealtime, Rate: s.cfg.PushRate, Seed: seed, Probe: sim.ProbeNone,
		Client: s.cfg.PushClient, Backoff: s.cfg.PushBackoff, MaxAttempts: s.cfg.PushMaxAttempts,
		DisableAfter: s.cfg.PushDisableAfter, Now: s.clock.Now,
		Logger: s.cfg.Logger.With("logpush_job", j.id),
	}
	if j.dataset == "audit_logs" {
		// The account's audit log, as the audit log API serves it: the job
		// pushes each event once it is visible, from the job's start on.
		feed, err := sim.NewFeed(j.dataset, s.audit.feed(s.clock.Now()))
		if err != nil {
			j.lastError, j.errorMessage = s.clock.Now(), err.Error()
			return
		}
		opts.Generator, opts.FollowTraffic = feed, true
	}
	if j.filter != nil {
		ds, _ := s.catalog.lookup(j.scope.kind, j.dataset)
		cf, err := compileFilter(*j.filter, ds)
		if err == nil {
			gen := opts.Generator
			if gen == nil {
				cfg := sim.Config{Seed: seed}
				if sj.Zone != "" {
					cfg.Zones = []string{sj.Zone}
				}
				gen, err = sim.NewGeneratorConfig(j.dataset, cfg)
			}
			if err == nil {
				opts.Generator, err = sim.NewFilteredGenerator(gen, cf.fields, cf.keep)
			}
		}
		if err != nil {
			j.lastError, j.errorMessage = s.clock.Now(), "filter: "+err.Error()
			return
		}
	}
	if dest.obj != nil {
		// Opening does not contact the store: no network under s.mu.
		if opts.Bucket, err = s.cfg.Storage.Bucket(s.ctx, dest.obj); err != nil {
			j.lastError, j.errorMessage = s.clock.Now(), "error pushing: "+sim.RedactObjectError(dest.obj.Conf, err)
			return
		}
	}
	p, err := sim.NewPusher(sj, opts)
	if err != nil {
		j.lastError, j.errorMessage = s.clock.Now(), err.Error()
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	run := &jobRun{pusher: p, cancel: cancel, done: make(chan struct{})}
	j.run = run
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(run.done)
		err := p.Run(ctx)
		s.mu.Lock()
		defer s.mu.Unlock()
		if j.run != run {
			return // stopped (and synced) by an update, delete or Close
		}
		j.syncLocked()
		j.run = nil
		if errors.Is(err, sim.ErrJobDisabled) {
			j.enabled = false
			s.cfg.Logger.Warn("logpush job disabled after continuous failures", "job", j.id)
		} else if err != nil && ctx.Err() == nil {
			j.lastError, j.errorMessage = s.clock.Now(), err.Error()
		}
	}()
}

// objectPushable reports whether the simulator writes to dest's bucket:
// an object store (not sumo://) and Storage to reach it.
func (s *Server) objectPushable(dest *destination) bool {
	return dest.obj != nil && dest.obj.Scheme != "sumo" && s.cfg.Storage != nil
}

// writeValidationObject writes <path>/<YYYYMMDD>/test.txt.gz, the object
// Cloudflare writes when a job gets an object storage destination
// (§3.2).
func (s *Server) writeValidationObject(ctx context.Context, d *ObjectDestination, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := s.cfg.Storage.Bucket(ctx, d)
	if err == nil {
		err = b.Put(ctx, sim.ValidationObjectKey(d.Path, now), sim.ValidationObject(), objstore.PutOptions{ContentType: "application/gzip"})
	}
	if err != nil {
		return errors.New(sim.RedactObjectError(d.Conf, err))
	}
	s.cfg.Logger.Debug("logpush destination validated", slog.String("bucket", b.String()))
	return nil
}

// syncLocked copies the running pusher's state into the job.
func (j *job) syncLocked() {
	if j.run == nil {
		return
	}
	st := j.run.pusher.Stats()
	if !st.LastComplete.IsZero() {
		j.lastComplete = st.LastComplete
	}
	if !st.LastComplete.IsZero() || !st.LastError.IsZero() {
		j.lastError, j.errorMessage = st.LastError, st.ErrorMessage
	}
	if !st.Enabled {
		j.enabled = false
	}
}

// stopLocked stops the job's pusher and returns the run to wait for
// (after releasing s.mu).
func (j *job) stopLocked() *jobRun {
	run := j.run
	if run == nil {
		return nil
	}
	j.syncLocked()
	j.run = nil
	run.cancel()
	return run
}

func fnvHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

var (
	probeContent = gzipBytes([]byte(`{"content":"tests"}`))
	probeTest    = gzipBytes([]byte("test"))
)

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// pushClient is the client for validation uploads when Config.PushClient
// is nil: Logpush's connect and TLS timeouts.
var pushClient = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   true,
	},
}

// probe makes the validation upload of an HTTP destination (§2.2).
func (s *Server) probe(ctx context.Context, d *sim.Destination) error {
	body := probeContent
	if s.cfg.ProbeTest {
		body = probeTest
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	for k, vs := range d.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Encoding", "gzip")
	client := s.cfg.PushClient
	if client == nil {
		client = pushClient
	}
	resp, err := client.Do(req)
	if err != nil {
		msg := err.Error()
		if base, _, ok := strings.Cut(d.URL, "?"); ok {
			msg = strings.ReplaceAll(msg, d.URL, base+"?...")
		}
		return errors.New(msg)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%d %s", resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	s.cfg.Logger.Debug("logpush destination validated", slog.String("url", strings.SplitN(d.URL, "?", 2)[0]))
	return nil
}
