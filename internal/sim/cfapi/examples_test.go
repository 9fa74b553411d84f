package cfapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// examplesDir holds real (or documented) Cloudflare responses; the test
// skips when the shared directory is not there.
const examplesDir = "../../../../shared/cloudflare/examples"

// freeForm keys hold objects whose content varies; only their presence is
// compared.
var freeForm = map[string]bool{"metadata": true, "request": true, "response": true, "scope": true, "newValueJson": true, "oldValueJson": true}

// compareKeys checks that ours has every key of the example, recursively
// (arrays: their first elements); exact also forbids extra keys.
func compareKeys(t *testing.T, where string, ours, example any, exact bool) {
	t.Helper()
	switch ex := example.(type) {
	case map[string]any:
		om, ok := ours.(map[string]any)
		if !ok {
			t.Errorf("%s: example has an object, ours is %T", where, ours)
			return
		}
		for k, v := range ex {
			ov, ok := om[k]
			if !ok {
				t.Errorf("%s: missing key %q (ours: %v)", where, k, keysOf(om))
				continue
			}
			if !freeForm[k] {
				compareKeys(t, where+"."+k, ov, v, exact)
			}
		}
		if exact {
			for k := range om {
				if _, ok := ex[k]; !ok {
					t.Errorf("%s: extra key %q (example: %v)", where, k, keysOf(ex))
				}
			}
		}
	case []any:
		ol, ok := ours.([]any)
		if !ok {
			t.Errorf("%s: example has an array, ours is %T", where, ours)
			return
		}
		if len(ex) > 0 && len(ol) > 0 {
			compareKeys(t, where+"[0]", ol[0], ex[0], exact)
		} else if len(ex) > 0 {
			t.Errorf("%s: our array is empty", where)
		}
	}
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func loadExample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	// OA24's misspelled output_options key: Cloudflare's real key is
	// CVE-2021-44228 (PROTOCOL.md §2.4).
	b = bytes.ReplaceAll(b, []byte(`"CVE-2021-4428"`), []byte(`"CVE-2021-44228"`))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestResponsesMatchExamples(t *testing.T) {
	if _, err := os.Stat(examplesDir); err != nil {
		t.Skip("shared/cloudflare/examples not present")
	}
	dir := t.TempDir()
	h := newHarness(t, Config{Seed: 3, RetentionOn: true, Storage: LocalDir{Dir: dir},
		Keys: []GlobalKey{{Email: keyEmail, Key: NewGlobalKey("x")}}})
	rc := newReceiver(t)
	zone, acct := "/zones/"+h.zone(), "/accounts/"+h.srv.AccountID()

	// challenge gets an ownership token for an s3 destination.
	challenge := func(t *testing.T, scope, conf string) (string, map[string]any) {
		r := h.do(http.MethodPost, scope+"/logpush/ownership", map[string]string{"destination_conf": conf}, nil)
		res := asMap(r.ok(t))
		dest, _ := ParseObjectDestination(conf)
		tok, err := os.ReadFile(LocalDir{Dir: dir}.Path(dest, res["filename"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		return string(tok), r.env
	}
	full := map[string]any{"CVE-2021-44228": false, "batch_prefix": "", "batch_suffix": "", "field_delimiter": ",",
		"field_names": []string{"RayID", "ClientIP", "EdgeStartTimestamp"}, "output_type": "ndjson", "record_delimiter": "",
		"record_prefix": "{", "record_suffix": "}\n", "record_template": "", "sample_rate": 1, "timestamp_format": "unixnano"}

	type check struct {
		file  string
		exact bool
		ours  func(t *testing.T) any
	}
	checks := []check{
		{"error_common_failure_7003.openapi.json", true, func(t *testing.T) any { return h.get(zone + "/nope").env }},
		{"error_invalid_request_headers_6003.observed.json", true, func(t *testing.T) any {
			return h.do(http.MethodGet, zone+"/logpush/jobs", nil, map[string]string{"Authorization": "", "X-Auth-Email": keyEmail, "X-Auth-Key": "bad"}).env
		}},
		// Ours adds messages, result and an error_chain naming the cause.
		{"error_authentication_10000.observed.json", false, func(t *testing.T) any {
			return h.do(http.MethodGet, zone+"/logpush/jobs", nil, map[string]string{"Authorization": "Bearer wrong"}).env
		}},
		{"token_verify_response.observed.json", true, func(t *testing.T) any { return h.get("/user/tokens/verify").env }},
		{"logpull_retention_flag_response.cloudflare-go-test.json", true, func(t *testing.T) any { return h.get(zone + "/logs/control/retention/flag").env }},
		{"logpush_ownership_challenge_response.docs.json", true, func(t *testing.T) any {
			_, env := challenge(t, zone, "s3://bucket/logs?region=us-west-2")
			return env
		}},
		{"logpush_validate_destination_exists_response.docs.json", true, func(t *testing.T) any {
			return h.do(http.MethodPost, zone+"/logpush/validate/destination/exists", map[string]string{"destination_conf": "s3://foo"}, nil).env
		}},
		{"logpush_validate_origin_response.docs.json", true, func(t *testing.T) any {
			return h.do(http.MethodPost, zone+"/logpush/validate/origin", map[string]string{"logpull_options": "fields=RayID,ClientIP,EdgeStartTimestamp&timestamps=rfc3339&CVE-2021-44228=true", "dataset": "http_requests"}, nil).env
		}},
		{"logpush_job_get_response.openapi.json", true, func(t *testing.T) any {
			conf := "s3://mybucket/logs?region=us-west-2"
			tok, _ := challenge(t, zone, conf)
			r := h.createJob(map[string]any{"dataset": "http_requests", "destination_conf": conf, "enabled": false, "kind": "",
				"max_upload_bytes": 5000000, "max_upload_interval_seconds": 30, "max_upload_records": 1000, "name": "example.com",
				"output_options": full, "ownership_challenge": tok})
			return h.get(zone + "/logpush/jobs/" + jobID(t, r)).env
		}},
		{"logpush_jobs_list_account_response.openapi.json", true, func(t *testing.T) any {
			conf := "s3://mybucket/logs?region=us-west-2"
			tok, _ := challenge(t, acct, conf)
			oo := map[string]any{}
			for k, v := range full {
				oo[k] = v
			}
			oo["field_names"] = []string{"Datetime", "DstIP", "SrcIP"}
			h.do(http.MethodPost, acct+"/logpush/jobs", map[string]any{"dataset": "gateway_dns", "destination_conf": conf,
				"max_upload_bytes": 5000000, "max_upload_interval_seconds": 30, "max_upload_records": 1000, "name": "example.com",
				"output_options": oo, "ownership_challenge": tok}, nil).ok(t)
			return h.get(acct + "/logpush/jobs").env
		}},
		{"logpush_job_create_http_response.docs.json", true, func(t *testing.T) any {
			return h.createJob(map[string]any{"dataset": "http_requests", "enabled": true, "name": "example.com",
				"destination_conf": rc.URL + "?header_Authorization=Basic%20REDACTED&tags=host:theburritobot.com,dataset:http_requests",
				"max_upload_bytes": 5000000, "max_upload_records": 1000,
				"output_options": map[string]any{"field_names": []string{"ClientIP", "ClientRequestHost", "ClientRequestMethod", "ClientRequestURI", "EdgeEndTimestamp", "EdgeResponseBytes", "EdgeResponseStatus", "EdgeStartTimestamp", "RayID"}, "timestamp_format": "rfc3339"}}).env
		}},
		{"logpush_job_after_running.docs.json", true, func(t *testing.T) any {
			r := h.do(http.MethodPost, "/zones/"+h.srv.Zones()[1].ID+"/logpush/jobs", map[string]any{"dataset": "http_requests", "enabled": true, "name": "example.com",
				"destination_conf": "s3://b/p?region=auto&access-key-id=a&secret-access-key=s&endpoint=e",
				"output_options":   map[string]any{"field_names": []string{"ClientIP", "RayID"}, "timestamp_format": "rfc3339"}}, nil)
			return r.env
		}},
		// The docs show result {}; OA24 and GO6 (and the sim) {"id": n}.
		{"logpush_job_delete_response.docs.json", false, func(t *testing.T) any {
			r := h.createJob(map[string]any{"dataset": "firewall_events", "destination_conf": rc.URL})
			return h.do(http.MethodDelete, zone+"/logpush/jobs/"+jobID(t, r), nil, nil).env
		}},
		// v1: an entry with string newValue/oldValue; the sim adds result_info.
		{"v1_account_audit_logs_response.openapi_field_examples.json", false, func(t *testing.T) any {
			return h.get(acct + "/audit_logs?action.type=change_setting&per_page=1").env
		}},
		// v2: the sim adds messages and (as the MCP example) an id.
		{"v2_account_audit_logs_response.docs.json", false, func(t *testing.T) any {
			env := h.get(acct + "/logs/audit?" + url.Values{"since": {"2026-03-18"}, "before": {"2026-03-19"}, "limit": {"1"}, "resource_scope": {"zones"}, "actor_context": {"api_token"}}.Encode()).env
			env["errors"] = []any{map[string]any{"message": "the docs' example has a bogus error"}}
			return env
		}},
		{"v2_account_audit_logs_response.mcp_server_test.json", false, func(t *testing.T) any {
			return h.get(acct + "/logs/audit?" + url.Values{"since": {"2026-03-18"}, "before": {"2026-03-19"}, "limit": {"1"}}.Encode()).env
		}},
		{"error_rate_limited_971.observed.json", true, func(t *testing.T) any {
			hl := newHarness(t, Config{RateLimit: 1})
			hl.get("/user/tokens/verify")
			return hl.get("/user/tokens/verify").env
		}},
	}
	files, _ := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	for _, c := range checks {
		t.Run(c.file, func(t *testing.T) {
			ex := loadExample(t, c.file)
			ours := c.ours(t)
			if ours == nil {
				t.Fatal("no JSON response")
			}
			compareKeys(t, c.file, ours, ex, c.exact)
		})
	}
	// Every example is either checked or knowingly left out.
	skipped := []string{"instant_logs_job_create_response.docs.json", "v2_docs_first_example_INCONSISTENT_with_schema.json", "logpush_job_create_request.openapi.json"}
	for _, f := range files {
		name := filepath.Base(f)
		if !slices.ContainsFunc(checks, func(c check) bool { return c.file == name }) && !slices.Contains(skipped, name) {
			t.Errorf("example %s is not compared", name)
		}
	}

	// Logpull's NDJSON example: the same keys on every line.
	b, err := os.ReadFile(filepath.Join(examplesDir, "logpull_received_response.openapi.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var ex map[string]any
	json.Unmarshal(bytes.SplitN(b, []byte("\n"), 2)[0], &ex)
	q := url.Values{"start": {t0.Add(-3 * time.Minute).Format(time.RFC3339)}, "end": {t0.Add(-2 * time.Minute).Format(time.RFC3339)},
		"fields": {strings.Join(keysOf(ex), ",")}}
	r := h.get(zone + "/logs/received?" + q.Encode())
	for _, m := range lines(t, r.body) {
		compareKeys(t, "logpull line", any(m), any(ex), true)
		if _, isNum := m["EdgeStartTimestamp"].(float64); !isNum {
			t.Errorf("EdgeStartTimestamp should be an integer by default: %v", m)
		}
	}
}
