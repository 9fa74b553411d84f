package sim

import (
	"context"
	"testing"

	"github.com/flarehose/flarehose/internal/objstore"
	"github.com/flarehose/flarehose/internal/objstore/objstoretest"
)

// BenchmarkObjectPush measures a Pusher writing a Logpush job's batches
// as objects: generate, batch, gzip, put. One op is one record; it reports
// records/s and objects/s. The file provider always runs; MinIO when
// FLAREHOSE_TEST_S3_* are set (test/objstore/minio.sh start), else it is
// skipped.
func BenchmarkObjectPush(b *testing.B) {
	b.Run("file", func(b *testing.B) {
		benchObjectPush(b, func(b *testing.B) objstore.Bucket { return localBucket(b) })
	})
	b.Run("minio", func(b *testing.B) {
		srv := objstoretest.S3(b)
		benchObjectPush(b, func(b *testing.B) objstore.Bucket {
			bucket, err := objstore.Open(context.Background(), objstore.Config{Provider: objstore.ProviderS3, Endpoint: srv.Endpoint,
				Bucket: srv.NewBucket(b), AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, Region: objstoretest.Region})
			if err != nil {
				b.Fatal(err)
			}
			return bucket
		})
	})
}

// benchObjectPush runs the cases, each into a fresh bucket from open.
func benchObjectPush(b *testing.B, open func(b *testing.B) objstore.Bucket) {
	for _, c := range []struct {
		name          string
		records, conc int
	}{{"batch=5000/concurrency=1", 5000, 1}, {"batch=5000/concurrency=4", 5000, 4}, {"batch=500/concurrency=4", 500, 4}} {
		b.Run(c.name, func(b *testing.B) {
			bucket := open(b)
			p, err := NewPusher(Job{Dataset: "http_requests", DestinationConf: "s3://bench/logs/{DATE}?region=us-east-1", MaxUploadRecords: c.records},
				PushOptions{Records: b.N, Concurrency: c.conc, Bucket: bucket, Probe: ProbeNone})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			s := p.Stats()
			if s.RecordsSent != int64(b.N) {
				b.Fatalf("sent %d of %d records: %s", s.RecordsSent, b.N, s.ErrorMessage)
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/sec, "records/s")
			b.ReportMetric(float64(s.BatchesSent)/sec, "objects/s")
			b.ReportMetric(float64(s.BytesSent)/sec/1e6, "gzMB/s")
		})
	}
}
