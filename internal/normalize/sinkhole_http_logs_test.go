package normalize

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// makeSinkholeHTTPLog returns a sinkhole HTTP record (every field, unixnano).
func makeSinkholeHTTPLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 29 * time.Millisecond)
	host := pick(rng, "login.example-bank.test", "cdn.malware-c2.test", "update.bad-domain.test", "api.phish.test")
	path := benchPaths[rng.IntN(len(benchPaths))]
	ua := benchUAs[rng.IntN(len(benchUAs))]
	method, body, user, pw := "GET", "", "", ""
	if rng.IntN(3) == 0 {
		method, body, user, pw = "POST", fmt.Sprintf(`user=u%d&pass=p%d`, rng.IntN(1000), rng.IntN(1000)), fmt.Sprintf("u%d", rng.IntN(1000)), "secret"
	}
	headers := strings.Join([]string{"Host: " + host, "User-Agent: " + ua, "Accept: */*", "Connection: keep-alive"}, `\n`)
	return fmt.Sprintf(`{"AccountID":"023e105f4ecef8ad9ca31a8372d0c353","Body":"%s","BodyLength":%d,"DestAddr":"%s","Headers":"%s",`+
		`"Host":"%s","Method":"%s","Password":"%s","R2Path":"","Referrer":"%s","SinkholeID":"%016x","SrcAddr":"%s","Timestamp":%d,`+
		`"URI":"%s","URL":"http://%s%s","UserAgent":"%s","Username":"%s"}`,
		body, len(body), randIPv4(rng), headers, host, method, pw, pick(rng, "", "https://www.example.com/"), rng.Uint64(), randIPv4(rng),
		t.UnixNano(), path, host, path, ua, user)
}

func TestSinkholeHTTPFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "sinkhole_http",
		`{"Headers":"Host: a.test\nAccept: */*\n\nX: y\n","URL":"https://a.test:8443/p/x.php?q=1","URI":"/p/x.php?q=1","Host":"a.test",`+
			`"Username":"bob","UserAgent":"curl/8.5.0","DestAddr":"192.0.2.1","SrcAddr":"198.51.100.7","BodyLength":"12"}`)
	expectFields(t, doc, map[string]any{
		"cloudflare_logpush.sinkhole_http.request.headers": []any{"Host: a.test", "Accept: */*", "X: y"},
		"url.domain":              "a.test",
		"url.port":                8443,
		"url.extension":           "php",
		"url.query":               "q=1",
		"user_agent.original":     "curl/8.5.0",
		"user_agent.name":         "curl",
		"http.request.body.bytes": 12,
		"related.hosts":           []any{"a.test"},
		"related.user":            []any{"bob"},
		"related.ip":              []any{"192.0.2.1", "198.51.100.7"},
		"cloudflare_logpush.sinkhole_http.request.url": nil, // duplicates
		"cloudflare_logpush.sinkhole_http.request.uri": nil,
		"cloudflare_logpush.sinkhole_http.user_agent":  nil,
	})
	doc = normalizeFlat(t, Options{KeepDuplicateFields: true}, "sinkhole_http_logs", `{"URL":"https://a.test/","URI":"/"}`)
	expectFields(t, doc, map[string]any{"cloudflare_logpush.sinkhole_http.request.url": "https://a.test/", "cloudflare_logpush.sinkhole_http.request.uri": "/"})
}
