package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/normalize"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/source/logpush"
)

func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		return -1
	}
	return m.GetGauge().GetValue()
}

// switchSink fails while failing is set.
type switchSink struct {
	failing atomic.Bool
	n       atomic.Int64
}

func (s *switchSink) Name() string { return "test" }
func (s *switchSink) Close() error { return nil }
func (s *switchSink) Write(_ context.Context, b *event.Batch) error {
	if s.failing.Load() {
		return errors.New("cluster unreachable")
	}
	s.n.Add(int64(b.Len()))
	return nil
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSinkHealth(t *testing.T) {
	f := newFixture(t)
	s := &switchSink{}
	s.failing.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.RunSink(ctx, s) }()
	defer func() { cancel(); <-done }()

	eventually(t, "the sink to register", func() bool { _, ok := f.p.SinkHealth()["test"]; return ok })
	if h := f.p.SinkHealth()["test"]; !h.Up || !h.FailingSince.IsZero() || !h.LastSuccess.IsZero() {
		t.Fatalf("idle sink: %+v", h)
	}
	up := f.p.o.Metrics.SinkUp.WithLabelValues("test")
	if gaugeValue(up) != 1 {
		t.Fatal("sink_up should be 1 for an idle sink")
	}
	if _, err := f.p.Consume(context.Background(), &event.Delivery{Dataset: "http_requests", Body: []byte(httpLine(1))}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failure to show", func() bool { return f.p.SinkHealth()["test"].Failures >= 2 })
	h := f.p.SinkHealth()["test"]
	if h.Up || h.FailingSince.IsZero() || h.LastError != "cluster unreachable" || gaugeValue(up) != 0 {
		t.Fatalf("failing sink: %+v, sink_up %v", h, gaugeValue(up))
	}
	since := h.FailingSince
	eventually(t, "another attempt", func() bool { return f.p.SinkHealth()["test"].Failures >= 3 })
	if got := f.p.SinkHealth()["test"].FailingSince; !got.Equal(since) {
		t.Fatalf("failing since moved: %v -> %v", since, got)
	}
	s.failing.Store(false)
	eventually(t, "recovery", func() bool { return f.p.SinkHealth()["test"].Up })
	h = f.p.SinkHealth()["test"]
	if !h.FailingSince.IsZero() || h.LastSuccess.IsZero() || h.Failures != 0 || s.n.Load() != 1 || gaugeValue(up) != 1 {
		t.Fatalf("recovered sink: %+v", h)
	}
	if ts := gaugeValue(f.p.o.Metrics.SinkLastSuccess.WithLabelValues("test")); ts < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Fatalf("last success timestamp %v", ts)
	}
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDiskFullAnswers503: when the queue cannot write (disk full, a failed
// fsync), the receiver answers 503 with Retry-After, not 500; the failure
// is logged once, counted, reported by StorageError, and clears once a
// write succeeds.
func TestDiskFullAnswers503(t *testing.T) {
	f := newFixture(t)
	logs := &logBuffer{}
	f.p.o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var diskFull atomic.Bool
	diskFull.Store(true)
	f.p.appendHook = func(ctx context.Context, b []byte) error {
		if diskFull.Load() {
			// What the queue returns when the segment write hits ENOSPC.
			return fmt.Errorf("queue: write segment: %w", &os.PathError{Op: "write", Path: "00000001.seg", Err: syscall.ENOSPC})
		}
		return f.q.Append(ctx, b)
	}

	c := logpush.Config{Listen: "127.0.0.1:0", Secret: "0123456789abcdef-secret"}
	c.SetDefaults()
	rvLogs := &logBuffer{}
	rv, err := logpush.New("lp", c, source.Deps{
		Logger:   slog.New(slog.NewTextHandler(rvLogs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Metrics:  f.p.o.Metrics,
		Datasets: normalize.Resolve,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rv.Start(context.Background(), f.p); err != nil {
		t.Fatal(err)
	}
	defer rv.Stop(context.Background())
	post := func(body string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+rv.Addr()+"/logpush/http_requests", strings.NewReader(body))
		req.Header.Set("X-Flarehose-Secret", c.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}

	for i := range 3 {
		code, retry, msg := post(httpLine(i))
		if code != http.StatusServiceUnavailable || retry == "" || !strings.Contains(msg, "disk") {
			t.Fatalf("upload %d: HTTP %d, Retry-After %q, %q", i, code, retry, msg)
		}
	}
	if n := counterValue(f.p.o.Metrics.StorageErrors.WithLabelValues("queue")); n != 3 {
		t.Errorf("storage_write_errors_total{store=queue} = %v, want 3", n)
	}
	if n := strings.Count(logs.String(), "cannot write to disk"); n != 1 {
		t.Errorf("disk failure logged %d times, want once:\n%s", n, logs)
	}
	if strings.Contains(rvLogs.String(), "level=WARN") {
		t.Errorf("the receiver warns per upload:\n%s", rvLogs)
	}
	since, serr := f.p.StorageError()
	if since.IsZero() || !errors.Is(serr, syscall.ENOSPC) {
		t.Fatalf("StorageError = %v, %v", since, serr)
	}
	// A bad record with the disk full: the dead letters are written (same
	// disk here, but a separate store), the good ones are refused: still 503.
	if code, _, _ := post(httpLine(9) + "\nnot json"); code != http.StatusServiceUnavailable {
		t.Fatalf("mixed upload: HTTP %d", code)
	}
	if n := strings.Count(logs.String(), "cannot write to disk"); n != 1 || strings.Contains(logs.String(), "works again") {
		t.Errorf("a dead-letter write that works must not end the queue's failure:\n%s", logs)
	}

	diskFull.Store(false)
	if code, _, msg := post(httpLine(7)); code != http.StatusOK {
		t.Fatalf("after space was freed: HTTP %d %q", code, msg)
	}
	if since, _ := f.p.StorageError(); !since.IsZero() {
		t.Fatal("StorageError still set after a successful write")
	}
	if !strings.Contains(logs.String(), "writing to disk works again") {
		t.Errorf("recovery not logged:\n%s", logs)
	}
}

func TestDiskErrorClassification(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range []struct {
		ctx  context.Context
		err  error
		disk bool
	}{
		{ctx, fmt.Errorf("queue: fsync segment: %w", syscall.EIO), true},
		{ctx, fmt.Errorf("queue: roll segment: %w", syscall.ENOSPC), true},
		{ctx, fmt.Errorf("queue: full: %w", event.ErrBackpressure), false},
		{ctx, fmt.Errorf("queue closed: %w", event.ErrClosed), false},
		{canceled, context.Canceled, false},
	} {
		if got := isDiskError(c.ctx, c.err); got != c.disk {
			t.Errorf("%v: disk error %v, want %v", c.err, got, c.disk)
		}
	}
}
