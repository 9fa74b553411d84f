package normalize

import "github.com/valyala/fastjson"

// dns_firewall_logs (account) → cloudflare_logpush.dns_firewall.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/dns_firewall
// ingest pipeline (ECS 9.3.0): the response codes are kept as strings
// ("0"), dns.response_code names the client's code, else the upstream's,
// and network.transport follows QueryTCP. No unique id: the deduplication
// id hashes the whole record.

var dnsFirewallLogs = &Dataset{
	Name:    "dns_firewall_logs",
	Elastic: "cloudflare_logpush.dns_firewall",
	Aliases: []string{"dns_firewall"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "SourceIP", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "QueryName", Custom: "question.name", ECS: "dns.question.name"},
		{Src: "ClientResponseCode", Custom: "response.code", Type: String},
		{Src: "UpstreamResponseCode", Custom: "upstream.response_code", Type: String},
		{Src: "ClusterID", Custom: "cluster_id"},
		{Src: "ColoCode", Custom: "colo.code"},
		{Src: "EDNSSubnet", Custom: "edns.subnet", Type: IP, Related: RelatedIP},
		{Src: "EDNSSubnetLength", Custom: "edns.subnet_length", Type: Long},
		{Src: "QueryDO", Custom: "question.dnssec_ok", Type: Bool},
		{Src: "QueryRD", Custom: "question.recursion_desired", Type: Bool},
		{Src: "QuerySize", Custom: "question.size", Type: Long},
		{Src: "QueryTCP", Custom: "question.tcp", Type: Bool},
		{Src: "QueryType", Custom: "question.type", Type: Long},
		{Src: "ResponseCached", Custom: "response.cached", Type: Bool},
		{Src: "ResponseReason", Custom: "response.reason"},
		{Src: "ResponseCachedStale", Custom: "response.cached_stale", Type: Bool},
		{Src: "UpstreamIP", Custom: "upstream.ip", Type: IP, Related: RelatedIP},
		{Src: "UpstreamResponseTimeMs", Custom: "upstream.response_time_ms", Type: Long},
	},
	Derive: deriveDNSFirewallLogs,
}

func deriveDNSFirewallLogs(s *Schema) DeriveFunc {
	clientCode, upstreamCode := s.Field("ClientResponseCode"), s.Field("UpstreamResponseCode")
	tcp, qtype := s.Field("QueryTCP"), s.Field("QueryType")
	transport, qtypeName, rcodeName := s.Slot("network.transport"), s.Slot("dns.question.type"), s.Slot("dns.response_code")
	return func(r *Rec) {
		cv, uv := r.Value(clientCode), r.Value(upstreamCode)
		// The pipeline looks the string up in its table: "0" names, "00" does not.
		if name := dnsFirewallRcode(cv); name != "" {
			r.SetString(rcodeName, name)
		} else if name := dnsFirewallRcode(uv); name != "" {
			r.SetString(rcodeName, name)
		}
		if b, ok := readBool(r.Value(tcp)); ok {
			if b {
				r.SetString(transport, "tcp")
			} else {
				r.SetString(transport, "udp")
			}
		}
		if n, ok := readLong(r.Value(qtype)); ok {
			r.SetString(qtypeName, DNSQueryType(n))
		}
	}
}

// dnsFirewallRcode names a response code by its string form, as the
// pipeline's table lookup on the converted string does.
func dnsFirewallRcode(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	var raw string
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		raw = b2s(b)
	case fastjson.TypeNumber:
		n, err := v.Int64() // the text of an integer is its canonical form
		if err != nil {
			return ""
		}
		return DNSResponseCode(n)
	default:
		return ""
	}
	n, ok := canonicalInt(raw)
	if !ok {
		return ""
	}
	return DNSResponseCode(n)
}
