package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeGatewayNetwork returns a Gateway Network record.
func makeGatewayNetwork(rng *rand.Rand, i int) string {
	t := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 11 * time.Millisecond)
	return fmt.Sprintf(`{"AccountID":"5f0c2a7d9e1b4c3a8d6e2f1a0b9c8d7e","Action":"%s","ApplicationIDs":[],"ApplicationNames":[],"CategoryIDs":[],"CategoryNames":[],`+
		`"Datetime":%d,"DestinationIP":"%s","DestinationIPContinentCode":"EU","DestinationIPCountryCode":"DE","DestinationPort":%d,"DetectedProtocol":"%s",`+
		`"DeviceID":"%s","DeviceName":"laptop-%03d","Email":"user%d@example.org","OverrideIP":"","OverridePort":0,"PolicyID":"","PolicyName":"","ProxyEndpoint":"",`+
		`"SNI":"%s","SessionID":"%016x%016x","SourceIP":"%s","SourceIPContinentCode":"EU","SourceIPCountryCode":"DE","SourceInternalIP":"100.96.%d.%d",`+
		`"SourcePort":%d,"Transport":"%s","TransportProtocol":"%s","UserID":"%s","VirtualNetworkID":"%s","VirtualNetworkName":"default"}`,
		pick(rng, "allowedOnNoRuleMatch", "allowedOnNoRuleMatch", "block", "override"), t.UnixNano(), randIPv4(rng), pick(rng, 443, 443, 80, 22, 3389),
		pick(rng, "TLS", "HTTP", "SSH", ""), randUUID(rng), rng.IntN(500), rng.IntN(500), pick(rng, "github.com", "", "slack.com"),
		rng.Uint64(), rng.Uint64(), randIPv4(rng), rng.IntN(256), 1+rng.IntN(254), 1024+rng.IntN(60000), pick(rng, "tcp", "udp", "quic"),
		pick(rng, "tcp", "udp", "quic"), randUUID(rng), randUUID(rng))
}

func TestGatewayNetworkFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "gateway_network",
		`{"SNI":"github.com","SessionID":"s1","TransportProtocol":"udp","Transport":"tcp","OverrideIP":"192.0.2.1","DeviceID":"d","SourceInternalIP":"100.96.0.1"}`)
	expectFields(t, doc, map[string]any{
		"tls.client.server_name":                 "github.com",
		"destination.domain":                     "github.com",
		"event.id":                               "s1",
		"network.transport":                      "udp",
		"device.id":                              "d",
		"related.hosts":                          []any{"d", "github.com"},
		"related.ip":                             []any{"192.0.2.1", "100.96.0.1"},
		"cloudflare_logpush.gateway_network.sni": nil,
		"cloudflare_logpush.gateway_network.transport": nil,
	})
	doc = normalizeFlat(t, Options{KeepDuplicateFields: true}, "gateway_network", `{"Transport":"tcp"}`)
	expectFields(t, doc, map[string]any{"network.transport": "tcp", "cloudflare_logpush.gateway_network.transport": "tcp"})
}
