// Package elasticsearch is the Elasticsearch/OpenSearch sink: it writes
// normalized records into data streams named as Elastic's Cloudflare
// integrations name them (logs-cloudflare_logpush.http_request-<namespace>),
// with bulk create operations keyed by the record's deterministic id, so a
// re-delivered batch is a 409 per record and nothing is indexed twice.
//
// Write returns nil once every record is indexed (the cluster acknowledges
// a bulk item after its translog is synced), already there, or handed to
// Options.OnRejected as permanently rejected (a mapping conflict, say).
// Items the cluster answers 429 or 5xx are retried with exponential backoff
// and jitter inside Write; a request that fails as a whole (cluster down,
// 5xx, 401) makes Write return an error and the pipeline retries the batch.
package elasticsearch

import (
	"context"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/normalize"
	"github.com/flarehose/flarehose/internal/sink"
)

// Rejected is a record the cluster refused for good (HTTP 400 and the
// like): retrying cannot help, so it goes to the dead letters.
type Rejected struct {
	Record event.Record // Doc is only valid during the OnRejected call
	Status int          // the item's HTTP status; 0 when rejected before sending
	Reason string       // "<error.type>: <error.reason>"
}

// Options are the sink's collaborators.
type Options struct {
	Logger *slog.Logger
	// OnRejected receives the records the cluster rejected permanently,
	// once per Write, before Write returns. If it returns an error, Write
	// returns it and the batch is retried. Nil logs them and drops them.
	OnRejected func([]Rejected) error
	// DatasetFields adds mapping rows to one dataset's component template
	// (by Elastic dataset name), e.g. derived from normalize.FieldDefs.
	DatasetFields func(elasticDataset string) []Field
	// Datasets are the canonical datasets templates are installed for;
	// nil means every dataset normalize knows.
	Datasets []string
}

// Stats are counters since the sink was built.
type Stats struct {
	Requests   int64 // bulk requests answered
	Created    int64 // items created
	Duplicates int64 // items already there (409)
	Retried    int64 // items sent again after a 429/5xx
	Rejected   int64 // items handed to OnRejected
}

// Sink writes batches to an Elasticsearch or OpenSearch cluster.
type Sink struct {
	name string
	cfg  Config
	o    Options
	c    *Client
	log  *slog.Logger

	setupMu   sync.Mutex
	ready     atomic.Bool
	info      Info
	templates map[string]TemplateAction

	streamMu sync.RWMutex
	streams  map[string]string // record dataset -> data stream ("" = unknown)

	requests, created, duplicates, retried, rejected atomic.Int64
	parsers                                          fastjson.ParserPool
}

var _ sink.Sink = (*Sink)(nil)

// New builds the sink. It does not contact the cluster: Setup (called by
// the first Write) detects the flavour and installs the templates, so a
// cluster that is down at start only delays delivery.
func New(name string, cfg Config, o Options) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := NewClient(&cfg)
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sink{name: name, cfg: cfg, o: o, c: c, log: o.Logger, streams: map[string]string{}}, nil
}

// NewSink builds the sink for the registry: rejected records go to the
// service's dead letters (sink.Deps.DeadLetters).
func NewSink(name string, cfg Config, d sink.Deps) (*Sink, error) {
	o := Options{Logger: d.Logger, DatasetFields: normalizerFields}
	if d.DeadLetters != nil {
		o.OnRejected = DeadLetterFunc(d.DeadLetters, name)
	}
	s, err := New(name, cfg, o)
	if err != nil {
		return nil, err
	}
	if d.Metrics != nil {
		if err := s.registerMetrics(d.Metrics.Registry); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// registerMetrics exports Stats as flarehose_sink_items_total{sink,outcome}:
// created, duplicate (409: a re-delivery), retried (429/5xx items sent
// again) and rejected (to the dead letters).
func (s *Sink) registerMetrics(r prometheus.Registerer) error {
	for outcome, read := range map[string]func(Stats) int64{
		"created":   func(st Stats) int64 { return st.Created },
		"duplicate": func(st Stats) int64 { return st.Duplicates },
		"retried":   func(st Stats) int64 { return st.Retried },
		"rejected":  func(st Stats) int64 { return st.Rejected },
	} {
		c := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "flarehose", Name: "sink_items_total",
			Help:        "Documents a search-cluster sink sent, by outcome.",
			ConstLabels: prometheus.Labels{"sink": s.name, "outcome": outcome},
		}, func() float64 { return float64(read(s.Stats())) })
		if err := r.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}

// normalizerFields maps a dataset's fields as the normalizer declares them
// (normalize.FieldDefs, the one source of truth for every dataset's fields
// and types), so the index templates always match the documents.
func normalizerFields(elasticDataset string) []Field {
	defs, ok := normalize.FieldDefs(elasticDataset)
	if !ok {
		return nil
	}
	out := make([]Field, 0, len(defs))
	for _, d := range defs {
		out = append(out, Field{Path: d.Path, Type: d.Type})
	}
	return out
}

// DeadLetterFunc returns an OnRejected that writes the records to a
// dead-letter store (stage = the sink's name, reason "sink_rejected").
func DeadLetterFunc(dead *deadletter.Store, sinkName string) func([]Rejected) error {
	return func(rs []Rejected) error {
		now := time.Now().UTC()
		entries := make([]deadletter.Entry, len(rs))
		for i, r := range rs {
			e := deadletter.Entry{Time: now, Stage: sinkName, Reason: "sink_rejected",
				Error: fmt.Sprintf("HTTP %d: %s", r.Status, r.Reason)}
			e.SetRecord(&r.Record) // the document, id and time: replayable to the sink after a fix
			entries[i] = e
		}
		return dead.Write(entries)
	}
}

// Name returns the sink's configured name.
func (s *Sink) Name() string { return s.name }

// Client returns the sink's HTTP client (for the search engine).
func (s *Sink) Client() *Client { return s.c }

// Namespace returns the configured data stream namespace.
func (s *Sink) Namespace() string { return s.cfg.Namespace }

// Info returns the cluster's flavour and version once Setup succeeded.
func (s *Sink) Info() Info {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	return s.info
}

// Templates returns what Setup did with each template.
func (s *Sink) Templates() map[string]TemplateAction {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	out := make(map[string]TemplateAction, len(s.templates))
	for k, v := range s.templates {
		out[k] = v
	}
	return out
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Created: s.created.Load(), Duplicates: s.duplicates.Load(),
		Retried: s.retried.Load(), Rejected: s.rejected.Load()}
}

// Close releases connections and the dead-letter file.
func (s *Sink) Close() error {
	s.c.Close()
	return nil
}

// Setup reads the cluster's flavour and version and installs the templates
// (install_templates). It runs once successfully; Write calls it.
func (s *Sink) Setup(ctx context.Context) error {
	if s.ready.Load() {
		return nil
	}
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.ready.Load() {
		return nil
	}
	info, err := s.c.Info(ctx)
	if err != nil {
		return fmt.Errorf("elasticsearch: connecting to %s: %w", strings.Join(s.cfg.URLs, ", "), err)
	}
	s.info = info
	if s.cfg.InstallTemplates {
		defs, err := buildTemplates(info, s.elasticDatasets(), s.o.DatasetFields)
		if err != nil {
			return err
		}
		acts, err := installTemplates(ctx, s.c, defs, s.cfg.ForceTemplates)
		s.templates = acts
		if err != nil {
			return fmt.Errorf("elasticsearch: installing templates: %w", err)
		}
		count := map[TemplateAction]int{}
		for name, a := range acts {
			count[a]++
			switch a {
			case TemplateNotOurs, TemplateModified, TemplateNewer:
				s.log.Warn("elasticsearch: template left alone (set force_templates to overwrite)", "template", name, "state", string(a))
			}
		}
		s.log.Info("elasticsearch: templates checked", "cluster", info.String(), "installed", count[TemplateInstalled],
			"updated", count[TemplateUpdated]+count[TemplateForced], "current", count[TemplateCurrent],
			"left_alone", count[TemplateNotOurs]+count[TemplateModified]+count[TemplateNewer])
	} else {
		s.log.Info("elasticsearch: connected", "cluster", info.String())
	}
	s.ready.Store(true)
	return nil
}

func (s *Sink) elasticDatasets() []string {
	ds := s.o.Datasets
	if ds == nil {
		ds = normalize.Datasets()
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range ds {
		if e := normalize.ElasticDataset(d); e != "" && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// stream returns the data stream of a record's dataset ("" if unknown).
func (s *Sink) stream(dataset string) string {
	s.streamMu.RLock()
	ds, ok := s.streams[dataset]
	s.streamMu.RUnlock()
	if ok {
		return ds
	}
	ds = DataStream(dataset, s.cfg.Namespace)
	s.streamMu.Lock()
	if len(s.streams) < 10000 { // record datasets come from a fixed list; bound it anyway
		s.streams[dataset] = ds
	}
	s.streamMu.Unlock()
	return ds
}

// write is the state of one Write.
type write struct {
	recs     []event.Record
	index    []string // data stream per record
	lines    [][]byte // document line per record
	rejected []Rejected
	mu       sync.Mutex
}

// Write indexes a batch; see the package comment.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if err := s.Setup(ctx); err != nil {
		return err
	}
	w := &write{recs: b.Records, index: make([]string, b.Len()), lines: make([][]byte, b.Len())}
	pending := make([]int32, 0, b.Len())
	for i := range b.Records {
		r := &b.Records[i]
		idx := s.stream(r.Dataset)
		if idx == "" {
			w.rejected = append(w.rejected, Rejected{Record: *r, Reason: fmt.Sprintf("unknown dataset %q", r.Dataset)})
			continue
		}
		line, err := docLine(r.Doc)
		if err != nil {
			w.rejected = append(w.rejected, Rejected{Record: *r, Reason: err.Error()})
			continue
		}
		w.index[i], w.lines[i] = idx, line
		pending = append(pending, int32(i))
	}
	backoff := s.cfg.Retry.Initial.D()
	for attempt := 1; len(pending) > 0; attempt++ {
		retry, err := s.sendAll(ctx, w, pending)
		if err != nil {
			return err
		}
		if len(retry) == 0 {
			break
		}
		if attempt >= s.cfg.Retry.Attempts {
			return fmt.Errorf("elasticsearch: %d of %d records still answered 429/5xx after %d attempts; the batch will be retried", len(retry), b.Len(), attempt)
		}
		s.retried.Add(int64(len(retry)))
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, s.cfg.Retry.Max.D())
		pending = retry
	}
	if len(w.rejected) == 0 {
		return nil
	}
	if s.o.OnRejected != nil {
		if err := s.o.OnRejected(w.rejected); err != nil {
			return fmt.Errorf("elasticsearch: handing %d rejected records to the dead letters: %w", len(w.rejected), err)
		}
	} else {
		for i, r := range w.rejected {
			if i == 10 {
				s.log.Error("elasticsearch: more records rejected and dropped", "count", len(w.rejected)-i)
				break
			}
			s.log.Error("elasticsearch: record rejected and dropped (no dead-letter hook)", "dataset", r.Record.Dataset, "id", r.Record.ID, "status", r.Status, "reason", r.Reason)
		}
	}
	s.rejected.Add(int64(len(w.rejected)))
	return nil
}

// sendAll sends the pending records in bulk requests of at most
// bulk_max_bytes, max_in_flight at a time, and returns the records to
// retry. Rejected records are added to w.rejected. An error means a request
// failed as a whole (or the cluster refused writes): the Write fails.
func (s *Sink) sendAll(ctx context.Context, w *write, pending []int32) ([]int32, error) {
	var chunks [][]int32
	limit := int(s.cfg.BulkMaxBytes)
	start, size := 0, 0
	for j, i := range pending {
		n := len(w.lines[i]) + len(w.index[i]) + len(w.recs[i].ID) + 40
		if j > start && size+n > limit {
			chunks = append(chunks, pending[start:j])
			start, size = j, 0
		}
		size += n
	}
	chunks = append(chunks, pending[start:])

	var (
		mu       sync.Mutex
		retry    []int32
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, s.cfg.MaxInFlight)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, ch := range chunks {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(ch []int32) {
			defer func() { <-sem; wg.Done() }()
			r, err := s.sendChunk(ctx, w, ch)
			mu.Lock()
			defer mu.Unlock()
			retry = append(retry, r...)
			if err != nil && firstErr == nil {
				firstErr = err
				cancel() // send no more: the batch is retried as a whole
			}
		}(ch)
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return retry, firstErr
}

// buffers for bulk bodies, reused across requests.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

// sendChunk sends one bulk request.
func (s *Sink) sendChunk(ctx context.Context, w *write, ch []int32) (retry []int32, err error) {
	rawp, gzp := bodyPool.Get().(*[]byte), bodyPool.Get().(*[]byte)
	defer func() { bodyPool.Put(rawp); bodyPool.Put(gzp) }()
	raw := (*rawp)[:0]
	for _, i := range ch {
		raw = appendAction(raw, w.index[i], w.recs[i].ID)
		raw = append(raw, w.lines[i]...)
		raw = append(raw, '\n')
	}
	gz := appendGzip((*gzp)[:0], raw)
	*rawp, *gzp = raw, gz
	resp, err := s.c.Do(ctx, Request{Method: http.MethodPost, Path: "/_bulk?" + bulkFilter, Body: gz, Gzipped: true, ContentType: "application/x-ndjson"})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: bulk: %w", err)
	}
	switch {
	case resp.Status == http.StatusOK:
	case resp.Status == http.StatusTooManyRequests:
		return ch, nil
	case resp.Status == http.StatusRequestEntityTooLarge:
		if len(ch) == 1 {
			w.reject(Rejected{Record: w.recs[ch[0]], Status: resp.Status, Reason: "document larger than the cluster's http.max_content_length"})
			return nil, nil
		}
		r1, err := s.sendChunk(ctx, w, ch[:len(ch)/2])
		if err != nil {
			return r1, err
		}
		r2, err := s.sendChunk(ctx, w, ch[len(ch)/2:])
		return append(r1, r2...), err
	default:
		return nil, fmt.Errorf("elasticsearch: bulk: %w", newHTTPError(http.MethodPost, "/_bulk", resp))
	}
	s.requests.Add(1)
	p := s.parsers.Get()
	defer s.parsers.Put(p)
	errs, items, err := parseBulk(p, resp.Body, len(ch))
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	if !errs {
		s.created.Add(int64(len(ch)))
		return nil, nil
	}
	var failErr error
	for k, it := range items {
		i := ch[k]
		switch classify(it) {
		case itemOK:
			if it.Status == http.StatusConflict {
				s.duplicates.Add(1)
			} else {
				s.created.Add(1)
			}
		case itemRetry:
			retry = append(retry, i)
		case itemRejected:
			w.reject(Rejected{Record: w.recs[i], Status: it.Status, Reason: itemReason(it)})
		case itemFail:
			if failErr == nil {
				failErr = fmt.Errorf("elasticsearch: the cluster refused writes to %s: HTTP %d: %s", w.index[i], it.Status, itemReason(it))
			}
		}
	}
	return retry, failErr
}

func itemReason(it itemResult) string {
	if it.Type == "" {
		return it.Reason
	}
	return it.Type + ": " + it.Reason
}

func (w *write) reject(r Rejected) {
	w.mu.Lock()
	w.rejected = append(w.rejected, r)
	w.mu.Unlock()
}
