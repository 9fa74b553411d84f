package cfclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/aws/smithy-go"
	"google.golang.org/api/googleapi"

	"github.com/flarehose/flarehose/internal/objstore"
)

// fileStores stands in for the providers: every Config opens a local
// directory bucket <dir>/<Bucket>, and the Configs are recorded so tests
// see which credentials were used.
type fileStores struct {
	dir  string
	mu   sync.Mutex
	cfgs []objstore.Config
	// fail, when set, replaces the bucket's Get for a Config.
	fail func(objstore.Config) error
}

func (s *fileStores) open(ctx context.Context, cfg objstore.Config) (objstore.Bucket, error) {
	s.mu.Lock()
	s.cfgs = append(s.cfgs, cfg)
	s.mu.Unlock()
	b, err := objstore.Open(ctx, objstore.Config{Provider: objstore.ProviderFile, Dir: s.dir, Bucket: cfg.Bucket})
	if err != nil {
		return nil, err
	}
	if s.fail != nil {
		if err := s.fail(cfg); err != nil {
			return failingBucket{b, err}, nil
		}
	}
	return b, nil
}

func (s *fileStores) put(t *testing.T, bucket, key, content string) {
	t.Helper()
	p := filepath.Join(s.dir, bucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type failingBucket struct {
	objstore.Bucket
	err error
}

func (f failingBucket) Get(context.Context, string) (io.ReadCloser, error) { return nil, f.err }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func mustDest(t *testing.T, conf string) *ObjectDestination {
	t.Helper()
	d, err := ParseObjectDestination(conf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const testToken = "eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJ6b25lIn0.c2lnbmF0dXJl"

// TestBucketReaderCredentials: which credentials each destination is read
// with, in which order, and what the read finds.
func TestBucketReaderCredentials(t *testing.T) {
	const writeSAS = "sv=2022-11-02&ss=b&srt=o&sp=w&se=2031-01-01T00:00:00Z&sig=d3JpdGUtb25seS1zaWc%3D"
	for _, c := range []struct {
		name     string
		conf     string
		creds    StorageCredentials
		env      map[string]string
		describe string // Describe's answer holds this
		check    func(t *testing.T, used objstore.Config)
	}{
		{name: "s3 default chain", conf: "s3://logs/cf/{DATE}?region=eu-west-1", env: map[string]string{"AWS_PROFILE": "audit"},
			describe: "with the AWS default credentials (profile audit)",
			check: func(t *testing.T, c objstore.Config) {
				if c.Provider != objstore.ProviderS3 || c.Region != "eu-west-1" || c.AccessKeyID != "" || c.PathStyle || c.Endpoint != "" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "s3 environment endpoint is path style", conf: "s3://logs/cf?region=us-east-1",
			env:      map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "AKIDENV"},
			describe: "(AWS_ACCESS_KEY_ID AKIDENV)",
			check: func(t *testing.T, c objstore.Config) {
				if !c.PathStyle || c.Endpoint != "" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "s3 explicit keys and endpoint", conf: "s3://logs/cf?region=us-gov-west-1",
			creds:    StorageCredentials{AccessKeyID: "AKIDFLAG", SecretAccessKey: "flag-secret-value", Endpoint: "https://s3.us-gov-west-1.amazonaws.com"},
			describe: "with the access key AKIDFLAG (--s3-access-key-id)",
			check: func(t *testing.T, c objstore.Config) {
				if c.AccessKeyID != "AKIDFLAG" || c.SecretAccessKey != "flag-secret-value" || c.Endpoint != "https://s3.us-gov-west-1.amazonaws.com" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "gcs application default credentials", conf: "gs://logs/cf", env: map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/etc/sa.json"},
			describe: "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS=/etc/sa.json)",
			check: func(t *testing.T, c objstore.Config) {
				if c.Provider != objstore.ProviderGCS || c.CredentialsFile != "" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "gcs key file", conf: "gs://logs/cf", creds: StorageCredentials{GCSCredentialsFile: "/k.json"},
			describe: "with the service account key /k.json",
			check: func(t *testing.T, c objstore.Config) {
				if c.CredentialsFile != "/k.json" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "gcs emulator", conf: "gs://logs/cf", env: map[string]string{"STORAGE_EMULATOR_HOST": "127.0.0.1:4443"},
			describe: "no credentials (the emulator at STORAGE_EMULATOR_HOST=127.0.0.1:4443)"},
		{name: "azure key from the environment, account from the destination", conf: "azure://acct.blob.core.windows.net/logs/cf?" + writeSAS,
			env:      map[string]string{EnvAzureKey: "a2V5LWZyb20tZW52"},
			describe: "with AZURE_STORAGE_KEY (account acct)",
			check: func(t *testing.T, c objstore.Config) {
				if c.AccountName != "acct" || c.AccountKey != "a2V5LWZyb20tZW52" || c.SASToken != "" || c.Endpoint != "https://acct.blob.core.windows.net" || c.Bucket != "logs" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "azure account from an emulator endpoint", conf: "azure://logs/cf?" + writeSAS,
			creds:    StorageCredentials{Endpoint: "http://127.0.0.1:10000/devstoreaccount1", AzureKey: "a2V5LWZyb20tZmxhZw=="},
			describe: "with --azure-key (account devstoreaccount1)",
			check: func(t *testing.T, c objstore.Config) {
				if c.AccountName != "devstoreaccount1" || c.Endpoint != "http://127.0.0.1:10000/devstoreaccount1" || c.AccountKey == "" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "azure connection string first", conf: "azure://logs/cf?" + writeSAS,
			env:      map[string]string{EnvAzureConnectionString: "AccountName=a;AccountKey=k", EnvAzureKey: "a2V5", EnvAzureAccount: "a"},
			describe: "with AZURE_STORAGE_CONNECTION_STRING, then AZURE_STORAGE_KEY (account a)",
			check: func(t *testing.T, c objstore.Config) {
				if c.ConnectionString != "AccountName=a;AccountKey=k" || c.AccountKey != "" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "azure destination SAS with read", conf: "azure://acct.blob.core.windows.net/logs?sv=1&ss=b&srt=o&sp=rw&sig=x",
			describe: "with the destination's SAS",
			check: func(t *testing.T, c objstore.Config) {
				if c.SASToken != "sv=1&ss=b&srt=o&sp=rw&sig=x" {
					t.Errorf("%+v", c)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &fileStores{dir: t.TempDir()}
			r := &BucketReader{Creds: c.creds, Getenv: env(c.env), Open: st.open}
			dest := mustDest(t, c.conf)
			if got := r.Describe(dest); !strings.Contains(got, c.describe) {
				t.Errorf("Describe = %q, want it to hold %q", got, c.describe)
			}
			bucket := dest.Bucket
			if dest.Scheme == "azure" && strings.Contains(bucket, ".") {
				bucket = "logs"
			}
			const key = "cf/20260101/ownership-challenge-0a1b2c3d.txt"
			if _, err := r.ReadChallenge(context.Background(), dest, key); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("before the write: %v, want fs.ErrNotExist", err)
			}
			st.put(t, bucket, key, testToken+"\n")
			got, err := r.ReadChallenge(context.Background(), dest, key)
			if err != nil || strings.TrimSpace(string(got)) != testToken {
				t.Fatalf("ReadChallenge = %q, %v", got, err)
			}
			if len(st.cfgs) != 1 {
				t.Errorf("opened the bucket %d times, want once", len(st.cfgs))
			}
			if c.check != nil {
				c.check(t, st.cfgs[0])
			}
		})
	}
}

// TestBucketReaderAzureFallback: Azure credentials are tried in order, the
// destination's SAS last, and a write-only SAS is explained rather than
// tried.
func TestBucketReaderAzureFallback(t *testing.T) {
	denied := &azcore.ResponseError{StatusCode: 403, ErrorCode: "AuthenticationFailed"}
	st := &fileStores{dir: t.TempDir(), fail: func(c objstore.Config) error {
		if c.AccountKey == "d3Jvbmcta2V5" {
			return denied
		}
		return nil
	}}
	dest := mustDest(t, "azure://logs/cf?sv=1&ss=b&srt=o&sp=w&sig=c2ln")
	r := &BucketReader{Getenv: env(map[string]string{EnvAzureKey: "d3Jvbmcta2V5", EnvAzureAccount: "acct"}), Open: st.open}
	_, err := r.ReadChallenge(context.Background(), dest, "cf/ownership-challenge-1.txt")
	var bre *BucketReadError
	if !errors.As(err, &bre) || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{"the store rejected AZURE_STORAGE_KEY (account acct): HTTP 403 AuthenticationFailed",
		"then the destination's SAS was not tried: it allows sp=w, not Read"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !strings.Contains(bre.Hint, EnvAzureConnectionString) || strings.Contains(err.Error(), "c2ln") {
		t.Errorf("hint %q, error %q", bre.Hint, err)
	}

	// A SAS that may read is tried after the failing key, and answers.
	st2 := &fileStores{dir: t.TempDir(), fail: st.fail}
	st2.put(t, "logs", "cf/ownership-challenge-1.txt", testToken)
	r = &BucketReader{Getenv: env(map[string]string{EnvAzureKey: "d3Jvbmcta2V5", EnvAzureAccount: "acct"}), Open: st2.open}
	got, err := r.ReadChallenge(context.Background(), mustDest(t, "azure://logs/cf?sv=1&sp=rw&sig=c2ln"), "cf/ownership-challenge-1.txt")
	if err != nil || string(got) != testToken || len(st2.cfgs) != 2 || st2.cfgs[1].SASToken == "" {
		t.Fatalf("%q %v %+v", got, err, st2.cfgs)
	}
	// The one that worked is tried first from then on.
	if _, err := r.ReadChallenge(context.Background(), mustDest(t, "azure://logs/cf?sv=1&sp=rw&sig=c2ln"), "cf/ownership-challenge-1.txt"); err != nil || len(st2.cfgs) != 2 {
		t.Fatalf("second read: %v, %d opens", err, len(st2.cfgs))
	}

	// No account anywhere: the key and the SAS cannot be used, and the
	// error says to name the account.
	r = &BucketReader{Getenv: env(map[string]string{EnvAzureKey: "a2V5"}), Open: st.open}
	_, err = r.ReadChallenge(context.Background(), mustDest(t, "azure://logs/cf?sv=1&sp=rw&sig=c2ln"), "cf/x.txt")
	if err == nil || !strings.Contains(err.Error(), "no storage account") || !strings.Contains(err.Error(), EnvAzureAccount) {
		t.Fatalf("%v", err)
	}
}

// TestBucketReaderFailures: store errors are told apart (the SDKs' types,
// or their messages when a provider flattened them), named with the
// credentials tried, and never retried as "missing".
func TestBucketReaderFailures(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, c := range []struct {
		name string
		conf string
		err  error
		want []string
		hint string
	}{
		{"s3 access denied", "s3://b/logs?region=us-east-1", &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"},
			[]string{"access denied with the AWS default credentials", "AccessDenied: Access Denied", "s3:ListBucket"}, "AWS_PROFILE"},
		{"s3 wrong secret", "s3://b/logs?region=us-east-1", fmt.Errorf("s3://b/logs/x: %w", &smithy.GenericAPIError{Code: "SignatureDoesNotMatch", Message: "The request signature we calculated does not match"}),
			[]string{"the store rejected the AWS default credentials", "SignatureDoesNotMatch"}, "--s3-access-key-id"},
		{"s3 flattened message", "s3://b/logs?region=us-east-1", errors.New("s3://b/logs/x: operation error S3: GetObject, https response error StatusCode: 403, api error InvalidAccessKeyId: The AWS Access Key Id you provided does not exist"),
			[]string{"the store rejected", "InvalidAccessKeyId"}, "AWS_ACCESS_KEY_ID"},
		{"s3 no credentials", "s3://b/logs?region=us-east-1", errors.New("operation error S3: GetObject, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found"),
			[]string{"the AWS default credentials (shared config and credentials files, SSO, instance role) found no credentials"}, "AWS_PROFILE"},
		{"s3 wrong region", "s3://b/logs?region=us-east-1", &smithy.GenericAPIError{Code: "PermanentRedirect", Message: "use the specified endpoint"},
			[]string{"wrong region"}, "region="},
		{"s3 no bucket", "s3://b/logs?region=us-east-1", &smithy.GenericAPIError{Code: "NoSuchBucket"},
			[]string{"the bucket does not exist"}, "--storage-endpoint"},
		{"gcs forbidden", "gs://b/logs", &googleapi.Error{Code: 403, Message: "caller does not have storage.objects.get access"},
			[]string{"access denied with Application Default Credentials", "HTTP 403: caller does not have storage.objects.get access"}, "--gcs-credentials"},
		{"gcs key refused", "gs://b/logs", errors.New(`gs://b/logs/x: get: Get "http://h/b/logs%2Fx": auth: cannot fetch token: 400 Response: {"error":"invalid_grant"}`),
			[]string{"the store rejected Application Default Credentials", "invalid_grant"}, "--gcs-credentials"},
		{"gcs no credentials", "gs://b/logs", errors.New("gcs: credentials: could not find default credentials. See https://cloud.google.com/docs/authentication"),
			[]string{"found no credentials"}, "GOOGLE_APPLICATION_CREDENTIALS"},
		{"azure flattened message", "azure://acct.blob.core.windows.net/c/logs?sp=rw&sig=c2ln", errors.New("GET https://acct.blob.core.windows.net/c/logs/x\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: AuthorizationPermissionMismatch\n----\n<?xml ...>"),
			[]string{"access denied with the destination's SAS: HTTP 403 AuthorizationPermissionMismatch", "usually lacks Read"}, EnvAzureSAS},
		{"unreachable", "s3://b/logs?region=us-east-1", fmt.Errorf("operation error S3: GetObject: %w", refused),
			[]string{"could not reach the store"}, "--storage-endpoint"},
		{"timeout", "gs://b/logs", context.DeadlineExceeded, []string{"could not reach the store"}, "--storage-endpoint"},
		{"other", "gs://b/logs", errors.New("gcs: something odd\nhappened"), []string{"reading with Application Default Credentials", "failed: gcs: something odd happened"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &fileStores{dir: t.TempDir(), fail: func(objstore.Config) error { return c.err }}
			r := &BucketReader{Getenv: env(nil), Open: st.open}
			_, err := r.ReadChallenge(context.Background(), mustDest(t, c.conf), "logs/ownership-challenge-1.txt")
			var bre *BucketReadError
			if !errors.As(err, &bre) || errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(bre.Hint, c.hint) {
				t.Errorf("hint %q lacks %q", bre.Hint, c.hint)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "s3://b/logs/x") {
				t.Errorf("multi-line error, or one naming the object again: %q", err)
			}
		})
	}
}

func TestBucketReaderRefuses(t *testing.T) {
	r := &BucketReader{Getenv: env(nil), Open: (&fileStores{dir: t.TempDir()}).open}
	for conf, want := range map[string]string{
		"sumo://endpoint1.collection.sumologic.com/receiver/v1/http/c0de": "Sumo Logic collector, not a bucket",
		"azure://logs/cf?sv=1&sp=w&sig=c2ln":                              "no storage account",
		"azure://logs/cf":                                                 "no Azure credentials",
	} {
		_, err := r.ReadChallenge(context.Background(), mustDest(t, conf), "cf/x.txt")
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "c0de") {
			t.Errorf("%s: %v, want %q", conf, err, want)
		}
	}
}

// TestOwnershipChallengeBucket: the whole flow through a BucketReader:
// the file shows up late, is read, and failures come back as a
// ChallengeError that names the object and hides secrets.
func TestOwnershipChallengeBucket(t *testing.T) {
	const file = "cf/20260101/ownership-challenge-5e6f7a8b.txt"
	ts, _ := apiServer(t, reply(200, `{"success":true,"errors":[],"messages":[],"result":{"filename":"`+file+`","message":"","valid":true}}`))
	st := &fileStores{dir: t.TempDir()}
	dest := mustDest(t, "gs://logs/cf/{DATE}")
	sleeps := 0
	red := NewRedactor()
	c := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}, Redact: red, Sleep: func(context.Context, time.Duration) error {
		if sleeps++; sleeps == 3 {
			st.put(t, "logs", file, testToken)
		}
		return nil
	}}
	token, name, err := c.OwnershipChallenge(context.Background(), Zone("z"), dest, &BucketReader{Getenv: env(nil), Open: st.open}, time.Minute)
	if err != nil || token != testToken || name != file || sleeps != 3 || red.Scrub(token) != Mask {
		t.Fatalf("%q %q %v after %d sleeps", token, name, err, sleeps)
	}

	// Still missing when the wait is over.
	_, _, err = c.OwnershipChallenge(context.Background(), Zone("z"), dest, &BucketReader{Getenv: env(nil), Open: (&fileStores{dir: t.TempDir()}).open}, 0)
	var ce *ChallengeError
	if !errors.As(err, &ce) || !ce.Missing || !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), "the ownership challenge Cloudflare wrote to gs://logs/"+file+" did not appear within 0s") {
		t.Fatalf("%v", err)
	}

	// A failure is not waited for, names the object, and a secret the store
	// quotes is scrubbed.
	red.Add("very-secret-account-key")
	failing := &fileStores{dir: t.TempDir(), fail: func(objstore.Config) error {
		return errors.New("403 Forbidden: key very-secret-account-key is not allowed")
	}}
	sleeps = 0
	_, _, err = c.OwnershipChallenge(context.Background(), Zone("z"), dest, &BucketReader{Getenv: env(nil), Open: failing.open}, time.Minute)
	if !errors.As(err, &ce) || ce.Missing || sleeps != 0 || !strings.HasPrefix(err.Error(), "Cloudflare wrote the ownership challenge to gs://logs/"+file+", but reading it failed: access denied") ||
		strings.Contains(err.Error(), "very-secret") {
		t.Fatalf("%v after %d sleeps", err, sleeps)
	}
}

// TestOwnershipChallengeHostileFilename: a file name from the API that no
// bucket key can be is refused before any read.
func TestOwnershipChallengeHostileFilename(t *testing.T) {
	for _, name := range []string{"../../etc/passwd", "/abs/key", "a/../../b", "a\x00b", strings.Repeat("k", 1100)} {
		quoted, _ := json.Marshal(name)
		body := fmt.Sprintf(`{"success":true,"errors":[],"messages":[],"result":{"filename":%s,"valid":true}}`, quoted)
		ts, _ := apiServer(t, func(w http.ResponseWriter, r *http.Request) { reply(200, body)(w, r) })
		st := &fileStores{dir: t.TempDir()}
		c := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}}
		_, _, err := c.OwnershipChallenge(context.Background(), Zone("z"), mustDest(t, "s3://b/p?region=us-east-1"), &BucketReader{Getenv: env(nil), Open: st.open}, time.Minute)
		if err == nil || !strings.Contains(err.Error(), "Cloudflare named the ownership challenge") || len(st.cfgs) != 0 {
			t.Errorf("%q: %v (%d opens)", name, err, len(st.cfgs))
		}
	}
}

func TestAzureKeys(t *testing.T) {
	for _, c := range []struct{ conf, filename, want string }{
		{"azure://acct.blob.core.windows.net/logs/cf?sig=x", "cf/ownership-challenge-1.txt", "cf/ownership-challenge-1.txt"},
		{"azure://acct.blob.core.windows.net/logs/cf?sig=x", "logs/cf/ownership-challenge-1.txt", "cf/ownership-challenge-1.txt"},
		{"azure://acct.blob.core.windows.net/logs/cf/{DATE}?sig=x", "logs/cf/20260101/ownership-challenge-1.txt", "cf/20260101/ownership-challenge-1.txt"},
		{"azure://acct.blob.core.windows.net/logs?sig=x", "logs/ownership-challenge-1.txt", "ownership-challenge-1.txt"},
		{"azure://acct.blob.core.windows.net/logs?sig=x", "ownership-challenge-1.txt", "ownership-challenge-1.txt"},
		// A directory named like the container is not stripped.
		{"azure://acct.blob.core.windows.net/logs/logs/x?sig=x", "logs/x/ownership-challenge-1.txt", "logs/x/ownership-challenge-1.txt"},
		{"azure://acct.blob.core.windows.net/logs/logs/x?sig=x", "logs/logs/x/ownership-challenge-1.txt", "logs/x/ownership-challenge-1.txt"},
		// Anything else is used as Cloudflare named it.
		{"azure://acct.blob.core.windows.net/logs/cf?sig=x", "elsewhere/ownership-challenge-1.txt", "elsewhere/ownership-challenge-1.txt"},
	} {
		cfg, err := objstore.FromDestination(c.conf)
		if err != nil {
			t.Fatal(err)
		}
		if got := azureKeys(cfg)(c.filename); got[0] != c.want || got[len(got)-1] != c.filename {
			t.Errorf("%s %s: %q, want %q", c.conf, c.filename, got, c.want)
		}
	}
}

func TestAccountFromEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:10000/devstoreaccount1": "devstoreaccount1",
		"https://acct.blob.core.windows.net":      "acct",
		"acct.blob.core.usgovcloudapi.net":        "acct",
		"https://storage.example.com":             "",
		"":                                        "",
		"ftp://x":                                 "",
	} {
		if got := accountFromEndpoint(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestNewChallengeReaderSpecs(t *testing.T) {
	for spec, want := range map[string]any{
		"file:///srv/sync": LocalDirReader{Dir: "/srv/sync"},
		"file://rel/dir":   LocalDirReader{Dir: "rel/dir"},
		"/plain/dir":       LocalDirReader{Dir: "/plain/dir"},
	} {
		got, err := NewChallengeReader(spec)
		if err != nil || got != want {
			t.Errorf("%s: %#v %v", spec, got, err)
		}
	}
	for _, spec := range []string{"s3://bucket", "gs://b", "azure://c"} {
		if _, err := NewChallengeReader(spec); !errors.Is(err, ErrNoReader) || !strings.Contains(err.Error(), "buckets are read directly") {
			t.Errorf("%s: %v", spec, err)
		}
	}
}

func TestBrief(t *testing.T) {
	long := strings.Repeat("word ", 100)
	for in, want := range map[string]string{
		"a\n  b\tc": "a b c",
		long:        strings.TrimSpace(long[:395]) + "...",
	} {
		if got := brief(in); got != want || len(got) > 400 {
			t.Errorf("brief(%.20q...) = %q, want %q", in, got, want)
		}
	}
	if got := storeNameRe.ReplaceAllString("s3://b@127.0.0.1:9000: get logs/x.txt: AccessDenied", ""); got != "AccessDenied" {
		t.Errorf("storeNameRe left %q", got)
	}
}
