package normalize

// magic_ids_detections (account, Magic Firewall IDS) → cloudflare_logpush.magic_ids.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/magic_ids ingest
// pipeline (ECS 9.3.0): source/destination with GeoIP, the action in
// event.action, and event.type gets "allowed" (pass) or "denied" (block)
// after "info". No unique id: the deduplication id hashes the whole record.

var magicIDSDetections = &Dataset{
	Name:    "magic_ids_detections",
	Elastic: "cloudflare_logpush.magic_ids",
	Aliases: []string{"magic_ids"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network","intrusion_detection"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "DestinationIP", Custom: "destination.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("destination")},
		{Src: "DestinationPort", Custom: "destination.port", ECS: "destination.port", Type: Long},
		{Src: "SourceIP", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "SourcePort", Custom: "source.port", ECS: "source.port", Type: Long},
		{Src: "Protocol", Custom: "transport", ECS: "network.transport"},
		{Src: "Action", Custom: "action", ECS: "event.action"},
		{Src: "ColoCode", Custom: "colo.code"},
		{Src: "ColoCity", Custom: "colo.city"},
		{Src: "SignatureID", Custom: "signature.id", Type: Long},
		{Src: "SignatureMessage", Custom: "signature.message"},
		{Src: "SignatureRevision", Custom: "signature.revision", Type: Long},
	},
	Derive: deriveMagicIDSDetections,
}

func deriveMagicIDSDetections(s *Schema) DeriveFunc {
	action, eventType := s.Field("Action"), s.Slot("event.type")
	return func(r *Rec) {
		switch a, _ := r.String(action); a {
		case "pass":
			r.SetRaw(eventType, []byte(`["info","allowed"]`))
		case "block":
			r.SetRaw(eventType, []byte(`["info","denied"]`))
		}
	}
}
