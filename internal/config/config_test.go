package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(data, env(map[string]string{"TEST_SECRET": "s3cr3t"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/var/lib/flarehose" || cfg.Log.Format != "json" || cfg.HTTP.Listen != "127.0.0.1:8081" {
		t.Errorf("top-level keys not decoded: %+v", cfg)
	}
	if cfg.Queue.MaxBytes != 2<<30 || cfg.Queue.SegmentBytes != 32<<20 || cfg.ShutdownTimeout.D() != 45*time.Second {
		t.Errorf("units not decoded: %+v", cfg.Queue)
	}
	if !cfg.Normalize.PreserveOriginal || cfg.Normalize.GeoIPDir != "/usr/share/GeoIP" {
		t.Errorf("normalize not decoded: %+v", cfg.Normalize)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Type != "logpush_http" || cfg.Sources[0].Name != "logpush_http" {
		t.Fatalf("sources: %+v", cfg.Sources)
	}
	if len(cfg.Sinks) != 1 || cfg.Sinks[0].Name != "store" || cfg.Sinks[0].Line != 20 {
		t.Fatalf("sinks: %+v", cfg.Sinks)
	}
	var got struct {
		Listen string `yaml:"listen"`
		Secret string `yaml:"secret"`
	}
	if err := DecodeStrict(cfg.Sources[0].Node, &got); err != nil {
		t.Fatal(err)
	}
	if got.Secret != "s3cr3t" {
		t.Errorf("secret not expanded from the environment: %q", got.Secret)
	}
}

func TestParseEmptyGivesDefaults(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n"} {
		cfg, err := Parse([]byte(in), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if cfg.DataDir != Defaults().DataDir || cfg.Queue.MaxBytes != Defaults().Queue.MaxBytes {
			t.Errorf("%q: defaults not applied: %+v", in, cfg)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"unknown top key", "data_dri: x\n", `line 1: unknown key "data_dri"`},
		{"unknown nested key", "log:\n  levle: debug\n", `line 2: unknown key "levle"`},
		{"bad level", "log:\n  level: loud\n", `log.level "loud"`},
		{"bad size", "queue:\n  max_bytes: lots\n", `line 2: invalid size "lots"`},
		{"bad duration", "shutdown_timeout: soon\n", `line 1: invalid duration "soon"`},
		{"unset env", "data_dir: ${NOPE_NOT_SET}\n", "line 1: environment variable NOPE_NOT_SET is not set"},
		{"component without type", "sources:\n  - listen: x\n", "line 2: component has no type"},
		{"component not a mapping", "sinks:\n  - duckdb\n", "line 2: a component must be a mapping"},
		{"duplicate names", "sources:\n  - type: a\n  - type: a\n", `component name "a" already used at line 2`},
		{"not yaml", "data_dir: [unclosed\n", "invalid YAML"},
		{"tiny queue", "queue:\n  max_bytes: 1KiB\n", "below the 16MiB minimum"},
		{"wrong type", "http: 5\n", "cannot unmarshal"},
		{"negative sink_unhealthy_after", "sink_unhealthy_after: -1m\n", "sink_unhealthy_after must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in), env(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseHostile(t *testing.T) {
	// A billion-laughs style alias bomb must be refused or bounded, not hang.
	bomb := "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\ndata_dir: *e\n"
	if _, err := Parse([]byte(bomb), env(nil)); err == nil {
		t.Error("alias bomb accepted")
	}
	if _, err := Parse([]byte(strings.Repeat("#", MaxFileBytes+1)), env(nil)); err == nil {
		t.Error("oversized file accepted")
	}
	if _, err := Parse([]byte("data_dir: \xff\xfe\n"), env(nil)); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
	// An env value cannot inject structure: it stays one scalar.
	cfg, err := Parse([]byte("data_dir: ${X}\n"), env(map[string]string{"X": "a\nlog:\n  level: nope"}))
	if err != nil || !strings.HasPrefix(cfg.DataDir, "a\nlog:") {
		t.Errorf("env injection: cfg=%+v err=%v", cfg, err)
	}
}

func TestEnvDefaultsAndEscapes(t *testing.T) {
	cfg, err := Parse([]byte("data_dir: ${MISSING:-/tmp/x}$$y\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/tmp/x$y" {
		t.Errorf("data_dir = %q", cfg.DataDir)
	}
}

func TestUnits(t *testing.T) {
	sizes := map[string]ByteSize{"1024": 1024, "64MiB": 64 << 20, "1.5GB": 1500000000, "8G": 8 << 30, "10 KiB": 10240}
	for in, want := range sizes {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "MiB", "1e30GiB", "ten"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) accepted", bad)
		}
	}
	durs := map[string]time.Duration{"30s": 30 * time.Second, "30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1.5h": 90 * time.Minute}
	for in, want := range durs {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "soon"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestSinkUnhealthyAfter(t *testing.T) {
	cfg, err := Parse(nil, env(nil))
	if err != nil || cfg.SinkUnhealthyAfter.D() != 2*time.Minute {
		t.Fatalf("default: %v %v", cfg.SinkUnhealthyAfter, err)
	}
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "0": 0, "1h": time.Hour} {
		cfg, err := Parse([]byte("sink_unhealthy_after: "+in+"\n"), env(nil))
		if err != nil || cfg.SinkUnhealthyAfter.D() != want {
			t.Errorf("%s: %v %v", in, cfg.SinkUnhealthyAfter, err)
		}
	}
}

func TestSourceNormalizeOverrides(t *testing.T) {
	cfg, err := Parse([]byte("sources:\n  - type: logpush_http\n    normalize:\n      preserve_original: true\n  - type: logpush_http\n    name: b\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Sources[0].Normalize.PreserveOriginal; p == nil || !*p || cfg.Sources[0].Normalize.KeepDuplicateFields != nil {
		t.Errorf("overrides of source 0: %+v", cfg.Sources[0].Normalize)
	}
	if cfg.Sources[1].Normalize.PreserveOriginal != nil {
		t.Errorf("source without overrides got %+v", cfg.Sources[1].Normalize)
	}
	_, err = Parse([]byte("sources:\n  - type: logpush_http\n    normalize:\n      preserve_orignal: true\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), `line 4: unknown key "preserve_orignal"`) {
		t.Errorf("typo in normalize: err = %v", err)
	}
}
