package normalize

import "strings"

// turnstile_events (account) → cloudflare_logpush.turnstile_event.
// Elastic has no data stream for this dataset: it is normalized with the
// conventions of Elastic's pipelines. The stream name is singular like
// Elastic's firewall_event or spectrum_event; custom fields are the
// snake_cased Cloudflare names under cloudflare_logpush.turnstile_event
// (grouped by a dot where Elastic groups the same name elsewhere: client.ip),
// and the custom copy of a field that has an ECS field is a duplicate
// (kept only with preserve_duplicate_custom_fields). ECS: @timestamp,
// event.action (the event type), event.outcome (solved: success,
// siteverify failures and rate limiting: failure), source.ip/as/geo,
// url.domain (the page's host name), user_agent.* (parsed like Elastic's
// user_agent processor), related.ip/hosts.

var turnstileEvents = &Dataset{
	Name:    "turnstile_events",
	Elastic: "cloudflare_logpush.turnstile_event",
	Aliases: []string{"turnstile_event"},
	// Turnstile events carry no unique id: the raw record is hashed.
	DropNA: true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["web"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is a duplicate.
		{Src: "EventType", Custom: "event_type", ECS: "event.action"}, // + event.outcome
		{Src: "ClientIP", Custom: "client.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "ASN", Custom: "asn", ECS: "source.as.number", Type: Long},
		{Src: "CountryCode", Custom: "country_code", ECS: "source.geo.country_iso_code"},
		{Src: "UserAgent", Custom: "user_agent", ECS: "user_agent.original", Enrich: UserAgent},

		// Fields copied to ECS while the custom field is kept.
		{Src: "Hostname", Custom: "hostname", Copy: "url.domain", Related: RelatedHosts},

		{Src: "Action", Custom: "action"}, // the widget's action string, set by the site owner
		{Src: "BrowserName", Custom: "browser.name"},
		{Src: "BrowserMajor", Custom: "browser.major", Type: Long},
		{Src: "OSName", Custom: "os.name"},
		{Src: "OSMajor", Custom: "os.major", Type: Long},
		{Src: "Sitekey", Custom: "sitekey"},
	},
	Derive: deriveTurnstileEvents,
}

// deriveTurnstileEvents sets event.outcome from the event type: a solved
// challenge is a success, a failed or rate limited siteverify a failure,
// an issued challenge has no outcome yet.
func deriveTurnstileEvents(s *Schema) DeriveFunc {
	typ := s.Field("EventType")
	outcome := s.Slot("event.outcome")
	return func(r *Rec) {
		t, ok := r.String(typ)
		if !ok {
			return
		}
		switch {
		case strings.HasSuffix(t, "_solved"):
			r.SetString(outcome, "success")
		case strings.Contains(t, "_failed"), strings.HasSuffix(t, "_ratelimited"):
			r.SetString(outcome, "failure")
		}
	}
}
