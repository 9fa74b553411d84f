package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/flarehose/flarehose/internal/event"
)

// Dedup of re-delivered records.
//
// Records arrive more than once: Cloudflare re-sends an upload whose 200 it
// did not see, and the queue re-delivers to a sink whatever it had not
// committed its cursor for (a crash between the store's commit and the
// cursor's). A record's ID is deterministic (the RayID, or a hash of the raw
// record) and so is its Time, so a re-delivered record has the same
// (dataset, id, ts): Write stores a record only when no row with that key
// exists, and a key repeated inside one batch once.
//
// There is no index on the key: a primary key (an ART index) over 10^8 rows
// costs gigabytes of memory. The check instead exploits that a duplicate has
// the same ts: the batch's keys go to a small temporary table, which is
// joined with the events whose ts falls in the few ranges the batch's
// timestamps cover. Rows arrive roughly in ts order, so DuckDB's zone maps on
// ts skip almost every row group and the check reads a row group or two of
// three columns, whatever the size of the table.
//
// A record without a time is stored with the time of the write, which is
// different on the next delivery: those are checked on (dataset, id) alone
// among the rows of the last timelessWindow.

const (
	// timelessWindow is how far back a record without a time is looked for.
	// A re-delivery comes after a crash and restart, or a Cloudflare retry:
	// minutes, or hours when the collector was down.
	timelessWindow = 24 * time.Hour
	// maxTsRanges bounds the ranges of the existence check: the batch's
	// timestamps are split at their largest gaps, so that one late record
	// does not make the check read everything between it and the rest.
	maxTsRanges = 8
	// minTsGap is the smallest gap worth a range of its own: smaller gaps
	// fall inside one row group anyway.
	minTsGap = time.Minute
)

// dedupTable is the per-connection temporary table of a batch's keys.
const dedupTable = "flarehose_dedup_keys"

// writeLocks serializes the writes to one database file (one Store per file
// per process, see openPaths): the duplicate check of a write must see every
// row an earlier write committed, which two concurrent transactions would not.
var writeLocks sync.Map // absolute path -> *sync.Mutex

func (s *Store) writeLock() *sync.Mutex {
	m, _ := writeLocks.LoadOrStore(s.path, new(sync.Mutex))
	return m.(*sync.Mutex)
}

type dedupKey struct {
	dataset, id string
	ts          int64 // unix microseconds: what the TIMESTAMP column holds
}

// candidate is a record of the batch to check against the table.
type candidate struct {
	i        int // index in the batch
	ts       time.Time
	timeless bool
}

// dedupPlan says which records of a batch to store.
type dedupPlan struct {
	skip  []bool // by index in the batch: a duplicate, not stored
	cands []candidate
	dups  map[string]int // dataset -> duplicates skipped
}

// planBatch assigns each record its stored time (now for records without
// one), marks repeated keys inside the batch and lists the first
// occurrences for the check against the table. Records without an id have
// no identity and are always stored.
func planBatch(b *event.Batch, now time.Time) *dedupPlan {
	p := &dedupPlan{skip: make([]bool, len(b.Records)), cands: make([]candidate, 0, len(b.Records))}
	seen := make(map[dedupKey]struct{}, len(b.Records))
	for i := range b.Records {
		r := &b.Records[i]
		c := candidate{i: i, ts: now, timeless: r.Time == 0}
		if !c.timeless {
			c.ts = time.Unix(0, r.Time).UTC()
		}
		if r.ID != "" {
			k := dedupKey{r.Dataset, r.ID, c.ts.UnixMicro()}
			if _, dup := seen[k]; dup {
				p.skip[i] = true
				p.dup(r.Dataset)
				continue
			}
			seen[k] = struct{}{}
		}
		p.cands = append(p.cands, c)
	}
	return p
}

func (p *dedupPlan) dup(dataset string) {
	if p.dups == nil {
		p.dups = map[string]int{}
	}
	p.dups[dataset]++
}

// checkExisting marks the candidates whose key is already in the table.
// It runs on conn inside the write's transaction.
func (s *Store) checkExisting(ctx context.Context, conn *sql.Conn, b *event.Batch, p *dedupPlan, now time.Time) error {
	var stamps []int64
	timeless := false
	n := 0
	for _, c := range p.cands {
		if b.Records[c.i].ID == "" {
			continue
		}
		n++
		if c.timeless {
			timeless = true
		} else {
			stamps = append(stamps, c.ts.UnixMicro())
		}
	}
	if n == 0 {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+dedupTable+
		" (i INTEGER, dataset VARCHAR, id VARCHAR, ts TIMESTAMP, timeless BOOLEAN)"); err != nil {
		return err
	}
	err := conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("unexpected driver connection type")
		}
		a, err := duckdb.NewAppender(dconn, "temp", "main", dedupTable)
		if err != nil {
			return err
		}
		for _, c := range p.cands {
			r := &b.Records[c.i]
			if r.ID == "" {
				continue
			}
			if err := a.AppendRow(int32(c.i), r.Dataset, r.ID, c.ts, c.timeless); err != nil {
				_ = a.Close()
				return err
			}
		}
		return a.CloseWithCancel(ctx)
	})
	if err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, existingSQL(stamps, timeless, now))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return err
		}
		if i >= 0 && i < len(p.skip) && !p.skip[i] {
			p.skip[i] = true
			p.dup(b.Records[i].Dataset)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// The table is per connection: leave it empty for the next write on it.
	_, err = conn.ExecContext(ctx, "DELETE FROM "+dedupTable)
	return err
}

// existingSQL is the existence check: the indexes of the batch's keys that
// the events table already has. The time bounds are integer literals (no
// user input), so DuckDB sees constants it can prune row groups with.
func existingSQL(stamps []int64, timeless bool, now time.Time) string {
	var q strings.Builder
	if ranges := tsRanges(stamps, maxTsRanges, minTsGap.Microseconds()); len(ranges) > 0 {
		q.WriteString("SELECT k.i FROM " + dedupTable + " k JOIN events e ON e.ts = k.ts AND e.id = k.id AND e.dataset = k.dataset WHERE NOT k.timeless AND (")
		for j, r := range ranges {
			if j > 0 {
				q.WriteString(" OR ")
			}
			fmt.Fprintf(&q, "e.ts BETWEEN %s AND %s", tsLiteral(r[0]), tsLiteral(r[1]))
		}
		q.WriteString(")")
	}
	if timeless {
		if q.Len() > 0 {
			q.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&q, "SELECT k.i FROM "+dedupTable+" k JOIN events e ON e.id = k.id AND e.dataset = k.dataset WHERE k.timeless AND e.ts BETWEEN %s AND %s",
			tsLiteral(now.Add(-timelessWindow).UnixMicro()), tsLiteral(now.UnixMicro()))
	}
	return q.String()
}

func tsLiteral(micros int64) string {
	return "make_timestamp(" + strconv.FormatInt(micros, 10) + "::BIGINT)"
}

// tsRanges covers the timestamps with at most max closed ranges, splitting
// at the largest gaps (of at least minGap) between consecutive timestamps,
// which keeps the total span covered as small as max ranges allow.
func tsRanges(ts []int64, max int, minGap int64) [][2]int64 {
	if len(ts) == 0 {
		return nil
	}
	ts = slices.Clone(ts)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	type gap struct {
		at   int // the range after the gap starts at ts[at]
		size int64
	}
	var gaps []gap
	for i := 1; i < len(ts); i++ {
		if d := ts[i] - ts[i-1]; d >= minGap {
			gaps = append(gaps, gap{i, d})
		}
	}
	if len(gaps) > max-1 {
		slices.SortStableFunc(gaps, func(a, b gap) int {
			switch {
			case a.size > b.size:
				return -1
			case a.size < b.size:
				return 1
			}
			return 0
		})
		gaps = gaps[:max-1]
		slices.SortFunc(gaps, func(a, b gap) int { return a.at - b.at })
	}
	out := make([][2]int64, 0, len(gaps)+1)
	start := 0
	for _, g := range gaps {
		out = append(out, [2]int64{ts[start], ts[g.at-1]})
		start = g.at
	}
	return append(out, [2]int64{ts[start], ts[len(ts)-1]})
}
