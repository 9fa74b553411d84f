package normalize

import "testing"

func TestDNSTables(t *testing.T) {
	for n, want := range map[int64]string{0: "Reserved", 1: "A", 28: "AAAA", 54: "", 65: "HTTPS", 99: "SPF", 109: "EUI64",
		110: "", 128: "NXNAME", 249: "TKEY", 255: "ANY", 257: "CAA", 264: "IPN", 265: "", 32768: "TA", 32769: "DLV", 65535: "", -1: ""} {
		if got := DNSQueryType(n); got != want {
			t.Errorf("DNSQueryType(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "NoError", 3: "NXDomain", 11: "DSOTYPENI", 12: "", 16: "BADVERS", 23: "BADCOOKIE", 24: "", -1: ""} {
		if got := DNSResponseCode(n); got != want {
			t.Errorf("DNSResponseCode(%d) = %q, want %q", n, got, want)
		}
	}
}
