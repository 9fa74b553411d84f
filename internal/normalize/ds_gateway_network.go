package normalize

// gateway_network (account) → cloudflare_logpush.gateway_network.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/gateway_network
// ingest pipeline (ECS 9.3.0, the version the conformance fixtures were made
// with), plus device.id from DeviceID as Elastic's newer version (and its
// sample event) writes it.

var gatewayNetwork = &Dataset{
	Name:     "gateway_network",
	Elastic:  "cloudflare_logpush.gateway_network",
	IDFields: []string{"SessionID", "Datetime", "Action", "PolicyID"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Datetime", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "Action", Custom: "action", ECS: "event.action"},
		{Src: "DestinationIP", Custom: "destination.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("destination")},
		{Src: "DestinationPort", Custom: "destination.port", ECS: "destination.port", Type: Long},
		{Src: "DeviceID", Custom: "host.id", ECS: "host.id", Copy: "device.id", Related: RelatedHosts},
		{Src: "DeviceName", Custom: "host.name", ECS: "host.name", Related: RelatedHosts},
		{Src: "SNI", Custom: "sni", ECS: "tls.client.server_name", Copy: "destination.domain", Related: RelatedHosts},
		{Src: "SessionID", Custom: "session_id", ECS: "event.id"},
		{Src: "SourceIP", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "SourcePort", Custom: "source.port", ECS: "source.port", Type: Long},
		// TransportProtocol wins over the deprecated Transport.
		{Src: "TransportProtocol", Custom: "transport", ECS: "network.transport"},
		{Src: "Transport", Custom: "transport", ECS: "network.transport"},
		{Src: "UserID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},
		{Src: "Email", Custom: "user.email", ECS: "user.email", Related: RelatedUser},

		// Custom fields.
		{Src: "AccountID", Custom: "account_id"},
		{Src: "ApplicationIDs", Custom: "application.ids", Type: Long},
		{Src: "ApplicationNames", Custom: "application.names"},
		{Src: "CategoryIDs", Custom: "category.ids", Type: Long},
		{Src: "CategoryNames", Custom: "category.names"},
		{Src: "DestinationIPContinentCode", Custom: "destination_ip.continent_code"},
		{Src: "DestinationIPCountryCode", Custom: "destination_ip.country_code"},
		{Src: "DetectedProtocol", Custom: "detected_protocol"},
		{Src: "OverrideIP", Custom: "override.ip", Type: IP, Related: RelatedIP},
		{Src: "OverridePort", Custom: "override.port", Type: Long},
		{Src: "PolicyID", Custom: "policy.id"},
		{Src: "PolicyName", Custom: "policy.name"},
		{Src: "ProxyEndpoint", Custom: "proxy_endpoint"},
		{Src: "RegistrationID", Custom: "registration_id"},
		{Src: "SourceInternalIP", Custom: "source.internal_ip", Type: IP, Related: RelatedIP},
		{Src: "SourceIPContinentCode", Custom: "source_ip.continent_code"},
		{Src: "SourceIPCountryCode", Custom: "source_ip.country_code"},
		{Src: "VirtualNetworkID", Custom: "virtual_network.id"},
		{Src: "VirtualNetworkName", Custom: "virtual_network.name"},

		// In Cloudflare's reference but not (yet) mapped by Elastic.
		{Src: "TenantID", Custom: "tenant_id"},
	},
}
