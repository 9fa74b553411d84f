package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every self-metric flarehose exports at /metrics. Label values
// are component names, dataset names and short reason codes: all bounded sets.
type Metrics struct {
	Registry *prometheus.Registry

	// Sources
	SourceRequests  *prometheus.CounterVec   // source, code: deliveries answered, by status
	SourceRecords   *prometheus.CounterVec   // source, dataset: records received
	SourceBytes     *prometheus.CounterVec   // source: compressed bytes received
	AckLatency      *prometheus.HistogramVec // source: receive -> durable ack
	RecordsAccepted *prometheus.CounterVec   // dataset: records durably queued
	RecordsDead     *prometheus.CounterVec   // dataset, reason: records sent to the dead letters
	RecordsDropped  *prometheus.CounterVec   // dataset, reason: records dropped on purpose (probe)
	UnknownFields   *prometheus.CounterVec   // dataset: fields not in the dataset's reference
	RecordsRerouted *prometheus.CounterVec   // from, to: records normalized as another dataset than their route's ("none": no dataset given, inferred)

	// Queue
	QueueBytes        prometheus.Gauge     // bytes on disk not yet released
	QueueEntries      prometheus.Counter   // entries appended
	QueueFsync        prometheus.Histogram // fsync (group commit) duration
	QueueCorrupt      prometheus.Counter   // entries skipped because their checksum failed
	QueueBackpressure prometheus.Counter   // appends refused because the queue was full

	// Sinks
	SinkRecords *prometheus.CounterVec   // sink: records committed
	SinkErrors  *prometheus.CounterVec   // sink: failed writes (retried)
	SinkLatency *prometheus.HistogramVec // sink: write duration per batch
	SinkLag     *prometheus.GaugeVec     // sink: queue bytes not yet committed by this sink
	SinkUp      *prometheus.GaugeVec     // sink: 1 while its writes succeed, 0 while they fail (or it stopped)
	// SinkLastSuccess is the unix time of a sink's last committed write
	// (no series before the first one).
	SinkLastSuccess *prometheus.GaugeVec // sink

	// Disk
	StorageErrors *prometheus.CounterVec // store ("queue", "deadletter"): writes that failed (disk full, I/O error); the sender got 503 + Retry-After

	// API pollers (Cloudflare audit logs, Logpull)
	PollLastSuccess *prometheus.GaugeVec   // source: unix time of the last poll that read everything available
	PollLag         *prometheus.GaugeVec   // source: seconds between now and the time up to which the source has read everything
	PollErrors      *prometheus.CounterVec // source, reason: failed polls (auth, rate_limited, server, network, malformed, backpressure, ...)
}

// NewMetrics builds the metrics on a fresh registry, with Go and process
// collectors included.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{r}
	secs := prometheus.ExponentialBuckets(0.0005, 2, 16) // 0.5 ms .. 16 s
	return &Metrics{
		Registry:          r,
		SourceRequests:    f.counterVec("source_requests_total", "Deliveries answered by a source, by status code.", "source", "code"),
		SourceRecords:     f.counterVec("source_records_total", "Records received by a source.", "source", "dataset"),
		SourceBytes:       f.counterVec("source_bytes_total", "Bytes received by a source, as sent (compressed).", "source"),
		AckLatency:        f.histVec("source_ack_seconds", "Time from receiving a delivery to acknowledging it durably.", secs, "source"),
		RecordsAccepted:   f.counterVec("records_accepted_total", "Records normalized and durably queued.", "dataset"),
		RecordsDead:       f.counterVec("records_deadlettered_total", "Records kept in the dead letters instead of the store.", "dataset", "reason"),
		RecordsDropped:    f.counterVec("records_dropped_total", "Records dropped on purpose, such as Cloudflare's validation probe.", "dataset", "reason"),
		UnknownFields:     f.counterVec("unknown_fields_total", "Fields seen that are not in the dataset's field reference.", "dataset"),
		RecordsRerouted:   f.counterVec("records_rerouted_total", "Records normalized as another dataset than their delivery named (from=\"none\": no dataset named, inferred from the fields).", "from", "to"),
		QueueBytes:        f.gauge("queue_bytes", "Bytes in the durable queue not yet released by every sink."),
		QueueEntries:      f.counter("queue_entries_total", "Batches appended to the durable queue."),
		QueueFsync:        f.hist("queue_fsync_seconds", "Duration of a queue group commit (write + fsync).", secs),
		QueueCorrupt:      f.counter("queue_corrupt_entries_total", "Queue entries skipped because their checksum did not match."),
		QueueBackpressure: f.counter("queue_backpressure_total", "Appends refused because the queue was full."),
		SinkRecords:       f.counterVec("sink_records_total", "Records committed by a sink.", "sink"),
		SinkErrors:        f.counterVec("sink_errors_total", "Failed sink writes (the batch is retried).", "sink"),
		SinkLatency:       f.histVec("sink_write_seconds", "Duration of one sink batch write.", secs, "sink"),
		SinkLag:           f.gaugeVec("sink_lag_bytes", "Queue bytes a sink has not committed yet.", "sink"),
		SinkUp:            f.gaugeVec("sink_up", "1 while a sink's writes succeed, 0 while they fail and are retried (or the sink stopped).", "sink"),
		SinkLastSuccess:   f.gaugeVec("sink_last_success_timestamp_seconds", "Unix time of a sink's last committed write.", "sink"),
		StorageErrors:     f.counterVec("storage_write_errors_total", "Writes to disk that failed (disk full, I/O error): the upload was refused with 503 + Retry-After.", "store"),
		PollLastSuccess:   f.gaugeVec("poll_last_success_timestamp_seconds", "Unix time of an API poller's last poll that read everything available.", "source"),
		PollLag:           f.gaugeVec("poll_lag_seconds", "Seconds between now and the time up to which an API poller has read everything.", "source"),
		PollErrors:        f.counterVec("poll_errors_total", "Failed polls of an API poller, by reason (retried with backoff).", "source", "reason"),
	}
}

type factory struct{ r *prometheus.Registry }

const ns = "flarehose"

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help})
	f.r.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help})
	f.r.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
	f.r.MustRegister(g)
	return g
}

func (f factory) hist(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets})
	f.r.MustRegister(h)
	return h
}

func (f factory) histVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}
