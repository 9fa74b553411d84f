package cfapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// pushHarness runs on the real clock with quick, small batches.
func pushHarness(t *testing.T, cfg Config) *harness {
	cfg.Clock = realClock{}
	cfg.RelaxedLimits = true
	if cfg.PushRate == 0 {
		cfg.PushRate = 300
	}
	if cfg.PushBackoff == 0 {
		cfg.PushBackoff = 10 * time.Millisecond
	}
	return newHarness(t, cfg)
}

func (h *harness) jobsPath() string { return "/zones/" + h.zone() + "/logpush/jobs" }

func (h *harness) createJob(body map[string]any) *response {
	return h.do(http.MethodPost, h.jobsPath(), body, nil)
}

func jobID(t *testing.T, r *response) string {
	t.Helper()
	return strings.TrimSuffix(strings.TrimSuffix(string(mustJSON(asMap(r.ok(t))["id"])), "\n"), ".0")
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestJobCRUD(t *testing.T) {
	h := newHarness(t, Config{})
	rc := newReceiver(t)
	conf := rc.URL + "/cf/in?header_Authorization=Basic%20abc&tags=host:a,dataset:http_requests"
	r := h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": conf, "name": "example.com",
		"output_options": map[string]any{"field_names": []string{"ClientIP", "RayID"}, "timestamp_format": "rfc3339"}})
	job := asMap(r.ok(t))
	if job["enabled"] != false || job["kind"] != "" || job["last_complete"] != nil || job["error_message"] != nil || job["dataset"] != "http_requests" {
		t.Fatalf("new job %v", job)
	}
	if _, ok := job["ownership_challenge"]; ok {
		t.Fatal("ownership_challenge must not be returned")
	}
	// The validation upload was made even though the job is disabled.
	d := rc.deliveries()
	if len(d) != 1 {
		t.Fatalf("%d uploads, want the probe", len(d))
	}
	p := d[0]
	if string(p.body) != `{"content":"tests"}` || p.header.Get("Authorization") != "Basic abc" ||
		p.header.Get("Content-Encoding") != "gzip" || p.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("probe %q %v", p.body, p.header)
	}
	if p.url != "/cf/in?tags=host:a,dataset:http_requests" {
		t.Fatalf("probe URL %q: header_* should be stripped, other parameters kept", p.url)
	}
	id := jobID(t, r)
	one := h.get(h.jobsPath() + "/" + id)
	if !bytes.Equal(mustJSON(one.ok(t)), mustJSON(job)) {
		t.Fatalf("GET differs from create:\n%s\n%s", mustJSON(one.ok(t)), mustJSON(job))
	}
	list := asList(h.get(h.jobsPath()).ok(t))
	if len(list) != 1 || h.get(h.jobsPath()).env["result_info"] != nil {
		t.Fatalf("list %v", h.get(h.jobsPath()).env)
	}
	if n := len(asList(h.get("/zones/" + h.zone() + "/logpush/datasets/http_requests/jobs").ok(t))); n != 1 {
		t.Fatalf("dataset jobs: %d", n)
	}
	if n := len(asList(h.get("/zones/" + h.zone() + "/logpush/datasets/firewall_events/jobs").ok(t))); n != 0 {
		t.Fatalf("firewall_events jobs: %d", n)
	}
	upd := asMap(h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"name": "renamed.example"}, nil).ok(t))
	if upd["name"] != "renamed.example" || asMap(upd["output_options"])["timestamp_format"] != "rfc3339" {
		t.Fatalf("update %v", upd)
	}
	del := asMap(h.do(http.MethodDelete, h.jobsPath()+"/"+id, nil, nil).ok(t))
	if del["id"].(float64) != asMap(job)["id"].(float64) {
		t.Fatalf("delete result %v", del)
	}
	h.get(h.jobsPath()+"/"+id).fails(t, http.StatusNotFound, CodeNotFound)
	h.do(http.MethodDelete, h.jobsPath()+"/"+id, nil, nil).fails(t, http.StatusNotFound, CodeNotFound)
	h.get(h.jobsPath()+"/abc").fails(t, http.StatusBadRequest, CodeNoRoute)
	// A job is only visible in its own zone.
	r = h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": rc.URL})
	other := "/zones/" + h.srv.Zones()[1].ID + "/logpush/jobs/" + jobID(t, r)
	h.get(other).fails(t, http.StatusNotFound, CodeNotFound)
}

func TestJobValidation(t *testing.T) {
	h := newHarness(t, Config{DenyHTTP: false})
	rc := newReceiver(t)
	acct := "/accounts/" + h.srv.AccountID() + "/logpush/jobs"
	ok := func(m map[string]any) map[string]any {
		out := map[string]any{"dataset": "http_requests", "destination_conf": rc.URL}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name string
		path string
		body any
		msg  string
	}{
		{"no dataset", "", map[string]any{"destination_conf": rc.URL}, "dataset is required"},
		{"no destination", "", map[string]any{"dataset": "http_requests"}, "destination_conf is required"},
		{"unknown dataset", "", ok(map[string]any{"dataset": "nope"}), `"nope" is not a Logpush dataset`},
		{"account dataset on a zone", "", ok(map[string]any{"dataset": "gateway_dns"}), "account dataset"},
		{"zone dataset on the account", acct, ok(nil), "zone dataset"},
		{"name with a space", "", ok(map[string]any{"name": "my job"}), "name must match"},
		{"name with an underscore", "", ok(map[string]any{"name": "my_job"}), "name must match"},
		{"bad kind", "", ok(map[string]any{"kind": "instant-logs"}), `kind must be`},
		{"edge on firewall_events", "", ok(map[string]any{"dataset": "firewall_events", "kind": "edge"}), "only available for the http_requests"},
		{"bad frequency", "", ok(map[string]any{"frequency": "often"}), "frequency"},
		{"unknown field", "", ok(map[string]any{"output_options": map[string]any{"field_names": []string{"Nope"}}}), `"Nope" is not a field`},
		{"unknown output key", "", ok(map[string]any{"output_options": map[string]any{"fields": "x"}}), `unknown key "fields"`},
		{"bad timestamp_format", "", ok(map[string]any{"output_options": map[string]any{"timestamp_format": "iso"}}), "timestamp_format"},
		{"bad sample_rate", "", ok(map[string]any{"output_options": map[string]any{"sample_rate": 2}}), "sample_rate"},
		{"record_template", "", ok(map[string]any{"output_options": map[string]any{"record_template": "{{.RayID}}"}}), "record_template"},
		{"bad logpull_options", "", ok(map[string]any{"logpull_options": "fields=Nope"}), `"Nope"`},
		{"bad filter", "", ok(map[string]any{"filter": `{"key":"RayID","operator":"eq","value":"x"}`}), `{"where"`},
		{"filter on a missing field", "", ok(map[string]any{"filter": `{"where":{"key":"Nope","operator":"eq","value":"x"}}`}), "not a field"},
		{"unsupported scheme", "", ok(map[string]any{"destination_conf": "ftp://x/y"}), "unsupported scheme"},
		{"azure SAS", "", ok(map[string]any{"destination_conf": "azure://c/logs?sv=1&ss=bf&srt=sco&sig=x"}), "srt=o"},
		{"invalid JSON", "", "{", "invalid JSON body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = h.jobsPath()
			}
			e := h.do(http.MethodPost, path, c.body, nil).fails(t, http.StatusBadRequest, CodeBadRequest)
			if !strings.Contains(e["message"].(string), c.msg) {
				t.Fatalf("message %q, want it to contain %q", e["message"], c.msg)
			}
		})
	}
	// Upload limits: Cloudflare's ranges unless RelaxedLimits.
	for _, body := range []map[string]any{
		ok(map[string]any{"max_upload_records": 999}),
		ok(map[string]any{"max_upload_bytes": 1000}),
		ok(map[string]any{"max_upload_interval_seconds": 301}),
		ok(map[string]any{"max_upload_records": -1}),
	} {
		h.createJob(body).fails(t, 400, CodeBadRequest)
	}
	h.createJob(ok(map[string]any{"max_upload_records": 0, "max_upload_bytes": 5000000, "max_upload_interval_seconds": 30})).ok(t)
	// Immutable fields on PUT.
	id := jobID(t, h.createJob(ok(nil)))
	h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"dataset": "firewall_events"}, nil).fails(t, 400, CodeBadRequest)
	h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"kind": "edge"}, nil).fails(t, 400, CodeBadRequest)
	// http:// can be refused.
	hs := newHarness(t, Config{DenyHTTP: true})
	hs.createJob(ok(nil)).fails(t, 400, CodeBadRequest)
}

func TestJobLimit(t *testing.T) {
	h := newHarness(t, Config{})
	rc := newReceiver(t)
	for range 4 {
		h.createJob(map[string]any{"dataset": "firewall_events", "destination_conf": rc.URL}).ok(t)
	}
	e := h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": rc.URL}).fails(t, http.StatusForbidden, CodeMaxJobs)
	if e["message"] != "creating a new job (for http_requests dataset) is not allowed: exceeded max jobs allowed" {
		t.Fatalf("message %q", e["message"])
	}
	// The limit is per zone.
	h.do(http.MethodPost, "/zones/"+h.srv.Zones()[1].ID+"/logpush/jobs", map[string]any{"dataset": "http_requests", "destination_conf": rc.URL}, nil).ok(t)
}

func TestJobProbeFailure(t *testing.T) {
	h := newHarness(t, Config{})
	rc := newReceiver(t)
	rc.setStatus(http.StatusUnsupportedMediaType)
	for _, conf := range []string{rc.URL + "/x", "http://127.0.0.1:1/unreachable"} {
		e := h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": conf, "enabled": true}).fails(t, http.StatusBadRequest, CodeDestination)
		if !strings.HasPrefix(e["message"].(string), "error validating destination: error writing object: error uploading") {
			t.Fatalf("message %q", e["message"])
		}
	}
	if n := len(asList(h.get(h.jobsPath()).ok(t))); n != 0 {
		t.Fatalf("%d jobs after failed creates", n)
	}
	// ProbeTest sends "test".
	h2 := newHarness(t, Config{ProbeTest: true})
	rc2 := newReceiver(t)
	h2.createJob(map[string]any{"dataset": "http_requests", "destination_conf": rc2.URL}).ok(t)
	if b := rc2.deliveries()[0].body; string(b) != "test" {
		t.Fatalf("probe %q", b)
	}
}

func TestPutReplacesOutputOptions(t *testing.T) {
	h := newHarness(t, Config{})
	rc := newReceiver(t)
	id := jobID(t, h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": rc.URL,
		"output_options": map[string]any{"field_names": []string{"RayID"}, "timestamp_format": "rfc3339", "CVE-2021-4428": true}}))
	got := asMap(asMap(h.get(h.jobsPath() + "/" + id).ok(t))["output_options"])
	if got["CVE-2021-44228"] != true || got["timestamp_format"] != "rfc3339" {
		t.Fatalf("stored %v (the OA24 spelling CVE-2021-4428 is stored as CVE-2021-44228)", got)
	}
	// PUT without output_options keeps them; with output_options replaces them whole.
	h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"enabled": false}, nil).ok(t)
	if got := asMap(asMap(h.get(h.jobsPath() + "/" + id).ok(t))["output_options"]); len(got) != 3 {
		t.Fatalf("kept %v", got)
	}
	upd := asMap(h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"output_options": map[string]any{"field_names": []string{"RayID", "ClientIP"}}}, nil).ok(t))
	oo := asMap(upd["output_options"])
	if len(oo) != 1 || len(asList(oo["field_names"])) != 2 {
		t.Fatalf("after PUT: %v (timestamp_format must be gone: back to unixnano)", oo)
	}
}

// decodeBatches parses delivered NDJSON batches (probe excluded).
func decodeBatches(t *testing.T, ds []delivery) (records []map[string]any, batches int) {
	t.Helper()
	for _, d := range ds {
		if string(d.body) == `{"content":"tests"}` {
			continue
		}
		batches++
		records = append(records, lines(t, d.body)...)
	}
	return records, batches
}

func TestJobPushes(t *testing.T) {
	h := pushHarness(t, Config{})
	rc := newReceiver(t)
	conf := rc.URL + "/logpush/http?header_X-Flarehose-Secret=s3cr%20et&tags=a"
	r := h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": conf, "enabled": true, "max_upload_records": 5,
		"output_options": map[string]any{"field_names": []string{"RayID", "ClientIP", "EdgeStartTimestamp", "ZoneName"}, "timestamp_format": "rfc3339"}})
	id := jobID(t, r)
	ds := rc.waitFor(t, "three batches", func(d []delivery) bool { _, n := decodeBatches(t, d); return n >= 3 })
	for _, d := range ds {
		if d.header.Get("X-Flarehose-Secret") != "s3cr et" || d.header.Get("Content-Encoding") != "gzip" || d.url != "/logpush/http?tags=a" {
			t.Fatalf("delivery headers %v url %q", d.header, d.url)
		}
	}
	records, batches := decodeBatches(t, ds)
	if len(records) != 5*batches {
		t.Fatalf("%d records in %d batches, want 5 a batch", len(records), batches)
	}
	zone := h.srv.Zones()[0].Name
	for _, m := range records {
		if len(m) != 4 || m["ZoneName"] != zone {
			t.Fatalf("record %v", m)
		}
		if _, err := time.Parse(time.RFC3339, m["EdgeStartTimestamp"].(string)); err != nil {
			t.Fatalf("timestamp_format rfc3339: %v", m["EdgeStartTimestamp"])
		}
	}
	job := asMap(h.get(h.jobsPath() + "/" + id).ok(t))
	if job["last_complete"] == nil || job["last_error"] != nil || job["error_message"] != nil {
		t.Fatalf("job after pushes: %v", job)
	}
	// Disabling stops the pusher: nothing arrives after the PUT returns.
	h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"enabled": false}, nil).ok(t)
	n := len(rc.deliveries())
	time.Sleep(300 * time.Millisecond)
	if m := len(rc.deliveries()); m != n {
		t.Fatalf("%d deliveries after disabling", m-n)
	}
	// Enabling again resumes; deleting stops.
	h.do(http.MethodPut, h.jobsPath()+"/"+id, map[string]any{"enabled": true}, nil).ok(t)
	rc.waitFor(t, "a batch after re-enabling", func(d []delivery) bool { return len(d) > n })
	h.do(http.MethodDelete, h.jobsPath()+"/"+id, nil, nil).ok(t)
	n = len(rc.deliveries())
	time.Sleep(300 * time.Millisecond)
	if m := len(rc.deliveries()); m != n {
		t.Fatalf("%d deliveries after deleting", m-n)
	}
}

// TestJobPushesCSVAndAccountDataset: an account audit_logs job pushes the
// account's audit log as the audit log API serves it (the same events,
// IDs included, the API's own changes among them), in CSV here.
func TestJobPushesCSVAndAccountDataset(t *testing.T) {
	h := pushHarness(t, Config{AuditRate: 0.001}) // almost only the API's own events
	rc := newReceiver(t)
	acct := "/accounts/" + h.srv.AccountID() + "/logpush/jobs"
	h.do(http.MethodPost, acct, map[string]any{"dataset": "audit_logs", "destination_conf": rc.URL + "/audit", "enabled": true, "max_upload_records": 3,
		"output_options": map[string]any{"field_names": []string{"ID", "ActionType", "ResourceType"}, "output_type": "csv", "batch_prefix": "ID,ActionType,ResourceType\n"}}, nil).ok(t)
	// Two more audited changes: with the job's own creation, three events.
	flag := "/zones/" + h.zone() + "/logs/control/retention/flag"
	h.do(http.MethodPost, flag, map[string]any{"flag": true}, nil).ok(t)
	h.do(http.MethodPost, flag, map[string]any{"flag": false}, nil).ok(t)
	ds := rc.waitFor(t, "an audit batch", func(d []delivery) bool { return len(d) >= 2 })
	body := string(ds[1].body)
	if !strings.HasPrefix(body, "ID,ActionType,ResourceType\n") || strings.Count(body, "\n") != 4 {
		t.Fatalf("csv batch %q", body)
	}
	pushed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) != 3 {
			t.Fatalf("csv line %q", line)
		}
		pushed[strings.Trim(f[0], `"`)] = strings.Trim(f[1], `"`) + " " + strings.Trim(f[2], `"`)
	}
	// The same three events from the audit log API (v1).
	res := h.get("/accounts/" + h.srv.AccountID() + "/audit_logs?per_page=100").env["result"].([]any)
	api := map[string]string{}
	for _, it := range res {
		m := it.(map[string]any)
		api[m["id"].(string)] = m["action"].(map[string]any)["type"].(string) + " " + m["resource"].(map[string]any)["type"].(string)
	}
	for id, what := range pushed {
		if api[id] != what {
			t.Errorf("pushed %s (%s): the API has %q", id, what, api[id])
		}
	}
	want := map[string]int{"create logpush_job": 1, "update logpull_retention": 2}
	got := map[string]int{}
	for _, what := range pushed {
		got[what]++
	}
	if len(got) != len(want) || got["create logpush_job"] != 1 || got["update logpull_retention"] != 2 {
		t.Errorf("pushed events %v, want %v", got, want)
	}
}

func TestJobFilter(t *testing.T) {
	h := pushHarness(t, Config{})
	rc := newReceiver(t)
	filter := `{"where":{"and":[{"key":"ClientRequestMethod","operator":"eq","value":"GET"},{"key":"EdgeResponseStatus","operator":"in","value":[200,304]},{"key":"ClientRequestPath","operator":"!contains","value":"wp-"}]}}`
	r := h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": rc.URL, "enabled": true, "max_upload_records": 20, "filter": filter,
		"output_options": map[string]any{"field_names": []string{"RayID", "EdgeResponseStatus"}}})
	if asMap(r.ok(t))["filter"] != filter {
		t.Fatalf("filter not echoed as the stored string: %v", asMap(r.ok(t))["filter"])
	}
	ds := rc.waitFor(t, "filtered batches", func(d []delivery) bool { _, n := decodeBatches(t, d); return n >= 3 })
	records, _ := decodeBatches(t, ds)
	for _, m := range records {
		if s := m["EdgeResponseStatus"].(float64); s != 200 && s != 304 {
			t.Fatalf("record %v passed the filter", m)
		}
	}
}

func TestJobFailureAndDisable(t *testing.T) {
	h := pushHarness(t, Config{PushMaxAttempts: 2, PushDisableAfter: 300 * time.Millisecond})
	rc := newReceiver(t)
	id := jobID(t, h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": rc.URL, "enabled": true, "max_upload_records": 5}))
	rc.setStatus(http.StatusServiceUnavailable) // after the probe
	deadline := time.Now().Add(20 * time.Second)
	var job map[string]any
	sawError := false
	for time.Now().Before(deadline) {
		job = asMap(h.get(h.jobsPath() + "/" + id).ok(t))
		if msg, _ := job["error_message"].(string); msg != "" {
			sawError = true
			if !strings.HasPrefix(msg, "error pushing: error uploading to http: 503") || job["last_error"] == nil {
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
}

func TestOwnershipChallenge(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Config{Storage: LocalDir{Dir: dir}})
	conf := "s3://mybucket/logs/{DATE}?region=us-west-2"
	r := h.do(http.MethodPost, "/zones/"+h.zone()+"/logpush/ownership", map[string]string{"destination_conf": conf}, nil)
	res := asMap(r.ok(t))
	filename := res["filename"].(string)
	if res["valid"] != true || res["message"] != "" || !strings.HasPrefix(filename, "logs/20260318/ownership-challenge-") || !strings.HasSuffix(filename, ".txt") {
		t.Fatalf("result %v", res)
	}
	dest, _ := ParseObjectDestination(conf)
	token, err := os.ReadFile(LocalDir{Dir: dir}.Path(dest, filename))
	if err != nil {
		t.Fatal(err)
	}
	validate := func(conf, challenge string) any {
		return asMap(h.do(http.MethodPost, "/zones/"+h.zone()+"/logpush/ownership/validate",
			map[string]string{"destination_conf": conf, "ownership_challenge": challenge}, nil).ok(t))["valid"]
	}
	if validate(conf, string(token)) != true || validate(conf, "nope") != false || validate("s3://mybucket/logs/{DATE}?region=us-east-1", string(token)) != false {
		t.Fatal("ownership/validate")
	}
	job := map[string]any{"dataset": "http_requests", "destination_conf": conf}
	h.createJob(job).fails(t, http.StatusBadRequest, CodeDestination)
	job["ownership_challenge"] = "00000000000000000000"
	h.createJob(job).fails(t, http.StatusBadRequest, CodeDestination)
	job["ownership_challenge"] = string(token)
	h.createJob(job).ok(t)
	// Another zone cannot use the token.
	h.do(http.MethodPost, "/zones/"+h.srv.Zones()[1].ID+"/logpush/jobs", job, nil).fails(t, 400, CodeDestination)
	// S3-compatible and R2 destinations need no challenge.
	h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": "s3://b/p?region=auto&access-key-id=a&secret-access-key=s&endpoint=minio.local:9000"}).ok(t)
	h.createJob(map[string]any{"dataset": "firewall_events", "destination_conf": "r2://b/p/{DATE}?account-id=x&access-key-id=a&secret-access-key=s"}).ok(t)
	// HTTP destinations have none, and without a writer none can be made.
	h.do(http.MethodPost, "/zones/"+h.zone()+"/logpush/ownership", map[string]string{"destination_conf": "https://example.com/x"}, nil).fails(t, 400, CodeDestination)
	h2 := newHarness(t, Config{})
	h2.do(http.MethodPost, "/zones/"+h2.zone()+"/logpush/ownership", map[string]string{"destination_conf": conf}, nil).fails(t, 400, CodeDestination)
}

func TestValidateEndpoints(t *testing.T) {
	h := newHarness(t, Config{})
	rc := newReceiver(t)
	bad := newReceiver(t)
	bad.setStatus(500)
	z := "/zones/" + h.zone() + "/logpush"
	post := func(path string, body any) map[string]any {
		return asMap(h.do(http.MethodPost, z+path, body, nil).ok(t))
	}
	if res := post("/validate/destination", map[string]string{"destination_conf": rc.URL}); res["valid"] != true || res["message"] != "" {
		t.Fatalf("valid destination: %v", res)
	}
	if res := post("/validate/destination", map[string]string{"destination_conf": bad.URL}); res["valid"] != false || !strings.HasPrefix(res["message"].(string), "error validating destination") {
		t.Fatalf("failing destination: %v", res)
	}
	if res := post("/validate/destination/exists", map[string]string{"destination_conf": "s3://foo"}); res["exists"] != false {
		t.Fatalf("exists: %v", res)
	}
	h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": rc.URL}).ok(t)
	if res := post("/validate/destination/exists", map[string]string{"destination_conf": rc.URL}); res["exists"] != true {
		t.Fatalf("exists: %v", res)
	}
	good := map[string]string{"logpull_options": "fields=RayID,ClientIP,EdgeStartTimestamp&timestamps=rfc3339&CVE-2021-44228=true", "dataset": "http_requests"}
	if res := post("/validate/origin", good); res["valid"] != true || res["message"] != "" {
		t.Fatalf("origin: %v", res)
	}
	if res := post("/validate/origin", map[string]string{"logpull_options": "fields=Nope", "dataset": "http_requests"}); res["valid"] != false {
		t.Fatalf("origin: %v", res)
	}
}

func TestDatasetFields(t *testing.T) {
	h := newHarness(t, Config{})
	f := asMap(h.get("/zones/" + h.zone() + "/logpush/datasets/http_requests/fields").ok(t))
	if f["RayID"] == "" || f["ClientIP"] == nil || len(f) < 80 {
		t.Fatalf("http_requests fields: %d", len(f))
	}
	g := asMap(h.get("/accounts/" + h.srv.AccountID() + "/logpush/datasets/gateway_dns/fields").ok(t))
	if g["QueryName"] == nil {
		t.Fatalf("gateway_dns fields: %v", g)
	}
	// firewall_events exists at both scopes.
	h.get("/accounts/" + h.srv.AccountID() + "/logpush/datasets/firewall_events/fields").ok(t)
	h.get("/zones/"+h.zone()+"/logpush/datasets/gateway_dns/fields").fails(t, 400, CodeBadRequest)
}

func TestZeroTrustPII(t *testing.T) {
	h := newHarness(t, Config{Tokens: []Token{{Value: "no-pii-token", Permissions: []Permission{PermLogsWrite}}}})
	acct := "/accounts/" + h.srv.AccountID() + "/logpush/jobs"
	body := map[string]any{"dataset": "gateway_dns", "destination_conf": "s3://b/p?region=auto&access-key-id=a&secret-access-key=s&endpoint=e",
		"output_options": map[string]any{"field_names": []string{"Datetime", "Email", "QueryName"}}}
	e := h.do(http.MethodPost, acct, body, nil).fails(t, http.StatusForbidden, CodeAuthentication)
	if !strings.Contains(string(mustJSON(e)), "Zero Trust PII Read") {
		t.Fatalf("error %v", e)
	}
	body["output_options"] = map[string]any{"field_names": []string{"Datetime", "QueryName"}}
	h.do(http.MethodPost, acct, body, nil).ok(t)
}

// The validation upload and deliveries are real gzip: check the raw bytes
// once without the receiver's decoding.
func TestProbeIsGzip(t *testing.T) {
	var raw []byte
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { raw, _ = io.ReadAll(r.Body) }))
	defer ts.Close()
	h := newHarness(t, Config{})
	h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": ts.URL}).ok(t)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != `{"content":"tests"}` {
		t.Fatalf("probe %q", b)
	}
}
