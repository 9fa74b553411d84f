package normalize

import (
	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// gateway_dns (account) → cloudflare_logpush.gateway_dns.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/gateway_dns
// ingest pipeline, version 2.0.0 + the 2026 new fields (ECS 9.3.0; the one
// the conformance fixtures were made with).

var gatewayDNS = &Dataset{
	Name:    "gateway_dns",
	Elastic: "cloudflare_logpush.gateway_dns",
	// QueryID is unique per query when the job includes it; otherwise the
	// raw record is hashed.
	IDFields: []string{"QueryID"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Datetime", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "DeviceID", Custom: "host.id", ECS: "host.id", Copy: "device.id", Related: RelatedHosts},
		{Src: "DeviceName", Custom: "host.name", ECS: "host.name", Related: RelatedHosts},
		{Src: "Email", Custom: "user.email", ECS: "user.email", Related: RelatedUser},
		{Src: "DstIP", Custom: "destination.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("destination")},
		{Src: "DstPort", Custom: "destination.port", ECS: "destination.port", Type: Long},
		{Src: "Protocol", Custom: "protocol", ECS: "network.protocol"},
		{Src: "QueryName", Custom: "question.name", ECS: "dns.question.name", Related: RelatedHosts},
		{Src: "QueryTypeName", Custom: "question.type", ECS: "dns.question.type"},
		{Src: "RData", Custom: "answers", ECS: "dns.answers", Mapping: "flattened"},
		{Src: "ResolvedIPs", Custom: "resolved_ip_details.ips", ECS: "dns.resolved_ip", Type: IP}, // related.ip in derive
		{Src: "SrcIP", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "SrcPort", Custom: "source.port", ECS: "source.port", Type: Long},
		{Src: "TimeZone", Custom: "timezone", ECS: "event.timezone"},
		{Src: "UserID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},
		{Src: "RCode", Custom: "response_code", ECS: "dns.response_code", Type: String}, // event.outcome in derive

		// Custom fields.
		{Src: "AccountID", Custom: "account_id"},
		{Src: "ApplicationID", Custom: "application_id", Type: String, Mapping: "long"},
		{Src: "ApplicationName", Custom: "application_name"},
		{Src: "AuthoritativeNameServerIPs", Custom: "authoritative_name_server_ip", Type: IP}, // related.ip in derive
		{Src: "CNAMECategoryIDs", Custom: "cname_category.ids", Type: String},
		{Src: "CNAMECategoryNames", Custom: "cname_category.names"},
		{Src: "CNAMEs", Custom: "cname"}, // related.hosts in derive
		{Src: "CNAMEsReversed", Custom: "cname_reversed"},
		{Src: "ColoCode", Custom: "colo.code"},
		{Src: "ColoID", Custom: "colo.id", Type: Long},
		{Src: "CustomResolveDurationMs", Custom: "custom_resolver.duration_milli", Type: Long},
		{Src: "CustomResolverAddress", Custom: "custom_resolver.address"},
		{Src: "CustomResolverPolicyID", Custom: "custom_resolver.policy.ids"},
		{Src: "CustomResolverPolicyName", Custom: "custom_resolver.policy.names"},
		{Src: "CustomResolverResponse", Custom: "custom_resolver.response"},
		{Src: "DoHSubdomain", Custom: "doh_subdomain"},
		{Src: "DoTSubdomain", Custom: "dot_subdomain"},
		{Src: "EDEErrors", Custom: "extended_dns_error_codes", Type: String},
		{Src: "InitialCategoryIDs", Custom: "initial_category.ids", Type: String},
		{Src: "InitialCategoryNames", Custom: "initial_category.names"},
		{Src: "InitialResolvedIPs", Custom: "initial_resolved_ips", Type: IP}, // related.ip in derive
		{Src: "InternalDNSDurationMs", Custom: "internal_dns.duration_ms", Type: Long},
		{Src: "InternalDNSFallbackStrategy", Custom: "internal_dns.fallback_strategy"},
		{Src: "InternalDNSRCode", Custom: "internal_dns.rcode", Type: Long},
		{Src: "InternalDNSViewID", Custom: "internal_dns.view_id"},
		{Src: "InternalDNSZoneID", Custom: "internal_dns.zone_id"},
		{Src: "IsResponseCached", Custom: "is_response_cached", Type: Bool},
		{Src: "Location", Custom: "location.name"},
		{Src: "LocationID", Custom: "location.id"},
		{Src: "MatchedCategoryIDs", Custom: "matched.category.ids", Type: String, Mapping: "long"},
		{Src: "MatchedCategoryNames", Custom: "matched.category.names"},
		{Src: "MatchedIndicatorFeedIDs", Custom: "matched.indicator_feed.ids", Type: String},
		{Src: "MatchedIndicatorFeedNames", Custom: "matched.indicator_feed.names"},
		{Src: "PolicyID", Custom: "policy.id"},
		{Src: "PolicyName"}, // policy.name in derive (with the deprecated Policy)
		{Src: "Policy"},
		{Src: "QueryApplicationIDs", Custom: "question.application.ids", Type: String, Mapping: "long"},
		{Src: "QueryApplicationNames", Custom: "question.application.names"},
		{Src: "QueryCategoryIDs", Custom: "question.category.ids", Type: String, Mapping: "long"},
		{Src: "QueryCategoryNames", Custom: "question.category.names"},
		{Src: "QueryID", Custom: "question.id"},
		{Src: "QueryIndicatorFeedIDs", Custom: "question.indicator_feed.ids", Type: String, Mapping: "long"},
		{Src: "QueryIndicatorFeedNames", Custom: "question.indicator_feed.names"},
		{Src: "QueryNameReversed", Custom: "question.reversed"},
		{Src: "QuerySize", Custom: "question.size", Type: Long},
		{Src: "QueryType", Custom: "question.type_id", Type: Long},
		{Src: "RedirectTargetURI", Custom: "redirect_target_uri"},
		{Src: "RegistrationID", Custom: "registration_id"},
		{Src: "RequestContextCategoryIDs", Custom: "request_context_category.ids", Type: String, Mapping: "long"},
		{Src: "RequestContextCategoryNames", Custom: "request_context_category.names"},
		{Src: "ResolvedIPCategoryIDs", Custom: "resolved_ip_details.category.ids", Type: String},
		{Src: "ResolvedIPCategoryNames", Custom: "resolved_ip_details.category.names"},
		{Src: "ResolvedIPContinentCodes", Custom: "resolved_ip_details.continent_codes"},
		{Src: "ResolvedIPCountryCodes", Custom: "resolved_ip_details.country_codes"},
		{Src: "ResolverDecision", Custom: "resolver_decision"},
		{Src: "ResolverPolicyID", Custom: "resolver.policy.ids"},
		{Src: "ResolverPolicyName", Custom: "resolver.policy.names"},
		{Src: "ResourceRecords", Custom: "resource_records.object", Mapping: "flattened"},
		{Src: "ResourceRecordsJSON", Custom: "resource_records.json", Mapping: "match_only_text"},
		{Src: "SrcIPContinentCode", Custom: "source_id.continent_code"}, // sic: Elastic's name
		{Src: "SrcIPCountryCode", Custom: "source_id.country_code"},
		{Src: "TimeZoneInferredMethod", Custom: "timezone_inferred_method"},

		// In Cloudflare's reference but not (yet) mapped by Elastic, whose
		// pipeline drops them; kept here under names in Elastic's style.
		{Src: "AppliedMaxTTL", Custom: "applied_max_ttl", Type: Long},
		{Src: "ResponseTimeMs", Custom: "response_time_ms", Type: Long},
		{Src: "TenantID", Custom: "tenant_id"},
		{Src: "UpstreamRecordTTLs", Custom: "upstream_record_ttls", Type: Long},
	},
	// Custom fields written by deriveGatewayDNS.
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.gateway_dns.policy.name", Type: "keyword", Source: "PolicyName"},
	},
	Derive: deriveGatewayDNS,
}

// deriveGatewayDNS: event.outcome from RCode, policy.name from PolicyName
// and the deprecated Policy, and related.ip / related.hosts from the list
// fields.
func deriveGatewayDNS(s *Schema) DeriveFunc {
	rcode := s.Field("RCode")
	outcome := s.Slot("event.outcome")
	policyName, policy := s.Field("PolicyName"), s.Field("Policy")
	policySlot := s.Custom("policy.name", false)
	resolved, initial, auth := s.Field("ResolvedIPs"), s.Field("InitialResolvedIPs"), s.Field("AuthoritativeNameServerIPs")
	cnames := s.Field("CNAMEs")
	return func(r *Rec) {
		if v := r.Value(rcode); v != nil {
			// set event.outcome success if RCode == 0, failure if > 0
			// (numbers only: Painless compares a string with 0 as unequal).
			if v.Type() == fastjson.TypeNumber {
				if f, err := v.Float64(); err == nil {
					switch {
					case f == 0:
						r.SetString(outcome, "success")
					case f > 0:
						r.SetString(outcome, "failure")
					}
				}
			}
		}

		// rename PolicyName -> policy.name; append Policy when it differs
		// (policy.name becomes a list); else rename Policy -> policy.name.
		pn := r.Value(policyName)
		if pn != nil && pn.Type() == fastjson.TypeNull {
			pn = nil
		}
		pnStr, _ := stringOf(pn)
		switch p, _ := r.String(policy); {
		case pn == nil:
			if v := r.Value(policy); v != nil {
				r.SetValue(policySlot, v)
			}
		case p != "" && pnStr != p:
			b := append(r.scratch[:0], '[')
			b, ok := r.appendClean(b, pn, 1, false)
			if ok {
				b = append(b, ',')
			}
			b = ecsjson.AppendString(b, p)
			b = append(b, ']')
			r.scratch = b
			r.SetRaw(policySlot, b)
		default:
			r.SetValue(policySlot, pn)
		}

		r.AddRelatedEach(RelatedIP, r.Value(initial))
		r.AddRelatedEach(RelatedIP, r.Value(resolved))
		r.AddRelatedEach(RelatedIP, r.Value(auth))
		r.AddRelatedEach(RelatedHosts, r.Value(cnames))
	}
}
