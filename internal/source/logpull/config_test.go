package logpull_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/registry"
	"github.com/flarehose/flarehose/internal/source/logpull"
)

const zone = "0123456789abcdef0123456789abcdef"

func decode(t *testing.T, body string) (*logpull.Config, error) {
	t.Helper()
	yaml := "sources:\n  - type: cloudflare_logpull\n    zone_id: " + zone + "\n" + body + "sinks:\n  - type: duckdb\n"
	cfg, err := config.Parse([]byte(yaml), nil)
	if err != nil {
		return nil, err
	}
	_, v, err := registry.DecodeSource(cfg.Sources[0])
	if err != nil {
		return nil, err
	}
	return v.(*logpull.Config), nil
}

func TestConfigDefaults(t *testing.T) {
	c, err := decode(t, "    api_token: tok-0123456789abcdef\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Window.D() != 5*time.Minute || c.Delay.D() != 5*time.Minute || c.Since.D() != time.Hour || c.Interval.D() != time.Minute ||
		c.Timestamps != "unixnano" || c.Sample != 0 || len(c.Fields) != 0 || c.ChunkBytes != 8<<20 || c.MaxWindowTime.D() != 15*time.Minute {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigEveryKey(t *testing.T) {
	c, err := decode(t, `    api_token_file: /run/secrets/cf
    base_url: http://127.0.0.1:8787/client/v4
    fields: [RayID, ClientIP, EdgeStartTimestamp]
    sample: 0.1
    window: 1h
    delay: 2m
    since: 7d
    interval: 5m
    timestamps: unixnano
    chunk_bytes: 1MiB
    max_window_time: 20m
    request_timeout: 30s
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Fields) != 3 || c.Sample != 0.1 || c.Window.D() != time.Hour || c.Delay.D() != 2*time.Minute || c.Since.D() != 7*24*time.Hour ||
		c.Timestamps != "unixnano" || c.ChunkBytes != 1<<20 || c.APITokenFile != "/run/secrets/cf" {
		t.Fatalf("%+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	const tok = "    api_token: tok-0123456789abcdef\n"
	cases := []struct{ body, want string }{
		{tok + "    window: 2h\n", "window 2h0m0s: must be whole minutes from 1m to 1h"},
		{tok + "    window: 90s\n", "window 1m30s"},
		{tok + "    delay: 30s\n", "delay 30s"},
		{tok + "    since: 8d\n", "at most 7d"},
		{tok + "    sample: 1.5\n", "sample 1.5"},
		{tok + "    fields: [\"Ray ID\"]\n", `"Ray ID" is not a field name`},
		{tok + "    fields: \"RayID,ClientIP\"\n", "cannot unmarshal"},
		{tok + "    fields: [RayID, RayID]\n", "RayID is listed twice"},
		{tok + "    timestamps: iso\n", `timestamps "iso"`},
		{tok + "    zone: x\n", `unknown key "zone"`},
		{"", "no credentials"},
	}
	for _, c := range cases {
		_, err := decode(t, c.body)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.body, err, c.want)
		}
	}
	yaml := "sources:\n  - type: cloudflare_logpull\n    zone_id: nope\n    api_token: tok-0123456789abcdef\nsinks:\n  - type: duckdb\n"
	cfg, _ := config.Parse([]byte(yaml), nil)
	if _, _, err := registry.DecodeSource(cfg.Sources[0]); err == nil || !strings.Contains(err.Error(), `zone_id "nope"`) {
		t.Errorf("bad zone: %v", err)
	}
}
