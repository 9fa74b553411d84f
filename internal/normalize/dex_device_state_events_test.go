package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeDEXDeviceStateEvent returns a WARP client device state report.
func makeDEXDeviceStateEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	v6 := ""
	if rng.IntN(2) == 0 {
		v6 = fmt.Sprintf(`"ISPIPv6ASN":7922,"ISPIPv6ASO":"COMCAST-7922","ISPIPv6Address":"2001:db8:%x::%x","ISPIPv6City":"San Jose",`+
			`"ISPIPv6CountryISO":"US","ISPIPv6Netmask":"ffff:ffff:ffff:ffff::","ISPIPv6StateISO":"US-CA","ISPIPv6Zip":"95113",`+
			`"DeviceIPv6Address":"fe80::%x","DeviceIPv6Netmask":"ffff:ffff:ffff:ffff::",`, rng.IntN(0xffff), 1+rng.IntN(0xffff), 1+rng.IntN(0xffff))
	}
	return fmt.Sprintf(`{"AccountID":"4f8d1c2b3a4e5f60718293a4b5c6d7e8","AlwaysOn":%t,"AppFirewallEnabled":%t,"BatteryCharging":%t,`+
		`"BatteryCycles":%d,"BatteryPercentage":%.2f,"CPUPercentage":%.3f,"CPUPercentageByApp":[{"name":"Google Chrome Helper","percentage":%.3f},{"name":"CloudflareWARP","percentage":0.004}],`+
		`"ClientPlatform":"%s","ClientVersion":"2024.3.409.0","ConnectionType":"%s","DeviceID":"%s","DeviceIPv4Address":"192.168.%d.%d",`+
		`"DeviceIPv4Netmask":"255.255.255.0",%s"DeviceRegistrationID":"%s","DeviceRegistrationProfileID":"default","DiskReadBPS":%d,`+
		`"DiskUsagePercentage":%.2f,"DiskWriteBPS":%d,"DoHSubdomain":"a1b2c3d4e5","FirewallEnabled":true,"GatewayIPv4Address":"192.168.%d.1",`+
		`"GatewayIPv4Netmask":"255.255.255.0","HandshakeLatencyMs":%d,"ISPIPv4ASN":7922,"ISPIPv4ASO":"COMCAST-7922","ISPIPv4Address":"198.51.100.%d",`+
		`"ISPIPv4City":"San Jose","ISPIPv4CountryISO":"US","ISPIPv4Netmask":"255.255.255.255","ISPIPv4StateISO":"US-CA","ISPIPv4Zip":"95113",`+
		`"Mode":"warp+doh","NetworkReceivedBPS":%d,"NetworkSSID":"Corp-WiFi","NetworkSentBPS":%d,"RAMAvailableKB":%d,"RAMUsedPercentage":%.2f,`+
		`"RAMUsedPercentageByApp":[{"name":"Google Chrome Helper","percentage":%.2f}],"Status":"%s","SwitchLocked":%t,"Timestamp":%d,`+
		`"TunnelStatsDownstream":{"rttUs":%d,"minRttUs":18000,"rttVarUs":1500,"packetsSent":%d,"packetsLost":%d,"packetsRetransmitted":3,"bytesSent":%d,"bytesLost":14400,"bytesRetransmitted":3600},`+
		`"TunnelStatsUpstream":{"rttUs":%d,"minRttUs":18500,"rttVarUs":1700,"packetsSent":%d,"packetsLost":%d,"packetsRetransmitted":1,"bytesSent":%d,"bytesLost":4800,"bytesRetransmitted":1200},`+
		`"TunnelType":"masque","WarpColoCode":"%s","WiFiStrengthDBM":%d}`,
		rng.IntN(4) > 0, rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(900), rng.Float64(), rng.Float64()/2, rng.Float64()/10,
		pick(rng, "mac", "windows", "linux"), pick(rng, "wifi", "ethernet", "cellular"), randUUID(rng), rng.IntN(256), 1+rng.IntN(254),
		v6, randUUID(rng), rng.IntN(5_000_000), rng.Float64(), rng.IntN(2_000_000), rng.IntN(256),
		pick(rng, 23, 31, 48, -1), 1+rng.IntN(250), rng.IntN(2_000_000), rng.IntN(500_000), 1_000_000+rng.IntN(15_000_000), rng.Float64(),
		rng.Float64()/5, pick(rng, "connected", "connected", "paused", "disconnected"), rng.IntN(5) == 0, t.UnixNano(),
		15000+rng.IntN(20000), rng.IntN(500_000), rng.IntN(50), rng.IntN(900_000_000),
		15000+rng.IntN(20000), rng.IntN(500_000), rng.IntN(50), rng.IntN(100_000_000),
		pick(rng, "SJC", "FRA", "LHR"), -30-rng.IntN(60))
}

// TestHostOSType checks Elastic's script_map_host_os_type mapping.
func TestHostOSType(t *testing.T) {
	n := newTestEnv(t, Options{}).NewNormalizer()
	for platform, want := range map[string]string{
		"mac": "macos", "macOS": "macos", "windows": "windows", "Windows 11": "windows", "linux": "linux",
		"ios": "ios", "iPadOS": "", "android": "android", "chromeos": "", "": "", "unix": "unix", "darwin": "",
	} {
		doc, _, err := n.Normalize("dex_device_state_events", []byte(`{"ClientPlatform":"`+platform+`"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := decode(t, doc)["host.os.type"].(string)
		if got != want {
			t.Errorf("ClientPlatform %q: host.os.type %q, want %q", platform, got, want)
		}
	}
}
