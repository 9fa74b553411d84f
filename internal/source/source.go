// Package source defines what every source (Logpush HTTP receiver, object
// store readers, API pollers, file replay) implements. Concrete sources live
// in sub-packages and are listed in internal/registry.
package source

import (
	"context"
	"log/slog"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// Source produces deliveries and hands them to a Consumer. Start returns once
// the source is running (listening, first poll scheduled); Stop stops taking
// new input, waits for in-flight deliveries until ctx ends, and returns.
type Source interface {
	Name() string
	Start(ctx context.Context, next event.Consumer) error
	Stop(ctx context.Context) error
}

// Deps are the shared services a source factory may use.
type Deps struct {
	Logger  *slog.Logger
	Metrics *telemetry.Metrics
	DataDir string // for checkpoints
	// Datasets resolves a dataset name as a sender spells it (Cloudflare's
	// "http_requests" or Elastic's "http_request") to its canonical name;
	// ok is false for a dataset flarehose does not know. Sources use it to
	// reject an unknown dataset before reading the payload. May be nil.
	Datasets func(name string) (canonical string, ok bool)
}
