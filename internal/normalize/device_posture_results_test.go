package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makeDevicePostureResult returns one posture check result of a device.
func makeDevicePostureResult(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	dev := pick(rng,
		[4]string{"Apple Inc.", "MacBookPro18,3", "mac", "14.4.1"},
		[4]string{"LENOVO", "20XW00K9US", "windows", "10.0.22631"},
		[4]string{"Google", "Pixel 8", "android", "14"},
		[4]string{"Dell Inc.", "Latitude 7440", "linux", "6.5.0-27-generic"})
	check := pick(rng,
		[4]string{"Disk encryption", "disk_encryption", `{"requireAll":true}`, `{"encryptedDisks":{"/":true}}`},
		[4]string{"Firewall on", "firewall", `{"enabled":true}`, `{"enabled":false}`},
		[4]string{"OS version", "os_version", `{"operator":">=","version":"13"}`, `{"version":"14"}`})
	return fmt.Sprintf(`{"ClientVersion":"2024.3.409.0","DeviceID":"%s","DeviceManufacturer":"%s","DeviceModel":"%s","DeviceName":"host-%d",`+
		`"DeviceSerialNumber":"SN%010d","DeviceType":"%s","Email":"user%d@example.com","OSVersion":"%s","PolicyID":"%s",`+
		`"PostureCheckName":"%s","PostureCheckType":"%s","PostureEvaluatedResult":%t,"PostureExpectedJSON":%s,"PostureReceivedJSON":%s,`+
		`"RegistrationID":"%s","Timestamp":%d,"UserUID":"%s"}`,
		randUUID(rng), dev[0], dev[1], rng.IntN(5000), rng.IntN(1_000_000_000), dev[2], rng.IntN(500), dev[3], randUUID(rng),
		check[0], check[1], rng.IntN(4) > 0, check[2], check[3], randUUID(rng), t.UnixNano(), randUUID(rng))
}
