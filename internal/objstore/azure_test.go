package objstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/flarehose/flarehose/internal/objstore/objstoretest"
)

// Tests against a real Azurite (objstoretest.Azure).

// azureKeyConfig is a Config for containerName on the test server with
// its account key.
func azureKeyConfig(s objstoretest.AzureServer, containerName string) Config {
	return Config{Provider: ProviderAzure, Bucket: containerName, Endpoint: s.Endpoint, AccountName: s.Account, AccountKey: s.Key}
}

func openAzure(t testing.TB, cfg Config) Bucket {
	t.Helper()
	b, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return b
}

// azureNoSecrets fails when err's text holds any of the secrets.
func azureNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error leaks a secret (%.6s...): %s", s, msg)
		}
	}
	if m := azureSigValueRE.FindString(msg); m != "" && m != "sig=REDACTED" {
		t.Errorf("error quotes a SAS signature: %s", msg)
	}
}

var azureSigValueRE = regexp.MustCompile(`(?i)sig=[^&\s"')]+`)

func azureSigOf(t *testing.T, token string) string {
	t.Helper()
	q, err := url.ParseQuery(token)
	if err != nil || q.Get("sig") == "" {
		t.Fatalf("SAS without sig: %v", err)
	}
	return q.Get("sig")
}

func TestAzureBucket(t *testing.T) {
	s := objstoretest.Azure(t)
	name := s.NewContainer(t)
	b := openAzure(t, azureKeyConfig(s, name))
	if got, want := b.String(), "azure://"+s.Account+"/"+name; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	testBucket(t, b)

	// Content-Encoding: gzip is stored as metadata; Get still returns the
	// gzip bytes, not what an HTTP client would decompress them to.
	ctx := context.Background()
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0} // gzip of ""
	if err := b.Put(ctx, "enc/x.log.gz", gz, PutOptions{ContentType: "application/json", ContentEncoding: "gzip"}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(ctx, b, "enc/x.log.gz", 0)
	if err != nil || !bytes.Equal(got, gz) {
		t.Fatalf("Get of a gzip-encoded blob = %x, %v: want the stored bytes %x", got, err, gz)
	}
}

func TestAzureConnectionString(t *testing.T) {
	s := objstoretest.Azure(t)
	name := s.NewContainer(t)
	cs := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;", s.Account, s.Key, s.Endpoint)
	b := openAzure(t, Config{Provider: ProviderAzure, Bucket: name, ConnectionString: cs})
	if got, want := b.String(), "azure://"+s.Account+"/"+name; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	ctx := context.Background()
	if err := b.Put(ctx, "a/b.txt", []byte("hello"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadAll(ctx, b, "a/b.txt", 0); err != nil || string(got) != "hello" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}

	// The same credentials from the environment.
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", cs)
	b = openAzure(t, Config{Provider: ProviderAzure, Bucket: name})
	if got, err := ReadAll(ctx, b, "a/b.txt", 0); err != nil || string(got) != "hello" {
		t.Fatalf("with AZURE_STORAGE_CONNECTION_STRING: ReadAll = %q, %v", got, err)
	}
}

// Cloudflare writes with a SAS that may only write (sp=w, srt=o): Put must
// work, reading and listing must say the SAS forbids them.
func TestAzureSASPermissions(t *testing.T) {
	s := objstoretest.Azure(t)
	name := s.NewContainer(t)
	ctx := context.Background()
	owner := openAzure(t, azureKeyConfig(s, name))
	if err := owner.Put(ctx, "logs/existing.txt", []byte("x"), PutOptions{}); err != nil {
		t.Fatal(err)
	}

	writeOnly := s.SAS(t, sas.AccountPermissions{Write: true}, sas.AccountResourceTypes{Object: true}, time.Now().Add(5*365*24*time.Hour))
	if q, _ := url.ParseQuery(writeOnly); q.Get("sp") != "w" || q.Get("srt") != "o" || q.Get("ss") != "b" {
		t.Fatalf("test SAS is not Cloudflare's shape: %s", strings.ReplaceAll(writeOnly, q.Get("sig"), "..."))
	}
	readList := s.SAS(t, sas.AccountPermissions{Read: true, List: true}, sas.AccountResourceTypes{Container: true, Object: true}, time.Now().Add(time.Hour))
	secrets := []string{azureSigOf(t, writeOnly), url.QueryEscape(azureSigOf(t, writeOnly)), azureSigOf(t, readList), url.QueryEscape(azureSigOf(t, readList)), s.Key}

	w := openAzure(t, Config{Provider: ProviderAzure, Bucket: name, Endpoint: s.Endpoint, SASToken: writeOnly})
	if strings.Contains(w.String(), "?") || w.String() != "azure://"+s.Account+"/"+name {
		t.Errorf("String() = %q", w.String())
	}
	r := openAzure(t, Config{Provider: ProviderAzure, Bucket: name, Endpoint: s.Endpoint, SASToken: "?" + readList})

	// Put works with the write-only SAS, and the owner reads it back.
	if err := w.Put(ctx, "logs/ownership-challenge.txt", []byte("jwt"), PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatalf("Put with a write-only SAS: %v", err)
	}
	if got, err := ReadAll(ctx, owner, "logs/ownership-challenge.txt", 0); err != nil || string(got) != "jwt" {
		t.Fatalf("owner reads %q, %v", got, err)
	}

	type call struct {
		name string
		b    Bucket
		do   func(Bucket) error
		want string // "" means success
	}
	get := func(key string) func(Bucket) error {
		return func(b Bucket) error { _, err := ReadAll(ctx, b, key, 0); return err }
	}
	list := func(b Bucket) error { return b.List(ctx, "logs/", "", func(Object) error { return nil }) }
	for _, c := range []call{
		{"write-only Get existing", w, get("logs/existing.txt"), "the SAS does not allow reading (sp=w"},
		{"write-only Get missing", w, get("logs/missing.txt"), "the SAS does not allow reading (sp=w"},
		{"write-only List", w, list, "the SAS does not allow listing (sp=w"},
		{"write-only Delete", w, func(b Bucket) error { return b.Delete(ctx, "logs/existing.txt") }, "the SAS does not allow deleting (sp=w"},
		{"read-list Get", r, get("logs/ownership-challenge.txt"), ""},
		{"read-list List", r, list, ""},
		{"read-list Put", r, func(b Bucket) error { return b.Put(ctx, "logs/y", []byte("y"), PutOptions{}) }, "the SAS does not allow writing (sp=rl"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.do(c.b)
			azureNoSecrets(t, err, secrets...)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, c.want)
			}
			if IsNotExist(err) || !errors.Is(err, fs.ErrPermission) {
				t.Errorf("err = %v: want fs.ErrPermission, not fs.ErrNotExist", err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("err = %v: want the container named", err)
			}
		})
	}
	// A missing key is still fs.ErrNotExist when the SAS may read.
	if _, err := r.Get(ctx, "logs/missing.txt"); !IsNotExist(err) {
		t.Errorf("read-list Get(missing) = %v: want fs.ErrNotExist", err)
	}

	// An expired SAS says so.
	expired := s.SAS(t, sas.AccountPermissions{Read: true, Write: true}, sas.AccountResourceTypes{Object: true}, time.Now().Add(-time.Minute))
	e := openAzure(t, Config{Provider: ProviderAzure, Bucket: name, Endpoint: s.Endpoint, SASToken: expired})
	err := e.Put(ctx, "logs/z", []byte("z"), PutOptions{})
	azureNoSecrets(t, err, azureSigOf(t, expired), url.QueryEscape(azureSigOf(t, expired)))
	if err == nil || !strings.Contains(err.Error(), "expired") || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Put with an expired SAS = %v: want an expiry error", err)
	}
}

func TestAzureWrongCredentials(t *testing.T) {
	s := objstoretest.Azure(t)
	name := s.NewContainer(t)
	ctx := context.Background()
	wrongKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("not the key "), 5))
	good := s.SAS(t, sas.AccountPermissions{Read: true, Write: true, List: true}, sas.AccountResourceTypes{Container: true, Object: true}, time.Now().Add(time.Hour))
	q, _ := url.ParseQuery(good)
	forged := q.Get("sig")
	q.Set("sig", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	badSAS := q.Encode()

	for _, tc := range []struct {
		name    string
		cfg     Config
		want    string
		secrets []string
	}{
		{"wrong account key", Config{AccountName: s.Account, AccountKey: wrongKey}, "wrong account key for this account", []string{wrongKey}},
		{"forged SAS signature", Config{SASToken: badSAS}, "the SAS signature does not match this account", []string{q.Get("sig"), url.QueryEscape(q.Get("sig")), forged}},
		{"wrong key in a connection string", Config{ConnectionString: "DefaultEndpointsProtocol=http;AccountName=" + s.Account + ";AccountKey=" + wrongKey + ";BlobEndpoint=" + s.Endpoint}, "wrong account key in the connection string", []string{wrongKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Provider, cfg.Bucket = ProviderAzure, name
			if cfg.ConnectionString == "" {
				cfg.Endpoint = s.Endpoint
			}
			b := openAzure(t, cfg)
			for op, do := range map[string]func() error{
				"Put":  func() error { return b.Put(ctx, "k", []byte("v"), PutOptions{}) },
				"Get":  func() error { _, err := b.Get(ctx, "k"); return err },
				"List": func() error { return b.List(ctx, "", "", func(Object) error { return nil }) },
			} {
				start := time.Now()
				err := do()
				t.Logf("%s: %v", op, err)
				azureNoSecrets(t, err, tc.secrets...)
				if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, fs.ErrPermission) || IsNotExist(err) {
					t.Errorf("%s = %v\nwant fs.ErrPermission with %q", op, err, tc.want)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("%s took %v: authentication errors must not be retried", op, d)
				}
			}
		})
	}
}

func TestAzureMissingContainer(t *testing.T) {
	s := objstoretest.Azure(t)
	ctx := context.Background()
	name := objstoretest.UniqueName(t) // never created
	b := openAzure(t, azureKeyConfig(s, name))
	for op, do := range map[string]func() error{
		"Get":    func() error { _, err := b.Get(ctx, "k"); return err },
		"Put":    func() error { return b.Put(ctx, "k", []byte("v"), PutOptions{}) },
		"List":   func() error { return b.List(ctx, "", "", func(Object) error { return nil }) },
		"Delete": func() error { return b.Delete(ctx, "k") },
	} {
		err := do()
		t.Logf("%s: %v", op, err)
		if err == nil || IsNotExist(err) || !strings.Contains(err.Error(), fmt.Sprintf("container %q does not exist", name)) {
			t.Errorf("%s on a missing container = %v: want a container error distinct from fs.ErrNotExist", op, err)
		}
		azureNoSecrets(t, err, s.Key)
	}
}

func TestAzureFromDestination(t *testing.T) {
	s := objstoretest.Azure(t)
	name := s.NewContainer(t)
	ctx := context.Background()
	token := s.SAS(t, sas.AccountPermissions{Write: true}, sas.AccountResourceTypes{Object: true}, time.Now().Add(time.Hour))
	dest := "azure://" + s.Account + ".blob.core.windows.net/" + name + "/logs/{DATE}?" + token
	cfg, err := FromDestination(dest)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bucket != name || cfg.Prefix != "logs/{DATE}" || cfg.AccountName != s.Account || cfg.SASToken != token {
		t.Fatalf("FromDestination: bucket %q prefix %q account %q", cfg.Bucket, cfg.Prefix, cfg.AccountName)
	}
	cfg.Endpoint = s.Endpoint // Azurite instead of <account>.blob.core.windows.net
	b := openAzure(t, cfg)
	key := Join(strings.ReplaceAll(cfg.Prefix, "{DATE}", "20260101"), "ownership-challenge-1a2b3c4d.txt")
	if err := b.Put(ctx, key, []byte("token"), PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatalf("Put through the destination's SAS: %v", err)
	}
	got, err := ReadAll(ctx, openAzure(t, azureKeyConfig(s, name)), key, 0)
	if err != nil || string(got) != "token" {
		t.Fatalf("owner reads %q, %v", got, err)
	}
	// Reading back with Cloudflare's write-only SAS is refused clearly.
	_, err = b.Get(ctx, key)
	azureNoSecrets(t, err, azureSigOf(t, token), url.QueryEscape(azureSigOf(t, token)))
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Get with the destination's SAS = %v: want fs.ErrPermission", err)
	}
}

// No server needed: a refused connection fails within the bounded retry
// policy, and the error quotes no credential.
func TestAzureUnreachable(t *testing.T) {
	objstoretest.IsolateEnv(t)
	endpoint := objstoretest.ClosedEndpoint(t) + "/devstoreaccount1"
	const token = "sv=2025-01-05&ss=b&srt=o&sp=w&se=2031-01-01T00%3A00%3A00Z&spr=https%2Chttp&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
	key := base64.StdEncoding.EncodeToString([]byte("a secret account key for tests"))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"SAS", Config{SASToken: token}},
		{"account key", Config{AccountName: "devstoreaccount1", AccountKey: key}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Provider, cfg.Bucket, cfg.Endpoint = ProviderAzure, "logs", endpoint
			b := openAzure(t, cfg)
			start := time.Now()
			err := b.Put(ctx, "k", []byte("v"), PutOptions{})
			took := time.Since(start)
			azureNoSecrets(t, err, key, "c2VjcmV0LXNpZ25hdHVyZQ", token)
			if err == nil || !strings.Contains(err.Error(), "cannot reach the service") || !strings.Contains(err.Error(), "azure://devstoreaccount1/logs/k") {
				t.Fatalf("Put to a closed port = %v", err)
			}
			if took > 5*time.Second {
				t.Errorf("Put to a closed port took %v: want the bounded retry policy (about 1 s)", took)
			}
			t.Logf("refused connection: error after %v: %v", took.Round(10*time.Millisecond), err)

			// The caller's deadline wins over the retries, and is reported as such.
			dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if err := b.List(dctx, "", "", func(Object) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("List past the deadline = %v: want context.DeadlineExceeded", err)
			}
		})
	}
}

// A server that accepts connections and never answers: the caller's
// deadline ends the call, whatever the retry policy.
func TestAzureSilentServer(t *testing.T) {
	objstoretest.IsolateEnv(t)
	b := openAzure(t, Config{Provider: ProviderAzure, Bucket: "logs", Endpoint: objstoretest.SilentEndpoint(t) + "/devstoreaccount1",
		SASToken: "sp=r&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.Get(ctx, "k")
	azureNoSecrets(t, err, "c2VjcmV0LXNpZ25hdHVyZQ")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("Get from a silent server = %v after %v: want context.DeadlineExceeded at the deadline", err, time.Since(start))
	}
	t.Log(err)
}

// How service answers map to errors: a server that answers with a fixed
// status and x-ms-error-code (its body echoes the request URL, SAS and
// all, as some proxies do).
func TestAzureErrorMapping(t *testing.T) {
	objstoretest.IsolateEnv(t)
	const sig = "c2VjcmV0LXNpZ25hdHVyZQ"
	for _, tc := range []struct {
		status    int
		code      string
		want      string
		is        error
		wantTries int
	}{
		{404, "BlobNotFound", "azure://devstoreaccount1/logs/k: file does not exist", fs.ErrNotExist, 1},
		{404, "ContainerNotFound", `container "logs" does not exist`, nil, 1},
		{404, "", "HTTP 404 without an Azure error code: is the endpoint right", nil, 1},
		{403, "AuthorizationPermissionMismatch", "the SAS does not allow reading (sp=w srt=o;", fs.ErrPermission, 1},
		{403, "AuthenticationFailed", "authentication failed: the SAS signature does not match this account (AuthenticationFailed)", fs.ErrPermission, 1},
		{403, "AuthorizationSourceIPMismatch", "not permitted with this SAS (AuthorizationSourceIPMismatch, HTTP 403)", fs.ErrPermission, 1},
		{412, "ConditionNotMet", "the blob was replaced while it was being read", nil, 1},
		{503, "ServerBusy", "read: ServerBusy (HTTP 503)", nil, 3},
		{500, "", "read: Internal Server Error (HTTP 500)", nil, 3},
	} {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.code), func(t *testing.T) {
			var tries atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tries.Add(1)
				if tc.code != "" {
					w.Header().Set("x-ms-error-code", tc.code)
				}
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, "<Error><Code>%s</Code><Message>request %s</Message></Error>", tc.code, r.URL.String())
			}))
			defer srv.Close()
			b := openAzure(t, Config{Provider: ProviderAzure, Bucket: "logs", Endpoint: srv.URL + "/devstoreaccount1",
				SASToken: "ss=b&srt=o&sp=w&se=2099-01-01T00%3A00%3A00Z&sig=" + sig})
			_, err := b.Get(context.Background(), "k")
			azureNoSecrets(t, err, sig)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v: want errors.Is %v", err, tc.is)
			}
			if tc.is == nil && (IsNotExist(err) || errors.Is(err, fs.ErrPermission)) {
				t.Errorf("err = %v: wraps a sentinel it should not", err)
			}
			if got := tries.Load(); int(got) != tc.wantTries {
				t.Errorf("%d requests, want %d (the retry policy: 3 tries for 5xx, 1 otherwise)", got, tc.wantTries)
			}
		})
	}
}

// Config problems are reported by Open, before any request, without
// quoting credentials.
func TestAzureConfigErrors(t *testing.T) {
	objstoretest.IsolateEnv(t)
	key := base64.StdEncoding.EncodeToString([]byte("another secret key"))
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no credentials", Config{AccountName: "acct"}, "no credentials: set a connection string, a SAS token or an account name and key"},
		{"no credentials mentions Entra ID", Config{AccountName: "acct"}, "Entra ID sign-in is not supported"},
		{"upper-case container", Config{Bucket: "Logs", AccountName: "acct", AccountKey: key}, `container "Logs": want 3-63 lowercase`},
		{"short container", Config{Bucket: "ab", AccountName: "acct", AccountKey: key}, `container "ab"`},
		{"double hyphen", Config{Bucket: "a--b", AccountName: "acct", AccountKey: key}, `container "a--b"`},
		{"SAS without sig", Config{SASToken: "sv=2025-01-05&sp=w", AccountName: "acct"}, "has no signature"},
		{"SAS not a query", Config{SASToken: "sig=%zz", AccountName: "acct"}, "not a valid query string"},
		{"SAS for another service", Config{SASToken: "ss=q&sp=w&sig=abcd", AccountName: "acct"}, "ss=q, not blob"},
		{"SAS without account or endpoint", Config{SASToken: "sp=w&sig=abcd"}, "no account"},
		{"key without account", Config{AccountKey: key, Endpoint: "https://storage.example.com"}, "needs the account name"},
		{"key not base64", Config{AccountName: "acct", AccountKey: "not*base64!secretvalue"}, "not valid base64"},
		{"bad account name", Config{AccountName: "Bad_Account", AccountKey: key}, `account name "Bad_Account"`},
		{"connection string malformed", Config{ConnectionString: "AccountKey" + key}, "connection string (from config) is not usable"},
		{"connection string vs endpoint", Config{ConnectionString: "AccountName=acct;AccountKey=" + key, Endpoint: "http://127.0.0.1:1/devstoreaccount1"}, "differs from the configured endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Provider = ProviderAzure
			if cfg.Bucket == "" {
				cfg.Bucket = "logs"
			}
			_, err := Open(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v\nwant an error containing %q", err, tc.want)
			}
			azureNoSecrets(t, err, key, "secretvalue", "abcd")
		})
	}
}

func TestAzureContainerNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"abc": true, "a-b": true, "logs-2026": true, "$root": true, "$logs": true, strings.Repeat("a", 63): true,
		"ab": false, "-ab": false, "ab-": false, "a--b": false, "Logs": false, "a_b": false, "a.b": false,
		strings.Repeat("a", 64): false, "$other": false, "": false,
	} {
		if err := validAzureContainer(name); (err == nil) != ok {
			t.Errorf("validAzureContainer(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

// Open takes credentials in order (Config before the environment) and
// names the bucket azure://<account>/<container> from whatever says it.
func TestAzureOpenNamesAndCredentialOrder(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("k"))
	for _, tc := range []struct {
		name     string
		env      map[string]string
		cfg      Config
		wantName string
		wantAuth string
	}{
		{"account key, public endpoint", nil, Config{AccountName: "acct", AccountKey: key}, "azure://acct/logs", "account key"},
		{"account from the endpoint host", nil, Config{Endpoint: "https://acct2.blob.core.windows.net", AccountKey: key}, "azure://acct2/logs", "account key"},
		{"account from Azurite's path", nil, Config{Endpoint: "http://127.0.0.1:10000/devstoreaccount1", AccountKey: key}, "azure://devstoreaccount1/logs", "account key"},
		{"SAS before the key", nil, Config{AccountName: "acct", AccountKey: key, SASToken: "sp=w&sig=x"}, "azure://acct/logs", "SAS"},
		{"connection string first", nil, Config{ConnectionString: "AccountName=acct3;AccountKey=" + key, SASToken: "sp=w&sig=x"}, "azure://acct3/logs", "connection string"},
		{"SAS on a custom domain", nil, Config{Endpoint: "https://blobs.example.com", SASToken: "sp=w&sig=x"}, "azure://blobs.example.com/logs", "SAS"},
		{"environment account and key", map[string]string{"AZURE_STORAGE_ACCOUNT": "envacct", "AZURE_STORAGE_KEY": key}, Config{}, "azure://envacct/logs", "account key"},
		{"environment SAS", map[string]string{"AZURE_STORAGE_ACCOUNT": "envacct", "AZURE_STORAGE_SAS_TOKEN": "sp=w&sig=x"}, Config{}, "azure://envacct/logs", "SAS"},
		{"config before environment", map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "AccountName=envacct;AccountKey=" + key}, Config{AccountName: "acct", SASToken: "sp=w&sig=x"}, "azure://acct/logs", "SAS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objstoretest.IsolateEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg := tc.cfg
			cfg.Provider, cfg.Bucket = ProviderAzure, "logs"
			b, err := Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.wantName {
				t.Errorf("String() = %q, want %q", b.String(), tc.wantName)
			}
			if got := b.(*azureBucket).auth; got != tc.wantAuth {
				t.Errorf("auth = %q, want %q", got, tc.wantAuth)
			}
		})
	}
}

// Keys Azure would rename or reject are refused before any request.
func TestAzureRefusesHostileKeys(t *testing.T) {
	objstoretest.IsolateEnv(t)
	b := openAzure(t, Config{Provider: ProviderAzure, Bucket: "logs", Endpoint: objstoretest.ClosedEndpoint(t) + "/devstoreaccount1",
		AccountKey: base64.StdEncoding.EncodeToString([]byte("k"))})
	ctx := context.Background()
	for _, k := range []string{"", "/abs", "../escape", "a/../../escape", "a//b", "a/./b", "dir/", "name.", `back\`, "nul\x00", "tab\tkey", "bad\xffutf8", strings.Repeat("k", 1025)} {
		for op, do := range map[string]func() error{
			"Put":    func() error { return b.Put(ctx, k, []byte("x"), PutOptions{}) },
			"Get":    func() error { _, err := b.Get(ctx, k); return err },
			"Delete": func() error { return b.Delete(ctx, k) },
		} {
			err := do()
			if err == nil || strings.Contains(err.Error(), "cannot reach") {
				t.Errorf("%s(%.20q) = %v: want it refused before any request", op, k, err)
			}
		}
	}
}

func BenchmarkAzurePutGet(b *testing.B) {
	s := objstoretest.Azure(b)
	name := s.NewContainer(b)
	bkt := openAzure(b, azureKeyConfig(s, name))
	ctx := context.Background()
	for _, size := range []int{4 << 10, 256 << 10, 4 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
			b.SetBytes(int64(2 * size)) // written and read back
			b.ResetTimer()
			for i := range b.N {
				key := fmt.Sprintf("bench/%d/%08d.log.gz", size, i%64)
				if err := bkt.Put(ctx, key, body, PutOptions{ContentType: "application/gzip"}); err != nil {
					b.Fatal(err)
				}
				got, err := ReadAll(ctx, bkt, key, 0)
				if err != nil || len(got) != size {
					b.Fatalf("read %d bytes, %v", len(got), err)
				}
			}
		})
	}
}
