package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makeZarazEvent returns a Zaraz event (client requests to the Zaraz
// endpoint, triggered actions and server-side requests).
func makeZarazEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 59 * time.Millisecond)
	host := pick(rng, "www.example.com", "shop.example.net")
	ua := benchUAs[rng.IntN(len(benchUAs))]
	typ := pick(rng, "client_request", "client_request", "action_triggered", "ecommerce_triggered", "server_request", "server_response", "component_error")
	var details string
	switch typ {
	case "action_triggered":
		details = fmt.Sprintf(`{"actionName":"%s","component":"%s","trigger":"Pageview"}`, pick(rng, "Pageview", "Track"), pick(rng, "google-analytics", "facebook-pixel"))
	case "ecommerce_triggered":
		details = fmt.Sprintf(`{"event":"Order Completed","order_id":"%d","total":%d.%02d,"currency":"USD"}`, rng.IntN(1e6), rng.IntN(500), rng.IntN(100))
	case "server_request", "server_response":
		details = fmt.Sprintf(`{"url":"https://www.google-analytics.example/g/collect?v=2&tid=G-%s","method":"POST","status":%d}`, randAlnum(rng, 8), pick(rng, 200, 204))
	case "component_error":
		details = `{"component":"facebook-pixel","error":"fetch failed: timeout"}`
	default:
		details = `{}`
	}
	return fmt.Sprintf(`{"Body":{"page":{"title":"%s","url":"https://%s%s","referrer":""},"events":[{"name":"%s"}]},"EventDetails":%s,`+
		`"EventType":"%s","IP":"%s","RequestHeaders":{"accept":"*/*","content-type":"application/json","referer":"https://%s/","user-agent":"%s"},`+
		`"TimestampStart":"%s","URL":"https://%s/cdn-cgi/zaraz/t?x=%d"}`,
		pick(rng, "Home", "Checkout", "Blog"), host, pick(rng, "/", "/checkout", "/blog/hello"), pick(rng, "Pageview", "click"),
		details, typ, randIP(rng), host, ua, t.Format(time.RFC3339Nano), host, rng.IntN(1e6))
}
