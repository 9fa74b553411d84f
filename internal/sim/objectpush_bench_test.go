package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flarehose/flarehose/internal/objstore"
)

// BenchmarkObjectPush measures a Pusher writing a Logpush job's batches
// as objects: generate, batch, gzip, put. One op is one record; it reports
// records/s and objects/s. The file provider always runs; MinIO runs when
// FLAREHOSE_TEST_S3_* are set (test/objstore/minio.sh start).
func BenchmarkObjectPush(b *testing.B) {
	type store struct {
		name string
		open func(b *testing.B) objstore.Bucket
	}
	stores := []store{{"file", func(b *testing.B) objstore.Bucket { return localBucket(b) }}}
	if ep := os.Getenv("FLAREHOSE_TEST_S3_ENDPOINT"); ep != "" {
		stores = append(stores, store{"minio", func(b *testing.B) objstore.Bucket { return minioBucket(b, ep) }})
	}
	for _, st := range stores {
		for _, c := range []struct {
			name          string
			records, conc int
		}{{"batch=5000/concurrency=1", 5000, 1}, {"batch=5000/concurrency=4", 5000, 4}, {"batch=500/concurrency=4", 500, 4}} {
			b.Run(st.name+"/"+c.name, func(b *testing.B) {
				bucket := st.open(b)
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
}

// minioBucket creates a bucket on the MinIO the environment names.
func minioBucket(b *testing.B, endpoint string) objstore.Bucket {
	access, secret := os.Getenv("FLAREHOSE_TEST_S3_ACCESS_KEY"), os.Getenv("FLAREHOSE_TEST_S3_SECRET_KEY")
	id := make([]byte, 6)
	rand.Read(id)
	name := "bench-" + hex.EncodeToString(id)
	client := s3.New(s3.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, "")})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		b.Fatalf("creating bucket %s: %v", name, err)
	}
	bucket, err := objstore.Open(ctx, objstore.Config{Provider: objstore.ProviderS3, Endpoint: endpoint, Bucket: name,
		AccessKeyID: access, SecretAccessKey: secret, Region: "us-east-1"})
	if err != nil {
		b.Fatal(err)
	}
	return bucket
}
