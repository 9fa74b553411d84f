package deadletter

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
)

func entry(t time.Time, ds, reason, raw string) Entry {
	e := Entry{Time: t, Stage: StageNormalize, Dataset: ds, Reason: reason, Error: reason + ": details"}
	e.SetRaw([]byte(raw))
	return e
}

func write(t *testing.T, dir string, es ...Entry) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, e := range es {
		if err := s.Write([]Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
}

func appendRaw(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

func TestTornTailIsTerminatedOnReopen(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	write(t, dir, entry(day, "http_requests", "invalid_json", "a"))
	// A crash mid-write leaves an unterminated line.
	appendRaw(t, filepath.Join(dir, FileName(day)), `{"time":"2026-11-21T10:0`)
	// The next process appends after it: the torn line must not swallow
	// the new entry.
	write(t, dir, entry(day.Add(time.Minute), "http_requests", "invalid_json", "b"))
	var raws []string
	st, err := Scan(dir, ScanOptions{}, func(_ Ref, e *Entry) error { raws = append(raws, e.Raw); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(raws, ",") != "a,b" || st.Invalid != 1 || st.Torn != 0 {
		t.Fatalf("raws %v, stats %+v", raws, st)
	}
}

func TestScanBadInput(t *testing.T) {
	old := MaxLineBytes
	MaxLineBytes = 2 << 20
	defer func() { MaxLineBytes = old }()

	dir := t.TempDir()
	day := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(dir, FileName(day))
	huge := strings.Repeat("h", 1<<20) // bigger than the read buffer, below MaxLineBytes
	write(t, dir, entry(day, "http_requests", "invalid_json", "first"))
	appendRaw(t, path, "not json at all\n")
	appendRaw(t, path, "\n   \n")
	appendRaw(t, path, `{"stage":"normalize","reason":"no time"}`+"\n")
	appendRaw(t, path, `["an","array"]`+"\n")
	write(t, dir, entry(day.Add(time.Second), "http_requests", "too_large", huge))
	appendRaw(t, path, `{"time":"2026-11-21T10:00:02Z","raw":"`+strings.Repeat("o", 3<<20)+`"}`+"\n") // over MaxLineBytes
	write(t, dir, entry(day.Add(2*time.Second), "http_requests", "invalid_json", "crlf"))
	appendRaw(t, path, `{"time":"2026-11-21T10:00:03Z","stage":"normalize","reason":"r","error":"e","raw":"windows"}`+"\r\n")
	appendRaw(t, path, `{"time":"2026-11-21T10:00:04Z","stage":"normal`) // torn tail

	var raws []string
	var refs []Ref
	st, err := Scan(dir, ScanOptions{}, func(r Ref, e *Entry) error {
		raws = append(raws, e.Raw)
		refs = append(refs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(raws) != 4 || raws[0] != "first" || raws[1] != huge || raws[2] != "crlf" || raws[3] != "windows" {
		t.Fatalf("read %d entries: %.20q", len(raws), raws)
	}
	if st.Invalid != 3 || st.Oversized != 1 || st.Torn != 1 || st.Entries != 4 || st.Skipped() != 5 {
		t.Fatalf("stats %+v", st)
	}
	// Refs point at the lines.
	b, _ := os.ReadFile(path)
	for i, r := range refs {
		if r.File != FileName(day) || !bytes.HasPrefix(b[r.Offset:], []byte(`{"time"`)) {
			t.Errorf("ref %d %v does not point at a line start", i, r)
		}
	}
	// Ends stops before the torn tail; From continues there.
	if end := st.Ends[FileName(day)]; end != int64(bytes.LastIndexByte(b, '\n')+1) {
		t.Errorf("end %d", end)
	}
	appendRaw(t, path, `al","reason":"r","error":"e","raw":"late"}`+"\n")
	raws = nil
	st2, err := Scan(dir, ScanOptions{From: st.Ends}, func(_ Ref, e *Entry) error { raws = append(raws, e.Raw); return nil })
	if err != nil || len(raws) != 1 || raws[0] != "late" || st2.Skipped() != 0 {
		t.Fatalf("incremental scan: %v %v %+v", err, raws, st2)
	}
	// A size snapshot bounds the scan.
	raws = nil
	Scan(dir, ScanOptions{Stop: map[string]int64{FileName(day): refs[1].Offset}}, func(_ Ref, e *Entry) error { raws = append(raws, e.Raw); return nil })
	if len(raws) != 1 {
		t.Fatalf("bounded scan read %d entries", len(raws))
	}
}

func TestScanMissingDir(t *testing.T) {
	st, err := Scan(filepath.Join(t.TempDir(), "nope"), ScanOptions{}, func(Ref, *Entry) error { return nil })
	if err != nil || st.Files != 0 {
		t.Fatal(err, st)
	}
}

func TestQuery(t *testing.T) {
	dir := t.TempDir()
	d1 := time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	d3 := d2.Add(24 * time.Hour)
	var all []Entry
	for i := range 5 {
		all = append(all, entry(d1.Add(time.Duration(i)*time.Minute), "http_requests", "invalid_json", fmt.Sprint("d1-", i)))
	}
	for i := range 3 {
		all = append(all, entry(d2.Add(time.Duration(i)*time.Minute), "firewall_events", "not_object", fmt.Sprint("d2-", i)))
	}
	all = append(all, entry(d3, "", "invalid_json", "d3-0"))
	write(t, dir, all...)

	res, err := Query(dir, Filter{}, 4)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, it := range res.Items {
		got = append(got, it.Raw)
	}
	if strings.Join(got, ",") != "d3-0,d2-2,d2-1,d2-0" || res.Total != 9 {
		t.Fatalf("got %v total %d", got, res.Total)
	}
	if res.ByReason["invalid_json"] != 6 || res.ByReason["not_object"] != 3 || res.ByDataset[NoDataset] != 1 || res.ByState["pending"] != 9 {
		t.Fatalf("counts %v %v %v", res.ByReason, res.ByDataset, res.ByState)
	}
	// A limit smaller than a file's matches keeps its newest.
	res, _ = Query(dir, Filter{Dataset: "http_requests"}, 2)
	if len(res.Items) != 2 || res.Items[0].Raw != "d1-4" || res.Items[1].Raw != "d1-3" || res.Total != 5 {
		t.Fatalf("dataset filter: %+v", res.Items)
	}
	res, _ = Query(dir, Filter{Reason: "not_object", Since: d2.Add(time.Minute)}, 10)
	if len(res.Items) != 2 || res.Total != 2 {
		t.Fatalf("reason+since: %+v", res.Items)
	}
	res, _ = Query(dir, Filter{Dataset: NoDataset}, 10)
	if len(res.Items) != 1 || res.Items[0].Raw != "d3-0" {
		t.Fatalf("no dataset: %+v", res.Items)
	}
	res, _ = Query(dir, Filter{}, 0)
	if len(res.Items) != 0 || res.Total != 9 {
		t.Fatalf("limit 0: %d items, total %d", len(res.Items), res.Total)
	}
	// States come from the marks.
	m, _ := LoadMarks(dir)
	r0, _ := Query(dir, Filter{}, 1)
	if err := m.Add([]Mark{{Ref: r0.Items[0].Ref, State: StateReplayed, Time: d3}}); err != nil {
		t.Fatal(err)
	}
	res, _ = Query(dir, Filter{State: "pending"}, 100)
	if res.Total != 8 {
		t.Fatalf("pending %d", res.Total)
	}
	res, _ = Query(dir, Filter{}, 1)
	if res.Items[0].State != StateReplayed || res.ByState[StateReplayed] != 1 {
		t.Fatalf("state %+v", res.Items[0])
	}
}

func TestPurge(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)
	var es []Entry
	for i := 40; i >= 0; i -= 10 {
		es = append(es, entry(now.Add(-time.Duration(i)*24*time.Hour), "http_requests", "invalid_json", fmt.Sprint(i)))
	}
	write(t, dir, es...)
	res, _ := Query(dir, Filter{}, 100)
	m, _ := LoadMarks(dir)
	var mk []Mark
	for _, it := range res.Items {
		mk = append(mk, Mark{Ref: it.Ref, State: StateReplayed})
	}
	m.Add(mk)

	before := now.Add(-30 * 24 * time.Hour) // 2026-10-22 15:00: the 30-day-old file still holds newer entries
	dry, err := Purge(dir, before, true)
	if err != nil || len(dry.Files) != 1 || dry.Files[0] != "deadletter-20261012.ndjson" {
		t.Fatalf("dry run: %v %+v", err, dry)
	}
	if files, _ := Files(dir); len(files) != 5 {
		t.Fatalf("dry run removed files: %v", files)
	}
	pr, err := Purge(dir, before, false)
	if err != nil || len(pr.Files) != 1 || pr.Kept != 4 || pr.Bytes == 0 {
		t.Fatalf("purge: %v %+v", err, pr)
	}
	m, _ = LoadMarks(dir)
	if m.Len() != 4 {
		t.Fatalf("marks after purge: %d", m.Len())
	}
	// Today's file is never removed.
	pr, _ = Purge(dir, now, false)
	if files, _ := Files(dir); len(files) != 1 || files[0] != FileName(now) || len(pr.Files) != 3 {
		t.Fatalf("left %v", files)
	}
}

func TestSinkStageEntry(t *testing.T) {
	dir := t.TempDir()
	ts := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	rec := event.Record{Dataset: "http_requests", ID: "abc", Time: ts.UnixNano(), Doc: []byte(`{"@timestamp":"2026-11-21T10:00:00Z","a":1}`)}
	e := Entry{Time: ts, Stage: "es", Reason: "sink_rejected", Error: "mapper_parsing_exception"}
	e.SetRecord(&rec)
	old := Entry{Time: ts, Stage: "es", Dataset: "http_requests", Reason: "sink_rejected", Error: "x"}
	old.SetRaw(rec.Doc) // how entries were written before Doc existed
	write(t, dir, e, old)
	var got []Entry
	Read(dir, func(e Entry) error { got = append(got, e); return nil })
	if len(got) != 2 {
		t.Fatal(got)
	}
	r, ok := got[0].Record()
	if !ok || r.ID != "abc" || r.Time != rec.Time || string(r.Doc) != string(rec.Doc) || r.Dataset != "http_requests" || got[0].Raw != "" {
		t.Fatalf("record %+v %v", r, ok)
	}
	r, ok = got[1].Record()
	if !ok || string(r.Doc) != string(rec.Doc) {
		t.Fatalf("old-style record %+v %v", r, ok)
	}
	raw := entry(ts, "http_requests", "invalid_json", "x")
	if _, ok := raw.Record(); ok || raw.IsDoc() {
		t.Fatal("a raw entry is not a document")
	}
}

func TestGetAndParseRef(t *testing.T) {
	dir := t.TempDir()
	ts := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	write(t, dir, entry(ts, "http_requests", "invalid_json", "one"), entry(ts, "http_requests", "invalid_json", "two"))
	res, _ := Query(dir, Filter{}, 10)
	for _, it := range res.Items {
		for _, s := range []string{it.Ref.Short(), it.Ref.String()} {
			r, err := ParseRef(s)
			if err != nil || r != it.Ref {
				t.Fatalf("ParseRef(%q) = %v, %v", s, r, err)
			}
		}
		e, err := Get(dir, it.Ref)
		if err != nil || e.Raw != it.Raw {
			t.Fatalf("Get(%v) = %v, %v", it.Ref, e, err)
		}
		// Not at a line start.
		if _, err := Get(dir, Ref{File: it.Ref.File, Offset: it.Ref.Offset + 1}); !errors.Is(err, ErrNoEntry) {
			t.Fatalf("mid-line: %v", err)
		}
	}
	for _, bad := range []string{"", "20261121", "x:1", "20261121:-1", "../../etc/passwd:0", "20261121:abc"} {
		if _, err := ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) accepted", bad)
		}
	}
	if _, err := Get(dir, Ref{File: "../x", Offset: 0}); !errors.Is(err, ErrNoEntry) {
		t.Errorf("path outside the directory: %v", err)
	}
	if _, err := Get(dir, Ref{File: FileName(ts.Add(48 * time.Hour)), Offset: 0}); !errors.Is(err, ErrNoEntry) {
		t.Errorf("missing file: %v", err)
	}
}
