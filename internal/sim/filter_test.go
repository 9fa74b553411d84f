package sim

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// prepare + renderCurrent must be exactly Append, for every generator, so
// a filtered job pushes the same records as an unfiltered one minus the
// declined ones.
func TestRecordSourceMatchesAppend(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, ds := range Datasets() {
		a, _ := NewGenerator(ds, 7)
		b, _ := NewGenerator(ds, 7)
		var x, y []byte
		for i := range 300 {
			ts := start.Add(time.Duration(i) * time.Second)
			x = a.Append(x, ts, nil)
			b.(recordSource).prepare(ts)
			y = b.(recordSource).renderCurrent(y, nil)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s: prepare+renderCurrent differs from Append", ds)
		}
	}
}

func TestFilteredGeneratorInBatchWriter(t *testing.T) {
	g, _ := NewGenerator("http_requests", 3)
	fg, err := NewFilteredGenerator(g, []string{"EdgeResponseStatus"}, func(rec []byte) bool {
		var v struct{ EdgeResponseStatus int }
		if err := json.Unmarshal(rec, &v); err != nil {
			t.Fatalf("filter input %q: %v", rec, err)
		}
		return v.EdgeResponseStatus >= 400
	})
	if err != nil {
		t.Fatal(err)
	}
	f := MustFormat("http_requests", OutputOptions{FieldNames: []string{"RayID", "EdgeResponseStatus"}})
	w := NewBatchWriter(f, 1)
	kept := 0
	for range 2000 {
		if w.Add(fg, time.Unix(1700000000, 0)) {
			kept++
		}
	}
	if kept == 0 || kept == 2000 {
		t.Fatalf("kept %d of 2000", kept)
	}
	lines := bytes.Split(bytes.TrimSuffix(w.Bytes(), []byte("\n")), []byte("\n"))
	if len(lines) != kept {
		t.Fatalf("%d lines, %d kept", len(lines), kept)
	}
	for _, l := range lines {
		var v struct{ EdgeResponseStatus int }
		if err := json.Unmarshal(l, &v); err != nil || v.EdgeResponseStatus < 400 {
			t.Fatalf("line %q passed the filter (%v)", l, err)
		}
	}
}
