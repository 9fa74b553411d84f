package normalize

import (
	"strings"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// mnm_flow_logs (account, Magic Network Monitoring: NetFlow / IPFIX /
// sFlow / AWS VPC flow records) → cloudflare_logpush.mnm_flow.
//
// Elastic has no data stream for this dataset; it follows the conventions
// of Elastic's cloudflare_logpush pipelines and of its netflow integration:
// the stream is named like Elastic names the other *_logs datasets
// (network_analytics_logs → network_analytics): mnm_flow; custom fields are
// grouped and snake_cased as Elastic does (SourceAS → source.asn, as in
// network_analytics); a custom field copied to an ECS field is an Elastic
// "duplicate", kept only with KeepDuplicateFields.
//
// ECS: event.category network / event.type connection (a flow record, as
// in Elastic's netflow integration); source.* and destination.* (ip, port,
// as.number); the sampler (the flow exporter) is the observer
// (observer.ip); Protocol → network.iana_number (a string in ECS) and its
// name in network.transport; Ethertype → network.type (ipv4, ipv6);
// Packets → network.packets and Bits / 8 → network.bytes; RuleIDs, a
// comma-separated list, → rule.id (a list); network.community_id as
// Elasticsearch's community_id processor computes it. @timestamp is
// Timestamp, else FlowTimestamp. No unique id: the deduplication id
// hashes the whole record.

var mnmFlowLogs = &Dataset{
	Name:    "mnm_flow_logs",
	Elastic: "cloudflare_logpush.mnm_flow",
	Aliases: []string{"mnm_flow"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["connection"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "FlowTimestamp", Custom: "flow_timestamp", Copy: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "SourceAddress", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "SourcePort", Custom: "source.port", ECS: "source.port", Type: Long},
		{Src: "SourceAS", Custom: "source.asn", ECS: "source.as.number", Type: Long},
		{Src: "DestinationAddress", Custom: "destination.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP},
		{Src: "DestinationPort", Custom: "destination.port", ECS: "destination.port", Type: Long},
		{Src: "DestinationAS", Custom: "destination.asn", ECS: "destination.as.number", Type: Long},
		{Src: "SamplerAddress", Custom: "sampler.ip", ECS: "observer.ip", Type: IP, Related: RelatedIP},
		{Src: "RuleIDs"}, // rule_ids and rule.id, lists (deriveMNMFlowLogs)

		// Fields copied to ECS while the custom field is kept.
		{Src: "Packets", Custom: "packets", Copy: "network.packets", Type: Long},
		{Src: "Bits", Custom: "bits", Type: Long},         // network.bytes = bits / 8
		{Src: "Protocol", Custom: "protocol", Type: Long}, // network.iana_number, network.transport
		{Src: "Ethertype", Custom: "ethertype", Type: Long},

		{Src: "AWSVPCFlowJSON", Custom: "aws_vpc_flow_json"},
		{Src: "DeviceID", Custom: "device_id"},
		{Src: "EgressBits", Custom: "egress.bits", Type: Long},
		{Src: "EgressPackets", Custom: "egress.packets", Type: Long},
		{Src: "FlowProtocol", Custom: "flow_protocol"},
		{Src: "NumFlows", Custom: "num_flows", Type: Long},
		{Src: "PacketID", Custom: "packet_id"},
		{Src: "SampleRate", Custom: "sample_rate", Type: Long},
		{Src: "SampleRateType", Custom: "sample_rate_type"},
		{Src: "TcpFlags", Custom: "tcp_flags", Type: Long},
	},
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.mnm_flow.rule_ids", Type: "keyword", Source: "RuleIDs"},
	},
	Derive: deriveMNMFlowLogs,
}

func deriveMNMFlowLogs(s *Schema) DeriveFunc {
	ruleIDs, ruleIDsCustom, ruleID := s.Field("RuleIDs"), s.Custom("rule_ids", true), s.Slot("rule.id")
	bits, bytesOut := s.Field("Bits"), s.Slot("network.bytes")
	protocol, iana, transport := s.Field("Protocol"), s.Slot("network.iana_number"), s.Slot("network.transport")
	ethertype, netType := s.Field("Ethertype"), s.Slot("network.type")
	srcIP, dstIP, srcPort, dstPort := s.Field("SourceAddress"), s.Field("DestinationAddress"), s.Field("SourcePort"), s.Field("DestinationPort")
	communityID := s.Slot("network.community_id")
	return func(r *Rec) {
		if v, ok := r.String(ruleIDs); ok && v != "" {
			enc := r.begin()
			enc = append(enc, '[')
			n := 0
			for id := range strings.SplitSeq(v, ",") {
				if id = strings.TrimSpace(id); id == "" {
					continue
				}
				if n > 0 {
					enc = append(enc, ',')
				}
				enc = ecsjson.AppendString(enc, id)
				n++
			}
			if n > 0 {
				start := r.mark
				r.commit(ruleID, append(enc, ']'))
				if r.KeepDuplicates() {
					r.assign(ruleIDsCustom, start, len(r.arena))
				}
			}
		}
		if b, ok := readLong(r.Value(bits)); ok && b >= 0 {
			r.SetInt(bytesOut, b/8)
		}
		f := Flow{SrcIP: r.IP(srcIP), DstIP: r.IP(dstIP)}
		if p, ok := readLong(r.Value(protocol)); ok && p >= 0 && p <= 255 {
			f.IANANumber = smallInts[p]
			r.SetString(iana, f.IANANumber)
			r.SetString(transport, ianaTransport(p))
		}
		switch t, _ := readLong(r.Value(ethertype)); t {
		case 0x0800:
			r.SetString(netType, "ipv4")
		case 0x86DD:
			r.SetString(netType, "ipv6")
		}
		f.SrcPort, _ = readLong(r.Value(srcPort))
		f.DstPort, _ = readLong(r.Value(dstPort))
		setCommunityID(r, communityID, &f)
	}
}
