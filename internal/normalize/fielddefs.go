package normalize

import "sort"

// FieldDef is one output field of a dataset's ECS documents: where it is,
// how Elastic maps it, and which Cloudflare field it comes from. FieldDefs
// derives them from the mapping tables, so that the store's columns and
// Elasticsearch index templates have one source of truth.
type FieldDef struct {
	// Path is the dotted path in the ECS document.
	Path string
	// Type is the Elastic mapping type: keyword, long, double, boolean,
	// date, ip, geo_point, object, flattened, text, wildcard,
	// match_only_text, constant_keyword, ...
	Type string
	// Source is the Cloudflare field the value comes from (a dotted path
	// for the API's nested records), "" for derived and constant fields.
	Source string
}

// FieldDefs lists every field the documents of a dataset (any name Resolve
// accepts) may hold, sorted by path:
//
//   - each mapping row's custom field (type from Field.Type, or
//     Field.Mapping) and its ECS / Copy targets (ECS type);
//   - what Derive functions, enrichers (user agent, GeoIP) and Static values
//     write, typed by the ECS reference (ecsTypes) or by Dataset.Declare;
//   - the fields every document has (data_stream.*, event.dataset,
//     ecs.version, event.original, error.message, related.*).
//
// Unknown fields (kept under the namespace, snake_cased) are not listed:
// they are dynamic. The result is a fresh slice the caller may keep.
func FieldDefs(dataset string) ([]FieldDef, bool) {
	ds, ok := lookup(dataset)
	if !ok {
		return nil, false
	}
	defs, _ := fieldDefs(ds)
	return defs, true
}

// fieldDefs also returns the paths no rule typed (defaulted to keyword):
// the completeness test requires there are none.
func fieldDefs(ds *Dataset) (defs []FieldDef, untyped []string) {
	s := schemaOf(ds)
	byPath := map[string]*FieldDef{}
	add := func(path, typ, src string) {
		if d, ok := byPath[path]; ok {
			if d.Source == "" {
				d.Source = src
			}
			return
		}
		byPath[path] = &FieldDef{Path: path, Type: typ, Source: src}
	}
	for i := range s.fields {
		f := &s.fields[i].Field
		if f.Custom != "" {
			typ := f.Mapping
			if typ == "" {
				typ = f.Type.mapping()
			}
			add(s.ns+"."+f.Custom, typ, f.Src)
		}
		for _, p := range [...]string{f.ECS, f.Copy} {
			if p == "" {
				continue
			}
			typ, ok := ecsTypes[p]
			if !ok {
				typ = f.Type.mapping()
			}
			add(p, typ, f.Src)
		}
	}
	for _, d := range ds.Declare { // explicit declarations win over the table
		if old, ok := byPath[d.Path]; ok && d.Source == "" {
			d.Source = old.Source
		}
		byPath[d.Path] = &FieldDef{Path: d.Path, Type: d.Type, Source: d.Source}
	}
	for _, sl := range s.slots {
		if _, ok := byPath[sl.path]; ok {
			continue
		}
		typ, ok := ecsTypes[sl.path]
		if !ok {
			typ = "keyword"
			untyped = append(untyped, sl.path)
		}
		add(sl.path, typ, "")
	}
	defs = make([]FieldDef, 0, len(byPath))
	for _, d := range byPath {
		defs = append(defs, *d)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Path < defs[j].Path })
	sort.Strings(untyped)
	return defs, untyped
}

// ECSType returns the type ECS (or Elastic's package base fields) gives a
// field, as far as flarehose's datasets use ECS.
func ECSType(path string) (string, bool) {
	t, ok := ecsTypes[path]
	return t, ok
}

// ecsTypes is the part of the ECS field reference (ECS 9.x) that Elastic's
// Cloudflare integrations write, plus the fields Elastic packages declare in
// their base-fields.yml (data_stream.*, event.dataset, event.module as
// constant_keyword). Every *.geo.* and *.as.* group is expanded below.
var ecsTypes = func() map[string]string {
	m := map[string]string{
		"@timestamp": "date",
		"message":    "match_only_text",
		"tags":       "keyword",
		"labels":     "object",

		"data_stream.dataset":   "constant_keyword",
		"data_stream.namespace": "constant_keyword",
		"data_stream.type":      "constant_keyword",
		"ecs.version":           "keyword",
		"input.type":            "keyword",

		"agent.ephemeral_id": "keyword", "agent.id": "keyword", "agent.name": "keyword",
		"agent.type": "keyword", "agent.version": "keyword",

		"cloud.account.id": "keyword", "cloud.account.name": "keyword", "cloud.provider": "keyword",
		"cloud.region": "keyword", "cloud.availability_zone": "keyword", "cloud.project.id": "keyword",
		"cloud.service.name": "keyword",

		"device.id": "keyword", "device.manufacturer": "keyword", "device.model.identifier": "keyword",
		"device.model.name": "keyword", "device.serial_number": "keyword", "device.type": "keyword",

		"dns.answers": "object", "dns.answers.class": "keyword", "dns.answers.data": "keyword",
		"dns.answers.name": "keyword", "dns.answers.ttl": "long", "dns.answers.type": "keyword",
		"dns.header_flags": "keyword", "dns.id": "keyword", "dns.op_code": "keyword",
		"dns.question.class": "keyword", "dns.question.name": "keyword", "dns.question.registered_domain": "keyword",
		"dns.question.subdomain": "keyword", "dns.question.top_level_domain": "keyword", "dns.question.type": "keyword",
		"dns.resolved_ip": "ip", "dns.response_code": "keyword", "dns.type": "keyword",

		"email.attachments": "nested", "email.attachments.file.extension": "keyword",
		"email.attachments.file.hash.md5": "keyword", "email.attachments.file.hash.sha1": "keyword",
		"email.attachments.file.hash.sha256": "keyword", "email.attachments.file.hash.sha512": "keyword",
		"email.attachments.file.mime_type": "keyword", "email.attachments.file.name": "keyword",
		"email.attachments.file.size": "long",
		"email.bcc.address":           "keyword", "email.cc.address": "keyword", "email.content_type": "keyword",
		"email.delivery_timestamp": "date", "email.direction": "keyword", "email.from.address": "keyword",
		"email.local_id": "keyword", "email.message_id": "wildcard", "email.origination_timestamp": "date",
		"email.reply_to.address": "keyword", "email.sender.address": "keyword", "email.subject": "keyword",
		"email.to.address": "keyword", "email.x_mailer": "keyword",

		"error.code": "keyword", "error.id": "keyword", "error.message": "match_only_text",
		"error.stack_trace": "wildcard", "error.type": "keyword",

		"event.action": "keyword", "event.agent_id_status": "keyword", "event.category": "keyword",
		"event.code": "keyword", "event.created": "date", "event.dataset": "constant_keyword",
		"event.duration": "long", "event.end": "date", "event.hash": "keyword", "event.id": "keyword",
		"event.ingested": "date", "event.kind": "keyword", "event.module": "constant_keyword",
		"event.original": "keyword", "event.outcome": "keyword", "event.provider": "keyword",
		"event.reason": "keyword", "event.reference": "keyword", "event.risk_score": "float",
		"event.risk_score_norm": "float", "event.sequence": "long", "event.severity": "long",
		"event.start": "date", "event.timezone": "keyword", "event.type": "keyword", "event.url": "keyword",

		"file.directory": "keyword", "file.extension": "keyword", "file.hash.md5": "keyword",
		"file.hash.sha1": "keyword", "file.hash.sha256": "keyword", "file.hash.sha512": "keyword",
		"file.mime_type": "keyword", "file.name": "keyword", "file.path": "keyword", "file.size": "long",
		"file.type": "keyword",

		"host.architecture": "keyword", "host.cpu.usage": "scaled_float", "host.domain": "keyword",
		"host.hostname": "keyword", "host.id": "keyword", "host.ip": "ip", "host.mac": "keyword",
		"host.name": "keyword", "host.os.family": "keyword", "host.os.full": "keyword",
		"host.os.kernel": "keyword", "host.os.name": "keyword", "host.os.platform": "keyword",
		"host.os.type": "keyword", "host.os.version": "keyword", "host.type": "keyword",

		"http.request.body.bytes": "long", "http.request.body.content": "wildcard", "http.request.bytes": "long",
		"http.request.id": "keyword", "http.request.method": "keyword", "http.request.mime_type": "keyword",
		"http.request.referrer": "keyword", "http.response.body.bytes": "long",
		"http.response.body.content": "wildcard", "http.response.bytes": "long",
		"http.response.mime_type": "keyword", "http.response.status_code": "long", "http.version": "keyword",

		"log.file.path": "keyword", "log.level": "keyword", "log.logger": "keyword", "log.offset": "long",

		"network.application": "keyword", "network.bytes": "long", "network.community_id": "keyword",
		"network.direction": "keyword", "network.forwarded_ip": "ip", "network.iana_number": "keyword",
		"network.name": "keyword", "network.packets": "long", "network.protocol": "keyword",
		"network.transport": "keyword", "network.type": "keyword", "network.vlan.id": "keyword",
		"network.vlan.name": "keyword",

		"observer.hostname": "keyword", "observer.name": "keyword", "observer.product": "keyword",
		"observer.serial_number": "keyword", "observer.type": "keyword", "observer.vendor": "keyword",
		"observer.version": "keyword",

		"organization.id": "keyword", "organization.name": "keyword",

		"process.name": "keyword", "process.pid": "long", "process.executable": "keyword",
		"process.command_line": "wildcard",

		"related.hash": "keyword", "related.hosts": "keyword", "related.ip": "ip", "related.user": "keyword",

		"rule.author": "keyword", "rule.category": "keyword", "rule.description": "keyword",
		"rule.id": "keyword", "rule.license": "keyword", "rule.name": "keyword", "rule.reference": "keyword",
		"rule.ruleset": "keyword", "rule.uuid": "keyword", "rule.version": "keyword",

		"service.id": "keyword", "service.name": "keyword", "service.type": "keyword",

		"threat.framework": "keyword", "threat.group.id": "keyword", "threat.group.name": "keyword",
		"threat.indicator.type": "keyword", "threat.tactic.id": "keyword", "threat.tactic.name": "keyword",
		"threat.technique.id": "keyword", "threat.technique.name": "keyword",

		"tls.cipher": "keyword", "tls.client.issuer": "keyword", "tls.client.ja3": "keyword",
		"tls.client.server_name": "keyword", "tls.client.subject": "keyword",
		"tls.client.supported_ciphers": "keyword", "tls.curve": "keyword", "tls.established": "boolean",
		"tls.next_protocol": "keyword", "tls.resumed": "boolean", "tls.server.issuer": "keyword",
		"tls.server.ja3s": "keyword", "tls.server.subject": "keyword", "tls.version": "keyword",
		"tls.version_protocol": "keyword",

		"url.domain": "keyword", "url.extension": "keyword", "url.fragment": "keyword", "url.full": "wildcard",
		"url.original": "wildcard", "url.password": "keyword", "url.path": "wildcard", "url.port": "long",
		"url.query": "keyword", "url.registered_domain": "keyword", "url.scheme": "keyword",
		"url.subdomain": "keyword", "url.top_level_domain": "keyword", "url.user_info": "keyword",
		"url.username": "keyword",

		"user_agent.device.name": "keyword", "user_agent.name": "keyword", "user_agent.original": "keyword",
		"user_agent.os.family": "keyword", "user_agent.os.full": "keyword", "user_agent.os.kernel": "keyword",
		"user_agent.os.name": "keyword", "user_agent.os.platform": "keyword", "user_agent.os.type": "keyword",
		"user_agent.os.version": "keyword", "user_agent.version": "keyword",
	}
	user := map[string]string{"domain": "keyword", "email": "keyword", "full_name": "keyword", "hash": "keyword",
		"id": "keyword", "name": "keyword", "roles": "keyword", "group.domain": "keyword", "group.id": "keyword",
		"group.name": "keyword"}
	for k, v := range user {
		for _, p := range []string{"user.", "source.user.", "destination.user.", "client.user.", "server.user."} {
			m[p+k] = v
		}
	}
	geo := map[string]string{"city_name": "keyword", "continent_code": "keyword", "continent_name": "keyword",
		"country_iso_code": "keyword", "country_name": "keyword", "location": "geo_point", "name": "keyword",
		"postal_code": "keyword", "region_iso_code": "keyword", "region_name": "keyword", "timezone": "keyword"}
	for _, p := range []string{"client", "source", "destination", "server", "observer", "host"} {
		for k, v := range geo {
			m[p+".geo."+k] = v
		}
	}
	for _, p := range []string{"client", "source", "destination", "server"} {
		for k, v := range map[string]string{"address": "keyword", "ip": "ip", "port": "long", "bytes": "long",
			"packets": "long", "domain": "keyword", "mac": "keyword", "registered_domain": "keyword",
			"subdomain": "keyword", "top_level_domain": "keyword", "nat.ip": "ip", "nat.port": "long",
			"as.number": "long", "as.organization.name": "keyword"} {
			m[p+"."+k] = v
		}
	}
	for k, v := range map[string]string{"ip": "ip", "mac": "keyword", "os.family": "keyword", "os.name": "keyword",
		"os.version": "keyword", "ingress.interface.name": "keyword", "egress.interface.name": "keyword"} {
		m["observer."+k] = v
	}
	return m
}()
