package normalize

// magic_bgp_logs (account, BGP sessions over Magic WAN / Magic Transit
// tunnels) → cloudflare_logpush.magic_bgp.
//
// Elastic has no data stream for this dataset; it follows the conventions
// of Elastic's cloudflare_logpush pipelines: the stream is named like
// Elastic names the other *_logs datasets (dns_logs → dns): magic_bgp;
// custom fields are grouped and snake_cased as Elastic does (EventKind →
// event.kind, TunnelID → tunnel.id); the time field is also @timestamp.
//
// ECS: EventKind (open_message, update_message, bgp_state_transition, ...)
// → event.action; Direction → network.direction, to_cloudflare being
// ingress and from_cloudflare egress from Cloudflare's side (the Cloudflare
// value stays in the custom field). EventData, whose shape depends on the
// event kind, is kept as the object it is. No unique id: the
// deduplication id hashes the whole record.

var magicBGPLogs = &Dataset{
	Name:    "magic_bgp_logs",
	Elastic: "cloudflare_logpush.magic_bgp",
	Aliases: []string{"magic_bgp"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
		{"network.protocol", `"bgp"`},
	},
	Fields: []Field{
		{Src: "EventTimestamp", Custom: "event.timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "EventKind", Custom: "event.kind", Copy: "event.action"},
		{Src: "EventData", Custom: "event.data", Mapping: "flattened"},
		{Src: "Direction", Custom: "direction"},
		{Src: "TunnelID", Custom: "tunnel.id"},
		{Src: "TunnelName", Custom: "tunnel.name"},
	},
	Derive: deriveMagicBGPLogs,
}

func deriveMagicBGPLogs(s *Schema) DeriveFunc {
	direction, networkDirection := s.Field("Direction"), s.Slot("network.direction")
	return func(r *Rec) {
		switch d, _ := r.String(direction); d {
		case "to_cloudflare":
			r.SetString(networkDirection, "ingress")
		case "from_cloudflare":
			r.SetString(networkDirection, "egress")
		}
	}
}
