// Package event holds the types that flow between pipeline stages: raw
// deliveries from sources, normalized records and batches of them, and the
// Consumer interface a source hands its deliveries to. It is the lowest
// package of the pipeline: every stage may import it, it imports no stage.
package event

import (
	"context"
	"errors"
	"time"
)

// Record is one normalized event: an ECS JSON document plus the metadata the
// queue and the sinks need without parsing the document again.
type Record struct {
	Dataset string // Cloudflare dataset name, e.g. "http_requests"
	ID      string // deterministic id (RayID-based or a hash of the raw record), used for dedup
	Time    int64  // @timestamp in unix nanoseconds; 0 when the record had none
	Doc     []byte // the ECS document, one JSON object
}

// Batch is the unit that moves between stages: never single events.
type Batch struct {
	Records []Record
}

// Len returns the number of records in the batch.
func (b *Batch) Len() int { return len(b.Records) }

// Bytes returns the total size of the documents in the batch.
func (b *Batch) Bytes() int {
	n := 0
	for i := range b.Records {
		n += len(b.Records[i].Doc)
	}
	return n
}

// Delivery is raw input as a source received it: one Logpush upload, one
// object, one API page. Body is already decompressed.
type Delivery struct {
	Dataset  string    // Cloudflare or Elastic dataset name; "" when the source cannot tell
	Source   string    // name of the source component, for metrics and dead letters
	Origin   string    // where it came from: remote address, object key, URL
	Received time.Time // when the source received it
	Body     []byte    // decompressed payload, normally NDJSON
	// FirstLine is the line number of Body's first line within the whole
	// upload or object (1-based; 0 means 1), for sources that hand a large
	// upload on in chunks, so dead letters name the real line.
	FirstLine int
}

// Result says what became of a delivery's records.
type Result struct {
	Records      int // records (lines) found in the delivery
	Accepted     int // records durably queued
	DeadLettered int // records that could not be normalized; kept with their reason
	Dropped      int // records dropped on purpose (e.g. Cloudflare's validation probe)
}

// Consumer takes a delivery from a source. Consume returns only once every
// accepted record is durable (queued and fsynced) and every bad record is in
// the dead letters, so a source may acknowledge its sender when it returns nil.
type Consumer interface {
	Consume(ctx context.Context, d *Delivery) (Result, error)
}

// Errors a Consumer may return; sources map them to their protocol
// (HTTP 429/503 with Retry-After, a paused poller, an unacked message).
var (
	// ErrBackpressure means the queue is full: retry later, nothing was stored.
	ErrBackpressure = errors.New("queue full: retry later")
	// ErrClosed means the pipeline is shutting down: retry later, nothing was stored.
	ErrClosed = errors.New("pipeline shutting down")
	// ErrUnknownDataset means the delivery names a dataset flarehose does not know.
	ErrUnknownDataset = errors.New("unknown dataset")
	// ErrUnavailable means the records could not be written to disk (disk
	// full, I/O error): retry later, nothing of the failed write was stored.
	ErrUnavailable = errors.New("storage unavailable: retry later")
)
