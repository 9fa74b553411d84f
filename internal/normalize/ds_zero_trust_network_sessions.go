package normalize

// zero_trust_network_sessions (account) → cloudflare_logpush.network_session.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/network_session
// ingest pipeline: every field its conformance fixtures check as that
// version wrote it (ECS 9.3.0), plus what Elastic's newest version adds
// without changing those: device.id, event.duration, tls.cipher,
// tls.version_protocol / tls.version, initial_origin_ip, resolved_fqdn,
// sni -> tls.client.server_name, and their related.* entries. The newest
// version also appends SourceInternalIP to related.ip; the fixtures'
// version does not, and neither does this mapping.

var zeroTrustNetworkSessions = &Dataset{
	Name:     "zero_trust_network_sessions",
	Elastic:  "cloudflare_logpush.network_session",
	Aliases:  []string{"network_session"},
	IDFields: []string{"SessionID", "SessionStartTime", "SessionEndTime"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network","session"]`},
		{"event.type", `["connection"]`},
	},
	Fields: []Field{
		// SessionStartTime is @timestamp (and event.start).
		{Src: "SessionStartTime", Custom: "session.start", ECS: "event.start", Copy: "@timestamp", Type: Timestamp},
		{Src: "SessionEndTime", Custom: "session.end", ECS: "event.end", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "BytesReceived", Custom: "destination.bytes", ECS: "destination.bytes", Type: Long},
		{Src: "BytesSent", Custom: "source.bytes", ECS: "source.bytes", Type: Long},
		{Src: "DeviceID", Custom: "host.id", ECS: "host.id", Copy: "device.id", Related: RelatedHosts},
		{Src: "DeviceName", Custom: "host.name", ECS: "host.name", Related: RelatedHosts},
		{Src: "OriginIP", Custom: "destination.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("destination")},
		{Src: "OriginPort", Custom: "destination.port", ECS: "destination.port", Type: Long},
		{Src: "OriginTLSCertificateIssuer", Custom: "tls.server.certificate.issuer", ECS: "tls.server.issuer"},
		{Src: "Protocol", Custom: "transport", ECS: "network.transport"},
		{Src: "SessionID", Custom: "session.id", ECS: "event.id"},
		{Src: "SourceIP", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "SourcePort", Custom: "source.port", ECS: "source.port", Type: Long},
		{Src: "UserID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},
		{Src: "Email", Custom: "user.email", ECS: "user.email", Related: RelatedUser},
		{Src: "VirtualNetworkID", Custom: "vlan.id", ECS: "network.vlan.id"},
		{Src: "ClientTLSCipher", Custom: "tls.client.cipher", ECS: "tls.cipher"},
		{Src: "SNI", Custom: "sni", ECS: "tls.client.server_name", Related: RelatedHosts},

		// Custom fields.
		{Src: "AccountID", Custom: "account_id"},
		{Src: "ClientTCPHandshakeDurationMs", Custom: "tcp.client.handshake_time_ms", Type: Long},
		{Src: "ClientTLSHandshakeDurationMs", Custom: "tls.client.handshake_time_ms", Type: Long},
		{Src: "ClientTLSVersion", Custom: "tls.client.version"}, // tls.version_protocol / tls.version in derive
		{Src: "ConnectionCloseReason", Custom: "tcp.connection.close_reason"},
		{Src: "ConnectionReuse", Custom: "tcp.connection.reuse", Type: Bool},
		{Src: "DestinationTunnelID", Custom: "destination.tunnel_id"},
		{Src: "DetectedProtocol", Custom: "detected_protocol"},
		{Src: "EgressColoName", Custom: "egress.colo_name"},
		{Src: "EgressIP", Custom: "egress.ip", Type: IP, Related: RelatedIP},
		{Src: "EgressPort", Custom: "egress.port", Type: Long},
		{Src: "EgressRuleID", Custom: "egress.rule.id"},
		{Src: "EgressRuleName", Custom: "egress.rule.name"},
		{Src: "IngressColoName", Custom: "ingress.colo_name"},
		{Src: "InitialOriginIP", Custom: "initial_origin_ip", Type: IP, Related: RelatedIP},
		{Src: "Offramp", Custom: "offramp"},
		{Src: "OriginTLSCertificateValidationResult", Custom: "tls.server.certificate.validation_result"},
		{Src: "OriginTLSCipher", Custom: "tls.server.cipher"},
		{Src: "OriginTLSHandshakeDurationMs", Custom: "tls.server.handshake_time_ms", Type: Long},
		{Src: "OriginTLSVersion", Custom: "tls.server.version"},
		{Src: "RegistrationID", Custom: "registration_id"},
		{Src: "ResolvedFQDN", Custom: "resolved_fqdn", Related: RelatedHosts},
		{Src: "RuleEvaluationDurationMs", Custom: "rule_evaluation.time_ms", Type: Long},
		{Src: "SourceInternalIP", Custom: "source.internal_ip", Type: IP},

		// In Cloudflare's reference but not (yet) mapped by Elastic.
		{Src: "TenantID", Custom: "tenant_id"},
	},
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.network_session.timestamp", Type: "date", Source: "SessionStartTime"},
	},
	Derive: deriveZeroTrustNetworkSessions,
}

// deriveZeroTrustNetworkSessions: the custom timestamp (a copy of
// @timestamp), event.duration (end - start, at the milliseconds the date
// processor keeps) and tls.version_protocol / tls.version from
// ClientTLSVersion ("TLS 1.3", "TLSv1.3").
func deriveZeroTrustNetworkSessions(s *Schema) DeriveFunc {
	ts, tsCustom := s.Slot("@timestamp"), s.Custom("timestamp", true)
	start, end := s.Field("SessionStartTime"), s.Field("SessionEndTime")
	startSlot, endSlot := s.Slot("event.start"), s.Slot("event.end")
	duration := s.Slot("event.duration")
	tlsVersion := s.Field("ClientTLSVersion")
	tlsProto, tlsVer := s.Slot("tls.version_protocol"), s.Slot("tls.version")
	return func(r *Rec) {
		r.CopySlot(tsCustom, ts)
		if r.IsSet(startSlot) && r.IsSet(endSlot) {
			a, ok1 := parseTimeValue(r.Value(start))
			b, ok2 := parseTimeValue(r.Value(end))
			if ok1 && ok2 {
				r.SetInt(duration, floorMillis(b)-floorMillis(a))
			}
		}
		if v, ok := r.String(tlsVersion); ok && v != "none" && v != "unknown" {
			if p, ver, ok := splitTLSVersion(v); ok {
				r.SetLower(tlsProto, p)
				r.SetString(tlsVer, ver)
			}
		}
	}
}
