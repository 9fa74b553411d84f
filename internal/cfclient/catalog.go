package cfclient

import "sort"

// Dataset is a Logpush dataset of flarehose's catalog: Cloudflare's field
// reference (shared/cloudflare/datasets.json, transcribed from the docs'
// generated dataset pages) reduced to what the CLI shows. The live field
// list is the API's GET /{scope}/logpush/datasets/{dataset}/fields.
type Dataset struct {
	Name   string
	Scope  string // "zone" or "account"
	Fields int    // documented fields
	// TimestampFields are the fields timestamp_format applies to.
	TimestampFields []string
	// Edge: the dataset supports kind "edge" (Edge Log Delivery).
	Edge bool
}

// catalog is generated from datasets.json; keep it sorted by scope, name.
var catalog = []Dataset{
	{Name: "account_abuse_protection_events", Scope: "zone", Fields: 19, TimestampFields: []string{"Timestamp"}},
	{Name: "dns_logs", Scope: "zone", Fields: 9, TimestampFields: []string{"Timestamp"}},
	{Name: "firewall_events", Scope: "zone", Fields: 44, TimestampFields: []string{"Datetime"}},
	{Name: "http_requests", Scope: "zone", Fields: 108, TimestampFields: []string{"EdgeEndTimestamp", "EdgeStartTimestamp"}, Edge: true},
	{Name: "nel_reports", Scope: "zone", Fields: 7, TimestampFields: []string{"Timestamp"}},
	{Name: "page_shield_events", Scope: "zone", Fields: 10, TimestampFields: []string{"Timestamp"}},
	{Name: "spectrum_events", Scope: "zone", Fields: 31, TimestampFields: []string{"ConnectTimestamp", "DisconnectTimestamp", "Timestamp"}},
	{Name: "websocket_analytics", Scope: "zone", Fields: 17, TimestampFields: []string{"EdgeEndTimestamp", "EdgeStartTimestamp"}},
	{Name: "zaraz_events", Scope: "zone", Fields: 7, TimestampFields: []string{"TimestampStart"}},
	{Name: "access_requests", Scope: "account", Fields: 15, TimestampFields: []string{"CreatedAt"}},
	{Name: "audit_logs", Scope: "account", Fields: 15, TimestampFields: []string{"When"}},
	{Name: "audit_logs_v2", Scope: "account", Fields: 23, TimestampFields: []string{"ActionTimestamp"}},
	{Name: "biso_user_actions", Scope: "account", Fields: 9, TimestampFields: []string{"Timestamp"}},
	{Name: "casb_findings", Scope: "account", Fields: 12, TimestampFields: []string{"DetectedTimestamp"}},
	{Name: "device_posture_results", Scope: "account", Fields: 18, TimestampFields: []string{"Timestamp"}},
	{Name: "dex_application_tests", Scope: "account", Fields: 72, TimestampFields: []string{"Timestamp", "TracerouteTimeEnd"}},
	{Name: "dex_device_state_events", Scope: "account", Fields: 60, TimestampFields: []string{"Timestamp"}},
	{Name: "dlp_forensic_copies", Scope: "account", Fields: 8, TimestampFields: []string{"Datetime"}},
	{Name: "dns_firewall_logs", Scope: "account", Fields: 19, TimestampFields: []string{"Timestamp"}},
	{Name: "email_security_alerts", Scope: "account", Fields: 32, TimestampFields: []string{"Timestamp"}},
	{Name: "email_security_post_delivery_events", Scope: "account", Fields: 21, TimestampFields: []string{"CompletedAt", "MessageTimestamp", "RequestedAt"}},
	{Name: "firewall_events", Scope: "account", Fields: 45, TimestampFields: []string{"Datetime"}},
	{Name: "gateway_dns", Scope: "account", Fields: 82, TimestampFields: []string{"Datetime"}},
	{Name: "gateway_http", Scope: "account", Fields: 60, TimestampFields: []string{"Datetime"}},
	{Name: "gateway_network", Scope: "account", Fields: 34, TimestampFields: []string{"Datetime"}},
	{Name: "ipsec_logs", Scope: "account", Fields: 7, TimestampFields: []string{"Timestamp"}},
	{Name: "magic_bgp_logs", Scope: "account", Fields: 6, TimestampFields: []string{"EventTimestamp"}},
	{Name: "magic_ids_detections", Scope: "account", Fields: 12, TimestampFields: []string{"Timestamp"}},
	{Name: "mcp_portal_logs", Scope: "account", Fields: 19, TimestampFields: []string{"Datetime"}},
	{Name: "mnm_flow_logs", Scope: "account", Fields: 24, TimestampFields: []string{"FlowTimestamp", "Timestamp"}},
	{Name: "network_analytics_logs", Scope: "account", Fields: 81, TimestampFields: []string{"Datetime"}},
	{Name: "sinkhole_http_logs", Scope: "account", Fields: 17, TimestampFields: []string{"Timestamp"}},
	{Name: "ssh_logs", Scope: "account", Fields: 18, TimestampFields: []string{"Datetime", "ProgramFinishDatetime", "ProgramStartDatetime", "SessionFinishDatetime", "SessionStartDatetime"}},
	{Name: "turnstile_events", Scope: "account", Fields: 13, TimestampFields: []string{"Timestamp"}},
	{Name: "warp_config_changes", Scope: "account", Fields: 11, TimestampFields: []string{"Timestamp"}},
	{Name: "warp_toggle_changes", Scope: "account", Fields: 9, TimestampFields: []string{"Timestamp"}},
	{Name: "websocket_analytics", Scope: "account", Fields: 19, TimestampFields: []string{}},
	{Name: "workers_trace_events", Scope: "account", Fields: 13, TimestampFields: []string{}},
	{Name: "zero_trust_network_sessions", Scope: "account", Fields: 43, TimestampFields: []string{"SessionEndTime", "SessionStartTime"}},
}

// Datasets returns the catalog's datasets of a scope ("zone", "account"),
// or of both when scope is "", sorted by name then scope.
func Datasets(scope string) []Dataset {
	var out []Dataset
	for _, d := range catalog {
		if scope == "" || d.Scope == scope {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Scope > out[j].Scope // zone before account
	})
	return out
}

// LookupDataset finds a dataset of the catalog at a scope.
func LookupDataset(scope, name string) (Dataset, bool) {
	for _, d := range catalog {
		if d.Scope == scope && d.Name == name {
			return d, true
		}
	}
	return Dataset{}, false
}

// DatasetScopes returns the scopes a dataset exists at (firewall_events
// and websocket_analytics exist at both).
func DatasetScopes(name string) []string {
	var out []string
	for _, d := range catalog {
		if d.Name == name {
			out = append(out, d.Scope)
		}
	}
	return out
}
