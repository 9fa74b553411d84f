package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeMagicBGPLog returns a Magic BGP event (every field, unixnano).
func makeMagicBGPLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	kind, dir, data := "", "", ""
	switch rng.IntN(4) {
	case 0:
		kind, dir, data = "open_message", pick(rng, "to_cloudflare", "from_cloudflare"),
			fmt.Sprintf(`{"peer_asn":%d,"cloudflare_asn":13335,"bgp_id":"%s","hold_time":90,"capabilities":["route_refresh","four_octet_as"]}`, 64512+rng.IntN(1000), randIPv4(rng))
	case 1:
		kind, dir, data = "update_message", "to_cloudflare",
			fmt.Sprintf(`{"announced":["10.%d.0.0/16"],"as_path":[%d],"origin":"igp"}`, rng.IntN(256), 64512+rng.IntN(1000))
	case 2:
		kind, data = "bgp_state_transition", `{"from_state":"OpenConfirm","to_state":"Established","event":"KeepAliveMsg"}`
	default:
		kind, dir, data = "notification_message", "from_cloudflare", `{"code":6,"subcode":2,"reason":"administrative shutdown"}`
	}
	return fmt.Sprintf(`{"Direction":"%s","EventData":%s,"EventKind":"%s","EventTimestamp":%d,"TunnelID":"%016x%016x","TunnelName":"%s"}`,
		dir, data, kind, t.UnixNano(), rng.Uint64(), rng.Uint64(), pick(rng, "ipsec-ams-primary", "gre-fra-backup"))
}

func TestMagicBGPLogsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "magic_bgp",
		`{"Direction":"to_cloudflare","EventData":{"announced":["10.0.0.0/8"],"as_path":[65010],"origin":"igp","empty":""},"EventKind":"update_message",`+
			`"EventTimestamp":1713355200,"TunnelID":"c4a7","TunnelName":"t1"}`)
	expectFields(t, doc, map[string]any{
		"@timestamp":        "2024-04-17T12:00:00.000Z",
		"event.action":      "update_message",
		"network.direction": "ingress",
		"network.protocol":  "bgp",
		"cloudflare_logpush.magic_bgp.event.kind":           "update_message",
		"cloudflare_logpush.magic_bgp.event.data.announced": []any{"10.0.0.0/8"},
		"cloudflare_logpush.magic_bgp.event.data.empty":     nil,
		"cloudflare_logpush.magic_bgp.direction":            "to_cloudflare",
		"cloudflare_logpush.magic_bgp.tunnel.id":            "c4a7",
		"cloudflare_logpush.magic_bgp.event.timestamp":      nil, // duplicate of @timestamp
	})
	doc = normalizeFlat(t, Options{}, "magic_bgp_logs", `{"Direction":"from_cloudflare"}`)
	expectFields(t, doc, map[string]any{"network.direction": "egress"})
	doc = normalizeFlat(t, Options{}, "magic_bgp_logs", `{"Direction":""}`)
	expectFields(t, doc, map[string]any{"network.direction": nil})
}
