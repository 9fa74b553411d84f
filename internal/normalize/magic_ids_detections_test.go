package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var idsSignatures = []struct {
	id  int
	msg string
}{
	{2031296, "ET CURRENT_EVENTS [Fireeye] POSSIBLE HackTool.TCP.Rubeus.[User32LogonProcesss]"},
	{2022699, "ET EXPLOIT Quanta LTE Router UDP Backdoor Activation Attempt"},
	{2001219, "ET SCAN Potential SSH Scan"},
	{2024897, "ET USER_AGENTS Go HTTP Client User-Agent"},
}

// makeMagicIDSDetection returns a Magic IDS detection (every field, unixnano).
func makeMagicIDSDetection(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	sig := idsSignatures[rng.IntN(len(idsSignatures))]
	return fmt.Sprintf(`{"Action":"%s","ColoCity":"%s","ColoCode":"%s","DestinationIP":"%s","DestinationPort":%d,"Protocol":"%s",`+
		`"SignatureID":%d,"SignatureMessage":"%s","SignatureRevision":%d,"SourceIP":"%s","SourcePort":%d,"Timestamp":%d}`,
		pick(rng, "pass", "block"), pick(rng, "Tokyo", "Frankfurt"), pick(rng, "NRT", "FRA"), randIPv4(rng), pick(rng, 80, 443, 3389, 53),
		pick(rng, "tcp", "udp"), sig.id, sig.msg, 1+rng.IntN(5), randIPv4(rng), 1024+rng.IntN(60000), t.UnixNano())
}

func TestMagicIDSFields(t *testing.T) {
	for action, types := range map[string]any{"pass": []any{"info", "allowed"}, "block": []any{"info", "denied"}, "Block": []any{"info"}} {
		doc := normalizeFlat(t, Options{}, "magic_ids", `{"Action":"`+action+`","Protocol":"udp","SourceIP":"67.43.156.2","DestinationIP":"89.160.20.129"}`)
		expectFields(t, doc, map[string]any{
			"event.type":                          types,
			"event.action":                        action,
			"event.category":                      []any{"network", "intrusion_detection"},
			"network.transport":                   "udp",
			"related.ip":                          []any{"89.160.20.129", "67.43.156.2"},
			"cloudflare_logpush.magic_ids.action": nil,
		})
	}
}
