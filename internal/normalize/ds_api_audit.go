package normalize

import (
	"strings"

	"github.com/valyala/fastjson"
)

// audit_logs_api: items of the v1 audit logs API (GET
// /accounts/{id}/audit_logs, PROTOCOL.md §5.1) → cloudflare.audit.
// Mirrors Elastic's API-based integration, packages/cloudflare/data_stream/
// audit (its default pipeline plus the "logpull" sub-pipeline it runs for
// records whose actor is an object), in the version its pipeline test
// fixtures were made with.
//
// The records are nested JSON ({"action":{"result":true,"type":...},
// "actor":{...}}): dotted Src names address their members (nested.go).
// Whole API responses are accepted too (Envelope, envelope.go): an empty
// page gives no document, as in Elastic where the input splits result[].
//
// Differences from Elastic, on purpose: members the mapping does not know
// (action.info, future fields) are kept under cloudflare.audit (Elastic
// drops its json object); action.info is mapped as cloudflare.audit.action.info.

var auditLogsAPI = &Dataset{
	Name:      "audit_logs_api",
	Elastic:   "cloudflare.audit",
	Namespace: "cloudflare.audit",
	Aliases:   []string{"audit_api"},
	Catalog:   "-", // an API, not a Logpush dataset
	Envelope:  true,
	IDFields:  []string{"id"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"cloud.provider", `"cloudflare"`},
	},
	Fields: []Field{
		{Src: "when", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "action.type", Custom: "action.type", ECS: "event.action", Lower: true},
		{Src: "action.result"}, // success/failure in deriveAuditLogsAPI
		{Src: "action.info", Custom: "action.info"},
		{Src: "actor.email", Custom: "actor.email", ECS: "user.email"},
		{Src: "actor.id", Custom: "actor.id", ECS: "user.id", Related: RelatedUser},
		// source.address gets the raw value in deriveAuditLogsAPI.
		{Src: "actor.ip", Custom: "actor.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "actor.type", Custom: "actor.type"},
		{Src: "id", Custom: "id", ECS: "event.id"},
		{Src: "interface", Custom: "interface", ECS: "event.provider", Mapping: "text"},
		{Src: "metadata", Custom: "metadata", Mapping: "flattened"},
		// new_value / old_value: the *Json object, plus the string value
		// as its "value" member (deriveAuditLogsAPI).
		{Src: "newValueJson"},
		{Src: "newValue"},
		{Src: "oldValueJson"},
		{Src: "oldValue"},
		{Src: "owner.id", Custom: "owner.id"},
		{Src: "resource.id", Custom: "resource.id"},
		{Src: "resource.type", Custom: "resource.type"},
	},
	Declare: []FieldDef{
		{Path: "cloudflare.audit.action.result", Type: "keyword", Source: "action.result"},
		{Path: "cloudflare.audit.new_value", Type: "flattened", Source: "newValueJson"},
		{Path: "cloudflare.audit.old_value", Type: "flattened", Source: "oldValueJson"},
		{Path: "event.outcome", Type: "keyword", Source: "action.result"},
		{Path: "source.address", Type: "keyword", Source: "actor.ip"},
		{Path: "cloud.account.id", Type: "keyword"},
	},
	Derive: deriveAuditLogsAPI,
}

// auditCategory is the ECS categorization Elastic's audit pipeline sets per
// (lowercased) action type; login also forces event.outcome to success.
// Other actions get event.type "info" (a string, as Elastic's script sets it).
var auditCategory = map[string]struct{ category, typ, outcome string }{
	"login":                 {`["authentication"]`, `["info"]`, "success"},
	"token_create":          {`["iam"]`, `["creation"]`, ""},
	"token_revoke":          {`["iam"]`, `["deletion"]`, ""},
	"token_roll":            {`["iam"]`, `["change"]`, ""},
	"api_key_view":          {`["iam"]`, `["info"]`, ""},
	"rotate_api_key":        {`["iam"]`, `["change"]`, ""},
	"api_key_created":       {`["iam"]`, `["creation"]`, ""},
	"purge":                 {`["configuration"]`, `["deletion"]`, ""},
	"tls_settings_deployed": {`["configuration"]`, `["info"]`, ""},
	"add":                   {`["configuration"]`, `["creation"]`, ""},
	"delete":                {`["configuration"]`, `["deletion"]`, ""},
	"rec_add":               {`["configuration"]`, `["creation"]`, ""},
	"rec_del":               {`["configuration"]`, `["deletion"]`, ""},
	"pending":               {`["configuration"]`, `["info"]`, ""},
	"change_setting":        {`["configuration"]`, `["change"]`, ""},
	"add_enforce_twofactor": {`["iam","configuration"]`, `["admin","info"]`, ""},
}

func deriveAuditLogsAPI(s *Schema) DeriveFunc {
	result, actionType := s.Field("action.result"), s.Field("action.type")
	actorIP := s.Field("actor.ip")
	resID, resType := s.Field("resource.id"), s.Field("resource.type")
	newJSON, newVal := s.Field("newValueJson"), s.Field("newValue")
	oldJSON, oldVal := s.Field("oldValueJson"), s.Field("oldValue")
	resultSlot, outcome := s.Custom("action.result", true), s.Slot("event.outcome")
	category, typ := s.Slot("event.category"), s.Slot("event.type")
	address, account := s.Slot("source.address"), s.Slot("cloud.account.id")
	newSlot, oldSlot := s.Custom("new_value", false), s.Custom("old_value", false)
	return func(r *Rec) {
		r.SetString(account, r.AccountID())
		res := "failure"
		if v := r.Value(result); v != nil && v.Type() == fastjson.TypeTrue {
			res = "success"
		}
		r.SetString(resultSlot, res)
		r.SetString(outcome, res)
		if ip, ok := r.String(actorIP); ok {
			r.SetString(address, ip)
		}
		r.SetRaw(typ, []byte(`"info"`))
		if at, ok := r.String(actionType); ok {
			if c, ok := auditCategory[strings.ToLower(at)]; ok {
				r.SetRaw(category, []byte(c.category))
				r.SetRaw(typ, []byte(c.typ))
				r.SetString(outcome, c.outcome)
			}
		}
		if t, _ := r.String(resType); t == "user" {
			if id, ok := r.String(resID); ok {
				r.AddRelated(RelatedUser, id)
			}
		}
		auditValue(r, newSlot, r.Value(newJSON), r.Value(newVal))
		auditValue(r, oldSlot, r.Value(oldJSON), r.Value(oldVal))
	}
}

// auditValue writes new_value / old_value: Elastic renames newValueJson to
// new_value, then newValue (unless it is the string "null") to
// new_value.value. Empty values vanish in the final cleanup. A *Json value
// that is not an object (Elastic would fail) is kept as the "json" member.
func auditValue(r *Rec, slot SlotRef, obj, str *fastjson.Value) {
	off := len(r.arena)
	b := append(r.arena, '{')
	n := 0
	member := func(key string, v *fastjson.Value) {
		mark := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), key...), `":`...)
		var ok bool
		if b, ok = r.appendClean(b, v, 1, true); ok {
			n++
		} else {
			b = b[:mark]
		}
	}
	hasValue := false
	if obj != nil && obj.Type() == fastjson.TypeObject {
		var ok bool
		if b, ok = r.appendClean(b[:off], obj, 1, true); ok {
			b = b[:len(b)-1] // reopen the object
			n = 1
			hasValue = obj.Get("value") != nil
		} else {
			b = append(b[:off], '{')
		}
	} else if obj != nil {
		member("json", obj)
	}
	if str != nil && !hasValue && !(str.Type() == fastjson.TypeString && string(str.GetStringBytes()) == "null") {
		member("value", str)
	}
	if r.fail != nil || n == 0 {
		r.arena = r.arena[:off]
		return
	}
	r.arena = append(b, '}')
	r.assign(slot, off, len(r.arena))
}
