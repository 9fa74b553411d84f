package objstore

import (
	"strings"
	"testing"
)

func TestFromDestination(t *testing.T) {
	tests := []struct {
		conf string
		want Config
		err  string
	}{
		{conf: "s3://logs/cf/{DATE}?region=us-east-2&sse=AES256",
			want: Config{Provider: ProviderS3, Bucket: "logs", Prefix: "cf/{DATE}", Region: "us-east-2"}},
		{conf: "s3://logs?region=us-east-1&access-key-id=AK&secret-access-key=S%2Fx&endpoint=sfo2.digitaloceanspaces.com",
			want: Config{Provider: ProviderS3, Bucket: "logs", Region: "us-east-1", AccessKeyID: "AK", SecretAccessKey: "S/x", Endpoint: "sfo2.digitaloceanspaces.com"}},
		{conf: "r2://cf-logs/http/{DATE}?account-id=0123abcd&access-key-id=AK&secret-access-key=SK",
			want: Config{Provider: ProviderS3, Bucket: "cf-logs", Prefix: "http/{DATE}", Region: "auto", AccessKeyID: "AK", SecretAccessKey: "SK", Endpoint: "https://0123abcd.r2.cloudflarestorage.com"}},
		{conf: "gs://bucket/dir/", want: Config{Provider: ProviderGCS, Bucket: "bucket", Prefix: "dir"}},
		{conf: "azure://acct.blob.core.windows.net/logs/cf?sv=2022-11-02&ss=b&srt=o&sp=w&sig=abc%3D",
			want: Config{Provider: ProviderAzure, Bucket: "logs", Prefix: "cf", Endpoint: "https://acct.blob.core.windows.net", AccountName: "acct", SASToken: "sv=2022-11-02&ss=b&srt=o&sp=w&sig=abc%3D"}},
		{conf: "azure://logs/cf?sp=w&sig=x", want: Config{Provider: ProviderAzure, Bucket: "logs", Prefix: "cf", SASToken: "sp=w&sig=x"}},
		{conf: "r2://b/p?access-key-id=a&secret-access-key=b", err: "account-id"},
		{conf: "s3://b?access-key-id=a", err: "both"},
		{conf: "s3:///path", err: "no bucket"},
		{conf: "azure://acct.blob.core.windows.net/?sig=x", err: "no container"},
		{conf: "https://example.com/x", err: "not an object store"},
		{conf: "s3://b/p?secret-access-key=%zz", err: "destination_conf"},
	}
	for _, tc := range tests {
		got, err := FromDestination(tc.conf)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("FromDestination(%q) error = %v, want one mentioning %q", tc.conf, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret-access-key=") {
				t.Errorf("error leaks the query: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("FromDestination(%q): %v", tc.conf, err)
			continue
		}
		if got != tc.want {
			t.Errorf("FromDestination(%q)\n got %+v\nwant %+v", tc.conf, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{},
		{Provider: "ftp", Bucket: "b"},
		{Provider: ProviderS3},
		{Provider: ProviderS3, Bucket: "a/b"},
		{Provider: ProviderS3, Bucket: "b", Endpoint: "ftp://x"},
		{Provider: ProviderS3, Bucket: "b", Endpoint: "http://x?y=1"},
		{Provider: ProviderFile, Bucket: "b"},
		{Provider: ProviderFile, Dir: "/tmp", Bucket: ".."},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	// A SAS URL pasted as the endpoint: refused, without its signature.
	err := (Config{Provider: ProviderAzure, Bucket: "b", Endpoint: "https://a.blob.core.windows.net/?sv=1&sig=SECRETSIG"}).Validate()
	if err == nil || strings.Contains(err.Error(), "SECRETSIG") {
		t.Errorf("endpoint with a SAS: %v", err)
	}
	for _, e := range []string{"127.0.0.1:9000", "http://127.0.0.1:10000/devstoreaccount1", "https://x.r2.cloudflarestorage.com/"} {
		if err := (Config{Provider: ProviderS3, Bucket: "b", Endpoint: e}).Validate(); err != nil {
			t.Errorf("endpoint %q: %v", e, err)
		}
	}
}

func TestJoin(t *testing.T) {
	if got := Join("/logs/", "", "20260101", "/a.log.gz"); got != "logs/20260101/a.log.gz" {
		t.Fatal(got)
	}
	if got := Join("", ""); got != "" {
		t.Fatal(got)
	}
}

// FuzzFromDestination: any destination_conf gives a Config or an error,
// never a panic, and an error never repeats a secret from the query.
func FuzzFromDestination(f *testing.F) {
	for _, s := range []string{
		"s3://logs/cf/{DATE}?region=us-east-2&sse=AES256",
		"s3://b?region=r&access-key-id=AK&secret-access-key=TOPSECRET&endpoint=h:9000",
		"r2://b/p?account-id=0123&access-key-id=AK&secret-access-key=TOPSECRET",
		"gs://bucket/dir/",
		"azure://acct.blob.core.windows.net/c/d?sv=1&sp=w&sig=TOPSECRET",
		"azure://c/d?sig=TOPSECRET%zz",
		"s3://%zz/?secret-access-key=TOPSECRET",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, conf string) {
		c, err := FromDestination(conf)
		if err != nil {
			if strings.Contains(conf, "TOPSECRET") && strings.Contains(err.Error(), "TOPSECRET") {
				t.Fatalf("error repeats a secret: %v", err)
			}
			return
		}
		if vErr := c.Validate(); vErr != nil {
			t.Fatalf("FromDestination(%q) returned a config that does not validate: %v", conf, vErr)
		}
	})
}
