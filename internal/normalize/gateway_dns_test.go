package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var gatewayDNSQueryNames = []string{"api.github.com", "www.google.com", "login.microsoftonline.com", "slack.com", "cdn.jsdelivr.net",
	"updates.example.org", "mail.example.com", "telemetry.vendor.example", "s3.amazonaws.com", "fonts.gstatic.com"}

// makeGatewayDNS returns a Gateway DNS record (the usual field set of a
// Logpush job, timestamps in unixnano).
func makeGatewayDNS(rng *rand.Rand, i int) string {
	t := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 13 * time.Millisecond)
	q := gatewayDNSQueryNames[rng.IntN(len(gatewayDNSQueryNames))]
	rcode := pick(rng, 0, 0, 0, 0, 3, 2)
	decision := pick(rng, "allowedOnNoPolicyMatch", "allowedByQueryName", "blockedByCategory", "overrideForSafeSearch")
	resolved := fmt.Sprintf(`["%s","%s"]`, randIPv4(rng), randIPv4(rng))
	if rcode != 0 {
		resolved = "[]"
	}
	return fmt.Sprintf(`{"AccountID":"5f0c2a7d9e1b4c3a8d6e2f1a0b9c8d7e","ApplicationID":%d,"ColoCode":"%s","ColoID":%d,"Datetime":%d,`+
		`"DeviceID":"%s","DeviceName":"laptop-%03d","DstIP":"172.64.36.%d","DstPort":%d,"Email":"user%d@example.org","IsResponseCached":%t,`+
		`"Location":"Office %d","LocationID":"%s","MatchedCategoryIDs":[],"MatchedCategoryNames":[],"Policy":"","PolicyID":"%s","PolicyName":"%s",`+
		`"Protocol":"%s","QueryCategoryIDs":[26,%d],"QueryCategoryNames":["Technology","Business"],"QueryID":"%016x","QueryName":"%s",`+
		`"QueryNameReversed":"%s","QuerySize":%d,"QueryType":1,"QueryTypeName":"A","RCode":%d,"RData":[{"type":"1","data":"A2FwaQZnaXRodWIDY29tAAABAAEAAAA8AAQUG8cC"}],`+
		`"ResolvedIPs":%s,"ResolverDecision":"%s","ResponseTimeMs":%d,"SrcIP":"%s","SrcPort":%d,"TimeZone":"","TimeZoneInferredMethod":"noScheduleConfigured","UserID":"%s"}`,
		pick(rng, 0, 0, 1218, 614), pick(rng, "FRA", "IAD", "SJC", "LHR"), 1+rng.IntN(300), t.UnixNano(),
		randUUID(rng), rng.IntN(500), 1+rng.IntN(2), pick(rng, 53, 443, 853), rng.IntN(500), rng.IntN(3) == 0,
		rng.IntN(9), randUUID(rng), pick(rng, "", "b7a0c3e1"), pick(rng, "", "Block security threats"),
		pick(rng, "udp", "https", "tls", "tcp"), 100+rng.IntN(80), rng.Uint64(), q,
		"reversed."+q, 40+rng.IntN(40), rcode, resolved, decision, rng.IntN(80), randIPv4(rng), 1024+rng.IntN(60000), randUUID(rng))
}

func TestGatewayDNSFields(t *testing.T) {
	// String conversions, RCode, Policy / PolicyName, related lists.
	doc := normalizeFlat(t, Options{KeepDuplicateFields: true}, "gateway_dns",
		`{"Datetime":"1718023500","ApplicationID":7,"MatchedCategoryIDs":[7,163],"EDEErrors":[],"RCode":3,"PolicyName":"New","Policy":"Old",`+
			`"ResolvedIPs":["10.1.2.3","10.1.2.4"],"InitialResolvedIPs":["10.1.2.3"],"AuthoritativeNameServerIPs":["192.0.2.53"],"CNAMEs":["a.example.org"],`+
			`"QueryName":"x.example.org","SrcIP":"198.51.100.1","DstIP":"172.64.36.1","DeviceID":"d1","IsResponseCached":"true"}`)
	expectFields(t, doc, map[string]any{
		"@timestamp": "2024-06-10T12:45:00.000Z",
		"cloudflare_logpush.gateway_dns.application_id":           "7",
		"cloudflare_logpush.gateway_dns.matched.category.ids":     []any{"7", "163"},
		"cloudflare_logpush.gateway_dns.extended_dns_error_codes": nil,
		"cloudflare_logpush.gateway_dns.response_code":            "3",
		"cloudflare_logpush.gateway_dns.policy.name":              []any{"New", "Old"},
		"cloudflare_logpush.gateway_dns.is_response_cached":       true,
		"dns.response_code": "3",
		"dns.resolved_ip":   []any{"10.1.2.3", "10.1.2.4"},
		"event.outcome":     "failure",
		"device.id":         "d1",
		"related.ip":        []any{"172.64.36.1", "198.51.100.1", "10.1.2.3", "10.1.2.4", "192.0.2.53"},
		"related.hosts":     []any{"d1", "x.example.org", "a.example.org"},
	})
	// Duplicates dropped by default; Policy alone becomes policy.name; a
	// string RCode is converted but gives no outcome; the same name twice
	// stays a string.
	doc = normalizeFlat(t, Options{}, "gateway_dns", `{"RCode":"0","Policy":"Old","QueryName":"x.example.org","TimeZone":"UTC"}`)
	expectFields(t, doc, map[string]any{
		"cloudflare_logpush.gateway_dns.policy.name":   "Old",
		"cloudflare_logpush.gateway_dns.response_code": nil,
		"cloudflare_logpush.gateway_dns.question.name": nil,
		"cloudflare_logpush.gateway_dns.timezone":      nil,
		"dns.response_code":                            "0",
		"dns.question.name":                            "x.example.org",
		"event.timezone":                               "UTC",
		"event.outcome":                                nil,
	})
	doc = normalizeFlat(t, Options{}, "gateway_dns", `{"PolicyName":"Same","Policy":"Same","RCode":0}`)
	expectFields(t, doc, map[string]any{"cloudflare_logpush.gateway_dns.policy.name": "Same", "event.outcome": "success"})
	doc = normalizeFlat(t, Options{}, "gateway_dns", `{"PolicyName":"","Policy":"Old"}`)
	expectFields(t, doc, map[string]any{"cloudflare_logpush.gateway_dns.policy.name": []any{"Old"}})
}
