package normalize

import "github.com/valyala/fastjson"

// page_shield_events (zone) → cloudflare_logpush.page_shield_events.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/
// page_shield_events ingest pipeline (ECS 9.3.0), newest version: PolicyID
// is also rule.id (the test fixture predates that), URLHost goes to
// related.hosts and overrides the url.domain uri_parts found.

var pageShieldEvents = &Dataset{
	Name:    "page_shield_events",
	Elastic: "cloudflare_logpush.page_shield_events",
	// No event id: the raw record is hashed (IDFields left empty).
	DropNA: true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "Action", Custom: "action", ECS: "event.action", Lower: true},
		{Src: "CSPDirective", Custom: "csp_directive"},
		{Src: "Host", Custom: "host", ECS: "host.name", Related: RelatedHosts},
		{Src: "PageURL", Custom: "page_url"},
		{Src: "PolicyID", Custom: "policy_id", ECS: "rule.id"},
		{Src: "ResourceType", Custom: "resource_type"},
		{Src: "URL"}, // custom url (a duplicate of url.original) and url.* in Derive
		{Src: "URLContainsCDNCGIPath", Custom: "url_contains_cdn_cgi_path", Type: Bool},
		{Src: "URLHost", Custom: "url_host", Related: RelatedHosts}, // url.domain in Derive
	},
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.page_shield_events.url", Type: "keyword", Source: "URL"},
	},
	Derive: derivePageShieldEvents,
}

// derivePageShieldEvents runs uri_parts on URL (url.*; a URL that does not
// parse is an error, as in Elastic), then sets url.domain from URLHost, as
// the pipeline's later set processor does.
func derivePageShieldEvents(s *Schema) DeriveFunc {
	u := BindURL(s)
	rawURL, urlHost := s.Field("URL"), s.Field("URLHost")
	custom := s.Custom("url", true)
	return func(r *Rec) {
		if v := r.Value(rawURL); v != nil && v.Type() != fastjson.TypeNull {
			r.SetValue(custom, v)
			if str, isStr := r.String(rawURL); !isStr {
				r.AddError("uri_parts_url: URL is not a string")
			} else if str != "" && !u.URIParts(r, str) {
				r.AddError(uriPartsError("uri_parts_url", str))
			}
		}
		r.SetValue(u.Domain, r.Value(urlHost))
	}
}
