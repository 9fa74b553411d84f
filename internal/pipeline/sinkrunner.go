package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/queue"
	"github.com/flarehose/flarehose/internal/sink"
)

// Retry bounds for a failing sink: the batch stays in the queue meanwhile.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Default bounds of one sink write: queue entries that are already durable
// are gathered into one batch (one store transaction, one bulk request) up
// to these limits, so many small uploads do not cost one commit each. A
// sink.WriteSizer sets its own.
const (
	maxWriteRecords = 20000
	maxWriteBytes   = 32 << 20
)

// writeBounds returns the write bounds for s.
func writeBounds(s sink.Sink) (records, bytes int) {
	records, bytes = maxWriteRecords, maxWriteBytes
	if ws, ok := s.(sink.WriteSizer); ok {
		r, b := ws.MaxWrite()
		if r > 0 {
			records = r
		}
		if b > 0 {
			bytes = b
		}
	}
	return records, bytes
}

// RunSink feeds a sink from the queue until ctx ends or the queue closes:
// read what is queued (waiting for the first entry, then taking what is
// already there up to the bounds above), write it (retrying with backoff
// until the sink commits), then commit the sink's queue position. It
// returns nil on a clean stop.
func (p *Pipeline) RunSink(ctx context.Context, s sink.Sink) error {
	r, err := p.o.Queue.Reader(s.Name())
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.readers[s.Name()] = r
	p.mu.Unlock()
	p.sinkStarted(s.Name())
	log := p.o.Logger.With("sink", s.Name())
	maxRecords, maxBytes := writeBounds(s)
	var g gathered
	for {
		e, err := r.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, queue.ErrClosed) {
				return nil
			}
			p.sinkStopped(s.Name(), err)
			return err
		}
		g.reset()
		last := e.Pos
		g.add(e.Data, log, p)
		for g.batch.Len() < maxRecords && len(g.arena) < maxBytes {
			e, ok, err := r.TryNext(ctx)
			if err != nil || !ok {
				break // an error here resurfaces on the next Next
			}
			last = e.Pos
			g.add(e.Data, log, p)
		}
		if g.batch.Len() > 0 {
			if err := p.write(ctx, s, g.finish()); err != nil {
				return nil // ctx ended while retrying: the entries stay queued
			}
		}
		if err := r.Commit(last); err != nil {
			p.sinkStopped(s.Name(), err)
			return err
		}
	}
}

// gathered is the batch a sink write is built from. Queue entry data is
// only valid until the next read, so documents are copied into arena;
// finish points the records at their copies once the arena stops moving.
type gathered struct {
	batch event.Batch
	arena []byte
	ends  []int
}

func (g *gathered) finish() *event.Batch {
	start := 0
	for i, end := range g.ends {
		g.batch.Records[i].Doc = g.arena[start:end]
		start = end
	}
	return &g.batch
}

func (g *gathered) reset() {
	g.batch.Records, g.arena, g.ends = g.batch.Records[:0], g.arena[:0], g.ends[:0]
}

func (g *gathered) add(data []byte, log *slog.Logger, p *Pipeline) {
	b, err := event.DecodeBatch(data)
	if err != nil {
		// The queue verified the checksum, so this is a bug or a format
		// change, not disk corruption; skipping keeps the sink moving.
		log.Error("skipping undecodable queue entry", "err", err, "bytes", len(data))
		p.o.Metrics.QueueCorrupt.Inc()
		return
	}
	for _, r := range b.Records {
		g.arena = append(g.arena, r.Doc...)
		g.ends = append(g.ends, len(g.arena))
		g.batch.Records = append(g.batch.Records, r)
	}
}

// write retries until the sink commits the batch or ctx ends.
func (p *Pipeline) write(ctx context.Context, s sink.Sink, b *event.Batch) error {
	name := s.Name()
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := s.Write(ctx, b)
		p.o.Metrics.SinkLatency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		if err == nil {
			p.o.Metrics.SinkRecords.WithLabelValues(name).Add(float64(b.Len()))
			p.sinkSucceeded(name)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.o.Metrics.SinkErrors.WithLabelValues(name).Inc()
		p.sinkFailed(name, err)
		p.o.Logger.Warn("sink write failed; batch stays queued and is retried", "sink", name, "attempt", attempt, "records", b.Len(), "retry_in", backoff, "err", err)
		// Full jitter keeps several sinks or instances from retrying in step.
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// Drain waits until every running sink has committed everything queued, or
// ctx ends. Used on shutdown after the sources stopped.
func (p *Pipeline) Drain(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		pending := int64(0)
		p.mu.Lock()
		for _, r := range p.readers {
			pending += r.Lag()
		}
		p.mu.Unlock()
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// SinkHealth is a sink's state as its runner sees it.
type SinkHealth struct {
	// Up is true while the sink's writes succeed (or none was needed yet).
	Up bool `json:"up"`
	// LastSuccess is when a write last committed; zero before the first.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// FailingSince is when the current run of failed writes began; zero
	// while up.
	FailingSince time.Time `json:"failing_since,omitzero"`
	// Failures counts the failed attempts since then.
	Failures int `json:"failures,omitempty"`
	// LastError is the last write's error while failing.
	LastError string `json:"last_error,omitempty"`
	// Stopped is true when the runner gave up (a queue error): nothing is
	// delivered to the sink until a restart.
	Stopped bool `json:"stopped,omitempty"`
}

// SinkHealth returns the health of every sink that RunSink was called for,
// by sink name. The map is a copy.
func (p *Pipeline) SinkHealth() map[string]SinkHealth {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]SinkHealth, len(p.health))
	for k, v := range p.health {
		out[k] = *v
	}
	return out
}

// sinkState returns name's health record; p.mu must be held.
func (p *Pipeline) sinkState(name string) *SinkHealth {
	if p.health == nil {
		p.health = map[string]*SinkHealth{}
	}
	h := p.health[name]
	if h == nil {
		h = &SinkHealth{Up: true}
		p.health[name] = h
	}
	return h
}

func (p *Pipeline) sinkStarted(name string) {
	p.mu.Lock()
	h := p.sinkState(name)
	h.Up, h.Stopped, h.FailingSince, h.Failures, h.LastError = true, false, time.Time{}, 0, ""
	p.mu.Unlock()
	p.o.Metrics.SinkUp.WithLabelValues(name).Set(1)
}

func (p *Pipeline) sinkSucceeded(name string) {
	now := time.Now()
	p.mu.Lock()
	h := p.sinkState(name)
	wasDown, since, failures := !h.Up, h.FailingSince, h.Failures
	h.Up, h.LastSuccess, h.FailingSince, h.Failures, h.LastError = true, now, time.Time{}, 0, ""
	p.mu.Unlock()
	p.o.Metrics.SinkUp.WithLabelValues(name).Set(1)
	p.o.Metrics.SinkLastSuccess.WithLabelValues(name).Set(float64(now.UnixNano()) / 1e9)
	if wasDown {
		p.o.Logger.Info("sink writes succeed again", "sink", name, "failing_for", now.Sub(since).Round(time.Millisecond), "failed_attempts", failures)
	}
}

func (p *Pipeline) sinkFailed(name string, err error) {
	p.mu.Lock()
	h := p.sinkState(name)
	if h.FailingSince.IsZero() {
		h.FailingSince = time.Now()
	}
	h.Up = false
	h.Failures++
	h.LastError = err.Error()
	p.mu.Unlock()
	p.o.Metrics.SinkUp.WithLabelValues(name).Set(0)
}

func (p *Pipeline) sinkStopped(name string, err error) {
	p.sinkFailed(name, err)
	p.mu.Lock()
	p.sinkState(name).Stopped = true
	p.mu.Unlock()
}
