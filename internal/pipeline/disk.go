package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/queue"
)

// diskState tracks failing writes to disk, per store ("queue",
// "deadletter"), so a failure is logged once when it starts and once when
// it ends, not per upload, and readiness can report it.
type diskState struct {
	failing atomic.Int32 // stores failing: the fast path when 0

	mu     sync.Mutex
	stores map[string]*diskFailure
}

type diskFailure struct {
	since   time.Time
	lastErr error
	refused int // uploads refused since
}

func (p *Pipeline) append(ctx context.Context, entry []byte) error {
	if p.appendHook != nil {
		return p.appendHook(ctx, entry)
	}
	return p.o.Queue.Append(ctx, entry)
}

// isDiskError reports whether an Append error means the queue could not
// write (disk full, I/O error, a failed fsync that stops the queue) rather
// than a full queue, shutdown, an entry too large or the caller giving up.
func isDiskError(ctx context.Context, err error) bool {
	switch {
	case errors.Is(err, event.ErrBackpressure), errors.Is(err, event.ErrClosed),
		errors.Is(err, queue.ErrEntryTooLarge), errors.Is(err, queue.ErrEmptyEntry):
		return false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ctx.Err() == nil // the caller's ctx ended: not the disk
	}
	return true
}

// storageFailed counts a failed write, logs the first of a run of them, and
// returns err wrapped in event.ErrUnavailable: sources answer it like a
// full queue (HTTP 503 + Retry-After), the sender retries later and nothing
// is lost.
func (p *Pipeline) storageFailed(store string, err error) error {
	p.o.Metrics.StorageErrors.WithLabelValues(store).Inc()
	d := &p.disk
	d.mu.Lock()
	f := d.stores[store]
	first := f == nil
	if first {
		if d.stores == nil {
			d.stores = map[string]*diskFailure{}
		}
		f = &diskFailure{since: time.Now()}
		d.stores[store] = f
		d.failing.Add(1)
	}
	f.lastErr = err
	f.refused++
	d.mu.Unlock()
	if first {
		p.o.Logger.Error("cannot write to disk: uploads are refused with 503 and Retry-After until a write succeeds again; "+
			"free disk space or fix the disk (after a failed fsync the queue refuses writes until flarehose is restarted)",
			"store", store, "err", err)
	}
	return fmt.Errorf("%w: %s: %w", event.ErrUnavailable, store, err)
}

// storageWorks ends a run of failed writes to store.
func (p *Pipeline) storageWorks(store string) {
	d := &p.disk
	if d.failing.Load() == 0 {
		return
	}
	d.mu.Lock()
	f := d.stores[store]
	if f != nil {
		delete(d.stores, store)
		d.failing.Add(-1)
	}
	d.mu.Unlock()
	if f != nil {
		p.o.Logger.Info("writing to disk works again", "store", store, "failing_for", time.Since(f.since).Round(time.Millisecond), "uploads_refused", f.refused)
	}
}

// StorageError returns, while writes to disk are failing, when that began
// and the last error; since is zero when writes work.
func (p *Pipeline) StorageError() (since time.Time, err error) {
	d := &p.disk
	if d.failing.Load() == 0 {
		return time.Time{}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, store := range []string{"queue", "deadletter"} {
		if f := d.stores[store]; f != nil {
			if since.IsZero() || f.since.Before(since) {
				since = f.since
			}
			errs = append(errs, fmt.Errorf("%s: %w", store, f.lastErr))
		}
	}
	return since, errors.Join(errs...)
}
