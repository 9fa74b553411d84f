package normalize

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestUnknownTracker(t *testing.T) {
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	for i := 0; i < 3; i++ {
		if _, _, err := n.Normalize("http_requests", []byte(`{"RayID":"r","NewField":1,"Other Thing":"x"}`), nil); err != nil {
			t.Fatal(err)
		}
	}
	n.Normalize("audit_logs_api", []byte(`{"id":"i","actor":{"id":"a","badge":"b"}}`), nil)
	n.Normalize("http_requests", []byte(`{"RayID":"r"}`), nil) // nothing unknown

	rep := env.UnknownNames().Report()
	h := rep.Datasets["http_requests"]
	if h == nil || len(h.Fields) != 2 {
		t.Fatalf("http_requests: %+v", h)
	}
	if f := h.Fields[0]; f.Name != "NewField" || f.Path != "cloudflare_logpush.http_request.new_field" || f.Count != 3 || f.FirstSeen.IsZero() || f.LastSeen.Before(f.FirstSeen) {
		t.Errorf("NewField: %+v", f)
	}
	if f := h.Fields[1]; f.Name != "Other Thing" || f.Path != "cloudflare_logpush.http_request.other_thing" {
		t.Errorf("Other Thing: %+v", f)
	}
	if a := rep.Datasets["audit_logs_api"]; a == nil || len(a.Fields) != 1 || a.Fields[0].Name != "actor.badge" || a.Fields[0].Path != "cloudflare.audit.actor_badge" {
		t.Errorf("audit_logs_api: %+v", a)
	}
	if _, ok := rep.Datasets["firewall_events"]; ok {
		t.Error("a dataset without unknown fields is listed")
	}
}

func TestUnknownTrackerLimitAndConcurrency(t *testing.T) {
	env := newTestEnv(t, Options{})
	env.unknownNames.limit = 10
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := env.NewNormalizer()
			for i := 0; i < 200; i++ {
				n.Normalize("firewall_events", []byte(fmt.Sprintf(`{"RayID":"r","F%d":1}`, i%25)), nil)
			}
		}()
	}
	wg.Wait()
	d := env.UnknownNames().Report().Datasets["firewall_events"]
	var sum uint64
	for _, f := range d.Fields {
		sum += f.Count
	}
	if len(d.Fields) != 10 || sum+d.Overflow != 800 {
		t.Errorf("%d names, %d counted + %d overflow, want 10 names and 800 sightings", len(d.Fields), sum, d.Overflow)
	}
}

func TestUnknownFieldsPersist(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, UnknownFieldsFile)
	// A previous run's file.
	old := newUnknownTracker(UnknownFieldLimit)
	old.now = func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }
	old.observe("http_requests", "cloudflare_logpush.http_request", []extra{{src: "NewField", key: "new_field"}})
	if err := old.Save(path); err != nil {
		t.Fatal(err)
	}

	env := newTestEnv(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var errs []error
	go func() {
		env.PersistUnknownFields(ctx, path, 10*time.Millisecond, func(err error) { errs = append(errs, err) })
		close(done)
	}()
	n := env.NewNormalizer()
	n.Normalize("http_requests", []byte(`{"RayID":"r","NewField":2}`), nil)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		rep, err := ReadUnknownFields(path)
		if err == nil && rep.Datasets["http_requests"] != nil && rep.Datasets["http_requests"].Fields[0].Count == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.Normalize("http_requests", []byte(`{"RayID":"r","Later":2}`), nil)
	cancel()
	<-done
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rep, err := ReadUnknownFields(path)
	if err != nil {
		t.Fatal(err)
	}
	h := rep.Datasets["http_requests"]
	if h == nil || len(h.Fields) != 2 || h.Fields[1].Name != "NewField" || h.Fields[1].Count != 2 ||
		!h.Fields[1].FirstSeen.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || h.Fields[0].Name != "Later" {
		t.Errorf("after restart and final save: %+v", h)
	}
	// A damaged file is reported and replaced.
	os.WriteFile(path, []byte("{oops"), 0o644)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	errs = nil
	env.PersistUnknownFields(ctx, path, time.Hour, func(err error) { errs = append(errs, err) })
	if len(errs) != 1 {
		t.Errorf("errors %v", errs)
	}
	if _, err := ReadUnknownFields(path); err != nil {
		t.Errorf("not replaced: %v", err)
	}
}
