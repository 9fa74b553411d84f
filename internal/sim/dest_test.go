package sim

import (
	"strings"
	"testing"
)

func TestParseDestination(t *testing.T) {
	cases := []struct {
		conf    string
		url     string
		headers map[string]string
	}{
		{
			conf:    "https://logs.example.com?header_Authorization=Basic%20REDACTED&tags=host:theburritobot.com,dataset:http_requests",
			url:     "https://logs.example.com?tags=host:theburritobot.com,dataset:http_requests",
			headers: map[string]string{"Authorization": "Basic REDACTED"},
		},
		{
			conf:    "https://collector.local:8443/v1/logpush/http_requests?header_X-Flarehose-Secret=s3cr%2Bt%3D%3D&source=cf&header_Content-Type=application%2Fjson",
			url:     "https://collector.local:8443/v1/logpush/http_requests?source=cf",
			headers: map[string]string{"X-Flarehose-Secret": "s3cr+t==", "Content-Type": "application/json"},
		},
		{
			conf: "http://127.0.0.1:9000/ingest",
			url:  "http://127.0.0.1:9000/ingest",
		},
		{
			conf:    "https://h/p?header_DD-API-KEY=abc",
			url:     "https://h/p",
			headers: map[string]string{"Dd-Api-Key": "abc"},
		},
	}
	for _, c := range cases {
		d, err := ParseDestination(c.conf)
		if err != nil {
			t.Fatalf("%s: %v", c.conf, err)
		}
		if d.URL != c.url {
			t.Errorf("%s: URL %q, want %q", c.conf, d.URL, c.url)
		}
		if len(d.Header) != len(c.headers) {
			t.Errorf("%s: headers %v", c.conf, d.Header)
		}
		for k, v := range c.headers {
			if got := d.Header.Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", c.conf, k, got, v)
			}
		}
	}
	for _, bad := range []string{"s3://bucket/path?region=us-east-1", "datadog://http-intake.logs.datadoghq.com/v1/input", "https://?x=1", "https://h/p?header_Bad%20Name=x", "://nope"} {
		if _, err := ParseDestination(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestRedactConf(t *testing.T) {
	got := redactConf("https://h/p?header_Authorization=Bearer%20secret&tags=a")
	if strings.Contains(got, "secret") || !strings.Contains(got, "tags=a") {
		t.Errorf("got %s", got)
	}
}
