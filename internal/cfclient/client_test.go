package cfclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/sim"
)

func TestMaskDestination(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://logs.example.com:9560/logpush/http_requests?header_X-Flarehose-Secret=s3cr%20et",
			"https://logs.example.com:9560/logpush/http_requests?header_X-Flarehose-Secret=***"},
		{"https://logs.example.com?header_Authorization=Basic%20abc&tags=host:a,dataset:b",
			"https://logs.example.com?header_Authorization=***&tags=host:a,dataset:b"},
		{"https://user:pass@logs.example.com/x", "https://user:***@logs.example.com/x"},
		{"https://logs.example.com", "https://logs.example.com"},
		{"https://logs.example.com/", "https://logs.example.com/"},
		{"s3://bucket/logs/{DATE}?region=us-east-1&access-key-id=AKIA1&secret-access-key=abc%2Fdef&endpoint=x.example",
			"s3://bucket/logs/{DATE}?region=us-east-1&access-key-id=AKIA1&secret-access-key=***&endpoint=x.example"},
		{"r2://b/p?account-id=0123&access-key-id=k&secret-access-key=s", "r2://b/p?account-id=0123&access-key-id=k&secret-access-key=***"},
		{"azure://container/dir?sv=2022-11-02&ss=b&srt=o&sp=w&sig=abcdef%3D", "azure://container/dir?sv=2022-11-02&ss=b&srt=o&sp=w&sig=***"},
		{"https://log-api.newrelic.com/log/v1?Api-Key=abc&format=cloudflare", "https://log-api.newrelic.com/log/v1?Api-Key=***&format=cloudflare"},
		{"datadog://http-intake.logs.datadoghq.com/v1/input?header_DD-API-KEY=k&ddsource=cloudflare",
			"datadog://http-intake.logs.datadoghq.com/v1/input?header_DD-API-KEY=***&ddsource=cloudflare"},
		{"sumo://endpoint.collection.sumologic.com/receiver/v1/http/ZaVnC4dhaV3", "sumo://endpoint.collection.sumologic.com/receiver/v1/http/***"},
		{"gs://bucket/dir", "gs://bucket/dir"},
		{"", ""},
	} {
		if got := MaskDestination(c.in); got != c.want {
			t.Errorf("MaskDestination(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestMaskJSON(t *testing.T) {
	v := map[string]any{"destination_conf": "https://h/x?header_A=b", "ownership_challenge": "tok.en.sig",
		"jobs": []any{map[string]any{"destination_conf": "https://h/y?header_B=c"}}}
	MaskJSON(v)
	if v["destination_conf"] != "https://h/x?header_A=***" || v["ownership_challenge"] != Mask ||
		v["jobs"].([]any)[0].(map[string]any)["destination_conf"] != "https://h/y?header_B=***" {
		t.Fatalf("%v", v)
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor("a b+c/d", "", "abc", "tok-1234567890")
	in := "raw a b+c/d, query a+b%2Bc%2Fd, path a%20b+c%2Fd, pct a%20b%2Bc%2Fd, token tok-1234567890, short abc"
	got := r.Scrub(in)
	for _, leak := range []string{"a b+c/d", "a+b%2Bc%2Fd", "a%20b%2Bc%2Fd", "tok-1234567890"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q still holds %q", got, leak)
		}
	}
	if !strings.Contains(got, "short abc") {
		t.Errorf("short secrets are not scrubbed: %q", got)
	}
	var nilR *Redactor
	if got := nilR.Scrub("x, error uploading to https://h/p?tags=a&header_Authorization=Basic%20unknown \"sig=abc\""); got != `x, error uploading to https://h/p?tags=a&header_Authorization=*** "sig=***"` {
		t.Errorf("inline parameters: %q", got)
	}
}

func TestHTTPDestination(t *testing.T) {
	for _, c := range []struct {
		base, ds, header, secret, want, err string
	}{
		{"https://logs.example.com:9560", "http_requests", "", "s e+c/r&t",
			"https://logs.example.com:9560/logpush/http_requests?header_X-Flarehose-Secret=s%20e%2Bc%2Fr%26t", ""},
		{"https://logs.example.com/", "audit_logs", "X-Flarehose-Secret", "x",
			"https://logs.example.com/logpush/audit_logs?header_X-Flarehose-Secret=x", ""},
		{"https://logs.example.com/cf/", "firewall_events", "Authorization", "Bearer abc",
			"https://logs.example.com/cf/firewall_events?header_Authorization=Bearer%20abc", ""},
		{"https://logs.example.com/logpush/http_requests", "http_requests", "", "x",
			"https://logs.example.com/logpush/http_requests?header_X-Flarehose-Secret=x", ""},
		{"https://logs.example.com/logpush?tags=a&header_X-Flarehose-Secret=old", "dns_logs", "", "new",
			"https://logs.example.com/logpush/dns_logs?tags=a&header_X-Flarehose-Secret=new", ""},
		{"https://logs.example.com", "http_requests", "", "", "https://logs.example.com/logpush/http_requests", ""},
		{"ftp://logs.example.com", "http_requests", "", "x", "", "want https://"},
		{"logs.example.com:9560", "http_requests", "", "x", "", "want https://"},
		{"https://u:p@logs.example.com", "http_requests", "", "x", "", "user info"},
		{"https://logs.example.com", "http_requests", "Bad Header", "x", "", "not a valid HTTP header"},
	} {
		got, err := HTTPDestination(c.base, c.ds, c.header, c.secret)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.base, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v\nwant %q", c.base, got, err, c.want)
		}
	}
	conf, _ := SetHeaderParam("https://h/logpush/x?tags=a&header_X-Flarehose-Secret=old", "X-Flarehose-Secret", "n w")
	if conf != "https://h/logpush/x?tags=a&header_X-Flarehose-Secret=n%20w" {
		t.Errorf("SetHeaderParam: %q", conf)
	}
	if v, ok := HeaderParam(conf, "x-flarehose-secret"); !ok || v != "n w" {
		t.Errorf("HeaderParam: %q %v", v, ok)
	}
}

func TestParseObjectDestination(t *testing.T) {
	for _, c := range []struct {
		conf  string
		owner bool
	}{
		{"s3://bucket/logs/{DATE}?region=us-east-1", true},
		{"s3://bucket/logs?region=auto&access-key-id=a&secret-access-key=b&endpoint=e", false},
		{"r2://bucket/logs?account-id=a&access-key-id=b&secret-access-key=c", false},
		{"gs://bucket/logs", true},
		{"azure://container/logs?sv=1&ss=b&srt=o&sig=x", true},
	} {
		d, err := ParseObjectDestination(c.conf)
		if err != nil || d.NeedsOwnership() != c.owner {
			t.Errorf("%s: %+v %v", c.conf, d, err)
		}
	}
	d, _ := ParseObjectDestination("s3://bucket/a/b/?region=x")
	if d.Bucket != "bucket" || d.Path != "a/b" || d.Scheme != "s3" {
		t.Errorf("%+v", d)
	}
	for _, bad := range []string{"https://x", "s3:///nobucket", "ftp://b/p"} {
		if _, err := ParseObjectDestination(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestPresetsAreSimulatedFields(t *testing.T) {
	gen, err := sim.DatasetFields("http_requests")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range gen {
		have[f.Name] = true
	}
	for _, p := range Presets("http_requests") {
		fields, _ := Preset("http_requests", p)
		for _, f := range fields {
			if !have[f] {
				t.Errorf("preset %s: %s is not an http_requests field", p, f)
			}
		}
	}
	if _, ok := Preset("http_requests", "nope"); ok {
		t.Error("unknown preset found")
	}
}

func TestCatalog(t *testing.T) {
	if n := len(Datasets("zone")); n != 9 {
		t.Errorf("zone datasets: %d", n)
	}
	if n := len(Datasets("account")); n != 30 {
		t.Errorf("account datasets: %d", n)
	}
	if s := DatasetScopes("firewall_events"); len(s) != 2 {
		t.Errorf("firewall_events scopes %v", s)
	}
	if d, ok := LookupDataset("zone", "http_requests"); !ok || !d.Edge || len(d.TimestampFields) != 2 {
		t.Errorf("%+v", d)
	}
}

// apiServer answers with the handlers in turn (the last one repeats).
func apiServer(t *testing.T, handlers ...http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		handlers[min(i, len(handlers)-1)](w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, &n
}

func reply(status int, body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const (
	okJobs      = `{"success":true,"errors":[],"messages":[],"result":[{"id":2,"dataset":"http_requests"},{"id":1,"dataset":"dns_logs"}]}`
	rateLimited = `{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}`
)

func TestRetryAfterHonoured(t *testing.T) {
	ts, n := apiServer(t, reply(429, rateLimited, "Retry-After", "7"), reply(200, okJobs))
	var slept []time.Duration
	c := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}, Sleep: func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}}
	jobs, err := c.ListJobs(context.Background(), Zone("z"), "")
	if err != nil || len(jobs) != 2 || jobs[0].ID != 1 || n.Load() != 2 {
		t.Fatalf("%v %+v (%d calls)", err, jobs, n.Load())
	}
	if len(slept) != 1 || slept[0] != 7*time.Second {
		t.Fatalf("slept %v", slept)
	}
}

func TestRetryAfterTooLong(t *testing.T) {
	ts, n := apiServer(t, reply(429, rateLimited, "Retry-After", "300"))
	c := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}, MaxWait: time.Minute,
		Sleep: func(context.Context, time.Duration) error { t.Fatal("slept"); return nil }}
	_, err := c.ListJobs(context.Background(), Zone("z"), "")
	var ae *APIError
	if !errors.As(err, &ae) || !ae.RateLimited() || ae.RetryAfter != 5*time.Minute || ae.WaitTooLong != time.Minute || n.Load() != 1 {
		t.Fatalf("%#v (%d calls)", err, n.Load())
	}
	if h := ae.Hint(Zone("z")); !strings.Contains(h, "wait 5m0s, longer than the 1m0s") {
		t.Fatalf("hint %q", h)
	}
}

func TestRetriesExhausted(t *testing.T) {
	ts, n := apiServer(t, reply(429, rateLimited, "Retry-After", "1"))
	c := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}, MaxRetries: 2, Sleep: func(context.Context, time.Duration) error { return nil }}
	_, err := c.ListJobs(context.Background(), Zone("z"), "")
	var ae *APIError
	if !errors.As(err, &ae) || !ae.RateLimited() || n.Load() != 3 {
		t.Fatalf("%v (%d calls)", err, n.Load())
	}
	if h := ae.Hint(Zone("z")); !strings.Contains(h, "still refused after the retries") {
		t.Fatalf("hint %q", h)
	}
}

func TestServerErrorsRetriedForReadsOnly(t *testing.T) {
	fail := reply(502, "<html>bad gateway</html>")
	nosleep := func(context.Context, time.Duration) error { return nil }
	ts, n := apiServer(t, fail, reply(200, okJobs))
	c := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}, Sleep: nosleep}
	if _, err := c.ListJobs(context.Background(), Zone("z"), ""); err != nil || n.Load() != 2 {
		t.Fatalf("GET: %v (%d calls)", err, n.Load())
	}
	ts2, n2 := apiServer(t, fail, reply(200, `{"success":true,"errors":[],"result":{"id":1}}`))
	c2 := &Client{BaseURL: ts2.URL, Auth: Auth{Token: "tok"}, Sleep: nosleep}
	_, err := c2.CreateJob(context.Background(), Zone("z"), map[string]any{"dataset": "x"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 502 || !strings.Contains(ae.Error(), "not a Cloudflare API response: <html>") || n2.Load() != 1 {
		t.Fatalf("POST: %v (%d calls)", err, n2.Load())
	}
}

func TestErrorsAndHints(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		code   int
		hint   string
	}{
		{403, `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}`, 10000, "lacks the Logs Write permission for zone z"},
		{400, `{"success":false,"errors":[{"code":6003,"message":"Invalid request headers","error_chain":[{"code":6111,"message":"Invalid format for Authorization header"}]}],"messages":[],"result":null}`, 6111, "could not read the credentials"},
		{403, `{"success":false,"errors":[{"code":1004,"message":"creating a new job (for http_requests dataset) is not allowed: exceeded max jobs allowed"}],"result":null}`, 1004, "4 Logpush jobs per zone"},
		{403, `{"success":false,"errors":[{"code":1004,"message":"creating a new job is not allowed: Bot Management fields are not allowed"}],"result":null}`, 1004, "Bot Management"},
		{400, `{"success":false,"errors":[{"code":1002,"message":"error validating destination: error writing object: error uploading: 401 Unauthorized"}],"result":null}`, 1002, "refused the upload's secret"},
		{400, `{"success":false,"errors":[{"code":1002,"message":"error validating destination: error writing object: error uploading: dial tcp 1.2.3.4:9560: connect: connection refused"}],"result":null}`, 1002, "nothing listens"},
		{404, `{"success":false,"errors":[{"code":1003,"message":"job not found"}],"result":null}`, 1003, "jobs list"},
		{400, `{"success":false,"errors":[{"code":7003,"message":"Could not route to /zones/x/logpush/jobs, perhaps your object identifier is invalid?"}],"result":null}`, 7003, "check the zone or account ID"},
	} {
		ts, _ := apiServer(t, reply(c.status, c.body))
		cl := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}}
		_, err := cl.GetJob(context.Background(), Zone("z"), 1)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != c.status || !ae.Has(c.code) {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if h := ae.Hint(Zone("z")); !strings.Contains(h, c.hint) {
			t.Errorf("%d: hint %q, want %q", c.code, h, c.hint)
		}
	}
}

func TestErrorsScrubbed(t *testing.T) {
	ts, _ := apiServer(t, reply(400, `{"success":false,"errors":[{"code":1002,"message":"error validating destination https://h/x?header_X=topsecret-value"}],"result":null}`))
	c := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}, Redact: NewRedactor("topsecret-value")}
	_, err := c.CreateJob(context.Background(), Zone("z"), map[string]any{"destination_conf": "https://h/x?header_X=topsecret-value"})
	if err == nil || strings.Contains(err.Error(), "topsecret-value") {
		t.Fatalf("%v", err)
	}
}

func TestDryRun(t *testing.T) {
	var out bytes.Buffer
	c := &Client{BaseURL: "https://api.example/client/v4/", Auth: Auth{Token: "tok-secret"}, DryRun: &out, Redact: NewRedactor("tok-secret", "shh-secret")}
	_, err := c.CreateJob(context.Background(), Account("a"), map[string]any{
		"destination_conf": "https://h/logpush/x?header_X-Flarehose-Secret=shh-secret", "ownership_challenge": "eyJ.x.y"})
	if !errors.Is(err, ErrDryRun) {
		t.Fatal(err)
	}
	got := out.String()
	want := "POST https://api.example/client/v4/accounts/a/logpush/jobs\n{\n  \"destination_conf\": \"https://h/logpush/x?header_X-Flarehose-Secret=***\",\n  \"ownership_challenge\": \"***\"\n}\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestOwnershipChallengeLocalDir(t *testing.T) {
	dir := t.TempDir()
	const file = "logs/ownership-challenge-1234abcd.txt"
	ts, _ := apiServer(t, func(w http.ResponseWriter, r *http.Request) {
		p := filepath.Join(dir, "s3", "bucket", filepath.FromSlash(file))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("eyJhbGciOi.eyJ0eXAi.c2ln\n"), 0o644)
		reply(200, `{"success":true,"errors":[],"messages":[],"result":{"filename":"`+file+`","message":"","valid":true}}`)(w, r)
	})
	red := NewRedactor()
	c := &Client{BaseURL: ts.URL, Auth: Auth{Token: "tok"}, Redact: red}
	dest, _ := ParseObjectDestination("s3://bucket/logs?region=us-east-1")
	reader, err := NewChallengeReader("file://" + dir)
	if err != nil {
		t.Fatal(err)
	}
	token, name, err := c.OwnershipChallenge(context.Background(), Zone("z"), dest, reader, 0)
	if err != nil || token != "eyJhbGciOi.eyJ0eXAi.c2ln" || name != file {
		t.Fatalf("%q %q %v", token, name, err)
	}
	if red.Scrub(token) != Mask {
		t.Fatal("token not registered with the redactor")
	}
	// A missing file: the error names it.
	os.RemoveAll(dir)
	if _, _, err := c.OwnershipChallenge(context.Background(), Zone("z"), dest, LocalDirReader{Dir: t.TempDir()}, 0); err == nil ||
		!strings.Contains(err.Error(), "s3://bucket/"+file) {
		t.Fatalf("%v", err)
	}
	if _, err := NewChallengeReader("s3://bucket"); !errors.Is(err, ErrNoReader) {
		t.Fatalf("%v", err)
	}
	if _, err := CheckChallenge("not a token!"); err == nil {
		t.Fatal("bad token accepted")
	}
}

func TestNetworkErrors(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	addr := ts.URL
	ts.Close()
	slept := 0
	c := &Client{BaseURL: addr, Auth: Auth{Token: "tok"}, Sleep: func(context.Context, time.Duration) error { slept++; return nil }}
	_, err := c.ListJobs(context.Background(), Zone("z"), "")
	var ne *NetError
	if !errors.As(err, &ne) || !ne.Permanent || slept != 0 || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("%v (slept %d)", err, slept)
	}
}
