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
}
