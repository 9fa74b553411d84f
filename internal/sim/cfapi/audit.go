package cfapi

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/flarehose/flarehose/internal/sim"
)

// The audit log: one stream of events, served in the v1 shape by
// /accounts/{id}/audit_logs and in the v2 shape by /accounts/{id}/logs/audit
// (PROTOCOL.md §5). Events come from internal/sim's audit_logs generator
// (the same people, IPs and changes the Logpush dataset has) and from the
// simulator's own API: creating, changing and deleting Logpush jobs and
// switching Logpull retention are audited, as on Cloudflare.
//
// The stream grows with the clock. Each event has a time (`when`) and the
// time it becomes visible; most are visible at once, a few (late events)
// only some time after their `when`, so a poller that asks for "since the
// last event I saw" misses them unless it overlaps its windows.

// genAudit is one audit_logs record as the generator renders it.
type genAudit struct {
	ActionResult bool
	ActionType   string
	ActorEmail   string
	ActorID      string
	ActorIP      string
	ActorType    string
	ID           string
	Interface    string
	Metadata     json.RawMessage
	NewValue     json.RawMessage
	OldValue     json.RawMessage
	OwnerID      string
	ResourceID   string
	ResourceType string
}

type auditEvent struct {
	seq    int
	when   time.Time
	appear time.Time
	genAudit
	zoneName, zoneID string
	// Set for the simulator's own API calls: what v2 reports about them.
	api *apiCall
	v2  *auditV2 // rendered on first use
}

// apiCall is the request behind an audit event the API itself made.
type apiCall struct {
	method, uri, userAgent, rayID string
	status                        int
	context                       string // api_token or api_key
	tokenID, tokenName            string
	product, scope                string
}

type auditStream struct {
	s      *Server
	mu     sync.Mutex
	gen    sim.Generator
	rnd    *rand.Rand
	next   time.Time
	events []*auditEvent
	buf    []byte
	zoneID map[string]string // configured zone name -> ID
	remap  []string          // simulated zone ID, configured ID pairs (strings.Replacer)
	rep    *strings.Replacer
}

func newAuditStream(s *Server, now time.Time) (*auditStream, error) {
	gen, err := sim.NewGenerator("audit_logs", s.cfg.Seed)
	if err != nil {
		return nil, err
	}
	a := &auditStream{s: s, gen: gen, rnd: rand.New(rand.NewPCG(s.cfg.Seed, 0xa0d17)), zoneID: map[string]string{}}
	simID := map[string]string{}
	for _, z := range sim.Zones() {
		simID[z.Name] = z.ID
	}
	for _, z := range s.cfg.Zones {
		a.zoneID[z.Name] = z.ID
		if simID[z.Name] != z.ID {
			a.remap = append(a.remap, simID[z.Name], z.ID)
		}
	}
	if len(a.remap) > 0 {
		a.rep = strings.NewReplacer(a.remap...)
	}
	a.next = now.Add(-s.cfg.AuditHistory).Truncate(time.Second)
	a.next = a.next.Add(a.gap(nil))
	return a, nil
}

// gap is the time to the next generated event: exponential around the
// configured rate, seconds after a failed login (attacks come in bursts).
func (a *auditStream) gap(prev *auditEvent) time.Duration {
	if prev != nil && prev.ActionType == "login" && !prev.ActionResult {
		return time.Duration(2+a.rnd.IntN(20)) * time.Second
	}
	mean := 3600 / a.s.cfg.AuditRate
	secs := -math.Log(1-a.rnd.Float64()) * mean
	return max(time.Second, time.Duration(secs)*time.Second)
}

// advance generates the events up to now. The caller holds a.mu.
func (a *auditStream) advance(now time.Time) {
	for !a.next.After(now) {
		e := a.generate(a.next)
		if e.zoneName == "" || a.zoneID[e.zoneName] != "" { // only the configured zones
			a.events = append(a.events, e)
		}
		a.next = a.next.Add(a.gap(e))
	}
}

func (a *auditStream) generate(t time.Time) *auditEvent {
	a.buf = a.gen.Append(a.buf[:0], t, nil)
	e := &auditEvent{seq: len(a.events), when: t, appear: t}
	if a.rep != nil { // configured zone IDs instead of the generator's
		a.buf = []byte(a.rep.Replace(string(a.buf)))
	}
	if err := json.Unmarshal(a.buf, &e.genAudit); err != nil {
		panic(fmt.Sprintf("cfapi: audit record %s: %v", a.buf, err))
	}
	if f := a.s.cfg.AuditLateFraction; f > 0 && a.rnd.Float64() < f {
		lo := 20 * time.Second
		span := max(a.s.cfg.AuditLateMax-lo, time.Second)
		e.appear = t.Add(lo + time.Duration(a.rnd.Int64N(int64(span))))
	}
	a.setZone(e)
	e.v2Shape(a.s) // rendered now, under the lock: readers share it
	return e
}

func (a *auditStream) setZone(e *auditEvent) {
	var meta struct {
		ZoneName string `json:"zone_name"`
		ZoneID   string `json:"zone_id"`
	}
	json.Unmarshal(e.Metadata, &meta)
	e.zoneName, e.zoneID = meta.ZoneName, meta.ZoneID
	if e.zoneName != "" {
		if id, ok := a.zoneID[e.zoneName]; ok {
			e.zoneID = id
		}
	}
	if e.zoneID == "" && e.ResourceType == "zone" {
		e.zoneID = e.ResourceID
	}
}

// visible returns the events visible at now, oldest first.
func (a *auditStream) visible(now time.Time) []*auditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.advance(now)
	out := make([]*auditEvent, 0, len(a.events))
	for _, e := range a.events {
		if !e.appear.After(now) {
			out = append(out, e)
		}
	}
	return out
}

// feed returns the record source of an audit_logs Logpush job started at
// start (sim.NewFeed): each call returns, oldest first, the events visible
// at t that happened from a second before start on (the job's own
// creation is audited just after it starts) and were not returned before,
// in Logpush's default shape. Late events come when they become visible,
// as Cloudflare pushes them.
func (a *auditStream) feed(start time.Time) func(t time.Time) [][]byte {
	start = start.Add(-time.Second)
	sent := map[int]bool{}
	low := 0 // events before low were all sent or are too old
	return func(t time.Time) [][]byte {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.advance(t)
		var out [][]byte
		done := true
		for i := low; i < len(a.events); i++ {
			e := a.events[i]
			switch {
			case sent[e.seq] || e.when.Before(start):
			case e.appear.After(t):
				done = false // late: later
				continue
			default:
				sent[e.seq] = true
				out = append(out, e.logpushRecord())
			}
			if done {
				delete(sent, e.seq)
				low = i + 1
			}
		}
		return out
	}
}

// logpushRecord renders the event as a Logpush audit_logs record with
// every field, timestamps in RFC 3339.
func (e *auditEvent) logpushRecord() []byte {
	b, _ := json.Marshal(struct {
		genAudit
		When string
	}{e.genAudit, e.when.UTC().Format(time.RFC3339Nano)})
	return b
}

// record adds an event for one of the API's own changes.
func (s *Server) auditAPI(c *request, actionType, resourceType, resourceID, zoneName string, meta, oldV, newV any, product string) {
	a := s.audit
	a.mu.Lock()
	defer a.mu.Unlock()
	a.advance(c.now)
	js := func(v any) json.RawMessage {
		if v == nil {
			return json.RawMessage("{}")
		}
		b, _ := json.Marshal(v)
		return b
	}
	ip, _, err := net.SplitHostPort(c.r.RemoteAddr)
	if err != nil {
		ip = c.r.RemoteAddr
	}
	seq := len(a.events)
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%d|%s|%s", s.cfg.Seed, seq, c.now.Format(time.RFC3339Nano), c.r.URL.Path)
	id1, id2 := h.Sum64(), a.rnd.Uint64()
	e := &auditEvent{seq: seq, when: c.now.Truncate(time.Second), appear: c.now, genAudit: genAudit{
		ActionResult: true, ActionType: actionType,
		ActorEmail: c.id.email, ActorID: userID(c.id.email), ActorIP: ip, ActorType: "user",
		ID: uuid(id1, id2), Interface: "API", Metadata: js(meta), NewValue: js(newV), OldValue: js(oldV),
		OwnerID: s.cfg.AccountID, ResourceID: resourceID, ResourceType: resourceType,
	}}
	call := &apiCall{method: c.r.Method, uri: BasePath + "/" + strings.TrimPrefix(c.r.URL.Path, BasePath+"/"),
		userAgent: c.r.UserAgent(), rayID: fmt.Sprintf("%016x", id1), status: 200, context: "api_key", product: product, scope: c.scope.scopeName()}
	if c.id.token != nil {
		call.context, call.tokenID, call.tokenName = "api_token", c.id.token.ID, c.id.token.Name
	}
	e.api = call
	if zoneName != "" {
		e.zoneName, e.zoneID = zoneName, a.zoneID[zoneName]
	}
	e.v2Shape(s)
	a.events = append(a.events, e)
}

func userID(email string) string {
	h := fnv.New64a()
	h.Write([]byte("user:" + strings.ToLower(email)))
	x := h.Sum64()
	h.Write([]byte("2"))
	return fmt.Sprintf("%016x%016x", x, h.Sum64())
}

func uuid(hi, lo uint64) string {
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// v1 shape.

type auditV1 struct {
	Action struct {
		Result bool   `json:"result"`
		Type   string `json:"type"`
	} `json:"action"`
	Actor struct {
		Email string `json:"email"`
		ID    string `json:"id"`
		IP    string `json:"ip"`
		Type  string `json:"type"`
	} `json:"actor"`
	ID           string          `json:"id"`
	Interface    string          `json:"interface"`
	Metadata     json.RawMessage `json:"metadata"`
	NewValue     string          `json:"newValue"`
	NewValueJSON json.RawMessage `json:"newValueJson,omitempty"`
	OldValue     string          `json:"oldValue"`
	OldValueJSON json.RawMessage `json:"oldValueJson,omitempty"`
	Owner        struct {
		ID string `json:"id"`
	} `json:"owner"`
	Resource struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"resource"`
	When string `json:"when"`
}

func (e *auditEvent) v1() *auditV1 {
	var v auditV1
	v.Action.Result, v.Action.Type = e.ActionResult, e.ActionType
	v.Actor.Email, v.Actor.ID, v.Actor.IP, v.Actor.Type = e.ActorEmail, e.ActorID, e.ActorIP, e.ActorType
	v.ID, v.Interface, v.Metadata = e.ID, e.Interface, e.Metadata
	v.NewValue, v.NewValueJSON = v1Value(e.ActionType, e.NewValue)
	v.OldValue, v.OldValueJSON = v1Value(e.ActionType, e.OldValue)
	v.Owner.ID = e.OwnerID
	v.Resource.ID, v.Resource.Type = e.ResourceID, e.ResourceType
	v.When = e.when.UTC().Format(time.RFC3339)
	return &v
}

// v1Value turns the generator's object into v1's newValue/oldValue: a
// plain string for a setting change ({"value":"low"} -> "low"), otherwise
// "" plus the object in newValueJson/oldValueJson.
func v1Value(actionType string, obj json.RawMessage) (string, json.RawMessage) {
	if len(obj) == 0 || string(obj) == "{}" || string(obj) == "null" {
		return "", nil
	}
	if actionType == "change_setting" {
		var v struct{ Value string }
		if json.Unmarshal(obj, &v) == nil {
			return v.Value, nil
		}
	}
	return "", obj
}

// v2 shape.

type auditV2 struct {
	ID      string `json:"id"`
	Account struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"account"`
	Action struct {
		Description string `json:"description"`
		Result      string `json:"result"`
		Time        string `json:"time"`
		Type        string `json:"type"`
	} `json:"action"`
	Actor struct {
		ID        string `json:"id,omitempty"`
		Context   string `json:"context"`
		Email     string `json:"email,omitempty"`
		IPAddress string `json:"ip_address,omitempty"`
		TokenID   string `json:"token_id,omitempty"`
		TokenName string `json:"token_name,omitempty"`
		Type      string `json:"type"`
	} `json:"actor"`
	Raw struct {
		CFRayID    string `json:"cf_ray_id"`
		Method     string `json:"method"`
		StatusCode int    `json:"status_code"`
		URI        string `json:"uri"`
		UserAgent  string `json:"user_agent,omitempty"`
	} `json:"raw"`
	Resource struct {
		ID       string          `json:"id"`
		Product  string          `json:"product"`
		Request  json.RawMessage `json:"request"`
		Response json.RawMessage `json:"response"`
		Scope    string          `json:"scope"`
		Type     string          `json:"type"`
	} `json:"resource"`
	Zone *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"zone,omitempty"`
}

// v2Action maps a v1 action type (per resource type) to v2's action type,
// description, product, scope, resource type and HTTP method.
type v2Action struct {
	typ, desc, product, scope, rtype, method string
}

var v2Actions = map[string]v2Action{
	"user/login":               {"create", "Login", "login", "user", "session", "POST"},
	"user/tfa_enable":          {"update", "Enable two-factor authentication", "two_factor_authentication", "user", "user", "PUT"},
	"user/tfa_disable":         {"update", "Disable two-factor authentication", "two_factor_authentication", "user", "user", "DELETE"},
	"DNS_record/rec_add":       {"create", "Create DNS record", "dns_records", "zones", "dns_record", "POST"},
	"DNS_record/rec_set":       {"update", "Update DNS record", "dns_records", "zones", "dns_record", "PATCH"},
	"DNS_record/rec_del":       {"delete", "Delete DNS record", "dns_records", "zones", "dns_record", "DELETE"},
	"zone/change_setting":      {"update", "Change zone setting", "zone_settings", "zones", "zone_setting", "PATCH"},
	"zone/purge":               {"create", "Purge cache", "purge_cache", "zones", "zone", "POST"},
	"ruleset/create":           {"create", "Create ruleset rule", "rulesets", "zones", "ruleset", "POST"},
	"ruleset/update":           {"update", "Update ruleset rule", "rulesets", "zones", "ruleset", "PATCH"},
	"ruleset/delete":           {"delete", "Delete ruleset rule", "rulesets", "zones", "ruleset", "DELETE"},
	"account/token_create":     {"create", "Create API token", "tokens", "user", "token", "POST"},
	"account/token_roll":       {"update", "Roll API token", "tokens", "user", "token", "PUT"},
	"account/token_delete":     {"delete", "Delete API token", "tokens", "user", "token", "DELETE"},
	"member/add":               {"create", "Add Member", "members", "accounts", "member", "POST"},
	"member/update":            {"update", "Update Member", "members", "accounts", "member", "PUT"},
	"member/delete":            {"delete", "Remove Member", "members", "accounts", "member", "DELETE"},
	"logpush_job/create":       {"create", "Create Logpush job", "logpush", "zones", "logpush_job", "POST"},
	"logpush_job/update":       {"update", "Update Logpush job", "logpush", "zones", "logpush_job", "PUT"},
	"logpush_job/delete":       {"delete", "Delete Logpush job", "logpush", "zones", "logpush_job", "DELETE"},
	"certificate_pack/update":  {"update", "Renew certificate pack", "ssl", "zones", "certificate_pack", "PATCH"},
	"logpull_retention/update": {"update", "Change Logpull retention", "logs", "zones", "logpull_retention", "POST"},
}

var (
	dashAgents = []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	}
	apiAgents  = []string{"curl/8.7.1", "cloudflare-go/0.116.0", "python-requests/2.32.3", "Go-http-client/2.0"}
	apiTokens  = []string{"terraform-ci", "cert-manager", "github-actions-deploy", "flarehose-logpush", "cache-purge-hook"}
	hashedInts = func(s string, salt string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(salt + "|" + s))
		return h.Sum64()
	}
)

// v2Shape renders the event in the v2 shape. The stream renders every
// event once, when it is added; later calls return that rendering.
func (e *auditEvent) v2Shape(s *Server) *auditV2 {
	if e.v2 != nil {
		return e.v2
	}
	var v auditV2
	v.ID = e.ID
	v.Account.ID, v.Account.Name = s.cfg.AccountID, s.cfg.AccountName
	act, ok := v2Actions[e.ResourceType+"/"+e.ActionType]
	if !ok {
		act = v2Action{"update", strings.ReplaceAll(e.ActionType, "_", " "), strings.ToLower(e.ResourceType), "accounts", strings.ToLower(e.ResourceType), "PUT"}
	}
	v.Action.Type, v.Action.Description = act.typ, act.desc
	v.Action.Result = "success"
	if !e.ActionResult {
		v.Action.Result = "failure"
		if e.ActionType == "login" {
			v.Action.Description = "Failed login"
		}
	}
	v.Action.Time = e.when.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	h := hashedInts(e.ID, "v2")
	v.Actor.ID, v.Actor.Email, v.Actor.IPAddress = e.ActorID, e.ActorEmail, e.ActorIP
	switch {
	case e.ActorType == "Cloudflare":
		v.Actor.Type, v.Actor.Context = "system", "api_key"
	case e.Interface == "API":
		v.Actor.Type, v.Actor.Context = "user", "api_token"
		if strings.HasPrefix(e.ActorEmail, "terraform-ci@") {
			v.Actor.TokenName = "terraform-ci"
		} else if h%4 == 0 {
			v.Actor.Context = "api_key"
		} else {
			v.Actor.TokenName = apiTokens[h%uint64(len(apiTokens))]
		}
		if v.Actor.TokenName != "" {
			v.Actor.TokenID = fmt.Sprintf("%016x%016x", hashedInts(v.Actor.TokenName, "token"), hashedInts(v.Actor.TokenName, "token2"))
		}
	default:
		v.Actor.Type, v.Actor.Context = "user", "dash"
	}
	v.Raw.CFRayID = fmt.Sprintf("%016x", h)
	v.Raw.Method, v.Raw.StatusCode = act.method, 200
	if !e.ActionResult {
		v.Raw.StatusCode = 403
		if e.ActionType == "login" {
			v.Raw.StatusCode = 401
		}
	}
	switch v.Actor.Context {
	case "dash":
		v.Raw.UserAgent = dashAgents[hashedInts(e.ActorEmail, "ua")%uint64(len(dashAgents))]
	case "api_token", "api_key":
		v.Raw.UserAgent = apiAgents[h>>8%uint64(len(apiAgents))]
		if v.Actor.TokenName == "terraform-ci" {
			v.Raw.UserAgent = "terraform-provider-cloudflare/4.52.0 terraform-plugin-framework terraform/1.9.8"
		}
	}
	if e.ActorType == "Cloudflare" {
		v.Raw.UserAgent = ""
	}
	v.Raw.URI = v2URI(s, e, act)
	v.Resource.ID, v.Resource.Product, v.Resource.Scope, v.Resource.Type = e.ResourceID, act.product, act.scope, act.rtype
	if act.scope == "zones" && e.zoneID == "" {
		v.Resource.Scope = "accounts" // an account-level Logpush job
	}
	v.Resource.Request, v.Resource.Response = json.RawMessage("{}"), json.RawMessage("{}")
	if act.typ != "delete" && len(e.NewValue) > 0 {
		v.Resource.Request = e.NewValue
	}
	if e.ActionResult && act.typ != "delete" && e.ResourceID != "" {
		v.Resource.Response, _ = json.Marshal(map[string]string{"id": e.ResourceID})
	}
	if c := e.api; c != nil {
		v.Raw.Method, v.Raw.URI, v.Raw.UserAgent, v.Raw.StatusCode, v.Raw.CFRayID = c.method, c.uri, c.userAgent, c.status, c.rayID
		v.Actor.Context, v.Actor.TokenID, v.Actor.TokenName = c.context, c.tokenID, c.tokenName
		v.Resource.Product, v.Resource.Scope = c.product, c.scope
	}
	if e.zoneID != "" || e.zoneName != "" {
		v.Zone = &struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}{e.zoneID, e.zoneName}
	}
	e.v2 = &v
	return e.v2
}

func v2URI(s *Server, e *auditEvent, act v2Action) string {
	zone := "/zones/" + e.zoneID
	id := e.ResourceID
	withID := func(base string) string {
		if act.typ == "create" {
			return base
		}
		return base + "/" + id
	}
	switch e.ResourceType {
	case "user":
		if e.ActionType == "login" {
			return "/login"
		}
		return "/user/two_factor_authentication"
	case "DNS_record":
		return withID(zone + "/dns_records")
	case "zone":
		if e.ActionType == "purge" {
			return zone + "/purge_cache"
		}
		var meta struct{ Name string }
		json.Unmarshal(e.Metadata, &meta)
		return zone + "/settings/" + meta.Name
	case "ruleset":
		return zone + "/rulesets/" + id
	case "account":
		if e.ActionType == "token_roll" {
			return "/user/tokens/" + id + "/value"
		}
		return withID("/user/tokens")
	case "member":
		return withID("/accounts/" + s.cfg.AccountID + "/members")
	case "logpush_job":
		if e.zoneID == "" {
			return withID("/accounts/" + s.cfg.AccountID + "/logpush/jobs")
		}
		return withID(zone + "/logpush/jobs")
	case "certificate_pack":
		return zone + "/ssl/certificate_packs/" + id
	}
	return "/accounts/" + s.cfg.AccountID
}
