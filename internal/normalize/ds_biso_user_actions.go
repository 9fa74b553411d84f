package normalize

// biso_user_actions (account; Browser Isolation user actions) →
// cloudflare_logpush.biso_user_action. Elastic has no such data stream:
// this follows the conventions of its cloudflare_logpush pipelines (see
// gateway_http, the closest one).
//
// ECS choices: Timestamp → @timestamp; Type (copy, paste, download, ...)
// → event.action; Decision allow / block → event.type [info, allowed] /
// [info, denied] as gateway_http does with its Action; URL → url.* (the
// uri_parts processor); DomainName → related.hosts; UserEmail / UserID →
// user.email / user.id. event.category is [web]. Metadata, a JSON string,
// is kept as it is.

var bisoUserActions = &Dataset{
	Name:    "biso_user_actions",
	Elastic: "cloudflare_logpush.biso_user_action",
	Aliases: []string{"biso_user_action"},
	// No id field: the record itself is hashed.
	DropNA: true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["web"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "Type", Custom: "type", ECS: "event.action"},
		{Src: "Decision", Custom: "decision"}, // event.type in derive
		{Src: "URL", Custom: "url", ECS: "url.original"},
		{Src: "DomainName", Custom: "domain_name", Related: RelatedHosts},
		{Src: "UserEmail", Custom: "user.email", ECS: "user.email", Related: RelatedUser},
		{Src: "UserID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},
		{Src: "AccountID", Custom: "account_id"},
		{Src: "Metadata", Custom: "metadata"},
	},
	Derive: deriveBISOUserActions,
}

// deriveBISOUserActions: event.type from Decision, url.* from URL (and
// url.domain from DomainName when the URL has none).
func deriveBISOUserActions(s *Schema) DeriveFunc {
	decision, rawURL, domain := s.Field("Decision"), s.Field("URL"), s.Field("DomainName")
	eventType := s.Slot("event.type")
	u := BindURL(s)
	return func(r *Rec) {
		switch d, _ := r.String(decision); d {
		case "allow", "Allow", "ALLOW":
			setStrings(r, eventType, "info", "allowed")
		case "block", "Block", "BLOCK":
			setStrings(r, eventType, "info", "denied")
		}
		if raw, ok := r.String(rawURL); ok && raw != "" {
			u.URIParts(r, raw)
		}
		if !r.IsSet(u.Domain) {
			if d, ok := r.String(domain); ok && d != "N/A" {
				r.SetString(u.Domain, d)
			}
		}
	}
}
