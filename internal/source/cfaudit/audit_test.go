package cfaudit

import (
	"errors"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	cfsim "github.com/flarehose/flarehose/internal/sim/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfapi/cfapitest"
)

// The first poll reads everything since `since`, page by page, each page
// one delivery of the API's dataset, and leaves a checkpoint.
func TestFirstPollBackfills(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		t.Run(version, func(t *testing.T) {
			e := newEnv(t, cfsim.Config{})
			cfg := e.config(version, func(c *Config) { c.Since = config.Duration(3 * time.Hour); c.PageSize = 17 })
			s, _ := e.source(cfg, 0)
			rec := &cfapitest.Recorder{IDField: "id"}
			if err := pollOnce(t, s, rec); err != nil {
				t.Fatal(err)
			}
			want := e.expected(t0.Add(-3 * time.Hour))
			if len(want) < 100 {
				t.Fatalf("the simulator shows only %d events", len(want))
			}
			got, _ := rec.IDs()
			sameSet(t, got, want)
			ds := map[string]string{"v1": DatasetV1, "v2": DatasetV2}[version]
			for _, d := range rec.Deliveries() {
				if d.Dataset != ds || len(d.IDs) == 0 || len(d.IDs) > 17 {
					t.Fatalf("delivery %+v: want dataset %s and 1..17 items", d, ds)
				}
			}
			if n := len(rec.Deliveries()); n < len(want)/17 {
				t.Fatalf("%d deliveries for %d events in pages of 17", n, len(want))
			}
			st := e.readCheckpoint("audit")
			if st.API != version || st.AccountID != e.sim.AccountID() || st.Type != "cloudflare_audit" {
				t.Fatalf("checkpoint %+v", st)
			}
			if st.Newest.IsZero() || !st.Since.Equal(st.Newest.Add(-5*time.Minute).Truncate(time.Second)) || !st.CaughtUp.Equal(t0) {
				t.Fatalf("checkpoint since %s newest %s caught_up %s", st.Since, st.Newest, st.CaughtUp)
			}
			for _, it := range st.Seen {
				if it.Time.Before(st.Since) {
					t.Fatalf("seen %v is older than since %s", it, st.Since)
				}
			}
			// Nothing new: a second poll hands nothing on.
			n := len(rec.Deliveries())
			if err := pollOnce(t, s, rec); err != nil {
				t.Fatal(err)
			}
			if len(rec.Deliveries()) != n {
				t.Fatalf("a poll without new events handed on %d deliveries", len(rec.Deliveries())-n)
			}
			if lag := testutilValue(e.metrics, "flarehose_poll_lag_seconds", map[string]string{"source": "audit"}); lag != 0 {
				t.Fatalf("lag %v after a complete poll at the same instant", lag)
			}
		})
	}
}

// A consumer that refuses in the middle of a walk, then a new process
// (a new Source on the same data directory): every event exactly once.
func TestRestartResumesWithoutLossOrRepeats(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		t.Run(version, func(t *testing.T) {
			e := newEnv(t, cfsim.Config{AuditRate: 120})
			cfg := e.config(version, func(c *Config) { c.PageSize = 25 })
			rec := &cfapitest.Recorder{IDField: "id", Fail: func(n int) error {
				if n == 5 {
					return errors.New("process killed")
				}
				return nil
			}}
			s1, _ := e.source(cfg, 0)
			err := pollOnce(t, s1, rec)
			var ce *cfapi.ConsumerError
			if !errors.As(err, &ce) {
				t.Fatalf("first poll: %v, want the consumer's error", err)
			}
			if got, _ := rec.IDs(); len(got) != 4*25 {
				t.Fatalf("%d items stored before the failure, want 100", len(got))
			}
			st := e.readCheckpoint("audit")
			if len(st.Seen) == 0 || st.CaughtUp != (time.Time{}) {
				t.Fatalf("checkpoint after 4 pages: %d seen, caught_up %s", len(st.Seen), st.CaughtUp)
			}

			// Time passes, new events arrive; a new process resumes.
			e.clock.Advance(10 * time.Minute)
			s2, _ := e.source(cfg, 0)
			if err := pollOnce(t, s2, rec); err != nil {
				t.Fatal(err)
			}
			got, _ := rec.IDs()
			sameSet(t, got, e.expected(t0.Add(-24*time.Hour)))

			// And again, with nothing in between lost.
			e.clock.Advance(30 * time.Minute)
			s3, _ := e.source(cfg, 0)
			if err := pollOnce(t, s3, rec); err != nil {
				t.Fatal(err)
			}
			got, _ = rec.IDs()
			sameSet(t, got, e.expected(t0.Add(-24*time.Hour)))
		})
	}
}

// Events Cloudflare shows late (after newer ones) are picked up by the
// overlap, once.
func TestLateEventsInOverlapPickedUpOnce(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		t.Run(version, func(t *testing.T) {
			e := newEnv(t, cfsim.Config{AuditRate: 600, AuditLateFraction: 0.3, AuditLateMax: 3 * time.Minute, AuditHistory: time.Hour})
			cfg := e.config(version, func(c *Config) { c.PageSize = 50 })
			s, _ := e.source(cfg, 0)
			timeField := map[string]string{"v1": "when", "v2": "action.time"}[version]
			rec := &cfapitest.Recorder{IDField: "id", TimeField: timeField}
			late := 0
			for range 40 {
				prevNewest := s.st.Newest
				before := len(rec.Deliveries())
				if err := pollOnce(t, s, rec); err != nil {
					t.Fatal(err)
				}
				// An event older than the newest one of an earlier poll came late.
				for _, d := range rec.Deliveries()[before:] {
					for _, ts := range d.Times {
						if ts.IsZero() {
							t.Fatalf("an item without a readable %s", timeField)
						}
						if ts.Before(prevNewest) {
							late++
						}
					}
				}
				e.clock.Advance(40 * time.Second)
			}
			e.clock.Advance(5 * time.Minute) // every late event is visible now
			if err := pollOnce(t, s, rec); err != nil {
				t.Fatal(err)
			}
			got, _ := rec.IDs()
			sameSet(t, got, e.expected(t0.Add(-24*time.Hour)))
			if late == 0 {
				t.Fatal("no late event happened; the test proves nothing")
			}
		})
	}
}
