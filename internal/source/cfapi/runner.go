package cfapi

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flarehose/flarehose/internal/telemetry"
)

// Runner runs a poller: Poll, wait what it asked, Poll again. A failed
// Poll is logged, counted in flarehose_poll_errors_total{source,reason}
// and retried after RetryDelay; a successful one sets
// flarehose_poll_last_success_timestamp_seconds.
type Runner struct {
	Name    string
	Log     *slog.Logger
	Metrics *telemetry.Metrics
	Clock   Clock
	// Poll does one round and returns how long to wait before the next.
	// ctx ends as soon as Stop is called: it aborts API calls and waits.
	// consumeCtx is for event.Consumer.Consume: it ends only when Stop's
	// own deadline passes, so a page being stored can finish and its
	// checkpoint be written.
	Poll func(ctx, consumeCtx context.Context) (time.Duration, error)

	progressed    atomic.Bool
	mu            sync.Mutex
	cancel        context.CancelFunc
	consumeCancel context.CancelFunc
	done          chan struct{}
}

// Progress tells the runner that the poll in progress moved its
// checkpoint: a failure after it starts the backoff afresh (a source that
// fails on every other window still moves at full speed).
func (r *Runner) Progress() { r.progressed.Store(true) }

// Start runs the loop in a goroutine; the first Poll starts at once.
func (r *Runner) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done != nil {
		return errors.New("already started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cctx, ccancel := context.WithCancel(context.Background())
	r.cancel, r.consumeCancel, r.done = cancel, ccancel, make(chan struct{})
	go r.loop(ctx, cctx, r.done)
	return nil
}

// Stop ends the loop: API calls and waits are aborted at once (the page
// in flight is abandoned, its checkpoint not advanced); a Consume in
// progress may finish until ctx ends, then it is cancelled too. Stop
// returns when the loop has ended, or ctx's error if it had to give up
// waiting.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	done, cancel, ccancel := r.done, r.cancel, r.consumeCancel
	r.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		ccancel()
		return nil
	case <-ctx.Done():
	}
	ccancel()
	select {
	case <-done:
		return nil
	case <-time.After(5 * time.Second):
		return ctx.Err()
	}
}

func (r *Runner) loop(ctx, cctx context.Context, done chan struct{}) {
	defer close(done)
	failures := 0
	for {
		wait, err := r.Poll(ctx, cctx)
		if ctx.Err() != nil {
			return
		}
		if r.progressed.Swap(false) {
			failures = 0
		}
		if err != nil {
			failures++
			reason := Reason(err)
			wait = RetryDelay(err, failures)
			r.Metrics.PollErrors.WithLabelValues(r.Name, reason).Inc()
			level, msg := slog.LevelWarn, "poll failed; retrying"
			switch reason {
			case "backpressure", "closed", "unavailable":
				msg = "the pipeline did not take the records; pausing without advancing the checkpoint"
			case string(KindAuth), string(KindMalformed):
				level = slog.LevelError // needs a person: a credential, or an API that changed
			}
			r.Log.Log(ctx, level, msg, "reason", reason, "err", err.Error(), "retry_in", wait.String(), "failures", failures)
		} else {
			if failures > 0 {
				r.Log.Info("poll succeeded again", "after_failures", failures)
			}
			failures = 0
			r.Metrics.PollLastSuccess.WithLabelValues(r.Name).Set(float64(r.Clock.Now().Unix()))
		}
		if err := r.Clock.Sleep(ctx, wait); err != nil {
			return
		}
	}
}
