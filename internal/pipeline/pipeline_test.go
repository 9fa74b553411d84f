package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/normalize"
	"github.com/flarehose/flarehose/internal/queue"
	"github.com/flarehose/flarehose/internal/telemetry"
)

type fixture struct {
	p    *Pipeline
	q    *queue.Queue
	dead string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	m := telemetry.NewMetrics()
	q, err := queue.Open(queue.Options{Dir: filepath.Join(dir, "queue"), Metrics: m, Readers: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	env, err := normalize.NewEnv(normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := deadletter.Open(filepath.Join(dir, "dead"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close(); env.Close(); dl.Close() })
	return fixture{p: New(Options{Queue: q, Env: env, DeadLetters: dl, Metrics: m, MaxLineBytes: 4096}), q: q, dead: dl.Dir()}
}

func httpLine(i int) string {
	return fmt.Sprintf(`{"RayID":"%016x","EdgeStartTimestamp":"2026-11-21T10:00:%02dZ","ClientIP":"198.51.100.%d","ClientRequestHost":"example.com","ClientRequestMethod":"GET","ClientRequestURI":"/","EdgeResponseStatus":200}`, 0x5000+i, i%60, i%250)
}

// recordingSink is a sink.Sink that fails its first `fail` writes.
type recordingSink struct {
	mu      sync.Mutex
	fail    int
	batches []int
	ids     []string
}

func (s *recordingSink) Name() string { return "test" }
func (s *recordingSink) Close() error { return nil }
func (s *recordingSink) Write(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("injected failure")
	}
	s.batches = append(s.batches, b.Len())
	for _, r := range b.Records {
		if !strings.HasPrefix(string(r.Doc), "{") {
			panic("document not copied intact")
		}
		s.ids = append(s.ids, r.ID)
	}
	return nil
}

func (s *recordingSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func TestConsume(t *testing.T) {
	cases := []struct {
		name                    string
		dataset, body           string
		accepted, dead, dropped int
		wantErr                 error
		deadReason              string
	}{
		{"good records", "http_requests", httpLine(1) + "\n" + httpLine(2) + "\n", 2, 0, 0, nil, ""},
		{"elastic dataset name", "cloudflare_logpush.http_request", httpLine(3), 1, 0, 0, nil, ""},
		{"bad line among good", "http_requests", httpLine(4) + "\nnot json\n" + httpLine(5), 2, 1, 0, nil, "invalid_json"},
		{"too long line", "http_requests", httpLine(6) + "\n{\"RayID\":\"" + strings.Repeat("x", 5000) + "\"}\n", 1, 1, 0, nil, "too_large"},
		{"probe", "http_requests", `{"content":"tests"}`, 0, 0, 1, nil, ""},
		{"unknown dataset", "nope_logs", httpLine(7), 0, 0, 0, event.ErrUnknownDataset, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			res, err := f.p.Consume(context.Background(), &event.Delivery{Dataset: c.dataset, Source: "test", Body: []byte(c.body)})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if res.Accepted != c.accepted || res.DeadLettered != c.dead || res.Dropped != c.dropped {
				t.Fatalf("result %+v, want accepted %d dead %d dropped %d", res, c.accepted, c.dead, c.dropped)
			}
			var reasons []string
			deadletter.Read(f.dead, func(e deadletter.Entry) error { reasons = append(reasons, e.Reason); return nil })
			if len(reasons) != c.dead || (c.dead > 0 && reasons[0] != c.deadReason) {
				t.Fatalf("dead letters %v, want %d with reason %q", reasons, c.dead, c.deadReason)
			}
		})
	}
}

func TestDeadLetterLineNumbersAcrossChunks(t *testing.T) {
	f := newFixture(t)
	_, err := f.p.Consume(context.Background(), &event.Delivery{Dataset: "http_requests", FirstLine: 1001, Body: []byte(httpLine(1) + "\n{oops\n")})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	deadletter.Read(f.dead, func(e deadletter.Entry) error { lines = append(lines, e.Line); return nil })
	if len(lines) != 1 || lines[0] != 1002 {
		t.Fatalf("dead letter lines %v, want [1002]", lines)
	}
}

// sizedSink is a recordingSink with its own write bounds (sink.WriteSizer).
type sizedSink struct {
	recordingSink
	records, bytes int
}

func (s *sizedSink) MaxWrite() (int, int) { return s.records, s.bytes }

// TestRunSinkWriteBounds: a sink.WriteSizer bounds each write by records
// or by bytes; whole queue entries are taken, so a write may pass the byte
// bound by the entry that crossed it.
func TestRunSinkWriteBounds(t *testing.T) {
	for _, tc := range []struct {
		name           string
		records, bytes int
		want           []int
	}{
		{"defaults", 0, 0, []int{20}},
		{"by records", 6, 0, []int{6, 6, 6, 2}},
		{"by bytes", 0, 1, []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for i := 0; i < 10; i++ { // ten entries of two records
				if _, err := f.p.Consume(context.Background(), &event.Delivery{Dataset: "http_requests", Body: []byte(httpLine(2*i) + "\n" + httpLine(2*i+1))}); err != nil {
					t.Fatal(err)
				}
			}
			s := &sizedSink{records: tc.records, bytes: tc.bytes}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- f.p.RunSink(ctx, s) }()
			deadline := time.Now().Add(20 * time.Second)
			for s.count() < 20 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(s.batches) != fmt.Sprint(tc.want) {
				t.Fatalf("writes %v, want %v", s.batches, tc.want)
			}
		})
	}
}

func TestRunSinkRetriesAndCoalesces(t *testing.T) {
	f := newFixture(t)
	// Ten small deliveries queued before the sink starts: they are written
	// together, and the injected failures are retried without loss.
	for i := 0; i < 10; i++ {
		if _, err := f.p.Consume(context.Background(), &event.Delivery{Dataset: "http_requests", Body: []byte(httpLine(2*i) + "\n" + httpLine(2*i+1))}); err != nil {
			t.Fatal(err)
		}
	}
	s := &recordingSink{fail: 2}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.RunSink(ctx, s) }()
	deadline := time.Now().Add(20 * time.Second)
	for s.count() < 20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	drainCtx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	if err := f.p.Drain(drainCtx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.count() != 20 {
		t.Fatalf("sink got %d records, want 20", s.count())
	}
	if len(s.batches) != 1 {
		t.Errorf("sink writes %v: queued entries should be coalesced into one write", s.batches)
	}
	seen := map[string]bool{}
	for _, id := range s.ids {
		if seen[id] {
			t.Fatalf("record %s written twice", id)
		}
		seen[id] = true
	}
}

func TestSourceTags(t *testing.T) {
	f := newFixture(t)
	p := New(Options{Queue: f.p.o.Queue, Env: f.p.o.Env, DeadLetters: f.p.o.DeadLetters, Metrics: f.p.o.Metrics,
		SourceTags: map[string]normalize.Tags{"keep": {PreserveOriginal: true}}})
	for _, src := range []string{"keep", "default"} {
		if _, err := p.Consume(context.Background(), &event.Delivery{Dataset: "http_requests", Source: src, Body: []byte(httpLine(1))}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.q.Reader("test")
	if err != nil {
		t.Fatal(err)
	}
	var original []bool
	for i := 0; i < 2; i++ {
		e, err := r.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := event.DecodeBatch(e.Data)
		original = append(original, strings.Contains(string(b.Records[0].Doc), `"original":"{\"RayID`))
	}
	if !original[0] || original[1] {
		t.Fatalf("event.original present per source = %v, want [true false]", original)
	}
}
