package logpush

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// benchRecords makes n http_requests-like NDJSON records of about 1.5 KB
// with varying values, so that they compress like real logs (not like one
// line repeated).
func benchRecords(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	uas := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		"curl/8.5.0",
	}
	paths := []string{"/", "/api/v1/orders", "/static/app.js", "/login", "/xyz/checkout", "/images/logo.png"}
	countries := []string{"us", "de", "fr", "sa", "jp", "br", "in"}
	var b bytes.Buffer
	ts := int64(1717171717000000000)
	for i := 0; i < n; i++ {
		ts += rng.Int64N(5e7)
		path := paths[rng.IntN(len(paths))]
		fmt.Fprintf(&b, `{"BotScore":%d,"BotScoreSrc":"Machine Learning","CacheCacheStatus":"%s","CacheResponseBytes":%d,"CacheResponseStatus":%d,`+
			`"ClientASN":%d,"ClientCountry":"%s","ClientIP":"%d.%d.%d.%d","ClientRequestBytes":%d,`+
			`"ClientRequestHost":"www.example.com","ClientRequestMethod":"%s","ClientRequestPath":"%s","ClientRequestProtocol":"HTTP/2","ClientRequestReferer":"https://www.example.com/?q=%x",`+
			`"ClientRequestScheme":"https","ClientRequestSource":"eyeball","ClientRequestURI":"%s?id=%d&session=%x","ClientRequestUserAgent":"%s",`+
			`"ClientSSLProtocol":"TLSv1.3","ClientSrcPort":%d,"ClientTCPRTTMs":%d,"EdgeColoCode":"FRA","EdgeColoID":%d,"EdgeEndTimestamp":%d,`+
			`"EdgeRequestHost":"www.example.com",`+
			`"EdgeResponseBodyBytes":%d,"EdgeResponseBytes":%d,"EdgeResponseCompressionRatio":%d.%02d,"EdgeResponseContentType":"text/html","EdgeResponseStatus":%d,`+
			`"EdgeServerIP":"10.%d.%d.%d","EdgeStartTimestamp":%d,"EdgeTimeToFirstByteMs":%d,`+
			`"OriginDNSResponseTimeMs":%d,"OriginIP":"192.0.2.%d","OriginRequestHeaderSendDurationMs":%d,"OriginResponseDurationMs":%d,`+
			`"OriginResponseHeaderReceiveDurationMs":%d,"OriginResponseStatus":%d,"OriginResponseTime":%d,`+
			`"OriginTCPHandshakeDurationMs":%d,"OriginTLSHandshakeDurationMs":%d,"RayID":"%016x",`+
			`"ZoneID":%d,"ZoneName":"example.com"}`+"\n",
			rng.IntN(100), []string{"hit", "miss", "dynamic"}[rng.IntN(3)], rng.IntN(1e6), []int{200, 304, 404}[rng.IntN(3)],
			rng.IntN(70000), countries[rng.IntN(len(countries))], rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(9000),
			[]string{"GET", "POST"}[rng.IntN(2)], path, rng.Uint32(),
			path, rng.IntN(1e6), rng.Uint64(), uas[rng.IntN(len(uas))],
			rng.IntN(65536), rng.IntN(300), rng.IntN(400), ts+rng.Int64N(1e9),
			rng.IntN(1e6), rng.IntN(1e6), rng.IntN(10), rng.IntN(100), []int{200, 304, 404, 503}[rng.IntN(4)],
			rng.IntN(256), rng.IntN(256), rng.IntN(256), ts, rng.IntN(2000),
			rng.IntN(50), rng.IntN(255), rng.IntN(10), rng.IntN(2000),
			rng.IntN(2000), []int{200, 304, 404}[rng.IntN(3)], rng.Int64N(2e9),
			rng.IntN(50), rng.IntN(80), rng.Uint64(), rng.Int64N(1e9))
	}
	return b.Bytes()
}

type noopConsumer struct{ n atomic.Int64 }

func (c *noopConsumer) Consume(_ context.Context, d *event.Delivery) (event.Result, error) {
	c.n.Add(1)
	return event.Result{}, nil
}

// BenchmarkReceiver posts gzip uploads of 1000 records of ~1.5 KB over real
// HTTP (keep-alive) to a receiver whose consumer does nothing: it measures
// HTTP + gunzip + chunking, client included, on the same machine.
func BenchmarkReceiver(b *testing.B) {
	const perRequest = 1000
	raw := benchRecords(perRequest)
	body := gz(b, string(raw))
	b.Logf("request: %d records, %d bytes, %d gzipped (%.1fx), %d bytes/record",
		perRequest, len(raw), len(body), float64(len(raw))/float64(len(body)), len(raw)/perRequest)

	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", par), func(b *testing.B) {
			c := Config{Listen: "127.0.0.1:0", Secret: testSecret}
			c.SetDefaults()
			rv, err := New("lp", c, source.Deps{
				Logger:   slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
				Metrics:  telemetry.NewMetrics(),
				Datasets: testDatasets,
			})
			if err != nil {
				b.Fatal(err)
			}
			cons := &noopConsumer{}
			if err := rv.Start(context.Background(), cons); err != nil {
				b.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = rv.Stop(ctx)
			}()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: par, DisableCompression: true}}
			url := "http://" + rv.Addr() + "/logpush/http_requests"
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			b.SetParallelism(par) // par x GOMAXPROCS goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
					req.Header.Set("X-Flarehose-Secret", testSecret)
					req.Header.Set("Content-Encoding", "gzip")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(perRequest)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if !strings.Contains(url, rv.Addr()) || cons.n.Load() < int64(b.N) {
				b.Fatalf("%d deliveries for %d requests", cons.n.Load(), b.N)
			}
		})
	}
}
