package normalize

// warp_toggle_changes (account) → cloudflare_logpush.warp_toggle_changes.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/warp_toggle_changes
// ingest pipeline (an unmerged 2.1.0 pull request branch, ECS 9.3.0). The
// pipeline keeps no duplicate custom fields.

var warpToggleChanges = &Dataset{
	Name:     "warp_toggle_changes",
	Elastic:  "cloudflare_logpush.warp_toggle_changes",
	IDFields: []string{"DeviceID", "Timestamp", "DeviceRegistrationID", "Toggled"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["configuration"]`},
		{"event.type", `["change"]`},
		{"event.action", `"warp-toggle-change"`},
	},
	Fields: []Field{
		{Src: "Timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "AccountID", Custom: "account.id"},
		{Src: "AccountName", Custom: "account.name"},
		{Src: "DeviceID", ECS: "device.id", Copy: "host.id", Related: RelatedHosts},
		{Src: "DeviceRegistrationID", Custom: "device.registration_id"},
		{Src: "Hostname", ECS: "host.name", Related: RelatedHosts},
		{Src: "SerialNumber", ECS: "device.serial_number"},
		{Src: "Toggled", Custom: "toggled", Type: Bool},
		{Src: "UserEmail", ECS: "user.email", Related: RelatedUser},
	},
}
