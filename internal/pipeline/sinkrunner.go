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

// Bounds of one sink write: queue entries that are already durable are
// gathered into one batch (one store transaction, one bulk request) up to
// these limits, so many small uploads do not cost one commit each.
const (
	maxWriteRecords = 20000
	maxWriteBytes   = 32 << 20
)

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
	log := p.o.Logger.With("sink", s.Name())
	var g gathered
	for {
		e, err := r.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, queue.ErrClosed) {
				return nil
			}
			return err
		}
		g.reset()
		last := e.Pos
		g.add(e.Data, log, p)
		for g.batch.Len() < maxWriteRecords && len(g.arena) < maxWriteBytes {
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
