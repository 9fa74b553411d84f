package normalize

import "github.com/valyala/fastjson"

// spectrum_events (zone) → cloudflare_logpush.spectrum_event.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/spectrum_event
// ingest pipeline (ECS 9.3.0): client → source.*, origin → destination.*,
// ConnectTimestamp/DisconnectTimestamp → event.start/event.end (0, "0" and
// "" mean "not yet": no value), the client TLS protocol split into
// tls.version_protocol/tls.version, and network.community_id. As in
// Elastic, the custom action (Event) is kept next to event.action. No
// unique id: the deduplication id hashes the whole record.

var spectrumEvents = &Dataset{
	Name:    "spectrum_events",
	Elastic: "cloudflare_logpush.spectrum_event",
	Aliases: []string{"spectrum_event"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "ConnectTimestamp", Custom: "connect.time", Copy: "event.start", Type: Timestamp},
		{Src: "DisconnectTimestamp", Custom: "disconnect.time", Copy: "event.end", Type: Timestamp},
		{Src: "Event", Custom: "action", Copy: "event.action", Lower: true},

		// Client and origin legs; the custom copies are Elastic duplicates.
		{Src: "ClientIP", Custom: "client.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "ClientPort", Custom: "client.port", ECS: "source.port", Type: Long},
		{Src: "ClientAsn", Custom: "client.asn", ECS: "source.as.number", Type: Long},
		{Src: "ClientBytes", Custom: "client.bytes", ECS: "source.bytes", Type: Long},
		{Src: "ClientCountry", Custom: "client.country", ECS: "source.geo.country_iso_code"},
		{Src: "OriginIP", Custom: "origin.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP},
		{Src: "OriginPort", Custom: "origin.port", ECS: "destination.port", Type: Long},
		{Src: "OriginBytes", Custom: "origin.bytes", ECS: "destination.bytes", Type: Long},
		{Src: "Application", Custom: "application", ECS: "event.id"},
		{Src: "Status", Custom: "status", ECS: "http.response.status_code", Type: Long},

		{Src: "ClientProto", Custom: "client.protocol", Copy: "network.transport", Lower: true},
		{Src: "ClientMatchedIpFirewall", Custom: "client.matched_ip_firewall"},
		{Src: "ClientTcpRtt", Custom: "client.tcp_rtt", Type: Long},
		{Src: "ClientTlsCipher", Custom: "client.tls.cipher"},
		{Src: "ClientTlsClientHelloServerName", Custom: "client.tls.client_hello_server_name"},
		{Src: "ClientTlsProtocol", Custom: "client.tls.protocol"},
		{Src: "ClientTlsStatus", Custom: "client.tls.status"},
		{Src: "ColoCode", Custom: "colo.code"},
		{Src: "IpFirewall", Custom: "ip_firewall", Type: Bool},
		{Src: "OriginProto", Custom: "origin.protocol"},
		{Src: "OriginTcpRtt", Custom: "origin.tcp_rtt", Type: Long},
		{Src: "OriginTlsCipher", Custom: "origin.tls.cipher"},
		{Src: "OriginTlsFingerprint", Custom: "origin.tls.fingerprint"},
		{Src: "OriginTlsMode", Custom: "origin.tls.mode"},
		{Src: "OriginTlsProtocol", Custom: "origin.tls.protocol"},
		{Src: "OriginTlsStatus", Custom: "origin.tls.status"},
		{Src: "ProxyProtocol", Custom: "proxy.protocol"},
	},
	Derive: deriveSpectrumEvents,
}

func deriveSpectrumEvents(s *Schema) DeriveFunc {
	connect, disconnect := s.Field("ConnectTimestamp"), s.Field("DisconnectTimestamp")
	connectTime, start := s.Custom("connect.time", false), s.Slot("event.start")
	disconnectTime, end := s.Custom("disconnect.time", false), s.Slot("event.end")
	tlsProto := s.Field("ClientTlsProtocol")
	tlsVersionProtocol, tlsVersion := s.Slot("tls.version_protocol"), s.Slot("tls.version")
	clientIP, clientPort, originIP, originPort := s.Field("ClientIP"), s.Field("ClientPort"), s.Field("OriginIP"), s.Field("OriginPort")
	proto := s.Field("ClientProto")
	communityID := s.Slot("network.community_id")
	return func(r *Rec) {
		if spectrumZeroTime(r.Value(connect)) {
			r.Unset(connectTime)
			r.Unset(start)
		}
		if spectrumZeroTime(r.Value(disconnect)) {
			r.Unset(disconnectTime)
			r.Unset(end)
		}
		if p, ok := r.String(tlsProto); ok {
			if name, version, ok := SplitTLS(p); ok {
				r.SetLower(tlsVersionProtocol, name)
				r.SetString(tlsVersion, version)
			}
		}
		f := Flow{SrcIP: r.IP(clientIP), DstIP: r.IP(originIP)}
		f.SrcPort, _ = readLong(r.Value(clientPort))
		f.DstPort, _ = readLong(r.Value(originPort))
		f.Transport, _ = r.String(proto)
		setCommunityID(r, communityID, &f)
	}
}

// spectrumZeroTime: the pipeline treats 0 and "0" as "no time".
func spectrumZeroTime(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		return err == nil && f == 0
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b) == "0"
	}
	return false
}
