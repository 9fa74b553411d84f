package normalize

import "strings"

// http_requests (zone) → cloudflare_logpush.http_request.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/http_request
// ingest pipeline (ECS 9.3.0).

var httpRequests = &Dataset{
	Name:     "http_requests",
	Elastic:  "cloudflare_logpush.http_request",
	Aliases:  []string{"http_request"},
	IDFields: []string{"RayID"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		// Times. EdgeStartTimestamp is listed before Datetime: it wins @timestamp.
		{Src: "EdgeStartTimestamp", Custom: "edge.start_time", Copy: "@timestamp", Type: Timestamp},
		{Src: "Datetime", Custom: "datetime", Copy: "@timestamp", Type: Timestamp},
		{Src: "EdgeEndTimestamp", Custom: "edge.end_time", Type: Timestamp},
		{Src: "OriginResponseHTTPExpires", Custom: "origin.response.http.expires", Type: Timestamp},
		{Src: "OriginResponseHTTPLastModified", Custom: "origin.response.http.last_modified", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "OriginIP", Custom: "origin.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP},
		{Src: "ClientRequestMethod", Custom: "client.request.method", ECS: "http.request.method", Mapping: "text"},
		{Src: "EdgeResponseContentType", Custom: "edge.response.content_type", ECS: "http.response.mime_type", Mapping: "text"},
		{Src: "EdgeResponseStatus", Custom: "edge.response.status", ECS: "http.response.status_code", Type: Long},
		{Src: "ClientASN", Custom: "client.asn", ECS: "source.as.number", Type: Long},
		{Src: "ClientCountry", Custom: "client.country", ECS: "source.geo.country_iso_code"},
		{Src: "ClientIP", Custom: "client.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "ClientRequestUserAgent", Custom: "client.request.user.agent", ECS: "user_agent.original", Enrich: UserAgent, Mapping: "text"},
		{Src: "ClientSSLCipher", Custom: "client.ssl.cipher", ECS: "tls.cipher", Mapping: "text"},
		{Src: "RayID", Custom: "ray.id", Copy: "event.id"},

		// Bot management.
		{Src: "BotDetectionIDs", Custom: "bot.detection_ids", Type: Long},
		{Src: "BotDetectionTags", Custom: "bot.detection_tags"},
		{Src: "BotScore", Custom: "bot.score.value", Type: Long},
		{Src: "BotScoreSrc", Custom: "bot.score.src", Mapping: "text"},
		{Src: "BotTags", Custom: "bot.tag", Mapping: "text"},
		{Src: "VerifiedBotCategory", Custom: "verified_bot_category"},
		{Src: "JA3Hash", Custom: "ja3_hash", Related: RelatedHash},
		{Src: "JA4", Custom: "ja4"},
		{Src: "JA4Signals", Custom: "ja4_signals", Mapping: "flattened"},
		{Src: "JSDetectionPassed", Custom: "js_detection_passed"},

		// Cache.
		{Src: "CacheCacheStatus", Custom: "cache.status"},
		{Src: "CacheReserveUsed", Custom: "cache.reserve_used", Type: Bool},
		{Src: "CacheResponseBytes", Custom: "cache.response.bytes", Type: Long},
		{Src: "CacheResponseStatus", Custom: "cache.response.status", Type: Long},
		{Src: "CacheTieredFill", Custom: "cache.tiered_fill", Type: Bool},

		// Client.
		{Src: "ClientCity", Custom: "client.city"},
		{Src: "ClientDeviceType", Custom: "client.device.type"},
		{Src: "ClientIPClass", Custom: "client.ip_class"},
		{Src: "ClientLatitude", Custom: "client.latitude"},
		{Src: "ClientLongitude", Custom: "client.longitude"},
		{Src: "ClientMTLSAuthCertFingerprint", Custom: "client.mtls.auth.fingerprint"},
		{Src: "ClientMTLSAuthStatus", Custom: "client.mtls.auth.status"},
		{Src: "ClientRegionCode", Custom: "client.region_code"},
		{Src: "ClientRequestBytes", Custom: "client.request.bytes", Type: Long},
		{Src: "ClientRequestHost", Custom: "client.request.host"},
		{Src: "ClientRequestPath", Custom: "client.request.path", Mapping: "text"},
		{Src: "ClientRequestProtocol", Custom: "client.request.protocol"},
		{Src: "ClientRequestQuery"}, // only feeds url.query (Elastic keeps no custom copy)
		{Src: "ClientRequestReferer", Custom: "client.request.referer", Mapping: "text"},
		{Src: "ClientRequestScheme", Custom: "client.request.scheme", Mapping: "text"},
		{Src: "ClientRequestSource", Custom: "client.request.source"},
		{Src: "ClientRequestURI", Custom: "client.request.uri", Mapping: "text"},
		{Src: "ClientSSLProtocol", Custom: "client.ssl.protocol"},
		{Src: "ClientSrcPort", Custom: "client.src.port", Type: Long},
		{Src: "ClientTCPRTTMs", Custom: "client.tcp_rtt.ms", Type: Long},
		{Src: "ClientXRequestedWith", Custom: "client.xrequested_with", Mapping: "text"},
		{Src: "Cookies", Custom: "cookies", Mapping: "flattened"},
		{Src: "RequestHeaders", Custom: "request.header"},
		{Src: "ResponseHeaders", Custom: "response.header"},

		// Content scanning, fraud, leaked credentials.
		{Src: "ContentScanObjResults", Custom: "content_scan.results"},
		{Src: "ContentScanObjSizes", Custom: "content_scan.sizes", Type: Long},
		{Src: "ContentScanObjTypes", Custom: "content_scan.types"},
		{Src: "FraudAttack", Custom: "fraud.attack"},
		{Src: "FraudDetectionIDs", Custom: "fraud.detection_ids", Type: Long},
		{Src: "FraudDetectionTags", Custom: "fraud.detection_tags"},
		{Src: "FraudEmailRisk", Custom: "fraud.email_risk"},
		{Src: "FraudUserID", Custom: "fraud.user_id"},
		{Src: "LeakedCredentialCheckResult", Custom: "leaked_credential_check"},

		// Edge.
		{Src: "EdgeCFConnectingO2O", Custom: "edge.cf_connecting_o2o", Type: Bool},
		{Src: "EdgeColoCode", Custom: "edge.colo.code"},
		{Src: "EdgeColoID", Custom: "edge.colo.id", Type: Long},
		{Src: "EdgePathingOp", Custom: "edge.pathing.op", Mapping: "text"},
		{Src: "EdgePathingSrc", Custom: "edge.pathing.src", Mapping: "text"},
		{Src: "EdgePathingStatus", Custom: "edge.pathing.status", Mapping: "text"},
		{Src: "EdgeRateLimitAction", Custom: "edge.rate.limit.action"},
		{Src: "EdgeRateLimitID", Custom: "edge.rate.limit.id", Type: Long},
		{Src: "EdgeRequestHost", Custom: "edge.request.host"},
		{Src: "EdgeResponseBodyBytes", Custom: "edge.response.body_bytes", Type: Long},
		{Src: "EdgeResponseBytes", Custom: "edge.response.bytes", Type: Long},
		{Src: "EdgeResponseCompressionRatio", Custom: "edge.response.compression_ratio", Type: Double},
		{Src: "EdgeServerIP", Custom: "edge.server.ip", Type: IP},
		{Src: "EdgeTimeToFirstByteMs", Custom: "edge.time_to_first_byte.ms", Type: Long},

		// Security matches: the Security* names win over the deprecated ones.
		{Src: "SecurityActions", Custom: "firewall.matches.action"},
		{Src: "FirewallMatchesActions", Custom: "firewall.matches.action"},
		{Src: "SecurityRuleIDs", Custom: "firewall.matches.rule_id"},
		{Src: "FirewallMatchesRuleIDs", Custom: "firewall.matches.rule_id"},
		{Src: "SecuritySources", Custom: "firewall.matches.sources"},
		{Src: "FirewallMatchesSources", Custom: "firewall.matches.sources"},

		// Origin.
		{Src: "OriginDNSResponseTimeMs", Custom: "origin.dns_response_time.ms", Type: Long},
		{Src: "OriginRequestHeaderSendDurationMs", Custom: "origin.request_header_send_duration.ms", Type: Long},
		{Src: "OriginResponseBytes", Custom: "origin.response.bytes", Type: Long},
		{Src: "OriginResponseDurationMs", Custom: "origin.response.duration.ms", Type: Long},
		{Src: "OriginResponseHeaderReceiveDurationMs", Custom: "origin.response.header_receive_duration.ms", Type: Long},
		{Src: "OriginResponseStatus", Custom: "origin.response.status", Type: Long},
		{Src: "OriginResponseTime", Custom: "origin.response.time", Type: Long}, // nanoseconds: a duration, not a time
		{Src: "OriginSSLProtocol", Custom: "origin.ssl_protocol", Mapping: "text"},
		{Src: "OriginTCPHandshakeDurationMs", Custom: "origin.tcp_handshake_duration.ms", Type: Long},
		{Src: "OriginTLSHandshakeDurationMs", Custom: "origin.tls_handshake_duration.ms", Type: Long},

		{Src: "ParentRayID", Custom: "parent_ray.id"},
		{Src: "PayPerCrawlStatus", Custom: "pay_per_crawl_status"},
		{Src: "SecurityLevel", Custom: "security_level", Mapping: "text"},
		{Src: "SmartRouteColoID", Custom: "smart_route.colo.id", Type: Long},
		{Src: "UpperTierColoID", Custom: "upper_tier.colo.id", Type: Long},

		// WAF: the Security* names win over the deprecated WAF* ones.
		{Src: "SecurityAction", Custom: "waf.action", Mapping: "text"},
		{Src: "WAFAction", Custom: "waf.action", Mapping: "text"},
		{Src: "WAFFlags", Custom: "waf.flag", Mapping: "text"},
		{Src: "WAFMatchedVar", Custom: "waf.matched_var", Mapping: "text"},
		{Src: "WAFProfile", Custom: "waf.profile"},
		{Src: "SecurityRuleID", Custom: "waf.rule.id"},
		{Src: "WAFRuleID", Custom: "waf.rule.id"},
		{Src: "SecurityRuleDescription", Custom: "waf.rule.message", Mapping: "text"},
		{Src: "WAFRuleMessage", Custom: "waf.rule.message", Mapping: "text"},
		{Src: "WAFAttackScore", Custom: "waf.score.global", Type: Long},
		{Src: "WAFRCEAttackScore", Custom: "waf.score.rce", Type: Long},
		{Src: "WAFSQLiAttackScore", Custom: "waf.score.sqli", Type: Long},
		{Src: "WAFXSSAttackScore", Custom: "waf.score.xss", Type: Long},

		// Web assets, Workers, zone.
		{Src: "WebAssetsLabelsManaged", Custom: "web_assets.labels_managed"},
		{Src: "WebAssetsOperationID", Custom: "web_assets.operation_id"},
		{Src: "WorkerCPUTime", Custom: "worker.cpu_time", Type: Long},
		{Src: "WorkerScriptName", Custom: "worker.script_name"},
		{Src: "WorkerStatus", Custom: "worker.status", Mapping: "text"},
		{Src: "WorkerSubrequest", Custom: "worker.subrequest.value", Type: Bool},
		{Src: "WorkerSubrequestCount", Custom: "worker.subrequest.count", Type: Long},
		{Src: "WorkerWallTimeUs", Custom: "worker.wall_time_us", Type: Long},
		{Src: "ZoneID", Custom: "zone.id", Type: Long},
		{Src: "ZoneName", Custom: "zone.name"},
	},
	Derive: deriveHTTPRequests,
}

// deriveHTTPRequests builds url.* (Elastic's set processors, then uri_parts
// on scheme://host + ClientRequestURI), network.protocol / http.version and
// tls.version_protocol / tls.version.
func deriveHTTPRequests(s *Schema) DeriveFunc {
	u := BindURL(s)
	scheme, host := s.Field("ClientRequestScheme"), s.Field("ClientRequestHost")
	path, query, uri := s.Field("ClientRequestPath"), s.Field("ClientRequestQuery"), s.Field("ClientRequestURI")
	proto, ssl := s.Field("ClientRequestProtocol"), s.Field("ClientSSLProtocol")
	netProto, httpVersion := s.Slot("network.protocol"), s.Slot("http.version")
	tlsProto, tlsVersion := s.Slot("tls.version_protocol"), s.Slot("tls.version")
	return func(r *Rec) {
		sch, _ := r.String(scheme)
		if sch == "" {
			// Elastic also tests ctx.cloudflare.client.ssl.protocol here, a
			// path that never exists, so the fallback is always "http".
			sch = "http"
		}
		h, _ := r.String(host)
		// uri_parts on scheme://host + ClientRequestURI (or the URI itself
		// when it is not a path) replaces the url object the set processors
		// built from scheme, host, path and query; those only remain when
		// there is no URI to parse.
		parsed := false
		if ru, ok := r.String(uri); ok {
			switch {
			case !strings.HasPrefix(ru, "/"):
				parsed = u.URIParts(r, ru)
			case h != "":
				r.scratch = append(append(append(append(r.scratch[:0], sch...), "://"...), h...), ru...)
				parsed = u.URIParts(r, b2s(r.scratch))
			}
		}
		if !parsed {
			r.SetString(u.Scheme, sch)
			r.SetString(u.Domain, h)
			if p, ok := r.String(path); ok {
				r.SetString(u.Path, p)
			}
			if q, ok := r.String(query); ok {
				r.SetString(u.Query, q)
			}
		}
		if p, ok := r.String(proto); ok {
			if name, version, ok := SplitProtocol(p); ok {
				r.SetLower(netProto, name)
				r.SetString(httpVersion, version)
			}
		}
		if p, ok := r.String(ssl); ok {
			if name, version, ok := SplitTLS(p); ok {
				r.SetLower(tlsProto, name)
				r.SetString(tlsVersion, version)
			}
		}
	}
}
