package api

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/search"
)

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func TestParseRequest(t *testing.T) {
	ts := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		name  string
		query string
		want  search.Request
	}{
		{"defaults", "", search.Request{Limit: 100}},
		{"query and dataset", "q=source.ip:1.2.3.4&dataset=http_requests", search.Request{Query: "source.ip:1.2.3.4", Dataset: "http_requests", Limit: 100}},
		{"query trimmed", "q=++a:b++", search.Request{Query: "a:b", Limit: 100}},
		{"15m", "since=15m", search.Request{Since: testNow.Add(-15 * time.Minute), Limit: 100}},
		{"1h", "since=1h", search.Request{Since: testNow.Add(-time.Hour), Limit: 100}},
		{"7d", "since=7d", search.Request{Since: testNow.Add(-7 * 24 * time.Hour), Limit: 100}},
		{"30d", "since=30d", search.Request{Since: testNow.Add(-30 * 24 * time.Hour), Limit: 100}},
		{"2w", "since=2w", search.Request{Since: testNow.Add(-14 * 24 * time.Hour), Limit: 100}},
		{"compound", "since=1h30m", search.Request{Since: testNow.Add(-90 * time.Minute), Limit: 100}},
		{"fraction", "since=1.5h", search.Request{Since: testNow.Add(-90 * time.Minute), Limit: 100}},
		{"now-", "since=now-15m&until=now", search.Request{Since: testNow.Add(-15 * time.Minute), Until: testNow, Limit: 100}},
		{"minus", "since=-2h&until=-1h", search.Request{Since: testNow.Add(-2 * time.Hour), Until: testNow.Add(-time.Hour), Limit: 100}},
		{"uppercase", "since=15M&order=ASC", search.Request{Since: testNow.Add(-15 * time.Minute), Limit: 100, Asc: true}},
		{"rfc3339", "since=2025-03-01T00:00:00Z&until=2025-03-02T12:30:00.5Z",
			search.Request{Since: ts("2025-03-01T00:00:00Z"), Until: ts("2025-03-02T12:30:00.5Z"), Limit: 100}},
		{"rfc3339 offset to UTC", "since=2025-03-01T02:00:00%2B02:00", search.Request{Since: ts("2025-03-01T00:00:00Z"), Limit: 100}},
		{"nanoseconds", "since=2025-03-01T00:00:00.123456789Z", search.Request{Since: ts("2025-03-01T00:00:00.123456789Z"), Limit: 100}},
		{"date only", "since=2025-03-01&until=2025-03-02", search.Request{Since: ts("2025-03-01T00:00:00Z"), Until: ts("2025-03-02T00:00:00Z"), Limit: 100}},
		{"no zone", "since=2025-03-01T10:00", search.Request{Since: ts("2025-03-01T10:00:00Z"), Limit: 100}},
		{"relative since absolute until", "since=30d&until=2025-03-10T00:00:00Z", search.Request{Since: testNow.Add(-30 * 24 * time.Hour), Until: ts("2025-03-10T00:00:00Z"), Limit: 100}},
		{"limit", "limit=5&offset=10", search.Request{Limit: 5, Offset: 10}},
		{"limit capped", "limit=50000", search.Request{Limit: MaxLimit}},
		{"limit huge capped", "limit=99999999999999999999999", search.Request{Limit: MaxLimit}},
		{"limit max", "limit=10000", search.Request{Limit: 10000}},
		{"order desc", "order=desc", search.Request{Limit: 100}},
		{"order asc", "order=asc", search.Request{Limit: 100, Asc: true}},
		{"empty values", "q=&dataset=&since=&until=&limit=&offset=&order=", search.Request{Limit: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRequest(v, testNow)
			if err != nil {
				t.Fatalf("ParseRequest(%q): %v", tt.query, err)
			}
			if !got.Since.Equal(tt.want.Since) || !got.Until.Equal(tt.want.Until) {
				t.Errorf("times = %v..%v, want %v..%v", got.Since, got.Until, tt.want.Since, tt.want.Until)
			}
			if !got.Since.IsZero() && got.Since.Location() != time.UTC {
				t.Errorf("since not in UTC: %v", got.Since)
			}
			got.Since, got.Until, tt.want.Since, tt.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct{ query, param, msg string }{
		{"since=yesterday", "since", "want a duration"},
		{"since=15", "since", "missing unit"},
		{"since=15y", "since", "unknown unit"},
		{"since=1h-", "since", ""},
		{"until=2025-13-01T00:00:00Z", "until", ""},
		{"since=1000000d", "since", "100 years"},
		{"since=1h&until=2h", "since", "before until"},
		{"since=2025-03-02&until=2025-03-01", "since", "before until"},
		{"since=2025-03-01&until=2025-03-01", "since", "before until"},
		{"limit=abc", "limit", "not an integer"},
		{"limit=0", "limit", "minimum 1"},
		{"limit=-5", "limit", "minimum"},
		{"limit=1.5", "limit", "not an integer"},
		{"offset=-1", "offset", "minimum 0"},
		{"offset=99999999", "offset", "maximum"},
		{"order=newest", "order", "asc or desc"},
		{"dataset=http_requests%3Bdrop", "dataset", "not a dataset name"},
		{"dataset=" + strings.Repeat("a", 200), "dataset", "not a dataset name"},
		{"q=" + strings.Repeat("a", search.MaxQueryBytes+1), "q", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.query[:min(len(tt.query), 40)], func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseRequest(v, testNow)
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseRequest(%q) = %v, want a *ParamError", tt.query, err)
			}
			if pe.Param != tt.param {
				t.Errorf("param = %q, want %q (%v)", pe.Param, tt.param, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if !IsQueryError(err) {
				t.Errorf("IsQueryError(%v) = false", err)
			}
		})
	}
}

func TestEncodeRequestRoundTrip(t *testing.T) {
	in := search.Request{
		Query: `source.ip:"1.2.3.4" AND url.path:/a&b=c`, Dataset: "firewall_events",
		Since: testNow.Add(-time.Hour).Add(123456789), Until: testNow,
		Limit: 250, Offset: 500, Asc: true,
	}
	out, err := ParseRequest(EncodeRequest(in), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Since.Equal(in.Since) || !out.Until.Equal(in.Until) {
		t.Errorf("times: %v..%v, want %v..%v", out.Since, out.Until, in.Since, in.Until)
	}
	out.Since, out.Until, in.Since, in.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if out != in {
		t.Errorf("round trip: %+v, want %+v", out, in)
	}
	if got := EncodeRequest(search.Request{}); len(got) != 0 {
		t.Errorf("zero request encodes to %v", got)
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{"now", "NOW", "0s", "90s", "500ms", "1d12h", "now-7d"} {
		if _, err := ParseTime(s, testNow); err != nil {
			t.Errorf("ParseTime(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "now+1h", "h", "1 h", "tomorrow", "12:00", "2025-03-01T25:00:00Z"} {
		if got, err := ParseTime(s, testNow); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", s, got)
		}
	}
}
