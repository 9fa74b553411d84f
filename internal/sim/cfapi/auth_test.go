package cfapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/sim"
)

const (
	keyEmail = "ops@northwind-traders.com"
	readOnly = "read-only-token-0123456789abcdefghijklmn"
	zoneOnly = "zone-only-token-0123456789abcdefghijklmn"
	disabled = "disabled-token-0123456789abcdefghijklmno"
)

func authHarness(t *testing.T) (*harness, string) {
	z := sim.Zones()
	key := NewGlobalKey("test")
	h := newHarness(t, Config{
		Seed: 1,
		Tokens: []Token{
			{Value: DefaultToken(1), Name: "all", Permissions: AllPermissions},
			{Value: readOnly, Name: "logs-read", Permissions: []Permission{PermLogsRead}},
			{Value: zoneOnly, Name: "zone", Permissions: AllPermissions, Zones: []string{z[0].ID}},
			{Value: disabled, Name: "off", Permissions: AllPermissions, Disabled: true},
		},
		Keys:        []GlobalKey{{Email: keyEmail, Key: key}},
		RetentionOn: true,
	})
	return h, key
}

func TestAuth(t *testing.T) {
	h, key := authHarness(t)
	acct, z0, z1 := h.srv.AccountID(), h.srv.Zones()[0].ID, h.srv.Zones()[1].ID
	jobs := "/zones/" + z0 + "/logpush/jobs"
	cases := []struct {
		name   string
		path   string
		hdr    map[string]string
		status int
		code   int
		chain  []int  // expected error_chain codes
		detail string // in the error_chain message
	}{
		{name: "bearer token", path: jobs, status: 200},
		{name: "global key", path: jobs, hdr: map[string]string{"Authorization": "", "X-Auth-Email": keyEmail, "X-Auth-Key": key}, status: 200},
		{name: "no credentials", path: jobs, hdr: map[string]string{"Authorization": ""}, status: 403, code: 10000},
		{name: "malformed authorization", path: jobs, hdr: map[string]string{"Authorization": "Basic abc"}, status: 400, code: 6003, chain: []int{6111}},
		{name: "bearer with a space", path: jobs, hdr: map[string]string{"Authorization": "Bearer abc def"}, status: 400, code: 6003, chain: []int{6111}},
		{name: "malformed key", path: jobs, hdr: map[string]string{"Authorization": "", "X-Auth-Email": keyEmail, "X-Auth-Key": "short"}, status: 400, code: 6003, chain: []int{6103}},
		{name: "malformed email and key", path: jobs, hdr: map[string]string{"Authorization": "", "X-Auth-Email": "nobody", "X-Auth-Key": "x"}, status: 400, code: 6003, chain: []int{6102, 6103}},
		{name: "key without email", path: jobs, hdr: map[string]string{"Authorization": "", "X-Auth-Key": key}, status: 400, code: 6003, chain: []int{6102}},
		{name: "wrong key", path: jobs, hdr: map[string]string{"Authorization": "", "X-Auth-Email": keyEmail, "X-Auth-Key": NewGlobalKey("other")}, status: 403, code: 10000},
		{name: "unknown token", path: jobs, hdr: map[string]string{"Authorization": "Bearer nope-nope-nope"}, status: 403, code: 10000},
		{name: "disabled token", path: jobs, hdr: map[string]string{"Authorization": "Bearer " + disabled}, status: 403, code: 10000, detail: "disabled"},
		{name: "missing Logs Write", path: jobs, hdr: map[string]string{"Authorization": "Bearer " + readOnly}, status: 403, code: 10000, chain: []int{10000}, detail: "Logs Write"},
		{name: "missing Account Settings Read", path: "/accounts/" + acct + "/audit_logs", hdr: map[string]string{"Authorization": "Bearer " + readOnly}, status: 403, code: 10000, detail: "Account Settings Read"},
		{name: "Logs Read suffices for retention", path: "/zones/" + z0 + "/logs/control/retention/flag", hdr: map[string]string{"Authorization": "Bearer " + readOnly}, status: 200},
		{name: "zone token on its zone", path: jobs, hdr: map[string]string{"Authorization": "Bearer " + zoneOnly}, status: 200},
		{name: "zone token on another zone", path: "/zones/" + z1 + "/logpush/jobs", hdr: map[string]string{"Authorization": "Bearer " + zoneOnly}, status: 403, code: 10000, detail: z1},
		{name: "zone token on the account", path: "/accounts/" + acct + "/logpush/jobs", hdr: map[string]string{"Authorization": "Bearer " + zoneOnly}, status: 403, code: 10000},
		{name: "unknown zone", path: "/zones/" + strings.Repeat("ab", 16) + "/logpush/jobs", status: 403, code: 10000},
		{name: "malformed zone id", path: "/zones/example.com/logpush/jobs", status: 400, code: 7003},
		{name: "unknown route", path: "/zones/" + z0 + "/no/such/thing", status: 404, code: 7003},
		{name: "outside the base path", path: "/../../v3/zones", status: 404, code: 7003},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(http.MethodGet, c.path, nil, c.hdr)
			if c.status == 200 {
				r.ok(t)
				return
			}
			e := r.fails(t, c.status, c.code)
			chain := asList(e["error_chain"])
			if c.chain != nil {
				if len(chain) != len(c.chain) {
					t.Fatalf("error_chain %v, want codes %v", chain, c.chain)
				}
				for i, want := range c.chain {
					if got := int(asMap(chain[i])["code"].(float64)); got != want {
						t.Fatalf("error_chain[%d] code %d, want %d", i, got, want)
					}
				}
			}
			if c.detail != "" && !strings.Contains(string(r.body), c.detail) {
				t.Fatalf("body %s does not name %q", r.body, c.detail)
			}
		})
	}
}

func TestAuthErrorBodies(t *testing.T) {
	h, _ := authHarness(t)
	jobs := "/zones/" + h.zone() + "/logpush/jobs"
	r := h.do(http.MethodGet, jobs, nil, map[string]string{"Authorization": "", "X-Auth-Email": keyEmail, "X-Auth-Key": "bad"})
	want := `{"success":false,"errors":[{"code":6003,"message":"Invalid request headers","error_chain":[{"code":6103,"message":"Invalid format for X-Auth-Key header"}]}],"messages":[],"result":null}`
	if strings.TrimSpace(string(r.body)) != want {
		t.Errorf("6003 body\n got %s\nwant %s", r.body, want)
	}
	r = h.do(http.MethodGet, jobs, nil, map[string]string{"Authorization": "Bearer unknown-token"})
	want = `{"success":false,"errors":[{"code":10000,"message":"Authentication error","error_chain":[{"code":10000,"message":"invalid API token"}]}],"messages":[],"result":null}`
	if strings.TrimSpace(string(r.body)) != want {
		t.Errorf("10000 body\n got %s\nwant %s", r.body, want)
	}
	r = h.get("/zones/" + h.zone() + "/nope")
	want = `{"success":false,"errors":[{"code":7003,"message":"No route for the URI"}],"messages":[],"result":null}`
	if strings.TrimSpace(string(r.body)) != want {
		t.Errorf("7003 body\n got %s\nwant %s", r.body, want)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.do(http.MethodDelete, "/zones/"+h.zone()+"/logpush/jobs", nil, nil)
	r.fails(t, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	if !strings.Contains(r.header.Get("Allow"), "POST") {
		t.Errorf("Allow: %q", r.header.Get("Allow"))
	}
}

func TestTokenVerify(t *testing.T) {
	h, key := authHarness(t)
	r := h.get("/user/tokens/verify")
	res := asMap(r.ok(t))
	if res["status"] != "active" || len(res["id"].(string)) != 32 {
		t.Fatalf("result %v", res)
	}
	msg := asMap(asList(r.env["messages"])[0])
	if msg["code"].(float64) != 10000 || msg["message"] != "This API Token is valid and active" {
		t.Fatalf("messages %v", r.env["messages"])
	}
	if _, ok := msg["type"]; !ok || msg["type"] != nil {
		t.Fatalf("messages[0].type should be null: %s", r.body)
	}
	h.do(http.MethodGet, "/user/tokens/verify", nil, map[string]string{"Authorization": "Bearer " + disabled}).fails(t, 403, 10000)
	h.do(http.MethodGet, "/user/tokens/verify", nil, map[string]string{"Authorization": "", "X-Auth-Email": keyEmail, "X-Auth-Key": key}).fails(t, 403, 10000)
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, Config{RateLimit: 3, RateWindow: time.Minute, RatePenalty: 2 * time.Minute})
	path := "/user/tokens/verify"
	for i := range 3 {
		r := h.get(path)
		r.ok(t)
		if want := `"default";r=` + string(rune('2'-i)) + ";t=60"; r.header.Get("Ratelimit") != want {
			t.Errorf("request %d: Ratelimit %q, want %q", i, r.header.Get("Ratelimit"), want)
		}
		if got := r.header.Get("Ratelimit-Policy"); got != `"default";q=3;w=60` {
			t.Errorf("Ratelimit-Policy %q", got)
		}
		if r.header.Get("Retry-After") != "" {
			t.Errorf("Retry-After on an allowed request")
		}
	}
	r := h.get(path)
	e := r.fails(t, http.StatusTooManyRequests, 971)
	if e["message"] != "Please wait and consider throttling your request speed" {
		t.Errorf("message %v", e["message"])
	}
	if r.header.Get("Retry-After") != "120" {
		t.Errorf("Retry-After %q, want 120 (the penalty)", r.header.Get("Retry-After"))
	}
	// The penalty outlasts the window.
	h.clock.Advance(61 * time.Second)
	if r := h.get(path); r.status != 429 || r.header.Get("Retry-After") != "59" {
		t.Fatalf("after 61 s: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Another credential is not affected.
	key := NewGlobalKey("k")
	h2 := newHarness(t, Config{RateLimit: 1, Keys: []GlobalKey{{Email: keyEmail, Key: key}}})
	h2.get(path).ok(t)
	h2.get(path).fails(t, 429, 971)
	h2.do(http.MethodGet, "/zones/"+h2.zone()+"/logpush/jobs", nil, map[string]string{"Authorization": "", "X-Auth-Email": keyEmail, "X-Auth-Key": key}).ok(t)
	// Once the penalty is over, requests go through again.
	h.clock.Advance(60 * time.Second)
	h.get(path).ok(t)
}
