package cfapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

func auditHarness(t *testing.T, cfg Config) *harness {
	if cfg.AuditRate == 0 {
		cfg.AuditRate = 120
	}
	if cfg.AuditHistory == 0 {
		cfg.AuditHistory = 6 * time.Hour
	}
	cfg.Seed = 5
	return newHarness(t, cfg)
}

func (h *harness) auditV1(q url.Values) *response {
	return h.get("/accounts/" + h.srv.AccountID() + "/audit_logs?" + q.Encode())
}

func (h *harness) auditV2(q url.Values) *response {
	return h.get("/accounts/" + h.srv.AccountID() + "/logs/audit?" + q.Encode())
}

func ids(entries []any) []string {
	var out []string
	for _, e := range entries {
		out = append(out, asMap(e)["id"].(string))
	}
	return out
}

func TestAuditV1PagingWalksTheStream(t *testing.T) {
	h := auditHarness(t, Config{})
	all := asList(h.auditV1(url.Values{"per_page": {"1000"}}).ok(t))
	if len(all) < 300 {
		t.Fatalf("only %d events in 6 h at 120/h", len(all))
	}
	var walked []string
	var total float64
	for page := 1; ; page++ {
		r := h.auditV1(url.Values{"per_page": {"7"}, "page": {strconv.Itoa(page)}})
		res := asList(r.ok(t))
		info := asMap(r.env["result_info"])
		if int(info["page"].(float64)) != page || info["per_page"].(float64) != 7 || int(info["count"].(float64)) != len(res) {
			t.Fatalf("result_info %v for page %d with %d entries", info, page, len(res))
		}
		total = info["total_count"].(float64)
		if len(res) == 0 {
			break
		}
		walked = append(walked, ids(res)...)
	}
	if int(total) != len(all) || !slices.Equal(walked, ids(all)) {
		t.Fatalf("walked %d entries, total_count %v, want the %d of one big page in the same order", len(walked), total, len(all))
	}
	// Newest first by default; asc reverses.
	var prev string
	for _, e := range all {
		w := asMap(e)["when"].(string)
		if prev != "" && w > prev {
			t.Fatalf("desc order broken: %s after %s", w, prev)
		}
		prev = w
	}
	asc := ids(asList(h.auditV1(url.Values{"per_page": {"1000"}, "direction": {"asc"}}).ok(t)))
	slices.Reverse(asc)
	if !slices.Equal(asc, ids(all)) {
		t.Fatal("direction=asc is not the reverse of desc")
	}
}

func TestAuditV1Filters(t *testing.T) {
	h := auditHarness(t, Config{})
	all := asList(h.auditV1(url.Values{"per_page": {"1000"}}).ok(t))
	first := asMap(all[len(all)/2])
	actor := asMap(first["actor"])
	when, _ := time.Parse(time.RFC3339, first["when"].(string))
	cases := []struct {
		name string
		q    url.Values
		keep func(e map[string]any) bool
	}{
		{"id", url.Values{"id": {first["id"].(string)}}, func(e map[string]any) bool { return e["id"] == first["id"] }},
		{"action.type", url.Values{"action.type": {"login"}}, func(e map[string]any) bool { return asMap(e["action"])["type"] == "login" }},
		{"actor.email", url.Values{"actor.email": {"lena.schmidt@northwind-traders.com"}}, func(e map[string]any) bool {
			return asMap(e["actor"])["email"] == "lena.schmidt@northwind-traders.com"
		}},
		{"actor.ip exact", url.Values{"actor.ip": {actor["ip"].(string)}}, func(e map[string]any) bool { return asMap(e["actor"])["ip"] == actor["ip"] }},
		{"since and before", url.Values{"since": {when.Format(time.RFC3339)}, "before": {when.Add(time.Hour).Format(time.RFC3339)}}, func(e map[string]any) bool {
			w, _ := time.Parse(time.RFC3339, e["when"].(string))
			return !w.Before(when) && w.Before(when.Add(time.Hour))
		}},
		{"zone.name", url.Values{"zone.name": {"fabrikam.io"}}, func(e map[string]any) bool { return asMap(e["metadata"])["zone_name"] == "fabrikam.io" }},
		{"hide_user_logs", url.Values{"hide_user_logs": {"true"}}, func(e map[string]any) bool {
			rt := asMap(e["resource"])["type"]
			return rt != "user" && rt != "account"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Set("per_page", "1000")
			got := asList(h.auditV1(c.q).ok(t))
			var want []any
			for _, e := range all {
				if c.keep(asMap(e)) {
					want = append(want, e)
				}
			}
			if len(want) == 0 || !slices.Equal(ids(got), ids(want)) {
				t.Fatalf("%d entries, want %d", len(got), len(want))
			}
		})
	}
	// A CIDR matches its addresses.
	got := asList(h.auditV1(url.Values{"per_page": {"1000"}, "actor.ip": {"0.0.0.0/0"}}).ok(t))
	for _, e := range got {
		if ip := asMap(asMap(e)["actor"])["ip"].(string); ip == "" || slices.Contains([]byte(ip), ':') {
			t.Fatalf("0.0.0.0/0 matched %q", ip)
		}
	}
	for _, bad := range []url.Values{{"per_page": {"0"}}, {"per_page": {"1001"}}, {"page": {"0"}}, {"direction": {"up"}}, {"since": {"yesterday"}}, {"actor.ip": {"1.2.3"}}} {
		h.auditV1(bad).fails(t, http.StatusBadRequest, CodeBadRequest)
	}
}

func TestAuditV1Shape(t *testing.T) {
	h := auditHarness(t, Config{})
	for _, e := range asList(h.auditV1(url.Values{"per_page": {"1000"}}).ok(t)) {
		m := asMap(e)
		typ := asMap(m["action"])["type"].(string)
		if typ == "change_setting" && m["newValue"] == "" {
			t.Fatalf("change_setting without a newValue string: %v", m)
		}
		if _, err := time.Parse(time.RFC3339, m["when"].(string)); err != nil {
			t.Fatal(err)
		}
		if at := asMap(m["actor"])["type"]; at != "user" && at != "Cloudflare" {
			t.Fatalf("actor.type %v", at)
		}
		if len(m["id"].(string)) != 36 {
			t.Fatalf("id %v", m["id"])
		}
	}
}

// walkV2 follows cursors to the end and returns the ids.
func walkV2(t *testing.T, h *harness, q url.Values) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("cursor walk does not end")
		}
		r := h.auditV2(q)
		res := asList(r.ok(t))
		info := asMap(r.env["result_info"])
		if int(info["count"].(float64)) != len(res) {
			t.Fatalf("count %v for %d entries", info["count"], len(res))
		}
		out = append(out, ids(res)...)
		cur, ok := info["cursor"].(string)
		if !ok {
			return out
		}
		if cur == "" {
			t.Fatal("empty cursor instead of none")
		}
		q.Set("cursor", cur)
	}
}

func TestAuditV2CursorsWalkTheStream(t *testing.T) {
	h := auditHarness(t, Config{})
	since, before := t0.Add(-7*time.Hour).Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339)
	base := url.Values{"since": {since}, "before": {before}}
	all := asList(h.auditV2(url.Values{"since": {since}, "before": {before}, "limit": {"1000"}}).ok(t))
	if len(all) < 300 {
		t.Fatalf("%d events", len(all))
	}
	for _, dir := range []string{"desc", "asc"} {
		q := url.Values{"since": base["since"], "before": base["before"], "limit": {"9"}, "direction": {dir}}
		got := walkV2(t, h, q)
		want := ids(all)
		if dir == "asc" {
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s walk: %d ids, want %d in order (gaps or duplicates)", dir, len(got), len(want))
		}
	}
	// The v1 and v2 APIs serve the same stream.
	v1 := ids(asList(h.auditV1(url.Values{"per_page": {"1000"}}).ok(t)))
	if !slices.Equal(v1, ids(all)) {
		t.Fatal("v1 and v2 disagree on the events")
	}
	// A page exactly at the end has no cursor.
	n := strconv.Itoa(len(all))
	r := h.auditV2(url.Values{"since": {since}, "before": {before}, "limit": {n}})
	if _, ok := asMap(r.env["result_info"])["cursor"]; ok {
		t.Fatalf("cursor on the last page: %v", r.env["result_info"])
	}
	// Date-only bounds are UTC days.
	day := asList(h.auditV2(url.Values{"since": {"2026-03-18"}, "before": {"2026-03-19"}, "limit": {"1000"}}).ok(t))
	for _, e := range day {
		if tm := asMap(asMap(e)["action"])["time"].(string); tm[:10] != "2026-03-18" {
			t.Fatalf("%s outside the day", tm)
		}
	}
}

func TestAuditV2Filters(t *testing.T) {
	h := auditHarness(t, Config{})
	q := func(kv ...string) url.Values {
		v := url.Values{"since": {t0.Add(-7 * time.Hour).Format(time.RFC3339)}, "before": {t0.Format(time.RFC3339)}, "limit": {"1000"}}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	all := asList(h.auditV2(q()).ok(t))
	count := func(pred func(m map[string]any) bool) int {
		n := 0
		for _, e := range all {
			if pred(asMap(e)) {
				n++
			}
		}
		return n
	}
	cases := []struct {
		name string
		q    url.Values
		want int
	}{
		{"action_type", q("action_type", "delete"), count(func(m map[string]any) bool { return asMap(m["action"])["type"] == "delete" })},
		{"action_type repeated", q("action_type", "delete", "action_type", "create"), count(func(m map[string]any) bool {
			t := asMap(m["action"])["type"]
			return t == "delete" || t == "create"
		})},
		{"action_result.not", q("action_result.not", "success"), count(func(m map[string]any) bool { return asMap(m["action"])["result"] == "failure" })},
		{"actor_context", q("actor_context", "dash"), count(func(m map[string]any) bool { return asMap(m["actor"])["context"] == "dash" })},
		{"resource_product", q("resource_product", "dns_records"), count(func(m map[string]any) bool { return asMap(m["resource"])["product"] == "dns_records" })},
		{"zone_name", q("zone_name", "adatum.dev"), count(func(m map[string]any) bool { return m["zone"] != nil && asMap(m["zone"])["name"] == "adatum.dev" })},
		{"raw_status_code", q("raw_status_code", "401"), count(func(m map[string]any) bool { return asMap(m["raw"])["status_code"].(float64) == 401 })},
	}
	for _, c := range cases {
		got := asList(h.auditV2(c.q).ok(t))
		if len(got) != c.want || c.want == 0 {
			t.Errorf("%s: %d entries, want %d (and some)", c.name, len(got), c.want)
		}
	}
	for name, bad := range map[string]url.Values{
		"no since":      {"before": {"2026-03-18"}},
		"no before":     {"since": {"2026-03-18"}},
		"bad limit":     q("limit", "1001"),
		"bad enum":      q("action_type", "explode"),
		"bad cursor":    q("cursor", "not-a-cursor"),
		"before<=since": {"since": {"2026-03-18"}, "before": {"2026-03-17"}},
	} {
		if name == "bad limit" {
			bad.Set("limit", "1001")
		}
		if r := h.auditV2(bad); r.status != 400 {
			t.Errorf("%s: status %d", name, r.status)
		}
	}
}

func TestAuditV2Options(t *testing.T) {
	h := auditHarness(t, Config{V2CountString: true, V2CursorsAfter: true})
	r := h.auditV2(url.Values{"since": {"2026-03-18"}, "before": {"2026-03-19"}, "limit": {"2"}})
	info := asMap(r.env["result_info"])
	if info["count"] != "2" || asMap(info["cursors"])["after"] != info["cursor"] {
		t.Fatalf("result_info %v", info)
	}
}

// The stream grows with the clock, and late events show up with a `when`
// in the past: a poller that asks again for an old window finds them.
func TestAuditGrowthAndLateEvents(t *testing.T) {
	h := auditHarness(t, Config{AuditLateFraction: 0.3, AuditRate: 600, AuditLateMax: 5 * time.Minute})
	window := url.Values{"since": {t0.Add(-time.Hour).Format(time.RFC3339)}, "before": {t0.Add(time.Hour).Format(time.RFC3339)}, "limit": {"1000"}}
	before := ids(asList(h.auditV2(window).ok(t)))

	h.clock.Advance(10 * time.Minute)
	after := asList(h.auditV2(window).ok(t))
	seen := map[string]bool{}
	for _, id := range before {
		seen[id] = true
	}
	late, fresh := 0, 0
	for _, e := range after {
		m := asMap(e)
		if seen[m["id"].(string)] {
			continue
		}
		tm, _ := time.Parse(time.RFC3339, asMap(m["action"])["time"].(string))
		if tm.After(t0) {
			fresh++
		} else {
			late++ // its time was already past at the first query
		}
	}
	if fresh == 0 || late == 0 {
		t.Fatalf("after 10 minutes: %d new events, %d late ones (want both)", fresh, late)
	}
	for _, id := range before {
		if !slices.Contains(ids(after), id) {
			t.Fatalf("event %s disappeared", id)
		}
	}
}

// Logpush job changes made through the API are audited.
func TestAuditRecordsAPIChanges(t *testing.T) {
	h := auditHarness(t, Config{})
	rc := newReceiver(t)
	r := h.do(http.MethodPost, "/zones/"+h.zone()+"/logpush/jobs", map[string]any{
		"dataset": "http_requests", "destination_conf": rc.URL + "/in", "name": "audited",
	}, nil)
	id := int(asMap(r.ok(t))["id"].(float64))
	got := asList(h.auditV2(url.Values{"since": {"2026-03-18"}, "before": {"2026-03-19"}, "resource_type": {"logpush_job"}, "actor_context": {"api_token"}, "limit": {"1000"}}).ok(t))
	found := false
	for _, e := range got {
		m := asMap(e)
		if asMap(m["resource"])["id"] == strconv.Itoa(id) {
			found = true
			raw := asMap(m["raw"])
			if raw["method"] != "POST" || asMap(m["actor"])["token_name"] != "flarehose-sim" || asMap(m["zone"])["id"] != h.zone() {
				t.Fatalf("entry %v", m)
			}
		}
	}
	if !found {
		t.Fatalf("no audit entry for job %d among %d", id, len(got))
	}
	v1 := asList(h.auditV1(url.Values{"action.type": {"create"}, "per_page": {"1000"}}).ok(t))
	found = false
	for _, e := range v1 {
		m := asMap(e)
		if asMap(m["resource"])["type"] == "logpush_job" && asMap(m["resource"])["id"] == strconv.Itoa(id) {
			found = m["interface"] == "API" && asMap(m["newValueJson"])["name"] == "audited"
		}
	}
	if !found {
		t.Fatal("no v1 entry for the job")
	}
}
