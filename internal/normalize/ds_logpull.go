package normalize

import (
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// logpull: records of the Logpull API (GET /zones/{id}/logs/received,
// PROTOCOL.md §4: the http_requests fields, NDJSON) → cloudflare.logpull.
// Mirrors Elastic's API-based integration, packages/cloudflare/data_stream/
// logpull (default + http pipelines) in the version its pipeline test
// fixtures were made with: custom fields under cloudflare.*, ECS source /
// client / destination / server / observer / url / http / tls, event.category
// "network" (a string in that version).
//
// Elastic's logpull pipeline only maps part of the http_requests fields and
// drops the rest; here every other http_requests field is kept, typed, under
// the name the Logpush mapping (ds_http_requests.go) gives it. Other
// differences, on purpose: Elastic only parses a record that has an
// EdgeRequestHost member and fails on one without ClientSSLProtocol or
// ClientSSLCipher (a null dereference in its conditions); flarehose parses
// every record. url.original keeps ClientRequestURI even when uri_parts
// cannot parse it.

var logpull = &Dataset{
	Name:      "logpull",
	Elastic:   "cloudflare.logpull",
	Namespace: "cloudflare",
	Aliases:   []string{"logpull_http_requests"},
	Catalog:   "http_requests", // Logpull serves the http_requests fields
	Envelope:  true,            // error answers come as API envelopes
	IDFields:  []string{"RayID"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `"network"`},
		{"observer.vendor", `"cloudflare"`},
		{"observer.type", `"proxy"`},
	},
	Fields: []Field{
		// Times (event.duration in deriveLogpull).
		{Src: "EdgeStartTimestamp", ECS: "@timestamp", Copy: "event.start", Type: Timestamp},
		{Src: "EdgeEndTimestamp", ECS: "event.end", Type: Timestamp},

		// TLS: ClientSSLProtocol / ClientSSLCipher only when not "none";
		// tls.version_protocol and tls.version from the protocol.
		{Src: "ClientSSLProtocol", Custom: "client.ssl.protocol"},
		{Src: "ClientSSLCipher", ECS: "tls.cipher"},

		// URL: uri_parts on ClientRequestURI, the others fill what is missing.
		{Src: "ClientRequestURI"},
		{Src: "ClientRequestHost"},
		{Src: "ClientRequestPath"},
		{Src: "ClientRequestScheme"},
		{Src: "ClientRequestQuery"},

		{Src: "ClientRequestUserAgent", ECS: "user_agent.original", Enrich: UserAgent},
		{Src: "EdgeServerIP"}, // observer.ip + observer.geo

		// Bot management (newer Elastic versions).
		{Src: "BotScore", Custom: "bot.score.value", Type: Long},
		{Src: "BotScoreSrc", Custom: "bot.score.src"},

		// Cache: bytes and status_code are left out when 0.
		{Src: "CacheCacheStatus", Custom: "cache.status"},
		{Src: "CacheTieredFill", Custom: "cache.tiered_fill", Type: Bool},
		{Src: "CacheResponseBytes", Custom: "cache.bytes", Type: Long},
		{Src: "CacheResponseStatus", Custom: "cache.status_code", Type: Long},

		// Edge.
		{Src: "EdgeColoCode", Custom: "edge.colo.code"},
		{Src: "EdgeColoID", Custom: "edge.colo.id", Type: Long},
		{Src: "EdgePathingOp", Custom: "edge.pathing.op"},
		{Src: "EdgePathingSrc", Custom: "edge.pathing.src"},
		{Src: "EdgePathingStatus", Custom: "edge.pathing.status"},
		{Src: "EdgeRateLimitAction", Custom: "edge.rate_limit.action"},
		{Src: "EdgeRateLimitID", Custom: "edge.rate_limit.id", Type: Long},
		{Src: "EdgeRequestHost", Custom: "edge.request.host"},
		{Src: "EdgeResponseBytes", Custom: "edge.response.bytes", Type: Long},
		{Src: "EdgeResponseStatus", Custom: "edge.response.status_code", Copy: "http.response.status_code", Type: Long},
		{Src: "EdgeResponseCompressionRatio", Custom: "edge.response.compression_ratio", Type: Double},
		{Src: "EdgeResponseContentType", Custom: "edge.response.content_type"},
		{Src: "EdgeResponseBodyBytes", Custom: "edge.response.body.bytes", Copy: "http.response.body.bytes", Type: Long},

		// Firewall matches: the deprecated FirewallMatches* names Elastic
		// maps, then their Security* successors.
		{Src: "FirewallMatchesActions", Custom: "firewall.actions"},
		{Src: "SecurityActions", Custom: "firewall.actions"},
		{Src: "FirewallMatchesSources", Custom: "firewall.sources"},
		{Src: "SecuritySources", Custom: "firewall.sources"},
		{Src: "FirewallMatchesRuleIDs", Custom: "firewall.rule_ids"},
		{Src: "SecurityRuleIDs", Custom: "firewall.rule_ids"},

		// WAF: the WAF* names Elastic maps, then their Security* successors.
		{Src: "WAFAction", Custom: "waf.action"},
		{Src: "SecurityAction", Custom: "waf.action"},
		{Src: "WAFFlags", Custom: "waf.flags"},
		{Src: "WAFMatchedVar", Custom: "waf.matched_var"},
		{Src: "WAFProfile", Custom: "waf.profile"},
		{Src: "WAFRuleID", Custom: "waf.rule.id"},
		{Src: "SecurityRuleID", Custom: "waf.rule.id"},
		{Src: "WAFRuleMessage", Custom: "waf.rule.message"},
		{Src: "SecurityRuleDescription", Custom: "waf.rule.message"},

		// Workers.
		{Src: "WorkerCPUTime", Custom: "worker.cpu_time", Type: Long},
		{Src: "WorkerStatus", Custom: "worker.status"},
		{Src: "WorkerSubrequest", Custom: "worker.subrequest", Type: Bool},
		{Src: "WorkerSubrequestCount", Custom: "worker.subrequest_count", Type: Long},

		// Origin (the HTTP date headers in deriveLogpull: Elastic ignores
		// values it cannot parse).
		{Src: "OriginResponseBytes", Custom: "origin.response.bytes", Type: Long},
		{Src: "OriginResponseHTTPExpires"},
		{Src: "OriginResponseHTTPLastModified"},
		{Src: "OriginResponseStatus", Custom: "origin.response.status_code", Type: Long},
		{Src: "OriginResponseTime", Custom: "origin.response.time", Type: Long},
		{Src: "OriginSSLProtocol", Custom: "origin.ssl.protocol"},

		{Src: "ParentRayID", Custom: "parent.ray_id"},
		{Src: "RayID", Custom: "ray_id"},
		{Src: "ZoneID", Custom: "zone.id", Type: Long},
		{Src: "ZoneName", Custom: "zone.name"},
		{Src: "SecurityLevel", Custom: "security_level"},
		{Src: "ClientDeviceType", Custom: "device_type"},

		// HTTP.
		{Src: "ClientRequestProtocol"}, // network.protocol, http.version
		{Src: "ClientRequestBytes", ECS: "http.request.bytes", Type: Long},
		{Src: "ClientRequestMethod", ECS: "http.request.method"},
		{Src: "ClientRequestReferer", ECS: "http.request.referrer"},

		// Source (and client, its copy); destination (and server).
		{Src: "ClientIP"}, // source.address, source.ip + GeoIP
		{Src: "ClientCountry", ECS: "source.geo.country_iso_code"}, // unless GeoIP found one
		{Src: "ClientASN", ECS: "source.as.number", Type: Long},    // unless GeoIP found one
		{Src: "ClientSrcPort", ECS: "source.port", Type: Long},
		{Src: "ClientIPClass", Custom: "client.ip_class"},
		{Src: "OriginIP"}, // destination.address, destination.ip

		// The other http_requests fields, which Elastic's logpull pipeline
		// drops: kept under the names of the Logpush mapping.
		{Src: "Datetime", Custom: "datetime", Type: Timestamp},
		{Src: "BotDetectionIDs", Custom: "bot.detection_ids", Type: Long},
		{Src: "BotDetectionTags", Custom: "bot.detection_tags"},
		{Src: "BotTags", Custom: "bot.tag"},
		{Src: "VerifiedBotCategory", Custom: "verified_bot_category"},
		{Src: "JA3Hash", Custom: "ja3_hash", Related: RelatedHash},
		{Src: "JA4", Custom: "ja4"},
		{Src: "JA4Signals", Custom: "ja4_signals", Mapping: "flattened"},
		{Src: "JSDetectionPassed", Custom: "js_detection_passed"},
		{Src: "CacheReserveUsed", Custom: "cache.reserve_used", Type: Bool},
		{Src: "ClientCity", Custom: "client.city"},
		{Src: "ClientLatitude", Custom: "client.latitude"},
		{Src: "ClientLongitude", Custom: "client.longitude"},
		{Src: "ClientMTLSAuthCertFingerprint", Custom: "client.mtls.auth.fingerprint"},
		{Src: "ClientMTLSAuthStatus", Custom: "client.mtls.auth.status"},
		{Src: "ClientRegionCode", Custom: "client.region_code"},
		{Src: "ClientRequestSource", Custom: "client.request.source"},
		{Src: "ClientTCPRTTMs", Custom: "client.tcp_rtt.ms", Type: Long},
		{Src: "ClientXRequestedWith", Custom: "client.xrequested_with"},
		{Src: "Cookies", Custom: "cookies", Mapping: "flattened"},
		{Src: "RequestHeaders", Custom: "request.header", Mapping: "flattened"},
		{Src: "ResponseHeaders", Custom: "response.header", Mapping: "flattened"},
		{Src: "ContentScanObjResults", Custom: "content_scan.results"},
		{Src: "ContentScanObjSizes", Custom: "content_scan.sizes", Type: Long},
		{Src: "ContentScanObjTypes", Custom: "content_scan.types"},
		{Src: "FraudAttack", Custom: "fraud.attack"},
		{Src: "FraudDetectionIDs", Custom: "fraud.detection_ids", Type: Long},
		{Src: "FraudDetectionTags", Custom: "fraud.detection_tags"},
		{Src: "FraudEmailRisk", Custom: "fraud.email_risk"},
		{Src: "FraudUserID", Custom: "fraud.user_id"},
		{Src: "LeakedCredentialCheckResult", Custom: "leaked_credential_check"},
		{Src: "EdgeCFConnectingO2O", Custom: "edge.cf_connecting_o2o", Type: Bool},
		{Src: "EdgeTimeToFirstByteMs", Custom: "edge.time_to_first_byte.ms", Type: Long},
		{Src: "OriginDNSResponseTimeMs", Custom: "origin.dns_response_time.ms", Type: Long},
		{Src: "OriginRequestHeaderSendDurationMs", Custom: "origin.request_header_send_duration.ms", Type: Long},
		{Src: "OriginResponseDurationMs", Custom: "origin.response.duration.ms", Type: Long},
		{Src: "OriginResponseHeaderReceiveDurationMs", Custom: "origin.response.header_receive_duration.ms", Type: Long},
		{Src: "OriginTCPHandshakeDurationMs", Custom: "origin.tcp_handshake_duration.ms", Type: Long},
		{Src: "OriginTLSHandshakeDurationMs", Custom: "origin.tls_handshake_duration.ms", Type: Long},
		{Src: "PayPerCrawlStatus", Custom: "pay_per_crawl_status"},
		{Src: "SmartRouteColoID", Custom: "smart_route.colo.id", Type: Long},
		{Src: "UpperTierColoID", Custom: "upper_tier.colo.id", Type: Long},
		{Src: "WAFAttackScore", Custom: "waf.score.global", Type: Long},
		{Src: "WAFRCEAttackScore", Custom: "waf.score.rce", Type: Long},
		{Src: "WAFSQLiAttackScore", Custom: "waf.score.sqli", Type: Long},
		{Src: "WAFXSSAttackScore", Custom: "waf.score.xss", Type: Long},
		{Src: "WebAssetsLabelsManaged", Custom: "web_assets.labels_managed"},
		{Src: "WebAssetsOperationID", Custom: "web_assets.operation_id"},
		{Src: "WorkerScriptName", Custom: "worker.script_name"},
		{Src: "WorkerWallTimeUs", Custom: "worker.wall_time_us", Type: Long},
	},
	Declare: []FieldDef{
		{Path: "cloudflare.origin.response.expires", Type: "date", Source: "OriginResponseHTTPExpires"},
		{Path: "cloudflare.origin.response.last_modified", Type: "date", Source: "OriginResponseHTTPLastModified"},
		{Path: "source.address", Type: "keyword", Source: "ClientIP"},
		{Path: "source.ip", Type: "ip", Source: "ClientIP"},
		{Path: "destination.address", Type: "keyword", Source: "OriginIP"},
		{Path: "destination.ip", Type: "ip", Source: "OriginIP"},
		{Path: "observer.ip", Type: "ip", Source: "EdgeServerIP"},
		{Path: "url.original", Type: "wildcard", Source: "ClientRequestURI"},
		{Path: "url.domain", Type: "keyword", Source: "ClientRequestHost"},
		{Path: "network.protocol", Type: "keyword", Source: "ClientRequestProtocol"},
		{Path: "http.version", Type: "keyword", Source: "ClientRequestProtocol"},
	},
	Derive: deriveLogpull,
}

// logpullCopies are the source.* fields Elastic copies to client.* (its
// "set client copy_from source"), and destination.* to server.*.
var (
	logpullSourceFields = []string{"address", "ip", "port", "bytes", "as.number", "as.organization.name",
		"geo.city_name", "geo.continent_name", "geo.country_iso_code", "geo.country_name", "geo.location",
		"geo.region_iso_code", "geo.region_name"}
	logpullDestFields = []string{"address", "ip", "bytes"}
)

func deriveLogpull(s *Schema) DeriveFunc {
	f := s.Field
	end := f("EdgeEndTimestamp")
	sslProto, cipher := f("ClientSSLProtocol"), f("ClientSSLCipher")
	uri, host, path, scheme, query := f("ClientRequestURI"), f("ClientRequestHost"), f("ClientRequestPath"), f("ClientRequestScheme"), f("ClientRequestQuery")
	edgeIP, clientIP, originIP := f("EdgeServerIP"), f("ClientIP"), f("OriginIP")
	cacheBytes, cacheStatus := f("CacheResponseBytes"), f("CacheResponseStatus")
	proto := f("ClientRequestProtocol")
	originStatus := f("OriginResponseStatus")
	fwActions, secActions := f("FirewallMatchesActions"), f("SecurityActions")
	expires, lastMod := f("OriginResponseHTTPExpires"), f("OriginResponseHTTPLastModified")

	duration, eventType := s.Slot("event.duration"), s.Slot("event.type")
	sslSlot, cipherSlot := s.Custom("client.ssl.protocol", false), s.Slot("tls.cipher")
	tlsProto, tlsVersion := s.Slot("tls.version_protocol"), s.Slot("tls.version")
	u := BindURL(s)
	full := s.Slot("url.full")
	observerIP := s.Slot("observer.ip")
	observerGeo := bindGeo(s, "observer", false) // no AS lookup
	cacheBytesSlot, cacheStatusSlot := s.Custom("cache.bytes", false), s.Custom("cache.status_code", false)
	netProto, httpVersion, transport := s.Slot("network.protocol"), s.Slot("http.version"), s.Slot("network.transport")
	edgeBytes := s.Custom("edge.response.bytes", false)
	respBytes, statusCode := s.Slot("http.response.bytes"), s.Slot("http.response.status_code")
	originStatusSlot := s.Custom("origin.response.status_code", false)
	reqBytes := s.Slot("http.request.bytes")
	srcAddr, srcIP, srcBytes := s.Slot("source.address"), s.Slot("source.ip"), s.Slot("source.bytes")
	sourceGeo := GeoIP("source").bind(s)
	dstAddr, dstIP, dstBytes := s.Slot("destination.address"), s.Slot("destination.ip"), s.Slot("destination.bytes")
	netBytes := s.Slot("network.bytes")
	expSlot, lastModSlot := s.Custom("origin.response.expires", false), s.Custom("origin.response.last_modified", false)
	var srcSlots, cliSlots, dstSlots, srvSlots []SlotRef
	for _, p := range logpullSourceFields {
		srcSlots, cliSlots = append(srcSlots, s.Slot("source."+p)), append(cliSlots, s.Slot("client."+p))
	}
	for _, p := range logpullDestFields {
		dstSlots, srvSlots = append(dstSlots, s.Slot("destination."+p)), append(srvSlots, s.Slot("server."+p))
	}

	return func(r *Rec) {
		// event.duration: nanoseconds from start to end, both as Elastic
		// holds them (milliseconds).
		if r.hasTS {
			if v := r.Value(end); v != nil {
				if e, ok := parseTimeValue(v); ok {
					r.SetInt(duration, floorMillis(e)-floorMillis(r.tsNS))
				}
			}
		}

		// TLS.
		hasSSL := false
		if p, ok := r.String(sslProto); ok {
			if strings.EqualFold(p, "none") {
				r.Unset(sslSlot)
			} else {
				hasSSL = true
				if name, version, ok := SplitTLS(p); ok {
					r.SetLower(tlsProto, name)
					r.SetString(tlsVersion, version)
				}
			}
		}
		if c, ok := r.String(cipher); ok && strings.EqualFold(c, "none") {
			r.Unset(cipherSlot)
		}

		// URL.
		var p uriParts
		parsed := false
		if raw, ok := r.String(uri); ok && raw != "" {
			if p, parsed = parseURIParts(raw); parsed {
				u.setParts(r, raw, &p)
			} else {
				r.SetString(u.Original, raw)
			}
		}
		if !r.IsSet(u.Domain) {
			p.domain, _ = r.String(host)
			r.SetString(u.Domain, p.domain)
		}
		if !r.IsSet(u.Path) {
			p.path, _ = r.String(path)
			r.SetString(u.Path, p.path)
		}
		if !r.IsSet(u.Query) {
			if q, ok := r.String(query); ok {
				p.query = strings.TrimPrefix(q, "?")
				r.SetString(u.Query, p.query)
			}
		}
		if !r.IsSet(u.Scheme) {
			p.scheme, _ = r.String(scheme)
			switch {
			case p.scheme != "":
			case hasSSL:
				p.scheme = "https"
			default:
				p.scheme = "http"
			}
			r.SetString(u.Scheme, p.scheme)
		}
		// url.full from the parts (Elastic writes "http://" alone for a
		// record without host and path; flarehose writes nothing then).
		if p.domain != "" || p.path != "" {
			b := r.scratch[:0]
			if p.scheme != "" {
				b = append(append(b, p.scheme...), "://"...)
			}
			b = append(append(b, p.domain...), p.path...)
			if p.query != "" {
				b = append(append(b, '?'), p.query...)
			}
			r.scratch = b
			r.SetString(full, b2s(b))
		}

		// Observer: the edge server and its location (no AS).
		if ip, ok := r.String(edgeIP); ok && ip != "" {
			if validIP(ip) {
				r.SetString(observerIP, ip)
				observerGeo(r, ip)
			} else {
				r.AddError(conversionError("EdgeServerIP", r.Value(edgeIP), "ip"))
			}
		}

		// Cache: Elastic skips a number 0.
		if isZero(r.Value(cacheBytes)) {
			r.Unset(cacheBytesSlot)
		}
		if isZero(r.Value(cacheStatus)) {
			r.Unset(cacheStatusSlot)
		}

		// HTTP.
		if pr, ok := r.String(proto); ok {
			if name, version, ok := SplitProtocol(pr); ok {
				r.SetLower(netProto, name)
				r.SetString(httpVersion, version)
				if strings.EqualFold(name, "http") {
					r.SetString(transport, "tcp")
				}
			}
		}
		r.CopySlot(respBytes, edgeBytes)
		if !r.IsSet(statusCode) && !isZero(r.Value(originStatus)) {
			r.CopySlot(statusCode, originStatusSlot)
		}

		// Source, then client as its copy.
		if ip, ok := r.String(clientIP); ok {
			r.SetString(srcAddr, ip)
			if validIP(ip) {
				r.SetString(srcIP, ip)
				sourceGeo(r, ip)
			}
		}
		r.CopySlot(srcBytes, reqBytes)
		for i := range srcSlots {
			r.CopySlot(cliSlots[i], srcSlots[i])
		}

		// Destination, then server as its copy.
		if ip, ok := r.String(originIP); ok {
			r.SetString(dstAddr, ip)
			if validIP(ip) {
				r.SetString(dstIP, ip)
			}
		}
		r.CopySlot(dstBytes, edgeBytes)
		for i := range dstSlots {
			r.CopySlot(srvSlots[i], dstSlots[i])
		}
		if sb, ok := slotInt(r, srcBytes); ok {
			if db, ok := slotInt(r, dstBytes); ok {
				r.SetInt(netBytes, sb+db)
			}
		}

		// event.type denied when a firewall product blocked (or, as
		// Elastic's pipeline has it, allowed) the request.
		actions := r.Value(fwActions)
		if actions == nil {
			actions = r.Value(secActions)
		}
		if hasString(actions, "block") || hasString(actions, "allow") {
			r.SetRaw(eventType, []byte(`["denied"]`))
		}

		// Origin HTTP dates, when they parse.
		lenientDate(r, expSlot, r.Value(expires))
		lenientDate(r, lastModSlot, r.Value(lastMod))
	}
}

// lenientDate is Elastic's date processor on an HTTP date header
// ("EEE, dd MMM yyyy HH:mm:ss z") with ignore_failure: the value is written
// when it parses and silently left out otherwise (such as "-1" or "0",
// which mean "already expired" in an Expires header).
func lenientDate(r *Rec, slot SlotRef, v *fastjson.Value) {
	if v == nil || v.Type() != fastjson.TypeString {
		return
	}
	str, _ := v.StringBytes()
	if len(str) == 0 || !(str[0] >= 'A' && str[0] <= 'Z' || str[0] >= 'a' && str[0] <= 'z') {
		return
	}
	if ns, ok := parseTimeString(b2s(str)); ok {
		r.SetTime(slot, ns)
	}
}

// isZero: the value is the JSON number 0.
func isZero(v *fastjson.Value) bool {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return false
	}
	f, err := v.Float64()
	return err == nil && f == 0
}

// hasString: v is an array holding the string want.
func hasString(v *fastjson.Value, want string) bool {
	if v == nil || v.Type() != fastjson.TypeArray {
		return false
	}
	arr, _ := v.Array()
	for _, e := range arr {
		if b, err := e.StringBytes(); err == nil && string(b) == want {
			return true
		}
	}
	return false
}

// slotInt reads an integer slot.
func slotInt(r *Rec, s SlotRef) (int64, bool) {
	raw := r.Raw(s)
	if raw == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(b2s(raw), 10, 64)
	return n, err == nil
}
