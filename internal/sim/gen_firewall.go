package sim

import (
	"bytes"
	"time"
)

// fwGen renders the rule matches of the traffic model as firewall_events:
// one event per matched rule, in evaluation order, with MatchIndex counting
// down to 0 at the last match.
type fwGen struct {
	tr *traffic
	r  *request
	i  int // the next match of r to emit
	m  match
	mi int // MatchIndex of m
	t  time.Time

	stepped bool      // r came from Step: its events carry stepT
	stepT   time.Time // the timestamp Step gave r

	refScheme, refHost, refPath, refQuery []byte
}

var fwDataset = register("firewall_events", ScopeZone, fieldsOf(fwColumns), func(cfg Config) (Generator, error) {
	tr, err := newTraffic(cfg)
	if err != nil {
		return nil, err
	}
	return &fwGen{tr: tr}, nil
})

func (g *fwGen) Dataset() string { return "firewall_events" }
func (g *fwGen) Fields() []Field { return fieldsOf(fwColumns) }

func (g *fwGen) Append(dst []byte, t time.Time, f *Format) []byte {
	f = formatFor(fwDataset, f)
	if g.stepped && g.i < len(g.r.matches) {
		t = g.stepT
	} else {
		g.stepped = false
		for g.r == nil || g.i >= len(g.r.matches) {
			g.advance()
		}
	}
	g.m, g.mi = g.r.matches[g.i], len(g.r.matches)-1-g.i
	g.i++
	g.t = t
	return renderRecord(dst, fwColumns, g, f)
}

// Step implements Stepper: one request of the traffic, stamped t.
func (g *fwGen) Step(t time.Time) int {
	g.advance()
	g.stepped, g.stepT = true, t
	return len(g.r.matches)
}

func (g *fwGen) advance() {
	g.r, g.i = g.tr.next(), 0
	if len(g.r.matches) > 0 {
		g.refScheme, g.refHost, g.refPath, g.refQuery = splitReferer(g.r.referer)
	}
}

// splitReferer splits "scheme://host/path?query" (query keeps its '?').
func splitReferer(u []byte) (scheme, host, path, query []byte) {
	if i := bytes.Index(u, []byte("://")); i >= 0 {
		scheme, u = u[:i], u[i+3:]
	}
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		u, query = u[:i], u[i:]
	}
	if i := bytes.IndexByte(u, '/'); i >= 0 {
		host, path = u[:i], u[i:]
	} else {
		host = u
	}
	return
}

var fwColumns = []column[fwGen]{
	colObject("AISecurityCustomTopicCategories", func(g *fwGen) []byte { return emptyObject }),
	colInt("AISecurityInjectionScore", func(g *fwGen) int { return 0 }),
	colStrs("AISecurityPIICategories", func(g *fwGen) []string { return noStrings }),
	colInt("AISecurityTokenCount", func(g *fwGen) int { return 0 }),
	colStrs("AISecurityUnsafeTopicCategories", func(g *fwGen) []string { return noStrings }),
	colStr("Action", func(g *fwGen) string { return actionFW[g.m.act] }),
	colInt("ClientASN", func(g *fwGen) int { return g.r.net.asn }),
	colStr("ClientASNDescription", func(g *fwGen) string { return g.r.net.asName }),
	colStr("ClientCountry", func(g *fwGen) string { return g.r.net.country }),
	{"ClientIP", TypeString, func(b []byte, g *fwGen, _ *Format) []byte {
		return append(g.r.ip.AppendTo(append(b, '"')), '"')
	}},
	colStr("ClientIPClass", func(g *fwGen) string { return g.r.ipClass }),
	colBytes("ClientRefererHost", func(g *fwGen) []byte { return g.refHost }),
	colBytes("ClientRefererPath", func(g *fwGen) []byte { return g.refPath }),
	colBytes("ClientRefererQuery", func(g *fwGen) []byte { return g.refQuery }),
	colBytes("ClientRefererScheme", func(g *fwGen) []byte { return g.refScheme }),
	colStr("ClientRequestHost", func(g *fwGen) string { return g.r.host }),
	colStr("ClientRequestMethod", func(g *fwGen) string { return g.r.method }),
	colBytes("ClientRequestPath", func(g *fwGen) []byte { return g.r.path }),
	colStr("ClientRequestProtocol", func(g *fwGen) string { return g.r.proto }),
	colBytes("ClientRequestQuery", func(g *fwGen) []byte { return g.r.query }),
	colStr("ClientRequestScheme", func(g *fwGen) string { return g.r.scheme }),
	colBytes("ClientRequestUserAgent", func(g *fwGen) []byte { return g.r.ua }),
	colStrs("ContentScanObjResults", func(g *fwGen) []string { return noStrings }),
	colInts("ContentScanObjSizes", func(g *fwGen) []int { return noInts }),
	colStrs("ContentScanObjTypes", func(g *fwGen) []string { return noStrings }),
	colTime("Datetime", func(g *fwGen) time.Time { return g.t }),
	colStr("Description", func(g *fwGen) string { return g.m.rule.desc }),
	colStr("EdgeColoCode", func(g *fwGen) string { return g.r.colo.code }),
	colInt("EdgeResponseStatus", func(g *fwGen) int { return g.r.status }),
	colInt("FirewallForAIInjectionScore", func(g *fwGen) int { return 0 }),
	colStrs("FirewallForAIPIICategories", func(g *fwGen) []string { return noStrings }),
	colInt("FirewallForAITokenCount", func(g *fwGen) int { return 0 }),
	colStrs("FirewallForAIUnsafeTopicCategories", func(g *fwGen) []string { return noStrings }),
	colStr("FraudUserID", func(g *fwGen) string { return "" }),
	colStr("Kind", func(g *fwGen) string { return "firewall" }),
	colStr("LeakedCredentialCheckResult", func(g *fwGen) string { return g.r.leaked }),
	colInt("MatchIndex", func(g *fwGen) int { return g.mi }),
	{"Metadata", TypeObject, func(b []byte, g *fwGen, _ *Format) []byte { return append(b, g.m.rule.meta...) }},
	colInt("OriginResponseStatus", func(g *fwGen) int { return g.r.originStatus }),
	{"OriginatorRayID", TypeString, func(b []byte, g *fwGen, _ *Format) []byte {
		return append(rayHex(append(b, '"'), g.m.originator), '"')
	}},
	{"RayID", TypeString, func(b []byte, g *fwGen, _ *Format) []byte {
		return append(appendHex(append(b, '"'), g.r.rayID, 8), '"')
	}},
	colStr("Ref", func(g *fwGen) string { return g.m.rule.ref }),
	colStr("RuleID", func(g *fwGen) string { return g.m.rule.id }),
	colStr("Source", func(g *fwGen) string { return g.m.rule.source }),
}
