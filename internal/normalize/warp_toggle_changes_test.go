package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makeWARPToggleChange returns a user turning the WARP client on or off.
func makeWARPToggleChange(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return fmt.Sprintf(`{"AccountID":"4f8d1c2b3a4e5f60718293a4b5c6d7e8","AccountName":"Example Inc","DeviceID":"%s",`+
		`"DeviceRegistrationID":"%s","Hostname":"host-%d","SerialNumber":"SN%010d","Timestamp":%d,"Toggled":%t,"UserEmail":"user%d@example.com"}`,
		randUUID(rng), randUUID(rng), rng.IntN(5000), rng.IntN(1_000_000_000), t.UnixNano(), rng.IntN(2) == 0, rng.IntN(500))
}
