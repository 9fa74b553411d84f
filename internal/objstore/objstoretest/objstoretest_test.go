package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/api/option"
)

// recorder stands in for a test to see whether a helper skips or fails it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

// record runs f on its own goroutine (Skip and Fatal end it) with a
// recorder over t.
func record(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestEnvContract(t *testing.T) {
	s3Vars := map[string]string{"FLAREHOSE_TEST_S3_ENDPOINT": "http://127.0.0.1:9400/", "FLAREHOSE_TEST_S3_ACCESS_KEY": "ak", "FLAREHOSE_TEST_S3_SECRET_KEY": "sk/"}
	for _, c := range []struct {
		name    string
		env     map[string]string
		require string
		get     func(testing.TB) any
		want    any    // when neither skipped nor failed
		skip    string // in the skip message
		fail    string // in the failure
	}{
		{name: "s3", env: s3Vars, get: func(tb testing.TB) any { return S3(tb) },
			// The endpoint loses its trailing slash, the key keeps it.
			want: S3Server{Endpoint: "http://127.0.0.1:9400", AccessKey: "ak", SecretKey: "sk/"}},
		{name: "s3 without a secret", env: map[string]string{"FLAREHOSE_TEST_S3_ENDPOINT": "http://127.0.0.1:9400", "FLAREHOSE_TEST_S3_ACCESS_KEY": "ak"},
			get:  func(tb testing.TB) any { return S3(tb) },
			skip: "FLAREHOSE_TEST_S3_SECRET_KEY unset: start the server with test/objstore/minio.sh start"},
		{name: "s3 required", require: "1", get: func(tb testing.TB) any { return S3(tb) },
			fail: "FLAREHOSE_REQUIRE_OBJSTORE=1 but FLAREHOSE_TEST_S3_ENDPOINT, FLAREHOSE_TEST_S3_ACCESS_KEY, FLAREHOSE_TEST_S3_SECRET_KEY unset"},
		{name: "s3 required, all set", env: s3Vars, require: "1", get: func(tb testing.TB) any { return S3(tb) },
			want: S3Server{Endpoint: "http://127.0.0.1:9400", AccessKey: "ak", SecretKey: "sk/"}},
		{name: "require other than 1 skips", require: "yes", get: func(tb testing.TB) any { return GCS(tb) },
			skip: "FLAREHOSE_TEST_GCS_ENDPOINT unset: start the server with test/objstore/fakegcs.sh start"},
		{name: "gcs", env: map[string]string{"FLAREHOSE_TEST_GCS_ENDPOINT": "http://127.0.0.1:4443"},
			get: func(tb testing.TB) any { return GCS(tb) }, want: GCSServer{Endpoint: "http://127.0.0.1:4443"}},
		{name: "gcs required", require: "1", get: func(tb testing.TB) any { return GCS(tb) }, fail: "fakegcs.sh"},
		{name: "azure", env: map[string]string{"FLAREHOSE_TEST_AZURE_ENDPOINT": "http://127.0.0.1:10000/acct/", "FLAREHOSE_TEST_AZURE_ACCOUNT": "acct", "FLAREHOSE_TEST_AZURE_KEY": "a2V5"},
			get: func(tb testing.TB) any { return Azure(tb) }, want: AzureServer{Endpoint: "http://127.0.0.1:10000/acct", Account: "acct", Key: "a2V5"}},
		{name: "azure without a key", env: map[string]string{"FLAREHOSE_TEST_AZURE_ENDPOINT": "http://127.0.0.1:10000/acct", "FLAREHOSE_TEST_AZURE_ACCOUNT": "acct"},
			get: func(tb testing.TB) any { return Azure(tb) }, skip: "FLAREHOSE_TEST_AZURE_KEY unset: start the server with test/objstore/azurite.sh start"},
		{name: "azure required", require: "1", get: func(tb testing.TB) any { return Azure(tb) }, fail: "azurite.sh"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"FLAREHOSE_TEST_S3_ENDPOINT", "FLAREHOSE_TEST_S3_ACCESS_KEY", "FLAREHOSE_TEST_S3_SECRET_KEY", "FLAREHOSE_TEST_GCS_ENDPOINT",
				"FLAREHOSE_TEST_AZURE_ENDPOINT", "FLAREHOSE_TEST_AZURE_ACCOUNT", "FLAREHOSE_TEST_AZURE_KEY"} {
				t.Setenv(k, c.env[k])
			}
			t.Setenv(RequireEnv, c.require)
			var got any
			r := record(t, func(tb testing.TB) { got = c.get(tb) })
			switch {
			case c.skip != "":
				if r.failed != "" || !strings.Contains(r.skipped, c.skip) {
					t.Errorf("skipped %q, failed %q: want a skip saying %q", r.skipped, r.failed, c.skip)
				}
			case c.fail != "":
				if r.skipped != "" || !strings.Contains(r.failed, c.fail) {
					t.Errorf("skipped %q, failed %q: want a failure saying %q", r.skipped, r.failed, c.fail)
				}
			default:
				if r.skipped != "" || r.failed != "" || got != c.want {
					t.Errorf("= %+v (skipped %q, failed %q), want %+v", got, r.skipped, r.failed, c.want)
				}
			}
		})
	}
}

func TestIsolateEnv(t *testing.T) {
	t.Setenv("AWS_PROFILE", "developer")
	t.Setenv("AZURE_STORAGE_KEY", "a2V5")
	t.Run("isolated", func(t *testing.T) {
		IsolateEnv(t)
		for _, k := range []string{"AWS_PROFILE", "AZURE_STORAGE_KEY", "STORAGE_EMULATOR_HOST"} {
			if v, ok := os.LookupEnv(k); ok {
				t.Errorf("%s=%q after IsolateEnv", k, v)
			}
		}
		for _, k := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "CLOUDSDK_CONFIG"} {
			if v := os.Getenv(k); !strings.HasPrefix(v, os.TempDir()) {
				t.Errorf("%s=%q: want a file in the test's temporary directory", k, v)
			}
		}
	})
	if os.Getenv("AWS_PROFILE") != "developer" || os.Getenv("AZURE_STORAGE_KEY") != "a2V5" {
		t.Error("the variables were not restored after the test")
	}
}

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`) // S3, GCS and Azure alike
	seen := map[string]bool{}
	for _, name := range []string{"plain", "Mixed Case/and..dots__x", "---", strings.Repeat("Long-", 30), "日本"} {
		t.Run(name, func(t *testing.T) {
			for range 2 {
				n := UniqueName(t)
				if !valid.MatchString(n) || len(n) < 3 || len(n) > 63 || !strings.HasPrefix(n, "fh-") || seen[n] {
					t.Errorf("UniqueName = %q: want a new, valid bucket and container name", n)
				}
				seen[n] = true
			}
		})
	}
}

func TestClosedAndSilentEndpoints(t *testing.T) {
	client := &http.Client{Timeout: 300 * time.Millisecond}
	start := time.Now()
	_, err := client.Get(ClosedEndpoint(t))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || time.Since(start) > time.Second {
		t.Errorf("GET on ClosedEndpoint = %v after %v: want connection refused at once", err, time.Since(start))
	}
	_, err = client.Get(SilentEndpoint(t))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("GET on SilentEndpoint = %v: want the client's timeout", err)
	}
}

// Against the real servers: a new bucket takes objects, and goes with
// them when its test ends.
func TestNewBucketS3(t *testing.T) {
	srv := S3(t)
	client := srv.client()
	ctx := context.Background()
	var name string
	t.Run("bucket", func(t *testing.T) {
		name = srv.NewBucket(t)
		// More than one delete batch, and keys a batch cannot name.
		for i := range 1002 {
			key := fmt.Sprintf("k/%04d", i)
			if i >= 1000 {
				key = fmt.Sprintf("ctl\x01%d\x7f", i)
			}
			if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &name, Key: aws.String(key), Body: bytes.NewReader([]byte("x"))}); err != nil {
				t.Fatal(err)
			}
		}
	})
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name}); err == nil {
		t.Errorf("bucket %s is still there after its test", name)
	}
}

func TestNewBucketGCS(t *testing.T) {
	srv := GCS(t)
	ctx := context.Background()
	admin, err := storage.NewClient(ctx, option.WithEndpoint(srv.Endpoint+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var name string
	t.Run("bucket", func(t *testing.T) {
		name = srv.NewBucket(t)
		for i := range 20 {
			w := admin.Bucket(name).Object(fmt.Sprintf("k/%d", i)).NewWriter(ctx)
			w.Write([]byte("x"))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if _, err := admin.Bucket(name).Attrs(ctx); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Errorf("bucket %s after its test: %v, want it gone", name, err)
	}
}

func TestNewContainerAndSAS(t *testing.T) {
	srv := Azure(t)
	ctx := context.Background()
	var name string
	t.Run("container", func(t *testing.T) {
		name = srv.NewContainer(t)
		client := func(token string) *container.Client {
			c, err := container.NewClientWithNoCredential(srv.Endpoint+"/"+name+"?"+token, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		writeOnly := client(srv.SAS(t, sas.AccountPermissions{Write: true}, sas.AccountResourceTypes{Object: true}, time.Now().Add(time.Hour)))
		if _, err := writeOnly.NewBlockBlobClient("k").UploadBuffer(ctx, []byte("x"), nil); err != nil {
			t.Fatalf("upload with a write SAS: %v", err)
		}
		if _, err := writeOnly.NewBlobClient("k").DownloadStream(ctx, nil); err == nil || !strings.Contains(err.Error(), "AuthorizationPermissionMismatch") {
			t.Errorf("download with a write-only SAS = %v: want AuthorizationPermissionMismatch", err)
		}
		readOnly := client(srv.SAS(t, sas.AccountPermissions{Read: true}, sas.AccountResourceTypes{Object: true}, time.Now().Add(time.Hour)))
		if _, err := readOnly.NewBlobClient("k").DownloadStream(ctx, nil); err != nil {
			t.Errorf("download with a read SAS: %v", err)
		}
		expired := client(srv.SAS(t, sas.AccountPermissions{Read: true}, sas.AccountResourceTypes{Object: true}, time.Now().Add(-time.Minute)))
		if _, err := expired.NewBlobClient("k").DownloadStream(ctx, nil); err == nil {
			t.Error("download with an expired SAS succeeded")
		}
	})
	cred, err := container.NewSharedKeyCredential(srv.Account, srv.Key)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := container.NewClientWithSharedKeyCredential(srv.Endpoint+"/"+name, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.GetProperties(ctx, nil); err == nil || !strings.Contains(err.Error(), "ContainerNotFound") {
		t.Errorf("container %s after its test: %v, want ContainerNotFound", name, err)
	}
}
