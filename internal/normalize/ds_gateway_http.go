package normalize

// gateway_http (account) → cloudflare_logpush.gateway_http.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/gateway_http
// ingest pipeline (ECS 9.3.0, the version with file.*, device.id and
// related.hash the conformance fixtures were made with).

var gatewayHTTP = &Dataset{
	Name:    "gateway_http",
	Elastic: "cloudflare_logpush.gateway_http",
	// RequestID is Cloudflare's request id (it may be empty on bypass:
	// the raw record is hashed then).
	IDFields: []string{"RequestID", "Datetime"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Datetime", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "Action", Custom: "action", ECS: "event.action"}, // event.type allowed/denied in derive
		{Src: "DeviceID", Custom: "host.id", ECS: "host.id", Copy: "device.id", Related: RelatedHosts},
		{Src: "DeviceName", Custom: "host.name", ECS: "host.name", Related: RelatedHosts},
		{Src: "DestinationIP", Custom: "destination.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("destination")},
		{Src: "DestinationPort", Custom: "destination.port", ECS: "destination.port", Type: Long},
		{Src: "HTTPMethod", Custom: "request.method", ECS: "http.request.method"},
		{Src: "HTTPStatusCode", Custom: "response.status_code", ECS: "http.response.status_code", Type: Long},
		{Src: "HTTPVersion", Custom: "request.version", ECS: "http.version"},
		{Src: "Referer", Custom: "request.referrer", ECS: "http.request.referrer"},
		{Src: "SourceIP", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "SourcePort", Custom: "source.port", ECS: "source.port", Type: Long},
		{Src: "URL", Custom: "url", ECS: "url.original"}, // uri_parts in derive
		{Src: "UserAgent", Custom: "user_agent", ECS: "user_agent.original"},
		{Src: "UserID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},
		{Src: "Email", Custom: "user.email", ECS: "user.email", Related: RelatedUser},
		{Src: "BlockedFileHash", Custom: "blocked_file.hash", ECS: "file.hash.sha256", Related: RelatedHash},
		{Src: "BlockedFileName", Custom: "blocked_file.name", ECS: "file.name"},
		{Src: "BlockedFileSize", Custom: "blocked_file.size", ECS: "file.size", Type: Long},
		{Src: "BlockedFileType", Custom: "blocked_file.type", ECS: "file.extension"},

		// Custom fields.
		{Src: "AccountID", Custom: "account_id"},
		{Src: "ApplicationIDs", Custom: "application.ids", Type: String},
		{Src: "ApplicationNames", Custom: "application.names"},
		{Src: "ApplicationStatuses", Custom: "application.statuses"},
		{Src: "AppControlInfo", Custom: "app_control_info", Mapping: "flattened"},
		{Src: "BlockedFileReason", Custom: "blocked_file.reason"},
		{Src: "CategoryIDs", Custom: "category.ids", Type: Long},
		{Src: "CategoryNames", Custom: "category.names"},
		{Src: "DestinationIPContinentCode", Custom: "destination_ip.continent_code"},
		{Src: "DestinationIPCountryCode", Custom: "destination_ip.country_code"},
		{Src: "DownloadedFileNames", Custom: "downloaded_files"},
		{Src: "DownloadMatchedDlpProfileEntries", Custom: "download_matched_dlp.profile_entries"},
		{Src: "DownloadMatchedDlpProfiles", Custom: "download_matched_dlp.profiles"},
		{Src: "FileInfo", Custom: "file_info", Mapping: "flattened"},
		{Src: "ForensicCopyStatus", Custom: "forensic_copy_status"},
		{Src: "HTTPHost", Custom: "request.host", Related: RelatedHosts},
		{Src: "IsIsolated", Custom: "isolated", Type: Bool},
		{Src: "PolicyID", Custom: "policy.id"},
		{Src: "PolicyName", Custom: "policy.name"},
		{Src: "PrivateAppAUD", Custom: "private_app_aud"},
		{Src: "ProxyEndpoint", Custom: "proxy_endpoint"},
		{Src: "Quarantined", Custom: "quarantined", Type: Bool},
		{Src: "RedirectTargetURI", Custom: "redirect_target_uri"},
		{Src: "RegistrationID", Custom: "registration_id"},
		{Src: "RequestID", Custom: "request_id"},
		{Src: "SessionID", Custom: "session_id"},
		{Src: "SourceInternalIP", Custom: "source.internal_ip", Type: IP, Related: RelatedIP},
		{Src: "SourceIPContinentCode", Custom: "source_ip.continent_code"},
		{Src: "SourceIPCountryCode", Custom: "source_ip.country_code"},
		{Src: "UntrustedCertificateAction", Custom: "untrusted_certificate_action"},
		{Src: "UploadMatchedDlpProfileEntries", Custom: "upload_matched_dlp.profile_entries"},
		{Src: "UploadMatchedDlpProfiles", Custom: "upload_matched_dlp.profiles"},
		{Src: "UploadedFileNames", Custom: "uploaded_files"},
		{Src: "VirtualNetworkID", Custom: "virtual_network.id"},
		{Src: "VirtualNetworkName", Custom: "virtual_network.name"},

		// In Cloudflare's reference but not (yet) mapped by Elastic, whose
		// pipeline drops them; kept here under names in Elastic's style.
		{Src: "AddedHeaders", Custom: "added_headers"},
		{Src: "DeletedHeaders", Custom: "deleted_headers"},
		{Src: "SetHeaders", Custom: "set_headers"},
		{Src: "TenantID", Custom: "tenant_id"},
		{Src: "Warnings", Custom: "warnings"},
	},
	Derive: deriveGatewayHTTP,
}

// deriveGatewayHTTP: event.type allowed / denied from Action, and url.*
// from uri_parts on URL.
func deriveGatewayHTTP(s *Schema) DeriveFunc {
	action, rawURL := s.Field("Action"), s.Field("URL")
	eventType := s.Slot("event.type")
	u := BindURL(s)
	return func(r *Rec) {
		switch a, _ := r.String(action); a {
		case "allow", "bypass":
			setStrings(r, eventType, "info", "allowed")
		case "block":
			setStrings(r, eventType, "info", "denied")
		}
		if raw, ok := r.String(rawURL); ok && raw != "" {
			if !u.URIParts(r, raw) {
				// Elastic's uri_parts has no ignore_failure: the pipeline's
				// on_failure handler records the error.
				r.AddError(uriPartsError("Processor uri_parts in pipeline failed with message", raw))
			}
		}
	}
}
