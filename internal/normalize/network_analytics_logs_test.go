package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeNetworkAnalyticsLog returns a network analytics packet sample (the
// current field names, as Cloudflare sends them today; unixnano).
func makeNetworkAnalyticsLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 11 * time.Millisecond)
	p := pick(rng, [2]any{6, "TCP"}, [2]any{6, "TCP"}, [2]any{17, "UDP"}, [2]any{1, "ICMP"})
	outcome := pick(rng, "pass", "pass", "drop")
	attack, campaign := "", ""
	if outcome == "drop" {
		attack, campaign = fmt.Sprintf("%016x", rng.Uint64()), fmt.Sprintf("%08x", rng.Uint32())
	}
	return fmt.Sprintf(`{"AttackCampaignID":"%s","AttackID":"%s","AttackVector":"%s","ColoCity":"Frankfurt","ColoCode":"FRA","ColoCountry":"DE",`+
		`"ColoGeoHash":"u0yhd7hbvm5r","ColoName":"fra%02d","Datetime":%d,"DestinationASN":13335,"DestinationASNName":"CLOUDFLARENET",`+
		`"DestinationCountry":"US","DestinationGeoHash":"9q8yyf3hhvek","DestinationPort":%d,"Direction":"ingress","GREChecksum":0,`+
		`"GREEtherType":0,"GREHeaderLength":0,"GREKey":0,"GRESequenceNumber":0,"GREVersion":0,"ICMPChecksum":0,"ICMPCode":0,"ICMPType":0,`+
		`"IPDestinationAddress":"203.0.113.%d","IPDestinationSubnet":"203.0.113.0/24","IPFragmentOffset":0,"IPHeaderLength":20,`+
		`"IPMoreFragments":0,"IPProtocol":%d,"IPProtocolName":"%s","IPSourceAddress":"%s","IPSourceSubnet":"","IPTTL":%d,"IPTTLBuckets":%d,`+
		`"IPTotalLength":%d,"IPTotalLengthBuckets":%d,"IPv4Checksum":%d,"IPv4DSCP":0,"IPv4DontFragment":1,"IPv4ECN":0,"IPv4Identification":%d,`+
		`"IPv4Options":"","IPv6DSCP":0,"IPv6ECN":0,"IPv6ExtensionHeaders":"","IPv6FlowLabel":0,"IPv6Identification":0,"MitigationReason":"%s",`+
		`"MitigationScope":"","MitigationSystem":"%s","Outcome":"%s","ProtocolState":"","RuleID":"","RuleName":"","RulesetID":"",`+
		`"RulesetOverrideID":"","SampleInterval":%d,"SourceASN":%d,"SourceASNName":"EXAMPLE-AS","SourceCountry":"%s","SourceGeoHash":"u33dc0cppjs7",`+
		`"SourcePort":%d,"TCPAcknowledgementNumber":%d,"TCPChecksum":%d,"TCPDataOffset":40,"TCPFlags":%d,"TCPFlagsString":"%s","TCPMSS":1460,`+
		`"TCPOptions":"2,4,8,1,3","TCPSACKBlocks":"%s","TCPSACKPermitted":1,"TCPSequenceNumber":%d,"TCPTimestampECR":0,"TCPTimestampValue":%d,`+
		`"TCPUrgentPointer":0,"TCPWindowScale":7,"TCPWindowSize":%d,"UDPChecksum":0,"UDPPayloadLength":0,"Verdict":"%s"}`,
		campaign, attack, map[bool]string{true: "SYN Flood", false: ""}[attack != ""], rng.IntN(20), t.UnixNano(), pick(rng, 443, 80, 53, 22),
		1+rng.IntN(254), p[0], p[1], randIPv4(rng), 32+rng.IntN(220), 50, 40+rng.IntN(1460), 0, rng.IntN(65536), rng.IntN(65536),
		map[bool]string{true: "BLOCKED", false: ""}[outcome == "drop"], pick(rng, "dosd", "flowtrackd", "magic-firewall"), outcome,
		pick(rng, 1, 100, 1000, 10000), 3320+rng.IntN(100), pick(rng, "DE", "US", "CN", "BR"), 1024+rng.IntN(60000),
		rng.Uint32(), rng.IntN(65536), pick(rng, 2, 16, 18, 24), pick(rng, "SYN", "ACK", "SYN,ACK", "PSH,ACK"),
		pick(rng, "", "", fmt.Sprintf("%d,%d", rng.Uint32(), rng.Uint32())), rng.Uint32(), rng.Uint32(), rng.IntN(65536), outcome)
}

func TestNetworkAnalyticsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "network_analytics",
		`{"Outcome":"drop","AttackID":"abc","AttackCampaignID":"c1","ColoName":"fra08","IPProtocolName":"UDP","IPSourceAddress":"81.2.69.144",`+
			`"IPDestinationAddress":"81.2.69.142","SourcePort":45497,"DestinationPort":27015,"SourceGeoHash":"u33d","DestinationGeoHash":"9q8y",`+
			`"ColoGeoHash":"u33d","Datetime":"2025-05-30T19:16:28Z","GREEtherType":2048,"TCPSACKBlocks":"1,2, 3"}`)
	expectFields(t, doc, map[string]any{
		"event.outcome":        "failure",
		"threat.indicator.id":  []any{"abc"},
		"threat.group.id":      "c1",
		"related.hosts":        []any{"fra08"},
		"related.hash":         []any{"u33d", "9q8y"},
		"related.ip":           []any{"81.2.69.144", "81.2.69.142"},
		"network.transport":    "udp",
		"network.community_id": "1:oDFewMLbrctzuJrtwWQieicPiXY=",
		"cloudflare_logpush.network_analytics.gre.ether.type":    2048,
		"cloudflare_logpush.network_analytics.tcp.sack.blocks":   []any{1, 2, 3},
		"cloudflare_logpush.network_analytics.colo.geo_location": "u33d",
		"cloudflare_logpush.network_analytics.outcome":           nil, // duplicate of event.outcome
		"cloudflare_logpush.network_analytics.ip.protocol.name":  nil,
	})
	// A geo_point takes a geohash only ("a" is none: no a, i, l, o).
	doc = normalizeFlat(t, Options{}, "network_analytics", `{"ColoGeoHash":"a","SourceGeoHash":""}`)
	expectFields(t, doc, map[string]any{
		"cloudflare_logpush.network_analytics.colo.geo_hash":     "a",
		"cloudflare_logpush.network_analytics.colo.geo_location": nil,
		"error.message": []any{`ColoGeoHash: cannot convert "a" to geo_point`},
	})
}

func TestNetworkAnalyticsRenamedFields(t *testing.T) {
	for _, c := range []struct{ line, field, want string }{
		{`{"IPTTL":57}`, "ip.ttl.value", "57"},
		{`{"IPTtl":57}`, "ip.ttl.value", "57"},
		{`{"IPTTL":"","IPTtl":57}`, "ip.ttl.value", "57"},
		{`{"IPTTL":57,"IPTtl":57}`, "ip.ttl.value", "57"},
		{`{"IPTTL":57,"IPTtl":64}`, "ip.ttl.value", "[57 64]"},
		{`{"TCPMSS":1460,"TCPMss":"1460"}`, "tcp.mss", "[1460]"},
		{`{"TCPSACKBlocks":7}`, "tcp.sack.blocks", "7"},
		{`{"TCPSackBlocks":7}`, "tcp.sack.blocks", "[7]"},
		{`{"TCPSACKBlocks":"1,1"}`, "tcp.sack.blocks", "[1 1]"},
		{`{"TCPSACKBlocks":"1,2","TCPSackBlocks":[2,3]}`, "tcp.sack.blocks", "[1 2 3]"},
		{`{"TCPSACKBlocks":7,"TCPSackBlocks":8}`, "tcp.sack.blocks", "[7 8]"},
		{`{"TCPSACKBlocks":""}`, "tcp.sack.blocks", "<nil>"},
	} {
		doc := normalizeFlat(t, Options{}, "network_analytics_logs", c.line)
		if got := fmt.Sprint(doc["cloudflare_logpush.network_analytics."+c.field]); got != c.want {
			t.Errorf("%s: %s = %s, want %s", c.line, c.field, got, c.want)
		}
		if doc["error.message"] != nil {
			t.Errorf("%s: error %v", c.line, doc["error.message"])
		}
	}
	doc := normalizeFlat(t, Options{}, "network_analytics_logs", `{"TCPSACKBlocks":"1,x"}`)
	expectFields(t, doc, map[string]any{"event.kind": "pipeline_error", "cloudflare_logpush.network_analytics.tcp.sack.blocks": []any{1}})
}
