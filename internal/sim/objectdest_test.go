package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/flarehose/flarehose/internal/objstore"
)

// localBucket is a file provider bucket in a temporary directory.
func localBucket(t testing.TB) objstore.Bucket {
	t.Helper()
	b, err := objstore.Open(context.Background(), objstore.Config{Provider: objstore.ProviderFile, Dir: t.TempDir(), Bucket: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storedObject is one object read back, gunzipped.
type storedObject struct {
	key  string
	body []byte
}

// readObjects lists every object under prefix and gunzips it.
func readObjects(t testing.TB, b objstore.Bucket, prefix string) []storedObject {
	t.Helper()
	ctx := context.Background()
	var out []storedObject
	err := b.List(ctx, prefix, "", func(o objstore.Object) error {
		raw, err := objstore.ReadAll(ctx, b, o.Key, 0)
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return errors.New(o.Key + ": not gzip: " + err.Error())
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			return err
		}
		out = append(out, storedObject{o.Key, body})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// batchKeyRe is a batch object's key under logs/{DATE}.
var batchKeyRe = regexp.MustCompile(`^logs/(\d{8})/(\d{8}T\d{6}Z)_(\d{8}T\d{6}Z)_[0-9a-f]{8}\.log\.gz$`)

func TestBatchObjectKey(t *testing.T) {
	at := func(s string) time.Time { t0, _ := time.Parse(time.RFC3339Nano, s); return t0 }
	for _, c := range []struct {
		path, start, end, want string
	}{
		{"logs/{DATE}", "2026-03-18T23:59:59.5Z", "2026-03-19T00:00:10Z", "logs/20260318/20260318T235959Z_20260319T000010Z_0a1b2c3d.log.gz"},
		{"logs", "2026-03-18T10:00:00Z", "2026-03-18T10:00:29.000000001Z", "logs/20260318T100000Z_20260318T100030Z_0a1b2c3d.log.gz"},
		{"", "2026-03-18T10:00:00Z", "2026-03-18T10:00:00Z", "20260318T100000Z_20260318T100000Z_0a1b2c3d.log.gz"},
		{"a/{DATE}/b", "2026-03-18T10:00:00+02:00", "2026-03-18T10:00:01+02:00", "a/20260318/b/20260318T080000Z_20260318T080001Z_0a1b2c3d.log.gz"},
		{"{DATE}", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "20260101/20260101T000000Z_20260101T000001Z_0a1b2c3d.log.gz"},
	} {
		if got := BatchObjectKey(c.path, at(c.start), at(c.end), "0a1b2c3d"); got != c.want {
			t.Errorf("BatchObjectKey(%q, %s, %s) = %q, want %q", c.path, c.start, c.end, got, c.want)
		}
	}
	now := at("2026-03-18T23:00:00-02:00")
	for path, want := range map[string]string{"logs/{DATE}": "logs/20260319/test.txt.gz", "logs": "logs/test.txt.gz", "": "test.txt.gz"} {
		if got := ValidationObjectKey(path, now); got != want {
			t.Errorf("ValidationObjectKey(%q) = %q, want %q", path, got, want)
		}
	}
	if a, b := batchHash(1, []byte("x")), batchHash(2, []byte("x")); a == b || len(a) != 8 || a != batchHash(1, []byte("x")) {
		t.Errorf("batchHash: %q %q", a, b)
	}
}

func TestPusherWritesObjects(t *testing.T) {
	// Batches cut by record count, and by size (a record then moves to the
	// next batch, and the window must follow it).
	for _, c := range []struct {
		name           string
		records, bytes int
	}{{"max_upload_records", 50, 0}, {"max_upload_bytes", 0, 2000}} {
		t.Run(c.name, func(t *testing.T) { testPusherWritesObjects(t, c.records, c.bytes) })
	}
}

func testPusherWritesObjects(t *testing.T, maxRecords, maxBytes int) {
	b := localBucket(t)
	// A backfill over midnight UTC: objects land in two daily folders.
	end := time.Date(2026, 3, 19, 0, 30, 0, 0, time.UTC)
	now := time.Date(2026, 3, 19, 1, 0, 0, 0, time.UTC)
	job := Job{ID: 7, Dataset: "http_requests", DestinationConf: "s3://logs/logs/{DATE}?region=us-east-1", MaxUploadRecords: maxRecords, MaxUploadBytes: maxBytes,
		Output: OutputOptions{FieldNames: []string{"EdgeStartTimestamp", "RayID"}, TimestampFormat: TimestampRFC3339ns}}
	p, err := runPusher(t, job, PushOptions{Mode: ModeBackfill, Records: 1000, Window: time.Hour, End: end, BackfillSpan: 10 * time.Minute,
		Bucket: b, Seed: 3, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if p.Destination() != nil {
		t.Error("an object storage job has no HTTP destination")
	}
	objs := readObjects(t, b, "")
	if len(objs) < 3 || objs[len(objs)-1].key != "logs/20260319/test.txt.gz" || string(objs[len(objs)-1].body) != `{"content":"tests"}` {
		t.Fatalf("want batches and logs/20260319/test.txt.gz, got %d objects, last %q", len(objs), objs[len(objs)-1].key)
	}
	days := map[string]int{}
	records := 0
	for _, o := range objs[:len(objs)-1] {
		m := batchKeyRe.FindStringSubmatch(o.key)
		if m == nil {
			t.Fatalf("key %q does not match %s", o.key, batchKeyRe)
		}
		start, _ := time.Parse(objectTimeLayout, m[2])
		stop, _ := time.Parse(objectTimeLayout, m[3])
		if m[1] != start.Format("20060102") || stop.Before(start) {
			t.Fatalf("key %q: folder or window wrong", o.key)
		}
		days[m[1]]++
		var first, last time.Time
		n := 0
		for _, l := range bytes.Split(bytes.TrimSuffix(o.body, []byte("\n")), []byte("\n")) {
			var rec struct{ EdgeStartTimestamp, RayID string }
			if err := json.Unmarshal(l, &rec); err != nil || rec.RayID == "" {
				t.Fatalf("%s: record %q: %v", o.key, l, err)
			}
			ts, err := time.Parse(time.RFC3339Nano, rec.EdgeStartTimestamp)
			if err != nil {
				t.Fatal(err)
			}
			if ts.Before(start) || ts.After(stop) {
				t.Fatalf("%s: record at %v outside the key's window", o.key, ts)
			}
			if n == 0 {
				first = ts
			}
			last = ts
			n++
		}
		// The window is the records' span, rounded to the second.
		if !start.Equal(first.Truncate(time.Second)) || stop.Sub(last) >= time.Second {
			t.Fatalf("%s: records span %v..%v", o.key, first, last)
		}
		if maxRecords > 0 && n > maxRecords || maxBytes > 0 && len(o.body) > maxBytes || last.Sub(first) >= 10*time.Minute {
			t.Fatalf("%s: %d records over %v", o.key, n, last.Sub(first))
		}
		records += n
	}
	st := p.Stats()
	if records != 1000 || st.RecordsSent != 1000 || st.BatchesSent != int64(len(objs)-1) || !st.Probed || st.BytesSent <= 0 {
		t.Fatalf("%d records read back, stats %+v", records, st)
	}
	if days["20260318"] == 0 || days["20260319"] == 0 {
		t.Fatalf("objects per day %v: want both sides of midnight", days)
	}
}

// TestPusherObjectBodiesMatchHTTP checks that an object holds exactly what
// the HTTP body would: same job and seed, batch_prefix/suffix included.
func TestPusherObjectBodiesMatchHTTP(t *testing.T) {
	out := OutputOptions{FieldNames: []string{"RayID", "ClientIP"}, BatchPrefix: `{"batch":[`, BatchSuffix: "]}\n", RecordDelimiter: ","}
	end := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	opts := PushOptions{Mode: ModeBackfill, Records: 300, Window: time.Hour, End: end, BackfillSpan: time.Hour, Seed: 9, Probe: ProbeNone}
	dst := newDestination(t, false, nil)
	if _, err := runPusher(t, Job{Dataset: "http_requests", DestinationConf: dst.URL, MaxUploadRecords: 100, Output: out}, opts); err != nil {
		t.Fatal(err)
	}
	b := localBucket(t)
	opts.Bucket = b
	if _, err := runPusher(t, Job{Dataset: "http_requests", DestinationConf: "gs://logs/cf", MaxUploadRecords: 100, Output: out}, opts); err != nil {
		t.Fatal(err)
	}
	objs := readObjects(t, b, "cf/")
	got := dst.deliveries()
	if len(objs) != 3 || len(got) != 3 {
		t.Fatalf("%d objects, %d HTTP bodies", len(objs), len(got))
	}
	for i := range objs {
		if !bytes.Equal(objs[i].body, got[i].body) || !bytes.HasPrefix(objs[i].body, []byte(`{"batch":[`)) {
			t.Fatalf("object %s differs from HTTP body %d:\n%s\n%s", objs[i].key, i, objs[i].body, got[i].body)
		}
	}
}

// faultyBucket fails Put while fail says so, with an error quoting what
// a careless SDK might: the request URL with its SAS and a secret key.
type faultyBucket struct {
	objstore.Bucket
	mu   sync.Mutex
	fail func(key string) error
	puts []string
}

func (f *faultyBucket) Put(ctx context.Context, key string, body []byte, opts objstore.PutOptions) error {
	f.mu.Lock()
	f.puts = append(f.puts, key)
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(key); err != nil {
			return err
		}
	}
	return f.Bucket.Put(ctx, key, body, opts)
}

func (f *faultyBucket) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.puts...)
}

func TestPusherObjectFailures(t *testing.T) {
	const (
		secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
		sig    = "Zm9vYmFy/c2lnbmF0dXJl+MTIzNDU2Nzg5MA=="
	)
	for _, c := range []struct {
		name, conf, scheme, secret string
	}{
		{"s3-compatible", "s3://logs/p?region=us-east-1&access-key-id=AKIDEXAMPLE&secret-access-key=" + url.QueryEscape(secret) + "&endpoint=127.0.0.1:9", "s3", secret},
		{"azure", "azure://logs/p?sv=2022-11-02&ss=b&srt=o&sp=w&se=2031-01-01T00%3A00%3A00Z&sig=" + url.QueryEscape(sig), "azure", sig},
		{"r2", "r2://logs/p/{DATE}?account-id=0123&access-key-id=AKID&secret-access-key=" + url.QueryEscape(secret), "r2", secret},
	} {
		t.Run(c.name, func(t *testing.T) {
			// What a careless SDK might quote: the SAS URL, the key in every
			// encoding.
			leaky := errors.New("PUT http://127.0.0.1:9/logs/x?sv=2022-11-02&sig=" + url.QueryEscape(c.secret) + ": 403 AccessDenied (" +
				c.secret + ", " + url.PathEscape(c.secret) + ", " + url.QueryEscape(c.secret) + ")")
			fb := &faultyBucket{Bucket: localBucket(t)}
			fb.fail = func(key string) error {
				if strings.HasSuffix(key, ValidationObjectName) {
					return nil
				}
				return leaky
			}
			p, err := NewPusher(Job{Dataset: "http_requests", DestinationConf: c.conf, MaxUploadRecords: 10}, PushOptions{Records: 30, MaxAttempts: 3, Bucket: fb})
			if err != nil {
				t.Fatal(err)
			}
			var waits []time.Duration
			p.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := p.Stats()
			if st.Attempts != 9 || st.Retries != 6 || st.BatchesFailed != 3 || st.RecordsDropped != 30 || st.BatchesSent != 0 {
				t.Errorf("stats %+v", st)
			}
			if len(waits) != 6 || waits[0] != time.Second || waits[1] != 2*time.Second {
				t.Errorf("waits %v: want the HTTP backoff", waits)
			}
			if st.LastError.IsZero() || !strings.HasPrefix(st.ErrorMessage, "error pushing: error uploading to "+c.scheme+": PUT ") || !strings.Contains(st.ErrorMessage, "403 AccessDenied") {
				t.Errorf("error_message %q", st.ErrorMessage)
			}
			for _, part := range []string{"K7MDENG", "c2lnbmF0dXJl"} {
				if strings.Contains(st.ErrorMessage, part) {
					t.Errorf("error_message shows a secret: %q", st.ErrorMessage)
				}
			}
			// Each batch's retries rewrite one key.
			keys := map[string]int{}
			for _, k := range fb.keys() {
				keys[k]++
			}
			if len(keys) != 4 { // test.txt.gz + 3 batches
				t.Errorf("keys %v", keys)
			}
		})
	}
}

func TestPusherObjectErrorClearsAndDisables(t *testing.T) {
	// The first batch's first try fails, the retry succeeds.
	fb := &faultyBucket{Bucket: localBucket(t)}
	var n int
	fb.fail = func(key string) error {
		if strings.HasSuffix(key, ".log.gz") {
			if n++; n == 1 {
				return errors.New("connection reset")
			}
		}
		return nil
	}
	p, _ := NewPusher(Job{Dataset: "audit_logs", DestinationConf: "gs://logs", MaxUploadRecords: 5}, PushOptions{Records: 10, Bucket: fb, Backoff: time.Millisecond})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.BatchesSent != 2 || st.Retries != 1 || !st.LastError.IsZero() || st.ErrorMessage != "" || st.RecordsSent != 10 {
		t.Errorf("stats %+v", st)
	}

	// A store that keeps failing disables the job.
	fb = &faultyBucket{Bucket: localBucket(t), fail: func(key string) error {
		if strings.HasSuffix(key, ".log.gz") {
			return errors.New("503 SlowDown")
		}
		return nil
	}}
	p, _ = NewPusher(Job{Dataset: "audit_logs", DestinationConf: "gs://logs", MaxUploadRecords: 10}, PushOptions{Records: 1000, Bucket: fb, DisableAfter: time.Nanosecond})
	p.sleep = func(ctx context.Context, d time.Duration) error { time.Sleep(time.Millisecond); return ctx.Err() }
	if err := p.Run(context.Background()); !errors.Is(err, ErrJobDisabled) {
		t.Fatalf("Run returned %v", err)
	}
	if st := p.Stats(); st.Enabled || st.RecordsSent != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestPusherObjectProbeFailure(t *testing.T) {
	fb := &faultyBucket{Bucket: localBucket(t), fail: func(string) error { return errors.New("s3://logs/p/test.txt.gz: 403 AccessDenied") }}
	p, err := runPusher(t, Job{Dataset: "http_requests", DestinationConf: "s3://logs/p?region=us-east-1"}, PushOptions{Bucket: fb})
	if err == nil || err.Error() != "error validating destination: error writing object: error uploading: s3://logs/p/test.txt.gz: 403 AccessDenied" {
		t.Fatalf("Run: %v", err)
	}
	if st := p.Stats(); st.Probed || st.RecordsGenerated != 0 || !strings.HasPrefix(st.ErrorMessage, "error pushing: error uploading to s3: ") {
		t.Errorf("stats %+v", st)
	}
	if keys := fb.keys(); len(keys) != 1 || keys[0] != "p/test.txt.gz" {
		t.Errorf("puts %v", keys)
	}
}

func TestNewPusherRejectsObjectConfs(t *testing.T) {
	b := localBucket(t)
	for _, conf := range []string{
		"https://example.com/logs",    // not an object store
		"r2://logs/p?access-key-id=a", // no account-id
		"s3://logs/p?access-key-id=a", // a key id without its secret
		"s3:///p",                     // no bucket
		"gs://logs/%zz",               // not URL encoding
	} {
		if _, err := NewPusher(Job{Dataset: "http_requests", DestinationConf: conf}, PushOptions{Bucket: b}); err == nil {
			t.Errorf("NewPusher(%q) with a bucket: no error", conf)
		}
	}
	// Without a bucket, object confs are refused as before.
	if _, err := NewPusher(Job{Dataset: "http_requests", DestinationConf: "s3://logs/p"}, PushOptions{}); err == nil {
		t.Error("s3:// without a bucket accepted")
	}
}
