package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makeWARPConfigChange returns a WARP client switching configuration.
func makeWARPConfigChange(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	from, to := pick(rng, "Default", "Engineering", "Contractors"), pick(rng, "Default", "Engineering - split tunnel", "Staging")
	return fmt.Sprintf(`{"AccountIDFrom":"4f8d1c2b3a4e5f60718293a4b5c6d7e8","AccountIDTo":"%032x","AccountNameFrom":"Example Inc",`+
		`"AccountNameTo":"%s","ConfigNameFrom":"%s","ConfigNameTo":"%s","DeviceID":"%s","DeviceRegistrationID":"%s",`+
		`"Hostname":"host-%d","SerialNumber":"SN%010d","Timestamp":%d,"UserEmail":"user%d@example.com"}`,
		rng.Uint64(), pick(rng, "Example Inc", "Example Staging"), from, to, randUUID(rng), randUUID(rng),
		rng.IntN(5000), rng.IntN(1_000_000_000), t.UnixNano(), rng.IntN(500))
}
