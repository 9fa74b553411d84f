package normalize

import (
	"strings"

	"github.com/valyala/fastjson"
)

// audit_logs_v2_api: items of the v2 audit logs API (GET
// /accounts/{id}/logs/audit, PROTOCOL.md §5.2) → cloudflare.audit_v2.
//
// Elastic has no mapping for v2 audit logs. This one follows the
// conventions of Elastic's API-based audit data stream (cloudflare.audit,
// ds_api_audit.go: namespace cloudflare.<stream>, cloud.provider, GeoIP on
// the actor's address) and uses the custom names of the Logpush audit_logs_v2
// mapping (ds_audit_logs_v2.go), so that the same audit log reads the same
// whether it was pulled or pushed, only under cloudflare.audit_v2 instead of
// cloudflare_logpush.audit_v2:
//
//	id                      cloudflare.audit_v2.id                    event.id
//	account.id / .name      account.id / account.name                 cloud.account.id / .name
//	action.time             action.timestamp                          @timestamp
//	action.type             action.type                               event.action (lowercased), event.type
//	action.result           action.result                             event.outcome (success / failure / unknown)
//	action.description      action.description
//	actor.id / .email       actor.id / actor.email                    user.id / user.email, related.user
//	actor.ip_address        actor.ip                                  source.ip (+ GeoIP), related.ip
//	actor.context / .type   actor.context / actor.type
//	actor.token_id / _name  actor.token_details.id / .name
//	raw.*                   raw.* (cf_ray_id, method, status_code,    http.request.method, http.response.status_code,
//	                        uri, user_agent)                          url.* (uri_parts), user_agent.*
//	resource.*              resource.* (request, response, value:
//	                        flattened)
//	zone.id / .name         zone.id / zone.name                       related.hosts
//
// The custom copies of ECS fields (actor.email / id / ip, action.type,
// action.timestamp, id) are Elastic-style duplicates, kept only with
// KeepDuplicateFields. event.kind is "event", event.category
// ["configuration"] (["authentication"] for logins), event.type from the
// action type: create → creation, update → change, delete → deletion,
// view → access, login → info, else info. Whole API responses are accepted
// (Envelope): an empty page gives no document.

var auditLogsV2API = &Dataset{
	Name:      "audit_logs_v2_api",
	Elastic:   "cloudflare.audit_v2",
	Namespace: "cloudflare.audit_v2",
	Aliases:   []string{"audit_v2_api"},
	Catalog:   "-", // an API, not a Logpush dataset (see audit_logs_v2)
	Envelope:  true,
	IDFields:  []string{"id"},
	DropNA:    true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["configuration"]`},
		{"event.type", `["info"]`},
		{"cloud.provider", `"cloudflare"`},
	},
	Fields: []Field{
		{Src: "action.time", Custom: "action.timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "id", Custom: "id", ECS: "event.id"},
		{Src: "action.type", Custom: "action.type", ECS: "event.action", Lower: true},
		{Src: "action.result", Custom: "action.result"}, // event.outcome in deriveAuditLogsV2API
		{Src: "action.description", Custom: "action.description"},
		{Src: "account.id", Custom: "account.id", Copy: "cloud.account.id"},
		{Src: "account.name", Custom: "account.name", Copy: "cloud.account.name"},
		{Src: "actor.email", Custom: "actor.email", ECS: "user.email", Related: RelatedUser},
		{Src: "actor.id", Custom: "actor.id", ECS: "user.id", Related: RelatedUser},
		{Src: "actor.ip_address", Custom: "actor.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "actor.context", Custom: "actor.context"},
		{Src: "actor.token_id", Custom: "actor.token_details.id"},
		{Src: "actor.token_name", Custom: "actor.token_details.name"},
		{Src: "actor.type", Custom: "actor.type"},
		{Src: "raw.cf_ray_id", Custom: "raw.cf_ray_id"},
		{Src: "raw.method", Custom: "raw.method", Copy: "http.request.method"},
		{Src: "raw.status_code", Custom: "raw.status_code", Copy: "http.response.status_code", Type: Long},
		{Src: "raw.uri", Custom: "raw.uri"}, // url.* in deriveAuditLogsV2API
		{Src: "raw.user_agent", Custom: "raw.user_agent", Copy: "user_agent.original", Enrich: UserAgent},
		{Src: "resource.id", Custom: "resource.id"},
		{Src: "resource.product", Custom: "resource.product"},
		{Src: "resource.request", Custom: "resource.request", Mapping: "flattened"},
		{Src: "resource.response", Custom: "resource.response", Mapping: "flattened"},
		{Src: "resource.scope", Custom: "resource.scope"},
		{Src: "resource.type", Custom: "resource.type"},
		{Src: "resource.value", Custom: "resource.value", Mapping: "flattened"},
		{Src: "zone.id", Custom: "zone.id"},
		{Src: "zone.name", Custom: "zone.name", Related: RelatedHosts},
	},
	Declare: []FieldDef{
		{Path: "event.outcome", Type: "keyword", Source: "action.result"},
		{Path: "event.type", Type: "keyword", Source: "action.type"},
		{Path: "url.original", Type: "wildcard", Source: "raw.uri"},
	},
	Derive: deriveAuditLogsV2API,
}

// auditV2Categorization is the ECS event.type (and category) of a v2
// action type, as the Logpush audit_logs_v2 mapping sets it.
func auditV2Categorization(actionType string) (category, typ string) {
	switch strings.ToLower(actionType) {
	case "create":
		return "", `["creation"]`
	case "update":
		return "", `["change"]`
	case "delete":
		return "", `["deletion"]`
	case "view":
		return "", `["access"]`
	case "login":
		return `["authentication"]`, `["info"]`
	}
	return "", ""
}

func deriveAuditLogsV2API(s *Schema) DeriveFunc {
	result, actionType, uri := s.Field("action.result"), s.Field("action.type"), s.Field("raw.uri")
	outcome, category, typ := s.Slot("event.outcome"), s.Slot("event.category"), s.Slot("event.type")
	account := s.Slot("cloud.account.id")
	u := BindURL(s)
	return func(r *Rec) {
		if !r.IsSet(account) {
			r.SetString(account, r.AccountID())
		}
		if v := r.Value(result); v != nil && v.Type() != fastjson.TypeNull {
			switch res, _ := r.String(result); {
			case strings.EqualFold(res, "success") || v.Type() == fastjson.TypeTrue:
				r.SetString(outcome, "success")
			case strings.EqualFold(res, "failure") || v.Type() == fastjson.TypeFalse:
				r.SetString(outcome, "failure")
			case res != "" || v.Type() != fastjson.TypeString:
				r.SetString(outcome, "unknown")
			}
		}
		if at, ok := r.String(actionType); ok {
			c, t := auditV2Categorization(at)
			if c != "" {
				r.SetRaw(category, []byte(c))
			}
			if t != "" {
				r.SetRaw(typ, []byte(t))
			}
		}
		if raw, ok := r.String(uri); ok && raw != "" {
			if !u.URIParts(r, raw) {
				r.SetString(u.Original, raw)
			}
		}
	}
}
