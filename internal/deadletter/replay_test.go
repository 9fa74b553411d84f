package deadletter

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
)

// fakeReceiver behaves like flarehose's receiver writing to the same
// dead-letter directory: lines holding "good" are accepted, other lines are
// dead-lettered again (fsynced before the 200).
type fakeReceiver struct {
	t        *testing.T
	store    *Store
	mu       sync.Mutex
	accepted []string
	requests int
	busy     int // answer 429 to this many requests first
	maxLines int // 413 above this many lines
}

func (f *fakeReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.Header.Get("X-Flarehose-Secret") != "s3cret" {
		http.Error(w, "missing or wrong credentials", http.StatusUnauthorized)
		return
	}
	if f.busy > 0 {
		f.busy--
		w.Header().Set("Retry-After", "1")
		http.Error(w, "queue full: retry later", http.StatusTooManyRequests)
		return
	}
	ds, ok := strings.CutPrefix(r.URL.Path, "/logpush/")
	if !ok || ds == "unknown_ds" {
		http.Error(w, "unknown dataset", http.StatusNotFound)
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
		http.Error(w, "bad gzip", http.StatusBadRequest)
		return
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if f.maxLines > 0 && len(lines) > f.maxLines {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	if strings.HasPrefix(lines[0], "[") {
		http.Error(w, "it is a JSON array", http.StatusUnsupportedMediaType)
		return
	}
	var dead []Entry
	for i, l := range lines {
		if strings.Contains(l, "good") {
			f.accepted = append(f.accepted, ds+":"+l)
			continue
		}
		e := Entry{Time: time.Now().UTC(), Stage: StageNormalize, Source: "logpush", Dataset: ds, Line: i + 1, Reason: "invalid_json", Error: "still bad"}
		e.SetRaw([]byte(l))
		dead = append(dead, e)
	}
	if err := f.store.Write(dead); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func setupReplay(t *testing.T) (string, *fakeReceiver, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fakeReceiver{t: t, store: st}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return dir, f, srv
}

func TestReplay(t *testing.T) {
	dir, f, srv := setupReplay(t)
	ts := time.Now().UTC().Add(-time.Hour)
	var es []Entry
	for i := range 7 {
		es = append(es, entry(ts.Add(time.Duration(i)*time.Second), "http_requests", "invalid_json", fmt.Sprintf(`{"good":%d}`, i)))
	}
	es = append(es,
		entry(ts, "http_requests", "invalid_json", `{"bad":1}`),
		entry(ts, "firewall_events", "not_object", `["array first"]`), // would make the upload 415 if it came first
		entry(ts, "firewall_events", "invalid_json", `{"good":"fw"}`),
		entry(ts, "", "invalid_json", `{"good":"no dataset"}`),
		entry(ts, "http_requests", "too_large", `{"good":"cut`+"#flarehose:truncated:99999"),
	)
	doc := Entry{Time: ts, Stage: "es", Reason: "sink_rejected", Error: "x"}
	doc.SetRecord(&event.Record{Dataset: "http_requests", ID: "1", Doc: []byte(`{"a":1}`)})
	es = append(es, doc)
	write(t, dir, es...)

	var progress []string
	rp := &Replay{Dir: dir, To: srv.URL, Secret: "s3cret", BatchRecords: 3, Progress: func(ds string, n int, s string) {
		progress = append(progress, fmt.Sprintf("%s %d %s", ds, n, s))
	}}
	res, err := rp.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched != 13 || res.Sent != 10 || res.Accepted != 8 || res.FailedAgain != 2 || res.SkippedNoDataset != 1 ||
		res.SkippedTruncated != 1 || res.SkippedDocs != 1 || res.Refused != 0 || res.NotSent != 0 {
		t.Fatalf("result %+v", res)
	}
	if c := res.ByDataset["http_requests"]; c.Sent != 8 || c.Accepted != 7 || c.FailedAgain != 1 {
		t.Fatalf("http_requests %+v", c)
	}
	if len(f.accepted) != 8 || f.requests != 4 || len(progress) != 4 {
		t.Fatalf("receiver got %v in %d requests; progress %v", f.accepted, f.requests, progress)
	}

	// A second replay sends nothing: the originals are replayed, the
	// copies failed again.
	res, err = rp.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 0 || res.AlreadyReplayed != 10 || res.SkippedFailed != 2 || f.requests != 4 {
		t.Fatalf("second replay %+v", res)
	}
	// After another fix, --retry-failed sends the copies (and only them).
	// The array alone is refused (415, as by the real receiver): it stays
	// pending, with the reason in Errors.
	rp.RetryFailed = true
	res, err = rp.Run(context.Background())
	if err != nil || res.Sent != 1 || res.FailedAgain != 1 || res.Refused != 1 || res.AlreadyReplayed != 10 || len(res.Errors) != 1 {
		t.Fatalf("retry failed: %v %+v", err, res)
	}
	q, _ := Query(dir, Filter{}, 0)
	if q.ByState[StateReplayed] != 11 || q.ByState[StateFailedAgain] != 2 || q.ByState["pending"] != 3 {
		t.Fatalf("states %v", q.ByState)
	}
}

func TestReplayFilterAndDryRun(t *testing.T) {
	dir, f, srv := setupReplay(t)
	ts := time.Now().UTC().Add(-time.Hour)
	write(t, dir,
		entry(ts.Add(-48*time.Hour), "http_requests", "invalid_json", `{"good":"old"}`),
		entry(ts, "http_requests", "invalid_json", `{"good":"a"}`),
		entry(ts, "http_requests", "bad_number", `{"good":"b"}`),
		entry(ts, "dns_logs", "invalid_json", `{"good":"c"}`))
	rp := &Replay{Dir: dir, To: srv.URL, Secret: "s3cret", DryRun: true,
		Filter: Filter{Since: ts.Add(-time.Hour), Dataset: "http_requests", Reason: "invalid_json"}}
	res, err := rp.Run(context.Background())
	if err != nil || res.Matched != 1 || res.Sent != 1 || f.requests != 0 {
		t.Fatalf("dry run: %v %+v, %d requests", err, res, f.requests)
	}
	rp.DryRun = false
	res, err = rp.Run(context.Background())
	if err != nil || res.Sent != 1 || res.Accepted != 1 || len(f.accepted) != 1 || f.accepted[0] != `http_requests:{"good":"a"}` {
		t.Fatalf("filtered: %v %+v %v", err, res, f.accepted)
	}
}

func TestReplayReceiverAnswers(t *testing.T) {
	t.Run("wrong secret stops", func(t *testing.T) {
		dir, _, srv := setupReplay(t)
		write(t, dir, entry(time.Now().UTC(), "http_requests", "invalid_json", `{"good":1}`))
		res, err := (&Replay{Dir: dir, To: srv.URL, Secret: "nope"}).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "credentials") || res.NotSent != 1 {
			t.Fatalf("%v %+v", err, res)
		}
		if q, _ := Query(dir, Filter{State: "pending"}, 0); q.Total != 1 {
			t.Fatal("entry marked although nothing was stored")
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, entry(time.Now().UTC(), "http_requests", "invalid_json", `{"good":1}`))
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		_, err := (&Replay{Dir: dir, To: srv.URL, Secret: "s3cret"}).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "cannot reach the receiver") {
			t.Fatal(err)
		}
	})
	t.Run("busy then ok, too large split, unknown dataset", func(t *testing.T) {
		dir, f, srv := setupReplay(t)
		f.busy, f.maxLines = 2, 2
		ts := time.Now().UTC()
		for i := range 5 {
			write(t, dir, entry(ts, "http_requests", "invalid_json", fmt.Sprintf(`{"good":%d}`, i)))
		}
		write(t, dir, entry(ts, "unknown_ds", "invalid_json", `{"good":"x"}`))
		var waits []time.Duration
		rp := &Replay{Dir: dir, To: srv.URL, Secret: "s3cret", sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
		res, err := rp.Run(context.Background())
		if err != nil || res.Sent != 5 || res.Refused != 1 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "404") {
			t.Fatalf("%v %+v", err, res)
		}
		if len(waits) != 2 || waits[0] != time.Second {
			t.Fatalf("waits %v", waits)
		}
	})
	t.Run("busy for too long", func(t *testing.T) {
		dir, f, srv := setupReplay(t)
		f.busy = 100
		write(t, dir, entry(time.Now().UTC(), "http_requests", "invalid_json", `{"good":1}`))
		rp := &Replay{Dir: dir, To: srv.URL, Secret: "s3cret", MaxAttempts: 3, sleep: func(context.Context, time.Duration) error { return nil }}
		_, err := rp.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
			t.Fatal(err)
		}
	})
	t.Run("one replay at a time", func(t *testing.T) {
		dir := t.TempDir()
		unlock, err := Lock(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		_, err = (&Replay{Dir: dir, To: "http://127.0.0.1:1"}).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "another replay") {
			t.Fatal(err)
		}
	})
}

func TestReplayDocs(t *testing.T) {
	dir := t.TempDir()
	st, _ := Open(dir)
	defer st.Close()
	ts := time.Now().UTC()
	mk := func(id, doc string) Entry {
		e := Entry{Time: ts, Stage: "es", Reason: "sink_rejected", Error: "mapping"}
		e.SetRecord(&event.Record{Dataset: "http_requests", ID: id, Time: ts.UnixNano(), Doc: []byte(doc)})
		return e
	}
	write(t, dir, mk("1", `{"ok":1}`), mk("2", `{"reject":2}`), mk("3", `{"ok":3}`), entry(ts, "http_requests", "invalid_json", "raw"))
	var got []string
	write := func(_ context.Context, b *event.Batch) error {
		var dead []Entry
		for _, r := range b.Records {
			if strings.Contains(string(r.Doc), "reject") {
				e := Entry{Time: time.Now().UTC(), Stage: "es", Reason: "sink_rejected", Error: "again"}
				e.SetRecord(&r)
				dead = append(dead, e)
				continue
			}
			got = append(got, r.ID)
		}
		return st.Write(dead)
	}
	res, err := ReplayDocs(context.Background(), dir, Filter{}, "es", false, 2, write)
	if err != nil || res.Matched != 3 || res.Sent != 3 || res.FailedAgain != 1 || res.Accepted != 2 || strings.Join(got, ",") != "1,3" {
		t.Fatalf("%v %+v %v", err, res, got)
	}
	res, err = ReplayDocs(context.Background(), dir, Filter{}, "es", false, 2, write)
	if err != nil || res.Sent != 0 || res.AlreadyReplayed != 3 || res.SkippedFailed != 1 {
		t.Fatalf("second: %v %+v", err, res)
	}
	res, err = ReplayDocs(context.Background(), dir, Filter{}, "es", true, 2, func(context.Context, *event.Batch) error { return errors.New("down") })
	if err == nil || res.Sent != 0 || res.NotSent != 1 {
		t.Fatalf("failing sink: %v %+v", err, res)
	}
}
