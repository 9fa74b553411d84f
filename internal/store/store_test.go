package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/search/searchtest"
	"github.com/flarehose/flarehose/internal/telemetry"
)

func openTest(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "flarehose.duckdb")
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func filledStore(t testing.TB) *Store {
	t.Helper()
	s := openTest(t, Options{Retention: 30 * 24 * time.Hour, Metrics: telemetry.NewMetrics()})
	if err := s.Write(context.Background(), searchtest.Batch()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSearchConformance runs the search conformance suite (the same
// tables as every engine's) against a store holding the fixture.
func TestSearchConformance(t *testing.T) {
	searchtest.Run(t, searchtest.DuckDB, func(t *testing.T, docs []event.Record) search.Engine {
		s := openTest(t, Options{Retention: 30 * 24 * time.Hour, Metrics: telemetry.NewMetrics()})
		if err := s.Write(context.Background(), &event.Batch{Records: docs}); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestDatasetsRetentionReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "flarehose.duckdb")
	s, err := Open(Options{Path: path, Retention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Write(ctx, searchtest.Batch()); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []search.Count{{Value: "http_requests", Count: 6}, {Value: "firewall_events", Count: 3}, {Value: "audit", Count: 2}}
	if !slices.Equal(ds, want) {
		t.Fatalf("Datasets = %v, want %v", ds, want)
	}
	n, err := s.ApplyRetention(ctx, searchtest.At(12, 0).Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("retention deleted %d (%v), want 1", n, err)
	}
	n, err = s.ApplyRetention(ctx, searchtest.At(12, 0).Add(24*time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("second retention deleted %d (%v), want 0", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(ctx, search.Request{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}

	// Reopen: data and schema are kept; nothing migrates twice.
	s, err = Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ds, err = s.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want[0].Count = 5
	if !slices.Equal(ds, want) {
		t.Fatalf("after reopen Datasets = %v, want %v", ds, want)
	}
	var versions int
	if err := s.db.QueryRow("SELECT count(*) FROM schema_version").Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("schema_version rows %d (%v)", versions, err)
	}
	// Retention 0 keeps everything.
	if n, err := s.ApplyRetention(ctx, time.Now()); n != 0 || err != nil {
		t.Fatalf("retention 0: %d %v", n, err)
	}
	s.Close()

	// Read-only: queries work, writes are refused.
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ids, err := searchtest.SearchIDs(t, ro, search.Request{Query: "source.ip:10.0.0.0/8"})
	if err != nil || !slices.Equal(ids, searchtest.Set("h2 h4 f1")) {
		t.Fatalf("read-only search: %v %v", ids, err)
	}
	if err := ro.Write(ctx, searchtest.Batch()); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only write: %v", err)
	}
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "missing.duckdb")); err == nil {
		t.Fatal("OpenReadOnly of a missing file succeeded")
	}
}

func TestRunRetention(t *testing.T) {
	s := openTest(t, Options{Retention: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	old := event.Record{Dataset: "audit", ID: "old", Time: time.Now().Add(-2 * time.Hour).UnixNano(), Doc: []byte(`{"a":1}`)}
	recent := event.Record{Dataset: "audit", ID: "new", Time: time.Now().UnixNano(), Doc: []byte(`{"a":2}`)}
	if err := s.Write(ctx, &event.Batch{Records: []event.Record{old, recent}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.RunRetention(ctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := s.Search(ctx, search.Request{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total == 1 && res.Hits[0].ID == "new" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention did not run: %d events", res.Total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestWriteEdgeCases(t *testing.T) {
	m := telemetry.NewMetrics()
	s := openTest(t, Options{Metrics: m})
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	b := &event.Batch{Records: []event.Record{
		{Dataset: "http_requests", ID: "ok", Time: 0, Doc: []byte(`{"http":{"response":{"status_code":"404"}},"source":{"ip":"not-an-ip"},"event":{"category":"web"}}`)},
		{Dataset: "http_requests", ID: "big", Time: 1, Doc: []byte(`{"http":{"response":{"status_code":99999}},"cloudflare_logpush":{"http_request":{"edge":{"response":{"bytes":1.5}}}},"source":{"as":{"number":"x"}}}`)},
		{Dataset: "http_requests", ID: "bad", Time: 1, Doc: []byte(`{"truncated":`)},
		{Dataset: "http_requests", ID: "array", Time: 1, Doc: []byte(`[1,2]`)},
		{Dataset: "http_requests", ID: "utf8", Time: 1, Doc: []byte("{\"a\":\"\xff\"}")},
	}}
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, &event.Batch{}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, search.Request{Asc: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2 {
		t.Fatalf("stored %d, want 2 (invalid documents skipped)", res.Total)
	}
	// No time: stored with the write time.
	okHit := res.Hits[1]
	if okHit.ID != "ok" || okHit.Time.Before(before) {
		t.Fatalf("record without time: %+v", okHit)
	}
	ids, _ := searchtest.SearchIDs(t, s, search.Request{Query: "http.response.status_code:404 AND event.category:web AND source.ip:*"})
	if !slices.Equal(ids, []string{"ok"}) {
		t.Fatalf("string status / scalar category / unparsable IP: %v", ids)
	}
	// Out-of-range and wrong-typed values are NULL, the doc is kept.
	ids, _ = searchtest.SearchIDs(t, s, search.Request{Query: "NOT http.response.status_code:* AND NOT cloudflare_logpush.http_request.edge.response.bytes:* AND NOT source.as.number:*"})
	if !slices.Equal(ids, []string{"big"}) {
		t.Fatalf("out of range values: %v", ids)
	}
	if n := counterValue(t, m, "flarehose_records_dropped_total"); n != 3 {
		t.Errorf("records_dropped_total = %v, want 3", n)
	}
	// sink_records_total is the pipeline's to count, not the store's.
	if n := counterValue(t, m, "flarehose_sink_records_total"); n != 0 {
		t.Errorf("sink_records_total = %v, want 0 (counted by the pipeline)", n)
	}
}

func counterValue(t *testing.T, m *telemetry.Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, mm := range mf.GetMetric() {
				sum += mm.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestTranslateParametrized(t *testing.T) {
	sc, err := newSchema(columns)
	if err != nil {
		t.Fatal(err)
	}
	marker := "Z9q'\"\\%_"
	for _, q := range []string{
		`url.path:"` + strings.ReplaceAll(strings.ReplaceAll(marker, `\`, `\\`), `"`, `\"`) + `"`,
		`x.y:"` + strings.ReplaceAll(strings.ReplaceAll(marker, `\`, `\\`), `"`, `\"`) + `"`,
		`x.y:Z9q*`,
		`"Z9q"`,
		`x.y >= Z9q`,
		`event.category:Z9q*`,
	} {
		where, args, err := sc.where(search.Request{Query: q, Dataset: marker})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Contains(where, "Z9q") {
			t.Errorf("%s: user value in SQL text: %s", q, where)
		}
		if len(args) != strings.Count(where, "?") {
			t.Errorf("%s: %d args for %d placeholders", q, len(args), strings.Count(where, "?"))
		}
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flarehose.duckdb")
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	// A second Store on the same file in this process.
	if _, err := Open(Options{Path: path}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open in process: %v, want ErrLocked", err)
	}
	if _, err := OpenReadOnly(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("OpenReadOnly in process: %v, want ErrLocked", err)
	}
	// Another process: DuckDB's file lock.
	out, err := runChild(t, path)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(out, "CHILD rw: locked") || !strings.Contains(out, "CHILD ro: locked") {
		t.Fatalf("child did not get ErrLocked:\n%s", out)
	}
	s.Close()
	out, err = runChild(t, path)
	if err != nil || !strings.Contains(out, "CHILD rw: ok") {
		t.Fatalf("after Close the child should open: %v\n%s", err, out)
	}
}

func runChild(t *testing.T, path string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildOpen$", "-test.v")
	cmd.Env = append(os.Environ(), "FLAREHOSE_STORE_CHILD="+path)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestChildOpen runs in the child process of TestLocked.
func TestChildOpen(t *testing.T) {
	path := os.Getenv("FLAREHOSE_STORE_CHILD")
	if path == "" {
		t.Skip("helper for TestLocked")
	}
	report := func(mode string, s *Store, err error) {
		switch {
		case errors.Is(err, ErrLocked):
			fmt.Printf("CHILD %s: locked (%v)\n", mode, err)
		case err != nil:
			fmt.Printf("CHILD %s: error %v\n", mode, err)
		default:
			fmt.Printf("CHILD %s: ok\n", mode)
			s.Close()
		}
	}
	s, err := Open(Options{Path: path})
	report("rw", s, err)
	s, err = OpenReadOnly(path)
	report("ro", s, err)
}

func TestConcurrentWriteAndSearch(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	base := searchtest.Batch()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			b := &event.Batch{Records: slices.Clone(base.Records)}
			for j := range b.Records {
				b.Records[j].ID = fmt.Sprintf("%d-%d", i, j)
			}
			if err := s.Write(ctx, b); err != nil {
				errs <- err
				return
			}
		}
	}()
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := s.Search(ctx, search.Request{Query: "source.ip:10.0.0.0/8", Limit: 5}); err != nil {
					errs <- err
					return
				}
				if _, err := s.Top(ctx, search.Request{}, "event.category", 5); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, search.Request{Limit: 1})
	if err != nil || res.Total != int64(20*len(base.Records)) {
		t.Fatalf("total %v, %v", res, err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{}).Validate(); err == nil {
		t.Error("empty path accepted")
	}
	if err := (Options{Path: "x", Retention: -1}).Validate(); err == nil {
		t.Error("negative retention accepted")
	}
	if err := (Options{Path: "x"}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestSchemaReconcile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.duckdb")
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	// Simulate a database created before a column existed.
	if _, err := s.db.Exec("ALTER TABLE events DROP COLUMN rule_name"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if ro, err := OpenReadOnly(path); err == nil {
		ro.Close()
		t.Fatal("read-only open of an outdated schema succeeded")
	}
	s, err = Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	have, err := tableColumns(context.Background(), s.db)
	if err != nil || have["rule_name"] != "VARCHAR" {
		t.Fatalf("rule_name not re-added: %v %v", have, err)
	}
}
