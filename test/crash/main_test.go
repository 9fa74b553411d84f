// Package crash holds end-to-end crash tests: `flarehose serve` runs as a
// child process under a continuous Logpush load and is killed with SIGKILL
// at random moments, restarted on the same data directory, stopped with
// SIGTERM; a sink fails transiently. The store must end up holding every
// acknowledged record exactly once. Skipped with -short.
package crash

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/cli"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/registry"
	"github.com/flarehose/flarehose/internal/sink"
	"github.com/flarehose/flarehose/internal/store"
)

// childEnv makes the test binary run the flarehose CLI instead of the tests
// (the child of TestSinkFailsMidBatch). Its value is the failure rate of the
// test-only sink type flakySinkType.
const childEnv = "FLAREHOSE_CRASH_CHILD_FLAKY"

func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(childEnv); ok {
		rate, err := strconv.ParseFloat(v, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad", childEnv, v)
			os.Exit(2)
		}
		registerFlakySink(rate)
		// What cmd/flarehose's main does, with one more sink type.
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// flakySinkType is the DuckDB store behind a wrapper that fails a share of
// its writes. It exists only in this test binary's child.
const flakySinkType = "crashtest_flaky_duckdb"

const injectedMsg = "crashtest: injected sink failure"

func registerFlakySink(rate float64) {
	registry.Sinks = append(registry.Sinks, registry.SinkFactory{
		Type:        flakySinkType,
		Description: "test only: the duckdb store, failing some writes",
		NewConfig:   func() registry.Validator { return store.DefaultSinkConfig() },
		Build: func(name string, c registry.Validator, d sink.Deps) (sink.Sink, error) {
			s, err := store.NewSink(name, *c.(*store.SinkConfig), d)
			if err != nil {
				return nil, err
			}
			return &flakySink{Store: s, rate: rate, deps: d}, nil
		},
	})
}

// flakySink fails a share of its writes in one of four ways:
//
//   - before: nothing written (a connection refused, a full disk);
//   - interrupt: the store's write is canceled after a random few
//     milliseconds, mid-transaction when it lands there (DuckDB rolls back);
//   - half: the first half of the batch is committed, then the write fails
//     (a bulk request that partly succeeded);
//   - after: the whole batch is committed, then the write fails (the answer
//     was lost).
//
// The pipeline retries the batch until a write succeeds; the store's dedup
// must make the retries of "half" and "after" harmless. Search, retention
// and Close are the store's own (embedded).
type flakySink struct {
	*store.Store
	rate float64
	deps sink.Deps
}

func (f *flakySink) Write(ctx context.Context, b *event.Batch) error {
	if rand.Float64() >= f.rate {
		return f.Store.Write(ctx, b)
	}
	modes := []string{"before", "interrupt", "half", "after"}
	mode := modes[rand.IntN(len(modes))]
	f.deps.Logger.Info(injectedMsg, "mode", mode, "records", b.Len())
	switch mode {
	case "interrupt":
		cctx, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(30_000))*time.Microsecond)
		defer cancel()
		if err := f.Store.Write(cctx, b); err != nil {
			return err
		}
		return nil // finished before the cancel: a success
	case "half":
		if err := f.Store.Write(ctx, &event.Batch{Records: b.Records[:b.Len()/2]}); err != nil {
			return err
		}
	case "after":
		if err := f.Store.Write(ctx, b); err != nil {
			return err
		}
	}
	return errors.New(injectedMsg + " (" + mode + ")")
}
