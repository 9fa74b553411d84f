package normalize

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"time"
)

// makeDLPForensicCopy returns a forensic copy of a request or response
// that matched a DLP rule (payloads of a few hundred bytes).
func makeDLPForensicCopy(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	payload := make([]byte, 200+rng.IntN(400))
	for j := range payload {
		payload[j] = byte(32 + rng.IntN(95))
	}
	return fmt.Sprintf(`{"AccountID":"4f8d1c2b3a4e5f60718293a4b5c6d7e8","Datetime":%d,"ForensicCopyID":"%s","GatewayRequestID":"%024x",`+
		`"Headers":{"Content-Type":"%s","Host":"%s","User-Agent":"%s"},"Payload":"%s","Phase":"%s","TriggeredRuleID":"%s"}`,
		t.UnixNano(), randUUID(rng), rng.Uint64(), pick(rng, "application/json", "text/plain", "multipart/form-data"),
		pick(rng, "upload.example.net", "api.example.com"), benchUAs[rng.IntN(len(benchUAs))],
		base64.StdEncoding.EncodeToString(payload), pick(rng, "request", "response"), randUUID(rng))
}
