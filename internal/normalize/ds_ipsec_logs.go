package normalize

// ipsec_logs (account, Magic WAN / Magic Transit IPsec tunnel health and
// IKE negotiation) → cloudflare_logpush.ipsec.
//
// Elastic has no data stream for this dataset; it follows the conventions
// of Elastic's cloudflare_logpush pipelines. The stream is named like
// Elastic names the other *_logs datasets (dns_logs → dns, sinkhole_http_logs
// → sinkhole_http): ipsec. Custom fields are snake_cased and grouped as
// Elastic groups them (LocalIP → local.ip); a custom field copied to an ECS
// field is an Elastic "duplicate", kept only with KeepDuplicateFields.
//
// ECS: the local end of the tunnel is Cloudflare's edge, the remote end
// the customer's device, and the log says nothing of who sent what, so the
// connection-oriented client/server pair fits where source/destination
// would invent a direction: LocalIP/LocalPort → server.*,
// RemoteIP/RemotePort → client.*. Level → log.level, Message → message,
// network.type "ipsec". No unique id: the deduplication
// id hashes the whole record.

var ipsecLogs = &Dataset{
	Name:    "ipsec_logs",
	Elastic: "cloudflare_logpush.ipsec",
	Aliases: []string{"ipsec"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
		{"network.type", `"ipsec"`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "Level", Custom: "level", ECS: "log.level"},
		{Src: "Message", Custom: "message", ECS: "message"},
		{Src: "LocalIP", Custom: "local.ip", ECS: "server.ip", Type: IP, Related: RelatedIP},
		{Src: "LocalPort", Custom: "local.port", ECS: "server.port", Type: Long},
		{Src: "RemoteIP", Custom: "remote.ip", ECS: "client.ip", Type: IP, Related: RelatedIP},
		{Src: "RemotePort", Custom: "remote.port", ECS: "client.port", Type: Long},
	},
}
