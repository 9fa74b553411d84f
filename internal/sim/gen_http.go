package sim

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// httpGen renders the traffic model's requests as http_requests records.
type httpGen struct {
	tr *traffic
	d  *rand.Rand // details only this dataset shows
	r  *request
	t  time.Time

	end                                   time.Time
	reqBytes, srcPort, rtt, ttfb          int
	body, respBytes, cacheBytes           int
	ratio                                 float64
	dnsMs, sendMs, recvMs, tcpMs, tlsMs   int
	originMs                              int
	tiered, reserve                       bool
	upperTier, smartRoute                 int
	edgeIP, originIP, edgeReqHost         []byte
	originTLS                             string
	lastMod, expires                      []byte
	workerCPU, workerWall                 int
	secActions, secIDs, secSources, label []string
	buf                                   []byte // arena for the strings above
}

var httpDataset = register("http_requests", ScopeZone, fieldsOf(httpColumns), func(cfg Config) (Generator, error) {
	tr, err := newTraffic(cfg)
	if err != nil {
		return nil, err
	}
	return &httpGen{tr: tr, d: newRand(cfg.Seed, 2)}, nil
})

func (g *httpGen) Dataset() string { return "http_requests" }
func (g *httpGen) Fields() []Field { return fieldsOf(httpColumns) }

func (g *httpGen) Append(dst []byte, t time.Time, f *Format) []byte {
	f = formatFor(httpDataset, f)
	g.r, g.t = g.tr.next(), t
	g.details()
	return renderRecord(dst, httpColumns, g, f)
}

// details draws sizes, timings and origin facts for the current request.
func (g *httpGen) details() {
	r, d := g.r, g.d
	g.buf = g.buf[:0]
	g.edgeIP, g.originIP, g.edgeReqHost, g.lastMod, g.expires = nil, nil, nil, nil, nil

	// Network round trip: QUIC requests have no TCP RTT.
	switch r.net.kind {
	case nkMobile:
		g.rtt = 25 + d.IntN(120)
	case nkResidential, nkWARP, nkTor:
		g.rtt = 6 + d.IntN(40)
	default:
		g.rtt = 1 + d.IntN(15)
	}
	if r.colo.code != r.net.colos[0] {
		g.rtt += 15 + d.IntN(40)
	}
	if r.proto == "HTTP/3" || r.sub {
		g.rtt = 0
	}
	g.srcPort = 32768 + d.IntN(32767)
	if r.sub {
		g.srcPort = 0
	}
	hdr := 180 + len(r.ua) + len(r.referer) + len(r.path) + len(r.query) + d.IntN(700)
	if r.proto != "HTTP/1.1" {
		hdr = hdr * 2 / 5 // HPACK/QPACK
	}
	g.reqBytes = hdr
	switch r.method {
	case "POST", "PUT", "PATCH":
		g.reqBytes += 120 + d.IntN(3000)
	}

	// Response body on the wire.
	g.body, g.ratio = r.size, 0
	switch {
	case r.status == 304 || r.status == 204 || r.method == "HEAD" || r.method == "OPTIONS":
		g.body = 0
	case r.status >= 300 && r.status < 400:
		g.body = d.IntN(170)
	case r.compress && r.size > 1000:
		g.ratio = 2.2 + d.Float64()*4.5
		g.body = int(float64(r.size) / g.ratio)
	}
	g.respBytes = g.body + 240 + d.IntN(700)
	g.cacheBytes = 0
	if r.cacheStatus != "unknown" && r.cacheStatus != "" {
		g.cacheBytes = g.respBytes
	}

	// Origin.
	g.dnsMs, g.sendMs, g.recvMs, g.tcpMs, g.tlsMs, g.originMs = 0, 0, 0, 0, 0, 0
	g.tiered, g.reserve, g.upperTier, g.smartRoute, g.originTLS = false, false, 0, 0, "unknown"
	if r.originTried {
		if d.IntN(12) == 0 {
			g.dnsMs = 1 + d.IntN(40)
		}
		if d.IntN(5) == 0 {
			g.tcpMs = 2 + d.IntN(50)
			g.tlsMs = g.tcpMs + 3 + d.IntN(40)
		}
		if d.IntN(20) == 0 {
			g.sendMs = 1
		}
		switch r.class {
		case epAsset, epRobots:
			g.recvMs = 3 + d.IntN(90)
		case epAPI, epHealth:
			g.recvMs = 8 + d.IntN(250)
		case epLogin:
			g.recvMs = 120 + d.IntN(700)
		default:
			g.recvMs = 30 + d.IntN(400)
			if d.IntN(20) == 0 {
				g.recvMs += 500 + d.IntN(2500)
			}
		}
		switch r.status {
		case 504:
			g.recvMs = 30000 + d.IntN(60000)
		case 524:
			g.recvMs = 100000 + d.IntN(1000)
		case 522:
			g.tcpMs, g.tlsMs, g.recvMs = 15000+d.IntN(4000), 0, 0
		}
		g.originMs = g.dnsMs + g.tcpMs + g.tlsMs + g.sendMs + g.recvMs + d.IntN(1+g.body/20000)
		start := len(g.buf)
		g.buf = r.colo.edgeIP(d).AppendTo(g.buf)
		g.edgeIP = g.buf[start:len(g.buf):len(g.buf)]
		g.originIP = g.store(r.z.originIP(d, r.role))
		host := r.z.originHost[r.role]
		if host == "" {
			host = r.host
		}
		g.edgeReqHost = g.store(host)
		g.originTLS = "TLSv1.3"
		if r.z.kind == siteBlog {
			g.originTLS = "TLSv1.2"
		}
		if r.cache == cacheStatic || r.cache == cacheEdgeHTML {
			if d.IntN(10) < 7 {
				g.tiered, g.upperTier = true, colos["IAD"].id
				if r.z.kind == siteNews {
					g.upperTier = colos["ORD"].id
				}
			}
			g.reserve = r.z.kind == siteNews && r.ctype != ctHTML && d.IntN(8) == 0
		}
		if r.z.kind == siteSaaS && r.colo.code != "ORD" {
			g.smartRoute = colos["ORD"].id // Argo towards the origin in us-central
		}
		if r.cache == cacheStatic && r.originStatus == 200 {
			lm := g.t.Add(-time.Duration(1+d.IntN(400)) * 24 * time.Hour).UTC()
			g.lastMod = g.storeTime(lm)
			g.expires = g.storeTime(g.t.Add(365 * 24 * time.Hour).UTC())
		}
	}

	// Edge timings.
	switch {
	case r.term >= 0 || r.redirect:
		g.ttfb = d.IntN(3)
	case r.originTried:
		g.ttfb = g.originMs + 1 + d.IntN(12)
	case r.workerRun:
		g.ttfb = 0 // set below from the Worker's wall time
	default:
		g.ttfb = 1 + d.IntN(25)
	}
	g.workerCPU, g.workerWall = 0, 0
	if r.workerRun {
		g.workerCPU = 300 + d.IntN(7000)
		g.workerWall = g.workerCPU + 20000 + d.IntN(400000)
		g.ttfb = g.workerWall/1000 + 1
	}
	transfer := 0
	if g.body > 0 {
		transfer = d.IntN(1 + g.body/40000 + g.rtt)
	}
	g.end = g.t.Add(time.Duration(g.ttfb+transfer)*time.Millisecond + time.Duration(d.IntN(1000))*time.Microsecond)

	g.secActions, g.secIDs, g.secSources = r.securityLists(g.secActions[:0], g.secIDs[:0], g.secSources[:0])
	g.label = g.label[:0]
	if r.label != "" {
		g.label = append(g.label, r.label)
	}
}

func (g *httpGen) store(s string) []byte {
	start := len(g.buf)
	g.buf = append(g.buf, s...)
	return g.buf[start:len(g.buf):len(g.buf)]
}

func (g *httpGen) storeTime(t time.Time) []byte {
	start := len(g.buf)
	g.buf = t.AppendFormat(g.buf, http.TimeFormat)
	return g.buf[start:len(g.buf):len(g.buf)]
}

func (g *httpGen) tlsOff() bool { return g.r.scheme == "http" || g.r.sub }

// pathing returns EdgePathingOp, EdgePathingSrc, EdgePathingStatus.
func (g *httpGen) pathing() (op, src, status string) {
	r := g.r
	if r.term >= 0 {
		m := r.matches[r.term]
		op = "ban"
		if m.act != actBlock {
			op = "chl"
		}
		switch m.rule.source {
		case "ratelimit":
			return op, "rateLimit", "unknown"
		case "securitylevel":
			return op, "macro", "unknown"
		case "bic":
			return op, "bic", "unknown"
		}
		return op, "filterBasedFirewall", "unknown"
	}
	return "wl", "macro", "nr"
}

func rayHex(b []byte, ray uint64) []byte {
	if ray == 0 {
		return append(b, "00"...)
	}
	return appendHex(b, ray, 8)
}

var httpColumns = []column[httpGen]{
	colInts("BotDetectionIDs", func(g *httpGen) []int {
		if g.r.detIDs == nil {
			return noInts
		}
		return g.r.detIDs
	}),
	colStrs("BotDetectionTags", func(g *httpGen) []string { return noStrings }),
	colInt("BotScore", func(g *httpGen) int {
		if g.notComputed() {
			return 0
		}
		return g.r.botScore
	}),
	colStr("BotScoreSrc", func(g *httpGen) string {
		if g.notComputed() {
			return srcNone
		}
		return g.r.botSrc
	}),
	colStrs("BotTags", func(g *httpGen) []string {
		if g.r.botTags == nil {
			return noStrings
		}
		return g.r.botTags
	}),
	colStr("CacheCacheStatus", func(g *httpGen) string { return g.r.cacheStatus }),
	colBool("CacheReserveUsed", func(g *httpGen) bool { return g.reserve }),
	colInt("CacheResponseBytes", func(g *httpGen) int { return g.cacheBytes }),
	colInt("CacheResponseStatus", func(g *httpGen) int {
		if g.cacheBytes == 0 {
			return 0
		}
		return g.r.status
	}),
	colBool("CacheTieredFill", func(g *httpGen) bool { return g.tiered }),
	colInt("ClientASN", func(g *httpGen) int { return g.r.net.asn }),
	colStr("ClientCity", func(g *httpGen) string { return g.r.net.city }),
	colStr("ClientCountry", func(g *httpGen) string { return g.r.net.country }),
	colStr("ClientDeviceType", func(g *httpGen) string { return g.r.ag.device }),
	{"ClientIP", TypeString, func(b []byte, g *httpGen, _ *Format) []byte {
		b = append(b, '"')
		return append(g.r.ip.AppendTo(b), '"')
	}},
	colStr("ClientIPClass", func(g *httpGen) string { return g.r.ipClass }),
	colStr("ClientLatitude", func(g *httpGen) string { return g.r.net.lat }),
	colStr("ClientLongitude", func(g *httpGen) string { return g.r.net.lon }),
	colStr("ClientMTLSAuthCertFingerprint", func(g *httpGen) string { return "" }),
	colStr("ClientMTLSAuthStatus", func(g *httpGen) string { return "unknown" }),
	colStr("ClientRegionCode", func(g *httpGen) string { return g.r.net.region }),
	colInt("ClientRequestBytes", func(g *httpGen) int { return g.reqBytes }),
	colStr("ClientRequestHost", func(g *httpGen) string { return g.r.host }),
	colStr("ClientRequestMethod", func(g *httpGen) string { return g.r.method }),
	colBytes("ClientRequestPath", func(g *httpGen) []byte { return g.r.path }),
	colStr("ClientRequestProtocol", func(g *httpGen) string { return g.r.proto }),
	colBytes("ClientRequestReferer", func(g *httpGen) []byte { return g.r.referer }),
	colStr("ClientRequestScheme", func(g *httpGen) string { return g.r.scheme }),
	colStr("ClientRequestSource", func(g *httpGen) string {
		if g.r.sub {
			return "edgeWorkerFetch"
		}
		return "eyeball"
	}),
	{"ClientRequestURI", TypeString, func(b []byte, g *httpGen, _ *Format) []byte {
		b = appendEscaped(append(b, '"'), g.r.path)
		return append(appendEscaped(b, g.r.query), '"')
	}},
	colBytes("ClientRequestUserAgent", func(g *httpGen) []byte { return g.r.ua }),
	colStr("ClientSSLCipher", func(g *httpGen) string {
		if g.tlsOff() {
			return "NONE"
		}
		return g.r.tls.cipher
	}),
	colStr("ClientSSLProtocol", func(g *httpGen) string {
		if g.tlsOff() {
			return "none"
		}
		return g.r.tls.tls
	}),
	colInt("ClientSrcPort", func(g *httpGen) int { return g.srcPort }),
	colInt("ClientTCPRTTMs", func(g *httpGen) int { return g.rtt }),
	colStr("ClientXRequestedWith", func(g *httpGen) string {
		if g.r.xrw {
			return "XMLHttpRequest"
		}
		return ""
	}),
	colStrs("ContentScanObjResults", func(g *httpGen) []string { return noStrings }),
	colInts("ContentScanObjSizes", func(g *httpGen) []int { return noInts }),
	colStrs("ContentScanObjTypes", func(g *httpGen) []string { return noStrings }),
	colObject("Cookies", func(g *httpGen) []byte { return emptyObject }),
	colBool("EdgeCFConnectingO2O", func(g *httpGen) bool { return false }),
	colStr("EdgeColoCode", func(g *httpGen) string { return g.r.colo.code }),
	colInt("EdgeColoID", func(g *httpGen) int { return g.r.colo.id }),
	colTime("EdgeEndTimestamp", func(g *httpGen) time.Time { return g.end }),
	colStr("EdgePathingOp", func(g *httpGen) string { op, _, _ := g.pathing(); return op }),
	colStr("EdgePathingSrc", func(g *httpGen) string { _, src, _ := g.pathing(); return src }),
	colStr("EdgePathingStatus", func(g *httpGen) string { _, _, st := g.pathing(); return st }),
	colBytes("EdgeRequestHost", func(g *httpGen) []byte { return g.edgeReqHost }),
	colInt("EdgeResponseBodyBytes", func(g *httpGen) int { return g.body }),
	colInt("EdgeResponseBytes", func(g *httpGen) int { return g.respBytes }),
	colFloat("EdgeResponseCompressionRatio", func(g *httpGen) float64 { return g.ratio }),
	colStr("EdgeResponseContentType", func(g *httpGen) string { return g.r.ctype }),
	colInt("EdgeResponseStatus", func(g *httpGen) int { return g.r.status }),
	colBytes("EdgeServerIP", func(g *httpGen) []byte { return g.edgeIP }),
	colTime("EdgeStartTimestamp", func(g *httpGen) time.Time { return g.t }),
	colInt("EdgeTimeToFirstByteMs", func(g *httpGen) int { return g.ttfb }),
	colStr("FraudAttack", func(g *httpGen) string { return "" }),
	colInts("FraudDetectionIDs", func(g *httpGen) []int { return noInts }),
	colStrs("FraudDetectionTags", func(g *httpGen) []string { return noStrings }),
	colStr("FraudEmailRisk", func(g *httpGen) string { return "" }),
	colStr("FraudUserID", func(g *httpGen) string { return "" }),
	colStr("JA3Hash", func(g *httpGen) string {
		if g.tlsOff() {
			return ""
		}
		return g.r.ja3
	}),
	colStr("JA4", func(g *httpGen) string {
		if g.tlsOff() {
			return ""
		}
		return g.r.tls.ja4
	}),
	{"JA4Signals", TypeObject, func(b []byte, g *httpGen, _ *Format) []byte {
		if g.tlsOff() {
			return append(b, emptyObject...)
		}
		return append(b, g.r.tls.signals...)
	}},
	colStr("JSDetectionPassed", func(g *httpGen) string {
		if g.r.js == "passed" && g.r.v != nil && g.r.v.seen <= 1 {
			return "missing" // no page has run the detection script yet
		}
		return g.r.js
	}),
	colStr("LeakedCredentialCheckResult", func(g *httpGen) string { return g.r.leaked }),
	colInt("OriginDNSResponseTimeMs", func(g *httpGen) int { return g.dnsMs }),
	colBytes("OriginIP", func(g *httpGen) []byte { return g.originIP }),
	colInt("OriginRequestHeaderSendDurationMs", func(g *httpGen) int { return g.sendMs }),
	colInt("OriginResponseBytes", func(g *httpGen) int { return 0 }),
	colInt("OriginResponseDurationMs", func(g *httpGen) int { return g.originMs }),
	colBytes("OriginResponseHTTPExpires", func(g *httpGen) []byte { return g.expires }),
	colBytes("OriginResponseHTTPLastModified", func(g *httpGen) []byte { return g.lastMod }),
	colInt("OriginResponseHeaderReceiveDurationMs", func(g *httpGen) int { return g.recvMs }),
	colInt("OriginResponseStatus", func(g *httpGen) int { return g.r.originStatus }),
	colInt("OriginResponseTime", func(g *httpGen) int { return g.originMs * 1000000 }),
	colStr("OriginSSLProtocol", func(g *httpGen) string { return g.originTLS }),
	colInt("OriginTCPHandshakeDurationMs", func(g *httpGen) int { return g.tcpMs }),
	colInt("OriginTLSHandshakeDurationMs", func(g *httpGen) int { return g.tlsMs }),
	{"ParentRayID", TypeString, func(b []byte, g *httpGen, _ *Format) []byte {
		return append(rayHex(append(b, '"'), g.r.parentRay), '"')
	}},
	colStr("PayPerCrawlStatus", func(g *httpGen) string { return "" }),
	{"RayID", TypeString, func(b []byte, g *httpGen, _ *Format) []byte {
		return append(appendHex(append(b, '"'), g.r.rayID, 8), '"')
	}},
	colObject("RequestHeaders", func(g *httpGen) []byte { return emptyObject }),
	colObject("ResponseHeaders", func(g *httpGen) []byte { return emptyObject }),
	colStr("SecurityAction", func(g *httpGen) string {
		if g.r.term < 0 {
			return ""
		}
		return actionSec[g.r.matches[g.r.term].act]
	}),
	colStrs("SecurityActions", func(g *httpGen) []string { return g.secActions }),
	colStr("SecurityRuleDescription", func(g *httpGen) string {
		if g.r.term < 0 {
			return ""
		}
		return g.r.matches[g.r.term].rule.desc
	}),
	colStr("SecurityRuleID", func(g *httpGen) string {
		if g.r.term < 0 {
			return ""
		}
		return g.r.matches[g.r.term].rule.id
	}),
	colStrs("SecurityRuleIDs", func(g *httpGen) []string { return g.secIDs }),
	colStrs("SecuritySources", func(g *httpGen) []string { return g.secSources }),
	colInt("SmartRouteColoID", func(g *httpGen) int { return g.smartRoute }),
	colInt("UpperTierColoID", func(g *httpGen) int { return g.upperTier }),
	colStr("VerifiedBotCategory", func(g *httpGen) string { return g.r.botCat }),
	colInt("WAFAttackScore", func(g *httpGen) int { return g.r.waf() }),
	colStr("WAFFlags", func(g *httpGen) string { return "0" }),
	colStr("WAFMatchedVar", func(g *httpGen) string { return "" }),
	colInt("WAFRCEAttackScore", func(g *httpGen) int { return g.r.wafRCE }),
	colInt("WAFSQLiAttackScore", func(g *httpGen) int { return g.r.wafSQLi }),
	colInt("WAFXSSAttackScore", func(g *httpGen) int { return g.r.wafXSS }),
	colStrs("WebAssetsLabelsManaged", func(g *httpGen) []string { return g.label }),
	colStr("WebAssetsOperationID", func(g *httpGen) string { return g.r.opID }),
	colInt("WorkerCPUTime", func(g *httpGen) int { return g.workerCPU }),
	colStr("WorkerScriptName", func(g *httpGen) string {
		if g.r.workerRun || g.r.sub {
			return g.r.z.worker
		}
		return ""
	}),
	colStr("WorkerStatus", func(g *httpGen) string {
		if g.r.workerRun {
			return "ok"
		}
		return "unknown"
	}),
	colBool("WorkerSubrequest", func(g *httpGen) bool { return g.r.sub }),
	colInt("WorkerSubrequestCount", func(g *httpGen) int {
		if g.r.workerRun {
			return 1
		}
		return 0
	}),
	colInt("WorkerWallTimeUs", func(g *httpGen) int { return g.workerWall }),
	colStr("ZoneName", func(g *httpGen) string { return g.r.z.Name }),
}

// notComputed: Worker subrequests are not scored.
func (g *httpGen) notComputed() bool { return g.r.sub }
