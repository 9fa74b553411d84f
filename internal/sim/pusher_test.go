package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// delivery is one request the test destination received.
type delivery struct {
	path, rawQuery string
	header         http.Header
	body           []byte // gunzipped
}

// destination is an httptest server that records deliveries and answers
// with respond (200 when nil).
type destination struct {
	*httptest.Server
	mu      sync.Mutex
	got     []delivery
	respond func(i int, d delivery, w http.ResponseWriter) bool // true: answered
}

func newDestination(t *testing.T, tlsServer bool, respond func(i int, d delivery, w http.ResponseWriter) bool) *destination {
	d := &destination{respond: respond}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "not gzip", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			http.Error(w, "bad gzip", http.StatusBadRequest)
			return
		}
		dv := delivery{path: r.URL.Path, rawQuery: r.URL.RawQuery, header: r.Header.Clone(), body: body}
		d.mu.Lock()
		i := len(d.got)
		d.got = append(d.got, dv)
		d.mu.Unlock()
		if d.respond != nil && d.respond(i, dv, w) {
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	if tlsServer {
		d.Server = httptest.NewTLSServer(h)
	} else {
		d.Server = httptest.NewServer(h)
	}
	t.Cleanup(d.Close)
	return d
}

func (d *destination) deliveries() []delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]delivery(nil), d.got...)
}

func lines(b []byte) int { return bytes.Count(b, []byte("\n")) }

func runPusher(t *testing.T, job Job, opts PushOptions) (*Pusher, error) {
	t.Helper()
	p, err := NewPusher(job, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return p, p.Run(ctx)
}

func TestPusherProbeHeadersAndBatches(t *testing.T) {
	dst := newDestination(t, false, nil)
	job := Job{
		Dataset:          "http_requests",
		DestinationConf:  dst.URL + "/ingest/cf?tags=a,b&header_X-Flarehose-Secret=s3cr%20et&header_Authorization=Bearer%20xyz",
		MaxUploadRecords: 100,
	}
	p, err := runPusher(t, job, PushOptions{Records: 1050, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := dst.deliveries()
	if len(got) != 12 {
		t.Fatalf("%d deliveries, want probe + 11", len(got))
	}
	if string(got[0].body) != `{"content":"tests"}` {
		t.Errorf("probe body %q", got[0].body)
	}
	total := 0
	for i, d := range got {
		if d.path != "/ingest/cf" || d.rawQuery != "tags=a,b" {
			t.Errorf("delivery %d: %s?%s", i, d.path, d.rawQuery)
		}
		for k, v := range map[string]string{"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8", "X-Flarehose-Secret": "s3cr et", "Authorization": "Bearer xyz"} {
			if d.header.Get(k) != v {
				t.Errorf("delivery %d: %s = %q, want %q", i, k, d.header.Get(k), v)
			}
		}
		if i == 0 {
			continue
		}
		n := lines(d.body)
		if want := 100; i == 11 {
			if n != 50 {
				t.Errorf("last batch has %d records", n)
			}
		} else if n != want {
			t.Errorf("batch %d has %d records", i, n)
		}
		for _, l := range bytes.SplitAfter(d.body, []byte("\n")) {
			if len(l) > 0 && !json.Valid(l) {
				t.Fatalf("batch %d: invalid record %q", i, l)
			}
		}
		total += n
	}
	st := p.Stats()
	if total != 1050 || st.RecordsSent != 1050 || st.RecordsGenerated != 1050 || st.BatchesSent != 11 || !st.Probed || st.BatchesFailed != 0 {
		t.Errorf("total %d, stats %+v", total, st)
	}
	if st.BytesSent <= 0 || st.BytesUncompressed <= st.BytesSent || st.LastComplete.IsZero() || !st.LastError.IsZero() || !st.Enabled {
		t.Errorf("stats %+v", st)
	}
}

func TestPusherProbeVariantsAndContentType(t *testing.T) {
	dst := newDestination(t, false, nil)
	job := Job{Dataset: "audit_logs", DestinationConf: dst.URL + "/?header_Content-Type=application%2Fjson"}
	if _, err := runPusher(t, job, PushOptions{Records: 10, Probe: ProbeTest}); err != nil {
		t.Fatal(err)
	}
	got := dst.deliveries()
	if len(got) != 2 || string(got[0].body) != "test" || lines(got[1].body) != 10 {
		t.Fatalf("deliveries %+v", got)
	}
	if ct := got[1].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	dst2 := newDestination(t, false, nil)
	if _, err := runPusher(t, Job{Dataset: "audit_logs", DestinationConf: dst2.URL}, PushOptions{Records: 10, Probe: ProbeNone}); err != nil {
		t.Fatal(err)
	}
	if got := dst2.deliveries(); len(got) != 1 || lines(got[0].body) != 10 {
		t.Fatalf("without probe: %d deliveries", len(got))
	}
}

func TestPusherSplitsByBytes(t *testing.T) {
	dst := newDestination(t, false, nil)
	const limit = 20000
	job := Job{Dataset: "http_requests", DestinationConf: dst.URL, MaxUploadBytes: limit, Output: OutputOptions{BatchPrefix: "[", BatchSuffix: "]\n", RecordDelimiter: ","}}
	p, err := runPusher(t, job, PushOptions{Records: 300, Probe: ProbeNone})
	if err != nil {
		t.Fatal(err)
	}
	got := dst.deliveries()
	if len(got) < 10 {
		t.Fatalf("only %d batches", len(got))
	}
	total := 0
	for i, d := range got {
		var recs []json.RawMessage
		if err := json.Unmarshal(d.body, &recs); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if len(d.body) > limit && len(recs) > 1 {
			t.Errorf("batch %d: %d bytes, %d records", i, len(d.body), len(recs))
		}
		if i < len(got)-1 && len(d.body) < limit/2 {
			t.Errorf("batch %d only %d bytes", i, len(d.body))
		}
		total += len(recs)
	}
	if total != 300 || p.Stats().RecordsSent != 300 {
		t.Errorf("got %d records, stats %+v", total, p.Stats())
	}
}

func TestPusherRetryAfter(t *testing.T) {
	dst := newDestination(t, false, func(i int, d delivery, w http.ResponseWriter) bool {
		switch i {
		case 1:
			w.Header().Set("Retry-After", "7")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case 2:
			http.Error(w, "try later", http.StatusBadGateway) // no Retry-After: backoff
		case 3:
			w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		default:
			return false
		}
		return true
	})
	p, err := NewPusher(Job{Dataset: "firewall_events", DestinationConf: dst.URL}, PushOptions{Records: 20, Backoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	p.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 3 || waits[0] != 7*time.Second || waits[1] != 2*time.Second || waits[2] < 80*time.Second || waits[2] > 91*time.Second {
		t.Errorf("waits %v, want [7s 2s ~90s]", waits)
	}
	st := p.Stats()
	if st.Attempts != 4 || st.Retries != 3 || st.BatchesSent != 1 || st.RecordsSent != 20 || st.BatchesFailed != 0 || st.ErrorMessage != "" {
		t.Errorf("stats %+v", st)
	}
	if got := dst.deliveries(); len(got) != 5 || !bytes.Equal(got[1].body, got[4].body) {
		t.Errorf("retries must resend the same batch")
	}
}

func TestPusherDropsAfterMaxAttempts(t *testing.T) {
	dst := newDestination(t, false, func(i int, d delivery, w http.ResponseWriter) bool {
		if i == 0 {
			return false // the probe passes
		}
		http.Error(w, `{"error":"unsupported media type"}`, http.StatusUnsupportedMediaType)
		return true
	})
	p, err := NewPusher(Job{Dataset: "http_requests", DestinationConf: dst.URL, MaxUploadRecords: 10}, PushOptions{Records: 30, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	p.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Attempts != 9 || st.BatchesFailed != 3 || st.RecordsDropped != 30 || st.RecordsSent != 0 || st.BatchesSent != 0 {
		t.Errorf("stats %+v", st)
	}
	if st.LastError.IsZero() || !strings.Contains(st.ErrorMessage, "error uploading to http: 415") || !strings.Contains(st.ErrorMessage, "unsupported media type") {
		t.Errorf("last_error %v, error_message %q", st.LastError, st.ErrorMessage)
	}
	if len(waits) != 6 || waits[0] != time.Second || waits[1] != 2*time.Second {
		t.Errorf("waits %v", waits)
	}
}

func TestPusherErrorClearsAfterSuccess(t *testing.T) {
	// The first batch fails for good; the second one succeeds.
	dst := newDestination(t, false, func(i int, d delivery, w http.ResponseWriter) bool {
		if i == 1 {
			http.Error(w, "down", http.StatusInternalServerError)
			return true
		}
		return false
	})
	p, _ := NewPusher(Job{Dataset: "audit_logs", DestinationConf: dst.URL, MaxUploadRecords: 5}, PushOptions{Records: 10, MaxAttempts: 1})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.BatchesFailed != 1 || st.BatchesSent != 1 || !st.LastError.IsZero() || st.ErrorMessage != "" {
		t.Errorf("stats %+v", st)
	}
}

func TestPusherProbeFailure(t *testing.T) {
	dst := newDestination(t, false, func(i int, d delivery, w http.ResponseWriter) bool {
		http.Error(w, "forbidden", http.StatusForbidden)
		return true
	})
	p, err := runPusher(t, Job{Dataset: "http_requests", DestinationConf: dst.URL}, PushOptions{})
	if err == nil || !strings.Contains(err.Error(), "error validating destination") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err %v", err)
	}
	if n := len(dst.deliveries()); n != 1 || p.Stats().Probed || p.Stats().RecordsGenerated != 0 {
		t.Errorf("%d deliveries, stats %+v", n, p.Stats())
	}
}

func TestPusherCancelStopsPromptly(t *testing.T) {
	// The destination hangs on batches until the request is abandoned.
	dst := newDestination(t, false, func(i int, d delivery, w http.ResponseWriter) bool {
		if i == 0 {
			return false
		}
		time.Sleep(50 * time.Millisecond)
		return false
	})
	p, err := NewPusher(Job{Dataset: "http_requests", DestinationConf: dst.URL, MaxUploadInterval: 20 * time.Millisecond},
		PushOptions{Mode: ModeRealtime, Rate: 5000, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	st := p.Stats()
	if st.RecordsGenerated == 0 || st.BatchesSent == 0 {
		t.Errorf("nothing happened before cancel: %+v", st)
	}
	// Real-time records are stamped now.
	for _, d := range dst.deliveries()[1:] {
		var rec struct{ EdgeStartTimestamp int64 }
		json.Unmarshal(bytes.SplitN(d.body, []byte("\n"), 2)[0], &rec)
		if age := time.Since(time.Unix(0, rec.EdgeStartTimestamp)); age < 0 || age > time.Minute {
			t.Fatalf("real-time record stamped %v ago", age)
		}
	}
}

func TestPusherRealtimeBounded(t *testing.T) {
	dst := newDestination(t, true, nil)
	p, err := runPusher(t, Job{Dataset: "http_requests", DestinationConf: dst.URL, MaxUploadInterval: 50 * time.Millisecond},
		PushOptions{Mode: ModeRealtime, Rate: 2000, Records: 400, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.RecordsSent != 400 || st.BatchesSent < 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestPusherBackfill(t *testing.T) {
	dst := newDestination(t, false, nil)
	end := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC) // a Wednesday
	job := Job{Dataset: "http_requests", DestinationConf: dst.URL, Output: OutputOptions{FieldNames: []string{"EdgeStartTimestamp", "RayID"}, TimestampFormat: TimestampRFC3339ns}}
	p, err := runPusher(t, job, PushOptions{Mode: ModeBackfill, Records: 12000, End: end, Window: 24 * time.Hour, BackfillSpan: time.Hour, Probe: ProbeNone})
	if err != nil {
		t.Fatal(err)
	}
	perHour := make([]int, 24)
	var prev time.Time
	total := 0
	got := dst.deliveries()
	for i, d := range got {
		var first time.Time
		for _, l := range bytes.Split(bytes.TrimSpace(d.body), []byte("\n")) {
			var rec struct{ EdgeStartTimestamp string }
			if err := json.Unmarshal(l, &rec); err != nil {
				t.Fatal(err)
			}
			ts, err := time.Parse(time.RFC3339Nano, rec.EdgeStartTimestamp)
			if err != nil {
				t.Fatal(err)
			}
			if ts.Before(end.Add(-24*time.Hour)) || !ts.Before(end) || ts.Before(prev) {
				t.Fatalf("batch %d: timestamp %v out of window or order", i, ts)
			}
			if first.IsZero() {
				first = ts
			}
			if ts.Sub(first) >= time.Hour {
				t.Fatalf("batch %d spans more than BackfillSpan", i)
			}
			prev = ts
			perHour[ts.Hour()]++
			total++
		}
	}
	if total != 12000 || p.Stats().RecordsSent != 12000 || len(got) < 24 {
		t.Fatalf("%d records in %d batches", total, len(got))
	}
	if perHour[15] < 2*perHour[3] {
		t.Errorf("no day shape: %v", perHour)
	}
}

func TestPusherDisableAfter(t *testing.T) {
	dst := newDestination(t, false, func(i int, d delivery, w http.ResponseWriter) bool {
		if i == 0 {
			return false
		}
		http.Error(w, "down", http.StatusInternalServerError)
		return true
	})
	p, err := NewPusher(Job{Dataset: "audit_logs", DestinationConf: dst.URL, MaxUploadRecords: 10}, PushOptions{Records: 1000, DisableAfter: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	p.sleep = func(ctx context.Context, d time.Duration) error { time.Sleep(time.Millisecond); return ctx.Err() }
	if err := p.Run(context.Background()); !errors.Is(err, ErrJobDisabled) {
		t.Fatalf("Run returned %v", err)
	}
	if st := p.Stats(); st.Enabled || st.RecordsSent != 0 || st.ErrorMessage == "" && st.Attempts < 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestPusherConcurrencyAndSampling(t *testing.T) {
	var inFlight, peak atomic.Int32
	dst := newDestination(t, false, func(i int, d delivery, w http.ResponseWriter) bool {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		return false
	})
	job := Job{Dataset: "http_requests", Zone: "tailspin-travel.com", DestinationConf: dst.URL, MaxUploadRecords: 20,
		Output: OutputOptions{SampleRate: 0.5, FieldNames: []string{"ZoneName", "RayID"}}}
	p, err := runPusher(t, job, PushOptions{Records: 2000, Concurrency: 4, Probe: ProbeNone, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.RecordsSent+st.RecordsSampledOut != 2000 || st.RecordsSent < 850 || st.RecordsSent > 1150 {
		t.Errorf("stats %+v", st)
	}
	if peak.Load() > 4 {
		t.Errorf("%d uploads in flight, concurrency 4", peak.Load())
	}
	for _, d := range dst.deliveries() {
		if bytes.Count(d.body, []byte(`"ZoneName":"tailspin-travel.com"`)) != lines(d.body) {
			t.Fatalf("record outside the job's zone: %s", d.body)
		}
	}
}

func TestNewPusherRejects(t *testing.T) {
	for name, job := range map[string]Job{
		"scheme":  {Dataset: "http_requests", DestinationConf: "s3://bucket/logs"},
		"dataset": {Dataset: "gateway_dns", DestinationConf: "https://h/"},
		"fields":  {Dataset: "http_requests", DestinationConf: "https://h/", Output: OutputOptions{FieldNames: []string{"When"}}},
		"zone":    {Dataset: "http_requests", Zone: "example.org", DestinationConf: "https://h/"},
		"limits":  {Dataset: "http_requests", DestinationConf: "https://h/", MaxUploadRecords: -1},
	} {
		if _, err := NewPusher(job, PushOptions{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	g, _ := NewGenerator("audit_logs", 1)
	if _, err := NewPusher(Job{Dataset: "http_requests", DestinationConf: "https://h/"}, PushOptions{Generator: g}); err == nil {
		t.Error("generator of another dataset accepted")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"12":                            12 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Thu, 01 Jan 2026 00:01:00 GMT": time.Minute,
		"Wed, 31 Dec 2025 00:01:00 GMT": 0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

// Backfilled http_requests and firewall_events with the same options and
// FollowTraffic log the same requests at the same instants; without it
// Records counts firewall events.
func TestBackfillAlignsFirewallEventsWithRequests(t *testing.T) {
	end := time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)
	opts := PushOptions{Mode: ModeBackfill, Records: 20000, Window: 2 * time.Hour, End: end, Seed: 21, Probe: ProbeNone, FollowTraffic: true}
	push := func(ds string, fields ...string) []byte {
		dst := newDestination(t, false, nil)
		if _, err := runPusher(t, Job{Dataset: ds, DestinationConf: dst.URL, Output: OutputOptions{FieldNames: fields}}, opts); err != nil {
			t.Fatal(err)
		}
		var all []byte
		for _, d := range dst.deliveries() {
			all = append(all, d.body...)
		}
		return all
	}
	type key struct {
		ray string
		ts  int64
	}
	requests := map[key]bool{}
	for _, l := range bytes.Split(bytes.TrimSpace(push("http_requests", "RayID", "EdgeStartTimestamp")), []byte("\n")) {
		var rec struct {
			RayID              string
			EdgeStartTimestamp int64
		}
		json.Unmarshal(l, &rec)
		requests[key{rec.RayID, rec.EdgeStartTimestamp}] = true
	}
	events := bytes.Split(bytes.TrimSpace(push("firewall_events", "RayID", "Datetime")), []byte("\n"))
	if len(requests) != 20000 || len(events) < 100 || len(events) > 5000 {
		t.Fatalf("%d requests, %d events", len(requests), len(events))
	}
	for _, l := range events {
		var ev struct {
			RayID    string
			Datetime int64
		}
		json.Unmarshal(l, &ev)
		if !requests[key{ev.RayID, ev.Datetime}] {
			t.Fatalf("event %s has no request with the same RayID and time", l)
		}
	}
	opts.FollowTraffic = false
	if n := len(bytes.Split(bytes.TrimSpace(push("firewall_events", "RayID")), []byte("\n"))); n != 20000 {
		t.Errorf("without FollowTraffic: %d events, want 20000", n)
	}
}
