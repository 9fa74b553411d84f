package normalize

// account_abuse_protection_events (zone) → cloudflare_logpush.account_abuse_protection_event.
// Elastic has no data stream for this dataset: it is normalized with the
// conventions of Elastic's pipelines (see ds_turnstile_events.go). ECS:
// @timestamp, event.id (RayID), event.action (the event type),
// event.category/type by event type (login/logout: authentication start/end;
// signup: iam user creation; profile updates, password resets, payment
// methods: iam user change; others: authentication info), event.outcome
// (login status), source.ip/as/geo, url.domain (the zone host), user.id,
// user.email, user_agent.*, related.ip/hosts/user.

var accountAbuseProtectionEvents = &Dataset{
	Name:     "account_abuse_protection_events",
	Elastic:  "cloudflare_logpush.account_abuse_protection_event",
	Aliases:  []string{"account_abuse_protection_event"},
	IDFields: []string{"RayID", "EventType", "Timestamp"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["authentication"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is a duplicate.
		{Src: "EventType", Custom: "event_type", ECS: "event.action"},  // + event.category/type
		{Src: "AuthenticationStatus", Custom: "authentication.status"}, // + event.outcome
		{Src: "ClientIP", Custom: "client.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "ClientASN", Custom: "client.asn", ECS: "source.as.number", Type: Long},
		{Src: "ClientCity", Custom: "client.city", ECS: "source.geo.city_name"},
		{Src: "ClientCountry", Custom: "client.country", ECS: "source.geo.country_iso_code"},
		{Src: "Email", Custom: "email", ECS: "user.email", Related: RelatedUser},
		{Src: "UserID", Custom: "user_id", ECS: "user.id", Related: RelatedUser},
		{Src: "UserAgent", Custom: "user_agent", ECS: "user_agent.original", Enrich: UserAgent},

		// Fields copied to ECS while the custom field is kept.
		{Src: "RayID", Custom: "ray.id", Copy: "event.id"},
		{Src: "Host", Custom: "host", Copy: "url.domain", Related: RelatedHosts},

		{Src: "AuthenticationIdentityProvider", Custom: "authentication.identity_provider"},
		{Src: "AuthenticationMethod", Custom: "authentication.method"},
		{Src: "BotScore", Custom: "bot.score", Type: Long},
		{Src: "EphemeralID", Custom: "ephemeral_id"},
		{Src: "EventSource", Custom: "event_source"},
		{Src: "FraudEmailRisk", Custom: "fraud.email_risk"},
		{Src: "JA4", Custom: "ja4"},
	},
	Derive: deriveAccountAbuseProtectionEvents,
}

// deriveAccountAbuseProtectionEvents sets event.category/type from the
// event type and event.outcome from the login status (success, or one of
// the failure* values).
func deriveAccountAbuseProtectionEvents(s *Schema) DeriveFunc {
	typ, status := s.Field("EventType"), s.Field("AuthenticationStatus")
	category, eventType, outcome := s.Slot("event.category"), s.Slot("event.type"), s.Slot("event.outcome")
	return func(r *Rec) {
		if t, ok := r.String(typ); ok {
			switch t {
			case "login":
				r.SetRaw(eventType, aapStart)
			case "logout":
				r.SetRaw(eventType, aapEnd)
			case "signup":
				r.SetRaw(category, aapIAM)
				r.SetRaw(eventType, aapUserCreation)
			case "profileUpdate", "passwordReset", "addPaymentMethod":
				r.SetRaw(category, aapIAM)
				r.SetRaw(eventType, aapUserChange)
			}
		}
		if st, ok := r.String(status); ok {
			switch {
			case st == "success":
				r.SetString(outcome, "success")
			case len(st) >= 7 && st[:7] == "failure":
				r.SetString(outcome, "failure")
			}
		}
	}
}

var (
	aapStart        = []byte(`["start"]`)
	aapEnd          = []byte(`["end"]`)
	aapIAM          = []byte(`["iam"]`)
	aapUserCreation = []byte(`["user","creation"]`)
	aapUserChange   = []byte(`["user","change"]`)
)
