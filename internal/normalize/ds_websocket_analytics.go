package normalize

// websocket_analytics (zone and account) →
// cloudflare_logpush.websocket_analytics.
//
// Elastic has no such data stream: this follows the conventions of its
// http_request pipeline (same custom names for the same Cloudflare fields:
// client.ip, client.asn, client.request.host / path / user.agent,
// edge.start_time / end_time, edge.colo.code, ray.id; the same ECS copies).
// The zone dataset (PascalCase fields) and the account dataset (camelCase
// fields, times as plain unix nanoseconds) describe the same connections:
// both spellings land on the same fields, the zone one first. ECS:
//   - @timestamp / event.start: the connection start; event.end, and
//     event.duration (ns) between them;
//   - event.kind "event", event.category ["network"], event.type
//     ["connection","end"] (one record per closed connection),
//     event.reason: the close reason, event.id: the upgrade request's RayID;
//   - source.ip / source.as.number (the client), source.bytes (bytes the
//     client sent), destination.bytes (bytes the origin sent);
//   - url.domain / url.path of the upgrade request, user_agent.*,
//     network.protocol "websocket", related.ip / related.hosts.

var websocketAnalytics = &Dataset{
	Name:     "websocket_analytics",
	Elastic:  "cloudflare_logpush.websocket_analytics",
	IDFields: []string{"ConnectionID"}, // the account dataset (connectionId) hashes the raw record
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["connection","end"]`},
		{"network.protocol", `"websocket"`},
	},
	Fields: []Field{
		// Times. The start wins @timestamp.
		{Src: "EdgeStartTimestamp", Custom: "edge.start_time", Copy: "@timestamp", Type: Timestamp},
		{Src: "timestampStartNanos", Custom: "edge.start_time", Copy: "@timestamp", Type: Timestamp},
		{Src: "EdgeEndTimestamp", Custom: "edge.end_time", Type: Timestamp},
		{Src: "timestampEndNanos", Custom: "edge.end_time", Type: Timestamp},

		// Client (the custom copy of an ECS field is a duplicate, as in
		// Elastic's http_request).
		{Src: "ClientIP", Custom: "client.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "clientIP", Custom: "client.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "ClientASN", Custom: "client.asn", ECS: "source.as.number", Type: Long},
		{Src: "clientASN", Custom: "client.asn", ECS: "source.as.number", Type: Long},
		{Src: "ClientRequestHost", Custom: "client.request.host", Copy: "url.domain", Related: RelatedHosts},
		{Src: "clientRequestHTTPHost", Custom: "client.request.host", Copy: "url.domain", Related: RelatedHosts},
		{Src: "ClientRequestPath", Custom: "client.request.path", Copy: "url.path"},
		{Src: "clientRequestPath", Custom: "client.request.path", Copy: "url.path"},
		{Src: "ClientRequestUserAgent", Custom: "client.request.user.agent", ECS: "user_agent.original", Enrich: UserAgent},
		{Src: "clientRequestUserAgent", Custom: "client.request.user.agent", ECS: "user_agent.original", Enrich: UserAgent},

		// Bytes, from Cloudflare's point of view: received from / sent to
		// the client (uplink / downlink) and the origin.
		{Src: "BytesReceivedClient", Custom: "bytes_received.client", Copy: "source.bytes", Type: Long},
		{Src: "byteRecvUplink", Custom: "bytes_received.client", Copy: "source.bytes", Type: Long},
		{Src: "BytesSentClient", Custom: "bytes_sent.client", Type: Long},
		{Src: "byteSentDownlink", Custom: "bytes_sent.client", Type: Long},
		{Src: "BytesReceivedOrigin", Custom: "bytes_received.origin", Copy: "destination.bytes", Type: Long},
		{Src: "byteRecvDownlink", Custom: "bytes_received.origin", Copy: "destination.bytes", Type: Long},
		{Src: "BytesSentOrigin", Custom: "bytes_sent.origin", Type: Long},
		{Src: "byteSentUplink", Custom: "bytes_sent.origin", Type: Long},

		// Connection.
		{Src: "ConnectionID", Custom: "connection.id"},
		{Src: "connectionId", Custom: "connection.id"},
		{Src: "ConnectionCloseReason", Custom: "connection.close.reason", Copy: "event.reason"},
		{Src: "connectionCloseReason", Custom: "connection.close.reason", Copy: "event.reason"},
		{Src: "ConnectionCloseSource", Custom: "connection.close.source"},
		{Src: "connectionCloseSource", Custom: "connection.close.source"},
		{Src: "ConnectionTransportCloseCode", Custom: "connection.transport_close_code", Type: Long},
		{Src: "transportCloseCode", Custom: "connection.transport_close_code", Type: Long},
		{Src: "ColoCode", Custom: "edge.colo.code"},
		{Src: "coloCode", Custom: "edge.colo.code"},
		{Src: "RayID", Custom: "ray.id", Copy: "event.id"},
		{Src: "rayId", Custom: "ray.id", Copy: "event.id"},

		// Account scope only.
		{Src: "accountId", Custom: "account.id", Type: Long},
		{Src: "zoneId", Custom: "zone.id", Type: Long},
	},
	Derive: deriveWebsocketAnalytics,
}

// deriveWebsocketAnalytics writes event.start and event.duration.
func deriveWebsocketAnalytics(s *Schema) DeriveFunc {
	span := bindEventSpan(s, "EdgeStartTimestamp", "EdgeEndTimestamp")
	altStart, altEnd := s.Field("timestampStartNanos"), s.Field("timestampEndNanos")
	return func(r *Rec) { span.apply(r, altStart, altEnd) }
}
