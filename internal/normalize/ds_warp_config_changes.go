package normalize

// warp_config_changes (account) → cloudflare_logpush.warp_config_changes.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/warp_config_changes
// ingest pipeline (an unmerged 2.1.0 pull request branch, ECS 9.3.0). The
// pipeline keeps no duplicate custom fields.

var warpConfigChanges = &Dataset{
	Name:     "warp_config_changes",
	Elastic:  "cloudflare_logpush.warp_config_changes",
	IDFields: []string{"DeviceID", "Timestamp", "DeviceRegistrationID", "AccountIDTo", "ConfigNameTo"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["configuration"]`},
		{"event.type", `["change"]`},
		{"event.action", `"warp-config-change"`},
	},
	Fields: []Field{
		{Src: "Timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "AccountIDFrom", Custom: "account.from.id"},
		{Src: "AccountNameFrom", Custom: "account.from.name"},
		{Src: "AccountIDTo", Custom: "account.to.id"},
		{Src: "AccountNameTo", Custom: "account.to.name"},
		{Src: "ConfigNameFrom", Custom: "config.from.name"},
		{Src: "ConfigNameTo", Custom: "config.to.name"},
		{Src: "DeviceID", ECS: "device.id", Copy: "host.id", Related: RelatedHosts},
		{Src: "DeviceRegistrationID", Custom: "device.registration_id"},
		{Src: "Hostname", ECS: "host.name", Related: RelatedHosts},
		{Src: "SerialNumber", ECS: "device.serial_number"},
		{Src: "UserEmail", ECS: "user.email", Related: RelatedUser},
	},
}
