package sim

import (
	"os"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	g, err := NewGenerator("http_requests", 1)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 200000; i++ {
		b = g.Append(b, ts.Add(time.Duration(i)*time.Millisecond*37), nil)
	}
	os.WriteFile("/tmp/http.ndjson", b, 0o644)
}

func TestScratchFW(t *testing.T) {
	g, _ := NewGenerator("firewall_events", 1)
	var b []byte
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 20000; i++ {
		b = g.Append(b, ts.Add(time.Duration(i)*time.Millisecond*37), MustFormat("firewall_events", OutputOptions{TimestampFormat: "rfc3339"}))
	}
	os.WriteFile("/tmp/fw.ndjson", b, 0o644)
}

func TestScratchAudit(t *testing.T) {
	g, _ := NewGenerator("audit_logs", 1)
	var b []byte
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 5000; i++ {
		b = g.Append(b, ts.Add(time.Duration(i)*time.Minute), MustFormat("audit_logs", OutputOptions{TimestampFormat: "rfc3339"}))
	}
	os.WriteFile("/tmp/audit.ndjson", b, 0o644)
}
