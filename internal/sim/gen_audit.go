package sim

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// auditGen invents an account's audit log (the Logpush audit_logs dataset,
// the v1 audit log shape): a small team logging in and changing things,
// automation through API tokens, Cloudflare's own actions, and now and then
// an account takeover attempt.
type auditGen struct {
	r       *rand.Rand
	account string
	zones   []*zone
	members []*member
	script  []scriptedEvent // pending steps of a takeover attempt
	t       time.Time

	// The current event.
	result        bool
	actionType    string
	actor         *member
	actorIP       netip.Addr
	actorType     string
	iface         string
	resourceType  string
	resourceID    []byte
	meta, nv, ov  []byte
	id1, id2      uint64
	buf           []byte
	takeoverIP    netip.Addr
	takeoverNet   *network
	takeoverVictm *member
}

type member struct {
	email   string
	id      string
	role    string
	home    *network
	homeIP  netip.Addr
	apiOnly bool // an automation identity: acts through API tokens
	tfa     bool
	can     uint16 // the kinds of change (1<<chDNS...) the role allows
	weight  int    // how busy the member is
}

// Kinds of audited change, for the roles.
const (
	chLogin = iota
	chDNS
	chSetting
	chRuleset
	chPurge
	chToken
	chMember
	chTFA
	chLogpush
)

const (
	canAll      = 1<<chLogin | 1<<chDNS | 1<<chSetting | 1<<chRuleset | 1<<chPurge | 1<<chToken | 1<<chMember | 1<<chTFA | 1<<chLogpush
	canAdmin    = canAll &^ (1 << chMember)
	canCI       = 1<<chDNS | 1<<chRuleset | 1<<chPurge | 1<<chLogpush | 1<<chToken
	canFirewall = 1<<chLogin | 1<<chRuleset | 1<<chSetting | 1<<chTFA
	canDNS      = 1<<chLogin | 1<<chDNS | 1<<chTFA
	canReadOnly = 1<<chLogin | 1<<chTFA
)

type scriptedEvent uint8

const (
	seFailedLogin scriptedEvent = iota
	seAttackerLogin
	seAttackerToken
	seAttackerMember
	seVictimTFA
	seVictimTokenDelete
)

// The account's people. Owner IDs and emails are stable; IPs depend on the
// seed.
var teamTemplate = []struct {
	email, role, home string
	apiOnly           bool
	can               uint16
	weight            int
}{
	{"maria.garcia@northwind-traders.com", "Super Administrator - All Privileges", "comcast", false, canAll, 25},
	{"lena.schmidt@northwind-traders.com", "Administrator", "dtag", false, canAdmin, 15},
	{"dev.patel@northwind-traders.com", "Administrator", "bsnl", false, canAdmin, 12},
	{"sam.okafor@northwind-traders.com", "Firewall", "bt", false, canFirewall, 10},
	{"yuki.tanaka@northwind-traders.com", "DNS", "ntt-ocn", false, canDNS, 8},
	{"terraform-ci@northwind-traders.com", "Administrator", "aws-use1", true, canCI, 20},
	{"joao.souza@agency-studio.io", "Administrator Read Only", "claro-br", false, canReadOnly, 5},
}

var auditDataset = register("audit_logs", ScopeAccount, fieldsOf(auditColumns), func(cfg Config) (Generator, error) {
	g := &auditGen{r: newRand(cfg.Seed, 3), account: AccountID(), zones: allZones}
	for _, m := range teamTemplate {
		n := networkByKey[m.home]
		g.members = append(g.members, &member{
			email: m.email, id: stableHex("user:"+m.email, 32), role: m.role, home: n,
			homeIP: n.randomAddr(g.r, 0.3), apiOnly: m.apiOnly, tfa: !m.apiOnly && g.r.IntN(5) > 0,
			can: m.can, weight: m.weight,
		})
	}
	return g, nil
})

// AccountID returns the simulated account's ID (32 hex digits, stable).
func AccountID() string { return stableHex("account:northwind-group", 32) }

func (g *auditGen) Dataset() string { return "audit_logs" }
func (g *auditGen) Fields() []Field { return fieldsOf(auditColumns) }

func (g *auditGen) Append(dst []byte, t time.Time, f *Format) []byte {
	f = formatFor(auditDataset, f)
	g.t = t
	g.next()
	return renderRecord(dst, auditColumns, g, f)
}

// pickMember picks, by weight, a member whose role allows change ch.
func (g *auditGen) pickMember(ch int) *member {
	total := 0
	for _, m := range g.members {
		if m.can&(1<<ch) != 0 {
			total += m.weight
		}
	}
	x := g.r.IntN(total)
	for _, m := range g.members {
		if m.can&(1<<ch) == 0 {
			continue
		}
		if x < m.weight {
			return m
		}
		x -= m.weight
	}
	panic("unreachable")
}

// next fills the current event.
func (g *auditGen) next() {
	r := g.r
	g.buf = g.buf[:0]
	g.id1, g.id2 = r.Uint64(), r.Uint64()
	g.result, g.actorType, g.iface = true, "user", "UI"
	g.meta, g.nv, g.ov = emptyObject, emptyObject, emptyObject

	if len(g.script) > 0 {
		step := g.script[0]
		g.script = g.script[1:]
		g.scripted(step)
		return
	}
	if r.IntN(400) == 0 {
		g.startTakeover()
		g.next()
		return
	}

	ch := chLogin
	switch x := r.IntN(1000); {
	case x < 330:
		ch = chLogin
	case x < 520:
		ch = chDNS
	case x < 610:
		ch = chSetting
	case x < 710:
		ch = chRuleset
	case x < 800:
		ch = chPurge
	case x < 850:
		ch = chToken
	case x < 880:
		ch = chMember
	case x < 895:
		ch = chTFA
	case x < 950:
		ch = chLogpush
	default:
		g.cloudflareAction(g.zones[r.IntN(len(g.zones))])
		return
	}
	m := g.pickMember(ch)
	g.actor, g.actorIP = m, m.homeIP
	if m.apiOnly {
		g.iface = "API"
	} else {
		switch x := r.IntN(100); {
		case x < 6:
			g.actorIP = pickNetwork(r, nkResidential, nkMobile).randomAddr(r, 0.3) // travelling
		case x < 10:
			g.actorIP = networkByKey["warp"].randomAddr(r, 0.5)
		}
		if r.IntN(5) == 0 {
			g.iface = "API"
		}
	}
	z := g.zones[r.IntN(len(g.zones))]

	switch ch {
	case chLogin:
		g.login(m, r.IntN(12) > 0)
	case chDNS:
		g.dnsChange(z)
	case chSetting:
		g.zoneSetting(z)
	case chRuleset:
		g.rulesetChange(z)
	case chPurge:
		g.purge(z)
	case chToken:
		g.token(m, []string{"token_create", "token_create", "token_roll", "token_delete"}[r.IntN(4)], tokenNames[r.IntN(len(tokenNames))])
	case chMember:
		g.memberChange(m)
	case chTFA:
		g.tfaChange(m, !m.tfa)
	case chLogpush:
		g.logpushJob(z)
	}
}

var tokenNames = []string{"terraform-ci", "cert-manager", "github-actions-deploy", "flarehose-logpush", "grafana-analytics", "cache-purge-hook"}

func (g *auditGen) login(m *member, ok bool) {
	g.actionType, g.resourceType, g.result, g.iface = "login", "user", ok, "UI"
	g.resourceID = g.store(m.id)
	b := g.begin()
	b = appendKV(b, "auth_method", "password")
	if m.tfa {
		b = appendKV(append(b, ','), "mfa_method", "totp")
	}
	g.meta = g.end(b)
}

var dnsNames = []string{"www", "api", "app", "status", "mail", "shop", "staging", "cdn", "vpn", "_dmarc", "grafana"}

func (g *auditGen) dnsChange(z *zone) {
	r := g.r
	g.actionType = []string{"rec_add", "rec_set", "rec_set", "rec_set", "rec_del"}[r.IntN(5)]
	g.resourceType = "DNS_record"
	g.resourceID = g.hex32()
	// Strings go to the arena before the objects that use them.
	name := g.strs(dnsNames[r.IntN(len(dnsNames))], ".", z.Name)
	var typ string
	var content, old []byte
	switch r.IntN(4) {
	case 0:
		typ, content, old = "CNAME", g.strs(z.Name, ".pages.dev"), g.strs("legacy-lb.", z.Name)
	case 1:
		typ, content, old = "TXT", g.strs("v=spf1 include:_spf.google.com ~all"), g.strs("v=spf1 ~all")
	default:
		typ, content = "A", g.strs(z.origins[r.IntN(len(z.origins))])
		start := len(g.buf)
		g.buf = pickNetwork(r, nkHosting).randomAddr(r, 0).AppendTo(g.buf)
		old = g.buf[start:len(g.buf):len(g.buf)]
	}
	b := g.begin()
	b = appendKV(b, "zone_name", z.Name)
	b = appendKV(append(b, ','), "zone_id", z.ID)
	b = appendKV(append(b, ','), "type", typ)
	b = appendKV(append(b, ','), "name", name)
	g.meta = g.end(b)
	rec := func(content []byte) []byte {
		b := g.begin()
		b = appendKV(b, "content", content)
		b = appendKV(append(b, ','), "name", name)
		b = append(b, `,"proxied":`...)
		b = appendBool(b, typ != "TXT")
		b = append(b, `,"ttl":1`...)
		b = appendKV(append(b, ','), "type", typ)
		return g.end(b)
	}
	switch g.actionType {
	case "rec_add":
		g.nv = rec(content)
	case "rec_set":
		g.ov, g.nv = rec(old), rec(content)
	case "rec_del":
		g.ov = rec(old)
	}
}

var zoneSettings = []struct{ name, typ, from, to string }{
	{"security_level", "firewall", "medium", "high"},
	{"security_level", "firewall", "high", "under_attack"},
	{"security_level", "firewall", "under_attack", "medium"},
	{"ssl", "ssl", "full", "strict"},
	{"min_tls_version", "ssl", "1.0", "1.2"},
	{"always_use_https", "ssl", "off", "on"},
	{"development_mode", "cache", "off", "on"},
	{"development_mode", "cache", "on", "off"},
	{"cache_level", "cache", "basic", "aggressive"},
	{"browser_check", "firewall", "off", "on"},
}

func (g *auditGen) zoneSetting(z *zone) {
	s := zoneSettings[g.r.IntN(len(zoneSettings))]
	g.actionType, g.resourceType, g.resourceID = "change_setting", "zone", g.store(z.ID)
	b := g.begin()
	b = appendKV(b, "name", s.name)
	b = appendKV(append(b, ','), "type", s.typ)
	b = appendKV(append(b, ','), "value", s.to)
	b = appendKV(append(b, ','), "zone_name", z.Name)
	g.meta = g.end(b)
	g.ov = g.end(appendKV(g.begin(), "value", s.from))
	g.nv = g.end(appendKV(g.begin(), "value", s.to))
}

// ruleAction is a rule's action as the rulesets API writes it.
var ruleAction = map[action]string{actBlock: "block", actManagedChallenge: "managed_challenge", actChallenge: "challenge", actJSChallenge: "js_challenge", actLog: "log", actSkip: "skip"}

// rulesetChange edits one of the zone's custom or rate limiting rules (the
// same rules, IDs and descriptions firewall_events shows).
func (g *auditGen) rulesetChange(z *zone) {
	r := g.r
	ru := z.rules.all[r.IntN(len(z.rules.all))]
	g.actionType = []string{"update", "update", "create", "delete"}[r.IntN(4)]
	g.resourceType, g.resourceID = "ruleset", g.store(ru.rulesetID)
	b := g.begin()
	b = appendKV(b, "zone_name", z.Name)
	b = appendKV(append(b, ','), "phase", ru.phase)
	b = appendKV(append(b, ','), "rule_id", ru.id)
	g.meta = g.end(b)
	rule := func(enabled bool) []byte {
		b := g.begin()
		b = appendKV(b, "action", ruleAction[ru.action])
		b = appendKV(append(b, ','), "description", ru.desc)
		b = append(b, `,"enabled":`...)
		b = appendBool(b, enabled)
		b = appendKV(append(b, ','), "expression", ru.expr)
		b = appendKV(append(b, ','), "ref", ru.ref)
		return g.end(b)
	}
	switch g.actionType {
	case "create":
		g.nv = rule(true)
	case "update":
		on := r.IntN(3) > 0
		g.ov, g.nv = rule(!on), rule(on)
	case "delete":
		g.ov = rule(true)
	}
}

func (g *auditGen) purge(z *zone) {
	r := g.r
	g.actionType, g.resourceType, g.resourceID = "purge", "zone", g.store(z.ID)
	b := g.begin()
	b = appendKV(b, "zone_name", z.Name)
	if r.IntN(3) == 0 {
		b = append(b, `,"purge_everything":true`...)
	} else {
		b = append(b, `,"files":[`...)
		for i := range 1 + r.IntN(3) {
			if i > 0 {
				b = append(b, ',')
			}
			e := pickEndpoint(r, z.pages)
			b = append(b, `"https://`...)
			b = append(b, z.hosts[e.host]...)
			b = z.fillTemplate(b, r, e)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	g.meta = g.end(b)
}

func (g *auditGen) token(m *member, action, name string) {
	g.actionType, g.resourceType = action, "account"
	g.resourceID = g.hex32()
	b := g.begin()
	b = appendKV(b, "token_name", name)
	b = appendKV(append(b, ','), "token_tag", g.resourceID)
	g.meta = g.end(b)
	tok := func(status string) []byte {
		b := g.begin()
		b = appendKV(b, "name", name)
		b = appendKV(append(b, ','), "status", status)
		b = append(b, `,"policies":["Zone Read","DNS Write","Cache Purge"]`...)
		return g.end(b)
	}
	switch action {
	case "token_create":
		g.nv = tok("active")
	case "token_roll":
		g.ov, g.nv = tok("active"), tok("active")
	case "token_delete":
		g.ov = tok("active")
	}
}

var newcomers = []string{"chris.lee@northwind-traders.com", "ana.ribeiro@agency-studio.io", "omar.haddad@northwind-traders.com", "support@managed-sec.example"}

var newcomerIDs = func() map[string]string {
	ids := map[string]string{}
	for _, who := range newcomers {
		ids[who] = stableHex("member:"+who, 32)
	}
	return ids
}()

var roles = []string{"Administrator Read Only", "Analytics", "DNS", "Firewall", "Cache Purge", "Administrator", "Billing"}

func (g *auditGen) memberChange(m *member) {
	r := g.r
	who := newcomers[r.IntN(len(newcomers))]
	g.resourceType, g.resourceID = "member", g.store(newcomerIDs[who])
	from, to := roles[r.IntN(len(roles))], roles[r.IntN(len(roles))]
	g.actionType = []string{"add", "delete", "update", "update"}[r.IntN(4)]
	g.meta = g.end(appendKV(g.begin(), "email", who))
	rolesObj := func(role string) []byte {
		b := append(g.begin(), `"roles":[`...)
		b = appendString(b, role)
		return g.end(append(b, ']'))
	}
	switch g.actionType {
	case "add":
		b := appendKV(g.begin(), "email", who)
		b = appendKV(append(b, ','), "status", "pending")
		b = append(b, `,"roles":[`...)
		b = appendString(b, to)
		g.nv = g.end(append(b, ']'))
	case "delete":
		g.ov = rolesObj(from)
	case "update":
		g.ov, g.nv = rolesObj(from), rolesObj(to)
	}
}

func (g *auditGen) tfaChange(m *member, enable bool) {
	g.actionType, g.resourceType = "tfa_disable", "user"
	if enable {
		g.actionType = "tfa_enable"
	}
	m.tfa = enable
	g.resourceID = g.store(m.id)
	g.meta = g.end(appendKV(g.begin(), "method", "totp"))
	state := func(on bool) []byte {
		return g.end(appendBool(append(g.begin(), `"two_factor_authentication_enabled":`...), on))
	}
	g.ov, g.nv = state(!enable), state(enable)
}

var logpushDatasets = []string{"http_requests", "firewall_events", "audit_logs"}

func (g *auditGen) logpushJob(z *zone) {
	r := g.r
	ds := logpushDatasets[r.IntN(len(logpushDatasets))]
	g.actionType = []string{"create", "update", "update", "delete"}[r.IntN(4)]
	g.resourceType = "logpush_job"
	start := len(g.buf)
	g.buf = appendInt(g.buf, 800000+r.IntN(99999))
	g.resourceID = g.buf[start:len(g.buf):len(g.buf)]
	b := appendKV(g.begin(), "dataset", ds)
	if ds != "audit_logs" {
		b = appendKV(append(b, ','), "zone_name", z.Name)
	}
	g.meta = g.end(b)
	job := func(enabled bool) []byte {
		b := appendKV(g.begin(), "dataset", ds)
		b = append(b, `,"destination_conf":"https://logs.northwind-traders.com/cloudflare/`...)
		b = append(b, ds...)
		b = append(b, `?header_X-Flarehose-Secret=REDACTED"`...)
		b = append(b, `,"enabled":`...)
		b = appendBool(b, enabled)
		b = append(b, `,"max_upload_records":100000`...)
		return g.end(b)
	}
	switch g.actionType {
	case "create":
		g.nv = job(true)
	case "update":
		on := r.IntN(2) == 0
		g.ov, g.nv = job(!on), job(on)
	case "delete":
		g.ov = job(true)
	}
}

func (g *auditGen) cloudflareAction(z *zone) {
	g.actor, g.actorType, g.iface, g.actorIP = nil, "Cloudflare", "", netip.Addr{}
	g.actionType, g.resourceType = "update", "certificate_pack"
	g.resourceID = g.hex32()
	b := appendKV(g.begin(), "zone_name", z.Name)
	b = appendKV(append(b, ','), "issuer", []string{"Let's Encrypt", "Google Trust Services"}[g.r.IntN(2)])
	b = append(b, `,"validity_days":90`...)
	g.meta = g.end(b)
	g.ov = g.end(appendKV(g.begin(), "status", "pending_renewal"))
	g.nv = g.end(appendKV(g.begin(), "status", "active"))
}

// startTakeover queues an account takeover attempt against one member:
// failed logins from a Tor or hosting IP, sometimes a successful login with
// a new API token and member, then the victim turns on 2FA and deletes the
// token.
func (g *auditGen) startTakeover() {
	r := g.r
	g.takeoverVictm = g.pickMember(chLogin)
	g.takeoverNet = networkByKey["tor"]
	if r.IntN(2) == 0 {
		g.takeoverNet = pickNetwork(r, nkHosting)
	}
	g.takeoverIP = g.takeoverNet.randomAddr(r, 0)
	g.script = g.script[:0]
	for range 4 + r.IntN(10) {
		g.script = append(g.script, seFailedLogin)
	}
	if r.IntN(3) == 0 {
		g.script = append(g.script, seAttackerLogin, seAttackerToken)
		if r.IntN(2) == 0 {
			g.script = append(g.script, seAttackerMember)
		}
		g.script = append(g.script, seVictimTFA, seVictimTokenDelete)
	}
}

func (g *auditGen) scripted(step scriptedEvent) {
	v := g.takeoverVictm
	g.actor, g.actorIP = v, g.takeoverIP
	switch step {
	case seFailedLogin:
		g.login(v, false)
	case seAttackerLogin:
		g.login(v, true)
	case seAttackerToken:
		g.iface = "UI"
		g.token(v, "token_create", "backup-sync")
	case seAttackerMember:
		g.actionType, g.resourceType = "add", "member"
		who := g.strs("it-support-", string(appendHex(nil, g.id1, 2)), "@proton.me")
		g.resourceID = g.hex32()
		g.meta = g.end(appendKV(g.begin(), "email", who))
		b := appendKV(g.begin(), "email", who)
		b = appendKV(append(b, ','), "status", "pending")
		g.nv = g.end(append(b, `,"roles":["Super Administrator - All Privileges"]`...))
	case seVictimTFA:
		g.actorIP = v.homeIP
		g.tfaChange(v, true)
	case seVictimTokenDelete:
		g.actorIP = v.homeIP
		g.token(v, "token_delete", "backup-sync")
	}
}

// JSON building in the event arena.

func (g *auditGen) begin() []byte { return append(g.buf, '{') }

// end closes an object begun with begin (nothing else may use the arena in
// between) and returns it.
func (g *auditGen) end(b []byte) []byte {
	start := len(g.buf)
	g.buf = append(b, '}')
	return g.buf[start:len(g.buf):len(g.buf)]
}

func (g *auditGen) store(s string) []byte { return g.strs(s) }

// strs stores the concatenation of parts in the arena.
func (g *auditGen) strs(parts ...string) []byte {
	start := len(g.buf)
	for _, p := range parts {
		g.buf = append(g.buf, p...)
	}
	return g.buf[start:len(g.buf):len(g.buf)]
}

func (g *auditGen) hex32() []byte {
	start := len(g.buf)
	g.buf = appendHex(appendHex(g.buf, g.r.Uint64(), 8), g.r.Uint64(), 8)
	return g.buf[start:len(g.buf):len(g.buf)]
}

func appendKV[S ~string | ~[]byte](b []byte, k string, v S) []byte {
	b = appendString(b, k)
	b = append(b, ':')
	return appendString(b, v)
}

var auditColumns = []column[auditGen]{
	colBool("ActionResult", func(g *auditGen) bool { return g.result }),
	colStr("ActionType", func(g *auditGen) string { return g.actionType }),
	colStr("ActorEmail", func(g *auditGen) string {
		if g.actor == nil {
			return ""
		}
		return g.actor.email
	}),
	colStr("ActorID", func(g *auditGen) string {
		if g.actor == nil {
			return ""
		}
		return g.actor.id
	}),
	{"ActorIP", TypeString, func(b []byte, g *auditGen, _ *Format) []byte {
		b = append(b, '"')
		if g.actorIP.IsValid() {
			b = g.actorIP.AppendTo(b)
		}
		return append(b, '"')
	}},
	colStr("ActorType", func(g *auditGen) string { return g.actorType }),
	{"ID", TypeString, func(b []byte, g *auditGen, _ *Format) []byte {
		return append(appendUUID(append(b, '"'), g.id1, g.id2), '"')
	}},
	colStr("Interface", func(g *auditGen) string { return g.iface }),
	colObject("Metadata", func(g *auditGen) []byte { return g.meta }),
	colObject("NewValue", func(g *auditGen) []byte { return g.nv }),
	colObject("OldValue", func(g *auditGen) []byte { return g.ov }),
	colStr("OwnerID", func(g *auditGen) string {
		if g.actor == nil {
			return g.account
		}
		return g.actor.id
	}),
	colBytes("ResourceID", func(g *auditGen) []byte { return g.resourceID }),
	colStr("ResourceType", func(g *auditGen) string { return g.resourceType }),
	colTime("When", func(g *auditGen) time.Time { return g.t }),
}
