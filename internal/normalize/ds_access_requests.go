package normalize

import "strings"

// access_requests (account) → cloudflare_logpush.access_request.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/access_request
// ingest pipeline (newest version, ECS 9.3.0; its fixtures were made with
// the 8.10 one, which maps the same fields).

var accessRequests = &Dataset{
	Name:    "access_requests",
	Elastic: "cloudflare_logpush.access_request",
	Aliases: []string{"access_request"},
	// One request (RayID) can log a login and later a logout.
	IDFields: []string{"RayID", "Action", "CreatedAt", "Email"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["access"]`},
	},
	Fields: []Field{
		{Src: "CreatedAt", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "Action", Custom: "action", ECS: "event.action"},
		{Src: "Allowed", Custom: "allowed", Type: Bool}, // event.type allowed / denied in derive
		{Src: "AppDomain", Custom: "app.domain", ECS: "url.domain"},
		// Country (upper case) is client.geo.country_iso_code unless the
		// GeoIP lookup of IPAddress replaced client.geo (derive).
		{Src: "Country"},
		{Src: "Email", Custom: "user.email", ECS: "user.email", Related: RelatedUser},
		{Src: "IPAddress", Custom: "client.ip", ECS: "client.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("client")},
		{Src: "RayID", Custom: "ray.id", ECS: "event.id"},
		{Src: "UserUID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},

		// Custom fields.
		{Src: "AppUUID", Custom: "app.uuid"},
		{Src: "Connection", Custom: "connection"},
		{Src: "PurposeJustificationPrompt", Custom: "request.prompt"},
		{Src: "PurposeJustificationResponse", Custom: "request.response"},
		{Src: "TemporaryAccessApprovers", Custom: "temp_access.approvers"}, // related.user in derive
		{Src: "TemporaryAccessDuration", Custom: "temp_access.duration", Type: Long},
	},
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.access_request.country", Type: "keyword", Source: "Country"},
		{Path: "client.geo.country_iso_code", Type: "keyword", Source: "Country"},
	},
	Derive: deriveAccessRequests,
}

// deriveAccessRequests: event.type allowed / denied, the (duplicate)
// custom allowed and country, client.geo.country_iso_code, and the
// approvers in related.user.
func deriveAccessRequests(s *Schema) DeriveFunc {
	allowed, country, approvers := s.Field("Allowed"), s.Field("Country"), s.Field("TemporaryAccessApprovers")
	allowedSlot := s.Custom("allowed", false)
	countrySlot := s.Custom("country", true)
	eventType := s.Slot("event.type")
	iso := s.Slot("client.geo.country_iso_code")
	geo := [...]SlotRef{
		s.Slot("client.geo.continent_name"), s.Slot("client.geo.country_name"),
		s.Slot("client.geo.city_name"), s.Slot("client.geo.location"),
		s.Slot("client.geo.region_iso_code"), s.Slot("client.geo.region_name"),
	}
	return func(r *Rec) {
		if val, ok := readBool(r.Value(allowed)); ok {
			if val {
				setStrings(r, eventType, "access", "allowed")
			} else {
				setStrings(r, eventType, "access", "denied")
			}
		}
		// allowed is in Elastic's list of duplicate custom fields.
		if !r.KeepDuplicates() {
			r.Unset(allowedSlot)
		}
		if c, ok := r.String(country); ok && c != "" && c != "N/A" {
			r.SetString(countrySlot, c)
			geoFound := r.IsSet(iso)
			for _, g := range geo {
				geoFound = geoFound || r.IsSet(g)
			}
			if !geoFound {
				r.SetString(iso, strings.ToUpper(c))
			}
		}
		r.AddRelatedEach(RelatedUser, r.Value(approvers))
	}
}
