package cli

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/flarehose/flarehose/internal/objstore"
	"github.com/flarehose/flarehose/internal/objstore/objstoretest"
	"github.com/flarehose/flarehose/internal/sim/cfapi"
)

// End-to-end ownership challenges: `logpush jobs create --to s3://|gs://|
// azure://` against the Cloudflare API simulator, whose Storage writes the
// challenge into a real MinIO, fake-gcs-server or Azurite (as Cloudflare
// writes with its own identity), and the command reads it back from there
// with the owner's credentials. The servers come from test/objstore/*.sh
// (make test-objstore); without their variables these tests skip, or fail
// with FLAREHOSE_REQUIRE_OBJSTORE=1.

// cfStorage writes as Cloudflare does: MinIO's root keys stand in for
// Cloudflare's IAM user (s3://, and r2:// whose keys MinIO would not know),
// fake-gcs-server takes anything (gs://), and Azure is written with the
// destination's own SAS.
type cfStorage struct {
	s3Endpoint, s3Key, s3Secret string
	gcsEndpoint                 string
	azureEndpoint               string
}

func (s cfStorage) Bucket(ctx context.Context, dest *cfapi.ObjectDestination) (objstore.Bucket, error) {
	switch dest.Scheme {
	case "s3", "r2":
		return objstore.Open(ctx, objstore.Config{Provider: objstore.ProviderS3, Bucket: dest.Bucket, Endpoint: s.s3Endpoint,
			Region: "us-east-1", AccessKeyID: s.s3Key, SecretAccessKey: s.s3Secret})
	case "gs":
		return objstore.Open(ctx, objstore.Config{Provider: objstore.ProviderGCS, Bucket: dest.Bucket, Endpoint: s.gcsEndpoint})
	case "azure":
		_, query, _ := strings.Cut(dest.Conf, "?")
		return objstore.Open(ctx, objstore.Config{Provider: objstore.ProviderAzure, Bucket: dest.Bucket, Endpoint: s.azureEndpoint, SASToken: query})
	}
	return nil, fmt.Errorf("%s:// is not a bucket", dest.Scheme)
}

// noHostCredentials keeps what the machine holds out of the command:
// objstoretest's servers clear the cloud variables, and here the instance
// metadata service and the home directory's gcloud credentials go too.
func noHostCredentials(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", t.TempDir()) // ~/.config/gcloud/application_default_credentials.json
}

// challengeTokens returns the content of every ownership challenge file
// under prefix: the tokens the outputs must not show.
func challengeTokens(t *testing.T, b objstore.Bucket, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var tokens []string
	err := b.List(ctx, prefix, "", func(o objstore.Object) error {
		if strings.HasPrefix(filepath.Base(o.Key), "ownership-challenge") {
			data, err := objstore.ReadAll(ctx, b, o.Key, 1<<16)
			if err != nil {
				return err
			}
			tokens = append(tokens, string(data))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// lpCase is one run of the command and what its output must show.
type lpCase struct {
	name    string
	env     map[string]string
	args    []string
	code    int
	want    []string // in stderr
	wantOut []string // in stdout
	secrets []string // in neither
	within  time.Duration
}

func (h *lpHarness) check(t *testing.T, c lpCase) (stdout, stderr string) {
	t.Helper()
	for k, v := range c.env {
		t.Setenv(k, v)
	}
	start := time.Now()
	code, out, errs := h.run(c.args...)
	took := time.Since(start)
	if code != c.code {
		t.Fatalf("exit %d, want %d (%s):\n%s%s", code, c.code, took, out, errs)
	}
	for _, w := range c.want {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	for _, w := range c.wantOut {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
	noSecrets(t, []string{out, errs}, append(c.secrets, h.srv.Token())...)
	if c.within > 0 && took > c.within {
		t.Errorf("took %s, want under %s", took.Round(time.Millisecond), c.within)
	}
	return out, errs
}

func TestLogpushObjstoreS3(t *testing.T) {
	srv := objstoretest.S3(t)
	noHostCredentials(t)
	endpoint, key, secret, bucket := srv.Endpoint, srv.AccessKey, srv.SecretKey, srv.NewBucket(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	storage := cfStorage{s3Endpoint: endpoint, s3Key: key, s3Secret: secret}
	cfBucket, err := storage.Bucket(ctx, &cfapi.ObjectDestination{Scheme: "s3", Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	h := newLPHarness(t, cfapi.Config{Storage: storage})
	const wrongSecret = "wrong-secret-0123456789abcdefghij"
	readRe := regexp.MustCompile(`ownership challenge read from s3://` + bucket + `/p1/\d{8}/ownership-challenge-[0-9a-f]{8}\.txt with the AWS default credentials \(AWS_ACCESS_KEY_ID ` + key + `\)`)
	create := func(prefix string, extra ...string) []string {
		return append([]string{"jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--enabled=false",
			"--to", "s3://" + bucket + "/" + prefix + "?region=us-east-1"}, extra...)
	}
	noEnv := map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL_S3": ""}
	withKeys := map[string]string{"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL_S3": ""}

	t.Run("default chain from the environment", func(t *testing.T) {
		conf := "s3://" + bucket + "/p1/{DATE}?region=us-east-1"
		_, errs := h.check(t, lpCase{env: withKeys, code: 0, secrets: []string{secret},
			args:    []string{"jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--enabled=false", "--to", conf, "--storage-endpoint", endpoint},
			wantOut: []string{"destination:       " + conf}, want: []string{"created job"}})
		if !readRe.MatchString(errs) {
			t.Errorf("stderr lacks %s:\n%s", readRe, errs)
		}
		tokens := challengeTokens(t, cfBucket, "p1/")
		if len(tokens) != 1 {
			t.Fatalf("%d challenge files under p1/", len(tokens))
		}
		noSecrets(t, []string{errs}, tokens...)
		h.check(t, lpCase{args: []string{"jobs", "list", "--account", h.account}, secrets: tokens})
	})
	t.Run("AWS_ENDPOINT_URL_S3", func(t *testing.T) {
		env := map[string]string{"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL_S3": endpoint}
		h.check(t, lpCase{env: env, args: create("p2"), secrets: []string{secret},
			want: []string{"ownership challenge read from s3://" + bucket + "/p2/ownership-challenge-", "created job"}})
	})
	t.Run("keys from flags", func(t *testing.T) {
		h.check(t, lpCase{env: noEnv, args: create("p3", "--storage-endpoint", endpoint, "--s3-access-key-id", key, "--s3-secret-access-key", secret),
			secrets: []string{secret}, want: []string{"ownership challenge read from s3://" + bucket + "/p3/", "with the access key " + key + " (--s3-access-key-id)"}})
	})
	t.Run("update to a new destination", func(t *testing.T) {
		out, _ := h.check(t, lpCase{env: withKeys, args: create("p4", "--storage-endpoint", endpoint), secrets: []string{secret}})
		id := createdID(t, out)
		h.check(t, lpCase{env: withKeys, secrets: []string{secret},
			args:    []string{"jobs", "update", id, "--account", h.account, "--to", "s3://" + bucket + "/p4b?region=us-east-1", "--storage-endpoint", endpoint},
			want:    []string{"ownership challenge read from s3://" + bucket + "/p4b/ownership-challenge-", "updated job " + id},
			wantOut: []string{"s3://" + bucket + "/p4b?region=us-east-1"}})
	})
	t.Run("wrong secret", func(t *testing.T) {
		env := map[string]string{"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": wrongSecret}
		h.check(t, lpCase{env: env, args: create("p5", "--storage-endpoint", endpoint), code: exitFail, within: 15 * time.Second,
			secrets: []string{wrongSecret, secret},
			want: []string{"Cloudflare wrote the ownership challenge to s3://" + bucket + "/p5/ownership-challenge-",
				"the store rejected the AWS default credentials (AWS_ACCESS_KEY_ID " + key + "): SignatureDoesNotMatch",
				"hint: give credentials that can read s3://" + bucket, "--ownership-challenge-file FILE"}})
		// The same through the flag: the secret from the flag is masked too.
		h.check(t, lpCase{env: noEnv, args: create("p5", "--storage-endpoint", endpoint, "--s3-access-key-id", key, "--s3-secret-access-key", wrongSecret),
			code: exitFail, secrets: []string{wrongSecret, secret}, want: []string{"the store rejected the access key " + key + " (--s3-access-key-id): SignatureDoesNotMatch"}})
	})
	t.Run("unknown key", func(t *testing.T) {
		env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDUNKNOWN0000", "AWS_SECRET_ACCESS_KEY": wrongSecret}
		h.check(t, lpCase{env: env, args: create("p6", "--storage-endpoint", endpoint), code: exitFail, within: 15 * time.Second,
			secrets: []string{wrongSecret}, want: []string{"the store rejected the AWS default credentials (AWS_ACCESS_KEY_ID AKIDUNKNOWN0000): InvalidAccessKeyId"}})
	})
	t.Run("no credentials", func(t *testing.T) {
		h.check(t, lpCase{env: noEnv, args: create("p7", "--storage-endpoint", endpoint), code: exitFail, within: 15 * time.Second,
			want: []string{"the AWS default credentials (shared config and credentials files, SSO, instance role) found no credentials", "hint: give credentials that can read"}})
	})
	t.Run("unreachable endpoint", func(t *testing.T) {
		h.check(t, lpCase{env: withKeys, args: create("p8", "--storage-endpoint", objstoretest.ClosedEndpoint(t)), code: exitFail, within: 15 * time.Second,
			secrets: []string{secret}, want: []string{"could not reach the store", "hint: check the endpoint"}})
	})
	t.Run("bad flags", func(t *testing.T) {
		h.check(t, lpCase{env: noEnv, args: create("p9", "--s3-access-key-id", key), code: exitUsage, want: []string{"--s3-access-key-id needs its secret: set AWS_SECRET_ACCESS_KEY"}})
		h.check(t, lpCase{env: noEnv, args: create("p9", "--s3-secret-access-key", wrongSecret), code: exitUsage, secrets: []string{wrongSecret}, want: []string{"--s3-secret-access-key needs --s3-access-key-id"}})
		h.check(t, lpCase{env: noEnv, args: create("p9", "--storage-endpoint", "ftp://x"), code: exitUsage, want: []string{"--storage-endpoint"}})
	})
	t.Run("dry run reads nothing", func(t *testing.T) {
		before := h.calls.Load()
		h.check(t, lpCase{env: withKeys, args: create("p10", "--storage-endpoint", endpoint, "--dry-run"), secrets: []string{secret},
			wantOut: []string{"/logpush/ownership", "# then read the challenge file it names from s3://" + bucket + " with the AWS default credentials", `"ownership_challenge": "***"`}})
		if h.calls.Load() != before || len(challengeTokens(t, cfBucket, "p10/")) != 0 {
			t.Fatal("--dry-run called the API or wrote a challenge")
		}
	})
	t.Run("r2 and s3 with keys take no challenge", func(t *testing.T) {
		h := newLPHarness(t, cfapi.Config{Storage: storage}) // Cloudflare allows 4 jobs per dataset
		for _, conf := range []string{
			"r2://" + bucket + "/r2?account-id=" + h.account + "&access-key-id=" + key + "&secret-access-key=" + url.QueryEscape(secret),
			"s3://" + bucket + "/compat?region=us-east-1&access-key-id=" + key + "&secret-access-key=" + url.QueryEscape(secret) + "&endpoint=" + strings.TrimPrefix(endpoint, "http://"),
		} {
			_, errs := h.check(t, lpCase{env: noEnv, args: []string{"jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--enabled=false", "--to", conf, "--storage-endpoint", endpoint},
				secrets: []string{secret}, want: []string{"created job", "takes no ownership challenge; --storage-endpoint ignored"}, wantOut: []string{"secret-access-key=***"}})
			if strings.Contains(errs, "ownership challenge read") {
				t.Errorf("%s: a challenge was read:\n%s", conf, errs)
			}
		}
		if n := len(challengeTokens(t, cfBucket, "r2/")) + len(challengeTokens(t, cfBucket, "compat/")); n != 0 {
			t.Fatalf("%d challenge files for destinations that take none", n)
		}
	})
}

func TestLogpushObjstoreGCS(t *testing.T) {
	gcs := objstoretest.GCS(t)
	noHostCredentials(t)
	endpoint, bucket := gcs.Endpoint, gcs.NewBucket(t)
	storage := cfStorage{gcsEndpoint: endpoint}
	cfBucket, err := storage.Bucket(context.Background(), &cfapi.ObjectDestination{Scheme: "gs", Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	h := newLPHarness(t, cfapi.Config{Storage: storage})
	create := func(prefix string, extra ...string) []string {
		return append([]string{"jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--enabled=false", "--to", "gs://" + bucket + "/" + prefix}, extra...)
	}
	t.Run("STORAGE_EMULATOR_HOST", func(t *testing.T) {
		host := strings.TrimPrefix(endpoint, "http://")
		h.check(t, lpCase{env: map[string]string{"STORAGE_EMULATOR_HOST": host}, args: create("g1/{DATE}"),
			want:    []string{"ownership challenge read from gs://" + bucket + "/g1/", "with no credentials (the emulator at STORAGE_EMULATOR_HOST=" + host + ")"},
			wantOut: []string{"destination:       gs://" + bucket + "/g1/{DATE}"}})
		t.Setenv("STORAGE_EMULATOR_HOST", "")
		os.Unsetenv("STORAGE_EMULATOR_HOST")
	})
	t.Run("storage endpoint", func(t *testing.T) {
		h.check(t, lpCase{args: create("g2", "--storage-endpoint", endpoint), want: []string{"ownership challenge read from gs://" + bucket + "/g2/ownership-challenge-"}})
		if tokens := challengeTokens(t, cfBucket, "g2/"); len(tokens) != 1 {
			t.Fatalf("%d challenge files", len(tokens))
		}
	})
	t.Run("rejected service account", func(t *testing.T) {
		// A well-formed key whose token exchange is refused, as Google
		// refuses a deleted or disabled key.
		tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
		}))
		defer tokenSrv.Close()
		keyFile, pemKey := serviceAccountKey(t, tokenSrv.URL)
		h.check(t, lpCase{args: create("g3", "--storage-endpoint", endpoint, "--gcs-credentials", keyFile), code: exitFail, within: 20 * time.Second,
			secrets: []string{pemKey[40:80]},
			want: []string{"Cloudflare wrote the ownership challenge to gs://" + bucket + "/g3/ownership-challenge-", "the service account key " + keyFile,
				"hint: give credentials that can read gs://" + bucket, "--ownership-challenge-file FILE"}})
	})
	t.Run("missing key file", func(t *testing.T) {
		h.check(t, lpCase{args: create("g4", "--gcs-credentials", filepath.Join(t.TempDir(), "none.json")), code: exitUsage, want: []string{"--gcs-credentials:"}})
	})
}

// serviceAccountKey writes a service account key file whose token_uri is
// tokenURI, returning its path and the PEM private key.
func serviceAccountKey(t *testing.T, tokenURI string) (string, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	data, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "flarehose-test", "private_key_id": "0123456789abcdef",
		"private_key": pemKey, "client_email": "reader@flarehose-test.iam.gserviceaccount.com", "client_id": "1", "token_uri": tokenURI})
	p := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, pemKey
}

func TestLogpushObjstoreAzure(t *testing.T) {
	az := objstoretest.Azure(t)
	noHostCredentials(t)
	endpoint, account, key, container := az.Endpoint, az.Account, az.Key, az.NewContainer(t)
	// What Cloudflare's docs ask for: an account SAS for blobs (ss=b),
	// objects only (srt=o), allowing Write and nothing to read with.
	accountSAS := func(perms sas.AccountPermissions) (token, sig string) {
		token = az.SAS(t, perms, sas.AccountResourceTypes{Object: true}, time.Now().AddDate(5, 0, 0))
		q, _ := url.ParseQuery(token)
		return token, q.Get("sig")
	}
	writeSAS, writeSig := accountSAS(sas.AccountPermissions{Write: true, Create: true})
	readSAS, readSig := accountSAS(sas.AccountPermissions{Read: true})
	storage := cfStorage{azureEndpoint: endpoint}
	h := newLPHarness(t, cfapi.Config{Storage: storage})
	dest := func(prefix string) string { return "azure://" + container + "/" + prefix + "?" + writeSAS }
	create := func(prefix string, extra ...string) []string {
		return append([]string{"jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--enabled=false", "--to", dest(prefix)}, extra...)
	}
	connString := "DefaultEndpointsProtocol=http;AccountName=" + account + ";AccountKey=" + key + ";BlobEndpoint=" + endpoint + ";"
	const wrongKey = "d3Jvbmcta2V5LXRoYXQtaXMtbG9uZy1lbm91Z2gtdG8tbG9vay1yZWFs"
	secrets := []string{key, writeSig, readSig, url.QueryEscape(writeSig)}
	cases := []lpCase{
		{name: "account key from the environment", env: map[string]string{"AZURE_STORAGE_KEY": key}, args: create("a1/{DATE}", "--storage-endpoint", endpoint),
			want:    []string{"ownership challenge read from azure://" + container + "/a1/", "with AZURE_STORAGE_KEY (account " + account + ")"},
			wantOut: []string{"sig=***"}},
		{name: "connection string", env: map[string]string{"AZURE_STORAGE_CONNECTION_STRING": connString}, args: create("a2"),
			want: []string{"ownership challenge read from azure://" + container + "/a2/ownership-challenge-", "with AZURE_STORAGE_CONNECTION_STRING"}},
		{name: "read SAS from a flag", args: create("a3", "--storage-endpoint", endpoint, "--azure-sas", readSAS),
			want: []string{"ownership challenge read from azure://" + container + "/a3/", "with --azure-sas"}},
		{name: "the destination's write-only SAS", args: create("a4", "--storage-endpoint", endpoint), code: exitFail, within: 10 * time.Second,
			want: []string{"Cloudflare wrote the ownership challenge to azure://" + container + "/a4/ownership-challenge-",
				"the destination's SAS was not tried: it allows sp=wc, not Read (Cloudflare needs only Write)", "AZURE_STORAGE_CONNECTION_STRING", "--ownership-challenge-file FILE"}},
		{name: "a write-only SAS given to read with", env: map[string]string{"AZURE_STORAGE_SAS_TOKEN": writeSAS}, args: create("a5", "--storage-endpoint", endpoint),
			code: exitFail, within: 15 * time.Second,
			want: []string{"access denied with AZURE_STORAGE_SAS_TOKEN: ", "AuthorizationPermissionMismatch"}},
		{name: "wrong account key", env: map[string]string{"AZURE_STORAGE_KEY": wrongKey}, args: create("a6", "--storage-endpoint", endpoint), code: exitFail, within: 15 * time.Second,
			// Azure answers a wrong key with 403 AuthorizationFailure, as
			// it answers network rules: "access denied", not "rejected".
			want: []string{"access denied with AZURE_STORAGE_KEY (account " + account + "): ", "AuthorizationFailure", "then the destination's SAS was not tried"}},
		{name: "wrong key from a flag", args: create("a7", "--storage-endpoint", endpoint, "--azure-key", wrongKey), code: exitFail,
			want: []string{"access denied with --azure-key (account " + account + ")"}},
		{name: "no account", env: map[string]string{"AZURE_STORAGE_KEY": key}, args: create("a8"), code: exitFail,
			want: []string{"no storage account", "AZURE_STORAGE_ACCOUNT"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.secrets = append(c.secrets, append(secrets, wrongKey)...)
			h.check(t, c)
		})
	}
}

// TestLogpushObjstoreSumo: a Sumo Logic destination's challenge goes to the
// collector, which flarehose cannot read: the command says so (the
// simulator keeps no Sumo collector, so a stub answers the API here).
func TestLogpushObjstoreSumo(t *testing.T) {
	const code = "ZaVnC4dhaV0123456789"
	conf := "sumo://endpoint1.collection.sumologic.com/receiver/v1/http/" + code
	var paths []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"success":true,"errors":[],"messages":[],"result":{"filename":"ownership-challenge-5a5a5a5a.txt","message":"","valid":true}}`))
	}))
	defer api.Close()
	account := strings.Repeat("a", 32)
	args := []string{"logpush", "jobs", "create", "--account", account, "--dataset", "audit_logs", "--to", conf, "--fields", "ActorEmail,When",
		"--base-url", api.URL, "--api-token", "stub-token-0123456789"}
	exit, out, errs := run(t, "", args...)
	if exit != exitFail || !strings.Contains(errs, "Cloudflare sent the ownership challenge (ownership-challenge-5a5a5a5a.txt) to the Sumo Logic collector") ||
		!strings.Contains(errs, "flarehose cannot read Sumo Logic") || !strings.Contains(errs, "--ownership-challenge-file FILE") {
		t.Fatalf("exit %d: %s%s", exit, out, errs)
	}
	if len(paths) != 1 || paths[0] != "POST /accounts/"+account+"/logpush/ownership" {
		t.Fatalf("API calls %v: want only the ownership request", paths)
	}
	exit, out, errs = run(t, "", append(args, "--dry-run")...)
	if exit != 0 || !strings.Contains(out, "# then find the challenge in Sumo Logic (flarehose cannot read it there)") || len(paths) != 1 {
		t.Fatalf("dry run: exit %d, %d calls: %s%s", exit, len(paths), out, errs)
	}
	noSecrets(t, []string{out, errs}, code, "stub-token-0123456789")
}

// TestLogpushChallengeFromStdin: a challenge copied by hand, piped in.
func TestLogpushChallengeFromStdin(t *testing.T) {
	dir := t.TempDir()
	h := newLPHarness(t, cfapi.Config{Storage: cfapi.LocalDir{Dir: dir}})
	conf := "gs://copied-by-hand/cf"
	// Cloudflare writes the file; reading it from an empty copy fails at once
	// and names it.
	h.check(t, lpCase{args: []string{"jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", conf,
		"--challenge-from", "file://" + t.TempDir(), "--challenge-wait", "0s"}, code: exitFail,
		want: []string{"the ownership challenge Cloudflare wrote to gs://copied-by-hand/cf/ownership-challenge-", "did not appear within 0s",
			"hint: Cloudflare may need longer", "--ownership-challenge-file FILE"}})
	files, _ := filepath.Glob(filepath.Join(dir, "gs", "copied-by-hand", "cf", "ownership-challenge-*.txt"))
	if len(files) != 1 {
		t.Fatalf("challenge files %v", files)
	}
	token, _ := os.ReadFile(files[0])
	code, out, errs := run(t, string(token)+"\n", "logpush", "jobs", "create", "--account", h.account, "--dataset", "audit_logs", "--to", conf,
		"--ownership-challenge-file", "-", "--base-url", h.base, "--api-token", h.srv.Token())
	if code != 0 || !strings.Contains(out, "destination:       "+conf) {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	noSecrets(t, []string{out, errs}, string(token))
}
