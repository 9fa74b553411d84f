package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeSpectrumEvent returns a Spectrum connect or disconnect event (every
// field, unixnano; a connect event has DisconnectTimestamp 0).
func makeSpectrumEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 17 * time.Millisecond)
	event, disconnect, cb, ob := "connect", int64(0), 0, 0
	if rng.IntN(2) == 0 {
		event, disconnect, cb, ob = "disconnect", t.Add(time.Duration(rng.IntN(600))*time.Second).UnixNano(), rng.IntN(1<<20), rng.IntN(1<<24)
	}
	return fmt.Sprintf(`{"Application":"%016x%016x","ClientAsn":%d,"ClientBytes":%d,"ClientCountry":"%s","ClientIP":"%s",`+
		`"ClientMatchedIpFirewall":"%s","ClientPort":%d,"ClientProto":"%s","ClientTcpRtt":%d,"ClientTlsCipher":"%s",`+
		`"ClientTlsClientHelloServerName":"%s","ClientTlsProtocol":"%s","ClientTlsStatus":"%s","ColoCode":"%s","ConnectTimestamp":%d,`+
		`"DisconnectTimestamp":%d,"Event":"%s","IpFirewall":%t,"OriginBytes":%d,"OriginIP":"%s","OriginPort":%d,"OriginProto":"tcp",`+
		`"OriginTcpRtt":%d,"OriginTlsCipher":"UNK","OriginTlsFingerprint":"","OriginTlsMode":"off","OriginTlsProtocol":"none",`+
		`"OriginTlsStatus":"UNKNOWN","ProxyProtocol":"%s","Status":%d,"Timestamp":%d}`,
		rng.Uint64(), rng.Uint64(), pick(rng, 3320, 7922, 15169, 13335), cb, pick(rng, "de", "us", "bg", "jp"), randIPv4(rng),
		pick(rng, "UNKNOWN", "ALLOW"), 1024+rng.IntN(60000), pick(rng, "tcp", "tcp", "udp"), rng.IntN(50_000_000),
		pick(rng, "UNK", "ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384"), pick(rng, "", "ssh.example.com", "game.example.net"),
		pick(rng, "TLSv1.3", "TLSv1.2", "none", "unknown"), pick(rng, "OK", "UNKNOWN"), pick(rng, "FRA", "SOF", "IAD"),
		t.UnixNano(), disconnect, event, rng.IntN(2) == 0, ob, randIPv4(rng), pick(rng, 22, 3389, 25565, 27015), rng.IntN(10_000_000),
		pick(rng, "off", "v1", "v2", "simple"), pick(rng, 0, 200, 1000), t.UnixNano())
}

func TestSpectrumEventTimes(t *testing.T) {
	for _, c := range []struct {
		connect, disconnect string
		start, end          any
	}{
		{`"2022-05-26T09:24:00Z"`, `"1970-01-01T00:00:00Z"`, "2022-05-26T09:24:00.000Z", "1970-01-01T00:00:00.000Z"},
		{`"1653557040"`, `"0"`, "2022-05-26T09:24:00.000Z", nil},
		{`1653557040000000000`, `0`, "2022-05-26T09:24:00.000Z", nil},
		{`"0"`, `""`, nil, nil},
		{`0`, `0.0`, nil, nil},
	} {
		doc := normalizeFlat(t, Options{}, "spectrum_events", `{"ConnectTimestamp":`+c.connect+`,"DisconnectTimestamp":`+c.disconnect+`,"Timestamp":1653557040}`)
		expectFields(t, doc, map[string]any{
			"event.start": c.start, "cloudflare_logpush.spectrum_event.connect.time": c.start,
			"event.end": c.end, "cloudflare_logpush.spectrum_event.disconnect.time": c.end,
			"error.message": nil,
		})
	}
}

func TestSpectrumEventFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "spectrum_event",
		`{"Event":"tlsError","ClientIP":"67.43.156.0","ClientPort":40456,"ClientProto":"TCP","OriginIP":"175.16.199.0","OriginPort":3389,`+
			`"ClientTlsProtocol":"TLSv1.2","Application":"app1","Status":0,"ClientBytes":0}`)
	expectFields(t, doc, map[string]any{
		"event.action": "tlserror",
		"cloudflare_logpush.spectrum_event.action":    "tlsError",
		"network.transport":                           "tcp",
		"network.community_id":                        "1:X7lywUVKlduqRq5SyCRaBj4hLP0=",
		"tls.version_protocol":                        "tls",
		"tls.version":                                 "1.2",
		"event.id":                                    "app1",
		"http.response.status_code":                   0,
		"source.bytes":                                0,
		"related.ip":                                  []any{"67.43.156.0", "175.16.199.0"},
		"cloudflare_logpush.spectrum_event.client.ip": nil,
	})
	// No TLS split for "unknown" / "none"; no community id without a port-carrying protocol name.
	doc = normalizeFlat(t, Options{}, "spectrum_events", `{"ClientTlsProtocol":"unknown","ClientIP":"67.43.156.0","OriginIP":"175.16.199.0","ClientProto":"unix"}`)
	expectFields(t, doc, map[string]any{"tls.version": nil, "tls.version_protocol": nil, "network.community_id": nil})
}
