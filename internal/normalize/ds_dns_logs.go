package normalize

// dns_logs (zone, authoritative DNS) → cloudflare_logpush.dns.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/dns ingest
// pipeline (ECS 9.3.0), including its IANA tables for dns.question.type and
// dns.response_code. Like that pipeline it adds no related.hosts (it reads a
// dns.query.name that never exists). The records have no unique id: the
// deduplication id hashes the whole record.

var dnsLogs = &Dataset{
	Name:    "dns_logs",
	Elastic: "cloudflare_logpush.dns",
	Aliases: []string{"dns"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "SourceIP", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "QueryName", Custom: "query.name", ECS: "dns.question.name"},
		{Src: "QueryType", Custom: "query.type", Type: Long},
		{Src: "ColoCode", Custom: "colo.code"},
		{Src: "EDNSSubnet", Custom: "edns.subnet", Type: IP, Related: RelatedIP},
		{Src: "EDNSSubnetLength", Custom: "edns.subnet_length", Type: Long},
		{Src: "ResponseCached", Custom: "response.cached", Type: Bool},
		{Src: "ResponseCode", Custom: "response.code", Type: Long},
	},
	Derive: deriveDNSLogs,
}

// deriveDNSLogs names the query type and response code (dns.question.type,
// dns.response_code) from their converted numbers.
func deriveDNSLogs(s *Schema) DeriveFunc {
	qtype, rcode := s.Field("QueryType"), s.Field("ResponseCode")
	qtypeName, rcodeName := s.Slot("dns.question.type"), s.Slot("dns.response_code")
	return func(r *Rec) {
		if n, ok := readLong(r.Value(qtype)); ok {
			r.SetString(qtypeName, DNSQueryType(n))
		}
		if n, ok := readLong(r.Value(rcode)); ok {
			r.SetString(rcodeName, DNSResponseCode(n))
		}
	}
}
