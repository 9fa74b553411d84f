package normalize

// email_security_post_delivery_events (account) →
// cloudflare_logpush.email_security_post_delivery_event.
//
// Elastic has no such data stream: this follows the conventions of its
// email_security_alerts pipeline (flat snake_case custom fields; the
// custom copies of email.from / to / subject / message_id are duplicates;
// related.user holds addresses and names, related.hosts their domains).
// ECS:
//   - @timestamp: CompletedAt, else RequestedAt; event.start RequestedAt,
//     event.end CompletedAt, event.duration between them;
//   - event.action: Operation as Cloudflare spells it (move, submission,
//     quarantineRelease), event.outcome from Success, event.kind "event",
//     event.category ["email"], event.type ["info"];
//   - email.*: message_id, subject, from.address, to.address,
//     origination_timestamp (MessageTimestamp);
//   - user.email: RequestedBy (who asked for the action); user.target.email:
//     Recipient (the mailbox acted on).

var emailSecurityPostDeliveryEvents = &Dataset{
	Name:    "email_security_post_delivery_events",
	Elastic: "cloudflare_logpush.email_security_post_delivery_event",
	Aliases: []string{"email_security_post_delivery_event"},
	// No id field: one message (AlertID) can get several actions; the raw
	// record is hashed.
	DropNA: true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["email"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "CompletedAt", Custom: "completed_at", Copy: "@timestamp", Type: Timestamp},
		{Src: "RequestedAt", Custom: "requested_at", Copy: "@timestamp", Type: Timestamp},
		{Src: "MessageTimestamp", Custom: "message_timestamp", Copy: "email.origination_timestamp", Type: Timestamp},
		{Src: "AlertID", Custom: "alert_id"},
		{Src: "Destination", Custom: "destination"},
		{Src: "FinalDisposition", Custom: "final_disposition"},
		{Src: "Folder", Custom: "folder"},
		{Src: "From", Custom: "from", ECS: "email.from.address"}, // a list: see Derive
		{Src: "FromName", Custom: "from_name"},
		{Src: "MessageID", Custom: "message_id", ECS: "email.message_id"},
		{Src: "MicrosoftTenantID", Custom: "microsoft_tenant_id"},
		{Src: "Operation", Custom: "operation", ECS: "event.action"},
		{Src: "PostfixID", Custom: "postfix_id"},
		{Src: "Reasons", Custom: "reasons"},
		{Src: "Recipient", Custom: "recipient", Copy: "user.target.email"},
		{Src: "RequestedBy", Custom: "requested_by", Copy: "user.email"},
		{Src: "RequestedDisposition", Custom: "requested_disposition"},
		{Src: "Status", Custom: "status"},
		{Src: "Subject", Custom: "subject", ECS: "email.subject"},
		{Src: "Success", Custom: "success", Type: Bool},
		{Src: "To", Custom: "to", ECS: "email.to.address"}, // a list: see Derive
	},
	Declare: []FieldDef{
		{Path: "user.target.email", Type: "keyword", Source: "Recipient"},
	},
	Derive: derivePostDeliveryEvents,
}

func derivePostDeliveryEvents(s *Schema) DeriveFunc {
	span := bindEventSpan(s, "RequestedAt", "CompletedAt")
	from, to, success := s.Field("From"), s.Field("To"), s.Field("Success")
	fromAddr, toAddr := s.Slot("email.from.address"), s.Slot("email.to.address")
	users := [...]FieldRef{from, s.Field("FromName"), to, s.Field("Recipient"), s.Field("RequestedBy")}
	outcome := s.Slot("event.outcome")
	return func(r *Rec) {
		span.apply(r, -1, -1)
		for _, p := range [...]struct {
			f FieldRef
			s SlotRef
		}{{from, fromAddr}, {to, toAddr}} {
			if r.IsSet(p.s) {
				setUniqueStrings(r, p.s, r.Value(p.f))
			}
		}
		for _, f := range users {
			r.AddRelatedEach(RelatedUser, r.Value(f))
		}
		addEmailDomains(r)
		if ok, valid := readBool(r.Value(success)); valid {
			if ok {
				r.SetString(outcome, "success")
			} else {
				r.SetString(outcome, "failure")
			}
		}
	}
}
