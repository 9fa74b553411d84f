package normalize

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchUAs is a realistic mix of user agents (browsers, mobile, bots, tools).
var benchUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"curl/8.5.0",
	"python-requests/2.31.0",
	"Go-http-client/2.0",
	"okhttp/4.12.0",
	"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
	"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
	"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36",
}

var benchPaths = []string{"/", "/api/v1/items", "/static/app.9f8e7d.js", "/images/hero.webp", "/login", "/cart/checkout", "/favicon.ico", "/search", "/blog/2024/04/hello-world", "/wp-login.php"}

// makeHTTPRequest returns a realistic http_requests record (the field set of
// a Logpush job with most fields, timestamps in the API default unixnano).
func makeHTTPRequest(rng *rand.Rand, i int) string {
	ua := benchUAs[rng.IntN(len(benchUAs))]
	path := benchPaths[rng.IntN(len(benchPaths))]
	query := ""
	if rng.IntN(3) == 0 {
		query = fmt.Sprintf("?q=item%d&page=%d", rng.IntN(1000), rng.IntN(9)+1)
	}
	start := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Millisecond)
	ip := fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(220), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	status := []int{200, 200, 200, 200, 304, 301, 404, 403, 500}[rng.IntN(9)]
	country := []string{"us", "de", "fr", "gb", "jp", "br", "in", "nl"}[rng.IntN(8)]
	return fmt.Sprintf(`{"BotScore":%d,"BotScoreSrc":"Machine Learning","CacheCacheStatus":"%s",`+
		`"CacheResponseBytes":%d,"CacheResponseStatus":%d,"ClientASN":%d,"ClientCountry":"%s",`+
		`"ClientDeviceType":"desktop","ClientIP":"%s","ClientIPClass":"noRecord","ClientRequestBytes":%d,`+
		`"ClientRequestHost":"www.example.com","ClientRequestMethod":"GET","ClientRequestPath":"%s",`+
		`"ClientRequestProtocol":"HTTP/2","ClientRequestReferer":"https://www.example.com/",`+
		`"ClientRequestScheme":"https","ClientRequestSource":"eyeball","ClientRequestURI":"%s%s",`+
		`"ClientRequestUserAgent":"%s","ClientSSLCipher":"AEAD-AES128-GCM-SHA256","ClientSSLProtocol":"TLSv1.3",`+
		`"ClientSrcPort":%d,"ClientTCPRTTMs":%d,"EdgeColoCode":"SJC","EdgeEndTimestamp":%d,"EdgePathingOp":"wl",`+
		`"EdgePathingSrc":"macro","EdgePathingStatus":"nr","EdgeResponseBodyBytes":%d,"EdgeResponseBytes":%d,`+
		`"EdgeResponseCompressionRatio":%.2f,"EdgeResponseContentType":"text/html","EdgeResponseStatus":%d,`+
		`"EdgeServerIP":"","EdgeStartTimestamp":%d,"EdgeTimeToFirstByteMs":%d,"JA3Hash":"%016x%016x",`+
		`"OriginIP":"203.0.113.%d","OriginResponseDurationMs":%d,"OriginResponseStatus":%d,`+
		`"OriginResponseTime":%d,"ParentRayID":"00","RayID":"%016x","SecurityAction":"","SecurityRuleIDs":[],`+
		`"WAFAttackScore":%d,"WorkerSubrequest":false,"ZoneName":"example.com"}`,
		1+rng.IntN(99), []string{"hit", "miss", "dynamic", "expired"}[rng.IntN(4)], rng.IntN(200000), status,
		[]int{7922, 3320, 13335, 16509, 15169}[rng.IntN(5)], country, ip,
		200+rng.IntN(3000), path, path, query, ua, 1024+rng.IntN(60000), rng.IntN(200),
		start.Add(time.Duration(rng.IntN(900))*time.Millisecond).UnixNano(), rng.IntN(200000),
		rng.IntN(200000), 1+rng.Float64()*3, status, start.UnixNano(), rng.IntN(900),
		rng.Uint64(), rng.Uint64(), 1+rng.IntN(250), rng.IntN(800), status,
		rng.Int64N(900_000_000), rng.Uint64(), 1+rng.IntN(99))
}

func makeFirewallEvent(rng *rand.Rand, i int) string {
	ua := benchUAs[rng.IntN(len(benchUAs))]
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return fmt.Sprintf(`{"Action":"%s","ClientASN":%d,"ClientASNDescription":"EXAMPLE-AS","ClientCountry":"de",`+
		`"ClientIP":"198.51.100.%d","ClientIPClass":"noRecord","ClientRefererHost":"www.example.com",`+
		`"ClientRefererPath":"/","ClientRefererQuery":"","ClientRefererScheme":"https","ClientRequestHost":"www.example.com",`+
		`"ClientRequestMethod":"POST","ClientRequestPath":"/login","ClientRequestProtocol":"HTTP/1.1",`+
		`"ClientRequestQuery":"?next=%%2Faccount","ClientRequestScheme":"https","ClientRequestUserAgent":"%s",`+
		`"Datetime":"%s","Description":"Block login brute force","EdgeColoCode":"FRA","EdgeResponseStatus":403,`+
		`"Kind":"firewall","MatchIndex":0,"Metadata":{"ruleset_version":"12"},"OriginResponseStatus":0,`+
		`"OriginatorRayID":"00","RayID":"%016x","Ref":"","RuleID":"%032x","Source":"firewallCustom"}`,
		[]string{"block", "managed_challenge", "log", "skip"}[rng.IntN(4)], 3320+rng.IntN(10), 1+rng.IntN(250), ua,
		t.Format(time.RFC3339), rng.Uint64(), rng.Uint64())
}

func makeAuditLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	return fmt.Sprintf(`{"ActionResult":%t,"ActionType":"%s","ActorEmail":"ops%d@example.com","ActorID":"%032x",`+
		`"ActorIP":"192.0.2.%d","ActorType":"user","ID":"%08x-1111-4222-8333-%012x","Interface":"API",`+
		`"Metadata":{"zone_name":"example.com"},"NewValue":{"value":"on"},"OldValue":{"value":"off"},`+
		`"OwnerID":"%032x","ResourceID":"%032x","ResourceType":"zone","When":%d}`,
		rng.IntN(5) != 0, []string{"update", "login", "token_create", "delete"}[rng.IntN(4)], rng.IntN(9),
		rng.Uint64(), 1+rng.IntN(250), rng.Uint32(), rng.Uint64()&0xffffffffffff, rng.Uint64(), rng.Uint64(), t.UnixNano())
}

// BenchmarkNormalize measures every registered dataset: on 4096 generated
// records (recordGenerators: realistic field sets and user agents) where it
// has a generator, else (the API datasets) on the records of its
// testdata/<dataset>/input.ndjson that normalize to a document. It reports
// records/s (wall) and records/cpu-s (whole process, GC included).
//
//	go test ./internal/normalize -run - -bench 'Normalize$' -benchtime 2s
//	scripts/bench-normalize.sh     # the same as a table
func BenchmarkNormalize(b *testing.B) {
	for _, ds := range Datasets() {
		var recs [][]byte
		if gen, ok := recordGenerators[ds]; ok {
			rng := rand.New(rand.NewPCG(1, 2))
			recs = make([][]byte, 4096)
			for i := range recs {
				recs[i] = []byte(gen(rng, i))
			}
		} else if recs = benchInputs(b, ds); len(recs) == 0 {
			continue // no testdata/<dataset>/input.ndjson
		}
		b.Run(ds, func(b *testing.B) { benchNormalize(b, ds, recs) })
	}
}

// benchInputs returns the lines of testdata/<dataset>/input.ndjson that
// normalize to a document.
func benchInputs(b *testing.B, dataset string) [][]byte {
	in, err := os.ReadFile(filepath.Join("testdata", dataset, "input.ndjson"))
	if err != nil {
		return nil
	}
	env, err := NewEnv(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close()
	n := env.NewNormalizer()
	var recs [][]byte
	for _, line := range bytes.Split(in, []byte("\n")) {
		if _, meta, err := n.Normalize(dataset, line, nil); err == nil && !meta.Drop {
			recs = append(recs, line)
		}
	}
	return recs
}

func benchNormalize(b *testing.B, dataset string, recs [][]byte) {
	env, err := NewEnv(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close()
	n := env.NewNormalizer()
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	var dst []byte
	for _, r := range recs { // warm the user agent cache
		if dst, _, err = n.Normalize(dataset, r, dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst, _, _ = n.Normalize(dataset, recs[i%len(recs)], dst[:0])
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	// CPU time of the whole process (GC included): the cost per record
	// even when the machine is shared with other work.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkNormalizeParallel runs one Normalizer per goroutine on a shared
// Env (shared user agent LRU), as the pipeline does.
func BenchmarkNormalizeParallel(b *testing.B) {
	env, err := NewEnv(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([][]byte, 4096)
	for i := range recs {
		recs[i] = []byte(makeHTTPRequest(rng, i))
	}
	warm := env.NewNormalizer()
	for _, r := range recs {
		warm.Normalize("http_requests", r, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n := env.NewNormalizer()
		var dst []byte
		i := rand.IntN(len(recs))
		for pb.Next() {
			dst, _, _ = n.Normalize("http_requests", recs[i%len(recs)], dst[:0])
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestBenchRecordSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	for i := 0; i < 100; i++ {
		total += len(makeHTTPRequest(rng, i))
	}
	if avg := total / 100; avg < 1300 || avg > 1900 {
		t.Errorf("average http_requests benchmark record is %d bytes, want about 1.5 KB", avg)
	}
	if !strings.Contains(makeHTTPRequest(rng, 0), "RayID") {
		t.Fatal("generator broken")
	}
}
