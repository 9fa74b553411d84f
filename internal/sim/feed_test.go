package sim

import (
	"strings"
	"testing"
	"time"
)

func TestFeedRendersGivenRecords(t *testing.T) {
	var calls []time.Time
	batches := [][][]byte{
		{[]byte(`{"ID":"a1","ActionType":"login","ActionResult":true,"Metadata":{"k":"v"},"When":"2026-03-18T14:30:01.5Z"}`)},
		nil,
		{[]byte(`{"ID":"b2","ActionType":"token_create","When":"2026-03-18T14:30:09Z"}`), []byte(`not json`)},
	}
	feed, err := NewFeed("audit_logs", func(t time.Time) [][]byte {
		calls = append(calls, t)
		b := batches[0]
		batches = batches[1:]
		return b
	})
	if err != nil {
		t.Fatal(err)
	}
	f := MustFormat("audit_logs", OutputOptions{FieldNames: []string{"ID", "ActionType", "ActionResult", "Metadata", "When"}, TimestampFormat: "unix"})
	render := func(step int) []string {
		n := feed.Step(time.Unix(int64(step), 0))
		var out []string
		for range n {
			out = append(out, string(feed.Append(nil, time.Time{}, f)))
		}
		return out
	}
	got := [][]string{render(1), render(2), render(3)}
	want := [][]string{
		{`{"ID":"a1","ActionType":"login","ActionResult":true,"Metadata":{"k":"v"},"When":1773844201}` + "\n"},
		nil,
		{`{"ID":"b2","ActionType":"token_create","ActionResult":false,"Metadata":{},"When":1773844209}` + "\n",
			`{"ID":"","ActionType":"","ActionResult":false,"Metadata":{},"When":-62135596800}` + "\n"}, // not JSON: every field empty
	}
	for i := range want {
		if strings.Join(got[i], "\n") != strings.Join(want[i], "\n") {
			t.Errorf("step %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}
	if len(calls) != 3 || !calls[2].Equal(time.Unix(3, 0)) {
		t.Errorf("next called at %v", calls)
	}
	if _, err := NewFeed("no_such_dataset", func(time.Time) [][]byte { return nil }); err == nil {
		t.Error("NewFeed accepted an unknown dataset")
	}
}

// TestFilteredFeedStillSteps: a job filter on a Feed keeps it a Stepper and
// sees every record a step produced.
func TestFilteredFeedStillSteps(t *testing.T) {
	feed, _ := NewFeed("audit_logs", func(time.Time) [][]byte {
		return [][]byte{[]byte(`{"ID":"keep","When":"2026-03-18T14:30:01Z"}`), []byte(`{"ID":"drop","When":"2026-03-18T14:30:02Z"}`)}
	})
	g, err := NewFilteredGenerator(feed, []string{"ID"}, func(rec []byte) bool { return strings.Contains(string(rec), `"keep"`) })
	if err != nil {
		t.Fatal(err)
	}
	st, ok := g.(Stepper)
	if !ok {
		t.Fatal("the filtered feed is not a Stepper")
	}
	f := MustFormat("audit_logs", OutputOptions{FieldNames: []string{"ID"}})
	w := NewBatchWriter(f, 1)
	for range st.Step(time.Now()) {
		w.Add(g, time.Now())
	}
	if w.Records() != 1 || !strings.Contains(string(w.buf), `"keep"`) || strings.Contains(string(w.buf), `"drop"`) {
		t.Fatalf("batch %q (%d records)", w.buf, w.Records())
	}
}
