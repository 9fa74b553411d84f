package normalize

// device_posture_results (account) → cloudflare_logpush.device_posture.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/device_posture
// ingest pipeline (ECS 9.3.0, with RegistrationID and the boolean convert of
// PostureEvaluatedResult). Newer Elastic sample events also carry the ECS
// device.* fields; they are copied here too (the custom host.* fields stay).

var devicePostureResults = &Dataset{
	Name:     "device_posture_results",
	Elastic:  "cloudflare_logpush.device_posture",
	Aliases:  []string{"device_posture"},
	IDFields: []string{"DeviceID", "PolicyID", "Timestamp", "RegistrationID"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["host"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},

		// Fields with an ECS copy; the custom copy is an Elastic duplicate.
		{Src: "ClientVersion", Custom: "version", ECS: "user_agent.version"},
		{Src: "DeviceID", Custom: "host.id", ECS: "host.id", Copy: "device.id", Related: RelatedHosts},
		{Src: "DeviceName", Custom: "host.name", ECS: "host.name", Related: RelatedHosts},
		{Src: "DeviceType", Custom: "host.os.family", ECS: "host.os.family", Copy: "device.type"},
		{Src: "OSVersion", Custom: "host.os.version", ECS: "host.os.version"},
		{Src: "PolicyID", Custom: "rule.id", ECS: "rule.id"},
		{Src: "PostureCheckName", Custom: "rule.name", ECS: "rule.name"},
		{Src: "PostureCheckType", Custom: "rule.category", ECS: "rule.category"},
		{Src: "UserUID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},
		{Src: "Email", Custom: "user.email", ECS: "user.email", Related: RelatedUser},

		{Src: "DeviceManufacturer", Custom: "host.manufacturer", Copy: "device.manufacturer"},
		{Src: "DeviceModel", Custom: "host.model", Copy: "device.model.name"},
		{Src: "DeviceSerialNumber", Custom: "host.serial", Copy: "device.serial_number"},
		{Src: "PostureEvaluatedResult", Custom: "eval.result", Type: Bool}, // + event.outcome
		{Src: "PostureExpectedJSON", Custom: "eval.expected", Mapping: "flattened"},
		{Src: "PostureReceivedJSON", Custom: "eval.received", Mapping: "flattened"},
		{Src: "RegistrationID", Custom: "registration_id"},
	},
	Derive: deriveDevicePostureResults,
}

// deriveDevicePostureResults sets event.outcome from the posture result
// (true: success, false: failure, like Elastic after its boolean convert).
func deriveDevicePostureResults(s *Schema) DeriveFunc {
	result := s.Field("PostureEvaluatedResult")
	outcome := s.Slot("event.outcome")
	return func(r *Rec) {
		if b, ok := readBool(r.Value(result)); ok {
			if b {
				r.SetString(outcome, "success")
			} else {
				r.SetString(outcome, "failure")
			}
		}
	}
}
