package cfapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/flarehose/flarehose/internal/objstore"
	"github.com/flarehose/flarehose/internal/objstore/objstoretest"
)

func TestEndpointsConfig(t *testing.T) {
	const secret = "s3cr3tKEYs3cr3tKEY"
	e := Endpoints{S3Endpoint: "http://127.0.0.1:9000", S3AccessKey: "cf-logpush", S3SecretKey: secret,
		R2Endpoint: "http://127.0.0.1:9001", GCSEndpoint: "http://127.0.0.1:4443", AzureEndpoint: "http://127.0.0.1:10000/devstoreaccount1"}
	for _, c := range []struct {
		name string
		e    Endpoints
		conf string
		want objstore.Config // compared field by field below; Provider "" means an error
		err  string
	}{
		{"aws s3 stand-in", e, "s3://b/logs/{DATE}?region=us-west-2",
			objstore.Config{Provider: "s3", Bucket: "b", Prefix: "logs/{DATE}", Endpoint: e.S3Endpoint, AccessKeyID: "cf-logpush", SecretAccessKey: secret, Region: "us-west-2"}, ""},
		{"aws s3 stand-in with its region", Endpoints{S3Endpoint: "127.0.0.1:9000", S3Region: "eu-west-1"}, "s3://b?region=us-west-2",
			objstore.Config{Provider: "s3", Bucket: "b", Endpoint: "127.0.0.1:9000", Region: "eu-west-1"}, ""},
		{"aws s3 with the customer's keys", e, "s3://b/p?access-key-id=AKID&secret-access-key=" + secret,
			objstore.Config{Provider: "s3", Bucket: "b", Prefix: "p", Endpoint: e.S3Endpoint, AccessKeyID: "AKID", SecretAccessKey: secret, Region: "us-east-1"}, ""},
		{"s3-compatible", e, "s3://b/p?region=auto&access-key-id=AKID&secret-access-key=" + secret + "&endpoint=minio.example:9000",
			objstore.Config{Provider: "s3", Bucket: "b", Prefix: "p", Endpoint: "minio.example:9000", AccessKeyID: "AKID", SecretAccessKey: secret, Region: "auto"}, ""},
		{"s3-compatible over http", Endpoints{HTTPEndpoints: true}, "s3://b/p?access-key-id=AKID&secret-access-key=" + secret + "&endpoint=127.0.0.1:9000",
			objstore.Config{Provider: "s3", Bucket: "b", Prefix: "p", Endpoint: "http://127.0.0.1:9000", AccessKeyID: "AKID", SecretAccessKey: secret, Region: "us-east-1"}, ""},
		{"r2", e, "r2://b/p/{DATE}?account-id=acct&access-key-id=AKID&secret-access-key=" + secret,
			objstore.Config{Provider: "s3", Bucket: "b", Prefix: "p/{DATE}", Endpoint: e.R2Endpoint, AccessKeyID: "AKID", SecretAccessKey: secret, Region: "auto"}, ""},
		{"gcs", e, "gs://b/p", objstore.Config{Provider: "gcs", Bucket: "b", Prefix: "p", Endpoint: e.GCSEndpoint}, ""},
		{"azure container form", e, "azure://c/p?sv=2022-11-02&ss=b&srt=o&sp=w&sig=" + secret,
			objstore.Config{Provider: "azure", Bucket: "c", Prefix: "p", Endpoint: e.AzureEndpoint, SASToken: "sv=2022-11-02&ss=b&srt=o&sp=w&sig=" + secret}, ""},
		{"azure account form, endpoint overridden", e, "azure://acct.blob.core.windows.net/c/p?sp=w&sig=" + secret,
			objstore.Config{Provider: "azure", Bucket: "c", Prefix: "p", Endpoint: e.AzureEndpoint, SASToken: "sp=w&sig=" + secret, AccountName: "acct"}, ""},
		{"azure account form, the account's endpoint", Endpoints{}, "azure://acct.blob.core.windows.net/c/p?sp=w&sig=" + secret,
			objstore.Config{Provider: "azure", Bucket: "c", Prefix: "p", Endpoint: "https://acct.blob.core.windows.net", SASToken: "sp=w&sig=" + secret, AccountName: "acct"}, ""},

		{"aws s3 without a stand-in", Endpoints{}, "s3://b/p?region=us-east-1", objstore.Config{}, "--s3-endpoint"},
		{"aws s3 keys without a stand-in", Endpoints{}, "s3://b/p?access-key-id=AKID&secret-access-key=" + secret, objstore.Config{}, "--s3-endpoint"},
		{"r2 without an endpoint", Endpoints{}, "r2://b/p?account-id=acct&access-key-id=AKID&secret-access-key=" + secret, objstore.Config{}, "--r2-endpoint"},
		{"gcs without an endpoint", Endpoints{}, "gs://b/p", objstore.Config{}, "--gcs-endpoint"},
		{"azure without an endpoint", Endpoints{}, "azure://c/p?sp=w&sig=" + secret, objstore.Config{}, "--azure-endpoint"},
		{"azure without a SAS", e, "azure://c/p", objstore.Config{}, "no SAS"},
		{"r2 without account-id", e, "r2://b/p?access-key-id=AKID&secret-access-key=" + secret, objstore.Config{}, "account-id"},
		{"s3 key without secret", e, "s3://b/p?access-key-id=AKID", objstore.Config{}, "secret access key"},
		{"bad endpoint", e, "s3://b/p?access-key-id=AKID&secret-access-key=" + secret + "&endpoint=ftp://x", objstore.Config{}, "endpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dest, err := ParseObjectDestination(c.conf)
			var got objstore.Config
			if err == nil {
				got, err = c.e.config(dest)
			}
			if c.want.Provider == "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), secret) {
					t.Fatalf("err %v: want one mentioning %q, without the secret", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.PathStyle, got.VirtualHost = false, false
			if got != c.want {
				t.Fatalf("config\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestEndpointsCheck(t *testing.T) {
	for _, c := range []struct {
		e   Endpoints
		err string
	}{
		{Endpoints{}, ""},
		{Endpoints{S3Endpoint: "http://127.0.0.1:9000", S3AccessKey: "a", S3SecretKey: "b", GCSEndpoint: "127.0.0.1:4443", AzureEndpoint: "http://127.0.0.1:10000/devstoreaccount1"}, ""},
		{Endpoints{S3Endpoint: "http://127.0.0.1:9000", S3AccessKey: "a"}, "both access key and secret key"},
		{Endpoints{S3AccessKey: "a", S3SecretKey: "hunter2hunter2"}, "without an S3 endpoint"},
		{Endpoints{GCSEndpoint: "ftp://x"}, "GCS endpoint"},
		{Endpoints{AzureEndpoint: "http://127.0.0.1:10000/x?sig=abc"}, "Azure endpoint"},
	} {
		err := c.e.Check()
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "hunter2")) {
			t.Errorf("%+v: Check() = %v, want %q", c.e, err, c.err)
		}
	}
}

// Real stores (objstoretest: test/objstore/<name>.sh start prints the
// variables). The tests skip when a server's variables are unset, and fail
// then with FLAREHOSE_REQUIRE_OBJSTORE=1.

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openBucket opens a bucket for the test to read what the simulator wrote.
func openBucket(t *testing.T, cfg objstore.Config) objstore.Bucket {
	t.Helper()
	b, err := objstore.Open(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// minio returns the test MinIO, a new bucket there, and a Bucket to read
// it with.
func minio(t *testing.T) (srv objstoretest.S3Server, bucket string, read objstore.Bucket) {
	srv = objstoretest.S3(t)
	bucket = srv.NewBucket(t)
	read = openBucket(t, objstore.Config{Provider: objstore.ProviderS3, Endpoint: srv.Endpoint, Bucket: bucket,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, Region: objstoretest.Region})
	return srv, bucket, read
}

func TestObjectPushMinIOAsS3(t *testing.T) {
	srv, bucket, read := minio(t)
	endpoint, access, secret := srv.Endpoint, srv.AccessKey, srv.SecretKey
	u, _ := url.Parse(endpoint)
	h := pushHarness(t, Config{Storage: Endpoints{S3Endpoint: endpoint, S3AccessKey: access, S3SecretKey: secret, HTTPEndpoints: u.Scheme == "http"}})
	t.Run("aws stand-in", func(t *testing.T) {
		id := pushObjects(t, h, "s3://"+bucket+"/aws/{DATE}?region=us-west-2&sse=AES256", read)
		h.do(http.MethodDelete, h.jobsPath()+"/"+id, nil, nil).ok(t)
	})
	t.Run("s3-compatible", func(t *testing.T) {
		conf := "s3://" + bucket + "/compat?region=us-east-1&access-key-id=" + url.QueryEscape(access) + "&secret-access-key=" + url.QueryEscape(secret) + "&endpoint=" + u.Host
		id := pushObjects(t, h, conf, read)
		h.do(http.MethodDelete, h.jobsPath()+"/"+id, nil, nil).ok(t)
	})
	t.Run("wrong keys", func(t *testing.T) {
		const wrong = "WrongSecretKeyWrongSecretKey"
		conf := "s3://" + bucket + "/compat?region=us-east-1&access-key-id=nobody&secret-access-key=" + wrong + "&endpoint=" + u.Host
		start := time.Now()
		e := h.createJob(objectJobBody(conf)).fails(t, http.StatusBadRequest, CodeDestination)
		msg := e["message"].(string)
		if !strings.HasPrefix(msg, "error validating destination: error writing object:") || strings.Contains(msg, wrong) || time.Since(start) > 20*time.Second {
			t.Fatalf("wrong keys: %q after %v", msg, time.Since(start))
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		e := h.createJob(objectJobBody("s3://"+objstoretest.UniqueName(t)+"/p?access-key-id="+url.QueryEscape(access)+"&secret-access-key="+url.QueryEscape(secret)+"&endpoint="+u.Host)).
			fails(t, http.StatusBadRequest, CodeDestination)
		if msg := e["message"].(string); strings.Contains(msg, secret) || !strings.Contains(msg, "error writing object") {
			t.Fatalf("missing bucket: %q", msg)
		}
	})
}

func TestObjectPushMinIOAsR2(t *testing.T) {
	srv, bucket, read := minio(t)
	endpoint, access, secret := srv.Endpoint, srv.AccessKey, srv.SecretKey
	h := pushHarness(t, Config{Storage: Endpoints{R2Endpoint: endpoint}})
	conf := "r2://" + bucket + "/cf/{DATE}?account-id=0123456789abcdef0123456789abcdef&access-key-id=" + url.QueryEscape(access) + "&secret-access-key=" + url.QueryEscape(secret)
	pushObjects(t, h, conf, read)
	// An R2 token without access to the bucket fails creation.
	const wrong = "WrongSecretKeyWrongSecretKey"
	e := h.createJob(objectJobBody("r2://"+bucket+"/cf?account-id=0123&access-key-id=nobody&secret-access-key="+wrong)).fails(t, http.StatusBadRequest, CodeDestination)
	if msg := e["message"].(string); strings.Contains(msg, wrong) {
		t.Fatalf("error shows the secret: %q", msg)
	}
}

func TestObjectPushFakeGCS(t *testing.T) {
	gcs := objstoretest.GCS(t)
	endpoint, bucket := gcs.Endpoint, gcs.NewBucket(t)
	read := openBucket(t, objstore.Config{Provider: objstore.ProviderGCS, Endpoint: endpoint, Bucket: bucket})
	h := pushHarness(t, Config{Storage: Endpoints{GCSEndpoint: endpoint}})
	pushObjects(t, h, "gs://"+bucket+"/logs/{DATE}", read)
	// A bucket that does not exist fails creation (after the challenge,
	// which cannot be written there either).
	missing := "gs://" + objstoretest.UniqueName(t) + "/logs"
	h.do(http.MethodPost, "/zones/"+h.zone()+"/logpush/ownership", map[string]string{"destination_conf": missing}, nil).fails(t, http.StatusBadRequest, CodeDestination)
}

func TestObjectPushAzurite(t *testing.T) {
	az := objstoretest.Azure(t)
	endpoint, container := az.Endpoint, az.NewContainer(t)
	read := openBucket(t, objstore.Config{Provider: objstore.ProviderAzure, Endpoint: endpoint, Bucket: container,
		AccountName: az.Account, AccountKey: az.Key})
	// An account SAS for blobs as Cloudflare's docs ask: ss=b, srt=o, five years.
	accountSAS := func(perms sas.AccountPermissions) string {
		return az.SAS(t, perms, sas.AccountResourceTypes{Object: true}, time.Now().AddDate(5, 0, 0))
	}
	h := pushHarness(t, Config{Storage: Endpoints{AzureEndpoint: endpoint}})

	t.Run("write-only SAS", func(t *testing.T) {
		sasq := accountSAS(sas.AccountPermissions{Write: true})
		if q, _ := url.ParseQuery(sasq); q.Get("sp") != "w" || q.Get("ss") != "b" || q.Get("srt") != "o" {
			t.Fatalf("SAS %v", q)
		}
		pushObjects(t, h, "azure://"+container+"/cf/{DATE}?"+sasq, read)
	})
	t.Run("SAS without write", func(t *testing.T) {
		sasq := accountSAS(sas.AccountPermissions{Read: true, List: true})
		sig, _ := url.ParseQuery(sasq)
		conf := "azure://" + container + "/ro?" + sasq
		// The ownership challenge cannot be written...
		e := h.do(http.MethodPost, "/zones/"+h.zone()+"/logpush/ownership", map[string]string{"destination_conf": conf}, nil).fails(t, http.StatusBadRequest, CodeDestination)
		if msg := e["message"].(string); !strings.HasPrefix(msg, "error writing ownership challenge:") || strings.Contains(msg, sig.Get("sig")) || strings.Contains(msg, url.QueryEscape(sig.Get("sig"))) {
			t.Fatalf("ownership with a read-only SAS: %q", msg)
		}
		// ...nor, with a valid challenge, the validation object.
		tok := h.srv.ownershipToken(scope{kind: "zone", id: h.zone()}, mustParseObject(t, conf), time.Now())
		body := objectJobBody(conf)
		body["ownership_challenge"] = tok
		e = h.createJob(body).fails(t, http.StatusBadRequest, CodeDestination)
		if msg := e["message"].(string); !strings.HasPrefix(msg, "error validating destination: error writing object:") || strings.Contains(msg, sig.Get("sig")) || strings.Contains(msg, url.QueryEscape(sig.Get("sig"))) {
			t.Fatalf("create with a read-only SAS: %q", msg)
		}
		if objs := listObjects(t, read, "ro/"); len(objs) != 0 {
			t.Fatalf("a read-only SAS wrote %v", objs)
		}
	})
}

func mustParseObject(t *testing.T, conf string) *ObjectDestination {
	t.Helper()
	d, err := ParseObjectDestination(conf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
