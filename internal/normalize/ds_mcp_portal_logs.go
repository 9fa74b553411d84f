package normalize

// mcp_portal_logs (account; requests through a Cloudflare MCP Portal) →
// cloudflare_logpush.mcp_portal_log. Elastic has no such data stream: this
// follows the conventions of its cloudflare_logpush pipelines.
//
// ECS choices: Datetime → @timestamp; ClientIP / ClientCountry →
// source.ip / source.geo.country_iso_code (as http_requests maps its
// ClientIP / ClientCountry); Method (the JSON-RPC method, e.g. tools/call)
// → event.action; Success → event.outcome success / failure;
// ServerResponseDurationMs → event.duration (ns); ServerURL, the upstream
// MCP server, → url.* (uri_parts) and related.hosts; UserEmail / UserID →
// user.email / user.id. event.category [web], event.type [access].

var mcpPortalLogs = &Dataset{
	Name:    "mcp_portal_logs",
	Elastic: "cloudflare_logpush.mcp_portal_log",
	Aliases: []string{"mcp_portal_log"},
	// No id field: the record itself is hashed.
	DropNA: true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["web"]`},
		{"event.type", `["access"]`},
	},
	Fields: []Field{
		{Src: "Datetime", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		{Src: "ClientIP", Custom: "client.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "ClientCountry", Custom: "client.country", ECS: "source.geo.country_iso_code"},
		{Src: "Method", Custom: "method", ECS: "event.action"},
		{Src: "Success", Custom: "success", Type: Bool},                                      // event.outcome in derive
		{Src: "ServerResponseDurationMs", Custom: "server.response_duration_ms", Type: Long}, // event.duration in derive
		{Src: "ServerURL", Custom: "server.url"},                                             // url.* in derive
		{Src: "UserEmail", Custom: "user.email", ECS: "user.email", Related: RelatedUser},
		{Src: "UserID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},

		{Src: "ColoCode", Custom: "colo.code"},
		{Src: "Error", Custom: "error"},
		{Src: "PortalAUD", Custom: "portal.aud"},
		{Src: "PortalID", Custom: "portal.id"},
		{Src: "PromptGetName", Custom: "prompt_get.name"},
		{Src: "ResourceReadURI", Custom: "resource_read.uri"},
		{Src: "ServerAUD", Custom: "server.aud"},
		{Src: "ServerID", Custom: "server.id"},
		{Src: "SessionID", Custom: "session_id"},
		{Src: "ToolCallName", Custom: "tool_call.name"},
	},
	Derive: deriveMCPPortalLogs,
}

// deriveMCPPortalLogs: event.outcome, event.duration, url.* from ServerURL.
func deriveMCPPortalLogs(s *Schema) DeriveFunc {
	success, duration, serverURL := s.Field("Success"), s.Field("ServerResponseDurationMs"), s.Field("ServerURL")
	durationSlot := s.Custom("server.response_duration_ms", false)
	outcome, eventDuration := s.Slot("event.outcome"), s.Slot("event.duration")
	u := BindURL(s)
	return func(r *Rec) {
		if ok, valid := readBool(r.Value(success)); valid {
			if ok {
				r.SetString(outcome, "success")
			} else {
				r.SetString(outcome, "failure")
			}
		}
		if r.IsSet(durationSlot) {
			if ms, ok := readLong(r.Value(duration)); ok && ms >= 0 && ms < 1<<43 {
				r.SetInt(eventDuration, ms*1e6)
			}
		}
		if raw, ok := r.String(serverURL); ok && raw != "" {
			if p, ok := parseURIParts(raw); ok {
				u.setParts(r, raw, &p)
				r.AddRelated(RelatedHosts, p.domain)
			}
		}
	}
}
