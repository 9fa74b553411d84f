// Package sink defines what every sink (embedded DuckDB store,
// Elasticsearch/OpenSearch) implements. Concrete sinks live in their own
// packages and are listed in internal/registry.
package sink

import (
	"context"
	"log/slog"

	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// Sink writes batches read from the durable queue. Write returns nil only
// once the batch is durably committed in the destination; on error the queue
// keeps the batch and Write is called again with it (at-least-once), so a
// sink must tolerate re-delivery (records carry a deterministic ID).
type Sink interface {
	Name() string
	Write(ctx context.Context, b *event.Batch) error
	Close() error
}

// WriteSizer is implemented by sinks that want other bounds on one Write
// than the pipeline's defaults (20,000 records, 32 MiB of documents): a
// bigger transaction stores faster into DuckDB but holds more memory.
// Values <= 0 keep the default.
type WriteSizer interface {
	MaxWrite() (records, bytes int)
}

// Deps are the shared services a sink factory may use.
type Deps struct {
	Logger  *slog.Logger
	Metrics *telemetry.Metrics
	DataDir string
	// DeadLetters keeps records the sink permanently rejects (mapping
	// conflicts, 400s), with the reason; nil in tools that have none.
	DeadLetters *deadletter.Store
}
