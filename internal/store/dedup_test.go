package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/telemetry"
)

var dedupBase = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// rec is an http_requests-like record number i, i seconds after dedupBase.
func rec(dataset string, i int) event.Record {
	ts := dedupBase.Add(time.Duration(i) * time.Second)
	return event.Record{Dataset: dataset, ID: fmt.Sprintf("8%015x", i), Time: ts.UnixNano(), Doc: httpDoc(i, ts)}
}

func recs(dataset string, from, to int) []event.Record {
	var out []event.Record
	for i := from; i < to; i++ {
		out = append(out, rec(dataset, i))
	}
	return out
}

func write(t *testing.T, s *Store, rs ...event.Record) {
	t.Helper()
	if err := s.Write(context.Background(), &event.Batch{Records: rs}); err != nil {
		t.Fatal(err)
	}
}

// stored returns "dataset/id" -> number of rows.
func stored(t *testing.T, s *Store) map[string]int {
	t.Helper()
	rows, err := s.db.Query("SELECT dataset, id, count(*) FROM events GROUP BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var ds, id string
		var n int
		if err := rows.Scan(&ds, &id, &n); err != nil {
			t.Fatal(err)
		}
		out[ds+"/"+id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkOnce fails unless exactly the records rs are stored, once each.
func checkOnce(t *testing.T, s *Store, rs []event.Record) {
	t.Helper()
	got := stored(t, s)
	want := map[string]int{}
	for _, r := range rs {
		want[r.Dataset+"/"+r.ID] = 1
	}
	for k, n := range got {
		if want[k] != n {
			t.Errorf("%s stored %d times, want %d", k, n, want[k])
		}
	}
	for k := range want {
		if got[k] == 0 {
			t.Errorf("%s not stored", k)
		}
	}
}

func TestDedupSameBatchTwice(t *testing.T) {
	m := telemetry.NewMetrics()
	s := openTest(t, Options{Metrics: m})
	b := recs("http_requests", 0, 200)
	write(t, s, b...)
	write(t, s, b...) // re-delivered after a crash before the queue cursor commit
	checkOnce(t, s, b)
	if n := counterValue(t, m, "flarehose_records_dropped_total"); n != 200 {
		t.Errorf("duplicates counted %v, want 200", n)
	}
}

func TestDedupOverlappingBatches(t *testing.T) {
	s := openTest(t, Options{})
	write(t, s, recs("http_requests", 0, 100)...)
	write(t, s, recs("http_requests", 50, 150)...)
	// The overlap again, in another order, gathered with new records.
	b := append(recs("http_requests", 140, 160), recs("http_requests", 0, 10)...)
	slices.Reverse(b)
	write(t, s, b...)
	checkOnce(t, s, recs("http_requests", 0, 160))
}

func TestDedupWithinBatch(t *testing.T) {
	m := telemetry.NewMetrics()
	s := openTest(t, Options{Metrics: m})
	b := recs("http_requests", 0, 10)
	b = append(b, b[3], b[7], b[3])
	write(t, s, b...)
	checkOnce(t, s, recs("http_requests", 0, 10))
	if n := counterValue(t, m, "flarehose_records_dropped_total"); n != 3 {
		t.Errorf("duplicates counted %v, want 3", n)
	}
}

func TestDedupKeyIsDatasetIDAndTime(t *testing.T) {
	s := openTest(t, Options{})
	h := rec("http_requests", 1)
	f := rec("firewall_events", 1) // same id, another dataset: another event
	later := h
	later.Time += int64(time.Second) // same id, another time: another event
	write(t, s, h, f)
	write(t, s, h, f, later)
	got := stored(t, s)
	if got["http_requests/"+h.ID] != 2 || got["firewall_events/"+f.ID] != 1 || len(got) != 2 {
		t.Fatalf("stored %v, want http_requests twice (two times), firewall_events once", got)
	}
	// Sub-microsecond differences are the same stored time: duplicates.
	nanos := h
	nanos.Time += 300
	write(t, s, nanos)
	if got := stored(t, s); got["http_requests/"+h.ID] != 2 {
		t.Fatalf("a time differing by 300ns was stored again: %v", got)
	}
}

func TestDedupRecordsWithoutTime(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
	a := event.Record{Dataset: "audit", ID: "hash-a", Doc: []byte(`{"a":1}`)}
	b := event.Record{Dataset: "audit", ID: "hash-b", Doc: []byte(`{"b":1}`)}
	noID := event.Record{Dataset: "audit", Doc: []byte(`{"c":1}`)}
	timed := rec("audit", 5)
	if _, err := s.write(ctx, &event.Batch{Records: []event.Record{a, a, b, noID, timed}}, t0); err != nil {
		t.Fatal(err)
	}
	// Re-delivered an hour later: the stored time differs (the time of the
	// write), the id matches within the window.
	if _, err := s.write(ctx, &event.Batch{Records: []event.Record{b, a, timed}}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got := stored(t, s)
	if got["audit/hash-a"] != 1 || got["audit/hash-b"] != 1 || got["audit/"+timed.ID] != 1 || got["audit/"] != 1 {
		t.Fatalf("stored %v, want each once", got)
	}
	// Records without an id have no identity: never deduplicated.
	if _, err := s.write(ctx, &event.Batch{Records: []event.Record{noID}}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Beyond the window a timeless record is stored again (documented limit).
	if _, err := s.write(ctx, &event.Batch{Records: []event.Record{a}}, t0.Add(timelessWindow+2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got = stored(t, s)
	if got["audit/"] != 2 || got["audit/hash-a"] != 2 || got["audit/hash-b"] != 1 {
		t.Fatalf("stored %v", got)
	}
	// A timed record with the id of a timeless one is another event.
	c := rec("audit", 9)
	c.ID = "hash-b"
	if _, err := s.write(ctx, &event.Batch{Records: []event.Record{c}}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, s); got["audit/hash-b"] != 2 {
		t.Fatalf("timed record with a timeless record's id: %v", got)
	}
}

// A late record among recent ones, and records scattered over days: the
// check uses several ranges and still finds every duplicate.
func TestDedupScatteredTimes(t *testing.T) {
	s := openTest(t, Options{})
	var b []event.Record
	for i := range 300 {
		r := rec("http_requests", i)
		// 30 clusters, hours apart, and one record a week earlier.
		r.Time += int64(i%30) * int64(3*time.Hour)
		if i == 17 {
			r.Time -= int64(7 * 24 * time.Hour)
		}
		b = append(b, r)
	}
	write(t, s, b[:200]...)
	write(t, s, b...)
	write(t, s, b[100:]...)
	checkOnce(t, s, b)
}

func TestDedupAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.duckdb")
	b := recs("http_requests", 0, 50)
	for range 2 {
		s, err := Open(Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		write(t, s, b...)
		s.Close()
	}
	s := openTest(t, Options{Path: path})
	checkOnce(t, s, b)
}

// Concurrent writes of the same records (not what the sink runner does, but
// Store is safe for concurrent use): still one copy.
func TestDedupConcurrentWrites(t *testing.T) {
	s := openTest(t, Options{})
	b := recs("http_requests", 0, 100)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := slices.Clone(b)
			slices.Reverse(part[w*10:])
			errs <- s.Write(context.Background(), &event.Batch{Records: part})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkOnce(t, s, b)
}

// A write that fails (here: canceled) leaves nothing behind, and its retry
// stores the batch once.
func TestDedupRetryAfterFailedWrite(t *testing.T) {
	s := openTest(t, Options{})
	b := recs("http_requests", 0, 100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, &event.Batch{Records: b}); err == nil {
		t.Fatal("write with a canceled context succeeded")
	}
	if got := stored(t, s); len(got) != 0 {
		t.Fatalf("failed write left %d records", len(got))
	}
	write(t, s, b...)
	write(t, s, b[:10]...)
	checkOnce(t, s, b)
}

func TestTsRanges(t *testing.T) {
	min := time.Minute.Microseconds()
	h := time.Hour.Microseconds()
	cases := []struct {
		name string
		ts   []int64
		max  int
		want [][2]int64
	}{
		{"empty", nil, 8, nil},
		{"one", []int64{5}, 8, [][2]int64{{5, 5}}},
		{"dense", []int64{3, 1, 2, 2}, 8, [][2]int64{{1, 3}}},
		{"late record", []int64{100 * h, 100*h + 5, 2 * h, 100*h + 9}, 8, [][2]int64{{2 * h, 2 * h}, {100 * h, 100*h + 9}}},
		{"largest gaps win", []int64{0, 1 * h, 11 * h, 12 * h, 40 * h}, 3, [][2]int64{{0, 1 * h}, {11 * h, 12 * h}, {40 * h, 40 * h}}},
		{"small gaps kept together", []int64{0, min - 1, 2*min - 2}, 8, [][2]int64{{0, 2*min - 2}}},
		{"max 1", []int64{0, 10 * h}, 1, [][2]int64{{0, 10 * h}}},
	}
	for _, c := range cases {
		got := tsRanges(c.ts, c.max, min)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: tsRanges = %v, want %v", c.name, got, c.want)
		}
	}
}
