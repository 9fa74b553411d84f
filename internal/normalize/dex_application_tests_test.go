package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makeDEXApplicationTest returns a DEX test result: an HTTP test (2 in 3) or
// a traceroute.
func makeDEXApplicationTest(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 3 * time.Second)
	common := fmt.Sprintf(`"AccountID":"4f8d1c2b3a4e5f60718293a4b5c6d7e8","ClientPlatform":"%s","ClientVersion":"2024.3.409.0",`+
		`"ColoCode":"%s","DeviceID":"%s","DeviceRegistrationID":"%s","ExecutionContext":"%s","TestID":"%s","Timestamp":%d,`+
		`"TunnelType":"%s","UserEmail":"user%d@example.com","UserID":"%s"`,
		pick(rng, "windows", "mac", "linux", "android", "ios"), pick(rng, "SJC", "FRA", "LHR", "NRT"), randUUID(rng), randUUID(rng),
		pick(rng, "inTunnel", "outOfTunnel"), randUUID(rng), t.UnixNano(), pick(rng, "masque", "wireguard"), rng.IntN(500), randUUID(rng))
	if rng.IntN(3) > 0 {
		start := rng.IntN(5)
		return fmt.Sprintf(`{%s,"TestType":"http","HTTPClientIPASN":%d,"HTTPClientIPASO":"EXAMPLE-ISP","HTTPClientIPAddress":"198.51.100.%d",`+
			`"HTTPClientIPCity":"San Jose","HTTPClientIPCountryISO":"US","HTTPClientIPNetmask":"255.255.255.0","HTTPClientIPStateISO":"US-CA",`+
			`"HTTPClientIPVersion":"IPv4","HTTPClientIPZip":"95113","HTTPConnectEndMs":%d,"HTTPConnectStartMs":%d,"HTTPDomainLookupEndMs":%d,`+
			`"HTTPDomainLookupStartMs":%d,"HTTPErrorMessage":"","HTTPMethod":"GET","HTTPRequestStartMs":%d,"HTTPResponseBodyBytes":%d,`+
			`"HTTPResponseEndMs":%d,"HTTPResponseHeaderBytes":%d,"HTTPResponseStartMs":%d,"HTTPSecureConnectionStartMs":%d,`+
			`"HTTPServerIPASN":13335,"HTTPServerIPASO":"CLOUDFLARENET","HTTPServerIPAddress":"104.16.%d.%d","HTTPServerIPCity":"San Francisco",`+
			`"HTTPServerIPCountryISO":"US","HTTPServerIPNetmask":"255.255.255.0","HTTPServerIPStateISO":"US-CA","HTTPServerIPVersion":"IPv4",`+
			`"HTTPServerIPZip":"94107","HTTPStatusCode":%d,"HTTPURL":"https://%s/%s"}`,
			common, pick(rng, 7922, 3320, 701), 1+rng.IntN(250), start+40, start+20, start+18, start, start+60, rng.IntN(90000),
			start+200+rng.IntN(300), 300+rng.IntN(600), start+150, start+41, rng.IntN(256), 1+rng.IntN(250), pick(rng, 200, 200, 200, 503, 0),
			pick(rng, "intranet.example.com", "wiki.example.org", "git.example.com"), pick(rng, "health", "", "api/v1/status?probe=dex"))
	}
	return fmt.Sprintf(`{%s,"TestType":"traceroute","TracerouteDestinationHostname":"git.example.com","TracerouteDestinationIPASN":16509,`+
		`"TracerouteDestinationIPASO":"AMAZON-02","TracerouteDestinationIPAddress":"203.0.113.%d","TracerouteDestinationIPCity":"Portland",`+
		`"TracerouteDestinationIPCountryISO":"US","TracerouteDestinationIPNetmask":"255.255.255.0","TracerouteDestinationIPStateISO":"US-OR",`+
		`"TracerouteDestinationIPVersion":"IPv4","TracerouteDestinationIPZip":"97201","TracerouteDurationMs":%d,`+
		`"TracerouteHops":[{"errors":[],"ip":{"address":"192.168.1.1","asn":0,"aso":"","netmask":"255.255.255.0","version":"v4"},"name":"router.local","pathID":0,"received":3,"rtts":[1.2,1.1,1.4],"sent":3,"ttl":1},`+
		`{"errors":[],"ip":{"address":"198.51.100.1","asn":7922,"aso":"COMCAST-7922","netmask":"255.255.255.0","version":"v4","location":{"city":"San Jose","countryISO":"US","stateISO":"US-CA","zip":"95113"}},"name":"","pathID":0,"received":3,"rtts":[9.8,10.2,9.9],"sent":3,"ttl":2}],`+
		`"TracerouteMaxTTL":30,"TracerouteProtocol":"%s","TracerouteSize":56,"TracerouteSourceIPASN":7922,"TracerouteSourceIPASO":"COMCAST-7922",`+
		`"TracerouteSourceIPAddress":"198.51.100.%d","TracerouteSourceIPCity":"San Jose","TracerouteSourceIPCountryISO":"US",`+
		`"TracerouteSourceIPNetmask":"255.255.255.0","TracerouteSourceIPStateISO":"US-CA","TracerouteSourceIPVersion":"IPv4",`+
		`"TracerouteSourceIPZip":"95113","TracerouteStatus":"%s","TracerouteTimeEnd":%d,"TracerouteVersion":"2"}`,
		common, 1+rng.IntN(250), 500+rng.IntN(3000), pick(rng, "icmp", "udp", "tcp"), 1+rng.IntN(250),
		pick(rng, "destinationReached", "lastHopFailed", "maxHopsExhausted"), t.Add(3*time.Second).UnixNano())
}
