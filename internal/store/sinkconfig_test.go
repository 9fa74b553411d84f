package store

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/flarehose/flarehose/internal/sink"
)

func TestSinkConfig(t *testing.T) {
	tests := []struct {
		yaml    string
		err     string
		records int
		bytes   int
	}{
		{yaml: `{}`},
		{yaml: `{max_write_bytes: 96MB, max_write_records: 60000}`, records: 60000, bytes: 96_000_000},
		{yaml: `{max_write_records: -1}`, err: "must not be negative"},
		{yaml: `{checkpoint_threshold: lots}`, err: "checkpoint_threshold"},
		{yaml: `{memory_limit: 12XB}`, err: "memory_limit"},
		{yaml: `{path: ""}`, err: "path"},
	}
	for _, tc := range tests {
		c := DefaultSinkConfig()
		if err := yaml.Unmarshal([]byte(tc.yaml), c); err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		err := c.Validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one mentioning %q", tc.yaml, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		s, err := NewSink("duckdb", *c, sink.Deps{DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		var ws sink.WriteSizer = s
		if r, b := ws.MaxWrite(); r != tc.records || b != tc.bytes {
			t.Errorf("%s: MaxWrite() = %d, %d, want %d, %d", tc.yaml, r, b, tc.records, tc.bytes)
		}
		s.Close()
	}
}
