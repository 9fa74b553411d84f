package normalize

// DNS code tables of Elastic's dns and dns_firewall pipelines (their
// script processors' lookups).

// DNSQueryType names an IANA DNS RR TYPE (dns.question.type) as the
// Elastic dns and dns_firewall pipelines do; "" when their table has no
// name for it.
func DNSQueryType(t int64) string {
	switch {
	case t >= 0 && t < int64(len(dnsQTypes)):
		return dnsQTypes[t]
	case t == 32768:
		return "TA"
	case t == 32769:
		return "DLV"
	}
	return ""
}

var dnsQTypes = func() [265]string {
	var a [265]string
	for i, n := range []string{"Reserved", "A", "NS", "MD", "MF", "CNAME", "SOA", "MB", "MG", "MR", "NULL", "WKS",
		"PTR", "HINFO", "MINFO", "MX", "TXT", "RP", "AFSDB", "X25", "ISDN", "RT", "NSAP", "NSAP-PTR", "SIG", "KEY",
		"PX", "GPOS", "AAAA", "LOC", "NXT", "EID", "NIMLOC", "SRV", "ATMA", "NAPTR", "KX", "CERT", "A6", "DNAME",
		"SINK", "OPT", "APL", "DS", "SSHFP", "IPSECKEY", "RRSIG", "NSEC", "DNSKEY", "DHCID", "NSEC3", "NSEC3PARAM",
		"TLSA", "SMIMEA", "", "HIP", "NINFO", "RKEY", "TALINK", "CDS", "CDNSKEY", "OPENPGPKEY", "CSYNC", "ZONEMD",
		"SVCB", "HTTPS", "DSYNC", "HHIT", "BRID"} {
		a[i] = n
	}
	for i, n := range []string{"SPF", "UINFO", "UID", "GID", "UNSPEC", "NID", "L32", "L64", "LP", "EUI48", "EUI64"} {
		a[99+i] = n
	}
	a[128] = "NXNAME"
	for i, n := range []string{"TKEY", "TSIG", "IXFR", "AXFR", "MAILB", "MAILA", "ANY", "URI", "CAA", "AVC", "DOA",
		"AMTRELAY", "RESINFO", "WALLET", "CLA", "IPN"} {
		a[249+i] = n
	}
	return a
}()

// DNSResponseCode names an IANA DNS RCODE (dns.response_code) as the
// Elastic dns and dns_firewall pipelines do; "" when unknown to them.
func DNSResponseCode(c int64) string {
	if c >= 0 && c < int64(len(dnsRcodes)) {
		return dnsRcodes[c]
	}
	return ""
}

var dnsRcodes = [...]string{"NoError", "FormErr", "ServFail", "NXDomain", "NotImp", "Refused", "YXDomain",
	"YXRRSet", "NXRRSet", "NotAuth", "NotZone", "DSOTYPENI", "", "", "", "", "BADVERS", "BADKEY", "BADTIME",
	"BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE"}

// canonicalInt parses s when it is exactly how Painless' String.valueOf
// prints a long (no sign, no leading zero): the form the Elastic scripts
// look up in their code tables.
func canonicalInt(s string) (int64, bool) {
	if s == "" || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
