package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var ipsecMessages = []struct{ level, msg string }{
	{"info", "IKE_SA_INIT request received"},
	{"info", "CHILD_SA established with SPIs c1a2b3c4_i d5e6f708_o"},
	{"info", "rekeying CHILD_SA"},
	{"warning", "DPD timeout, peer unresponsive"},
	{"error", "no matching IKE proposal found"},
	{"error", "authentication failed: pre-shared key mismatch"},
}

// makeIPsecLog returns an IPsec tunnel log record (every field, unixnano).
func makeIPsecLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 250 * time.Millisecond)
	m := ipsecMessages[rng.IntN(len(ipsecMessages))]
	port := pick(rng, 500, 4500)
	return fmt.Sprintf(`{"Level":"%s","LocalIP":"162.159.66.%d","LocalPort":%d,"Message":"%s","RemoteIP":"%s","RemotePort":%d,"Timestamp":%d}`,
		m.level, 1+rng.IntN(254), port, m.msg, randIPv4(rng), port, t.UnixNano())
}

func TestIPsecLogsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "ipsec",
		`{"Level":"error","LocalIP":"162.159.66.164","LocalPort":500,"Message":"no proposal","RemoteIP":"203.0.113.45","RemotePort":"500","Timestamp":"2024-04-17T12:00:00Z"}`)
	expectFields(t, doc, map[string]any{
		"@timestamp":                        "2024-04-17T12:00:00.000Z",
		"log.level":                         "error",
		"message":                           "no proposal",
		"server.ip":                         "162.159.66.164",
		"server.port":                       500,
		"client.ip":                         "203.0.113.45",
		"client.port":                       500,
		"network.type":                      "ipsec",
		"related.ip":                        []any{"162.159.66.164", "203.0.113.45"},
		"data_stream.dataset":               "cloudflare_logpush.ipsec",
		"cloudflare_logpush.ipsec.local.ip": nil, // duplicates of the ECS fields
		"cloudflare_logpush.ipsec.message":  nil,
	})
	doc = normalizeFlat(t, Options{KeepDuplicateFields: true}, "ipsec_logs", `{"LocalIP":"162.159.66.164","Message":"m"}`)
	expectFields(t, doc, map[string]any{"cloudflare_logpush.ipsec.local.ip": "162.159.66.164", "cloudflare_logpush.ipsec.message": "m"})
}
