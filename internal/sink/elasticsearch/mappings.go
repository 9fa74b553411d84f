package elasticsearch

// Field is one row of the mapping table: an ECS dotted path and its Elastic
// mapping type (keyword, wildcard, match_only_text, text, long, double,
// float, scaled_float, boolean, date, ip, geo_point, constant_keyword,
// flattened, object, nested). The template builder turns the types into
// what the cluster's flavour and version support (see leafMapping).
type Field struct {
	Path string
	Type string
}

// ECSFields is the mapping of the ECS fields flarehose's documents share
// (ECS 8.x types, as Elastic's ecs@mappings and the cloudflare_logpush
// integration map them). It is the single table the templates are built
// from; per-dataset fields (cloudflare_logpush.<dataset>.*) are mapped
// dynamically (strings as keyword, numbers as long/double) unless
// Options.DatasetFields adds them, e.g. from normalize.FieldDefs.
var ECSFields = func() []Field {
	f := []Field{
		{"@timestamp", "date"},
		{"message", "match_only_text"},
		{"tags", "keyword"},
		{"labels", "object"},
		{"data_stream.type", "constant_keyword"},
		{"data_stream.dataset", "constant_keyword"},
		{"data_stream.namespace", "constant_keyword"},
		{"ecs.version", "keyword"},
		{"input.type", "keyword"},

		{"event.action", "keyword"}, {"event.category", "keyword"}, {"event.code", "keyword"},
		{"event.created", "date"}, {"event.dataset", "constant_keyword"}, {"event.duration", "long"},
		{"event.end", "date"}, {"event.id", "keyword"}, {"event.ingested", "date"},
		{"event.kind", "keyword"}, {"event.module", "constant_keyword"}, {"event.original", "keyword"},
		{"event.outcome", "keyword"}, {"event.provider", "keyword"}, {"event.reason", "keyword"},
		{"event.reference", "keyword"}, {"event.risk_score", "float"}, {"event.severity", "long"},
		{"event.start", "date"}, {"event.timezone", "keyword"}, {"event.type", "keyword"},
		{"event.url", "keyword"},

		{"error.code", "keyword"}, {"error.id", "keyword"}, {"error.message", "match_only_text"},
		{"error.type", "keyword"}, {"error.stack_trace", "wildcard"},

		{"http.request.body.bytes", "long"}, {"http.request.bytes", "long"}, {"http.request.id", "keyword"},
		{"http.request.method", "keyword"}, {"http.request.mime_type", "keyword"},
		{"http.request.referrer", "keyword"}, {"http.response.body.bytes", "long"},
		{"http.response.bytes", "long"}, {"http.response.mime_type", "keyword"},
		{"http.response.status_code", "long"}, {"http.version", "keyword"},

		{"url.domain", "keyword"}, {"url.extension", "keyword"}, {"url.fragment", "keyword"},
		{"url.full", "wildcard"}, {"url.original", "wildcard"}, {"url.path", "wildcard"},
		{"url.port", "long"}, {"url.query", "keyword"}, {"url.registered_domain", "keyword"},
		{"url.scheme", "keyword"}, {"url.subdomain", "keyword"}, {"url.top_level_domain", "keyword"},
		{"url.username", "keyword"},

		{"user_agent.device.name", "keyword"}, {"user_agent.name", "keyword"},
		{"user_agent.original", "keyword"}, {"user_agent.os.full", "keyword"},
		{"user_agent.os.name", "keyword"}, {"user_agent.os.version", "keyword"},
		{"user_agent.os.family", "keyword"}, {"user_agent.os.platform", "keyword"},
		{"user_agent.version", "keyword"},

		{"network.application", "keyword"}, {"network.bytes", "long"}, {"network.community_id", "keyword"},
		{"network.direction", "keyword"}, {"network.forwarded_ip", "ip"}, {"network.iana_number", "keyword"},
		{"network.name", "keyword"}, {"network.packets", "long"}, {"network.protocol", "keyword"},
		{"network.transport", "keyword"}, {"network.type", "keyword"},

		{"rule.category", "keyword"}, {"rule.description", "keyword"}, {"rule.id", "keyword"},
		{"rule.name", "keyword"}, {"rule.reference", "keyword"}, {"rule.ruleset", "keyword"},
		{"rule.uuid", "keyword"}, {"rule.version", "keyword"},

		{"related.hash", "keyword"}, {"related.hosts", "keyword"}, {"related.ip", "ip"}, {"related.user", "keyword"},

		{"observer.hostname", "keyword"}, {"observer.ip", "ip"}, {"observer.name", "keyword"},
		{"observer.product", "keyword"}, {"observer.type", "keyword"}, {"observer.vendor", "keyword"},
		{"observer.version", "keyword"},

		{"organization.id", "keyword"}, {"organization.name", "keyword"},
		{"cloud.account.id", "keyword"}, {"cloud.provider", "keyword"}, {"cloud.region", "keyword"},

		{"tls.cipher", "keyword"}, {"tls.client.ja3", "keyword"}, {"tls.client.server_name", "keyword"},
		{"tls.established", "boolean"}, {"tls.resumed", "boolean"}, {"tls.version", "keyword"},
		{"tls.version_protocol", "keyword"},

		{"dns.id", "keyword"}, {"dns.question.class", "keyword"}, {"dns.question.name", "keyword"},
		{"dns.question.registered_domain", "keyword"}, {"dns.question.type", "keyword"},
		{"dns.resolved_ip", "ip"}, {"dns.response_code", "keyword"}, {"dns.type", "keyword"},

		{"file.hash.sha256", "keyword"}, {"file.mime_type", "keyword"}, {"file.name", "keyword"},
		{"file.path", "keyword"}, {"file.size", "long"},

		{"host.hostname", "keyword"}, {"host.id", "keyword"}, {"host.ip", "ip"}, {"host.name", "keyword"},
		{"host.os.name", "keyword"}, {"host.os.platform", "keyword"}, {"host.os.version", "keyword"},

		{"device.id", "keyword"}, {"device.model.name", "keyword"},
		{"service.name", "keyword"}, {"process.name", "keyword"}, {"process.pid", "long"},
		{"email.from.address", "keyword"}, {"email.to.address", "keyword"}, {"email.subject", "keyword"},
		{"email.message_id", "wildcard"}, {"email.direction", "keyword"},
	}
	user := []Field{{"domain", "keyword"}, {"email", "keyword"}, {"full_name", "keyword"},
		{"id", "keyword"}, {"name", "keyword"}, {"roles", "keyword"}, {"group.id", "keyword"}, {"group.name", "keyword"}}
	for _, p := range []string{"user.", "source.user.", "destination.user."} {
		for _, u := range user {
			f = append(f, Field{p + u.Path, u.Type})
		}
	}
	geo := []Field{{"city_name", "keyword"}, {"continent_name", "keyword"}, {"country_iso_code", "keyword"},
		{"country_name", "keyword"}, {"location", "geo_point"}, {"region_iso_code", "keyword"},
		{"region_name", "keyword"}, {"postal_code", "keyword"}, {"timezone", "keyword"}}
	endpoint := []Field{{"address", "keyword"}, {"ip", "ip"}, {"port", "long"}, {"bytes", "long"},
		{"packets", "long"}, {"domain", "keyword"}, {"mac", "keyword"}, {"nat.ip", "ip"}, {"nat.port", "long"},
		{"as.number", "long"}, {"as.organization.name", "keyword"}}
	for _, p := range []string{"client.", "source.", "destination.", "server."} {
		for _, e := range endpoint {
			f = append(f, Field{p + e.Path, e.Type})
		}
		for _, g := range geo {
			f = append(f, Field{p + "geo." + g.Path, g.Type})
		}
	}
	return f
}()
