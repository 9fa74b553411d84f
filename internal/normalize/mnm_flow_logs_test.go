package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeMNMFlowLog returns a Magic Network Monitoring flow record (every
// field, unixnano).
func makeMNMFlowLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 5 * time.Millisecond)
	proto := pick(rng, 6, 6, 17, 1)
	sp, dp := 1024+rng.IntN(60000), pick(rng, 443, 80, 53, 22)
	if proto == 1 {
		sp, dp = 0, 0
	}
	packets := 1 + rng.IntN(100)
	return fmt.Sprintf(`{"AWSVPCFlowJSON":"","Bits":%d,"DestinationAS":%d,"DestinationAddress":"%s","DestinationPort":%d,"DeviceID":"%016x",`+
		`"EgressBits":0,"EgressPackets":0,"Ethertype":2048,"FlowProtocol":"%s","FlowTimestamp":%d,"NumFlows":1,"PacketID":"","Packets":%d,`+
		`"Protocol":%d,"RuleIDs":"%s","SampleRate":%d,"SampleRateType":"flow","SamplerAddress":"192.0.2.%d","SourceAS":%d,"SourceAddress":"%s",`+
		`"SourcePort":%d,"TcpFlags":%d,"Timestamp":%d}`,
		packets*8*(40+rng.IntN(1400)), pick(rng, 0, 13335, 15169), randIPv4(rng), dp, rng.Uint64(), pick(rng, "NETFLOW_V9", "IPFIX", "SFLOW_5"),
		t.Add(-10*time.Second).UnixNano(), packets, proto, pick(rng, "", "", fmt.Sprintf("%012x", rng.Uint64()&0xffffffffffff)),
		pick(rng, 1, 100, 1000, 1024), 1+rng.IntN(10), pick(rng, 0, 3320, 64500), randIPv4(rng), sp, pick(rng, 0, 2, 16, 24), t.UnixNano())
}

func TestMNMFlowLogsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "mnm_flow",
		`{"Bits":12000,"Packets":10,"Protocol":6,"Ethertype":34525,"SourceAddress":"128.232.110.120","SourcePort":34855,`+
			`"DestinationAddress":"66.35.250.204","DestinationPort":80,"SamplerAddress":"192.0.2.1","RuleIDs":"r1, r2,","FlowTimestamp":1713355190}`)
	expectFields(t, doc, map[string]any{
		"@timestamp":                            "2024-04-17T11:59:50.000Z", // FlowTimestamp when Timestamp is missing
		"network.bytes":                         1500,
		"network.packets":                       10,
		"network.iana_number":                   "6",
		"network.transport":                     "tcp",
		"network.type":                          "ipv6",
		"network.community_id":                  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		"observer.ip":                           "192.0.2.1",
		"rule.id":                               []any{"r1", "r2"},
		"event.type":                            []any{"connection"},
		"related.ip":                            []any{"128.232.110.120", "66.35.250.204", "192.0.2.1"},
		"cloudflare_logpush.mnm_flow.rule_ids":  nil, // duplicate of rule.id
		"cloudflare_logpush.mnm_flow.packets":   10,
		"cloudflare_logpush.mnm_flow.source.ip": nil,
	})
	doc = normalizeFlat(t, Options{KeepDuplicateFields: true}, "mnm_flow_logs", `{"RuleIDs":"a,b","Timestamp":1713355200,"FlowTimestamp":1}`)
	expectFields(t, doc, map[string]any{"cloudflare_logpush.mnm_flow.rule_ids": []any{"a", "b"}, "rule.id": []any{"a", "b"}, "@timestamp": "2024-04-17T12:00:00.000Z"})
}
