package normalize

import (
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// email_security_alerts (account) → cloudflare_logpush.email_security_alerts.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/
// email_security_alerts ingest pipeline (ECS 9.3.0, the version with the
// email.* fields its test fixture shows): the custom fields keep
// Cloudflare's values; email.*, server.*, file.*, related.* are derived.
//
// Elastic's pipeline does not know BCC, DKIMResult, DMARCPolicy,
// DMARCResult and SPFResult (it drops them); they are kept here under
// names in Elastic's style, BCC also as email.bcc.address.

var emailSecurityAlerts = &Dataset{
	Name:    "email_security_alerts",
	Elastic: "cloudflare_logpush.email_security_alerts",
	// An alert can be re-emitted with another disposition (retro scans).
	IDFields: []string{"AlertID", "FinalDisposition", "Timestamp"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["email","network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "AlertID", Custom: "alert_id"},
		{Src: "AlertReasons", Custom: "alert_reasons"},
		{Src: "Attachments", Custom: "attachments", Mapping: "object"},
		{Src: "BCC", Custom: "bcc", Copy: "email.bcc.address"},
		{Src: "CC", Custom: "cc", ECS: "email.cc.address"},
		{Src: "CCName", Custom: "cc_name"},
		{Src: "DKIMResult", Custom: "dkim_result"},
		{Src: "DMARCPolicy", Custom: "dmarc_policy"},
		{Src: "DMARCResult", Custom: "dmarc_result"},
		{Src: "FinalDisposition", Custom: "final_disposition"},
		// email.from.address and email.reply_to.address are lists (Elastic
		// appends to them): Derive rewrites the ECS copies.
		{Src: "From", Custom: "from", ECS: "email.from.address"},
		{Src: "FromName", Custom: "from_name"},
		{Src: "Links", Custom: "links"},
		{Src: "MessageDeliveryMode", Custom: "message_delivery_mode"},
		{Src: "MessageID", Custom: "message_id", ECS: "email.message_id"},
		{Src: "Origin", Custom: "origin"},
		{Src: "OriginalSender", Custom: "original_sender"},
		{Src: "ReplyTo", Custom: "reply_to", ECS: "email.reply_to.address"},
		{Src: "ReplyToName", Custom: "reply_to_name"},
		{Src: "SMTPEnvelopeFrom", Custom: "smtp_envelope_from", Copy: "email.sender.address"},
		{Src: "SMTPEnvelopeTo", Custom: "smtp_envelope_to"},
		{Src: "SMTPHeloServerIP", Custom: "smtp_helo_server_ip", ECS: "server.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("server")},
		{Src: "SMTPHeloServerIPAsName", Custom: "smtp_helo_server_ip_as_name"},
		{Src: "SMTPHeloServerIPAsNumber", Custom: "smtp_helo_server_ip_as_number"},
		{Src: "SMTPHeloServerIPGeo", Custom: "smtp_helo_server_ip_geo"},
		{Src: "SMTPHeloServerName", Custom: "smtp_helo_server_name", Copy: "server.address"},
		{Src: "SPFResult", Custom: "spf_result"},
		{Src: "Subject", Custom: "subject", ECS: "email.subject"},
		{Src: "ThreatCategories", Custom: "threat_categories"},
		{Src: "To", Custom: "to", ECS: "email.to.address"},
		{Src: "ToName", Custom: "to_name"},
	},
	Declare: []FieldDef{
		{Path: "file", Type: "object"},
	},
	Derive: deriveEmailSecurityAlerts,
}

// deriveEmailSecurityAlerts: event.kind "alert" for a disposition other
// than "unset"; the email.* lists; related.user (addresses and names of
// the sender and recipients) and related.hosts (the links' domains, the
// HELO name when it is not an IP, the addresses' domains); file and
// email.attachments (with related.hash) from Attachments.
func deriveEmailSecurityAlerts(s *Schema) DeriveFunc {
	f := func(n string) FieldRef { return s.Field(n) }
	disposition, attachments, links, heloName := f("FinalDisposition"), f("Attachments"), f("Links"), f("SMTPHeloServerName")
	from, replyTo, to := f("From"), f("ReplyTo"), f("To")
	// related.user, in the pipeline's order: scalars, then lists.
	userScalars := [...]FieldRef{from, f("FromName"), f("SMTPEnvelopeFrom"), f("OriginalSender"), replyTo, f("ReplyToName")}
	userLists := [...]FieldRef{to, f("SMTPEnvelopeTo"), f("ToName"), f("CC"), f("CCName"), f("BCC")}
	kind := s.Slot("event.kind")
	fromAddr, replyAddr, toAddr := s.Slot("email.from.address"), s.Slot("email.reply_to.address"), s.Slot("email.to.address")
	serverDomain := s.Slot("server.domain")
	fileSlot, emailAtt := s.Slot("file"), s.Slot("email.attachments")
	return func(r *Rec) {
		if v := r.Value(disposition); v != nil && v.Type() != fastjson.TypeNull {
			if d, isStr := r.String(disposition); !isStr || d != "unset" {
				r.SetRaw(kind, []byte(`"alert"`))
			}
		}
		// Elastic appends From / ReplyTo to lists and To element by element.
		for _, p := range [...]struct {
			f FieldRef
			s SlotRef
		}{{from, fromAddr}, {replyTo, replyAddr}, {to, toAddr}} {
			if r.IsSet(p.s) {
				setUniqueStrings(r, p.s, r.Value(p.f))
			}
		}
		for _, fr := range userScalars {
			if str, ok := r.String(fr); ok {
				r.AddRelated(RelatedUser, str)
			}
		}
		for _, fr := range userLists { // element by element: a lone string is not a list
			if v := r.Value(fr); v != nil && v.Type() == fastjson.TypeArray {
				r.AddRelatedEach(RelatedUser, v)
			}
		}
		// server.domain: the HELO name when it does not convert to an IP.
		if name, ok := r.String(heloName); ok && name != "" {
			if !validIP(name) {
				r.SetString(serverDomain, name)
				r.AddRelated(RelatedHosts, name)
			}
		}
		// related.hosts: uri_parts on each link.
		if lv := r.Value(links); lv != nil && lv.Type() == fastjson.TypeArray {
			arr, _ := lv.Array()
			for _, e := range arr {
				switch e.Type() {
				case fastjson.TypeNull:
					continue // ignore_missing
				case fastjson.TypeString:
				default:
					r.AddError("uri_parts_links: a link is not a string")
					continue
				}
				str, ok := stringOf(e)
				if !ok {
					continue
				}
				p, ok := parseURIParts(str)
				if !ok {
					r.AddError(uriPartsError("uri_parts_links", str))
					continue
				}
				r.AddRelated(RelatedHosts, p.domain)
			}
		}
		addEmailDomains(r)
		if av := r.Value(attachments); av != nil && av.Type() == fastjson.TypeArray {
			emailAttachmentFiles(r, av, fileSlot, emailAtt)
		}
	}
}

// emailAttachmentHashes are the attachment members Elastic's script copies
// to file.hash, with their ECS names.
var emailAttachmentHashes = [...][2]string{
	{"Md5", "md5"}, {"Sha1", "sha1"}, {"Sha256", "sha256"}, {"Sha384", "sha384"}, {"Sha512", "sha512"}, {"Ssdeep", "ssdeep"},
}

// emailAttachmentFiles is the pipeline's attachments script: file (one
// entry per attachment: name, mime_type from ContentTypeComputed, hash.*),
// email.attachments ([{file: ...}]) and related.hash. An element that is
// not an object fails the script, as in Elastic (nothing is written).
func emailAttachmentFiles(r *Rec, av *fastjson.Value, fileSlot, emailAtt SlotRef) {
	arr, _ := av.Array()
	for _, a := range arr {
		if a.Type() != fastjson.TypeObject {
			r.AddError("script_attachments: an attachment is not an object")
			return
		}
	}
	b := r.scratch[:0]
	for pass := 0; pass < 2; pass++ { // 0: file, 1: email.attachments
		start := len(b)
		b = append(b, '[')
		n := 0
		for _, a := range arr {
			mark := len(b)
			if n > 0 {
				b = append(b, ',')
			}
			if pass == 1 {
				b = append(b, `{"file":`...)
			}
			var ok bool
			b, ok = appendAttachmentFile(r, b, a, pass == 0)
			if r.fail != nil {
				return
			}
			if !ok {
				b = b[:mark]
				continue
			}
			if pass == 1 {
				b = append(b, '}')
			}
			n++
		}
		b = append(b, ']')
		if n > 0 {
			slot := fileSlot
			if pass == 1 {
				slot = emailAtt
			}
			r.scratch = b
			r.SetRaw(slot, b[start:])
		}
	}
	r.scratch = b
}

// appendAttachmentFile appends one ECS file object; ok is false when it is
// empty (Elastic's cleanup then drops it). With related, hash values also
// go to related.hash.
func appendAttachmentFile(r *Rec, b []byte, a *fastjson.Value, related bool) ([]byte, bool) {
	o, _ := a.Object()
	start := len(b)
	b = append(b, '{')
	n := 0
	member := func(key string, v *fastjson.Value) {
		if v == nil {
			return
		}
		mark := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		b = ecsjson.AppendKey(b, key)
		var ok bool
		b, ok = r.appendClean(b, v, 1, true)
		if !ok {
			b = b[:mark]
			return
		}
		n++
	}
	// ECS order: hash, mime_type, name.
	hs := len(b)
	b = append(b, `"hash":{`...)
	hn := 0
	for _, h := range emailAttachmentHashes {
		v := o.Get(h[0])
		if v == nil {
			continue
		}
		mark := len(b)
		if hn > 0 {
			b = append(b, ',')
		}
		b = ecsjson.AppendKey(b, h[1])
		var ok bool
		b, ok = r.appendClean(b, v, 2, true)
		if !ok {
			b = b[:mark]
			continue
		}
		hn++
		if str, isStr := stringOf(v); isStr && related {
			r.AddRelated(RelatedHash, str)
		}
	}
	if hn == 0 {
		b = b[:hs]
	} else {
		b = append(b, '}')
		n++
	}
	member("mime_type", o.Get("ContentTypeComputed"))
	member("name", o.Get("Name"))
	if n == 0 || r.fail != nil {
		return b[:start], false
	}
	return append(b, '}'), true
}

// Shared with email_security_post_delivery_events.

// setUniqueStrings writes the unique non-empty strings of v (a string, or
// the string elements of an array) as a JSON array to slot s: Elastic's append with
// allow_duplicates: false into an ECS list such as email.to.address.
// Nothing is written when there is none.
func setUniqueStrings(r *Rec, s SlotRef, v *fastjson.Value) {
	if v == nil || (s.dup && !r.KeepDuplicates()) {
		return
	}
	b := append(r.scratch[:0], '[')
	n := 0
	switch v.Type() {
	case fastjson.TypeString:
		if str, ok := stringOf(v); ok {
			b = ecsjson.AppendString(b, str)
			n++
		}
	case fastjson.TypeArray:
		arr, _ := v.Array()
	next:
		for i, e := range arr {
			str, ok := stringOf(e)
			if !ok {
				continue
			}
			for _, p := range arr[:i] {
				if ps, ok := stringOf(p); ok && ps == str {
					continue next
				}
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = ecsjson.AppendString(b, str)
			n++
		}
	}
	b = append(b, ']')
	r.scratch = b
	if n == 0 {
		r.Unset(s)
		return
	}
	r.SetRaw(s, b)
}

// addEmailDomains adds to related.hosts the domain of every related.user
// entry that is an address (exactly one '@', at least 3 characters), as the
// script of Elastic's email_security_alerts pipeline does.
func addEmailDomains(r *Rec) {
	users := r.related[RelatedUser]
	for _, u := range users {
		if len(u) < 3 || utf8.RuneCountInString(u) < 3 {
			continue
		}
		i := strings.IndexByte(u, '@')
		if i < 0 || strings.IndexByte(u[i+1:], '@') >= 0 {
			continue
		}
		r.AddRelated(RelatedHosts, u[i+1:])
	}
}
