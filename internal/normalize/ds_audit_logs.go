package normalize

import "github.com/valyala/fastjson"

// audit_logs (account, Logpush) → cloudflare_logpush.audit.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/audit ingest
// pipeline. related.user holds the actor and owner ids, as in the pipeline
// version the conformance fixtures were made with (newer Elastic versions
// also add the actor's email).

var auditLogs = &Dataset{
	Name:     "audit_logs",
	Elastic:  "cloudflare_logpush.audit",
	Aliases:  []string{"audit"},
	IDFields: []string{"ID"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["authentication"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "When", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "ActionType", Custom: "action.type", ECS: "event.action", Lower: true},
		{Src: "ActionResult"}, // becomes action.result / event.outcome in deriveAuditLogs
		{Src: "ActorEmail", Custom: "actor.email", ECS: "user.email"},
		{Src: "ActorID", Custom: "actor.id", ECS: "user.id", Related: RelatedUser},
		{Src: "ActorIP", Custom: "actor.ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "ActorType", Custom: "actor.type"},
		{Src: "ID", Custom: "id", ECS: "event.id"},
		{Src: "Interface", Custom: "interface", ECS: "event.provider", Mapping: "text"},
		{Src: "Metadata", Custom: "metadata", Mapping: "flattened"},
		{Src: "NewValue", Custom: "new_value", Mapping: "flattened"},
		{Src: "OldValue", Custom: "old_value", Mapping: "flattened"},
		{Src: "OwnerID", Custom: "owner.id", Related: RelatedUser},
		{Src: "ResourceID", Custom: "resource.id"},
		{Src: "ResourceType", Custom: "resource.type"},
	},
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.audit.action.result", Type: "keyword", Source: "ActionResult"},
	},
	Derive: deriveAuditLogs,
}

// deriveAuditLogs sets action.result and event.outcome: "success" when
// ActionResult is true, "failure" otherwise (also when it is missing, as in
// Elastic's pipeline).
func deriveAuditLogs(s *Schema) DeriveFunc {
	result := s.Field("ActionResult")
	custom, outcome := s.Custom("action.result", true), s.Slot("event.outcome")
	return func(r *Rec) {
		res := "failure"
		if v := r.Value(result); v != nil && v.Type() == fastjson.TypeTrue {
			res = "success"
		}
		r.SetString(custom, res)
		r.SetString(outcome, res)
	}
}
