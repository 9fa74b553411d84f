package pipeline

import (
	"context"
	"errors"
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

// RunSink feeds a sink from the queue until ctx ends or the queue closes:
// read an entry, write it (retrying with backoff until the sink commits it),
// then commit the sink's queue position. It returns nil on a clean stop.
func (p *Pipeline) RunSink(ctx context.Context, s sink.Sink) error {
	r, err := p.o.Queue.Reader(s.Name())
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.readers[s.Name()] = r
	p.mu.Unlock()
	log := p.o.Logger.With("sink", s.Name())
	for {
		e, err := r.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, queue.ErrClosed) {
				return nil
			}
			return err
		}
		b, err := event.DecodeBatch(e.Data)
		if err != nil {
			// The queue verified the checksum, so this is a bug or a format
			// change, not disk corruption; skipping keeps the sink moving.
			log.Error("skipping undecodable queue entry", "err", err, "bytes", len(e.Data))
			p.o.Metrics.QueueCorrupt.Inc()
		} else if err := p.write(ctx, s, &b); err != nil {
			return nil // ctx ended while retrying: the entry stays queued
		}
		if err := r.Commit(e.Pos); err != nil {
			return err
		}
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
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.o.Metrics.SinkErrors.WithLabelValues(name).Inc()
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
