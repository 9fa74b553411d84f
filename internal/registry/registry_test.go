package registry

import (
	"os"
	"strings"
	"testing"

	"github.com/flarehose/flarehose/internal/config"
)

// TestREADMEConfigIsValid keeps the README's configuration example true to
// the code: it must parse and every component in it must validate.
func TestREADMEConfigIsValid(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "## Configuration")
	if i < 0 {
		t.Fatal("README has no ## Configuration section")
	}
	text = text[i:]
	start := strings.Index(text, "```yaml\n")
	end := strings.Index(text[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in the Configuration section")
	}
	example := text[start+8 : start+8+end]
	env := func(k string) (string, bool) { return "example-secret-0123456789", true }
	cfg, err := config.Parse([]byte(example), env)
	if err != nil {
		t.Fatalf("README configuration: %v", err)
	}
	if err := Check(cfg); err != nil {
		t.Fatalf("README configuration: %v", err)
	}
}

func TestCheckErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"sinks:\n  - type: duckdb\n", "no sources configured"},
		{"sources:\n  - type: logpush_http\n    secret: 0123456789abcdef0\n", "no sinks configured"},
		{"sources:\n  - type: kafka\nsinks:\n  - type: duckdb\n", `line 2: unknown source type "kafka"`},
		{"sources:\n  - type: logpush_http\n    secret: 0123456789abcdef0\nsinks:\n  - type: duckdb\n    normalize: {preserve_original: true}\n", "applies to sources only"},
		{"sources:\n  - type: logpush_http\n    secret: 0123456789abcdef0\n    listen: 1\nsinks:\n  - type: duckdb\n", `listen "1": want host:port`},
		{"sources:\n  - type: logpush_http\n    secret: 0123456789abcdef0\nsinks:\n  - type: duckdb\n    retention: -1d\n", `invalid duration "-1d"`},
		{"sources:\n  - type: logpush_http\n    secret: short\nsinks:\n  - type: duckdb\n", "at least 16"},
	}
	for _, c := range cases {
		cfg, err := config.Parse([]byte(c.yaml), nil)
		if err == nil {
			err = Check(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.yaml, err, c.want)
		}
	}
}
