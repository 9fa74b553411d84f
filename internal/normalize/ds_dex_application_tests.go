package normalize

// dex_application_tests (account) → cloudflare_logpush.dex_application_tests.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/dex_application_tests
// ingest pipeline (integration 2.1.0, ECS 9.3.0). HTTP tests describe the
// client (source.*) and the tested server (destination.*, url.*, http.*);
// traceroute tests the source and the destination hosts. The pipeline keeps
// no duplicate custom fields.

var dexApplicationTests = &Dataset{
	Name:     "dex_application_tests",
	Elastic:  "cloudflare_logpush.dex_application_tests",
	IDFields: []string{"TestID", "DeviceID", "Timestamp"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "AccountID", Custom: "account_id"},

		// Device, host, user.
		{Src: "ClientPlatform", ECS: "host.os.name"}, // + host.os.type in deriveDEXApplicationTests
		{Src: "ClientVersion", Custom: "version", Copy: "user_agent.version"},
		{Src: "ColoCode", Custom: "colo.code"},
		{Src: "DeviceID", ECS: "device.id", Copy: "host.id", Related: RelatedHosts},
		{Src: "DeviceRegistrationID", Custom: "device.registration_id"},
		{Src: "ExecutionContext", Custom: "execution_context"},
		{Src: "TestID", Custom: "test.id"},
		{Src: "TestType", Custom: "test.type"},
		{Src: "TunnelType", Custom: "tunnel_type"},
		{Src: "UserEmail", ECS: "user.email", Related: RelatedUser},
		{Src: "UserID", ECS: "user.id", Related: RelatedUser},

		// HTTP test: client IP → source.*.
		{Src: "HTTPClientIPAddress", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "HTTPClientIPASN", ECS: "source.as.number", Type: Long},
		{Src: "HTTPClientIPASO", ECS: "source.as.organization.name"},
		{Src: "HTTPClientIPCity", ECS: "source.geo.city_name"},
		{Src: "HTTPClientIPCountryISO", ECS: "source.geo.country_iso_code"},
		{Src: "HTTPClientIPStateISO", ECS: "source.geo.region_iso_code"},
		{Src: "HTTPClientIPZip", ECS: "source.geo.postal_code"},
		{Src: "HTTPClientIPNetmask", Custom: "http.client_ip.netmask"},
		{Src: "HTTPClientIPVersion", Custom: "http.client_ip.version"},

		// HTTP test: server IP → destination.*.
		{Src: "HTTPServerIPAddress", ECS: "destination.ip", Type: IP, Related: RelatedIP},
		{Src: "HTTPServerIPASN", ECS: "destination.as.number", Type: Long},
		{Src: "HTTPServerIPASO", ECS: "destination.as.organization.name"},
		{Src: "HTTPServerIPCity", ECS: "destination.geo.city_name"},
		{Src: "HTTPServerIPCountryISO", ECS: "destination.geo.country_iso_code"},
		{Src: "HTTPServerIPStateISO", ECS: "destination.geo.region_iso_code"},
		{Src: "HTTPServerIPZip", ECS: "destination.geo.postal_code"},
		{Src: "HTTPServerIPNetmask", Custom: "http.server_ip.netmask"},
		{Src: "HTTPServerIPVersion", Custom: "http.server_ip.version"},

		// HTTP test: request and response. HTTPURL → url.* in deriveDEXApplicationTests.
		{Src: "HTTPMethod", ECS: "http.request.method"},
		{Src: "HTTPStatusCode", ECS: "http.response.status_code", Type: Long},
		{Src: "HTTPURL"},
		{Src: "HTTPErrorMessage", Custom: "http.error_message"},
		{Src: "HTTPResponseBody", ECS: "http.response.body.content"}, // not in Cloudflare's reference; mapped by Elastic
		{Src: "HTTPResponseBodyBytes", ECS: "http.response.body.bytes", Type: Long},
		{Src: "HTTPResponseHeaderBytes", Custom: "http.response.header_bytes", Type: Long},
		{Src: "HTTPResponseHeaders", Custom: "http.response.headers", Mapping: "nested"}, // not in Cloudflare's reference; mapped by Elastic

		// HTTP test: navigation timings (milliseconds since the test start).
		{Src: "HTTPConnectStartMs", Custom: "http.timings.connect_start_ms", Type: Long},
		{Src: "HTTPConnectEndMs", Custom: "http.timings.connect_end_ms", Type: Long},
		{Src: "HTTPDomainLookupStartMs", Custom: "http.timings.domain_lookup_start_ms", Type: Long},
		{Src: "HTTPDomainLookupEndMs", Custom: "http.timings.domain_lookup_end_ms", Type: Long},
		{Src: "HTTPRedirectStartMs", Custom: "http.timings.redirect_start_ms", Type: Long}, // not in Cloudflare's reference; mapped by Elastic
		{Src: "HTTPRedirectEndMs", Custom: "http.timings.redirect_end_ms", Type: Long},     // idem
		{Src: "HTTPRequestStartMs", Custom: "http.timings.request_start_ms", Type: Long},
		{Src: "HTTPResponseStartMs", Custom: "http.timings.response_start_ms", Type: Long},
		{Src: "HTTPResponseEndMs", Custom: "http.timings.response_end_ms", Type: Long},
		{Src: "HTTPSecureConnectionStartMs", Custom: "http.timings.secure_connection_start_ms", Type: Long},

		// Traceroute test: destination.*.
		{Src: "TracerouteDestinationHostname", ECS: "destination.domain", Related: RelatedHosts},
		{Src: "TracerouteDestinationIPAddress", ECS: "destination.ip", Type: IP, Related: RelatedIP},
		{Src: "TracerouteDestinationIPASN", ECS: "destination.as.number", Type: Long},
		{Src: "TracerouteDestinationIPASO", ECS: "destination.as.organization.name"},
		{Src: "TracerouteDestinationIPCity", ECS: "destination.geo.city_name"},
		{Src: "TracerouteDestinationIPCountryISO", ECS: "destination.geo.country_iso_code"},
		{Src: "TracerouteDestinationIPStateISO", ECS: "destination.geo.region_iso_code"},
		{Src: "TracerouteDestinationIPZip", ECS: "destination.geo.postal_code"},
		{Src: "TracerouteDestinationIPNetmask", Custom: "traceroute.destination_ip.netmask"},
		{Src: "TracerouteDestinationIPVersion", Custom: "traceroute.destination_ip.version"},

		// Traceroute test: source.*.
		{Src: "TracerouteSourceIPAddress", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "TracerouteSourceIPASN", ECS: "source.as.number", Type: Long},
		{Src: "TracerouteSourceIPASO", ECS: "source.as.organization.name"},
		{Src: "TracerouteSourceIPCity", ECS: "source.geo.city_name"},
		{Src: "TracerouteSourceIPCountryISO", ECS: "source.geo.country_iso_code"},
		{Src: "TracerouteSourceIPStateISO", ECS: "source.geo.region_iso_code"},
		{Src: "TracerouteSourceIPZip", ECS: "source.geo.postal_code"},
		{Src: "TracerouteSourceIPNetmask", Custom: "traceroute.source_ip.netmask"},
		{Src: "TracerouteSourceIPVersion", Custom: "traceroute.source_ip.version"},

		// Traceroute test: metrics.
		{Src: "TracerouteProtocol", ECS: "network.transport"},
		{Src: "TracerouteDurationMs", Custom: "traceroute.duration_ms", Type: Long},
		{Src: "TracerouteHops", Custom: "traceroute.hops", Mapping: "nested"},
		{Src: "TracerouteMaxTTL", Custom: "traceroute.max_ttl", Type: Long},
		{Src: "TracerouteSize", Custom: "traceroute.size", Type: Long},
		{Src: "TracerouteStatus", Custom: "traceroute.status"},
		{Src: "TracerouteTimeEnd", Custom: "traceroute.time_end", Type: Timestamp},
		{Src: "TracerouteVersion", Custom: "traceroute.version"},
	},
	Derive: deriveDEXApplicationTests,
}

// deriveDEXApplicationTests sets host.os.type from the client platform and
// runs uri_parts (keep_original) on HTTPURL: url.* with url.original, or
// url.full and an error when it does not parse.
func deriveDEXApplicationTests(s *Schema) DeriveFunc {
	osType := bindHostOSType(s, "ClientPlatform")
	rawURL := s.Field("HTTPURL")
	u := BindURL(s)
	full := s.Slot("url.full")
	return func(r *Rec) {
		osType(r)
		if l, ok := r.String(rawURL); ok && l != "" {
			if p, ok := parseURIParts(l); ok {
				u.setParts(r, l, &p)
				r.AddRelated(RelatedHosts, p.domain)
			} else {
				r.SetString(full, l)
				r.AddError(uriPartsError("uri_parts_url_full", l))
			}
		}
	}
}
