package normalize

// firewall_events (zone and account) → cloudflare_logpush.firewall_event.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/firewall_event
// ingest pipeline (ECS 9.3.0). The account-scoped dataset has the zone
// dataset's fields plus ZoneName (zone.name): one table serves both.
// Mapping gives the types of Elastic's fields.yml where they are not
// keyword (text, flattened).

var firewallEvents = &Dataset{
	Name:    "firewall_events",
	Elastic: "cloudflare_logpush.firewall_event",
	Aliases: []string{"firewall_event"},
	// One request (RayID) can trigger several firewall events (one per
	// matching rule), so the id also hashes what tells them apart.
	IDFields: []string{"RayID", "MatchIndex", "Source", "RuleID", "Action", "Kind", "Datetime"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Datetime", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "Action", Custom: "action", ECS: "event.action", Lower: true},
		{Src: "ClientRequestMethod", Custom: "client.request.method", ECS: "http.request.method"},
		{Src: "EdgeResponseStatus", Custom: "edge.response.status", ECS: "http.response.status_code", Type: Long},
		{Src: "RuleID", Custom: "rule.id", ECS: "rule.id"},
		{Src: "Description", Custom: "rule.description", ECS: "rule.description"},
		{Src: "ClientASN", Custom: "client.asn.value", ECS: "source.as.number", Type: Long},
		{Src: "ClientCountry", Custom: "client.country", ECS: "source.geo.country_iso_code"},
		{Src: "ClientIP", Custom: "client.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},

		// Fields copied to ECS while the custom field is kept.
		{Src: "ClientRequestHost", Custom: "client.request.host", Copy: "url.domain", Related: RelatedHosts},
		{Src: "ClientRequestPath", Custom: "client.request.path", Copy: "url.path", Mapping: "text"},
		{Src: "ClientRequestQuery", Custom: "client.request.query", Copy: "url.query", TrimPrefix: "?"},
		{Src: "ClientRequestScheme", Custom: "client.request.scheme", Copy: "url.scheme", Mapping: "text"},
		{Src: "RayID", Custom: "ray.id", Copy: "event.id"},
		{Src: "ClientRequestUserAgent", Custom: "client.request.user.agent", Copy: "user_agent.original", Enrich: UserAgent, Mapping: "text"},

		{Src: "ClientASNDescription", Custom: "client.asn.description"},
		{Src: "ClientIPClass", Custom: "client.ip_class"},
		{Src: "ClientRefererHost", Custom: "client.referer.host", Related: RelatedHosts},
		{Src: "ClientRefererPath", Custom: "client.referer.path", Mapping: "text"},
		{Src: "ClientRefererQuery", Custom: "client.referer.query"},
		{Src: "ClientRefererScheme", Custom: "client.referer.scheme", Mapping: "text"},
		{Src: "ClientRequestProtocol", Custom: "client.request.protocol"},
		{Src: "ContentScanObjResults", Custom: "content_scan.results"},
		{Src: "ContentScanObjSizes", Custom: "content_scan.sizes", Type: Long},
		{Src: "ContentScanObjTypes", Custom: "content_scan.types"},
		{Src: "EdgeColoCode", Custom: "edge.colo.code"},
		{Src: "FraudUserID", Custom: "fraud.user_id", Related: RelatedUser},
		{Src: "Kind", Custom: "kind"},
		{Src: "LeakedCredentialCheckResult", Custom: "leaked_credential_check"},
		{Src: "MatchIndex", Custom: "match_index", Type: Long},
		{Src: "Metadata", Custom: "meta_data", Mapping: "flattened"},
		{Src: "OriginResponseStatus", Custom: "origin.response.status", Type: Long},
		{Src: "OriginatorRayID", Custom: "origin.ray.id"},
		{Src: "Ref", Custom: "ref"},
		{Src: "Source", Custom: "source"},
		{Src: "ZoneName", Custom: "zone.name"},

		// In Cloudflare's reference but not (yet) mapped by Elastic, whose
		// pipeline drops them; kept here under names in Elastic's style.
		{Src: "AISecurityCustomTopicCategories", Custom: "ai_security.custom_topic_categories"},
		{Src: "AISecurityInjectionScore", Custom: "ai_security.injection_score", Type: Long},
		{Src: "AISecurityPIICategories", Custom: "ai_security.pii_categories"},
		{Src: "AISecurityTokenCount", Custom: "ai_security.token_count", Type: Long},
		{Src: "AISecurityUnsafeTopicCategories", Custom: "ai_security.unsafe_topic_categories"},
		{Src: "FirewallForAIInjectionScore", Custom: "firewall_for_ai.injection_score", Type: Long},
		{Src: "FirewallForAIPIICategories", Custom: "firewall_for_ai.pii_categories"},
		{Src: "FirewallForAITokenCount", Custom: "firewall_for_ai.token_count", Type: Long},
		{Src: "FirewallForAIUnsafeTopicCategories", Custom: "firewall_for_ai.unsafe_topic_categories"},
	},
	Derive: deriveFirewallEvents,
}

// deriveFirewallEvents dissects ClientRequestProtocol ("HTTP/2") into
// network.protocol and http.version. Like Elastic's dissect it reports an
// error for a protocol without '/', except "none" and "unknown" (skipped by
// Elastic) and "" (which carries nothing).
func deriveFirewallEvents(s *Schema) DeriveFunc {
	proto := s.Field("ClientRequestProtocol")
	netProto, httpVersion := s.Slot("network.protocol"), s.Slot("http.version")
	return func(r *Rec) {
		p, ok := r.String(proto)
		if !ok || p == "" || p == "none" || p == "unknown" {
			return
		}
		name, version, ok := SplitProtocol(p)
		if !ok {
			r.AddError("dissect_client_request_protocol: Unable to find match for dissect pattern: %{network.protocol}/%{http.version} against source: " + truncate(p, 64))
			return
		}
		r.SetLower(netProto, name)
		r.SetString(httpVersion, version)
	}
}
