package normalize

import (
	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// dex_device_state_events (account) → cloudflare_logpush.dex_device_state_events.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/dex_device_state_events
// ingest pipeline (integration 2.1.0, ECS 9.3.0). The ISP-assigned public
// addresses make source.ip a list (IPv4 then IPv6), the device's private
// addresses host.ip; the IPv4 ISP details go to source.as/geo, the IPv6
// ones stay in the namespace. The pipeline keeps no duplicate custom fields.

var dexDeviceStateEvents = &Dataset{
	Name:     "dex_device_state_events",
	Elastic:  "cloudflare_logpush.dex_device_state_events",
	IDFields: []string{"DeviceID", "Timestamp", "DeviceRegistrationID"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["host"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "AccountID", Custom: "account_id"},

		// Device, host.
		{Src: "ClientPlatform", ECS: "host.os.name"}, // + host.os.type in deriveDEXDeviceStateEvents
		{Src: "ClientVersion", Custom: "version", Copy: "user_agent.version"},
		{Src: "DeviceID", ECS: "device.id", Copy: "host.id", Related: RelatedHosts},
		{Src: "DeviceRegistrationID", Custom: "device.registration_id"},
		{Src: "DeviceRegistrationProfileID", Custom: "device.registration_profile_id"},
		// The four addresses below become the source.ip and host.ip lists in
		// deriveDEXDeviceStateEvents.
		{Src: "DeviceIPv4Address"},
		{Src: "DeviceIPv6Address"},
		{Src: "DeviceIPv4Netmask", Custom: "device.ipv4.netmask"},
		{Src: "DeviceIPv6Netmask", Custom: "device.ipv6.netmask"},

		// Gateway (router) the device is connected to.
		// related.ip gets the gateway addresses after the lists (Elastic's order).
		{Src: "GatewayIPv4Address", Custom: "gateway.ipv4.address", Type: IP},
		{Src: "GatewayIPv4Netmask", Custom: "gateway.ipv4.netmask"},
		{Src: "GatewayIPv6Address", Custom: "gateway.ipv6.address", Type: IP},
		{Src: "GatewayIPv6Netmask", Custom: "gateway.ipv6.netmask"},

		// ISP-assigned public addresses.
		{Src: "ISPIPv4Address"},
		{Src: "ISPIPv4ASN", ECS: "source.as.number", Type: Long},
		{Src: "ISPIPv4ASO", ECS: "source.as.organization.name"},
		{Src: "ISPIPv4City", ECS: "source.geo.city_name"},
		{Src: "ISPIPv4CountryISO", ECS: "source.geo.country_iso_code"},
		{Src: "ISPIPv4StateISO", ECS: "source.geo.region_iso_code"},
		{Src: "ISPIPv4Zip", ECS: "source.geo.postal_code"},
		{Src: "ISPIPv4Netmask", Custom: "isp.ipv4.netmask"},
		{Src: "ISPIPv6Address"},
		{Src: "ISPIPv6ASN", Custom: "isp.ipv6.asn", Type: Long},
		{Src: "ISPIPv6ASO", Custom: "isp.ipv6.aso"},
		{Src: "ISPIPv6City", Custom: "isp.ipv6.city"},
		{Src: "ISPIPv6CountryISO", Custom: "isp.ipv6.country_iso"},
		{Src: "ISPIPv6StateISO", Custom: "isp.ipv6.state_iso"},
		{Src: "ISPIPv6Zip", Custom: "isp.ipv6.zip"},
		{Src: "ISPIPv6Netmask", Custom: "isp.ipv6.netmask"},

		// Network.
		{Src: "ConnectionType", Custom: "network.connection_type"},
		{Src: "NetworkSSID", Custom: "network.ssid"},
		{Src: "NetworkReceivedBPS", Custom: "network.received_bps", Type: Long},
		{Src: "NetworkSentBPS", Custom: "network.sent_bps", Type: Long},

		// Tunnel and connection state.
		{Src: "TunnelType", Custom: "tunnel_type"},
		{Src: "WarpColoCode", Custom: "warp_colo.code"},
		{Src: "Status", Custom: "status"},
		{Src: "Mode", Custom: "mode"},
		{Src: "DoHSubdomain", Custom: "doh_subdomain"},
		{Src: "HandshakeLatencyMs", Custom: "handshake_latency_ms", Type: Long},
		{Src: "WiFiStrengthDBM", Custom: "wifi_strength_dbm", Type: Long},

		// Toggles.
		{Src: "AlwaysOn", Custom: "always_on", Type: Bool},
		{Src: "AppFirewallEnabled", Custom: "app_firewall_enabled", Type: Bool},
		{Src: "FirewallEnabled", Custom: "firewall_enabled", Type: Bool},
		{Src: "SwitchLocked", Custom: "switch_locked", Type: Bool},

		// Resources (percentages are fractions from 0 to 1, like host.cpu.usage).
		{Src: "BatteryCharging", Custom: "battery.charging", Type: Bool},
		{Src: "BatteryCycles", Custom: "battery.cycles", Type: Long},
		{Src: "BatteryPercentage", Custom: "battery.percentage", Type: Double, Mapping: "float"},
		{Src: "CPUPercentage", Custom: "cpu.percentage", Copy: "host.cpu.usage", Type: Double, Mapping: "float"},
		{Src: "CPUPercentageByApp", Custom: "cpu.percentage_by_app", Mapping: "nested"},
		{Src: "DiskReadBPS", Custom: "disk.read_bps", Type: Long},
		{Src: "DiskWriteBPS", Custom: "disk.write_bps", Type: Long},
		{Src: "DiskUsagePercentage", Custom: "disk.usage_percentage", Type: Double, Mapping: "float"},
		{Src: "RAMAvailableKB", Custom: "ram.available_kb", Type: Long},
		{Src: "RAMUsedPercentage", Custom: "ram.used_percentage", Type: Double, Mapping: "float"},
		{Src: "RAMUsedPercentageByApp", Custom: "ram.used_percentage_by_app", Mapping: "nested"},

		// Tunnel statistics and experimental data.
		{Src: "TunnelStatsDownstream", Custom: "tunnel_stats.downstream", Mapping: "flattened"},
		{Src: "TunnelStatsUpstream", Custom: "tunnel_stats.upstream", Mapping: "flattened"},
		{Src: "ExperimentalExtra", Custom: "experimental_extra", Mapping: "flattened"},
	},
	Derive: deriveDEXDeviceStateEvents,
}

// deriveDEXDeviceStateEvents sets host.os.type and builds the source.ip
// (ISP IPv4, IPv6) and host.ip (device IPv4, IPv6) lists. An address that
// is not an IP is reported and left out, as Elastic's convert does.
// related.ip holds the listed addresses, then the valid gateway addresses.
func deriveDEXDeviceStateEvents(s *Schema) DeriveFunc {
	osType := bindHostOSType(s, "ClientPlatform")
	sourceIP := bindIPList(s, "source.ip", "ISPIPv4Address", "ISPIPv6Address")
	hostIP := bindIPList(s, "host.ip", "DeviceIPv4Address", "DeviceIPv6Address")
	gw4, gw6 := s.Field("GatewayIPv4Address"), s.Field("GatewayIPv6Address")
	return func(r *Rec) {
		osType(r)
		sourceIP(r)
		hostIP(r)
		for _, f := range [2]FieldRef{gw4, gw6} {
			r.AddRelated(RelatedIP, r.IP(f))
		}
	}
}

// bindIPList returns the per-record function of Elastic's "convert to ip,
// then append to a list" idiom: the valid addresses among srcs (in order,
// without duplicates) become a JSON array at path, and go to related.ip;
// an invalid one is reported and left out.
func bindIPList(s *Schema, path string, srcs ...string) func(r *Rec) {
	out := s.Slot(path)
	if len(srcs) > 4 {
		panic("normalize: bindIPList takes at most 4 fields")
	}
	fields := make([]FieldRef, len(srcs))
	for i, src := range srcs {
		fields[i] = s.Field(src)
	}
	return func(r *Rec) {
		var vals [4]string // (the function is shared by all normalizers: no state outside)
		n := 0
	next:
		for i, f := range fields {
			ip, ok := r.String(f)
			if !ok {
				if v := r.Value(f); v != nil && v.Type() != fastjson.TypeNull {
					r.AddError(conversionError(srcs[i], v, "ip"))
				}
				continue
			}
			if ip == "" {
				continue
			}
			if !validIP(ip) {
				r.AddError(conversionError(srcs[i], r.Value(f), "ip"))
				continue
			}
			for _, prev := range vals[:n] {
				if prev == ip {
					continue next
				}
			}
			if n < len(vals) {
				vals[n] = ip
				n++
			}
		}
		if n == 0 {
			return
		}
		b := r.begin()
		b = append(b, '[')
		for i, ip := range vals[:n] {
			if i > 0 {
				b = append(b, ',')
			}
			b = ecsjson.AppendString(b, ip)
			r.AddRelated(RelatedIP, ip)
		}
		b = append(b, ']')
		r.commit(out, b)
	}
}
