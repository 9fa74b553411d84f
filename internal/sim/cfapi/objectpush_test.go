package cfapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/objstore"
)

// Jobs with object storage destinations (PROTOCOL.md §3.2): the file
// provider here, real stores in storage_test.go.

// storedObject is one object read back, gunzipped.
type storedObject struct {
	key  string
	body []byte
}

// listObjects reads every object under prefix, gunzipping .gz ones.
func listObjects(t *testing.T, b objstore.Bucket, prefix string) []storedObject {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []storedObject
	err := b.List(ctx, prefix, "", func(o objstore.Object) error {
		raw, err := objstore.ReadAll(ctx, b, o.Key, 0)
		if err != nil {
			return err
		}
		if strings.HasSuffix(o.Key, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				return errors.New(o.Key + ": not gzip: " + err.Error())
			}
			if raw, err = io.ReadAll(zr); err != nil {
				return err
			}
		}
		out = append(out, storedObject{o.Key, raw})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// batches keeps the .log.gz objects.
func batches(objs []storedObject) []storedObject {
	var out []storedObject
	for _, o := range objs {
		if strings.HasSuffix(o.key, ".log.gz") {
			out = append(out, o)
		}
	}
	return out
}

// waitObjects waits until cond holds for the objects under prefix.
func waitObjects(t *testing.T, b objstore.Bucket, prefix, what string, cond func([]storedObject) bool) []storedObject {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		objs := listObjects(t, b, prefix)
		if cond(objs) {
			return objs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %d objects under %q", what, len(objs), prefix)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keyPattern matches the batch keys of a destination path: {DATE} is the
// first group, the window's start and end the next two.
func keyPattern(path string) *regexp.Regexp {
	before, after, dated := strings.Cut(path, "{DATE}")
	re := "^"
	if dated {
		re += regexp.QuoteMeta(before) + `(\d{8})` + regexp.QuoteMeta(after)
	} else {
		re += regexp.QuoteMeta(path) + `()`
	}
	if path != "" {
		re += "/"
	}
	return regexp.MustCompile(re + `(\d{8}T\d{6}Z)_(\d{8}T\d{6}Z)_[0-9a-f]{8}\.log\.gz$`)
}

// checkBatches checks batch objects: key layout, NDJSON records
// (EdgeStartTimestamp as rfc3339ns, RayID) inside the key's window, perBatch
// records each (0: any). It returns the number of records.
func checkBatches(t *testing.T, path string, objs []storedObject, perBatch int) int {
	t.Helper()
	re := keyPattern(path)
	total := 0
	for _, o := range objs {
		m := re.FindStringSubmatch(o.key)
		if m == nil {
			t.Fatalf("key %q does not match %s", o.key, re)
		}
		start, err1 := time.Parse("20060102T150405Z", m[2])
		end, err2 := time.Parse("20060102T150405Z", m[3])
		if err1 != nil || err2 != nil || end.Before(start) || m[1] != "" && m[1] != start.Format("20060102") {
			t.Fatalf("key %q: window or date folder wrong", o.key)
		}
		n := 0
		for _, l := range bytes.Split(bytes.TrimSuffix(o.body, []byte("\n")), []byte("\n")) {
			var rec struct{ EdgeStartTimestamp, RayID string }
			if err := json.Unmarshal(l, &rec); err != nil || rec.RayID == "" {
				t.Fatalf("%s: record %q: %v", o.key, l, err)
			}
			ts, err := time.Parse(time.RFC3339Nano, rec.EdgeStartTimestamp)
			if err != nil || ts.Before(start) || ts.After(end) {
				t.Fatalf("%s: record at %q outside the key's window (%v)", o.key, rec.EdgeStartTimestamp, err)
			}
			n++
		}
		if perBatch > 0 && n != perBatch {
			t.Fatalf("%s: %d records, want %d", o.key, n, perBatch)
		}
		total += n
	}
	return total
}

// checkValidationObject checks that test.txt.gz was written under path
// for one of the dates around the job's creation.
func checkValidationObject(t *testing.T, b objstore.Bucket, path string, created ...time.Time) {
	t.Helper()
	for _, at := range created {
		key := strings.ReplaceAll(path, "{DATE}", at.UTC().Format("20060102"))
		key = objstore.Join(key, "test.txt.gz")
		raw, err := objstore.ReadAll(context.Background(), b, key, 1024)
		if err != nil {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: not gzip", key)
		}
		body, _ := io.ReadAll(zr)
		if string(body) != `{"content":"tests"}` {
			t.Fatalf("%s holds %q", key, body)
		}
		return
	}
	t.Fatalf("no test.txt.gz under %q", path)
}

// objectJobBody is the job the object tests create: five records a batch,
// fields the checks read.
func objectJobBody(conf string) map[string]any {
	return map[string]any{"dataset": "http_requests", "destination_conf": conf, "enabled": true, "max_upload_records": 5,
		"output_options": map[string]any{"field_names": []string{"EdgeStartTimestamp", "RayID"}, "timestamp_format": "rfc3339ns"}}
}

// challengeFor asks for an ownership challenge and reads it back.
func (h *harness) challengeFor(t *testing.T, conf string, read objstore.Bucket) string {
	t.Helper()
	res := asMap(h.do(http.MethodPost, "/zones/"+h.zone()+"/logpush/ownership", map[string]string{"destination_conf": conf}, nil).ok(t))
	tok, err := objstore.ReadAll(context.Background(), read, res["filename"].(string), 4096)
	if err != nil {
		t.Fatalf("reading the challenge %v: %v", res["filename"], err)
	}
	return string(tok)
}

// pushObjects runs an enabled job for conf end to end: the ownership
// challenge when the destination needs one, creation (which writes
// test.txt.gz), then batches, read back through read. It returns the job
// ID.
func pushObjects(t *testing.T, h *harness, conf string, read objstore.Bucket) string {
	t.Helper()
	dest, err := ParseObjectDestination(conf)
	if err != nil {
		t.Fatal(err)
	}
	body := objectJobBody(conf)
	if dest.NeedsOwnership() {
		body["ownership_challenge"] = h.challengeFor(t, conf, read)
	}
	before := time.Now()
	id := jobID(t, h.createJob(body))
	checkValidationObject(t, read, dest.Path, before, time.Now())
	listPrefix, _, _ := strings.Cut(dest.Path, "{DATE}")
	objs := waitObjects(t, read, listPrefix, "three batches", func(o []storedObject) bool { return len(batches(o)) >= 3 })
	if n := checkBatches(t, dest.Path, batches(objs), 5); n < 15 {
		t.Fatalf("%d records", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		job := asMap(h.get(h.jobsPath() + "/" + id).ok(t))
		if job["last_complete"] != nil && job["error_message"] == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job after pushes: %v", job)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return id
}

// countBatches counts batch objects under prefix.
func countBatches(t *testing.T, b objstore.Bucket, prefix string) int {
	return len(batches(listObjects(t, b, prefix)))
}

func TestObjectJobPushes(t *testing.T) {
	dir := t.TempDir()
	local := LocalDir{Dir: dir}
	h := pushHarness(t, Config{Storage: local})
	for _, conf := range []string{
		"s3://mybucket/logs/{DATE}?region=us-east-1",
		"s3://compat/cf/http?region=auto&access-key-id=AKID&secret-access-key=not-a-real-secret&endpoint=minio.local:9000",
		"r2://r2bucket/{DATE}?account-id=0123456789abcdef&access-key-id=a&secret-access-key=s",
		"gs://gcs/logs",
		"azure://logs/cf/{DATE}?sv=2022-11-02&ss=b&srt=o&sp=w&se=2031-01-01T00%3A00%3A00Z&sig=c2ln",
		"azure://acct.blob.core.windows.net/container/cf?sv=2022-11-02&ss=b&srt=o&sp=w&sig=c2ln",
	} {
		dest, err := ParseObjectDestination(conf)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(dest.Scheme+"/"+dest.Bucket, func(t *testing.T) {
			read, err := local.Bucket(context.Background(), dest)
			if err != nil {
				t.Fatal(err)
			}
			id := pushObjects(t, h, conf, read)
			h.do(http.MethodDelete, h.jobsPath()+"/"+id, nil, nil).ok(t)
		})
	}
}

func TestObjectJobUpdateStopsAndMoves(t *testing.T) {
	local := LocalDir{Dir: t.TempDir()}
	h := pushHarness(t, Config{Storage: local})
	conf := "s3://b/old?region=us-east-1&access-key-id=AKID&secret-access-key=secret-key&endpoint=minio.local"
	dest, _ := ParseObjectDestination(conf)
	b, _ := local.Bucket(context.Background(), dest)
	id := pushObjects(t, h, conf, b)

	// Disabling stops writing: nothing appears after the PUT returns.
	h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"enabled": false}, nil).ok(t)
	n := countBatches(t, b, "old/")
	time.Sleep(300 * time.Millisecond)
	if m := countBatches(t, b, "old/"); m != n {
		t.Fatalf("%d objects after disabling", m-n)
	}
	// A new path: validated at once (test.txt.gz), written once enabled.
	next := strings.Replace(conf, "/old?", "/new/{DATE}?", 1)
	h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"destination_conf": next, "enabled": true}, nil).ok(t)
	checkValidationObject(t, b, "new/{DATE}", time.Now().Add(-time.Minute), time.Now())
	waitObjects(t, b, "new/", "batches under the new path", func(o []storedObject) bool { return len(batches(o)) >= 2 })
	if m := countBatches(t, b, "old/"); m != n {
		t.Fatalf("%d objects under the old path after the update", m-n)
	}
	// Deleting stops.
	h.do(http.MethodDelete, h.jobsPath()+"/"+id, nil, nil).ok(t)
	n = countBatches(t, b, "new/")
	time.Sleep(300 * time.Millisecond)
	if m := countBatches(t, b, "new/"); m != n {
		t.Fatalf("%d objects after deleting", m-n)
	}
}

// faultyStorage is LocalDir whose puts fail while failing returns an
// error; the error quotes the secret a careless SDK might show.
type faultyStorage struct {
	LocalDir
	mu      sync.Mutex
	failing func(key string) error
}

func (f *faultyStorage) setFailing(fn func(key string) error) {
	f.mu.Lock()
	f.failing = fn
	f.mu.Unlock()
}

func (f *faultyStorage) Bucket(ctx context.Context, dest *ObjectDestination) (objstore.Bucket, error) {
	b, err := f.LocalDir.Bucket(ctx, dest)
	if err != nil {
		return nil, err
	}
	return &faultyBucket{Bucket: b, f: f}, nil
}

type faultyBucket struct {
	objstore.Bucket
	f *faultyStorage
}

func (b *faultyBucket) Put(ctx context.Context, key string, body []byte, opts objstore.PutOptions) error {
	b.f.mu.Lock()
	fn := b.f.failing
	b.f.mu.Unlock()
	if fn != nil {
		if err := fn(key); err != nil {
			return err
		}
	}
	return b.Bucket.Put(ctx, key, body, opts)
}

const objSecret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"

var errLeaky = errors.New("s3://b/p: 503 SlowDown (signed with " + objSecret + ")")

func TestObjectJobFailureAndDisable(t *testing.T) {
	fs := &faultyStorage{LocalDir: LocalDir{Dir: t.TempDir()}}
	h := pushHarness(t, Config{Storage: fs, PushMaxAttempts: 2, PushDisableAfter: 400 * time.Millisecond})
	conf := "s3://b/p?region=us-east-1&access-key-id=AKID&secret-access-key=" + objSecret + "&endpoint=minio.local"
	id := jobID(t, h.createJob(objectJobBody(conf)))
	fs.setFailing(func(key string) error { return errLeaky }) // after test.txt.gz
	deadline := time.Now().Add(20 * time.Second)
	var job map[string]any
	sawError := false
	for time.Now().Before(deadline) {
		job = asMap(h.get(h.jobsPath() + "/" + id).ok(t))
		if msg, _ := job["error_message"].(string); msg != "" {
			sawError = true
			if !strings.HasPrefix(msg, "error pushing: error uploading to s3: s3://b/p: 503 SlowDown") || job["last_error"] == nil || strings.Contains(msg, objSecret) {
				t.Fatalf("job %v", job)
			}
		}
		if job["enabled"] == false {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sawError || job["enabled"] != false {
		t.Fatalf("job never failed and got disabled: %v", job)
	}
	// Re-enabled against a healthy store, the error clears.
	fs.setFailing(nil)
	h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"enabled": true}, nil).ok(t)
	for deadline = time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		job = asMap(h.get(h.jobsPath() + "/" + id).ok(t))
		if job["last_complete"] != nil && job["error_message"] == nil && job["last_error"] == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job after recovery: %v", job)
		}
	}
}

func TestObjectDestinationValidation(t *testing.T) {
	fs := &faultyStorage{LocalDir: LocalDir{Dir: t.TempDir()}}
	h := newHarness(t, Config{Storage: fs, RelaxedLimits: true})
	z := "/zones/" + h.zone() + "/logpush"
	conf := "s3://b/p/{DATE}?region=us-east-1&access-key-id=AKID&secret-access-key=" + objSecret + "&endpoint=minio.local"
	validate := func() map[string]any {
		return asMap(h.do(http.MethodPost, z+"/validate/destination", map[string]string{"destination_conf": conf}, nil).ok(t))
	}

	// A store that refuses the write fails creation and validation, without
	// the secret in the message.
	fs.setFailing(func(string) error { return errLeaky })
	e := h.createJob(objectJobBody(conf)).fails(t, http.StatusBadRequest, CodeDestination)
	if msg := e["message"].(string); !strings.HasPrefix(msg, "error validating destination: error writing object: error uploading: s3://b/p: 503") || strings.Contains(msg, objSecret) {
		t.Fatalf("create error %q", msg)
	}
	if res := validate(); res["valid"] != false || !strings.HasPrefix(res["message"].(string), "error validating destination: error writing object:") || strings.Contains(res["message"].(string), objSecret) {
		t.Fatalf("validate: %v", res)
	}
	if n := len(asList(h.get(z + "/jobs").ok(t))); n != 0 {
		t.Fatalf("%d jobs after a failed creation", n)
	}

	// A healthy store: validate writes test.txt.gz at the request's date
	// (the fake clock's).
	fs.setFailing(nil)
	if res := validate(); res["valid"] != true || res["message"] != "" {
		t.Fatalf("validate: %v", res)
	}
	dest, _ := ParseObjectDestination(conf)
	b, _ := fs.LocalDir.Bucket(context.Background(), dest)
	checkValidationObject(t, b, dest.Path, t0)
	h.createJob(objectJobBody(conf)).ok(t)

	// The ownership challenge comes first: without it nothing is written.
	fs.setFailing(func(key string) error { t.Errorf("wrote %s before the ownership check", key); return nil })
	e = h.createJob(objectJobBody("gs://other/logs")).fails(t, http.StatusBadRequest, CodeDestination)
	if !strings.Contains(e["message"].(string), "ownership challenge") {
		t.Fatalf("gs:// without a challenge: %v", e)
	}
}

func TestObjectJobsWithoutStorage(t *testing.T) {
	// Without Storage an object job is accepted unchecked and pushes
	// nothing (the simulator has nowhere to write); validation passes.
	h := pushHarness(t, Config{})
	conf := "r2://b/p?account-id=0123&access-key-id=a&secret-access-key=s"
	id := jobID(t, h.createJob(objectJobBody(conf)))
	time.Sleep(200 * time.Millisecond)
	job := asMap(h.get(h.jobsPath() + "/" + id).ok(t))
	if job["enabled"] != true || job["last_complete"] != nil || job["error_message"] != nil {
		t.Fatalf("job %v", job)
	}
	// Malformed object confs are refused at creation.
	for _, bad := range []string{
		"r2://b/p?access-key-id=a&secret-access-key=s",        // no account-id
		"s3://b/p?region=us-east-1&access-key-id=a",           // a key without its secret
		"azure://c/p?sv=2022-11-02&ss=bf&srt=o&sp=w&sig=c2ln", // not blob-only
	} {
		e := h.createJob(objectJobBody(bad)).fails(t, http.StatusBadRequest, CodeBadRequest)
		if strings.Contains(e["message"].(string), "c2ln") || strings.Contains(e["message"].(string), "secret-access-key=s") {
			t.Errorf("%s: message shows a secret: %v", bad, e)
		}
	}
}

func TestParseObjectDestinationAzureAccount(t *testing.T) {
	for _, c := range []struct{ conf, bucket, path string }{
		{"azure://acct.blob.core.windows.net/container/logs/{DATE}?sv=1&sig=x", "container", "logs/{DATE}"},
		{"azure://container/logs?sv=1&sig=x", "container", "logs"},
		{"s3://b/a/b/?region=x", "b", "a/b"},
		{"sumo://collectors.sumologic.com/receiver/v1/http/abc", "collectors.sumologic.com", "receiver/v1/http/abc"},
	} {
		d, err := ParseObjectDestination(c.conf)
		if err != nil || d.Bucket != c.bucket || d.Path != c.path {
			t.Errorf("%s: %+v %v", c.conf, d, err)
		}
	}
	if _, err := ParseObjectDestination("s3://b/p?secret-access-key=hunter22%zz"); err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("bad URL encoding: %v", err)
	}
}
