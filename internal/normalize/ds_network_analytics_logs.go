package normalize

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// network_analytics_logs (account, Magic Transit / Spectrum / DDoS packet
// samples) → cloudflare_logpush.network_analytics.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/network_analytics
// ingest pipeline (ECS 9.3.0): Outcome → event.outcome (pass: success,
// drop: failure), source/destination ip, port and ASN, network.direction
// and network.transport, rule.id, threat.group.id (the attack campaign),
// threat.indicator.id (the attack), related.hosts (the colo name),
// related.hash (the geohashes), network.community_id.
//
// Cloudflare renamed some fields (IPTtl → IPTTL, IPv4Dscp → IPv4DSCP,
// TCPMss → TCPMSS, TCPSackBlocks → TCPSACKBlocks, ...): both spellings
// land in the same field, the new one first; when a record has both with
// different values the field holds both, as Elastic's append does.
// GREEtherType (Cloudflare's current spelling) is kept in gre.ether.type
// like the GREEthertype Elastic reads: Elastic's pipeline drops it.
// No unique id: the deduplication id hashes the whole record.

var networkAnalyticsLogs = &Dataset{
	Name:    "network_analytics_logs",
	Elastic: "cloudflare_logpush.network_analytics",
	Aliases: []string{"network_analytics"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Datetime", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "Outcome"}, // outcome and event.outcome (deriveNetworkAnalytics)

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		// Source rows first: related.ip lists the source first.
		{Src: "IPSourceAddress", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "SourceASN", Custom: "source.asn", ECS: "source.as.number", Type: Long},
		{Src: "SourcePort", Custom: "source.port", ECS: "source.port", Type: Long},
		{Src: "IPDestinationAddress", Custom: "destination.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP},
		{Src: "DestinationASN", Custom: "destination.asn", ECS: "destination.as.number", Type: Long},
		{Src: "DestinationPort", Custom: "destination.port", ECS: "destination.port", Type: Long},
		{Src: "Direction", Custom: "direction", ECS: "network.direction"},
		{Src: "IPProtocolName", Custom: "ip.protocol.name", ECS: "network.transport", Lower: true, Mapping: "text"},
		{Src: "RuleID", Custom: "rule.id", ECS: "rule.id", Mapping: "text"},

		// Attack and rule.
		{Src: "AttackCampaignID", Custom: "attack.campaign.id", Copy: "threat.group.id"},
		{Src: "AttackID", Custom: "attack.id"}, // also threat.indicator.id, a list
		{Src: "AttackVector", Custom: "attack.vector"},
		{Src: "RuleName", Custom: "rule.name", Mapping: "text"},
		{Src: "RulesetID", Custom: "rule.set.id"},
		{Src: "RulesetOverrideID", Custom: "rule.set.override.id", Mapping: "text"},
		{Src: "MitigationReason", Custom: "mitigation.reason"},
		{Src: "MitigationScope", Custom: "mitigation.scope"},
		{Src: "MitigationSystem", Custom: "mitigation.system"},
		{Src: "ProtocolState", Custom: "protocol_state"},
		{Src: "SampleInterval", Custom: "sample_interval", Type: Long},
		{Src: "Verdict", Custom: "verdict"},

		// Geography; geohashes go to related.hash and, when they are
		// geohashes, to <x>.geo_location (deriveNetworkAnalytics).
		{Src: "SourceASNName", Custom: "source.as.number.name", Mapping: "text"},
		{Src: "SourceASNDescription", Custom: "source.as.number.description", Mapping: "text"}, // deprecated
		{Src: "SourceCountry", Custom: "source.country"},
		{Src: "SourceGeoHash", Custom: "source.geo_hash", Related: RelatedHash},
		{Src: "DestinationASNName", Custom: "destination.as.number.name", Mapping: "text"},
		{Src: "DestinationASNDescription", Custom: "destination.as.number.description", Mapping: "text"}, // deprecated
		{Src: "DestinationCountry", Custom: "destination.country"},
		{Src: "DestinationGeoHash", Custom: "destination.geo_hash", Related: RelatedHash},
		{Src: "ColoCity", Custom: "colo.city"},
		{Src: "ColoCode", Custom: "colo.code"},
		{Src: "ColoCountry", Custom: "colo.country"},
		{Src: "ColoGeoHash", Custom: "colo.geo_hash", Related: RelatedHash},
		{Src: "ColoID", Custom: "colo.id", Type: Long}, // deprecated
		{Src: "ColoName", Custom: "colo.name", Related: RelatedHosts},

		// GRE.
		{Src: "GREChecksum", Custom: "gre.checksum", Type: Long},
		{Src: "GREEthertype", Custom: "gre.ether.type", Type: Long}, // Elastic's spelling
		{Src: "GREEtherType", Custom: "gre.ether.type", Type: Long},
		{Src: "GREHeaderLength", Custom: "gre.header.length", Type: Long},
		{Src: "GREKey", Custom: "gre.key", Type: Long},
		{Src: "GRESequenceNumber", Custom: "gre.sequence.number", Type: Long},
		{Src: "GREVersion", Custom: "gre.version", Type: Long},

		// ICMP.
		{Src: "ICMPChecksum", Custom: "icmp.checksum", Type: Long},
		{Src: "ICMPCode", Custom: "icmp.code", Type: Long},
		{Src: "ICMPType", Custom: "icmp.type", Type: Long},

		// IP.
		{Src: "IPDestinationSubnet", Custom: "ip.destination.subnet"},
		{Src: "IPFragmentOffset", Custom: "ip.fragment.offset", Type: Long},
		{Src: "IPHeaderLength", Custom: "ip.header.length", Type: Long},
		{Src: "IPMoreFragments", Custom: "ip.more.fragments", Type: Long},
		{Src: "IPProtocol", Custom: "ip.protocol.value", Type: Long},
		{Src: "IPSourceSubnet", Custom: "ip.source.subnet"},
		{Src: "IPTotalLength", Custom: "ip.total.length.value", Type: Long},
		{Src: "IPTotalLengthBuckets", Custom: "ip.total.length.buckets", Type: Long},
		{Src: "IPTTL", Custom: "ip.ttl.value", Type: Long},
		{Src: "IPTtl", Custom: "ip.ttl.value", Type: Long},
		{Src: "IPTTLBuckets", Custom: "ip.ttl.buckets", Type: Long},
		{Src: "IPTtlBuckets", Custom: "ip.ttl.buckets", Type: Long},

		// IPv4 and IPv6.
		{Src: "IPv4Checksum", Custom: "ipv4.checksum", Type: Long},
		{Src: "IPv4DontFragment", Custom: "ipv4.dont_fragment", Type: Long},
		{Src: "IPv4DSCP", Custom: "ipv4.dscp", Type: Long},
		{Src: "IPv4Dscp", Custom: "ipv4.dscp", Type: Long},
		{Src: "IPv4ECN", Custom: "ipv4.ecn", Type: Long},
		{Src: "IPv4Ecn", Custom: "ipv4.ecn", Type: Long},
		{Src: "IPv4Identification", Custom: "ipv4.identification", Type: Long},
		{Src: "IPv4Options", Custom: "ipv4.options", Type: Long},
		{Src: "IPv6DSCP", Custom: "ipv6.dscp", Type: Long},
		{Src: "IPv6Dscp", Custom: "ipv6.dscp", Type: Long},
		{Src: "IPv6ECN", Custom: "ipv6.ecn", Type: Long},
		{Src: "IPv6Ecn", Custom: "ipv6.ecn", Type: Long},
		{Src: "IPv6ExtensionHeaders", Custom: "ipv6.extension_headers", Mapping: "text"},
		{Src: "IPv6FlowLabel", Custom: "ipv6.flow_label", Type: Long},
		{Src: "IPv6Identification", Custom: "ipv6.identification", Type: Long},

		// TCP and UDP.
		{Src: "TCPAcknowledgementNumber", Custom: "tcp.acknowledgement_number", Type: Long},
		{Src: "TCPChecksum", Custom: "tcp.checksum", Type: Long},
		{Src: "TCPDataOffset", Custom: "tcp.dataoffset", Type: Long},
		{Src: "TCPFlags", Custom: "tcp.flags.value", Type: Long},
		{Src: "TCPFlagsString", Custom: "tcp.flags.string", Mapping: "text"},
		{Src: "TCPMSS", Custom: "tcp.mss", Type: Long},
		{Src: "TCPMss", Custom: "tcp.mss", Type: Long},
		{Src: "TCPOptions", Custom: "tcp.options", Mapping: "text"},
		{Src: "TCPSACKBlocks"}, // tcp.sack.blocks, a list of longs (deriveNetworkAnalytics)
		{Src: "TCPSackBlocks"},
		{Src: "TCPSACKPermitted", Custom: "tcp.sack.permitted", Type: Long},
		{Src: "TCPSacksPermitted", Custom: "tcp.sack.permitted", Type: Long},
		{Src: "TCPSequenceNumber", Custom: "tcp.sequence_number", Type: Long},
		{Src: "TCPTimestampECR", Custom: "tcp.timestamp.ecr", Type: Long},
		{Src: "TCPTimestampEcr", Custom: "tcp.timestamp.ecr", Type: Long},
		{Src: "TCPTimestampValue", Custom: "tcp.timestamp.value", Type: Long},
		{Src: "TCPUrgentPointer", Custom: "tcp.urgent_pointer", Type: Long},
		{Src: "TCPWindowScale", Custom: "tcp.window.scale", Type: Long},
		{Src: "TCPWindowSize", Custom: "tcp.window.size", Type: Long},
		{Src: "UDPChecksum", Custom: "udp.checksum", Type: Long},
		{Src: "UDPPayloadLength", Custom: "udp.payload_length", Type: Long},
	},
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.network_analytics.outcome", Type: "keyword"},
		{Path: "cloudflare_logpush.network_analytics.tcp.sack.blocks", Type: "long", Source: "TCPSACKBlocks"},
		{Path: "cloudflare_logpush.network_analytics.source.geo_location", Type: "geo_point", Source: "SourceGeoHash"},
		{Path: "cloudflare_logpush.network_analytics.destination.geo_location", Type: "geo_point", Source: "DestinationGeoHash"},
		{Path: "cloudflare_logpush.network_analytics.colo.geo_location", Type: "geo_point", Source: "ColoGeoHash"},
		{Path: "threat.indicator.id", Type: "keyword", Source: "AttackID"},
	},
	Derive: deriveNetworkAnalytics,
}

// naRenamed pairs a field's current name with its old spelling.
var naRenamed = [...]struct{ cur, old, custom string }{
	{"IPTTL", "IPTtl", "ip.ttl.value"},
	{"IPTTLBuckets", "IPTtlBuckets", "ip.ttl.buckets"},
	{"IPv4DSCP", "IPv4Dscp", "ipv4.dscp"},
	{"IPv4ECN", "IPv4Ecn", "ipv4.ecn"},
	{"IPv6DSCP", "IPv6Dscp", "ipv6.dscp"},
	{"IPv6ECN", "IPv6Ecn", "ipv6.ecn"},
	{"TCPMSS", "TCPMss", "tcp.mss"},
	{"TCPSACKPermitted", "TCPSacksPermitted", "tcp.sack.permitted"},
	{"TCPTimestampECR", "TCPTimestampEcr", "tcp.timestamp.ecr"},
}

func deriveNetworkAnalytics(s *Schema) DeriveFunc {
	outcome := s.Field("Outcome")
	outcomeCustom, eventOutcome := s.Custom("outcome", true), s.Slot("event.outcome")
	attackID, indicator := s.Field("AttackID"), s.Slot("threat.indicator.id")
	type pair struct {
		cur, old FieldRef
		out      SlotRef
	}
	var pairs [len(naRenamed)]pair
	for i, p := range naRenamed {
		pairs[i] = pair{s.Field(p.cur), s.Field(p.old), s.Custom(p.custom, false)}
	}
	sack, sackOld, sackOut := s.Field("TCPSACKBlocks"), s.Field("TCPSackBlocks"), s.Custom("tcp.sack.blocks", false)
	srcIP, dstIP := s.Field("IPSourceAddress"), s.Field("IPDestinationAddress")
	srcPort, dstPort := s.Field("SourcePort"), s.Field("DestinationPort")
	proto := s.Field("IPProtocolName")
	communityID := s.Slot("network.community_id")
	var geo [3]struct {
		f    FieldRef
		out  SlotRef
		name string
	}
	for i, p := range [...][2]string{{"SourceGeoHash", "source"}, {"DestinationGeoHash", "destination"}, {"ColoGeoHash", "colo"}} {
		geo[i].f, geo[i].out, geo[i].name = s.Field(p[0]), s.Custom(p[1]+".geo_location", false), p[0]
	}
	return func(r *Rec) {
		if o, _ := r.String(outcome); o == "pass" {
			r.SetString(outcomeCustom, "success")
			r.SetString(eventOutcome, "success")
		} else if o == "drop" {
			r.SetString(outcomeCustom, "failure")
			r.SetString(eventOutcome, "failure")
		}
		if v := r.Value(attackID); v != nil && v.Type() == fastjson.TypeString {
			if b, _ := v.StringBytes(); len(b) > 0 {
				enc := r.begin()
				enc = append(enc, '[')
				enc = ecsjson.AppendStringBytes(enc, b)
				r.commit(indicator, append(enc, ']'))
			}
		}
		for i := range pairs {
			naBothSpellings(r, pairs[i].cur, pairs[i].old, pairs[i].out)
		}
		naSACKBlocks(r, sack, sackOld, sackOut)
		// set <x>.geo_location copy_from <x>.geo_hash: a geo_point field,
		// which takes a geohash and nothing else.
		for _, g := range geo {
			v := r.Value(g.f)
			switch h, ok := stringOf(v); {
			case ok && validGeohash(h):
				r.SetString(g.out, h)
			case !isEmpty(v):
				r.AddError(conversionError(g.name, v, "geo_point"))
			}
		}

		f := Flow{SrcIP: r.IP(srcIP), DstIP: r.IP(dstIP)}
		f.SrcPort, _ = readLong(r.Value(srcPort))
		f.DstPort, _ = readLong(r.Value(dstPort))
		f.Transport, _ = r.String(proto)
		setCommunityID(r, communityID, &f)
	}
}

// naBothSpellings: a record with both spellings of a field, with different
// values, gets both in a list (Elastic renames the current one, appends the
// old one, then converts the list to longs).
func naBothSpellings(r *Rec, cur, old FieldRef, out SlotRef) {
	cv, ov := r.Value(cur), r.Value(old)
	if cv == nil || ov == nil || isEmpty(cv) || isEmpty(ov) {
		return
	}
	var a, b [64]byte
	if bytes.Equal(cv.MarshalTo(a[:0]), ov.MarshalTo(b[:0])) {
		return
	}
	c, ok1 := readLong(cv)
	o, ok2 := readLong(ov)
	if !ok1 || !ok2 {
		return // the conversion error is already reported
	}
	enc := r.begin()
	enc = append(enc, '[')
	enc = ecsjson.AppendInt(enc, c)
	if c != o {
		enc = append(enc, ',')
		enc = ecsjson.AppendInt(enc, o)
	}
	r.commit(out, append(enc, ']'))
}

// naSACKBlocks writes tcp.sack.blocks: a "1,2, 3" string is split on
// ", *", a single number stays a number, the old TCPSackBlocks spelling is
// appended element by element (without duplicates), and everything is
// converted to longs.
func naSACKBlocks(r *Rec, cur, old FieldRef, out SlotRef) {
	cv, ov := r.Value(cur), r.Value(old)
	hasCur, hasOld := cv != nil && !isEmpty(cv), ov != nil && !isEmpty(ov)
	if !hasCur && !hasOld {
		return
	}
	var vals [16]int64
	list := vals[:0]
	ok := true
	if hasCur {
		if list, ok = naCollectSACK(list, cv, false); !ok {
			r.AddError("TCPSACKBlocks: cannot convert the SACK blocks to long")
		}
	}
	if hasOld {
		if list, ok = naCollectSACK(list, ov, true); !ok {
			r.AddError("TCPSackBlocks: cannot convert the SACK blocks to long")
		}
	}
	if len(list) == 0 {
		return
	}
	enc := r.begin()
	// A single number stays a number; Elastic's append makes a list of it.
	if hasCur && !hasOld && cv.Type() == fastjson.TypeNumber {
		r.commit(out, ecsjson.AppendInt(enc, list[0]))
		return
	}
	enc = append(enc, '[')
	for i, n := range list {
		if i > 0 {
			enc = append(enc, ',')
		}
		enc = ecsjson.AppendInt(enc, n)
	}
	r.commit(out, append(enc, ']'))
}

// naCollectSACK appends the blocks of v (a "1, 2" string, a list or a
// number) to list, without duplicates when unique; ok is false when an
// element is not an integer (it is left out).
func naCollectSACK(list []int64, v *fastjson.Value, unique bool) ([]int64, bool) {
	ok := true
	put := func(n int64) {
		if unique {
			list = naAppendUnique(list, n)
		} else {
			list = append(list, n)
		}
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		for part := range strings.SplitSeq(b2s(b), ",") {
			if part = strings.TrimLeft(part, " "); part == "" {
				continue
			}
			n, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				ok = false
				continue
			}
			put(n)
		}
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, e := range arr {
			if isEmpty(e) {
				continue
			}
			n, good := readLong(e)
			if !good {
				ok = false
				continue
			}
			put(n)
		}
	default:
		n, good := readLong(v)
		if !good {
			return list, false
		}
		put(n)
	}
	return list, ok
}

func naAppendUnique(list []int64, n int64) []int64 {
	for _, m := range list {
		if m == n {
			return list
		}
	}
	return append(list, n)
}

// validGeohash: s is a geohash (1 to 12 of its base 32 digits), as a
// geo_point field takes it.
func validGeohash(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("0123456789bcdefghjkmnpqrstuvwxyz", s[i]) < 0 {
			return false
		}
	}
	return true
}
