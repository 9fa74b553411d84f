package sim

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

func TestGeneratorDeterminism(t *testing.T) {
	for _, name := range Datasets() {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Seed: 42}
			a := generate(t, name, cfg, nil, 3000)
			b := generate(t, name, cfg, nil, 3000)
			if !bytes.Equal(a, b) {
				t.Fatal("same seed, different bytes")
			}
			c := generate(t, name, Config{Seed: 43}, nil, 3000)
			if bytes.Equal(a, c) {
				t.Fatal("different seeds, same bytes")
			}
		})
	}
}

func TestUnknownDatasetAndZone(t *testing.T) {
	if _, err := NewGenerator("dns_logs", 1); err == nil {
		t.Error("dns_logs should not be simulated")
	}
	if _, err := NewGeneratorConfig("http_requests", Config{Zones: []string{"example.com"}}); err == nil {
		t.Error("unknown zone accepted")
	}
}

func TestZoneRestriction(t *testing.T) {
	for _, z := range Zones() {
		if len(z.ID) != 32 {
			t.Errorf("zone %s: ID %q", z.Name, z.ID)
		}
		recs := decodeLines(t, generate(t, "http_requests", Config{Seed: 5, Zones: []string{z.Name}}, nil, 2000))
		for _, r := range recs {
			if r["ZoneName"] != z.Name {
				t.Fatalf("zone %s: got a record of %v", z.Name, r["ZoneName"])
			}
			if host := r["ClientRequestHost"].(string); !strings.HasSuffix(host, z.Name) {
				t.Fatalf("zone %s: host %s", z.Name, host)
			}
		}
	}
}

// The firewall_events stream is exactly the rule matches of the
// http_requests stream of the same Config, in order.
func TestFirewallEventsMatchHTTPRequests(t *testing.T) {
	cfg := Config{Seed: 11, AttackBursts: 40}
	httpRecs := decodeLines(t, generate(t, "http_requests", cfg, nil, 25000))
	type want struct {
		ray, ip, path, host, ruleID, source string
		matchIndex                          int
		status                              string
	}
	var wants []want
	for _, r := range httpRecs {
		ids := r["SecurityRuleIDs"].([]any)
		for i, id := range ids {
			wants = append(wants, want{
				ray: r["RayID"].(string), ip: r["ClientIP"].(string), path: r["ClientRequestPath"].(string),
				host: r["ClientRequestHost"].(string), ruleID: id.(string), source: r["SecuritySources"].([]any)[i].(string),
				matchIndex: len(ids) - 1 - i, status: string(r["EdgeResponseStatus"].(interface{ String() string }).String()),
			})
		}
	}
	if len(wants) < 500 {
		t.Fatalf("only %d rule matches in 25000 requests", len(wants))
	}
	fw := decodeLines(t, generate(t, "firewall_events", cfg, nil, len(wants)))
	for i, e := range fw {
		w := wants[i]
		mi, _ := e["MatchIndex"].(interface{ Int64() (int64, error) }).Int64()
		if e["RayID"] != w.ray || e["ClientIP"] != w.ip || e["ClientRequestPath"] != w.path || e["ClientRequestHost"] != w.host ||
			e["RuleID"] != w.ruleID || int(mi) != w.matchIndex || e["EdgeResponseStatus"].(interface{ String() string }).String() != w.status {
			t.Fatalf("event %d = %v\nwant %+v", i, e, w)
		}
		if !strings.EqualFold(e["Source"].(string), w.source) {
			t.Fatalf("event %d: Source %v, SecuritySources %s", i, e["Source"], w.source)
		}
	}
}

var rayRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Realism: the mix of a day of traffic looks like a real zone's.
func TestHTTPRequestsRealism(t *testing.T) {
	recs := decodeLines(t, generate(t, "http_requests", Config{Seed: 1, AttackBursts: 20}, nil, 40000))
	n := float64(len(recs))
	status := map[string]int{}
	geo := map[string]string{}
	uas, countries, zones, cache := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]int{}
	rays := map[string]bool{}
	v6, verified, challengesSolved := 0, 0, 0
	wpLogin := map[string]map[string]int{} // ip -> status -> count
	for i, r := range recs {
		st := r["EdgeResponseStatus"].(interface{ String() string }).String()
		status[st]++
		ip := r["ClientIP"].(string)
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			t.Fatalf("record %d: ClientIP %q", i, ip)
		}
		if addr.Is6() {
			v6++
		}
		if !addr.IsGlobalUnicast() || addr.IsPrivate() {
			t.Fatalf("record %d: ClientIP %s is not a public address", i, ip)
		}
		key := r["ClientCountry"].(string) + "/" + r["ClientASN"].(interface{ String() string }).String()
		if prev, ok := geo[ip]; ok && prev != key {
			t.Fatalf("IP %s maps to %s and %s", ip, prev, key)
		}
		geo[ip] = key
		uas[r["ClientRequestUserAgent"].(string)] = true
		countries[r["ClientCountry"].(string)] = true
		zones[r["ZoneName"].(string)] = true
		cache[r["CacheCacheStatus"].(string)]++
		ray := r["RayID"].(string)
		if !rayRE.MatchString(ray) || rays[ray] {
			t.Fatalf("record %d: bad or repeated RayID %q", i, ray)
		}
		rays[ray] = true
		if p := r["ParentRayID"].(string); p != "00" && !rays[p] {
			t.Fatalf("record %d: ParentRayID %s is not an earlier request", i, p)
		}
		start, _ := r["EdgeStartTimestamp"].(interface{ Int64() (int64, error) }).Int64()
		end, _ := r["EdgeEndTimestamp"].(interface{ Int64() (int64, error) }).Int64()
		if end < start {
			t.Fatalf("record %d ends before it starts", i)
		}
		if r["VerifiedBotCategory"] != "" {
			verified++
		}
		for _, a := range r["SecurityActions"].([]any) {
			if strings.HasPrefix(a.(string), "managedChallenge") && strings.HasSuffix(a.(string), "Solved") {
				challengesSolved++
			}
		}
		if r["ClientRequestPath"] == "/wp-login.php" {
			if wpLogin[ip] == nil {
				wpLogin[ip] = map[string]int{}
			}
			wpLogin[ip][st]++
		}
		if r["SecurityAction"] == "" && (st == "403" || st == "429") && r["OriginResponseStatus"].(interface{ String() string }).String() == "0" && r["WorkerScriptName"] == "" {
			t.Fatalf("record %d: %s from the edge without a security action", i, st)
		}
	}
	ok := float64(status["200"]+status["304"]+status["201"]+status["204"]) / n
	t.Logf("status %v; cache %v; v6 %.2f; %d UAs, %d countries, %d IPs", status, cache, float64(v6)/n, len(uas), len(countries), len(geo))
	if ok < 0.75 {
		t.Errorf("only %.2f of requests succeed", ok)
	}
	for _, st := range []string{"404", "403", "429", "301", "500", "502"} {
		if status[st] == 0 {
			t.Errorf("no %s responses", st)
		}
	}
	if share := float64(v6) / n; share < 0.1 || share > 0.6 {
		t.Errorf("IPv6 share %.2f", share)
	}
	if len(uas) < 30 || len(countries) < 20 || len(zones) != len(Zones()) || len(geo) < 1000 {
		t.Errorf("too little variety: %d UAs, %d countries, %d zones, %d IPs", len(uas), len(countries), len(zones), len(geo))
	}
	if cache["hit"] == 0 || cache["dynamic"] == 0 || cache["miss"] == 0 {
		t.Errorf("cache statuses %v", cache)
	}
	if verified == 0 || challengesSolved == 0 {
		t.Errorf("%d verified bot requests, %d solved challenges", verified, challengesSolved)
	}
	// A brute force: one IP hammering wp-login.php until rate limiting
	// blocks it.
	found := false
	for _, st := range wpLogin {
		if st["429"] > 50 && st["200"] > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("no wp-login.php brute force: %v", wpLogin)
	}
}

func TestAuditLogsRealism(t *testing.T) {
	recs := decodeLines(t, generate(t, "audit_logs", Config{Seed: 2}, MustFormat("audit_logs", OutputOptions{TimestampFormat: TimestampRFC3339}), 5000))
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	types, ids := map[string]int{}, map[string]bool{}
	failed, loginIPs := 0, map[string]map[string]bool{}
	for i, r := range recs {
		types[r["ActionType"].(string)]++
		id := r["ID"].(string)
		if !uuid.MatchString(id) || ids[id] {
			t.Fatalf("record %d: bad or repeated ID %q", i, id)
		}
		ids[id] = true
		if r["ActorType"] == "user" && r["ActorEmail"] == "" {
			t.Fatalf("record %d: user without email", i)
		}
		if r["ActionType"] == "login" {
			if r["ActionResult"] == false {
				failed++
			}
			email := r["ActorEmail"].(string)
			if loginIPs[email] == nil {
				loginIPs[email] = map[string]bool{}
			}
			loginIPs[email][r["ActorIP"].(string)] = true
		}
	}
	for _, typ := range []string{"login", "rec_set", "change_setting", "token_create", "purge", "update", "tfa_enable", "add"} {
		if types[typ] == 0 {
			t.Errorf("no %s events: %v", typ, types)
		}
	}
	if failed == 0 {
		t.Error("no failed logins")
	}
	for email, ips := range loginIPs {
		if len(ips) < 2 {
			t.Errorf("%s always logs in from one IP", email)
		}
	}
}
