package objstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flarehose/flarehose/internal/objstore/objstoretest"
)

// These tests run against a real MinIO (objstoretest.S3).

// s3Config is a Config for bucket on the test server with its keys.
func s3Config(srv objstoretest.S3Server, bucket string) Config {
	return Config{Provider: ProviderS3, Bucket: bucket, Endpoint: srv.Endpoint,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
}

func s3Open(tb testing.TB, cfg Config) Bucket {
	tb.Helper()
	b, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Open(%s): %v", cfg.Bucket, err)
	}
	return b
}

func TestS3Bucket(t *testing.T) {
	srv := objstoretest.S3(t)
	b := s3Open(t, s3Config(srv, srv.NewBucket(t)))
	testBucket(t, b)
}

func TestS3PutOptionsAndETag(t *testing.T) {
	srv := objstoretest.S3(t)
	cfg := s3Config(srv, srv.NewBucket(t))
	b := s3Open(t, cfg)
	ctx := context.Background()
	client := b.(*s3Bucket).client

	tests := []struct {
		name      string
		opts      PutOptions
		wantType  string
		wantEncod string
	}{
		{"defaults", PutOptions{}, "application/octet-stream", ""},
		{"gzip object", PutOptions{ContentType: "application/gzip"}, "application/gzip", ""},
		{"encoded ndjson", PutOptions{ContentType: "application/x-ndjson", ContentEncoding: "gzip"}, "application/x-ndjson", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "meta/" + tt.name
			if err := b.Put(ctx, key, []byte{0x1f, 0x8b, 8, 0}, tt.opts); err != nil {
				t.Fatal(err)
			}
			head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &cfg.Bucket, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(head.ContentType); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if got := aws.ToString(head.ContentEncoding); got != tt.wantEncod {
				t.Errorf("Content-Encoding %q, want %q", got, tt.wantEncod)
			}
			// The stored bytes come back as stored, even with
			// Content-Encoding: gzip (no transparent decompression).
			got, err := ReadAll(ctx, b, key, 0)
			if err != nil || !bytes.Equal(got, []byte{0x1f, 0x8b, 8, 0}) {
				t.Errorf("ReadAll = %x, %v", got, err)
			}
			var objs []Object
			if err := b.List(ctx, key, "", func(o Object) error { objs = append(objs, o); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(objs) != 1 || objs[0].ETag == "" || strings.Contains(objs[0].ETag, `"`) ||
				objs[0].ETag != strings.Trim(aws.ToString(head.ETag), `"`) {
				t.Errorf("List = %+v: want the object's ETag %s without quotes", objs, aws.ToString(head.ETag))
			}
		})
	}
}

// Keys that are legal in S3 but awkward elsewhere round-trip exactly;
// keys S3 cannot hold fail at once with a message naming the bucket.
func TestS3Keys(t *testing.T) {
	srv := objstoretest.S3(t)
	b := s3Open(t, s3Config(srv, srv.NewBucket(t)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	good := []string{
		"sp ace/plus+/pct%2F/q?x=1&y#frag",
		"ünï/cødé/日本.log.gz",
		"ctrl\x01char", // XML cannot carry it: List asks for URL-encoded keys
		"ends/with/slash/",
		"a/" + strings.Repeat("k", 250) + "/" + strings.Repeat("k", 250) + "/" + strings.Repeat("k", 250) + "/" + strings.Repeat("k", 250),
	}
	for _, k := range good {
		if err := b.Put(ctx, k, []byte(k), PutOptions{}); err != nil {
			t.Errorf("Put(%q): %v", k, err)
			continue
		}
		if got, err := ReadAll(ctx, b, k, 0); err != nil || string(got) != k {
			t.Errorf("ReadAll(%q) = %q, %v", k, got, err)
		}
		var listed []string
		if err := b.List(ctx, k, "", func(o Object) error { listed = append(listed, o.Key); return nil }); err != nil {
			t.Errorf("List(%q): %v", k, err)
		}
		if len(listed) == 0 || listed[0] != k {
			t.Errorf("List(%q) = %q", k, listed)
		}
	}

	bad := []struct{ key, want string }{
		{"", "empty key"},
		{strings.Repeat("k", 1025), "longer than"},
		{"bad\xffutf8", "not valid UTF-8"},
	}
	for _, tt := range bad {
		errs := map[string]error{"Put": b.Put(ctx, tt.key, []byte("x"), PutOptions{}), "Delete": b.Delete(ctx, tt.key)}
		_, errs["Get"] = b.Get(ctx, tt.key)
		for op, err := range errs {
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), b.String()) {
				t.Errorf("%s(%.20q) = %v: want an error naming %s and saying %q", op, tt.key, err, b, tt.want)
			}
		}
	}

	// Keys MinIO itself refuses (AWS S3 would store them): a clear error
	// from the store, with the bucket and key, not a hang.
	for _, k := range []string{"../escape", "a/../b", "a//b", "nul\x00byte", strings.Repeat("k", 1024)} {
		err := b.Put(ctx, k, []byte("x"), PutOptions{})
		t.Logf("Put(%.40q): %v", k, err)
		if err == nil {
			if got, err := ReadAll(ctx, b, k, 0); err != nil || string(got) != "x" {
				t.Errorf("Put(%q) succeeded but ReadAll = %q, %v", k, got, err)
			}
			continue
		}
		// Control characters are quoted, not written raw into logs.
		if !strings.HasPrefix(err.Error(), b.String()+": put "+s3PrintableKey(k)) || strings.Contains(err.Error(), "\x00") {
			t.Errorf("Put(%q) = %v: want the bucket and key named", k, err)
		}
	}
}

func TestS3Errors(t *testing.T) {
	srv := objstoretest.S3(t)
	bucket := srv.NewBucket(t)
	const secret = "wrong-secret-Zq8xP2"

	wrongSecret := s3Config(srv, bucket)
	wrongSecret.SecretAccessKey = secret
	wrongKey := s3Config(srv, bucket)
	wrongKey.AccessKeyID, wrongKey.SecretAccessKey = "no-such-key-id", secret
	withToken := s3Config(srv, bucket)
	withToken.SessionToken = "session-token-" + secret
	missing := s3Config(srv, objstoretest.UniqueName(t)) // never created
	closed := s3Config(srv, bucket)
	closed.Endpoint = objstoretest.ClosedEndpoint(t)
	closed.SecretAccessKey = secret
	unresolvable := s3Config(srv, bucket)
	unresolvable.Endpoint = "http://no-such-host.invalid:9000"

	tests := []struct {
		name    string
		cfg     Config
		want    string
		maxTime time.Duration
	}{
		{"wrong secret key", wrongSecret, "access denied: check the credentials and the bucket policy", 10 * time.Second},
		{"unknown access key", wrongKey, "access denied: check the credentials and the bucket policy", 10 * time.Second},
		{"bogus session token", withToken, "access denied: check the credentials and the bucket policy", 10 * time.Second},
		{"missing bucket", missing, "bucket " + missing.Bucket + " does not exist", 10 * time.Second},
		{"unreachable endpoint", closed, "cannot reach the endpoint " + closed.Endpoint + ": connection refused", 5 * time.Second},
		{"unresolvable endpoint", unresolvable, "cannot resolve the endpoint http://no-such-host.invalid:9000", 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := s3Open(t, tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ops := []struct {
				op string
				do func() error
			}{
				{"get", func() error { _, err := b.Get(ctx, "logs/x.log.gz"); return err }},
				{"put", func() error { return b.Put(ctx, "logs/x.log.gz", []byte("x"), PutOptions{}) }},
				{"list", func() error { return b.List(ctx, "logs/", "", func(Object) error { return nil }) }},
				{"delete", func() error { return b.Delete(ctx, "logs/x.log.gz") }},
			}
			for _, op := range ops {
				start := time.Now()
				err := op.do()
				took := time.Since(start)
				if err == nil {
					t.Fatalf("%s succeeded", op.op)
				}
				msg := err.Error()
				t.Logf("%s (%v): %s", op.op, took.Round(time.Millisecond), msg)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("%s: %q: want %q", op.op, msg, tt.want)
				}
				if !strings.HasPrefix(msg, b.String()+": "+op.op+" logs/") {
					t.Errorf("%s: %q: want it to start with the bucket, operation and key", op.op, msg)
				}
				if strings.Contains(msg, secret) {
					t.Errorf("%s: the error contains the secret: %q", op.op, msg)
				}
				if IsNotExist(err) {
					t.Errorf("%s: %v reads as a missing object", op.op, err)
				}
				if took > tt.maxTime {
					t.Errorf("%s took %v, want under %v", op.op, took, tt.maxTime)
				}
			}
		})
	}
}

// A server that accepts connections but never answers: the caller's
// deadline ends the request, and the error says so and where.
func TestS3SilentEndpoint(t *testing.T) {
	objstoretest.IsolateEnv(t)
	cfg := Config{Provider: ProviderS3, Bucket: "logs", Endpoint: objstoretest.SilentEndpoint(t), AccessKeyID: "id", SecretAccessKey: "secret-Zq8xP2"}
	b := s3Open(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := b.Get(ctx, "logs/x.log.gz")
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded (endpoint "+cfg.Endpoint+")") ||
		strings.Contains(err.Error(), "secret-Zq8xP2") {
		t.Fatalf("Get = %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v does not wrap context.DeadlineExceeded", err)
	}
	if took > 4*time.Second {
		t.Errorf("took %v with a 2s deadline", took)
	}
}

// Without static credentials the SDK's default chain is used: the
// environment (with AWS_ENDPOINT_URL_S3 standing in for cfg.Endpoint)
// works just like static credentials.
func TestS3Credentials(t *testing.T) {
	srv := objstoretest.S3(t)
	bucket := srv.NewBucket(t)
	host := strings.TrimPrefix(srv.Endpoint, "http://")

	tests := []struct {
		name     string
		env      map[string]string
		cfg      Config
		wantName string
	}{
		{"static", nil, s3Config(srv, bucket), "s3://" + bucket + "@" + host},
		{"environment", map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
			"AWS_ENDPOINT_URL_S3": srv.Endpoint}, Config{Provider: ProviderS3, Bucket: bucket}, "s3://" + bucket + "@" + host},
		{"environment, global endpoint and region", map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
			"AWS_ENDPOINT_URL": srv.Endpoint, "AWS_REGION": "eu-west-1"}, Config{Provider: ProviderS3, Bucket: bucket}, "s3://" + bucket + "@" + host},
		{"shared credentials file", map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint, "AWS_PROFILE": "minio"},
			Config{Provider: ProviderS3, Bucket: bucket}, "s3://" + bucket + "@" + host},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objstoretest.IsolateEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.env["AWS_PROFILE"] != "" {
				creds := fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", tt.env["AWS_PROFILE"], srv.AccessKey, srv.SecretKey)
				if err := os.WriteFile(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), []byte(creds), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			b := s3Open(t, tt.cfg)
			if b.String() != tt.wantName {
				t.Errorf("String() = %q, want %q", b, tt.wantName)
			}
			ctx := context.Background()
			key := "creds/" + strings.ReplaceAll(tt.name, " ", "-")
			if err := b.Put(ctx, key, []byte(tt.name), PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if got, err := ReadAll(ctx, b, key, 0); err != nil || string(got) != tt.name {
				t.Fatalf("ReadAll = %q, %v", got, err)
			}
		})
	}
}

// With no credentials anywhere, a request fails within seconds with a
// message saying what to set, even when the instance metadata service
// (the chain's last resort) never answers.
func TestS3NoCredentials(t *testing.T) {
	tests := []struct{ name, imds string }{
		{"metadata service silent", objstoretest.SilentEndpoint(t)},
		{"metadata service refused", objstoretest.ClosedEndpoint(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objstoretest.IsolateEnv(t)
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", tt.imds)
			b := s3Open(t, Config{Provider: ProviderS3, Bucket: "logs", Endpoint: objstoretest.ClosedEndpoint(t)})
			start := time.Now()
			_, err := b.Get(context.Background(), "logs/x.log.gz")
			took := time.Since(start)
			t.Logf("after %v: %v", took.Round(time.Millisecond), err)
			if err == nil || !strings.HasPrefix(err.Error(), b.String()+": get logs/x.log.gz: no AWS credentials found (give an access key id") {
				t.Fatalf("Get = %v: want a no-credentials error", err)
			}
			if took > s3CredentialsTimeout+2*time.Second {
				t.Errorf("took %v, want about %v at most", took, s3CredentialsTimeout)
			}
		})
	}
}

// R2: FromDestination gives region "auto" and the account's R2 endpoint;
// pointed at MinIO instead (which takes any region when none is
// configured), the same config works.
func TestS3R2Destination(t *testing.T) {
	srv := objstoretest.S3(t)
	bucket := srv.NewBucket(t)
	cfg, err := FromDestination("r2://" + bucket + "/logs/{DATE}?account-id=0123abcd&access-key-id=" +
		url.QueryEscape(srv.AccessKey) + "&secret-access-key=" + url.QueryEscape(srv.SecretKey))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "auto" || cfg.Endpoint != "https://0123abcd.r2.cloudflarestorage.com" || cfg.Prefix != "logs/{DATE}" {
		t.Fatalf("FromDestination(r2://) = %+v", cfg)
	}
	r2 := s3Open(t, cfg).(*s3Bucket)
	if o := r2.client.Options(); !o.UsePathStyle || o.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired ||
		r2.String() != "s3://"+bucket+"@0123abcd.r2.cloudflarestorage.com" {
		t.Errorf("R2 bucket %s: path style %v, checksums %v", r2, o.UsePathStyle, o.RequestChecksumCalculation)
	}

	cfg.Endpoint = srv.Endpoint
	b := s3Open(t, cfg)
	ctx := context.Background()
	key := Join(strings.ReplaceAll(cfg.Prefix, "{DATE}", "20260101"), "20260101T000000Z_20260101T000030Z_0a1b2c3d.log.gz")
	if err := b.Put(ctx, key, []byte("r2"), PutOptions{ContentType: "application/gzip"}); err != nil {
		t.Fatal(err)
	}
	var listed []string
	if err := b.List(ctx, "logs/", "", func(o Object) error { listed = append(listed, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0] != key {
		t.Fatalf("List = %q, want %q", listed, key)
	}
}

// An S3-compatible destination_conf names its endpoint as a bare host,
// which means https (what Cloudflare connects with). A plain-http store
// such as this MinIO needs the caller to give "http://host" (in the
// destination_conf or in cfg.Endpoint).
func TestS3CompatibleDestination(t *testing.T) {
	srv := objstoretest.S3(t)
	bucket := srv.NewBucket(t)
	host := strings.TrimPrefix(srv.Endpoint, "http://")
	conf := "s3://" + bucket + "/dir?region=us-east-1&access-key-id=" + url.QueryEscape(srv.AccessKey) +
		"&secret-access-key=" + url.QueryEscape(srv.SecretKey) + "&endpoint=" + host
	cfg, err := FromDestination(conf)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != host || cfg.Prefix != "dir" || cfg.Region != "us-east-1" {
		t.Fatalf("FromDestination = %+v", cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// As given: https to a plain-http server fails, clearly and quickly.
	start := time.Now()
	err = s3Open(t, cfg).Put(ctx, "dir/x", []byte("x"), PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the endpoint https://"+host) ||
		strings.Contains(err.Error(), srv.SecretKey) || time.Since(start) > 5*time.Second {
		t.Fatalf("https to MinIO: %v after %v", err, time.Since(start))
	}
	t.Logf("https to a plain-http store: %v", err)

	for name, endpoint := range map[string]string{"cfg.Endpoint": "http://" + host, "destination_conf": ""} {
		t.Run(name, func(t *testing.T) {
			c := cfg
			if endpoint != "" {
				c.Endpoint = endpoint
			} else {
				c, err = FromDestination(strings.Replace(conf, "endpoint="+host, "endpoint="+url.QueryEscape("http://"+host), 1))
				if err != nil {
					t.Fatal(err)
				}
			}
			b := s3Open(t, c)
			key := Join(c.Prefix, name)
			if err := b.Put(ctx, key, []byte(name), PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if got, err := ReadAll(ctx, b, key, 0); err != nil || string(got) != name {
				t.Fatalf("ReadAll = %q, %v", got, err)
			}
		})
	}
}

// How the config shapes the client: addressing style, checksums and the
// name (never with credentials).
func TestS3ClientOptions(t *testing.T) {
	objstoretest.IsolateEnv(t)
	const secret = "secret-Zq8xP2"
	base := Config{Provider: ProviderS3, Bucket: "logs", AccessKeyID: "AKID", SecretAccessKey: secret, SessionToken: "tok-" + secret}
	with := func(f func(*Config)) Config { c := base; f(&c); return c }
	tests := []struct {
		name       string
		cfg        Config
		wantName   string
		wantRegion string
		pathStyle  bool
		whenReq    bool // checksums only when required
	}{
		{"AWS", base, "s3://logs", "us-east-1", false, false},
		{"AWS path style", with(func(c *Config) { c.PathStyle = true; c.Region = "eu-west-1" }), "s3://logs", "eu-west-1", true, false},
		{"AWS endpoint", with(func(c *Config) { c.Endpoint = "s3.eu-west-1.amazonaws.com" }), "s3://logs@s3.eu-west-1.amazonaws.com", "us-east-1", true, false},
		{"AWS endpoint, virtual host", with(func(c *Config) { c.Endpoint = "https://s3.amazonaws.com"; c.VirtualHost = true }), "s3://logs@s3.amazonaws.com", "us-east-1", false, false},
		{"MinIO", with(func(c *Config) { c.Endpoint = "http://127.0.0.1:9000" }), "s3://logs@127.0.0.1:9000", "us-east-1", true, true},
		{"R2", with(func(c *Config) { c.Endpoint = "acct.r2.cloudflarestorage.com"; c.Region = "auto" }), "s3://logs@acct.r2.cloudflarestorage.com", "auto", true, true},
		{"Spaces, virtual host", with(func(c *Config) { c.Endpoint = "sfo2.digitaloceanspaces.com"; c.VirtualHost = true }), "s3://logs@sfo2.digitaloceanspaces.com", "us-east-1", false, true},
		{"userinfo in the endpoint", with(func(c *Config) { c.Endpoint = "https://user:" + secret + "@minio.example:9000/" }), "s3://logs@minio.example:9000", "us-east-1", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := s3Open(t, tt.cfg).(*s3Bucket)
			o := b.client.Options()
			if b.String() != tt.wantName {
				t.Errorf("String() = %q, want %q", b, tt.wantName)
			}
			if strings.Contains(b.String(), secret) || strings.Contains(aws.ToString(o.BaseEndpoint), secret) {
				t.Errorf("the secret leaked into %q / %q", b, aws.ToString(o.BaseEndpoint))
			}
			if o.Region != tt.wantRegion {
				t.Errorf("region %q, want %q", o.Region, tt.wantRegion)
			}
			if o.UsePathStyle != tt.pathStyle {
				t.Errorf("path style %v, want %v", o.UsePathStyle, tt.pathStyle)
			}
			if got := o.RequestChecksumCalculation == aws.RequestChecksumCalculationWhenRequired &&
				o.ResponseChecksumValidation == aws.ResponseChecksumValidationWhenRequired; got != tt.whenReq {
				t.Errorf("checksums when required: %v, want %v", got, tt.whenReq)
			}
		})
	}
}

// The secret never survives into an error, even if a store echoes it.
func TestS3ScrubsSecrets(t *testing.T) {
	b := &s3Bucket{name: "s3://logs", secrets: []string{"sekrit", "tok3n"}}
	err := b.scrub(fmt.Errorf("store said: bad key sekrit with token tok3n: %w", io.ErrUnexpectedEOF))
	if strings.Contains(err.Error(), "sekrit") || strings.Contains(err.Error(), "tok3n") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("scrub = %v", err)
	}
}

// Get streams: the body is the connection, not a buffered copy, so the
// first bytes of a large object arrive before the rest is read.
func TestS3GetStreams(t *testing.T) {
	srv := objstoretest.S3(t)
	b := s3Open(t, s3Config(srv, srv.NewBucket(t)))
	ctx := context.Background()
	big := bytes.Repeat([]byte("x"), 32<<20)
	if err := b.Put(ctx, "big", big, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rc, err := b.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(rc, buf); err != nil || string(buf) != "xxxx" {
		t.Fatalf("first bytes %q, %v", buf, err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("Get allocated %d bytes before the first read of a %d-byte object: it buffers", alloc, len(big))
	}
}

func BenchmarkS3PutGet(b *testing.B) {
	srv := objstoretest.S3(b)
	bucket := s3Open(b, s3Config(srv, srv.NewBucket(b)))
	ctx := context.Background()
	// Random bytes: as incompressible as a gzip Logpush batch.
	body := make([]byte, 1<<20)
	rand.Read(body)

	b.Run("Put", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for i := 0; b.Loop(); i++ {
			if err := bucket.Put(ctx, fmt.Sprintf("bench/%06d.log.gz", i%64), body, PutOptions{ContentType: "application/gzip"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		if err := bucket.Put(ctx, "bench/get.log.gz", body, PutOptions{}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			rc, err := bucket.Get(ctx, "bench/get.log.gz")
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil || n != int64(len(body)) {
				b.Fatalf("read %d bytes: %v", n, err)
			}
		}
	})
}

// Answers real stores give that MinIO does not (wrong region, a bare 404,
// throttling), from a canned server.
func TestS3ErrorMapping(t *testing.T) {
	objstoretest.IsolateEnv(t)
	const secret = "secret-Zq8xP2"
	s3XML := func(code, msg string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>` + msg + `</Message><RequestId>r1</RequestId></Error>`
	}
	type answer struct {
		status int
		header map[string]string
		body   string
	}
	tests := []struct {
		name     string
		answers  []answer // in turn; the last one repeats
		want     string   // in the error; "" means success
		notExist bool
		requests int
	}{
		{"wrong region", []answer{{301, map[string]string{"X-Amz-Bucket-Region": "eu-west-1"},
			s3XML("PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.")}},
			"get logs/x: wrong region: the bucket is in eu-west-1 (PermanentRedirect: ", false, 1},
		{"region in the signature", []answer{{400, nil, s3XML("AuthorizationHeaderMalformed", "the region 'us-east-1' is wrong; expecting 'ap-south-1'")}},
			"wrong region or endpoint for this bucket (AuthorizationHeaderMalformed: the region 'us-east-1' is wrong; expecting 'ap-south-1')", false, 1},
		{"bare 404", []answer{{404, nil, ""}}, "file does not exist", true, 1},
		{"missing bucket", []answer{{404, nil, s3XML("NoSuchBucket", "The specified bucket does not exist")}},
			"get logs/x: bucket logs does not exist", false, 1},
		{"bare 403", []answer{{403, nil, ""}}, "access denied: check the credentials and the bucket policy", false, 1},
		{"store echoes the secret", []answer{{400, nil, s3XML("InvalidArgument", "bad key "+secret)}},
			"HTTP 400: InvalidArgument: bad key [REDACTED]", false, 1},
		{"throttled, then served", []answer{{503, nil, s3XML("SlowDown", "Please reduce your request rate.")}, {200, nil, "data"}}, "", false, 2},
		{"internal errors", []answer{{500, nil, s3XML("InternalError", "We encountered an internal error.")}},
			"get logs/x: HTTP 500: InternalError: We encountered an internal error.", false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				a := tt.answers[min(n, len(tt.answers)-1)]
				n++
				mu.Unlock()
				for k, v := range a.header {
					w.Header().Set(k, v)
				}
				if a.body != "" && a.status != 200 {
					w.Header().Set("Content-Type", "application/xml")
				}
				w.WriteHeader(a.status)
				io.WriteString(w, a.body)
			}))
			defer srv.Close()
			b := s3Open(t, Config{Provider: ProviderS3, Bucket: "logs", Endpoint: srv.URL, AccessKeyID: "id", SecretAccessKey: secret})
			got, err := ReadAll(context.Background(), b, "logs/x", 0)
			switch {
			case tt.want == "" && (err != nil || string(got) != "data"):
				t.Fatalf("ReadAll = %q, %v", got, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), secret)):
				t.Fatalf("ReadAll = %v\nwant an error containing %q", err, tt.want)
			}
			if IsNotExist(err) != tt.notExist {
				t.Errorf("IsNotExist(%v) = %v", err, !tt.notExist)
			}
			if n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}
