package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeDNSFirewallLog returns a DNS firewall log record (every field, the
// timestamp in unixnano).
func makeDNSFirewallLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 3 * time.Millisecond)
	rcode := pick(rng, 0, 0, 0, 0, 3, 2, 5)
	cached := rng.IntN(2) == 0
	upstreamMs := 0
	if !cached {
		upstreamMs = 1 + rng.IntN(300)
	}
	return fmt.Sprintf(`{"ClientResponseCode":%d,"ClusterID":"%016x%016x","ColoCode":"%s","EDNSSubnet":"%d.%d.%d.0","EDNSSubnetLength":24,`+
		`"QueryDO":%t,"QueryName":"%s","QueryRD":true,"QuerySize":%d,"QueryTCP":%t,"QueryType":%d,"ResponseCached":%t,`+
		`"ResponseCachedStale":false,"ResponseReason":"%s","SourceIP":"%s","Timestamp":%d,"UpstreamIP":"%s",`+
		`"UpstreamResponseCode":%d,"UpstreamResponseTimeMs":%d}`,
		rcode, rng.Uint64(), rng.Uint64(), pick(rng, "AMS", "FRA", "SJC", "IAD"), 1+rng.IntN(220), rng.IntN(256), rng.IntN(256),
		rng.IntN(2) == 0, dnsQueryNames[rng.IntN(len(dnsQueryNames))], 40+rng.IntN(40), rng.IntN(10) == 0, pick(rng, 1, 28, 16, 15, 65),
		cached, pick(rng, "cached", "upstream_response", "rate_limited"), randIPv4(rng), t.UnixNano(), randIPv4(rng), rcode, upstreamMs)
}

func TestDNSFirewallLogsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{KeepDuplicateFields: true}, "dns_firewall",
		`{"ClientResponseCode":0,"UpstreamResponseCode":3,"QueryTCP":true,"QueryType":1,"QueryName":"example.com","SourceIP":"67.43.156.2",`+
			`"UpstreamIP":"2a02:cf40::","EDNSSubnet":"67.43.156.0","Timestamp":"2023-09-19T12:30:00Z"}`)
	expectFields(t, doc, map[string]any{
		"cloudflare_logpush.dns_firewall.response.code":          "0",
		"cloudflare_logpush.dns_firewall.upstream.response_code": "3",
		"dns.response_code": "NoError", // the client's code first
		"dns.question.type": "A",
		"network.transport": "tcp",
		"related.ip":        []any{"67.43.156.2", "67.43.156.0", "2a02:cf40::"},
		"cloudflare_logpush.dns_firewall.question.name": "example.com",
	})
}

func TestDNSFirewallResponseCodes(t *testing.T) {
	for _, c := range []struct {
		line, code, upstream, name string
	}{
		{`{"ClientResponseCode":"","UpstreamResponseCode":2}`, "<nil>", "2", "ServFail"},
		{`{"ClientResponseCode":"00","UpstreamResponseCode":5}`, "00", "5", "Refused"}, // "00" is not in the table
		{`{"ClientResponseCode":99}`, "99", "<nil>", "<nil>"},
		{`{"ClientResponseCode":true}`, "true", "<nil>", "<nil>"},
		{`{"QueryTCP":false}`, "<nil>", "<nil>", "<nil>"},
	} {
		doc := normalizeFlat(t, Options{}, "dns_firewall_logs", c.line)
		got := [3]string{fmt.Sprint(doc["cloudflare_logpush.dns_firewall.response.code"]),
			fmt.Sprint(doc["cloudflare_logpush.dns_firewall.upstream.response_code"]), fmt.Sprint(doc["dns.response_code"])}
		if got != [3]string{c.code, c.upstream, c.name} {
			t.Errorf("%s: got %v", c.line, got)
		}
	}
	doc := normalizeFlat(t, Options{}, "dns_firewall_logs", `{"QueryTCP":false}`)
	expectFields(t, doc, map[string]any{"network.transport": "udp"})
}
