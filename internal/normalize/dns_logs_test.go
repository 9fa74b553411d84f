package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var dnsQueryNames = []string{"example.com", "www.example.com", "api.example.com", "_dmarc.example.com", "mail.example.com",
	"cdn.example.net", "_acme-challenge.example.org", "nonexistent.example.com", "autodiscover.example.com", "example.org"}

// makeDNSLog returns an authoritative DNS log record (every field, the
// timestamp in unixnano).
func makeDNSLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Millisecond)
	src := randIPv4(rng)
	if rng.IntN(4) == 0 {
		src = randIPv6(rng)
	}
	subnet, length := "", 0
	if rng.IntN(2) == 0 {
		subnet, length = fmt.Sprintf("%d.%d.%d.0", 1+rng.IntN(220), rng.IntN(256), rng.IntN(256)), 24
	}
	return fmt.Sprintf(`{"ColoCode":"%s","EDNSSubnet":"%s","EDNSSubnetLength":%d,"QueryName":"%s","QueryType":%d,`+
		`"ResponseCached":%t,"ResponseCode":%d,"SourceIP":"%s","Timestamp":%d}`,
		pick(rng, "AMS", "FRA", "SJC", "IAD", "NRT", "GRU"), subnet, length, dnsQueryNames[rng.IntN(len(dnsQueryNames))],
		pick(rng, 1, 1, 28, 5, 15, 16, 65, 33, 6), rng.IntN(3) == 0, pick(rng, 0, 0, 0, 3, 2), src, t.UnixNano())
}

func TestDNSLogsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "cloudflare_logpush.dns",
		`{"ColoCode":"MRS","EDNSSubnet":"1.128.0.0","EDNSSubnetLength":"24","QueryName":"example.com","QueryType":"28",`+
			`"ResponseCached":"false","ResponseCode":3,"SourceIP":"175.16.199.0","Timestamp":"1653557034"}`)
	expectFields(t, doc, map[string]any{
		"@timestamp":                                "2022-05-26T09:23:54.000Z",
		"dns.question.name":                         "example.com",
		"dns.question.type":                         "AAAA",
		"dns.response_code":                         "NXDomain",
		"source.ip":                                 "175.16.199.0",
		"related.ip":                                []any{"175.16.199.0", "1.128.0.0"},
		"related.hosts":                             nil, // Elastic reads a dns.query.name that never exists
		"cloudflare_logpush.dns.query.type":         28,
		"cloudflare_logpush.dns.response.cached":    false,
		"cloudflare_logpush.dns.edns.subnet_length": 24,
		"cloudflare_logpush.dns.query.name":         nil, // duplicate of dns.question.name
		"cloudflare_logpush.dns.source.ip":          nil,
		"cloudflare_logpush.dns.timestamp":          nil,
		"event.category":                            []any{"network"},
		"error.message":                             nil,
	})
	// Codes outside the tables name nothing.
	doc = normalizeFlat(t, Options{}, "dns_logs", `{"QueryType":65535,"ResponseCode":12}`)
	expectFields(t, doc, map[string]any{"dns.question.type": nil, "dns.response_code": nil, "cloudflare_logpush.dns.query.type": 65535})
	// A bad value is reported and left out (and gets no name).
	doc = normalizeFlat(t, Options{KeepDuplicateFields: true}, "dns_logs", `{"QueryType":"A","SourceIP":"x"}`)
	expectFields(t, doc, map[string]any{"dns.question.type": nil, "event.kind": "pipeline_error", "cloudflare_logpush.dns.query.type": nil,
		"cloudflare_logpush.dns.source.ip": nil, "source.ip": nil})
}
