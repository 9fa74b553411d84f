package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/cfclient"
	"github.com/flarehose/flarehose/internal/sim/cfapi"
)

var updateLogpushGolden = flag.Bool("update-logpush-golden", false, "rewrite internal/cli/testdata/logpush/*.golden")

// The secret used by these tests: special characters prove the URL
// encoding; tests assert it never shows up in any output.
const (
	lpSecret  = "s3cr3t/with+special&chars= and space"
	lpSecret2 = "rotated-Secret-0987654321"
)

// lpReceiver is a Logpush HTTPS endpoint that records every upload.
type lpReceiver struct {
	ts      *httptest.Server
	mu      sync.Mutex
	uploads []lpUpload
	want    string // the secret it accepts ("" accepts any)
}

type lpUpload struct {
	path, secret string
	body         []byte // decompressed
}

func newLPReceiver(t *testing.T, want string) *lpReceiver {
	rc := &lpReceiver{want: want}
	rc.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		body := raw
		if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
			body, _ = io.ReadAll(zr)
		}
		secret := r.Header.Get(cfclient.DefaultSecretHeader)
		rc.mu.Lock()
		rc.uploads = append(rc.uploads, lpUpload{path: r.URL.Path, secret: secret, body: body})
		want := rc.want
		rc.mu.Unlock()
		if want != "" && secret != want {
			http.Error(w, "bad secret", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.ts.Close)
	return rc
}

func (rc *lpReceiver) all() []lpUpload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.uploads)
}

func (rc *lpReceiver) accept(secret string) {
	rc.mu.Lock()
	rc.want = secret
	rc.mu.Unlock()
}

// lpHarness is a simulated Cloudflare API (counting its requests) and a
// receiver its jobs push to.
type lpHarness struct {
	t       *testing.T
	srv     *cfapi.Server
	base    string
	calls   atomic.Int64
	zone    string
	account string
	rc      *lpReceiver
}

func newLPHarness(t *testing.T, cfg cfapi.Config) *lpHarness {
	t.Helper()
	for _, k := range []string{envAPIToken, envEmail, envAPIKey, envSecret} {
		t.Setenv(k, "")
	}
	h := &lpHarness{t: t, rc: newLPReceiver(t, "")}
	cfg.PushClient = h.rc.ts.Client()
	cfg.RelaxedLimits = true
	if cfg.PushRate == 0 {
		cfg.PushRate = 200
	}
	srv, err := cfapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.calls.Add(1)
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	h.base = ts.URL + cfapi.BasePath
	h.zone, h.account = srv.Zones()[0].ID, srv.AccountID()
	return h
}

// run runs `flarehose logpush ARGS --base-url ...`, with the simulator's
// token unless the arguments or the environment give credentials.
func (h *lpHarness) run(args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	args = append([]string{"logpush"}, args...)
	args = append(args, "--base-url", h.base)
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--api-") }) &&
		os.Getenv(envAPIToken) == "" && os.Getenv(envAPIKey) == "" {
		args = append(args, "--api-token", h.srv.Token())
	}
	return run(h.t, "", args...)
}

// api calls the simulator directly (not through the CLI).
func (h *lpHarness) api(method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+h.srv.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Result json.RawMessage
	}
	json.NewDecoder(resp.Body).Decode(&env)
	var m map[string]any
	json.Unmarshal(env.Result, &m)
	return resp.StatusCode, m
}

func (h *lpHarness) job(id string) map[string]any {
	h.t.Helper()
	code, m := h.api(http.MethodGet, "/zones/"+h.zone+"/logpush/jobs/"+id, nil)
	if code != 200 {
		h.t.Fatalf("GET job %s: %d", id, code)
	}
	return m
}

// noSecrets fails when any output holds a secret, raw or URL-encoded.
func noSecrets(t *testing.T, outputs []string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, form := range []string{s, cfclient.EncodeHeaderValue(s)} {
			for _, out := range outputs {
				if strings.Contains(out, form) {
					t.Errorf("output leaks secret %q:\n%s", form, out)
				}
			}
		}
	}
}

var createdRe = regexp.MustCompile(`(?m)^id:\s+(\d+)$`)

func createdID(t *testing.T, out string) string {
	t.Helper()
	m := createdRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no job id in %q", out)
	}
	return m[1]
}

func TestLogpushDatasets(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{})
	code, out, errs := h.run("datasets", "--zone", h.zone)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lpGolden(t, "datasets_zone", out)
	code, out, _ = h.run("datasets", "--account", h.account, "--json")
	var rows []datasetRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 30 {
		t.Fatalf("exit %d, %d rows: %s", code, len(rows), out)
	}
	for _, r := range rows {
		if r.Name == "audit_logs" && (!r.Normalized || r.Elastic != "cloudflare_logpush.audit") {
			t.Errorf("audit_logs: %+v", r)
		}
	}
	// Without a scope: both, no credentials needed, no API call.
	t.Setenv(envAPIToken, "")
	code, out, _ = run(t, "", "logpush", "datasets")
	if code != 0 || !regexp.MustCompile(`firewall_events\s+zone\s+44`).MatchString(out) || !regexp.MustCompile(`firewall_events\s+account\s+45`).MatchString(out) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if h.calls.Load() != 0 {
		t.Fatalf("datasets made %d API calls", h.calls.Load())
	}
}

func TestLogpushFields(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{})
	code, out, errs := h.run("fields", "http_requests", "--zone", h.zone)
	if code != 0 || !strings.Contains(out, "EdgeStartTimestamp *") || !strings.Contains(out, "RayID ") ||
		!strings.Contains(out, "* = timestamp") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	code, out, _ = h.run("fields", "cloudflare_logpush.audit", "--account", h.account, "--json")
	var fields map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &fields) != nil || fields["ActorEmail"] == "" {
		t.Fatalf("exit %d: %s", code, out)
	}
	code, _, errs = h.run("fields", "audit_logs", "--zone", h.zone)
	if code != exitUsage || !strings.Contains(errs, "audit_logs is an account dataset: give --account ID") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// TestLogpushCreateHTTP: the test upload reaches the receiver with the
// secret header, then the job pushes records there with the chosen fields
// and timestamp format.
func TestLogpushCreateHTTP(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{})
	h.rc.accept(lpSecret)
	t.Setenv(envSecret, lpSecret)
	code, out, errs := h.run("jobs", "create", "--zone", h.zone, "--dataset", "http_requests", "--url", h.rc.ts.URL,
		"--max-upload-records", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	noSecrets(t, []string{out, errs}, lpSecret, h.srv.Token())
	for _, want := range []string{"name:              flarehose-http-requests", "enabled:           true",
		"destination:       " + h.rc.ts.URL + "/logpush/http_requests?header_X-Flarehose-Secret=***",
		"timestamp_format:  rfc3339ns", "fields (24):", "max_upload:        5 records"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "test upload to "+h.rc.ts.URL+"/logpush/http_requests?header_X-Flarehose-Secret=*** was accepted") {
		t.Errorf("stderr %q", errs)
	}
	id := createdID(t, out)
	stored := h.job(id)["destination_conf"].(string)
	if want := h.rc.ts.URL + "/logpush/http_requests?header_X-Flarehose-Secret=" + cfclient.EncodeHeaderValue(lpSecret); stored != want {
		t.Fatalf("destination_conf %q, want %q", stored, want)
	}

	ups := h.rc.all()
	if len(ups) == 0 || ups[0].path != "/logpush/http_requests" || ups[0].secret != lpSecret || string(ups[0].body) != `{"content":"tests"}` {
		t.Fatalf("first upload is not the validation upload with the secret: %+v", ups)
	}
	// The job then pushes records.
	deadline := time.Now().Add(15 * time.Second)
	var rec map[string]any
	for rec == nil {
		for _, u := range h.rc.all()[1:] {
			line, _, _ := strings.Cut(string(u.body), "\n")
			if u.secret == lpSecret && json.Unmarshal([]byte(line), &rec) == nil {
				break
			}
			rec = nil
		}
		if rec == nil && time.Now().After(deadline) {
			t.Fatalf("no records pushed: %d uploads", len(h.rc.all()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	preset, _ := cfclient.Preset("http_requests", "default")
	keys := sortedKeys(rec)
	if !slices.Equal(keys, preset) {
		t.Errorf("record fields %v, want %v", keys, preset)
	}
	if ts, _ := rec["EdgeStartTimestamp"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`).MatchString(ts) {
		t.Errorf("EdgeStartTimestamp %v is not rfc3339ns", rec["EdgeStartTimestamp"])
	}
	for h.job(id)["last_complete"] == nil {
		if time.Now().After(deadline) {
			t.Fatal("last_complete never set")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, out, _ = h.run("jobs", "list", "--zone", h.zone)
	if code != 0 || !regexp.MustCompile(`flarehose-http-requests\s+http_requests\s+true\s+\S+\s+20\d\d-\d\d-\d\dT`).MatchString(out) {
		t.Fatalf("list after pushing:\n%s", out)
	}
}

func TestLogpushCreateReceiverProblems(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "https://" + ln.Addr().String()
	ln.Close()
	code, out, errs := h.run("jobs", "create", "--zone", h.zone, "--dataset", "http_requests", "--url", down, "--secret", lpSecret)
	if code != exitFail || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"creating the http_requests job", "error validating destination", "connection refused",
		"hint: Cloudflare makes a test upload", "nothing listens"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	noSecrets(t, []string{out, errs}, lpSecret, h.srv.Token())

	// A receiver with another secret answers 401.
	h.rc.accept("the-receivers-own-secret")
	code, _, errs = h.run("jobs", "create", "--zone", h.zone, "--dataset", "http_requests", "--url", h.rc.ts.URL, "--secret", lpSecret)
	if code != exitFail || !strings.Contains(errs, "refused the upload's secret") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	noSecrets(t, []string{errs}, lpSecret)
	if code, out, _ := h.run("jobs", "list", "--zone", h.zone); code != 0 || !strings.Contains(out, "no Logpush jobs") {
		t.Fatalf("failed creates left jobs: %s", out)
	}
}

func TestLogpushDryRun(t *testing.T) {
	dir := t.TempDir()
	h := newLPHarness(t, cfapi.Config{Storage: cfapi.LocalDir{Dir: dir}})
	t.Setenv(envSecret, lpSecret)
	code, out, errs := h.run("jobs", "create", "--zone", h.zone, "--dataset", "cloudflare_logpush.http_request",
		"--url", "https://logs.example.com:9560", "--fields", "minimal", "--filter", `{"where": {"key":"ClientRequestHost","operator":"eq","value":"example.com"}}`,
		"--max-upload-bytes", "5MB", "--max-upload-interval", "1m", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lpGolden(t, "dryrun_create", strings.ReplaceAll(strings.ReplaceAll(out, h.base, "BASE"), h.zone, "ZONE"))

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"jobs", "create", "--zone", h.zone, "--dataset", "dns_logs", "--url", "https://l.example", "--fields", "all"},
			[]string{"GET " + h.base + "/zones/" + h.zone + "/logpush/datasets/dns_logs/fields", "<every field of dns_logs from the GET above>"}},
		{[]string{"jobs", "update", "7", "--zone", h.zone, "--fields", "security", "--secret", lpSecret2, "--enabled=false"},
			[]string{"GET " + h.base + "/zones/" + h.zone + "/logpush/jobs/7", "PUT " + h.base + "/zones/" + h.zone + "/logpush/jobs/7",
				`"enabled": false`, "<fields security of the job's dataset>", "header_X-Flarehose-Secret=***", "# the PUT below assumes"}},
		{[]string{"jobs", "enable", "7", "--zone", h.zone}, []string{"PUT " + h.base + "/zones/" + h.zone + "/logpush/jobs/7", `"enabled": true`}},
		{[]string{"jobs", "disable", "7", "--zone", h.zone}, []string{`"enabled": false`}},
		{[]string{"jobs", "delete", "7", "--zone", h.zone}, []string{"GET ", "DELETE " + h.base + "/zones/" + h.zone + "/logpush/jobs/7"}},
		{[]string{"jobs", "list", "--zone", h.zone}, []string{"GET " + h.base + "/zones/" + h.zone + "/logpush/jobs\n"}},
		{[]string{"jobs", "get", "7", "--zone", h.zone}, []string{"GET " + h.base + "/zones/" + h.zone + "/logpush/jobs/7\n"}},
		{[]string{"fields", "http_requests", "--zone", h.zone}, []string{"GET "}},
		{[]string{"jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", "s3://bucket/logs?region=us-east-1",
			"--challenge-from", "file://" + dir},
			[]string{"POST " + h.base + "/accounts/" + h.account + "/logpush/ownership", `"ownership_challenge": "***"`, "# then read the challenge file"}},
		{[]string{"jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", "r2://bucket/logs?account-id=x&access-key-id=AKID&secret-access-key=" + lpSecret2},
			[]string{`"destination_conf": "r2://bucket/logs?account-id=x&access-key-id=AKID&secret-access-key=***"`}},
	} {
		code, out, errs := h.run(append(c.args, "--dry-run")...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", c.args, code, errs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, out)
			}
		}
		noSecrets(t, []string{out, errs}, lpSecret, lpSecret2, h.srv.Token())
	}
	if n := h.calls.Load(); n != 0 {
		t.Fatalf("--dry-run made %d API calls", n)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("--dry-run wrote an ownership challenge")
	}
}

func TestLogpushJSONMasksSecrets(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{})
	code, out, errs := h.run("jobs", "create", "--zone", h.zone, "--dataset", "firewall_events", "--url", h.rc.ts.URL,
		"--secret", lpSecret, "--enabled=false", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var job map[string]any
	if err := json.Unmarshal([]byte(out), &job); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if job["destination_conf"] != h.rc.ts.URL+"/logpush/firewall_events?header_X-Flarehose-Secret=***" || job["enabled"] != false ||
		job["dataset"] != "firewall_events" {
		t.Fatalf("%v", job)
	}
	oo := job["output_options"].(map[string]any)
	if oo["timestamp_format"] != "rfc3339ns" || len(oo["field_names"].([]any)) < 40 { // firewall_events: default = all
		t.Fatalf("output_options %v", oo)
	}
	all := []string{out, errs}
	for _, args := range [][]string{{"jobs", "list"}, {"jobs", "get", "1"}, {"jobs", "list", "--dataset", "firewall_events"}} {
		code, out, errs := h.run(append(args, "--zone", h.zone, "--json")...)
		if code != 0 || !strings.Contains(out, "header_X-Flarehose-Secret=***") {
			t.Fatalf("%v: exit %d: %s%s", args, code, out, errs)
		}
		all = append(all, out, errs)
	}
	noSecrets(t, all, lpSecret, h.srv.Token())
}

// TestLogpushUpdateReadModifyWrite: Cloudflare replaces output_options in
// full on PUT; update keeps what the user did not change.
func TestLogpushUpdateReadModifyWrite(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{})
	jobs := "/zones/" + h.zone + "/logpush/jobs"
	dest := h.rc.ts.URL + "/logpush/http_requests?header_X-Flarehose-Secret=" + cfclient.EncodeHeaderValue(lpSecret)
	filter := `{"where":{"key":"ClientRequestHost","operator":"eq","value":"example.com"}}`
	code, created := h.api(http.MethodPost, jobs, map[string]any{"dataset": "http_requests", "destination_conf": dest, "name": "custom",
		"filter": filter, "max_upload_records": 2000,
		"output_options": map[string]any{"field_names": []string{"ClientIP", "RayID", "EdgeStartTimestamp"},
			"timestamp_format": "rfc3339ms", "sample_rate": 0.5, "CVE-2021-44228": true}})
	if code != 200 {
		t.Fatalf("create: %d", code)
	}
	id := strings.TrimSuffix(strings.TrimSuffix(string(mustJSONb(created["id"])), "\n"), ".0")

	code, out, errs := h.run("jobs", "update", id, "--zone", h.zone, "--fields", "minimal")
	if code != 0 || !strings.Contains(errs, "updated job "+id) || !strings.Contains(out, "fields (8):") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	j := h.job(id)
	oo := j["output_options"].(map[string]any)
	minimal, _ := cfclient.Preset("http_requests", "minimal")
	if got := toStrings(oo["field_names"]); !slices.Equal(got, minimal) || oo["timestamp_format"] != "rfc3339ms" ||
		oo["sample_rate"] != 0.5 || oo["CVE-2021-44228"] != true {
		t.Fatalf("output_options after --fields: %v", oo)
	}
	if j["filter"] != filter || j["max_upload_records"] != 2000.0 || j["name"] != "custom" || j["destination_conf"] != dest {
		t.Fatalf("update changed other keys: %v", j)
	}
	if code, _, errs = h.run("jobs", "update", id, "--zone", h.zone, "--timestamp-format", "unix", "--name", "renamed.v2"); code != 0 {
		t.Fatal(errs)
	}
	j = h.job(id)
	oo = j["output_options"].(map[string]any)
	if !slices.Equal(toStrings(oo["field_names"]), minimal) || oo["timestamp_format"] != "unix" || oo["sample_rate"] != 0.5 || j["name"] != "renamed.v2" {
		t.Fatalf("after --timestamp-format: %v", j)
	}
	// What a bare PUT does (why the CLI merges): the other options are lost.
	h.api(http.MethodPut, jobs+"/"+id, map[string]any{"output_options": map[string]any{"field_names": []string{"RayID"}}})
	if oo := h.job(id)["output_options"].(map[string]any); oo["timestamp_format"] != nil || oo["sample_rate"] != nil {
		t.Fatalf("the simulator no longer replaces output_options in full: %v", oo)
	}

	// Filter removal and limits.
	if code, _, errs = h.run("jobs", "update", id, "--zone", h.zone, "--filter", "", "--max-upload-interval", "45s"); code != 0 {
		t.Fatal(errs)
	}
	if j = h.job(id); j["filter"] != nil || j["max_upload_interval_seconds"] != 45.0 {
		t.Fatalf("filter/interval: %v", j)
	}

	// Secret rotation: a new destination_conf, checked by a new test upload.
	h.rc.accept(lpSecret2)
	before := len(h.rc.all())
	code, out, errs = h.run("jobs", "update", id, "--zone", h.zone, "--secret", lpSecret2)
	if code != 0 {
		t.Fatalf("rotate: exit %d: %s", code, errs)
	}
	noSecrets(t, []string{out, errs}, lpSecret, lpSecret2)
	if got := h.job(id)["destination_conf"]; got != h.rc.ts.URL+"/logpush/http_requests?header_X-Flarehose-Secret="+cfclient.EncodeHeaderValue(lpSecret2) {
		t.Fatalf("rotated destination %v", got)
	}
	if ups := h.rc.all(); len(ups) <= before || ups[before].secret != lpSecret2 {
		t.Fatalf("no test upload with the new secret")
	}
	// A job whose secret is in another header needs --secret-header.
	h.rc.accept("")
	_, other := h.api(http.MethodPost, jobs, map[string]any{"dataset": "http_requests", "destination_conf": h.rc.ts.URL + "/x?header_Authorization=Bearer%20abc"})
	oid := strings.TrimSuffix(string(mustJSONb(other["id"])), "\n")
	code, _, errs = h.run("jobs", "update", oid, "--zone", h.zone, "--secret", lpSecret2)
	if code != exitUsage || !strings.Contains(errs, "sends its secret in Authorization, not X-Flarehose-Secret: add --secret-header Authorization") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, _, errs = h.run("jobs", "update", oid, "--zone", h.zone, "--secret", "Bearer "+lpSecret2, "--secret-header", "Authorization")
	if got := h.job(oid)["destination_conf"]; code != 0 || got != h.rc.ts.URL+"/x?header_Authorization=Bearer%20"+cfclient.EncodeHeaderValue(lpSecret2) {
		t.Fatalf("exit %d %s: %v", code, errs, got)
	}
	h.api(http.MethodDelete, jobs+"/"+oid, nil)
	h.rc.accept(lpSecret2)

	// A new URL keeps the job's secret when none is given.
	code, _, errs = h.run("jobs", "update", id, "--zone", h.zone, "--url", h.rc.ts.URL+"/other/")
	if code != 0 {
		t.Fatal(errs)
	}
	if got := h.job(id)["destination_conf"]; got != h.rc.ts.URL+"/other/http_requests?header_X-Flarehose-Secret="+cfclient.EncodeHeaderValue(lpSecret2) {
		t.Fatalf("moved destination %v", got)
	}

	// A job still on logpull_options gets them converted.
	h.rc.accept("")
	code, legacy := h.api(http.MethodPost, jobs, map[string]any{"dataset": "http_requests", "destination_conf": dest,
		"logpull_options": "fields=RayID,ClientIP&timestamps=rfc3339&CVE-2021-44228=true"})
	if code != 200 {
		t.Fatalf("legacy create: %d %v", code, legacy)
	}
	lid := strings.TrimSuffix(string(mustJSONb(legacy["id"])), "\n")
	code, _, errs = h.run("jobs", "update", lid, "--zone", h.zone, "--fields", "RayID,ClientIP,EdgeStartTimestamp")
	if code != 0 || !strings.Contains(errs, "deprecated logpull_options") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if oo := h.job(lid)["output_options"].(map[string]any); oo["timestamp_format"] != "rfc3339" || oo["CVE-2021-44228"] != true ||
		len(toStrings(oo["field_names"])) != 3 {
		t.Fatalf("converted: %v", oo)
	}
}

func mustJSONb(v any) []byte { b, _ := json.Marshal(v); return b }

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestLogpushEnableDisableDelete(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{})
	code, out, errs := h.run("jobs", "create", "--zone", h.zone, "--dataset", "http_requests", "--url", h.rc.ts.URL,
		"--secret", lpSecret, "--enabled=false", "--name", "staged")
	if code != 0 || !strings.Contains(out, "enabled:           false") || !strings.Contains(errs, "jobs enable 1' starts it") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	code, out, _ = h.run("jobs", "enable", "1", "--zone", h.zone)
	if code != 0 || !strings.Contains(out, "enabled:           true") || h.job("1")["enabled"] != true {
		t.Fatalf("enable: %s", out)
	}
	code, out, _ = h.run("jobs", "disable", "1", "--zone", h.zone, "--json")
	if code != 0 || !strings.Contains(out, `"enabled": false`) || h.job("1")["enabled"] != false {
		t.Fatalf("disable: %s", out)
	}
	code, out, _ = h.run("jobs", "delete", "1", "--zone", h.zone)
	if code != 0 || out != "deleted job 1 (staged, http_requests -> "+h.rc.ts.URL+"/logpush/http_requests?header_X-Flarehose-Secret=***)\n" {
		t.Fatalf("delete: exit %d %q", code, out)
	}
	code, out, _ = h.run("jobs", "list", "--zone", h.zone)
	if code != 0 || out != "no Logpush jobs in zone "+h.zone+"\n" {
		t.Fatalf("list: %q", out)
	}
	code, _, errs = h.run("jobs", "get", "1", "--zone", h.zone)
	if code != exitFail || !strings.Contains(errs, "HTTP 404") || !strings.Contains(errs, "hint: no such job in zone") {
		t.Fatalf("get deleted: exit %d %s", code, errs)
	}
	for _, verb := range []string{"enable", "disable", "delete"} {
		if code, _, errs = h.run("jobs", verb, "1", "--zone", h.zone); code != exitFail || !strings.Contains(errs, "job not found") {
			t.Errorf("%s missing job: exit %d %s", verb, code, errs)
		}
	}
}

// TestLogpushOwnership: the challenge flow against the simulator's
// LocalDir writer, read back with the file:// reader.
func TestLogpushOwnership(t *testing.T) {
	dir := t.TempDir()
	h := newLPHarness(t, cfapi.Config{Storage: cfapi.LocalDir{Dir: dir}})
	conf := "s3://flarehose-logs/cloudflare/{DATE}?region=us-east-1"
	code, out, errs := h.run("jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", conf,
		"--challenge-from", "file://"+dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "destination:       "+conf) || !regexp.MustCompile(`ownership challenge read from s3://flarehose-logs/cloudflare/\d{8}/ownership-challenge-[0-9a-f]{8}\.txt`).MatchString(errs) {
		t.Fatalf("output:\n%s%s", out, errs)
	}
	var tokens, validation []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
		case strings.HasPrefix(d.Name(), "ownership-challenge-"):
			b, _ := os.ReadFile(p)
			tokens = append(tokens, string(b))
		case d.Name() == "test.txt.gz": // Cloudflare's validation object, written at creation
			validation = append(validation, p)
		}
		return nil
	})
	if len(tokens) != 1 || len(validation) != 1 {
		t.Fatalf("%d challenge files, %d validation objects", len(tokens), len(validation))
	}
	noSecrets(t, []string{out, errs}, tokens[0], h.srv.Token())

	// The bucket cannot be read (here: a credentials file that does not
	// exist, whatever Google credentials the machine has): Cloudflare still
	// wrote the file, and the error says where and how to go on.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(dir, "no-such-key.json"))
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	gs := "gs://flarehose-logs/audit"
	code, out, errs = h.run("jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", gs)
	if code != exitFail || out != "" || !strings.Contains(errs, "Cloudflare wrote the ownership challenge to gs://flarehose-logs/audit/ownership-challenge-") ||
		!strings.Contains(errs, "--ownership-challenge-file FILE") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "gs", "flarehose-logs", "audit", "ownership-challenge-*.txt"))
	if len(files) != 1 {
		t.Fatalf("challenge files %v", files)
	}
	token, _ := os.ReadFile(files[0])
	code, out, errs = h.run("jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", gs, "--ownership-challenge-file", files[0], "--json")
	if code != 0 || !strings.Contains(out, `"destination_conf": "gs://flarehose-logs/audit"`) {
		t.Fatalf("with the file: exit %d: %s%s", code, out, errs)
	}
	noSecrets(t, []string{out, errs}, string(token))

	// A challenge for another destination is refused, with a hint.
	code, _, errs = h.run("jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", "gs://other-bucket/x",
		"--ownership-challenge-file", files[0])
	if code != exitFail || !strings.Contains(errs, "ownership challenge was issued for another destination_conf") || !strings.Contains(errs, "hint: the ownership challenge") {
		t.Fatalf("wrong challenge: exit %d: %s", code, errs)
	}
	noSecrets(t, []string{errs}, string(token))

	// R2 and S3 with keys take no challenge; their keys are masked.
	r2 := "r2://flarehose-logs/audit?account-id=" + h.account + "&access-key-id=AKIDEXAMPLE&secret-access-key=" + lpSecret2
	code, out, errs = h.run("jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", r2)
	if code != 0 || !strings.Contains(out, "secret-access-key=***") {
		t.Fatalf("r2: exit %d: %s%s", code, out, errs)
	}
	code, out2, errs2 := h.run("jobs", "list", "--account", h.account)
	noSecrets(t, []string{out, errs, out2, errs2}, lpSecret2)
	if code != 0 || strings.Count(out2, "audit_logs") != 3 {
		t.Fatalf("list:\n%s", out2)
	}
}

func TestLogpushAuthFailures(t *testing.T) {
	readOnly, zoneOnly := "read-only-token-0123456789", "zone-only-token-0123456789"
	email, key := "admin@example.com", cfapi.NewGlobalKey("k")
	h := newLPHarness(t, cfapi.Config{
		Tokens: []cfapi.Token{{Value: "full-token-0123456789abcdef", Permissions: cfapi.AllPermissions},
			{Value: readOnly, Permissions: []cfapi.Permission{cfapi.PermLogsRead}}},
		Keys: []cfapi.GlobalKey{{Email: email, Key: key}},
	})
	zoneScoped := newLPHarness(t, cfapi.Config{Tokens: []cfapi.Token{{Value: zoneOnly, Permissions: cfapi.AllPermissions, Zones: []string{h.zone}}}})
	other := h.srv.Zones()[1].ID

	for _, c := range []struct {
		name string
		h    *lpHarness
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"no credentials", h, nil, []string{"jobs", "list", "--zone", h.zone, "--api-token", ""}, exitUsage, []string{"no Cloudflare credentials: set CLOUDFLARE_API_TOKEN"}},
		{"token and key", h, nil, []string{"jobs", "list", "--zone", h.zone, "--api-token", "x", "--api-key", key}, exitUsage, []string{"not both"}},
		{"email without key", h, nil, []string{"jobs", "list", "--zone", h.zone, "--api-email", email}, exitUsage, []string{"needs both --api-email and --api-key"}},
		{"both scopes", h, nil, []string{"jobs", "list", "--zone", h.zone, "--account", h.account}, exitUsage, []string{"either --zone or --account, not both"}},
		{"no scope", h, nil, []string{"jobs", "list"}, exitUsage, []string{"give --zone ID"}},
		{"domain for zone", h, nil, []string{"jobs", "list", "--zone", "example.com"}, exitUsage, []string{"not the domain name"}},
		{"invalid token", h, nil, []string{"jobs", "list", "--zone", h.zone, "--api-token", "not-a-real-token-000000"}, exitFail,
			[]string{"HTTP 403: 10000 Authentication error", "hint: the token is invalid, or lacks the Logs Write permission for zone " + h.zone}},
		{"missing Logs Write", h, nil, []string{"jobs", "list", "--zone", h.zone, "--api-token", readOnly}, exitFail,
			[]string{"lacks the Logs Write permission (it has: Logs Read)", "hint: the token is invalid, or lacks the Logs Write"}},
		{"zone token, account call", zoneScoped, nil, []string{"jobs", "list", "--account", zoneScoped.account, "--api-token", zoneOnly}, exitFail,
			[]string{"no access to account", "Logs Write permission for account"}},
		{"zone token, other zone", zoneScoped, nil, []string{"jobs", "list", "--zone", other, "--api-token", zoneOnly}, exitFail,
			[]string{"no access to zone " + other}},
		{"malformed key", h, nil, []string{"jobs", "list", "--zone", h.zone, "--api-email", email, "--api-key", "short-key"}, exitFail,
			[]string{"6003 Invalid request headers", "could not read the credentials"}},
		{"global key from the environment", h, map[string]string{envEmail: email, envAPIKey: key}, []string{"jobs", "list", "--zone", h.zone}, 0,
			[]string{"no Logpush jobs"}},
		{"token from the environment", h, map[string]string{envAPIToken: "full-token-0123456789abcdef"}, []string{"jobs", "list", "--zone", h.zone}, 0,
			[]string{"no Logpush jobs"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			code, out, errs := c.h.run(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s%s", code, c.code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errs)
				}
			}
			noSecrets(t, []string{out, errs}, key, readOnly, zoneOnly, "full-token-0123456789abcdef", "not-a-real-token-000000")
		})
	}
}

func TestLogpushJobLimit(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{MaxJobs: 2})
	for i := range 3 {
		code, _, errs := h.run("jobs", "create", "--zone", h.zone, "--dataset", "http_requests", "--url", h.rc.ts.URL,
			"--secret", lpSecret, "--enabled=false")
		if i < 2 && code != 0 {
			t.Fatalf("create %d: %s", i, errs)
		}
		if i == 2 {
			for _, w := range []string{"HTTP 403: 1004 creating a new job (for http_requests dataset) is not allowed: exceeded max jobs allowed",
				"hint: Cloudflare allows 4 Logpush jobs per zone", "flarehose logpush jobs delete ID"} {
				if code != exitFail || !strings.Contains(errs, w) {
					t.Errorf("exit %d, stderr lacks %q:\n%s", code, w, errs)
				}
			}
		}
	}
}

func TestLogpushRateLimit(t *testing.T) {
	var slept []time.Duration
	setClock := func(c *cfapi.FakeClock) {
		old := lpSleep
		lpSleep = func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			c.Advance(d)
			return nil
		}
		t.Cleanup(func() { lpSleep = old })
	}
	// Retry-After within --max-wait: waited for, then the call succeeds.
	clock := cfapi.NewFakeClock(time.Date(2026, 3, 18, 14, 30, 0, 0, time.UTC))
	setClock(clock)
	h := newLPHarness(t, cfapi.Config{Clock: clock, RateLimit: 2, RateWindow: 10 * time.Second, RatePenalty: 30 * time.Second})
	for i := range 3 {
		if code, _, errs := h.run("jobs", "list", "--zone", h.zone); code != 0 {
			t.Fatalf("list %d: %s", i, errs)
		}
	}
	if !slices.Equal(slept, []time.Duration{30 * time.Second}) {
		t.Fatalf("slept %v", slept)
	}
	// Retry-After over --max-wait: a clear failure, no wait.
	slept = nil
	clock2 := cfapi.NewFakeClock(time.Date(2026, 3, 18, 14, 30, 0, 0, time.UTC))
	setClock(clock2)
	h2 := newLPHarness(t, cfapi.Config{Clock: clock2, RateLimit: 1})
	h2.run("jobs", "list", "--zone", h2.zone)
	code, _, errs := h2.run("jobs", "list", "--zone", h2.zone, "--max-wait", "1m")
	if code != exitFail || slept != nil {
		t.Fatalf("exit %d, slept %v", code, slept)
	}
	for _, w := range []string{"HTTP 429: 971 Please wait and consider throttling your request speed",
		"hint: rate limited: Cloudflare asks to wait 5m0s, longer than the 1m0s this command waits"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
}

func TestLogpushUsageErrors(t *testing.T) {
	h := newLPHarness(t, cfapi.Config{})
	z := []string{"--zone", h.zone}
	create := func(extra ...string) []string {
		return append(append([]string{"jobs", "create"}, z...), extra...)
	}
	web := []string{"--url", "https://logs.example.com", "--secret", lpSecret}
	for _, c := range []struct {
		args []string
		want string
	}{
		{create(web...), "--dataset is required"},
		{append([]string{"jobs", "create", "--account", h.account, "--dataset", "http_requests"}, web...), "http_requests is a zone dataset: give --zone ID instead of --account"},
		{create("--dataset", "audit_logs"), "audit_logs is an account dataset"},
		{create("--dataset", "http_requests"), "where should Cloudflare push?"},
		{create("--dataset", "http_requests", "--url", "https://logs.example.com"), "no secret for the receiver: set FLAREHOSE_SECRET"},
		{create("--dataset", "http_requests", "--to", "http"), "--to http needs --url"},
		{append(create("--dataset", "http_requests", "--fields", "everything"), web...), "http_requests has the presets default, minimal, security"},
		{append(create("--dataset", "http_requests", "--timestamp-format", "iso8601"), web...), "--timestamp-format \"iso8601\""},
		{append(create("--dataset", "http_requests", "--name", "my job"), web...), "letters, digits, '-' and '.'"},
		{append(create("--dataset", "http_requests", "--filter", "{bad"), web...), "--filter: not JSON"},
		{append(create("--dataset", "http_requests", "--filter", `{"key":"a"}`), web...), `{"where": ...}`},
		{append(create("--dataset", "http_requests", "--max-upload-interval", "1.5s"), web...), "whole seconds"},
		{append(create("--dataset", "http_requests", "--max-upload-bytes", "lots"), web...), "--max-upload-bytes"},
		{create("--dataset", "http_requests", "--to", "ftp://x/y"), "not an object storage destination"},
		{create("--dataset", "http_requests", "--to", "s3://b/p?region=x", "--secret", "x"), "--secret is for HTTP destinations"},
		{create("--dataset", "http_requests", "--to", "s3://b/p", "--url", "https://x"), "--url is for HTTP destinations"},
		{create("--dataset", "http_requests", "--url", "ftp://x", "--secret", "x"), "want https://"},
		{append(create("--dataset", "http_requests", "--secret-header", "Bad Header"), web...), "not a valid HTTP header name"},
		{append([]string{"jobs", "update", "1"}, z...), "nothing to update"},
		{append([]string{"jobs", "update", "abc", "--name", "x"}, z...), "job ID \"abc\""},
		{append([]string{"jobs", "update", "1", "--secret-header", "X-Other"}, z...), "--secret-header names the header"},
		{append([]string{"jobs", "get"}, z...), "accepts 1 arg"},
		{append([]string{"jobs", "delete", "0"}, z...), "positive integer"},
		{append([]string{"jobs", "bogus"}, z...), "unknown command"},
		{append([]string{"jobs", "list", "--max-wait", "-1s"}, z...), "--max-wait"},
	} {
		code, out, errs := h.run(c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q (want %q) stdout %q", c.args, code, errs, c.want, out)
		}
		noSecrets(t, []string{out, errs}, lpSecret, h.srv.Token())
	}
	if code, _, errs := run(t, "", "logpush", "jobs", "list", "--zone", h.zone, "--api-token", "x", "--base-url", "ftp://x"); code != exitUsage ||
		!strings.Contains(errs, "--base-url") {
		t.Errorf("--base-url ftp: exit %d %s", code, errs)
	}
	if n := h.calls.Load(); n != 0 {
		t.Fatalf("usage errors made %d API calls", n)
	}
}

func TestLogpushHelp(t *testing.T) {
	for _, args := range [][]string{{"logpush"}, {"logpush", "datasets"}, {"logpush", "fields"}, {"logpush", "jobs"},
		{"logpush", "jobs", "list"}, {"logpush", "jobs", "get"}, {"logpush", "jobs", "create"}, {"logpush", "jobs", "update"},
		{"logpush", "jobs", "enable"}, {"logpush", "jobs", "disable"}, {"logpush", "jobs", "delete"}} {
		code, out, _ := run(t, "", append(args, "--help")...)
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--zone") {
			t.Errorf("%v --help: exit %d\n%s", args, code, out)
		}
		if len(args) > 2 && !strings.Contains(out, "Examples:") {
			t.Errorf("%v --help has no examples", args)
		}
	}
}

// TestLogpushRendering renders fixed job objects (the docs' examples and
// harder cases) as the list table and the one-job view: golden files.
func TestLogpushRendering(t *testing.T) {
	raw, err := os.ReadFile("testdata/logpush/jobs.json")
	if err != nil {
		t.Fatal(err)
	}
	var jobs []cfclient.Job
	if err := json.Unmarshal(raw, &jobs); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	renderJobTable(&table, jobs)
	lpGolden(t, "jobs_table", table.String())
	var detail bytes.Buffer
	for i := range jobs {
		renderJob(&detail, &jobs[i])
		detail.WriteString("\n")
	}
	lpGolden(t, "jobs_detail", detail.String())
	var js bytes.Buffer
	for i := range jobs {
		lpJSON(&js, jobs[i].Masked())
	}
	lpGolden(t, "jobs_json", js.String())
	for _, out := range []string{table.String(), detail.String(), js.String()} {
		for _, secret := range []string{"REDACTED-SECRET", "wJalrXUtnFEMI", "abcdef%3D", "ZaVnC4dhaV3", "pa55word", "eyJhbGciOiJIUzI1NiJ9"} {
			if strings.Contains(out, secret) {
				t.Errorf("rendering leaks %q:\n%s", secret, out)
			}
		}
	}
	fields := map[string]string{"RayID": "The RayID of the request.", "EdgeStartTimestamp": "Timestamp at which the edge received request from the client.",
		"ClientIP": "IP address of the client.", "RequestHeaders": "String key-value pairs for RequestHeaders. This description is long enough to be cut at one hundred and ten characters so tables stay readable."}
	var fb bytes.Buffer
	renderFields(&fb, fields, []string{"EdgeStartTimestamp"})
	lpGolden(t, "fields_table", fb.String())
}

func lpGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "logpush", name+".golden")
	if *updateLogpushGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run Logpush -update-logpush-golden)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test ./internal/cli -run Logpush -update-logpush-golden):\n got:\n%s\nwant:\n%s", name, path, got, want)
	}
}
