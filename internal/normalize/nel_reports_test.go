package normalize

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// makeNELReport returns a Network Error Logging report (timestamps as
// unixnano, the API default).
func makeNELReport(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 2300 * time.Millisecond)
	phase := pick(rng, "dns", "connection", "connection", "application", "unknown")
	typ := map[string][]string{
		"dns":         {"dns.name_not_resolved", "dns.failed", "dns.address_changed"},
		"connection":  {"tcp.timed_out", "tcp.reset", "tcp.refused", "tls.cert.invalid", "tls.protocol.error"},
		"application": {"http.error", "http.protocol.error", "http.response.invalid"},
		"unknown":     {"unknown"},
	}[phase]
	return fmt.Sprintf(`{"ClientIPASN":%d,"ClientIPASNDescription":"%s","ClientIPCountry":"%s","LastKnownGoodColoCode":"%s",`+
		`"Phase":"%s","Timestamp":%d,"Type":"%s"}`,
		pick(rng, 7922, 3320, 13335, 16509, 15169), pick(rng, "COMCAST-7922", "DTAG", "CLOUDFLARENET", "AMAZON-02", "GOOGLE"),
		pick(rng, "US", "DE", "FR", "GB", "JP"), pick(rng, "SJC", "FRA", "CDG", "LHR", "NRT"),
		phase, t.UnixNano(), pick(rng, typ...))
}

// TestNELReportFixture: Elastic's nel_report test has three input lines
// (RFC 3339, unix seconds and unix nanoseconds as strings) but no current
// expected file; its sample_event.json is line 1 through the current
// pipeline. Every line must give that document (event.original aside).
func TestNELReportFixture(t *testing.T) {
	dir := sharedPath(t, "conformance", "elastic", "cloudflare_logpush", "nel_report")
	var sample map[string]any
	b := readLines(t, filepath.Join(dir, "sample_event.json"))
	if err := json.Unmarshal([]byte(strings.Join(b, "\n")), &sample); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	flattenPlain("", sample, want)
	env := newTestEnv(t, Options{KeepDuplicateFields: true})
	for i, line := range readLines(t, filepath.Join(dir, "test-pipeline-nel-report.log")) {
		got, _ := normalizeOne(t, env, "cloudflare_logpush.nel_report", line)
		for k, v := range want {
			if strings.HasPrefix(k, "agent.") || strings.HasPrefix(k, "elastic_agent.") || strings.HasPrefix(k, "input.") ||
				k == "event.original" || k == "event.ingested" || k == "event.agent_id_status" || k == "tags" || k == "data_stream.namespace" {
				continue
			}
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				t.Errorf("line %d: %s = %v, want %v", i+1, k, got[k], v)
			}
		}
	}
}
