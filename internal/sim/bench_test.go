package sim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkGenerate measures the generators as load generators: one op is
// one record with every field, NDJSON, unixnano timestamps.
func BenchmarkGenerate(b *testing.B) {
	for _, ds := range Datasets() {
		b.Run(ds, func(b *testing.B) { benchGenerate(b, ds, OutputOptions{}) })
	}
	// A typical narrow job: a few fields, string timestamps.
	b.Run("http_requests/9fields-rfc3339", func(b *testing.B) {
		benchGenerate(b, "http_requests", OutputOptions{TimestampFormat: TimestampRFC3339,
			FieldNames: []string{"ClientIP", "ClientRequestHost", "ClientRequestMethod", "ClientRequestURI", "EdgeEndTimestamp", "EdgeResponseBytes", "EdgeResponseStatus", "EdgeStartTimestamp", "RayID"}})
	})
}

func benchGenerate(b *testing.B, ds string, o OutputOptions) {
	g, err := NewGenerator(ds, 1)
	if err != nil {
		b.Fatal(err)
	}
	f := MustFormat(ds, o)
	t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, 1<<16)
	total := 0
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Append(buf[:0], t, f)
		total += len(buf)
		t = t.Add(time.Millisecond)
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/sec, "records/s")
	b.ReportMetric(float64(total)/float64(b.N), "B/record")
	b.ReportMetric(float64(total)/sec/1e6, "MB/s")
}

// BenchmarkPushGzip measures a Pusher end to end against a local
// destination that reads and discards the (compressed) bodies: generate,
// batch, gzip, POST. One op is one record.
func BenchmarkPushGzip(b *testing.B) {
	for _, c := range []struct {
		name        string
		conc, level int
	}{{"concurrency=1", 1, 0}, {"concurrency=2", 2, 0}, {"concurrency=2/gzip=1", 2, 1}} {
		b.Run("http_requests/"+c.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
			}))
			defer srv.Close()
			p, err := NewPusher(Job{Dataset: "http_requests", DestinationConf: srv.URL, MaxUploadRecords: 5000},
				PushOptions{Records: b.N, Concurrency: c.conc, GzipLevel: c.level, Probe: ProbeNone})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st := p.Stats()
			if st.RecordsSent != int64(b.N) {
				b.Fatalf("sent %d of %d", st.RecordsSent, b.N)
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/sec, "records/s")
			b.ReportMetric(float64(st.BytesUncompressed)/sec/1e6, "MB/s")
			b.ReportMetric(float64(st.BytesUncompressed)/float64(max(st.BytesSent, 1)), "gzip-ratio")
		})
	}
}
