package normalize

import (
	"strings"

	"github.com/valyala/fastjson"
)

// audit_logs_v2 (account, Logpush) → cloudflare_logpush.audit_v2.
//
// Elastic has no such data stream (its cloudflare_logpush.audit handles the
// v1 dataset, audit_logs): this follows that pipeline's conventions, with
// the same custom names where v1 and v2 share a field (action.type,
// action.result, actor.email / id / ip / type, id, resource.id / type; the
// custom copies of ECS fields are duplicates). ECS:
//   - @timestamp: ActionTimestamp; event.id: AuditLogID; event.action:
//     ActionType lowercased; event.outcome: ActionResult (success /
//     failure; anything else: unknown);
//   - event.kind "event", event.category ["configuration"] (v2 records
//     changes made through the API and dashboard; ["authentication"] for
//     logins), event.type from ActionType: create → creation, update →
//     change, delete → deletion, view → access, else info;
//   - cloud.account.id / name: the Cloudflare account;
//   - user.id / user.email (the actor), source.ip (the actor's address),
//     related.user (actor id and email), related.ip, related.hosts (zone);
//   - from Raw, the HTTP request the action came from: http.request.method,
//     http.response.status_code, url.original / url.path / url.query (the
//     request URI), user_agent.* (keys in any case, with or without '_':
//     method, status_code, uri, user_agent).
// Objects (ActorTokenDetails, Raw, ResourceRequest, ResourceResponse,
// ResourceValue) are kept whole (flattened).

var auditLogsV2 = &Dataset{
	Name:     "audit_logs_v2",
	Elastic:  "cloudflare_logpush.audit_v2",
	Aliases:  []string{"audit_v2"},
	IDFields: []string{"AuditLogID"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["configuration"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "ActionTimestamp", Custom: "action.timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "AuditLogID", Custom: "id", ECS: "event.id"},
		{Src: "ActionType", Custom: "action.type", ECS: "event.action", Lower: true},
		{Src: "ActionResult", Custom: "action.result"}, // event.outcome in Derive
		{Src: "ActionDescription", Custom: "action.description"},
		{Src: "ActorEmail", Custom: "actor.email", ECS: "user.email", Related: RelatedUser},
		{Src: "ActorID", Custom: "actor.id", ECS: "user.id", Related: RelatedUser},
		{Src: "ActorIPAddress", Custom: "actor.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "ActorContext", Custom: "actor.context"},
		{Src: "ActorTokenDetails", Custom: "actor.token_details", Mapping: "flattened"},
		{Src: "ActorType", Custom: "actor.type"},
		{Src: "AccountID", Custom: "account.id", Copy: "cloud.account.id"},
		{Src: "AccountName", Custom: "account.name", Copy: "cloud.account.name"},
		{Src: "Raw", Custom: "raw", Mapping: "flattened"},
		{Src: "ResourceID", Custom: "resource.id"},
		{Src: "ResourceProduct", Custom: "resource.product"},
		{Src: "ResourceRequest", Custom: "resource.request", Mapping: "flattened"},
		{Src: "ResourceResponse", Custom: "resource.response", Mapping: "flattened"},
		{Src: "ResourceScope", Custom: "resource.scope"},
		{Src: "ResourceType", Custom: "resource.type"},
		{Src: "ResourceValue", Custom: "resource.value", Mapping: "flattened"},
		{Src: "ZoneID", Custom: "zone.id"},
		{Src: "ZoneName", Custom: "zone.name", Related: RelatedHosts},
	},
	Derive: deriveAuditLogsV2,
}

func deriveAuditLogsV2(s *Schema) DeriveFunc {
	result, actionType, raw := s.Field("ActionResult"), s.Field("ActionType"), s.Field("Raw")
	outcome, typ, category := s.Slot("event.outcome"), s.Slot("event.type"), s.Slot("event.category")
	method, status := s.Slot("http.request.method"), s.Slot("http.response.status_code")
	uaOriginal := s.Slot("user_agent.original")
	ua := UserAgent.bind(s)
	u := BindURL(s)
	return func(r *Rec) {
		if res, ok := r.String(result); ok && res != "" {
			switch {
			case strings.EqualFold(res, "success"):
				r.SetString(outcome, "success")
			case strings.EqualFold(res, "failure"):
				r.SetString(outcome, "failure")
			default:
				r.SetString(outcome, "unknown")
			}
		}
		if at, ok := r.String(actionType); ok {
			var t string
			switch strings.ToLower(at) {
			case "create":
				t = `["creation"]`
			case "update":
				t = `["change"]`
			case "delete":
				t = `["deletion"]`
			case "view":
				t = `["access"]`
			case "login":
				r.SetRaw(category, []byte(`["authentication"]`))
			}
			if t != "" {
				r.SetRaw(typ, []byte(t))
			}
		}
		rv := r.Value(raw)
		if rv == nil || rv.Type() != fastjson.TypeObject {
			return
		}
		o, _ := rv.Object()
		o.Visit(func(k []byte, v *fastjson.Value) {
			switch auditV2RawKey(k) {
			case "method":
				if str, ok := stringOf(v); ok {
					r.SetString(method, str)
				}
			case "statuscode":
				if n, ok := readLong(v); ok {
					r.SetInt(status, n)
				}
			case "uri":
				if str, ok := stringOf(v); ok {
					if !u.URIParts(r, str) {
						r.SetString(u.Original, str)
					}
				}
			case "useragent":
				if str, ok := stringOf(v); ok {
					r.SetString(uaOriginal, str)
					ua(r, str)
				}
			}
		})
	}
}

// auditV2RawKey folds a Raw member name (status_code, StatusCode,
// statusCode) to lower case without '_'; names that matter are short.
func auditV2RawKey(k []byte) string {
	if len(k) > 16 {
		return ""
	}
	var buf [16]byte
	b := buf[:0]
	for _, c := range k {
		switch {
		case c == '_':
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	switch string(b) {
	case "uri":
		return "uri"
	case "method":
		return "method"
	case "statuscode":
		return "statuscode"
	case "useragent":
		return "useragent"
	}
	return ""
}
