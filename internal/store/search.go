package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/flarehose/flarehose/internal/search"
)

// Limits on requests (the same on every engine).
const (
	DefaultLimit = search.DefaultLimit
	MaxLimit     = search.MaxLimit
	MaxBuckets   = search.MaxBuckets
)

// Search returns a page of matching events, newest first unless r.Asc, and
// the total number of matches.
func (s *Store) Search(ctx context.Context, r search.Request) (*search.Result, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	start := time.Now()
	limit := r.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		return nil, badQuery("limit %d is above the maximum %d", limit, MaxLimit)
	}
	if r.Offset < 0 {
		return nil, badQuery("offset must not be negative")
	}
	where, args, err := s.sc.where(r)
	if err != nil {
		return nil, err
	}
	res := &search.Result{Hits: []search.Hit{}}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+where, args...).Scan(&res.Total); err != nil {
		return nil, s.queryErr(ctx, err)
	}
	if res.Total > int64(r.Offset) {
		// Late materialization: pick the page's rowids on the narrow
		// columns, then read the (large) documents of those rows only.
		// Measured 10-30x faster than ORDER BY ... LIMIT over doc.
		order := "ts DESC, id DESC, rowid DESC"
		if r.Asc {
			order = "ts ASC, id ASC, rowid ASC"
		}
		q := "SELECT ts, dataset, id, CAST(doc AS VARCHAR) FROM events WHERE rowid IN (" +
			"SELECT rowid FROM events WHERE " + where + " ORDER BY " + order + " LIMIT ? OFFSET ?" +
			") ORDER BY " + order
		rows, err := s.db.QueryContext(ctx, q, append(args, limit, r.Offset)...)
		if err != nil {
			return nil, s.queryErr(ctx, err)
		}
		defer rows.Close()
		for rows.Next() {
			var h search.Hit
			var ds, id, doc sql.NullString
			if err := rows.Scan(&h.Time, &ds, &id, &doc); err != nil {
				return nil, s.queryErr(ctx, err)
			}
			h.Time = h.Time.UTC()
			h.Dataset, h.ID = ds.String, id.String
			if doc.Valid {
				h.Doc = json.RawMessage(doc.String)
			} else {
				h.Doc = json.RawMessage("null")
			}
			res.Hits = append(res.Hits, h)
		}
		if err := rows.Err(); err != nil {
			return nil, s.queryErr(ctx, err)
		}
	}
	res.Took = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// Histogram counts matching events per time bucket; search.Histogram lays
// the buckets out (width from r.Since..r.Until or, when open, the matching
// events' own range; buckets at multiples of the width since the Unix epoch;
// empty ones inside the range with count 0).
func (s *Store) Histogram(ctx context.Context, r search.Request, buckets int) ([]search.Bucket, time.Duration, error) {
	if err := s.acquire(); err != nil {
		return nil, 0, err
	}
	defer s.release()
	where, args, err := s.sc.where(r)
	if err != nil {
		return nil, 0, err
	}
	bounds := func() (lo, hi time.Time, ok bool, err error) {
		var l, h sql.NullTime
		if err := s.db.QueryRowContext(ctx, "SELECT min(ts), max(ts) FROM events WHERE "+where, args...).Scan(&l, &h); err != nil {
			return lo, hi, false, s.queryErr(ctx, err)
		}
		return l.Time, h.Time, l.Valid, nil
	}
	// r's range is in where already; an open end is filled in from the
	// matching events, so every one of them is inside [from, to).
	count := func(_, _ time.Time, width time.Duration) (map[int64]int64, error) {
		rows, err := s.db.QueryContext(ctx,
			"SELECT epoch_us(ts) // ? AS b, count(*) FROM events WHERE "+where+" GROUP BY b ORDER BY b",
			append([]any{width.Microseconds()}, args...)...)
		if err != nil {
			return nil, s.queryErr(ctx, err)
		}
		defer rows.Close()
		counts := map[int64]int64{}
		for rows.Next() {
			var b, c int64
			if err := rows.Scan(&b, &c); err != nil {
				return nil, s.queryErr(ctx, err)
			}
			counts[b] = c
		}
		if err := rows.Err(); err != nil {
			return nil, s.queryErr(ctx, err)
		}
		return counts, nil
	}
	return search.Histogram(r, buckets, bounds, count)
}

// Top returns the most frequent values of field among matching events,
// most frequent first (ties by value). For a list field (event.category)
// each element counts. Values of a field outside the typed columns are read
// from the document: an array there counts as its JSON text.
func (s *Store) Top(ctx context.Context, r search.Request, field string, limit int) ([]search.Count, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	if limit <= 0 {
		limit = 10
	}
	if limit > MaxLimit {
		return nil, badQuery("limit %d is above the maximum %d", limit, MaxLimit)
	}
	ref, err := s.sc.resolve(field)
	if err != nil {
		return nil, err
	}
	where, args, err := s.sc.where(r)
	if err != nil {
		return nil, err
	}
	var q string
	switch ref.kind {
	case kList:
		q = "SELECT v, count(*) AS c FROM (SELECT unnest(" + ref.col + ") AS v FROM events WHERE " + where + ") GROUP BY v"
	case kJSON:
		q = "SELECT " + jsonScalar(ref.col) + " AS v, count(*) AS c FROM events WHERE " + where + " GROUP BY v"
	case kString, kIP:
		q = "SELECT " + ref.col + " AS v, count(*) AS c FROM events WHERE " + where + " GROUP BY v"
	default: // numbers, time: group on the typed value, print it as text
		q = "SELECT CAST(g AS VARCHAR) AS v, c FROM (SELECT " + ref.col + " AS g, count(*) AS c FROM events WHERE " + where + " GROUP BY g)"
	}
	q = "SELECT v, c FROM (" + q + ") WHERE v IS NOT NULL ORDER BY c DESC, v LIMIT ?"
	rows, err := s.db.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, s.queryErr(ctx, err)
	}
	defer rows.Close()
	out := []search.Count{}
	for rows.Next() {
		var c search.Count
		if err := rows.Scan(&c.Value, &c.Count); err != nil {
			return nil, s.queryErr(ctx, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.queryErr(ctx, err)
	}
	return out, nil
}

// Datasets counts events per dataset, over all time, largest first.
func (s *Store) Datasets(ctx context.Context) ([]search.Count, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	rows, err := s.db.QueryContext(ctx, "SELECT dataset, count(*) AS c FROM events GROUP BY dataset ORDER BY c DESC, dataset")
	if err != nil {
		return nil, s.queryErr(ctx, err)
	}
	defer rows.Close()
	out := []search.Count{}
	for rows.Next() {
		var c search.Count
		var ds sql.NullString
		if err := rows.Scan(&ds, &c.Count); err != nil {
			return nil, s.queryErr(ctx, err)
		}
		c.Value = ds.String
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.queryErr(ctx, err)
	}
	return out, nil
}

// ErrQueryFailed is returned when the database fails a query that passed
// translation. The DuckDB message (which quotes SQL) goes to the log only.
var ErrQueryFailed = errors.New("store: query failed")

func (s *Store) queryErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("store: query: %w", ctxErr)
	}
	s.log.Error("store: query failed", "err", err)
	kind := "error"
	var de *duckdb.Error
	if errors.As(err, &de) {
		if k, _, ok := strings.Cut(de.Msg, ":"); ok && len(k) < 40 {
			kind = k
		}
	}
	return fmt.Errorf("%w (%s; details in the log)", ErrQueryFailed, kind)
}
