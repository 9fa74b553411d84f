package objstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"

	"github.com/flarehose/flarehose/internal/objstore/objstoretest"
)

func openGCS(tb testing.TB, cfg Config) Bucket {
	tb.Helper()
	cfg.Provider = ProviderGCS
	b, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Open(%+v): %v", cfg, err)
	}
	return b
}

func TestGCSBucket(t *testing.T) {
	gcs := objstoretest.GCS(t)
	ep, name := gcs.Endpoint, gcs.NewBucket(t)
	b := openGCS(t, Config{Bucket: name, Endpoint: ep})
	if got, want := b.String(), "gs://"+name; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	testBucket(t, b)
}

// Keys GCS accepts that a path-minded implementation could mangle.
func TestGCSOddKeys(t *testing.T) {
	gcs := objstoretest.GCS(t)
	b := openGCS(t, Config{Bucket: gcs.NewBucket(t), Endpoint: gcs.Endpoint})
	ctx := context.Background()
	keys := []string{
		"../up", "a/../b", "a//b", "/lead", "trail/", "q?x=1#frag", "pct%2Fslash", "sp ace+plus",
		"ünïcödé/日本", "semi;colon&amp", strings.Repeat("k", 1024),
	}
	for i, k := range keys {
		if err := b.Put(ctx, k, []byte{byte(i)}, PutOptions{}); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	for i, k := range keys {
		got, err := ReadAll(ctx, b, k, 0)
		if err != nil || !bytes.Equal(got, []byte{byte(i)}) {
			t.Errorf("Get(%q) = %x, %v", k, got, err)
		}
	}
	var listed []string
	if err := b.List(ctx, "", "", func(o Object) error { listed = append(listed, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(keys) {
		t.Errorf("List: %d keys %q, want %d", len(listed), listed, len(keys))
	}
	for _, k := range keys {
		if err := b.Delete(ctx, k); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
	}
}

// Keys GCS refuses are refused before any request: the endpoint here
// does not exist, so only a local check can produce the key error.
func TestGCSInvalidKeys(t *testing.T) {
	b := openGCS(t, Config{Bucket: "logs", Endpoint: objstoretest.ClosedEndpoint(t)})
	ctx := context.Background()
	for _, k := range []string{"", ".", "..", "a\nb", "a\rb", "bad\xffutf8", strings.Repeat("k", 1025)} {
		for op, err := range map[string]error{
			"Get":    func() error { _, err := b.Get(ctx, k); return err }(),
			"Put":    b.Put(ctx, k, []byte("x"), PutOptions{}),
			"Delete": b.Delete(ctx, k),
		} {
			if err == nil || !strings.Contains(err.Error(), "key") || !strings.Contains(err.Error(), "gs://logs") ||
				strings.Contains(err.Error(), "connect") {
				t.Errorf("%s(%.20q) = %v: want an invalid key error naming the bucket", op, k, err)
			}
		}
	}
}

func gzipped(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// Logpush objects are .log.gz: callers need the compressed bytes, whatever
// Content-Encoding the object was stored with (GCS and net/http would
// otherwise decompress Content-Encoding: gzip on the way).
func TestGCSGzipAsStored(t *testing.T) {
	gcs := objstoretest.GCS(t)
	b := openGCS(t, Config{Bucket: gcs.NewBucket(t), Endpoint: gcs.Endpoint})
	ctx := context.Background()
	plain := bytes.Repeat([]byte(`{"ClientIP":"192.0.2.1","EdgeResponseStatus":200}`+"\n"), 500)
	body := gzipped(t, plain)
	for _, tc := range []struct {
		name string
		opts PutOptions
	}{
		{"content-encoding gzip", PutOptions{ContentType: "application/x-ndjson", ContentEncoding: "gzip"}},
		{"gzip content type", PutOptions{ContentType: "application/gzip"}},
		{"no metadata", PutOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "logs/" + strings.ReplaceAll(tc.name, " ", "-") + ".log.gz"
			if err := b.Put(ctx, key, body, tc.opts); err != nil {
				t.Fatal(err)
			}
			got, err := ReadAll(ctx, b, key, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("Get returned %d bytes (starting %x), want the %d gzip bytes stored", len(got), got[:min(len(got), 4)], len(body))
			}
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			if unz, err := io.ReadAll(zr); err != nil || !bytes.Equal(unz, plain) {
				t.Fatalf("gunzip: %d bytes, %v", len(unz), err)
			}
		})
	}
}

// Uploads, downloads, listings and deletes all go to the configured
// endpoint (downloads use a URL the library builds apart from the JSON
// API's): a proxy in front of the emulator sees each of them.
func TestGCSRequestsGoToEndpoint(t *testing.T) {
	gcs := objstoretest.GCS(t)
	ep, name := gcs.Endpoint, gcs.NewBucket(t)
	target, err := url.Parse(ep)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		mu.Lock()
		seen = append(seen, r.In.Method+" "+r.In.URL.EscapedPath())
		mu.Unlock()
		r.SetURL(target) // also sets Host, which fake-gcs-server routes on
	}})
	defer proxy.Close()

	b := openGCS(t, Config{Bucket: name, Endpoint: proxy.URL})
	ctx := context.Background()
	key := "logs/20260101/a b.log.gz"
	if err := b.Put(ctx, key, []byte("hello"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadAll(ctx, b, key, 0); err != nil || string(got) != "hello" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := b.List(ctx, "logs/", "", func(Object) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{
		"POST /upload/storage/v1/b/" + name + "/o",
		"GET /" + name + "/logs%2F20260101%2Fa%20b.log.gz", // XML download
		"GET /storage/v1/b/" + name + "/o",
		"DELETE /storage/v1/b/" + name + "/o/logs%2F20260101%2Fa%20b.log.gz",
	} {
		found := false
		for _, s := range seen {
			found = found || s == want
		}
		if !found {
			t.Errorf("the endpoint never saw %q; it saw %q", want, seen)
		}
	}
}

// STORAGE_EMULATOR_HOST alone (no endpoint, no credentials) reaches the
// emulator, as the library arranges on its own.
func TestGCSEmulatorHostVariable(t *testing.T) {
	gcs := objstoretest.GCS(t)
	ep, name := gcs.Endpoint, gcs.NewBucket(t)
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(ep, "http://"))
	b := openGCS(t, Config{Bucket: name})
	ctx := context.Background()
	body := gzipped(t, []byte("line\n"))
	if err := b.Put(ctx, "k.log.gz", body, PutOptions{ContentEncoding: "gzip"}); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadAll(ctx, b, "k.log.gz", 0); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Get = %x, %v; want %x", got, err, body)
	}
	if _, err := b.Get(ctx, "missing"); !IsNotExist(err) {
		t.Fatalf("Get(missing) = %v", err)
	}
}

// A missing bucket is named as such, and is not mistaken for a missing
// object (a source would wait forever for objects that cannot come).
func TestGCSMissingBucket(t *testing.T) {
	ep := objstoretest.GCS(t).Endpoint
	name := "flarehose-missing-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	b := openGCS(t, Config{Bucket: name, Endpoint: ep})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for op, call := range map[string]func() error{
		"Get":    func() error { _, err := b.Get(ctx, "k"); return err },
		"Put":    func() error { return b.Put(ctx, "k", []byte("x"), PutOptions{}) },
		"List":   func() error { return b.List(ctx, "", "", func(Object) error { return nil }) },
		"Delete": func() error { return b.Delete(ctx, "k") },
	} {
		err := call()
		if err == nil || IsNotExist(err) || !strings.Contains(err.Error(), "gs://"+name+": bucket does not exist") {
			t.Errorf("%s = %v: want %q, not wrapping fs.ErrNotExist", op, err, "gs://"+name+": bucket does not exist")
		}
		if !errors.Is(err, storage.ErrBucketNotExist) {
			t.Errorf("%s = %v: want errors.Is(err, storage.ErrBucketNotExist)", op, err)
		}
	}
}

// Nothing listens at the endpoint: each call fails within seconds, not
// after the library's unbounded retries.
func TestGCSUnreachableEndpoint(t *testing.T) {
	ep := objstoretest.ClosedEndpoint(t)
	b := openGCS(t, Config{Bucket: "logs", Endpoint: ep})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for op, call := range map[string]func() error{
		"Get":    func() error { _, err := b.Get(ctx, "k"); return err },
		"Put":    func() error { return b.Put(ctx, "k", []byte("x"), PutOptions{}) },
		"List":   func() error { return b.List(ctx, "p/", "", func(Object) error { return nil }) },
		"Delete": func() error { return b.Delete(ctx, "k") },
	} {
		start := time.Now()
		err := call()
		took := time.Since(start)
		if err == nil || IsNotExist(err) || !strings.Contains(err.Error(), "gs://logs") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("%s = %v: want a connection error naming the bucket", op, err)
		}
		if took > 5*time.Second {
			t.Errorf("%s took %v to fail", op, took)
		}
	}
}

// The store's refusals are spelled out with the bucket and key. The
// server here plays GCS's answers to bad credentials and missing rights.
func TestGCSHTTPErrors(t *testing.T) {
	const detail = "logpush@p.iam.gserviceaccount.com does not have storage.objects.get access"
	for _, tc := range []struct {
		code int
		want string
	}{
		{http.StatusUnauthorized, "authentication failed (HTTP 401)"},
		{http.StatusForbidden, "permission denied (HTTP 403)"},
		{http.StatusBadRequest, "HTTP 400 Bad Request"},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			var calls int
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				mu.Unlock()
				if strings.HasPrefix(r.URL.Path, "/storage/") || strings.HasPrefix(r.URL.Path, "/upload/") {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tc.code)
					fmt.Fprintf(w, `{"error":{"code":%d,"message":"%s","errors":[{"reason":"forbidden"}]}}`, tc.code, detail)
					return
				}
				// Downloads use the XML API, which answers in XML.
				w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
				w.WriteHeader(tc.code)
				fmt.Fprintf(w, `<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>Access denied.</Message><Details>%s</Details></Error>`, detail)
			}))
			defer srv.Close()
			b := openGCS(t, Config{Bucket: "logs", Endpoint: srv.URL})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for op, call := range map[string]func() error{
				"Get":    func() error { _, err := b.Get(ctx, "dir/k.log.gz"); return err },
				"Put":    func() error { return b.Put(ctx, "dir/k.log.gz", []byte("x"), PutOptions{}) },
				"List":   func() error { return b.List(ctx, "dir/", "", func(Object) error { return nil }) },
				"Delete": func() error { return b.Delete(ctx, "dir/k.log.gz") },
			} {
				err := call()
				if err == nil || IsNotExist(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "gs://logs") ||
					!strings.Contains(err.Error(), detail) || strings.Contains(err.Error(), "<") {
					t.Errorf("%s = %v: want %q naming the bucket, with the server's message %q", op, err, tc.want, detail)
				}
				if op != "List" && err != nil && !strings.Contains(err.Error(), "dir/k.log.gz") {
					t.Errorf("%s = %v: want the key named", op, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if calls > 8 {
				t.Errorf("%d requests for 4 calls: a %d must not be retried", calls, tc.code)
			}
		})
	}
}

// writeServiceAccount writes a service account key file with a real RSA
// key; token_uri points where the test says.
func writeServiceAccount(tb testing.TB, tokenURI string) (path, pemKey string) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	pemKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	data, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "flarehose-test", "private_key_id": "0123456789abcdef",
		"private_key": pemKey, "client_email": "logpush@flarehose-test.iam.gserviceaccount.com",
		"client_id": "123", "token_uri": tokenURI,
	})
	path = filepath.Join(tb.TempDir(), "sa.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, pemKey
}

// pemBody is the base64 of a PEM block: what must never reach an error.
func pemBody(pemKey string) []string {
	var parts []string
	for _, line := range strings.Split(pemKey, "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") {
			parts = append(parts, line)
		}
	}
	return parts
}

// Bad credentials files fail at Open with the file named and nothing of
// its content quoted.
func TestGCSCredentialsFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Valid base64, so that it passes for a PEM block's body.
	secret := base64.StdEncoding.EncodeToString([]byte("secret key material, never shown in errors"))
	badPEM := "-----BEGIN PRIVATE KEY-----\n" + secret + "\n-----END PRIVATE KEY-----\n"
	saJSON := func(fields map[string]string) string {
		data, _ := json.Marshal(fields)
		return string(data)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "nope.json"), "no such file or directory"},
		{"malformed JSON", write("malformed.json", `{"type":"service_account","private_key":"`+secret+`"`), "not valid JSON"},
		{"not JSON", write("pem.json", badPEM), "not valid JSON"},
		{"JSON array", write("array.json", `["`+secret+`"]`), "not a service account key"},
		{"user credentials", write("user.json", saJSON(map[string]string{"type": "authorized_user", "refresh_token": secret})), `type "authorized_user"`},
		{"no client_email", write("noemail.json", saJSON(map[string]string{"type": "service_account", "private_key": badPEM})), "no client_email"},
		{"no private key", write("nokey.json", saJSON(map[string]string{"type": "service_account", "client_email": "a@b"})), "private_key is missing"},
		{"key not PEM", write("notpem.json", saJSON(map[string]string{"type": "service_account", "client_email": "a@b", "private_key": secret})), "not a PEM block"},
		{"key garbage", write("garbage.json", saJSON(map[string]string{"type": "service_account", "client_email": "a@b", "private_key": badPEM})), "not a valid PKCS#8 or PKCS#1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Open(context.Background(), Config{Provider: ProviderGCS, Bucket: "logs", CredentialsFile: tc.path})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("Open = %v: want %q naming %s", err, tc.want, tc.path)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:16]) {
				t.Fatalf("the error quotes the file's secret: %v", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

// A valid key the token service refuses: the error says so without the
// key or the signed assertion.
func TestGCSCredentialsRefused(t *testing.T) {
	var assertion string
	var mu sync.Mutex
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		assertion = r.PostForm.Get("assertion")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
	}))
	defer tokens.Close()
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unexpected request: the token should have failed first", http.StatusTeapot)
	}))
	defer store.Close()

	path, pemKey := writeServiceAccount(t, tokens.URL)
	b := openGCS(t, Config{Bucket: "logs", Endpoint: store.URL, CredentialsFile: path})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := b.Get(ctx, "k")
	if err == nil || !strings.Contains(err.Error(), "gs://logs/k") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("Get = %v: want the token service's refusal, naming the object", err)
	}
	for _, part := range pemBody(pemKey) {
		if strings.Contains(err.Error(), part) {
			t.Fatalf("the error quotes the private key: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if assertion == "" {
		t.Fatal("the token service got no JWT assertion")
	}
	if strings.Contains(err.Error(), assertion) {
		t.Fatalf("the error quotes the signed assertion: %v", err)
	}
}

func BenchmarkGCSPutGet(b *testing.B) {
	gcs := objstoretest.GCS(b)
	bkt := openGCS(b, Config{Bucket: gcs.NewBucket(b), Endpoint: gcs.Endpoint})
	ctx := context.Background()
	for _, size := range []int{1 << 10, 256 << 10, 4 << 20} {
		body := make([]byte, size)
		rand.Read(body)
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(2 * size))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				key := fmt.Sprintf("bench/%d/%06d.log.gz", size, i%100)
				i++
				if err := bkt.Put(ctx, key, body, PutOptions{ContentType: "application/gzip"}); err != nil {
					b.Fatal(err)
				}
				rc, err := bkt.Get(ctx, key)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, rc)
				rc.Close()
				if err != nil || n != int64(size) {
					b.Fatalf("read %d bytes, %v", n, err)
				}
			}
		})
	}
}

// An emulator started with a -public-host other than the host clients
// dial serves uploads and listings but answers 404 to every XML download:
// that is reported as such, not as a missing object.
func TestGCSEmulatorPublicHostMismatch(t *testing.T) {
	gcs := objstoretest.GCS(t)
	ep, name := gcs.Endpoint, gcs.NewBucket(t)
	target, err := url.Parse(ep)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy keeps the Host clients sent (its own), unlike SetURL.
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.Out.URL.Scheme, r.Out.URL.Host = target.Scheme, target.Host
	}})
	defer proxy.Close()
	b := openGCS(t, Config{Bucket: name, Endpoint: proxy.URL})
	ctx := context.Background()
	if err := b.Put(ctx, "k", []byte("x"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = b.Get(ctx, "k")
	if err == nil || IsNotExist(err) || !strings.Contains(err.Error(), "-public-host") {
		t.Fatalf("Get = %v: want the -public-host hint", err)
	}
	if _, err := b.Get(ctx, "missing"); !IsNotExist(err) {
		t.Fatalf("Get(missing) = %v: want fs.ErrNotExist", err)
	}
}
