package api

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/event"
)

func deadLetterDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "deadletter")
	st, err := deadletter.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mk := func(ago time.Duration, ds, reason string, raw []byte) deadletter.Entry {
		e := deadletter.Entry{Time: testNow.Add(-ago), Stage: deadletter.StageNormalize, Source: "logpush", Origin: "198.51.100.7:4711",
			Dataset: ds, Line: 3, Reason: reason, Error: reason + ": at byte 1"}
		e.SetRaw(raw)
		return e
	}
	doc := deadletter.Entry{Time: testNow.Add(-time.Minute), Stage: "es", Reason: "sink_rejected", Error: "mapper_parsing_exception"}
	doc.SetRecord(&event.Record{Dataset: "http_requests", ID: "r1", Doc: []byte(`{"a":1}`)})
	for _, e := range []deadletter.Entry{
		mk(48*time.Hour, "http_requests", "invalid_json", []byte("old")),
		mk(3*time.Hour, "http_requests", "invalid_json", []byte(`<img src=x onerror=alert(1)>`)),
		mk(2*time.Hour, "firewall_events", "not_object", []byte(`[1,2]`)),
		mk(time.Hour, "http_requests", "too_large", []byte(strings.Repeat("é", MaxDeadLetterRecord))), // 2 bytes per character
		mk(30*time.Minute, "", "invalid_json", []byte{0xff, 0xfe, 'x'}),
		doc,
	} {
		if err := st.Write([]deadletter.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDeadLetters(t *testing.T) {
	srv := newTestServer(t, Options{DeadLetterDir: deadLetterDir(t)})
	m := getJSON(t, srv, "/api/deadletters?since=24h", 200)
	if m["total"].(float64) != 5 || m["since"] == nil || m["now"] == nil {
		t.Fatalf("response %v", keys(m))
	}
	var res deadLettersResponse
	_, _, b := get(t, srv, "/api/deadletters?since=24h")
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 5 || res.ByReason["invalid_json"] != 2 || res.ByDataset["none"] != 1 || res.ByState["pending"] != 5 {
		t.Fatalf("%+v", res)
	}
	// Newest first; each kind of record shown as it should.
	e := res.Entries
	if e[0].Stage != "es" || string(e[0].Doc) != `{"a":1}` || e[0].RecordID != "r1" || e[0].Raw != "" {
		t.Errorf("doc entry %+v", e[0])
	}
	if e[1].RawB64 != "//54" || e[1].Raw != "" || e[1].Size != 3 {
		t.Errorf("binary entry %+v", e[1])
	}
	if !e[2].Cut || e[2].Size != 2*MaxDeadLetterRecord || len(e[2].Raw) != MaxDeadLetterRecord || !strings.HasSuffix(e[2].Raw, "é") {
		t.Errorf("huge entry: truncated %v, size %d, shown %d bytes", e[2].Cut, e[2].Size, len(e[2].Raw))
	}
	if e[4].Raw != `<img src=x onerror=alert(1)>` || e[4].Origin != "198.51.100.7:4711" || e[4].Line != 3 || !strings.HasPrefix(e[4].Ref, testNow.Format("20060102")+":") {
		t.Errorf("entry %+v", e[4])
	}
	// Filters and limit.
	_, _, b = get(t, srv, "/api/deadletters?dataset=http_requests&reason=invalid_json&limit=1")
	res = deadLettersResponse{}
	json.Unmarshal(b, &res)
	if res.Total != 2 || len(res.Entries) != 1 || res.Entries[0].Raw != `<img src=x onerror=alert(1)>` {
		t.Errorf("filtered %+v", res)
	}
	for q, want := range map[string]int{"dataset=none": 1, "stage=es": 1, "state=pending&since=24h": 5, "state=replayed": 0, "limit=0": 6} {
		m := getJSON(t, srv, "/api/deadletters?"+q, 200)
		if int(m["total"].(float64)) != want {
			t.Errorf("%s: total %v, want %d", q, m["total"], want)
		}
	}
}

func TestDeadLettersErrors(t *testing.T) {
	srv := newTestServer(t, Options{DeadLetterDir: deadLetterDir(t)})
	for _, q := range []string{"since=yesterday", "limit=-1", "limit=x", "state=lost", "dataset=a%20b", "reason=%3Cx%3E"} {
		m := getJSON(t, srv, "/api/deadletters?"+q, 400)
		if m["error"] == "" {
			t.Errorf("%s: no error message", q)
		}
	}
	getJSON(t, newTestServer(t, Options{}), "/api/deadletters", 503)
	// A directory that does not exist yet holds nothing.
	m := getJSON(t, newTestServer(t, Options{DeadLetterDir: filepath.Join(t.TempDir(), "none")}), "/api/deadletters", 200)
	if m["total"].(float64) != 0 || len(m["entries"].([]any)) != 0 {
		t.Errorf("%v", m)
	}
}
