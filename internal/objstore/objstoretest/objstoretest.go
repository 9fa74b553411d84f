// Package objstoretest finds the real object stores flarehose's tests run
// against and makes fresh buckets on them.
//
// test/objstore/{minio,fakegcs,azurite}.sh start print the variables read
// here (make test-objstore runs them all). A test asking for a server whose
// variables are unset is skipped, or fails when FLAREHOSE_REQUIRE_OBJSTORE=1
// (CI, where a silent skip would hide that nothing ran).
//
// The package does not import objstore, so that objstore's own in-package
// tests can use it too: callers build their objstore.Config from the
// fields of S3Server, GCSServer and AzureServer.
package objstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// RequireEnv set to 1 turns a missing server into a failure.
const RequireEnv = "FLAREHOSE_REQUIRE_OBJSTORE"

// Region is the region the test MinIO answers to.
const Region = "us-east-1"

// lookup returns the variables named, in order, or skips tb (fails it
// under RequireEnv=1) naming the unset ones and the script that sets them.
func lookup(tb testing.TB, script string, names ...string) []string {
	tb.Helper()
	vals := make([]string, len(names))
	var missing []string
	for i, n := range names {
		if vals[i] = os.Getenv(n); vals[i] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		msg := strings.Join(missing, ", ") + " unset: start the server with test/objstore/" + script + " start (or run make test-objstore)"
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatal(RequireEnv + "=1 but " + msg)
		}
		tb.Skip(msg)
	}
	return vals
}

// S3Server is the MinIO of test/objstore/minio.sh: S3 (and R2) with
// static keys, path-style, region Region.
type S3Server struct {
	Endpoint, AccessKey, SecretKey string
}

// S3 returns the test MinIO, or skips (fails under RequireEnv=1). The
// caller's AWS, Google and Azure variables are cleared (IsolateEnv).
func S3(tb testing.TB) S3Server {
	tb.Helper()
	v := lookup(tb, "minio.sh", "FLAREHOSE_TEST_S3_ENDPOINT", "FLAREHOSE_TEST_S3_ACCESS_KEY", "FLAREHOSE_TEST_S3_SECRET_KEY")
	IsolateEnv(tb)
	return S3Server{Endpoint: strings.TrimRight(v[0], "/"), AccessKey: v[1], SecretKey: v[2]}
}

func (s S3Server) client() *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String(s.Endpoint), Region: Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")})
}

// NewBucket creates a uniquely named bucket, removed with its objects
// when the test ends.
func (s S3Server) NewBucket(tb testing.TB) string {
	tb.Helper()
	name := UniqueName(tb)
	client := s.client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		tb.Fatalf("creating bucket %s on %s: %v", name, s.Endpoint, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := emptyS3(ctx, client, name); err != nil {
			tb.Logf("cleanup of bucket %s: %v", name, err)
			return
		}
		if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name}); err != nil {
			tb.Logf("cleanup of bucket %s: %v", name, err)
		}
	})
	return name
}

// emptyS3 deletes every object of bucket: in batches, then one by one what
// is left (a batch's XML body cannot name keys with control characters,
// and MinIO skips those silently).
func emptyS3(ctx context.Context, client *s3.Client, bucket string) error {
	keys, err := s3Keys(ctx, client, bucket)
	if err != nil {
		return err
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		if _, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			return err
		}
		keys = keys[n:]
	}
	if keys, err = s3Keys(ctx, client, bucket); err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String(k)}); err != nil {
			return err
		}
	}
	return nil
}

// s3Keys lists bucket's keys, URL-encoded on the wire so that keys XML
// cannot carry come through.
func s3Keys(ctx context.Context, client *s3.Client, bucket string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucket, EncodingType: types.EncodingTypeUrl})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			k, err := url.QueryUnescape(aws.ToString(o.Key))
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// GCSServer is the fake-gcs-server of test/objstore/fakegcs.sh: no
// credentials, JSON API under Endpoint/storage/v1/.
type GCSServer struct {
	Endpoint string
}

// GCS returns the test fake-gcs-server, or skips (fails under
// RequireEnv=1). The caller's cloud variables are cleared (IsolateEnv).
func GCS(tb testing.TB) GCSServer {
	tb.Helper()
	v := lookup(tb, "fakegcs.sh", "FLAREHOSE_TEST_GCS_ENDPOINT")
	IsolateEnv(tb)
	return GCSServer{Endpoint: strings.TrimRight(v[0], "/")}
}

// NewBucket creates a uniquely named bucket, removed with its objects
// when the test ends.
func (s GCSServer) NewBucket(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := storage.NewClient(ctx, option.WithEndpoint(s.Endpoint+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		tb.Fatal(err)
	}
	name := UniqueName(tb)
	if err := admin.Bucket(name).Create(ctx, "flarehose-test", nil); err != nil {
		admin.Close()
		tb.Fatalf("creating bucket %s on %s: %v", name, s.Endpoint, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The JSON API deletes one object a request: a few at a time.
		keys := make(chan string)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for k := range keys {
					admin.Bucket(name).Object(k).Delete(ctx)
				}
			})
		}
		it := admin.Bucket(name).Objects(ctx, nil)
		for {
			a, err := it.Next()
			if err != nil {
				if !errors.Is(err, iterator.Done) {
					tb.Logf("cleanup of bucket %s: %v", name, err)
				}
				break
			}
			keys <- a.Name
		}
		close(keys)
		wg.Wait()
		if err := admin.Bucket(name).Delete(ctx); err != nil {
			tb.Logf("cleanup of bucket %s: %v", name, err)
		}
	})
	return name
}

// AzureServer is the Azurite of test/objstore/azurite.sh: Endpoint is
// http://127.0.0.1:PORT/ACCOUNT, Key the account's shared key.
type AzureServer struct {
	Endpoint, Account, Key string
}

// Azure returns the test Azurite, or skips (fails under RequireEnv=1).
// The caller's cloud variables are cleared (IsolateEnv).
func Azure(tb testing.TB) AzureServer {
	tb.Helper()
	v := lookup(tb, "azurite.sh", "FLAREHOSE_TEST_AZURE_ENDPOINT", "FLAREHOSE_TEST_AZURE_ACCOUNT", "FLAREHOSE_TEST_AZURE_KEY")
	IsolateEnv(tb)
	return AzureServer{Endpoint: strings.TrimRight(v[0], "/"), Account: v[1], Key: v[2]}
}

func (s AzureServer) credential(tb testing.TB) *container.SharedKeyCredential {
	tb.Helper()
	cred, err := container.NewSharedKeyCredential(s.Account, s.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return cred
}

// NewContainer creates a uniquely named container, removed with its blobs
// when the test ends.
func (s AzureServer) NewContainer(tb testing.TB) string {
	tb.Helper()
	name := UniqueName(tb)
	cc, err := container.NewClientWithSharedKeyCredential(s.Endpoint+"/"+name, s.credential(tb), nil)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cc.Create(ctx, nil); err != nil {
		tb.Fatalf("creating container %s on %s: %v", name, s.Endpoint, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := cc.Delete(ctx, nil); err != nil {
			tb.Logf("cleanup of container %s: %v", name, err)
		}
	})
	return name
}

// SAS signs an account SAS for blobs (ss=b) with the account key, as a
// storage owner makes for Cloudflare (which asks for sp=w, srt=o). It is
// valid from an hour ago, so clock skew does not matter, until expiry;
// the result is a query string without "?".
func (s AzureServer) SAS(tb testing.TB, perms sas.AccountPermissions, resources sas.AccountResourceTypes, expiry time.Time) string {
	tb.Helper()
	q, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     time.Now().Add(-time.Hour).UTC(),
		ExpiryTime:    expiry.UTC(),
		Permissions:   perms.String(),
		ResourceTypes: resources.String(),
	}.SignWithSharedKey(s.credential(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return q.Encode()
}

var nameJunk = regexp.MustCompile(`[^a-z0-9]+`)

// UniqueName is a bucket or container name no other test or run uses,
// valid on S3, GCS and Azure (lower case, digits and single hyphens, at
// most 52 characters), with the test's name in it for whoever looks at
// the server.
func UniqueName(tb testing.TB) string {
	var rnd [4]byte
	rand.Read(rnd[:])
	name := strings.Trim(nameJunk.ReplaceAllString(strings.ToLower(tb.Name()), "-"), "-")
	name = strings.TrimRight(name[:min(len(name), 40)], "-")
	if name != "" {
		name += "-"
	}
	return "fh-" + name + hex.EncodeToString(rnd[:])
}

// isolated are the variables the cloud SDKs read credentials, endpoints
// and settings from: a developer's own must not leak into a test.
var isolated = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_CA_BUNDLE",
	"GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST",
	"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY",
}

// IsolateEnv unsets the cloud SDKs' variables and points their
// configuration files into an empty directory, so a test sees only what it
// sets; everything is restored when the test ends. Not for parallel tests
// (it uses tb.Setenv).
func IsolateEnv(tb testing.TB) {
	tb.Helper()
	dir := tb.TempDir()
	for _, k := range isolated {
		tb.Setenv(k, "")
		os.Unsetenv(k) // some SDKs tell empty from unset; tb.Setenv restores it
	}
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	tb.Setenv("CLOUDSDK_CONFIG", filepath.Join(dir, "gcloud"))
}

// ClosedEndpoint is an http://127.0.0.1:PORT URL nothing listens on: a
// connection there is refused at once.
func ClosedEndpoint(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// SilentEndpoint is an http://127.0.0.1:PORT URL that accepts connections
// and never answers, until the test ends.
func SilentEndpoint(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}
