// Package pipeline connects the stages: it is the event.Consumer sources
// hand deliveries to (decode -> normalize -> durable queue, dead letters for
// bad records) and it runs one reader loop per sink (queue -> sink, retried
// until committed). It holds no stage logic of its own.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/decode"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/normalize"
	"github.com/flarehose/flarehose/internal/queue"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// Options are the pipeline's parts, built and owned by the caller.
type Options struct {
	Queue       *queue.Queue
	Env         *normalize.Env
	DeadLetters *deadletter.Store
	Metrics     *telemetry.Metrics
	Logger      *slog.Logger
	// MaxLineBytes is the longest record accepted; longer lines go to the
	// dead letters. Default 16 MiB.
	MaxLineBytes int
	// SourceTags are per-source output options (by Delivery.Source); other
	// sources get the Env's defaults.
	SourceTags map[string]normalize.Tags
}

// Pipeline is safe for concurrent use by many sources.
type Pipeline struct {
	o       Options
	workers map[normalize.Tags]*sync.Pool // *worker: a normalizer and its buffers, per tag set

	mu      sync.Mutex
	readers map[string]*queue.Reader
	health  map[string]*SinkHealth // by sink name; see SinkHealth

	disk diskState // writes to disk failing: see storageFailed

	// appendHook replaces Queue.Append in tests (a failing disk).
	appendHook func(context.Context, []byte) error
}

// New builds a pipeline. It starts nothing: call RunSink per sink.
func New(o Options) *Pipeline {
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{o: o, readers: map[string]*queue.Reader{}, workers: map[normalize.Tags]*sync.Pool{}}
	for _, store := range []string{"queue", "deadletter"} {
		o.Metrics.StorageErrors.WithLabelValues(store) // export 0 before the first error
	}
	tagSets := []normalize.Tags{o.Env.DefaultTags()}
	for _, t := range o.SourceTags {
		tagSets = append(tagSets, t)
	}
	for _, t := range tagSets {
		p.workers[t] = &sync.Pool{New: func() any { return &worker{n: o.Env.NewNormalizerWith(t)} }}
	}
	return p
}

// worker holds per-goroutine buffers, reused across deliveries.
type worker struct {
	n     *normalize.Normalizer
	arena []byte // documents of the current delivery, back to back
	ends  []int  // end offset of each document in arena
	meta  []normalize.Meta
	batch event.Batch
	entry []byte // the encoded queue entry
	dead  []deadletter.Entry
}

// Consume implements event.Consumer.
func (p *Pipeline) Consume(ctx context.Context, d *event.Delivery) (event.Result, error) {
	var res event.Result
	// A delivery without a dataset (a generic route, an object whose key
	// names none) has each record's dataset inferred from its fields; a
	// record that clearly belongs to another dataset than the delivery's is
	// normalized as that one (normalize.NormalizeAuto).
	dataset, label := "", noDataset
	if d.Dataset != "" {
		var ok bool
		if dataset, ok = normalize.Resolve(d.Dataset); !ok {
			return res, fmt.Errorf("%w: %q", event.ErrUnknownDataset, d.Dataset)
		}
		label = dataset
	}
	tags, ok := p.o.SourceTags[d.Source]
	if !ok {
		tags = p.o.Env.DefaultTags()
	}
	pool := p.workers[tags]
	w := pool.Get().(*worker)
	defer p.putWorker(pool, w)
	w.arena, w.ends, w.meta, w.dead = w.arena[:0], w.ends[:0], w.meta[:0], w.dead[:0]
	lineBase := max(d.FirstLine, 1) - 1

	err := decode.Lines(d.Body, p.o.MaxLineBytes, func(lineNo int, line []byte, lineErr error) error {
		res.Records++
		lineNo += lineBase
		if lineErr != nil {
			w.dead = append(w.dead, p.deadLetter(d, dataset, lineNo, line, "too_large", lineErr))
			return nil
		}
		out, meta, err := w.n.NormalizeAuto(dataset, line, w.arena)
		if err != nil {
			reason := "invalid"
			var re *normalize.RecordError
			if errors.As(err, &re) {
				reason = re.Reason
			}
			w.dead = append(w.dead, p.deadLetter(d, dataset, lineNo, line, reason, err))
			return nil
		}
		if meta.Drop {
			res.Dropped++
			p.o.Metrics.RecordsDropped.WithLabelValues(label, meta.DropReason).Inc()
			return nil
		}
		if meta.Dataset != dataset {
			from := meta.RoutedFrom
			if from == "" {
				from = noDataset
			}
			p.o.Metrics.RecordsRerouted.WithLabelValues(from, meta.Dataset).Inc()
		}
		w.arena = out
		w.ends = append(w.ends, len(out))
		w.meta = append(w.meta, meta)
		return nil
	})
	if err != nil {
		return res, err
	}
	p.o.Metrics.SourceRecords.WithLabelValues(d.Source, label).Add(float64(res.Records))

	// Dead letters first: if the queue append then fails, the sender
	// retries and the bad lines are recorded twice, never zero times.
	if len(w.dead) > 0 {
		if err := p.o.DeadLetters.Write(w.dead); err != nil {
			return res, p.storageFailed("deadletter", err)
		}
		p.storageWorks("deadletter")
		for i := range w.dead {
			p.o.Metrics.RecordsDead.WithLabelValues(label, w.dead[i].Reason).Inc()
		}
		res.DeadLettered = len(w.dead)
	}
	if len(w.ends) == 0 {
		return res, nil
	}
	w.batch.Records = w.batch.Records[:0]
	start, others := 0, 0
	for i, end := range w.ends {
		m := &w.meta[i]
		if m.Dataset != dataset {
			others++
		}
		w.batch.Records = append(w.batch.Records, event.Record{Dataset: m.Dataset, ID: m.ID, Time: m.Time, Doc: w.arena[start:end]})
		start = end
	}
	w.entry = event.AppendBatch(w.entry[:0], &w.batch)
	if err := p.append(ctx, w.entry); err != nil {
		if isDiskError(ctx, err) {
			return res, p.storageFailed("queue", err)
		}
		return res, err
	}
	p.storageWorks("queue")
	res.Accepted = len(w.ends)
	if others == 0 {
		p.o.Metrics.RecordsAccepted.WithLabelValues(dataset).Add(float64(res.Accepted))
	} else {
		for i := range w.meta { // inferred or rerouted records: by their own dataset
			p.o.Metrics.RecordsAccepted.WithLabelValues(w.meta[i].Dataset).Inc()
		}
	}
	return res, nil
}

// noDataset labels the metrics of deliveries that name no dataset.
const noDataset = "none"

// putWorker returns a worker to the pool unless one delivery blew its
// buffers up (a 1 GiB upload must not pin 1 GiB forever).
func (p *Pipeline) putWorker(pool *sync.Pool, w *worker) {
	const keep = 64 << 20
	if cap(w.arena) > keep || cap(w.entry) > keep {
		w.arena, w.entry = nil, nil
	}
	w.batch.Records = w.batch.Records[:0]
	pool.Put(w)
}

func (p *Pipeline) deadLetter(d *event.Delivery, dataset string, lineNo int, line []byte, reason string, err error) deadletter.Entry {
	e := deadletter.Entry{
		Time: time.Now().UTC(), Stage: "normalize", Source: d.Source, Origin: d.Origin,
		Dataset: dataset, Line: lineNo, Reason: reason, Error: err.Error(),
	}
	e.SetRaw(line)
	return e
}
