package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

var turnstileEventTypes = []string{"challenge_issued", "challenge_issued", "challenge_non_interactive_solved", "challenge_interactive_solved",
	"challenge_non_interactive_siteverify_solved", "challenge_siteverify_failed_invalid_token", "challenge_siteverify_ratelimited"}

// makeTurnstileEvent returns a Turnstile widget event.
func makeTurnstileEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 97 * time.Millisecond)
	return fmt.Sprintf(`{"ASN":%d,"Action":"%s","BrowserMajor":%d,"BrowserName":"%s","ClientIP":"%d.%d.%d.%d","CountryCode":"%s",`+
		`"EventType":"%s","Hostname":"%s","OSMajor":%d,"OSName":"%s","Sitekey":"0x4AAAAAAA%06X","Timestamp":%d,"UserAgent":"%s"}`,
		pick(rng, 7922, 3320, 13335, 16509, 15169), pick(rng, "login", "signup", "checkout", ""), 100+rng.IntN(25),
		pick(rng, "Chrome", "Safari", "Firefox", "Edge"), 1+rng.IntN(220), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254),
		pick(rng, "US", "DE", "FR", "GB", "JP"), turnstileEventTypes[rng.IntN(len(turnstileEventTypes))],
		pick(rng, "www.example.com", "shop.example.net"), 10+rng.IntN(8), pick(rng, "Windows", "Mac OS X", "Android", "iOS"),
		rng.IntN(0xffffff), t.UnixNano(), benchUAs[rng.IntN(len(benchUAs))])
}
