package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/sink"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// flakySink fails its writes while failing is set.
type flakySink struct {
	sink.Sink
	failing atomic.Bool
}

func (f *flakySink) Write(ctx context.Context, b *event.Batch) error {
	if f.failing.Load() {
		return errors.New("injected: store unavailable")
	}
	return f.Sink.Write(ctx, b)
}

func getText(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadyzFollowsSinkHealth: /readyz turns 503 once a sink has failed for
// longer than sink_unhealthy_after, naming the sink, and 200 again once it
// recovers; meanwhile the records wait in the queue and arrive after.
func TestReadyzFollowsSinkHealth(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.SinkUnhealthyAfter = config.Duration(200 * time.Millisecond)
	svc, err := New(cfg, slog.New(slog.DiscardHandler), telemetry.NewMetrics(), "test")
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakySink{Sink: svc.sinks[0]}
	flaky.failing.Store(true)
	svc.sinks[0] = flaky
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Shutdown(context.Background())
	ui := "http://" + svc.HTTPAddr()
	base := "http://" + svc.Sources()[0].(interface{ Addr() string }).Addr()

	if code, msg := getText(t, ui+"/readyz"); code != 200 {
		t.Fatalf("readyz before any write: %d %s", code, msg)
	}
	now := time.Now()
	if code, msg := push(t, base, "http_requests", httpRecord(1, now)+"\nnot json\n", nil); code != 200 {
		t.Fatalf("push: %d %s", code, msg)
	}
	var msg string
	waitFor(t, "readyz 503", func() bool {
		var code int
		code, msg = getText(t, ui+"/readyz")
		return code == http.StatusServiceUnavailable
	})
	t.Logf("readyz: %s", msg)
	if !strings.Contains(msg, `sink "duckdb" failing since`) || !strings.Contains(msg, "injected: store unavailable") || !strings.Contains(msg, "sink_unhealthy_after 200ms") {
		t.Fatalf("readyz message %q", msg)
	}
	// Metrics show it too.
	_, metrics := getText(t, ui+"/metrics")
	if !strings.Contains(metrics, `flarehose_sink_up{sink="duckdb"} 0`) {
		t.Fatalf("sink_up not 0:\n%s", grepLines(metrics, "sink_up"))
	}

	// The dead-letter API shows the bad line meanwhile.
	var dl struct {
		Total   int `json:"total"`
		Entries []struct {
			Reason, Raw, Dataset string
		} `json:"entries"`
	}
	_, body := getText(t, ui+"/api/deadletters?since=1h")
	if err := json.Unmarshal([]byte(body), &dl); err != nil || dl.Total != 1 || dl.Entries[0].Raw != "not json" || dl.Entries[0].Dataset != "http_requests" {
		t.Fatalf("deadletters: %v %s", err, body)
	}

	flaky.failing.Store(false)
	waitFor(t, "readyz 200", func() bool { code, _ := getText(t, ui+"/readyz"); return code == 200 })
	waitTotal(t, svc.Engine(), "", 1)
	_, metrics = getText(t, ui+"/metrics")
	if !strings.Contains(metrics, `flarehose_sink_up{sink="duckdb"} 1`) || !strings.Contains(metrics, `flarehose_sink_last_success_timestamp_seconds{sink="duckdb"}`) {
		t.Fatalf("metrics after recovery:\n%s", grepLines(metrics, "sink_"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
