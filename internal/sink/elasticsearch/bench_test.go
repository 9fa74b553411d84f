package elasticsearch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
)

// BenchmarkBulkEncode measures building bulk bodies from ~1.5 KB records:
// action line + document bytes, then gzip (what sendChunk does per request).
func BenchmarkBulkEncode(b *testing.B) {
	batch := syntheticBatch("bench", 0, 5000, 1500)
	index := DataStream("http_requests", "default")
	bytesPer := batch.Bytes() / batch.Len()
	for _, gz := range []bool{false, true} {
		name := "encode"
		if gz {
			name = "encode+gzip"
		}
		b.Run(name, func(b *testing.B) {
			raw := make([]byte, 0, 16<<20)
			var out []byte
			b.SetBytes(int64(batch.Bytes()))
			b.ReportAllocs()
			for b.Loop() {
				raw = raw[:0]
				for i := range batch.Records {
					r := &batch.Records[i]
					line, err := docLine(r.Doc)
					if err != nil {
						b.Fatal(err)
					}
					raw = appendAction(raw, index, r.ID)
					raw = append(raw, line...)
					raw = append(raw, '\n')
				}
				if gz {
					out = appendGzip(out[:0], raw)
				}
			}
			b.ReportMetric(float64(batch.Len())*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(bytesPer), "doc_bytes")
		})
	}
}

// BenchmarkOpenSearchWrite writes ~1.5 KB records into the real node
// (FLAREHOSE_OPENSEARCH_URL) in batches of 5000, as the pipeline would, and
// reports events/s. On a 2-core machine it measures OpenSearch more than
// the sink.
func BenchmarkOpenSearchWrite(b *testing.B) {
	url := nodeURL(b)
	ns := fmt.Sprintf("bench%d", time.Now().UnixNano()%1e9)
	c := adminClient(b, url)
	b.Cleanup(func() { dropNamespace(b, c, ns) })
	cfg := testConfig(url, ns)
	cfg.Timeout = config.Duration(120 * time.Second)
	s := newTestSink(b, cfg, Options{})
	ctx := context.Background()
	if err := s.Setup(ctx); err != nil {
		b.Fatal(err)
	}
	const per = 5000
	b.ResetTimer()
	total := 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		batch := syntheticBatch(ns, i*per, per, 1500)
		b.StartTimer()
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
		total += per
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
	b.StopTimer()
	if got := count(b, c, ns, ""); got != total {
		b.Fatalf("%d documents, want %d", got, total)
	}
}
