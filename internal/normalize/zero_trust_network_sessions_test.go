package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeZeroTrustNetworkSession returns a Zero Trust network session record.
func makeZeroTrustNetworkSession(rng *rand.Rand, i int) string {
	start := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 23 * time.Millisecond)
	end := start.Add(time.Duration(rng.IntN(600000)) * time.Millisecond)
	return fmt.Sprintf(`{"AccountID":"5f0c2a7d9e1b4c3a8d6e2f1a0b9c8d7e","BytesReceived":%d,"BytesSent":%d,"ClientTCPHandshakeDurationMs":%d,`+
		`"ClientTLSCipher":"TLS_AES_256_GCM_SHA384","ClientTLSHandshakeDurationMs":%d,"ClientTLSVersion":"%s","ConnectionCloseReason":"%s",`+
		`"ConnectionReuse":false,"DestinationTunnelID":"","DetectedProtocol":"HTTPS","DeviceID":"%s","DeviceName":"laptop-%03d","EgressColoName":"FRA",`+
		`"EgressIP":"2a02:cf40::%x","EgressPort":%d,"EgressRuleID":"","EgressRuleName":"","Email":"user%d@example.org","IngressColoName":"FRA",`+
		`"InitialOriginIP":"","Offramp":"INTERNET","OriginIP":"%s","OriginPort":443,"OriginTLSCertificateIssuer":"DigiCert Inc",`+
		`"OriginTLSCertificateValidationResult":"VALID","OriginTLSCipher":"TLS_AES_128_GCM_SHA256","OriginTLSHandshakeDurationMs":%d,"OriginTLSVersion":"TLSv1.3",`+
		`"Protocol":"%s","RegistrationID":"%s","ResolvedFQDN":"%s","RuleEvaluationDurationMs":%d,"SNI":"%s","SessionEndTime":%d,"SessionID":"%016x%016x",`+
		`"SessionStartTime":%d,"SourceIP":"%s","SourceInternalIP":"100.96.%d.%d","SourcePort":%d,"UserID":"%s","VirtualNetworkID":"%s"}`,
		rng.IntN(1<<24), rng.IntN(1<<20), rng.IntN(50), rng.IntN(200), pick(rng, "TLS 1.3", "TLS 1.2", "none"),
		pick(rng, "CLIENT_CLOSED", "ORIGIN_CLOSED", "CLIENT_IDLE_TIMEOUT"), randUUID(rng), rng.IntN(500), rng.IntN(0xffff), 1024+rng.IntN(60000),
		rng.IntN(500), randIPv4(rng), rng.IntN(200), pick(rng, "TCP", "TCP", "UDP"), randUUID(rng), pick(rng, "github.com", "", "slack.com"),
		rng.IntN(20), pick(rng, "github.com", "", "slack.com"), end.UnixNano(), rng.Uint64(), rng.Uint64(), start.UnixNano(), randIPv4(rng),
		rng.IntN(256), 1+rng.IntN(254), 1024+rng.IntN(60000), randUUID(rng), randUUID(rng))
}

func TestZeroTrustNetworkSessionsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "network_session",
		`{"SessionStartTime":1718023412345678901,"SessionEndTime":"2024-06-10T12:43:35.845999Z","ClientTLSVersion":"TLSv1.2","ClientTLSCipher":"C",`+
			`"SNI":"github.com","ResolvedFQDN":"api.github.com","InitialOriginIP":"192.0.2.9","SourceInternalIP":"100.96.0.1","DeviceID":"d"}`)
	expectFields(t, doc, map[string]any{
		"@timestamp":             "2024-06-10T12:43:32.345Z",
		"event.start":            "2024-06-10T12:43:32.345Z",
		"event.end":              "2024-06-10T12:43:35.845Z",
		"event.duration":         "3500000000",
		"tls.version_protocol":   "tls",
		"tls.version":            "1.2",
		"tls.cipher":             "C",
		"tls.client.server_name": "github.com",
		"device.id":              "d",
		"related.hosts":          []any{"d", "github.com", "api.github.com"},
		"related.ip":             []any{"192.0.2.9"}, // not SourceInternalIP (as the fixtures' pipeline)
		"cloudflare_logpush.network_session.timestamp":     nil,
		"cloudflare_logpush.network_session.session.start": nil,
		"cloudflare_logpush.network_session.sni":           nil,
	})
	doc = normalizeFlat(t, Options{KeepDuplicateFields: true}, "network_session", `{"SessionStartTime":"1718023500","ClientTLSVersion":"none"}`)
	expectFields(t, doc, map[string]any{
		"cloudflare_logpush.network_session.timestamp":     "2024-06-10T12:45:00.000Z",
		"cloudflare_logpush.network_session.session.start": "2024-06-10T12:45:00.000Z",
		"event.duration": nil,
		"tls.version":    nil,
	})
}
