package cfaudit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/registry"
	"github.com/flarehose/flarehose/internal/source/cfapi"
	"github.com/flarehose/flarehose/internal/source/cfaudit"
)

const account = "0123456789abcdef0123456789abcdef"

func decode(t *testing.T, body string) (*cfaudit.Config, error) {
	t.Helper()
	yaml := "sources:\n  - type: cloudflare_audit\n" + body + "sinks:\n  - type: duckdb\n"
	env := func(k string) (string, bool) { return "token-from-env-0123456789", k == "CF_API_TOKEN" }
	cfg, err := config.Parse([]byte(yaml), env)
	if err != nil {
		return nil, err
	}
	_, v, err := registry.DecodeSource(cfg.Sources[0])
	if err != nil {
		return nil, err
	}
	return v.(*cfaudit.Config), nil
}

func TestConfigDefaults(t *testing.T) {
	c, err := decode(t, "    account_id: "+account+"\n    api_token: ${CF_API_TOKEN}\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "v2" || c.Interval.D() != time.Minute || c.Overlap.D() != 5*time.Minute || c.Since.D() != 24*time.Hour ||
		c.PageSize != 1000 || c.BaseURL != cfapi.DefaultBaseURL || c.APIToken != "token-from-env-0123456789" || c.RequestTimeout.D() != time.Minute {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigEveryKey(t *testing.T) {
	c, err := decode(t, `    name: audit-v1
    account_id: `+account+`
    api_email: admin@example.com
    api_key: 0123456789abcdef0123456789abcdef01234
    version: v1
    base_url: https://api.example.com/client/v4/
    interval: 30s
    overlap: 10m
    since: 7d
    page_size: 100
    request_timeout: 20s
    normalize: {preserve_original: true}
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "v1" || c.Interval.D() != 30*time.Second || c.Overlap.D() != 10*time.Minute || c.Since.D() != 7*24*time.Hour ||
		c.PageSize != 100 || c.APIEmail != "admin@example.com" || c.RequestTimeout.D() != 20*time.Second {
		t.Fatalf("%+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	const tok = "    api_token: secret-token-value-0123\n"
	cases := []struct{ body, want string }{
		{"    account_id: " + account + "\n    api_tokn: x\n", `unknown key "api_tokn"`},
		{"    account_id: " + account + "\n", "no credentials"},
		{"    account_id: " + account + "\n" + tok + "    api_key: 0123456789abcdef0123456789abcdef01234\n    api_email: a@example.com\n", "not both"},
		{"    account_id: " + account + "\n    api_key: 0123456789abcdef0123456789abcdef01234\n", "needs both api_email and api_key"},
		{"    account_id: " + account + "\n" + tok + "    api_token_file: /run/secrets/cf\n", "both set"},
		{"    account_id: 1234\n" + tok, `account_id "1234"`},
		{"    account_id: " + account + "\n" + tok + "    version: v3\n", `version "v3"`},
		{"    account_id: " + account + "\n" + tok + "    page_size: 5000\n", "page_size 5000"},
		{"    account_id: " + account + "\n" + tok + "    overlap: -1m\n", "overlap -1m0s"},
		{"    account_id: " + account + "\n" + tok + "    since: 1000d\n", "at most 18 months"},
		{"    account_id: " + account + "\n" + tok + "    interval: 10ms\n", "interval 10ms"},
		{"    account_id: " + account + "\n" + tok + "    base_url: ftp://example.com\n", `base_url "ftp://example.com"`},
		{"    account_id: " + account + "\n    api_token: \"two words-0123456789\"\n", "api_token holds spaces"},
	}
	for _, c := range cases {
		_, err := decode(t, c.body)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.body, err, c.want)
			continue
		}
		for _, secret := range []string{"secret-token-value-0123", "two words-0123456789", "0123456789abcdef0123456789abcdef01234"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows a secret: %v", err)
			}
		}
	}
}
