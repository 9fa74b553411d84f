package normalize

// dlp_forensic_copies (account) → cloudflare_logpush.dlp_forensic_copies.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/dlp_forensic_copies
// ingest pipeline. Datetime becomes @timestamp and its custom copy datetime
// (kept: Elastic's duplicate list names a "timestamp" field this dataset
// never has); TriggeredRuleID is copied to rule.id.

var dlpForensicCopies = &Dataset{
	Name:     "dlp_forensic_copies",
	Elastic:  "cloudflare_logpush.dlp_forensic_copies",
	IDFields: []string{"ForensicCopyID"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Datetime", Custom: "datetime", Copy: "@timestamp", Type: Timestamp},
		{Src: "AccountID", Custom: "account_id"},
		{Src: "ForensicCopyID", Custom: "forensic_copy_id"},
		{Src: "GatewayRequestID", Custom: "gateway_request_id"},
		{Src: "Headers", Custom: "headers", Mapping: "object"},
		{Src: "Payload", Custom: "payload"},
		{Src: "Phase", Custom: "phase"},
		{Src: "TriggeredRuleID", Custom: "triggered_rule_id", Copy: "rule.id"},
	},
}
