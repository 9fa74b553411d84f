package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the demo's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoSlice runs the demo end to end: the simulator pushes three
// datasets to the receiver, the pipeline stores them, and the UI's API
// serves them.
func TestDemoSlice(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	var out, errs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, streams{strings.NewReader(""), &out, &errs},
			demoFlags{httpAddr: "127.0.0.1:0", history: 6 * time.Hour, events: 3000, rate: 5, logLevel: "warn", seed: 7, secretSize: 24}, true)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}()

	ui := regexp.MustCompile(`UI at (http://[0-9.:]+/)`)
	var base string
	var counts map[string]int64
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := ui.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		if base != "" && strings.Contains(out.String(), "history uploaded") {
			counts = datasetCounts(t, base)
			if counts["http_requests"] >= 3000 && counts["firewall_events"] > 0 && counts["audit_logs"] > 0 {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if counts["http_requests"] < 3000 || counts["firewall_events"] == 0 || counts["audit_logs"] == 0 {
		t.Fatalf("demo did not fill the store: %v\nstdout: %s\nstderr: %s", counts, out.String(), errs.String())
	}
	// The UI's queries work on simulated data: blocked requests exist and
	// are firewall events with a rule.
	var res struct {
		Total int64 `json:"total"`
		Hits  []struct {
			Dataset string          `json:"dataset"`
			Doc     json.RawMessage `json:"doc"`
		} `json:"hits"`
	}
	get(t, base+"api/search?since=7h&q=event.action:block&limit=5", &res)
	if res.Total == 0 || res.Hits[0].Dataset != "firewall_events" || !bytes.Contains(res.Hits[0].Doc, []byte(`"rule"`)) {
		t.Fatalf("no blocked firewall events: %+v", res)
	}
	resp, err := http.Get(base)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("UI: %v %v", resp, err)
	}
	resp.Body.Close()
}

func datasetCounts(t *testing.T, base string) map[string]int64 {
	var body struct {
		Datasets []struct {
			Value string `json:"value"`
			Count int64  `json:"count"`
		} `json:"datasets"`
	}
	get(t, base+"api/datasets", &body)
	m := map[string]int64{}
	for _, d := range body.Datasets {
		m[d.Value] = d.Count
	}
	return m
}

func get(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}
