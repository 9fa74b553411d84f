package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

var websocketCloseReasons = []string{"none", "peerNoError", "peerNoError", "timedOut", "peerReset", "upstreamReset", "unspecifiedError", "protocolViolation"}

// makeWebsocketAnalytics returns a closed WebSocket connection, in the
// zone dataset's spelling (and one in four in the account dataset's).
func makeWebsocketAnalytics(rng *rand.Rand, i int) string {
	start := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 211 * time.Millisecond)
	end := start.Add(time.Duration(rng.IntN(3600_000)) * time.Millisecond)
	host := pick(rng, "chat.example.com", "live.example.net", "ws.example.org")
	path := pick(rng, "/socket", "/ws/v2", "/graphql", "/live/updates")
	ua := benchUAs[rng.IntN(len(benchUAs))]
	reason := websocketCloseReasons[rng.IntN(len(websocketCloseReasons))]
	src := pick(rng, "upstream", "downstream", "me")
	if i%4 == 3 {
		return fmt.Sprintf(`{"accountId":%d,"byteRecvDownlink":%d,"byteRecvUplink":%d,"byteSentDownlink":%d,"byteSentUplink":%d,`+
			`"clientASN":%d,"clientIP":"%s","clientRequestHTTPHost":"%s","clientRequestPath":"%s","clientRequestUserAgent":"%s",`+
			`"coloCode":"%s","connectionCloseReason":"%s","connectionCloseSource":"%s","connectionId":"%016x%016x","rayId":"%016x",`+
			`"timestampEndNanos":%d,"timestampStartNanos":%d,"transportCloseCode":%d,"zoneId":%d}`,
			1000+rng.IntN(9000), rng.IntN(1e7), rng.IntN(1e6), rng.IntN(1e7), rng.IntN(1e6), pick(rng, 7922, 3320, 13335),
			randIP(rng), host, path, ua, pick(rng, "SJC", "FRA", "AMS"), reason, src, rng.Uint64(), rng.Uint64(), rng.Uint64(),
			end.UnixNano(), start.UnixNano(), pick(rng, 0, 0, 256, 32768), 100000+rng.IntN(900000))
	}
	return fmt.Sprintf(`{"BytesReceivedClient":%d,"BytesReceivedOrigin":%d,"BytesSentClient":%d,"BytesSentOrigin":%d,"ClientASN":%d,`+
		`"ClientIP":"%s","ClientRequestHost":"%s","ClientRequestPath":"%s","ClientRequestUserAgent":"%s","ColoCode":"%s",`+
		`"ConnectionCloseReason":"%s","ConnectionCloseSource":"%s","ConnectionID":"%016x%016x","ConnectionTransportCloseCode":%d,`+
		`"EdgeEndTimestamp":%d,"EdgeStartTimestamp":%d,"RayID":"%016x"}`,
		rng.IntN(1e6), rng.IntN(1e7), rng.IntN(1e7), rng.IntN(1e6), pick(rng, 7922, 3320, 13335, 16509), randIP(rng), host, path,
		ua, pick(rng, "SJC", "FRA", "AMS", "NRT"), reason, src, rng.Uint64(), rng.Uint64(), pick(rng, 0, 0, 256, 32768),
		end.UnixNano(), start.UnixNano(), rng.Uint64())
}
