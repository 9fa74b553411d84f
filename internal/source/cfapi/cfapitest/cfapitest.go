// Package cfapitest holds what the API pollers' tests share: a clock that
// drives the Cloudflare simulator's clock, and a recording event.Consumer.
package cfapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/decode"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// SimClock is a cfapi.Clock over the simulator's FakeClock (anything with
// Now and Advance), shifted by Offset (the source's clock minus the
// simulator's: clock skew). Sleep advances the fake clock at once and
// returns, except that a sleep of Block or more (the poll interval) blocks
// until ctx ends: a source running its loop stops there once caught up,
// and WaitIdle tells the test.
type SimClock struct {
	Fake interface {
		Now() time.Time
		Advance(time.Duration) time.Time
	}
	Offset time.Duration
	Block  time.Duration // sleeps this long or longer block; 0: never

	mu     sync.Mutex
	sleeps []time.Duration
	idle   chan struct{}
}

// Now implements cfapi.Clock.
func (c *SimClock) Now() time.Time { return c.Fake.Now().Add(c.Offset) }

// Sleep implements cfapi.Clock.
func (c *SimClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	if c.idle == nil {
		c.idle = make(chan struct{}, 1)
	}
	idle := c.idle
	c.mu.Unlock()
	if c.Block > 0 && d >= c.Block {
		select {
		case idle <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
	if d > 0 {
		c.Fake.Advance(d)
	}
	return nil
}

// Sleeps returns every duration Sleep was asked for.
func (c *SimClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// WaitIdle waits until a Sleep of Block or more started (the source is
// caught up), or timeout; it reports whether it happened.
func (c *SimClock) WaitIdle(timeout time.Duration) bool {
	c.mu.Lock()
	if c.idle == nil {
		c.idle = make(chan struct{}, 1)
	}
	idle := c.idle
	c.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Delivery is what Recorder kept of one delivery.
type Delivery struct {
	Dataset   string
	Origin    string
	FirstLine int
	IDs       []string
	Times     []time.Time // parallel to IDs when Recorder.TimeField is set (zero when unreadable)
	Lines     int
}

// Recorder is an event.Consumer that records the id of every line (the
// value of IDField). Fail, when set, is asked before each delivery (n
// counts from 1, failed calls included) and its error is returned instead
// of recording. Block, when set, makes Consume wait until ctx ends.
type Recorder struct {
	IDField   string
	TimeField string // dotted path to an RFC 3339 time, e.g. "action.time"; "" records none
	Fail      func(n int) error

	mu         sync.Mutex
	calls      int
	deliveries []Delivery
	block      bool
	blocked    chan struct{}
}

// Consume implements event.Consumer.
func (r *Recorder) Consume(ctx context.Context, d *event.Delivery) (event.Result, error) {
	r.mu.Lock()
	r.calls++
	n, fail, block := r.calls, r.Fail, r.block
	r.mu.Unlock()
	if block {
		r.mu.Lock()
		if r.blocked != nil {
			close(r.blocked)
			r.blocked = nil
		}
		r.mu.Unlock()
		<-ctx.Done()
		return event.Result{}, event.ErrClosed
	}
	if fail != nil {
		if err := fail(n); err != nil {
			return event.Result{}, err
		}
	}
	rec := Delivery{Dataset: d.Dataset, Origin: d.Origin, FirstLine: d.FirstLine}
	for line := range decode.Split(d.Body, 0) {
		rec.Lines++
		var m map[string]any
		if err := json.Unmarshal(line.Data, &m); err != nil {
			rec.IDs = append(rec.IDs, "!invalid:"+string(line.Data))
			if r.TimeField != "" {
				rec.Times = append(rec.Times, time.Time{})
			}
			continue
		}
		id, _ := m[r.IDField].(string)
		rec.IDs = append(rec.IDs, id)
		if r.TimeField != "" {
			var v any = m
			for _, k := range strings.Split(r.TimeField, ".") {
				obj, _ := v.(map[string]any)
				v = obj[k]
			}
			str, _ := v.(string)
			ts, _ := time.Parse(time.RFC3339Nano, str)
			rec.Times = append(rec.Times, ts)
		}
	}
	r.mu.Lock()
	r.deliveries = append(r.deliveries, rec)
	r.mu.Unlock()
	return event.Result{Records: rec.Lines, Accepted: rec.Lines}, nil
}

// BlockNext makes every following Consume block until its ctx ends; the
// returned channel is closed when one starts blocking.
func (r *Recorder) BlockNext() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.block = true
	r.blocked = make(chan struct{})
	return r.blocked
}

// Deliveries returns what was recorded.
func (r *Recorder) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.deliveries...)
}

// IDs returns every recorded id in order, and the ids recorded more than
// once.
func (r *Recorder) IDs() (all []string, dups []string) {
	seen := map[string]bool{}
	for _, d := range r.Deliveries() {
		for _, id := range d.IDs {
			if seen[id] {
				dups = append(dups, id)
			}
			seen[id] = true
			all = append(all, id)
		}
	}
	return all, dups
}

// Calls returns how many times Consume was called.
func (r *Recorder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// ErrTest is an error a test makes the consumer return.
var ErrTest = errors.New("test consumer failure")

// Tamper wraps a handler: for each request, Change (when set) may return
// a replacement answer (status, headers to set, body); nil keeps the real
// one. Requests lists the requests seen (method, path and query).
type Tamper struct {
	Next   http.Handler
	Change func(n int, r *http.Request, rec *httptest.ResponseRecorder) *Answer

	mu       sync.Mutex
	n        int
	requests []*http.Request
}

// Answer is a replacement response.
type Answer struct {
	Status int
	Header map[string]string
	Body   string
}

// ServeHTTP implements http.Handler.
func (t *Tamper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	t.n++
	n := t.n
	t.requests = append(t.requests, r.Clone(context.Background()))
	change := t.Change
	t.mu.Unlock()
	rec := httptest.NewRecorder()
	t.Next.ServeHTTP(rec, r)
	if change != nil {
		if a := change(n, r, rec); a != nil {
			for k, v := range a.Header {
				w.Header().Set(k, v)
			}
			if w.Header().Get("Content-Type") == "" {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(a.Status)
			w.Write([]byte(a.Body))
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// Requests returns the requests seen whose path contains pathPart.
func (t *Tamper) Requests(pathPart string) []*http.Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*http.Request
	for _, r := range t.requests {
		if strings.Contains(r.URL.Path, pathPart) {
			out = append(out, r)
		}
	}
	return out
}

// SameSet fails unless got holds exactly the IDs of want, each once.
func SameSet(t testing.TB, got []string, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	var dups, missing, extra []string
	for id, n := range count {
		if n > 1 {
			dups = append(dups, id)
		}
	}
	w := map[string]bool{}
	for _, id := range want {
		w[id] = true
		if count[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id := range count {
		if !w[id] {
			extra = append(extra, id)
		}
	}
	slices.Sort(dups)
	if len(dups)+len(missing)+len(extra) > 0 {
		t.Fatalf("got %d IDs, want %d: %d repeated %v, %d missing %v, %d unexpected %v",
			len(got), len(want), len(dups), firstFew(dups), len(missing), firstFew(missing), len(extra), firstFew(extra))
	}
}

func firstFew(s []string) []string { return s[:min(len(s), 5)] }

// MetricValue reads one series' value from the registry (0 when absent).
func MetricValue(m *telemetry.Metrics, name string, labels map[string]string) float64 {
	mfs, _ := m.Registry.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case mt.Counter != nil:
				return mt.Counter.GetValue()
			case mt.Gauge != nil:
				return mt.Gauge.GetValue()
			}
		}
	}
	return 0
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes (a log sink).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
