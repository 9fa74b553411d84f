package normalize

// nel_reports (zone) → cloudflare_logpush.nel_report.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/nel_report
// ingest pipeline (ECS 9.3.0). Only Type gets an ECS copy (error.type):
// Elastic maps no source.* / geo fields for NEL reports.

var nelReports = &Dataset{
	Name:    "nel_reports",
	Elastic: "cloudflare_logpush.nel_report",
	Aliases: []string{"nel_report"},
	// A report has no id: the raw record is hashed (IDFields left empty).
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "Type", Custom: "error.type", ECS: "error.type"},
		{Src: "ClientIPASN", Custom: "client.ip.asn.value", Type: Long},
		{Src: "ClientIPASNDescription", Custom: "client.ip.asn.description"},
		{Src: "ClientIPCountry", Custom: "client.ip.country"},
		{Src: "LastKnownGoodColoCode", Custom: "last_known_good.colo.code"},
		{Src: "Phase", Custom: "phase"},
	},
}
