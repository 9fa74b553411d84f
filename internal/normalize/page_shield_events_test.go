package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makePageShieldEvent returns a Page Shield policy violation report
// (timestamps as rfc3339).
func makePageShieldEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 4100 * time.Millisecond)
	host := pick(rng, "www.example.com", "shop.example.net", "blog.example.org")
	rtype := pick(rng, "script", "script", "connection", "other")
	res := map[string][]string{
		"script":     {"cdn.thirdparty.example", "static.analytics.example", "js.tags.example"},
		"connection": {"api.collector.example", "events.metrics.example"},
		"other":      {"fonts.example-cdn.net", "img.example-cdn.net"},
	}[rtype]
	urlHost := pick(rng, res...)
	dir := map[string]string{"script": "script-src", "connection": "connect-src", "other": "img-src"}[rtype]
	return fmt.Sprintf(`{"Action":"%s","CSPDirective":"%s","Host":"%s","PageURL":"https://%s%s","PolicyID":"%016x%016x",`+
		`"ResourceType":"%s","Timestamp":"%s","URL":"https://%s/%s?v=%d","URLContainsCDNCGIPath":%t,"URLHost":"%s"}`,
		pick(rng, "log", "log", "allow"), dir, host, host, pick(rng, "/", "/checkout", "/account/login", "/blog/2024/hello"),
		rng.Uint64(), rng.Uint64(), rtype, t.Format(time.RFC3339), urlHost, pick(rng, "tag.js", "collect", "v2/bundle.min.js", "a.woff2"),
		rng.IntN(1000), rng.IntN(20) == 0, urlHost)
}
