package api

import (
	"net/http"
	"os"
	"testing"
	"time"
)

// TestDemoServer serves the UI and API over a fake engine full of plausible
// events, for looking at the UI without a store:
//
//	FLAREHOSE_UI_DEMO=127.0.0.1:8099 go test ./internal/api -run TestDemoServer -timeout 0
//
// FLAREHOSE_UI_DEMO_EMPTY=1 serves an empty store (the onboarding screen).
// Skipped unless FLAREHOSE_UI_DEMO is set.
func TestDemoServer(t *testing.T) {
	addr := os.Getenv("FLAREHOSE_UI_DEMO")
	if addr == "" {
		t.Skip("set FLAREHOSE_UI_DEMO=host:port to run the demo server")
	}
	eng := &fakeEngine{}
	if os.Getenv("FLAREHOSE_UI_DEMO_EMPTY") == "" {
		eng.events = demoEvents(5000, time.Now())
	}
	h := NewHandler(Options{Engine: eng, Datasets: eng.datasets, Version: "demo"})
	t.Logf("serving on http://%s/", addr)
	if err := http.ListenAndServe(addr, h); err != nil {
		t.Fatal(err)
	}
}
