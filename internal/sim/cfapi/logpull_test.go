package cfapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func (h *harness) received(q url.Values) *response {
	return h.get("/zones/" + h.zone() + "/logs/received?" + q.Encode())
}

func window(start, end time.Time) url.Values {
	return url.Values{"start": {start.Format(time.RFC3339)}, "end": {end.Format(time.RFC3339)}}
}

func lines(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestRetentionFlag(t *testing.T) {
	h := newHarness(t, Config{})
	path := "/zones/" + h.zone() + "/logs/control/retention/flag"
	if asMap(h.get(path).ok(t))["flag"] != false {
		t.Fatal("retention should start off")
	}
	end := t0.Add(-10 * time.Minute)
	h.received(window(end.Add(-time.Minute), end)).fails(t, http.StatusForbidden, CodeRetentionOff)
	if asMap(h.do(http.MethodPost, path, map[string]bool{"flag": true}, nil).ok(t))["flag"] != true {
		t.Fatal("POST flag:true")
	}
	if asMap(h.get(path).ok(t))["flag"] != true {
		t.Fatal("flag not stored")
	}
	if r := h.received(window(end.Add(-time.Minute), end)); r.status != 200 {
		t.Fatalf("after enabling retention: %d %s", r.status, r.body)
	}
	h.do(http.MethodPost, path, map[string]string{"flag": "yes"}, nil).fails(t, 400, CodeBadRequest)
	h.do(http.MethodPost, path, map[string]any{}, nil).fails(t, 400, CodeBadRequest)
	h.do(http.MethodPost, path, "{", nil).fails(t, 400, CodeBadRequest)
}

func TestLogpullWindowRules(t *testing.T) {
	h := newHarness(t, Config{RetentionOn: true, LogpullZoneLimit: -1, LogpullUserLimit: -1})
	now := t0
	cases := []struct {
		name string
		q    url.Values
		msg  string // the error message, or "" for success
	}{
		{"one minute", window(now.Add(-3*time.Minute), now.Add(-2*time.Minute)), ""},
		{"a full hour", window(now.Add(-61*time.Minute), now.Add(-time.Minute)), ""},
		{"unix seconds", url.Values{"start": {strconv.FormatInt(now.Add(-3*time.Minute).Unix(), 10)}, "end": {strconv.FormatInt(now.Add(-2*time.Minute).Unix(), 10)}}, ""},
		{"unix nanoseconds", url.Values{"start": {strconv.FormatInt(now.Add(-3*time.Minute).UnixNano(), 10)}, "end": {strconv.FormatInt(now.Add(-2*time.Minute).UnixNano(), 10)}}, ""},
		{"offset time", url.Values{"start": {now.Add(-3 * time.Minute).In(time.FixedZone("", 2*3600)).Format(time.RFC3339)}, "end": {now.Add(-2 * time.Minute).Format(time.RFC3339)}}, ""},
		{"over an hour", window(now.Add(-62*time.Minute), now.Add(-time.Minute)), "bad query: error parsing time: invalid time range: too long"},
		{"end before start", window(now.Add(-2*time.Minute), now.Add(-3*time.Minute)), "bad query: error parsing time: invalid time range: start not before end"},
		{"too early", window(now.Add(-7*24*time.Hour-time.Minute), now.Add(-7*24*time.Hour+time.Minute)), "bad query: error parsing time: invalid time range: too early: logs older than 168h0m0s are not available"},
		{"too recent", window(now.Add(-2*time.Minute), now.Add(-30*time.Second)), "bad query: error parsing time: invalid time range: too recent: minimum delay in serving logs is 1m0s"},
		{"no start", url.Values{"end": {now.Add(-time.Minute).Format(time.RFC3339)}}, "bad query: error parsing start time: start is required"},
		{"bad start", url.Values{"start": {"soon"}, "end": {now.Add(-time.Minute).Format(time.RFC3339)}}, "bad query: error parsing start time: must be unix timestamp or rfc3339 string"},
		{"unknown parameter", func() url.Values {
			q := window(now.Add(-3*time.Minute), now.Add(-2*time.Minute))
			q.Set("limit", "5")
			return q
		}(), "bad query parameter: query arguments are limited to: start,end,fields,count,sample,timestamps,CVE-2021-44228"},
		{"unknown field", func() url.Values {
			q := window(now.Add(-3*time.Minute), now.Add(-2*time.Minute))
			q.Set("fields", "RayID,Nope")
			return q
		}(), `bad query: error parsing fields: unknown field "Nope"`},
		{"bad count", func() url.Values {
			q := window(now.Add(-3*time.Minute), now.Add(-2*time.Minute))
			q.Set("count", "0")
			return q
		}(), "bad query: error parsing count: must be a positive integer"},
		{"bad sample", func() url.Values {
			q := window(now.Add(-3*time.Minute), now.Add(-2*time.Minute))
			q.Set("sample", "1.5")
			return q
		}(), "bad query: error parsing sample: must be a number in (0.0, 1.0]"},
		{"bad timestamps", func() url.Values {
			q := window(now.Add(-3*time.Minute), now.Add(-2*time.Minute))
			q.Set("timestamps", "rfc3339ns")
			return q
		}(), "bad query: error parsing timestamps: must be one of unixnano, unix, rfc3339"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.received(c.q)
			if c.msg == "" {
				if r.status != 200 || r.env != nil {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			e := r.fails(t, http.StatusBadRequest, CodeBadRequest)
			if e["message"] != c.msg {
				t.Fatalf("message %q, want %q", e["message"], c.msg)
			}
		})
	}
	// A 5-minute delay (OA24) is configurable.
	h5 := newHarness(t, Config{RetentionOn: true, LogpullMinDelay: 5 * time.Minute})
	h5.received(window(t0.Add(-5*time.Minute), t0.Add(-4*time.Minute))).fails(t, 400, CodeBadRequest)
	// Plain-text errors, as third parties observed them.
	hp := newHarness(t, Config{RetentionOn: true, LogpullPlainErrors: true})
	r := hp.received(window(t0.Add(-2*time.Hour), t0.Add(-time.Minute)))
	if r.status != 400 || strings.TrimSpace(string(r.body)) != "bad query: error parsing time: invalid time range: too long" {
		t.Fatalf("plain error: %d %q", r.status, r.body)
	}
}

func TestLogpullRecords(t *testing.T) {
	h := newHarness(t, Config{RetentionOn: true, Seed: 9, LogpullZoneLimit: -1, LogpullUserLimit: -1})
	start, end := t0.Add(-30*time.Minute), t0.Add(-20*time.Minute)
	q := window(start, end)
	q.Set("fields", "RayID,EdgeStartTimestamp,ClientRequestHost,ZoneName")
	first := h.received(q)
	if first.status != 200 || first.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("%d %v", first.status, first.header)
	}
	recs := lines(t, first.body)
	if len(recs) < 200 {
		t.Fatalf("%d records in 10 minutes", len(recs))
	}
	zoneName := h.srv.Zones()[0].Name
	for _, m := range recs {
		if len(m) != 4 {
			t.Fatalf("record %v: want the 4 fields asked for", m)
		}
		ts := time.Unix(0, int64(m["EdgeStartTimestamp"].(float64)))
		if ts.Before(start) || !ts.Before(end) || m["ZoneName"] != zoneName {
			t.Fatalf("record %v outside the window or zone", m)
		}
	}
	// The same window again: the same bytes. An overlapping window agrees.
	if again := h.received(q); !bytes.Equal(again.body, first.body) {
		t.Fatal("a second pull of the window differs")
	}
	q2 := window(start.Add(5*time.Minute), end.Add(5*time.Minute))
	q2.Set("fields", q.Get("fields"))
	second := lines(t, h.received(q2).body)
	rays := map[string]bool{}
	for _, m := range recs {
		rays[m["RayID"].(string)] = true
	}
	shared := 0
	for _, m := range second {
		ts := time.Unix(0, int64(m["EdgeStartTimestamp"].(float64)))
		if ts.Before(end) {
			if !rays[m["RayID"].(string)] {
				t.Fatalf("overlapping window disagrees on %v", m)
			}
			shared++
		}
	}
	if shared == 0 {
		t.Fatal("no shared records")
	}
	// count, sample, timestamps, default fields, CVE.
	q.Set("count", "7")
	if n := len(lines(t, h.received(q).body)); n != 7 {
		t.Fatalf("count=7 gave %d", n)
	}
	q.Del("count")
	q.Set("sample", "0.1")
	sampled := lines(t, h.received(q).body)
	if len(sampled) == 0 || len(sampled) > len(recs)/4 {
		t.Fatalf("sample=0.1 kept %d of %d", len(sampled), len(recs))
	}
	if !bytes.Equal(h.received(q).body, h.received(q).body) {
		t.Fatal("sampling is not repeatable")
	}
	q.Del("sample")
	q.Set("timestamps", "rfc3339")
	if _, ok := lines(t, h.received(q).body)[0]["EdgeStartTimestamp"].(string); !ok {
		t.Fatal("timestamps=rfc3339 should give strings")
	}
	def := lines(t, h.received(window(start, end)).body)
	for _, f := range defaultLogpullFields {
		if _, ok := def[0][f]; !ok {
			t.Fatalf("default fields lack %s: %v", f, def[0])
		}
	}
}

func TestLogpullGzipAndStreamError(t *testing.T) {
	faults := 0
	h := newHarness(t, Config{RetentionOn: true, LogpullZoneLimit: -1, LogpullUserLimit: -1,
		LogpullFault: func(zone string, start, end time.Time) (int, bool) {
			faults++
			return 3, faults == 2 // the second pull breaks after 3 records
		}})
	q := window(t0.Add(-10*time.Minute), t0.Add(-5*time.Minute))
	req, _ := http.NewRequest(http.MethodGet, h.base+"/zones/"+h.zone()+"/logs/received?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+h.srv.Token())
	req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client leaves the body compressed
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if len(lines(t, plain)) < 50 || bytes.HasSuffix(plain, []byte(streamErrorLine)) {
		t.Fatalf("first pull: %d bytes", len(plain))
	}
	broken := h.received(q)
	if broken.status != 200 || !bytes.HasSuffix(broken.body, []byte("Error streaming data.\n")) {
		t.Fatalf("broken pull: %d, ends %q", broken.status, broken.body[max(0, len(broken.body)-40):])
	}
	body := bytes.TrimSuffix(broken.body, []byte(streamErrorLine))
	if n := len(lines(t, body)); n != 3 {
		t.Fatalf("%d records before the error line, want 3", n)
	}
}

func TestLogpullRateLimits(t *testing.T) {
	h := newHarness(t, Config{RetentionOn: true, LogpullZoneLimit: 2})
	q := window(t0.Add(-3*time.Minute), t0.Add(-2*time.Minute))
	q.Set("count", "1")
	h.received(q)
	h.received(q)
	r := h.received(q)
	r.fails(t, http.StatusTooManyRequests, CodeRateLimited)
	if r.header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// Another zone has its own budget.
	if r := h.get("/zones/" + h.srv.Zones()[1].ID + "/logs/received?" + q.Encode()); r.status != 200 {
		t.Fatalf("another zone: %d %s", r.status, r.body)
	}
	h.clock.Advance(time.Minute)
	q = window(t0.Add(-2*time.Minute), t0.Add(-time.Minute))
	if r := h.received(q); r.status != 200 {
		t.Fatalf("next minute: %d", r.status)
	}
}

func TestRayIDAndFields(t *testing.T) {
	// A short retention keeps the full scan for an unknown Ray ID cheap.
	h := newHarness(t, Config{RetentionOn: true, LogpullZoneLimit: -1, LogpullUserLimit: -1, LogpullRetention: 2 * time.Hour})
	q := window(t0.Add(-40*time.Minute), t0.Add(-39*time.Minute))
	q.Set("fields", "RayID,ClientIP,EdgeStartTimestamp")
	recs := lines(t, h.received(q).body)
	want := recs[len(recs)/2]
	ray := want["RayID"].(string)
	r := h.get("/zones/" + h.zone() + "/logs/rayids/" + ray + "-DFW?fields=RayID,ClientIP,EdgeStartTimestamp")
	got := lines(t, r.body)
	if r.status != 200 || len(got) != 1 || got[0]["RayID"] != ray || got[0]["ClientIP"] != want["ClientIP"] {
		t.Fatalf("rayids: %d %s", r.status, r.body)
	}
	r = h.get("/zones/" + h.zone() + "/logs/rayids/0000000000000001")
	if r.status != 200 || len(r.body) != 0 {
		t.Fatalf("unknown ray: %d %q", r.status, r.body)
	}
	h.get("/zones/"+h.zone()+"/logs/rayids/xyz").fails(t, 400, CodeBadRequest)

	r = h.get("/zones/" + h.zone() + "/logs/received/fields")
	var fields map[string]string
	if err := json.Unmarshal(r.body, &fields); err != nil || r.status != 200 {
		t.Fatalf("fields: %d %s", r.status, r.body)
	}
	if _, enveloped := fields["success"]; enveloped || fields["RayID"] == "" || fields["ClientIP"] == "" {
		t.Fatalf("fields should be a bare {field: description} object: %.200s", r.body)
	}
}
