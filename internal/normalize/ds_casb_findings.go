package normalize

// casb_findings (account) → cloudflare_logpush.casb.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/casb ingest
// pipeline in the version the conformance fixtures were made with
// (event.severity 1-4 for the exact values Low, Medium, High, Critical;
// newer Elastic versions map them case-insensitively to 21/47/73/99).
// finding.type.severity is always kept, as in Elastic's current pipeline
// (the fixture version also listed it among the duplicate custom fields,
// although no ECS field holds its text).

var casbFindings = &Dataset{
	Name:     "casb_findings",
	Elastic:  "cloudflare_logpush.casb",
	Aliases:  []string{"casb"},
	IDFields: []string{"InstanceID"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["access"]`},
	},
	Fields: []Field{
		{Src: "DetectedTimestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "AssetDisplayName", Custom: "asset.name"},
		{Src: "AssetExternalID", Custom: "asset.id"},
		// uri_parts (keep_original) on the link replaces url.* in
		// deriveCASBFindings; the custom copy is a duplicate.
		{Src: "AssetLink", Custom: "asset.url", ECS: "url.original"},
		{Src: "AssetMetadata", Custom: "asset.metadata", Mapping: "flattened"},
		{Src: "FindingTypeDisplayName", Custom: "finding.type.name"},
		{Src: "FindingTypeID", Custom: "finding.type.id"},
		{Src: "FindingTypeSeverity", Custom: "finding.type.severity"}, // + event.severity in deriveCASBFindings
		{Src: "InstanceID", Custom: "finding.id", ECS: "event.id"},
		{Src: "IntegrationDisplayName", Custom: "integration.name"},
		{Src: "IntegrationID", Custom: "integration.id"},
		{Src: "IntegrationPolicyVendor", Custom: "integration.policy_vendor"},
	},
	Derive: deriveCASBFindings,
}

// deriveCASBFindings runs uri_parts on AssetLink into url.* and maps
// FindingTypeSeverity to event.severity.
func deriveCASBFindings(s *Schema) DeriveFunc {
	link, sev := s.Field("AssetLink"), s.Field("FindingTypeSeverity")
	u := BindURL(s)
	severity := s.Slot("event.severity")
	return func(r *Rec) {
		if l, ok := r.String(link); ok && l != "" {
			if !u.URIParts(r, l) {
				r.AddError(uriPartsError("uri_parts", l))
			}
		}
		if v, ok := r.String(sev); ok {
			switch v {
			case "Low":
				r.SetInt(severity, 1)
			case "Medium":
				r.SetInt(severity, 2)
			case "High":
				r.SetInt(severity, 3)
			case "Critical":
				r.SetInt(severity, 4)
			}
		}
	}
}
