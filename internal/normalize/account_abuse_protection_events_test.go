package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makeAccountAbuseProtectionEvent returns a login, signup or account change
// seen by Account Abuse Protection.
func makeAccountAbuseProtectionEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 211 * time.Millisecond)
	return fmt.Sprintf(`{"AuthenticationIdentityProvider":"%s","AuthenticationMethod":"%s","AuthenticationStatus":"%s","BotScore":%d,`+
		`"ClientASN":%d,"ClientCity":"%s","ClientCountry":"%s","ClientIP":"%d.%d.%d.%d","Email":"user%d@example.com","EphemeralID":"x:%016x",`+
		`"EventSource":"%s","EventType":"%s","FraudEmailRisk":"%s","Host":"www.example.com","JA4":"t13d1516h2_8daaf6152771_%012x",`+
		`"RayID":"%016x","Timestamp":%d,"UserAgent":"%s","UserID":"%032x"}`,
		pick(rng, "selfHosted", "google", "github", "unknown"), pick(rng, "password", "sso", "passkey"),
		pick(rng, "success", "success", "failureIncorrectPassword", "failureUserNotFound", "pendingMfa"), 1+rng.IntN(99),
		pick(rng, 7922, 3320, 13335, 16509, 15169), pick(rng, "San Jose", "Berlin", "Paris"), pick(rng, "us", "de", "fr"),
		1+rng.IntN(220), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254), rng.IntN(5000), rng.Uint64(),
		pick(rng, "cdn", "api"), pick(rng, "login", "login", "login", "logout", "signup", "passwordReset", "transaction"),
		pick(rng, "Low", "Medium", "High", "Unknown"), rng.Uint64()&0xffffffffffff, rng.Uint64(), t.UnixNano(),
		benchUAs[rng.IntN(len(benchUAs))], rng.Uint64())
}
