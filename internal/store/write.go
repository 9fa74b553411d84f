package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/event"
)

var parserPool = sync.Pool{New: func() any { return new(fastjson.Parser) }}

// Write stores a batch in one transaction (one appender flush) and returns
// once it is committed. Each document is parsed once (fastjson) to fill the
// typed columns. A record whose document is not valid JSON is skipped (it
// cannot be stored as JSON, and failing the batch would stall the queue
// forever); it is logged and counted in records_dropped_total{reason=
// "store_invalid_json"}. A record without a time is stored with the time of
// the write, so that it is searchable and expires.
//
// Write is idempotent, so that re-delivered batches are harmless: a record
// whose (dataset, id, ts) is already stored, or repeated within the batch,
// is not stored again (for a record without a time: whose (dataset, id) was
// stored in the last 24 hours); see dedup.go. Skipped records are logged and
// counted in records_dropped_total{reason="duplicate"}.
func (s *Store) Write(ctx context.Context, b *event.Batch) error {
	if b == nil || len(b.Records) == 0 {
		return nil
	}
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	mu := s.writeLock()
	mu.Lock()
	defer mu.Unlock()
	// Sink metrics (records, errors, latency) are counted by the pipeline.
	_, err := s.write(ctx, b, time.Now())
	return err
}

func (s *Store) write(ctx context.Context, b *event.Batch, now time.Time) (int, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: write: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, fmt.Errorf("store: write: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// The batch is retried by the queue; leave the connection clean.
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()

	plan := planBatch(b, now.UTC())
	if err := s.checkExisting(ctx, conn, b, plan, now.UTC()); err != nil {
		return 0, fmt.Errorf("store: write: duplicate check: %w", err)
	}

	written := 0
	err = conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("unexpected driver connection type")
		}
		a, err := duckdb.NewQueryAppender(dconn, s.insert, "appended_data", s.sc.types, nil)
		if err != nil {
			return err
		}
		p := parserPool.Get().(*fastjson.Parser)
		defer parserPool.Put(p)
		row := make([]driver.Value, len(s.sc.phys))
		for _, c := range plan.cands {
			if plan.skip[c.i] {
				continue
			}
			r := &b.Records[c.i]
			v, perr := p.ParseBytes(r.Doc)
			if perr == nil && v.Type() != fastjson.TypeObject {
				perr = errors.New("document is not a JSON object")
			}
			if perr == nil && !utf8.Valid(r.Doc) {
				perr = errors.New("document is not valid UTF-8")
			}
			if perr != nil {
				s.dropInvalid(r, perr)
				continue
			}
			s.sc.fillRow(row, c.ts, r.Dataset, r.ID, r.Doc, v)
			if err := a.AppendRow(row...); err != nil {
				_ = a.Clear()
				_ = a.Close()
				return err
			}
			written++
		}
		// Close flushes: the INSERT ... SELECT FROM appended_data runs here.
		return a.CloseWithCancel(ctx)
	})
	if err != nil {
		return 0, fmt.Errorf("store: write: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("store: write: commit: %w", err)
	}
	committed = true
	s.countDuplicates(plan)
	return written, nil
}

func (s *Store) countDuplicates(p *dedupPlan) {
	for ds, n := range p.dups {
		s.log.Info("store: re-delivered records skipped: already stored", "dataset", ds, "duplicates", n)
		if m := s.opts.Metrics; m != nil {
			m.RecordsDropped.WithLabelValues(ds, "duplicate").Add(float64(n))
		}
	}
}

func (s *Store) dropInvalid(r *event.Record, err error) {
	s.log.Warn("store: record skipped: invalid document", "dataset", r.Dataset, "id", r.ID, "err", err)
	if m := s.opts.Metrics; m != nil {
		m.RecordsDropped.WithLabelValues(r.Dataset, "store_invalid_json").Inc()
	}
}
