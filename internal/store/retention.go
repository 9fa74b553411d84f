package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ApplyRetention deletes events older than now - Retention and returns how
// many. It does nothing when Retention is 0. Rows arrive roughly in time
// order, so the DELETE touches few row groups (zone maps on ts); DuckDB
// reclaims the space of emptied row groups at its next checkpoint.
func (s *Store) ApplyRetention(ctx context.Context, now time.Time) (int64, error) {
	if s.opts.Retention <= 0 {
		return 0, nil
	}
	if s.readOnly {
		return 0, ErrReadOnly
	}
	if err := s.acquire(); err != nil {
		return 0, err
	}
	defer s.release()
	s.retMu.Lock()
	defer s.retMu.Unlock()
	cutoff := now.Add(-s.opts.Retention)
	res, err := s.db.ExecContext(ctx, "DELETE FROM events WHERE ts < make_timestamp(?)", cutoff.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("store: retention: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: retention: %w", err)
	}
	return n, nil
}

// RunRetention applies retention now and then every `every` (default one
// hour) until ctx is done. It returns at once when Retention is 0.
func (s *Store) RunRetention(ctx context.Context, every time.Duration) {
	if s.opts.Retention <= 0 || s.readOnly {
		return
	}
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := s.ApplyRetention(ctx, start)
		if errors.Is(err, ErrClosed) {
			return
		}
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("store: retention failed", "err", err)
		case n > 0:
			s.log.Info("store: retention deleted old events", "deleted", n,
				"older_than", start.Add(-s.opts.Retention).UTC(), "took", time.Since(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
