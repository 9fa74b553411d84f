package normalize

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// datasetList is every dataset flarehose normalizes: one mapping file each
// (ds_<name>.go). Adding a dataset = writing its file and listing it here.
var datasetList = []*Dataset{
	httpRequests,
	firewallEvents,
	auditLogs,
	gatewayDNS, // gateway group: ds_gateway_*.go, ds_zero_trust_network_sessions.go, ds_access_requests.go, ds_ssh_logs.go, ds_biso_user_actions.go, ds_mcp_portal_logs.go
	gatewayHTTP,
	gatewayNetwork,
	zeroTrustNetworkSessions,
	accessRequests,
	sshLogs,
	bisoUserActions,
	mcpPortalLogs,
	auditLogsAPI, // API datasets (cloudflare package): ds_api_audit.go, ds_logpull.go
	logpull,
	auditLogsV2API,
	emailSecurityAlerts,
	nelReports,
	pageShieldEvents,
	workersTraceEvents,
	emailSecurityPostDeliveryEvents,
	websocketAnalytics,
	zarazEvents,
	auditLogsV2,
	dnsLogs,
	dnsFirewallLogs,
	networkAnalyticsLogs,
	magicIDSDetections,
	spectrumEvents,
	sinkholeHTTPLogs,
	ipsecLogs,
	magicBGPLogs,
	mnmFlowLogs,
	dexApplicationTests,
	dexDeviceStateEvents,
	devicePostureResults,
	casbFindings,
	dlpForensicCopies,
	warpConfigChanges,
	warpToggleChanges,
	turnstileEvents,
	accountAbuseProtectionEvents,
}

// registry indexes datasetList by every accepted name and holds the
// compiled schemas; built once, on first use.
type registryT struct {
	datasets []*Dataset
	names    map[string]*Dataset // every accepted name -> dataset
	schemas  map[*Dataset]*Schema
}

var registry = sync.OnceValue(func() *registryT {
	r := &registryT{names: map[string]*Dataset{}, schemas: map[*Dataset]*Schema{}}
	for _, ds := range datasetList {
		for _, n := range append([]string{ds.Name, ds.Elastic}, ds.Aliases...) {
			if n == "" {
				continue
			}
			if other, ok := r.names[n]; ok && other != ds {
				panic(fmt.Sprintf("normalize: dataset name %q used by %s and %s", n, other.Name, ds.Name)) // a bug in datasetList
			}
			r.names[n] = ds
		}
		r.datasets = append(r.datasets, ds)
		r.schemas[ds] = compile(ds)
	}
	return r
})

func lookup(name string) (*Dataset, bool) {
	names := registry().names
	ds, ok := names[name]
	if !ok {
		ds, ok = names[strings.ToLower(strings.TrimSpace(name))]
	}
	return ds, ok
}

func schemaOf(ds *Dataset) *Schema {
	return registry().schemas[ds]
}

// Resolve maps a dataset name as Cloudflare (http_requests) or Elastic
// (cloudflare_logpush.http_request, or the bare http_request) spell it to
// the canonical Cloudflare dataset name.
func Resolve(name string) (canonical string, ok bool) {
	ds, ok := lookup(name)
	if !ok {
		return "", false
	}
	return ds.Name, true
}

// ElasticDataset returns the Elastic dataset name (data_stream.dataset) of a
// canonical (or any accepted) dataset name, or "" for an unknown one.
func ElasticDataset(canonical string) string {
	ds, ok := lookup(canonical)
	if !ok {
		return ""
	}
	return ds.Elastic
}

// Datasets lists the canonical names of every known dataset, sorted.
func Datasets() []string {
	out := make([]string, 0, len(datasetList))
	for _, ds := range datasetList {
		out = append(out, ds.Name)
	}
	sort.Strings(out)
	return out
}
