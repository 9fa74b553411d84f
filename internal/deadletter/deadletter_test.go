package deadletter

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2026, 11, 20, 23, 59, 0, 0, time.UTC)
	raws := [][]byte{[]byte(`{"broken":`), {0xff, 0xfe, '{'}, bytes.Repeat([]byte("x"), 1<<20)}
	for i, raw := range raws {
		e := Entry{Time: day1.Add(time.Duration(i) * time.Minute), Stage: "normalize", Dataset: "http_requests", Line: i + 1, Reason: "invalid_json", Error: "bad"}
		e.SetRaw(raw)
		if err := s.Write([]Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if len(files) != 2 {
		t.Fatalf("want one file per day, got %v", files)
	}
	// A torn last line (crash mid-write) is skipped, not fatal.
	f, _ := os.OpenFile(files[1], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-11-21T00:0`)
	f.Close()

	var got [][]byte
	skipped, err := Read(dir, func(e Entry) error { got = append(got, e.RawBytes()); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 1 {
		t.Errorf("skipped = %d, want 1", skipped)
	}
	if len(got) != len(raws) {
		t.Fatalf("read %d entries, want %d", len(got), len(raws))
	}
	for i := range raws {
		if !bytes.Equal(got[i], raws[i]) {
			t.Errorf("entry %d raw not kept exactly", i)
		}
	}
}
