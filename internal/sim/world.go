package sim

import (
	"math/rand/v2"
	"net/netip"
)

// The static world the generators draw from: networks (country, city, ASN,
// IP prefix), Cloudflare colos and user agents. Prefixes are real
// allocations of the named networks (as of the mid 2020s) so that IPs look
// right and a GeoIP lookup roughly agrees; the tables are a caricature, not
// a registry. The prefixes do not overlap, so an IP always maps to one
// network and therefore to one country, ASN and colo.

type netKind uint8

const (
	nkResidential netKind = iota // home broadband
	nkMobile                     // mobile carriers
	nkHosting                    // clouds and hosters: scripts, VPNs, scanners
	nkScanner                    // research scanners (Censys, Shodan, Shadowserver)
	nkBotNet                     // networks of verified bot operators (Google, Microsoft, Apple...)
	nkTor                        // Tor exit relays
	nkWARP                       // Cloudflare WARP egress
	nkWorkers                    // Cloudflare Workers subrequests
)

type network struct {
	key                   string
	country, region, city string // ISO-3166 alpha-2 (lower case, as Cloudflare logs it), ISO-3166-2 subdivision, city
	lat, lon              string
	asn                   int
	asName                string
	v4, v6                netip.Prefix
	kind                  netKind
	weight                int
	colos                 []string // nearest Cloudflare colos, most likely first
	ipClass               string   // ClientIPClass for clients on this network (visitors may override)
	v6Share               float64  // share of clients on IPv6 when the network has a v6 prefix
	hosts                 int      // how many distinct client addresses the network contributes
	fixedV4, fixedV6      []string // when set, addresses are drawn only from these
	parsed4, parsed6      []netip.Addr
}

func pfx(s string) netip.Prefix {
	if s == "" {
		return netip.Prefix{}
	}
	return netip.MustParsePrefix(s)
}

// networks: ~60 entries. weight is relative within a kind.
var networks = []*network{
	// Residential broadband.
	{key: "comcast", country: "us", region: "IL", city: "Chicago", lat: "41.87810", lon: "-87.62980", asn: 7922, asName: "COMCAST-7922", v4: pfx("73.0.0.0/8"), v6: pfx("2601::/20"), kind: nkResidential, weight: 14, colos: []string{"ORD", "IAD"}},
	{key: "att", country: "us", region: "TX", city: "Dallas", lat: "32.77670", lon: "-96.79700", asn: 7018, asName: "ATT-INTERNET4", v4: pfx("99.0.0.0/10"), v6: pfx("2600:1700::/28"), kind: nkResidential, weight: 10, colos: []string{"DFW", "IAH"}},
	{key: "verizon-fios", country: "us", region: "NY", city: "New York", lat: "40.71280", lon: "-74.00600", asn: 701, asName: "UUNET", v4: pfx("71.240.0.0/12"), kind: nkResidential, weight: 8, colos: []string{"EWR", "IAD"}},
	{key: "charter", country: "us", region: "CA", city: "Los Angeles", lat: "34.05220", lon: "-118.24370", asn: 20001, asName: "TWC-20001-PACWEST", v4: pfx("76.168.0.0/13"), v6: pfx("2603:8000::/24"), kind: nkResidential, weight: 8, colos: []string{"LAX", "SJC"}},
	{key: "rogers", country: "ca", region: "ON", city: "Toronto", lat: "43.65320", lon: "-79.38320", asn: 812, asName: "ROGERS-COMMUNICATIONS", v4: pfx("99.224.0.0/11"), v6: pfx("2607:fea8::/32"), kind: nkResidential, weight: 4, colos: []string{"YYZ"}},
	{key: "bell", country: "ca", region: "QC", city: "Montreal", lat: "45.50170", lon: "-73.56730", asn: 577, asName: "BACOM", v4: pfx("174.88.0.0/13"), kind: nkResidential, weight: 3, colos: []string{"YUL", "YYZ"}},
	{key: "bt", country: "gb", region: "ENG", city: "London", lat: "51.50740", lon: "-0.12780", asn: 2856, asName: "BT-UK-AS", v4: pfx("86.128.0.0/10"), v6: pfx("2a00:23c0::/27"), kind: nkResidential, weight: 6, colos: []string{"LHR", "MAN"}},
	{key: "virgin", country: "gb", region: "ENG", city: "Manchester", lat: "53.48080", lon: "-2.24260", asn: 5089, asName: "NTL", v4: pfx("82.0.0.0/14"), kind: nkResidential, weight: 4, colos: []string{"MAN", "LHR"}},
	{key: "dtag", country: "de", region: "BE", city: "Berlin", lat: "52.52000", lon: "13.40500", asn: 3320, asName: "DTAG", v4: pfx("79.192.0.0/10"), v6: pfx("2003::/19"), kind: nkResidential, weight: 6, colos: []string{"FRA", "HAM"}},
	{key: "vodafone-de", country: "de", region: "HE", city: "Frankfurt am Main", lat: "50.11090", lon: "8.68210", asn: 3209, asName: "VODANET", v4: pfx("88.64.0.0/12"), v6: pfx("2a02:8100::/27"), kind: nkResidential, weight: 3, colos: []string{"FRA", "DUS"}},
	{key: "orange-fr", country: "fr", region: "IDF", city: "Paris", lat: "48.85660", lon: "2.35220", asn: 3215, asName: "FRANCE-TELECOM", v4: pfx("90.0.0.0/9"), v6: pfx("2a01:cb00::/24"), kind: nkResidential, weight: 5, colos: []string{"CDG", "MRS"}},
	{key: "free-fr", country: "fr", region: "ARA", city: "Lyon", lat: "45.76400", lon: "4.83570", asn: 12322, asName: "PROXAD", v4: pfx("82.64.0.0/10"), v6: pfx("2a01:e00::/26"), kind: nkResidential, weight: 3, colos: []string{"MRS", "CDG"}},
	{key: "kpn", country: "nl", region: "NH", city: "Amsterdam", lat: "52.36760", lon: "4.90410", asn: 1136, asName: "KPN", v4: pfx("77.160.0.0/12"), kind: nkResidential, weight: 3, colos: []string{"AMS"}},
	{key: "telefonica-es", country: "es", region: "MD", city: "Madrid", lat: "40.41680", lon: "-3.70380", asn: 3352, asName: "TELEFONICA_DE_ESPANA", v4: pfx("83.32.0.0/11"), kind: nkResidential, weight: 3, colos: []string{"MAD"}},
	{key: "tim", country: "it", region: "25", city: "Milan", lat: "45.46420", lon: "9.19000", asn: 3269, asName: "ASN-IBSNAZ", v4: pfx("79.0.0.0/11"), kind: nkResidential, weight: 3, colos: []string{"MXP"}},
	{key: "orange-pl", country: "pl", region: "14", city: "Warsaw", lat: "52.22970", lon: "21.01220", asn: 5617, asName: "TPNET", v4: pfx("83.0.0.0/11"), kind: nkResidential, weight: 2, colos: []string{"WAW"}},
	{key: "telia", country: "se", region: "AB", city: "Stockholm", lat: "59.32930", lon: "18.06860", asn: 3301, asName: "TELIANET", v4: pfx("78.64.0.0/12"), kind: nkResidential, weight: 2, colos: []string{"ARN"}},
	{key: "rostelecom", country: "ru", region: "MOW", city: "Moscow", lat: "55.75580", lon: "37.61730", asn: 12389, asName: "ROSTELECOM-AS", v4: pfx("178.64.0.0/12"), kind: nkResidential, weight: 2, colos: []string{"DME", "ARN"}},
	{key: "kyivstar", country: "ua", region: "30", city: "Kyiv", lat: "50.45010", lon: "30.52340", asn: 15895, asName: "KSNET-AS", v4: pfx("46.211.0.0/16"), kind: nkResidential, weight: 1, colos: []string{"KBP", "WAW"}},
	{key: "turktelekom", country: "tr", region: "34", city: "Istanbul", lat: "41.00820", lon: "28.97840", asn: 9121, asName: "TTNET", v4: pfx("78.160.0.0/11"), kind: nkResidential, weight: 2, colos: []string{"IST"}},
	{key: "bsnl", country: "in", region: "KA", city: "Bengaluru", lat: "12.97160", lon: "77.59460", asn: 9829, asName: "BSNL-NIB", v4: pfx("117.192.0.0/10"), kind: nkResidential, weight: 2, colos: []string{"BLR", "MAA"}},
	{key: "ntt-ocn", country: "jp", region: "13", city: "Tokyo", lat: "35.67620", lon: "139.65030", asn: 4713, asName: "OCN", v4: pfx("153.128.0.0/9"), kind: nkResidential, weight: 3, colos: []string{"NRT"}},
	{key: "kt", country: "kr", region: "11", city: "Seoul", lat: "37.56650", lon: "126.97800", asn: 4766, asName: "KIXS-AS-KR", v4: pfx("175.192.0.0/10"), kind: nkResidential, weight: 2, colos: []string{"ICN"}},
	{key: "chinanet", country: "cn", region: "JS", city: "Nanjing", lat: "32.06030", lon: "118.79690", asn: 4134, asName: "CHINANET-BACKBONE", v4: pfx("180.96.0.0/11"), kind: nkResidential, weight: 2, colos: []string{"HKG", "LAX"}},
	{key: "unicom", country: "cn", region: "BJ", city: "Beijing", lat: "39.90420", lon: "116.40740", asn: 4837, asName: "CHINA169-BACKBONE", v4: pfx("123.112.0.0/12"), kind: nkResidential, weight: 1, colos: []string{"HKG", "SJC"}},
	{key: "telstra", country: "au", region: "NSW", city: "Sydney", lat: "-33.86880", lon: "151.20930", asn: 1221, asName: "ASN-TELSTRA", v4: pfx("101.160.0.0/11"), v6: pfx("2001:8003::/32"), kind: nkResidential, weight: 3, colos: []string{"SYD", "MEL"}},
	{key: "claro-br", country: "br", region: "SP", city: "Sao Paulo", lat: "-23.55050", lon: "-46.63330", asn: 28573, asName: "CLARO S.A.", v4: pfx("177.32.0.0/12"), kind: nkResidential, weight: 3, colos: []string{"GRU"}},
	{key: "vivo-br", country: "br", region: "RJ", city: "Rio de Janeiro", lat: "-22.90680", lon: "-43.17290", asn: 18881, asName: "TELEFONICA BRASIL S.A", v4: pfx("191.32.0.0/12"), kind: nkResidential, weight: 2, colos: []string{"GIG", "GRU"}},
	{key: "telmex", country: "mx", region: "CMX", city: "Mexico City", lat: "19.43260", lon: "-99.13320", asn: 8151, asName: "Uninet S.A. de C.V.", v4: pfx("189.128.0.0/10"), kind: nkResidential, weight: 2, colos: []string{"QRO", "DFW"}},
	{key: "viettel", country: "vn", region: "SG", city: "Ho Chi Minh City", lat: "10.82310", lon: "106.62970", asn: 7552, asName: "VIETEL-AS-AP", v4: pfx("27.64.0.0/12"), kind: nkResidential, weight: 1, colos: []string{"SGN", "SIN"}},
	{key: "telkom-id", country: "id", region: "JK", city: "Jakarta", lat: "-6.20880", lon: "106.84560", asn: 7713, asName: "TELKOMNET-AS-AP", v4: pfx("36.64.0.0/11"), kind: nkResidential, weight: 1, colos: []string{"CGK", "SIN"}},

	// Mobile carriers.
	{key: "tmobile-us", country: "us", region: "WA", city: "Seattle", lat: "47.60620", lon: "-122.33210", asn: 21928, asName: "T-MOBILE-AS21928", v4: pfx("172.56.0.0/14"), v6: pfx("2607:fb90::/28"), kind: nkMobile, weight: 8, colos: []string{"SEA", "SJC"}, v6Share: 0.7},
	{key: "verizon-wireless", country: "us", region: "FL", city: "Miami", lat: "25.76170", lon: "-80.19180", asn: 6167, asName: "CELLCO-PART", v4: pfx("174.192.0.0/10"), v6: pfx("2600:1010::/32"), kind: nkMobile, weight: 7, colos: []string{"MIA", "ATL"}, v6Share: 0.6},
	{key: "jio", country: "in", region: "MH", city: "Mumbai", lat: "19.07600", lon: "72.87770", asn: 55836, asName: "RELIANCEJIO-IN", v4: pfx("49.32.0.0/11"), v6: pfx("2409:4000::/22"), kind: nkMobile, weight: 5, colos: []string{"BOM", "DEL"}, v6Share: 0.8},
	{key: "kddi", country: "jp", region: "27", city: "Osaka", lat: "34.69370", lon: "135.50230", asn: 2516, asName: "KDDI", v4: pfx("106.128.0.0/10"), kind: nkMobile, weight: 2, colos: []string{"KIX", "NRT"}},
	{key: "vodacom", country: "za", region: "GP", city: "Johannesburg", lat: "-26.20410", lon: "28.04730", asn: 29975, asName: "VODACOM-", v4: pfx("105.224.0.0/12"), kind: nkMobile, weight: 1, colos: []string{"JNB"}},
	{key: "mtn-ng", country: "ng", region: "LA", city: "Lagos", lat: "6.52440", lon: "3.37920", asn: 29465, asName: "VCG-AS", v4: pfx("102.88.0.0/16"), kind: nkMobile, weight: 1, colos: []string{"LOS"}},

	// Clouds and hosters.
	{key: "aws-use1", country: "us", region: "VA", city: "Ashburn", lat: "39.04380", lon: "-77.48740", asn: 14618, asName: "AMAZON-AES", v4: pfx("3.80.0.0/12"), v6: pfx("2600:1f18::/33"), kind: nkHosting, weight: 8, colos: []string{"IAD"}, v6Share: 0.1},
	{key: "aws-usw2", country: "us", region: "OR", city: "Boardman", lat: "45.83990", lon: "-119.70060", asn: 16509, asName: "AMAZON-02", v4: pfx("52.32.0.0/14"), kind: nkHosting, weight: 5, colos: []string{"SEA", "PDX"}},
	{key: "gcp", country: "us", region: "IA", city: "Council Bluffs", lat: "41.26190", lon: "-95.86080", asn: 396982, asName: "GOOGLE-CLOUD-PLATFORM", v4: pfx("35.184.0.0/13"), kind: nkHosting, weight: 4, colos: []string{"ORD", "OMA"}},
	{key: "do-nyc", country: "us", region: "NJ", city: "Clifton", lat: "40.85840", lon: "-74.16380", asn: 14061, asName: "DIGITALOCEAN-ASN", v4: pfx("159.203.0.0/16"), v6: pfx("2604:a880::/32"), kind: nkHosting, weight: 5, colos: []string{"EWR"}, v6Share: 0.2},
	{key: "hetzner", country: "de", region: "BY", city: "Nuremberg", lat: "49.45210", lon: "11.07670", asn: 24940, asName: "HETZNER-AS", v4: pfx("88.198.0.0/16"), v6: pfx("2a01:4f8::/32"), kind: nkHosting, weight: 5, colos: []string{"FRA", "MUC"}, v6Share: 0.25},
	{key: "ovh", country: "fr", region: "HDF", city: "Roubaix", lat: "50.69420", lon: "3.17460", asn: 16276, asName: "OVH", v4: pfx("51.75.0.0/16"), v6: pfx("2001:41d0::/32"), kind: nkHosting, weight: 5, colos: []string{"CDG", "AMS"}, v6Share: 0.15},
	{key: "leaseweb", country: "nl", region: "NH", city: "Amsterdam", lat: "52.37020", lon: "4.89520", asn: 60781, asName: "LEASEWEB-NL-AMS-01", v4: pfx("85.17.0.0/16"), kind: nkHosting, weight: 3, colos: []string{"AMS"}},
	{key: "do-sgp", country: "sg", region: "01", city: "Singapore", lat: "1.35210", lon: "103.81980", asn: 14061, asName: "DIGITALOCEAN-ASN", v4: pfx("128.199.0.0/16"), kind: nkHosting, weight: 3, colos: []string{"SIN"}},
	{key: "tencent", country: "cn", region: "GD", city: "Shenzhen", lat: "22.54310", lon: "114.05790", asn: 45090, asName: "TENCENT-NET-AP", v4: pfx("43.136.0.0/13"), kind: nkHosting, weight: 4, colos: []string{"HKG"}},
	{key: "alibaba", country: "cn", region: "ZJ", city: "Hangzhou", lat: "30.27410", lon: "120.15510", asn: 37963, asName: "ALIBABA-CN-NET", v4: pfx("47.96.0.0/11"), kind: nkHosting, weight: 3, colos: []string{"HKG"}},
	{key: "colocrossing", country: "us", region: "NY", city: "Buffalo", lat: "42.88640", lon: "-78.87840", asn: 36352, asName: "AS-COLOCROSSING", v4: pfx("192.3.0.0/16"), kind: nkHosting, weight: 3, colos: []string{"EWR", "YYZ"}, ipClass: "badHost"},
	{key: "linode", country: "us", region: "CA", city: "Fremont", lat: "37.54830", lon: "-121.98860", asn: 63949, asName: "AKAMAI-LINODE-AP", v4: pfx("45.33.0.0/17"), kind: nkHosting, weight: 3, colos: []string{"SJC"}},
	{key: "vultr", country: "us", region: "NJ", city: "Piscataway", lat: "40.55490", lon: "-74.46430", asn: 20473, asName: "AS-CHOOPA", v4: pfx("149.28.0.0/16"), kind: nkHosting, weight: 3, colos: []string{"EWR"}},
	{key: "m247", country: "ro", region: "B", city: "Bucharest", lat: "44.42680", lon: "26.10250", asn: 9009, asName: "M247", v4: pfx("185.156.172.0/22"), kind: nkHosting, weight: 2, colos: []string{"OTP", "FRA"}, ipClass: "badHost"},

	// Research scanners.
	{key: "censys", country: "us", region: "MI", city: "Ann Arbor", lat: "42.28080", lon: "-83.74300", asn: 398324, asName: "CENSYS-ARIN-01", v4: pfx("167.94.138.0/24"), kind: nkScanner, weight: 3, colos: []string{"ORD", "DTW"}, ipClass: "scan"},
	{key: "shadowserver", country: "us", region: "CA", city: "Fremont", lat: "37.54850", lon: "-121.98860", asn: 6939, asName: "HURRICANE", v4: pfx("184.105.0.0/16"), kind: nkScanner, weight: 2, colos: []string{"SJC"}, ipClass: "scan"},
	{key: "shodan", country: "us", region: "CA", city: "San Diego", lat: "32.71570", lon: "-117.16110", asn: 10439, asName: "CARINET", v4: pfx("71.6.128.0/17"), kind: nkScanner, weight: 2, colos: []string{"LAX"}, ipClass: "scan"},

	// Networks of verified bot operators.
	{key: "googlebot", country: "us", region: "CA", city: "Mountain View", lat: "37.38610", lon: "-122.08390", asn: 15169, asName: "GOOGLE", v4: pfx("66.249.64.0/19"), v6: pfx("2001:4860:4801::/48"), kind: nkBotNet, colos: []string{"SJC", "LAX"}, ipClass: "searchEngine", v6Share: 0.2},
	{key: "bingbot", country: "us", region: "WA", city: "Quincy", lat: "47.23430", lon: "-119.85260", asn: 8075, asName: "MICROSOFT-CORP-MSN-AS-BLOCK", v4: pfx("40.77.167.0/24"), kind: nkBotNet, colos: []string{"SEA"}, ipClass: "searchEngine"},
	{key: "bingbot2", country: "us", region: "VA", city: "Boydton", lat: "36.66760", lon: "-78.38750", asn: 8075, asName: "MICROSOFT-CORP-MSN-AS-BLOCK", v4: pfx("157.55.39.0/24"), kind: nkBotNet, colos: []string{"IAD"}, ipClass: "searchEngine"},
	{key: "applebot", country: "us", region: "CA", city: "Cupertino", lat: "37.32300", lon: "-122.03220", asn: 714, asName: "APPLE-ENGINEERING", v4: pfx("17.241.0.0/16"), kind: nkBotNet, colos: []string{"SJC"}, ipClass: "searchEngine"},
	{key: "yandex", country: "ru", region: "MOW", city: "Moscow", lat: "55.75580", lon: "37.61730", asn: 13238, asName: "YANDEX", v4: pfx("5.255.253.0/24"), kind: nkBotNet, colos: []string{"DME", "ARN"}, ipClass: "searchEngine"},
	{key: "gptbot", country: "us", region: "IA", city: "Des Moines", lat: "41.58680", lon: "-93.62500", asn: 8075, asName: "MICROSOFT-CORP-MSN-AS-BLOCK", v4: pfx("20.171.206.0/24"), kind: nkBotNet, colos: []string{"ORD"}, ipClass: "unknown"},
	{key: "facebook", country: "us", region: "OR", city: "Prineville", lat: "44.29980", lon: "-120.83450", asn: 32934, asName: "FACEBOOK", v4: pfx("69.171.224.0/19"), v6: pfx("2a03:2880::/32"), kind: nkBotNet, colos: []string{"SEA", "PDX"}, ipClass: "unknown", v6Share: 0.5},
	{key: "bytedance", country: "sg", region: "01", city: "Singapore", lat: "1.35210", lon: "103.81980", asn: 396986, asName: "BYTEDANCE", v4: pfx("47.128.0.0/14"), kind: nkBotNet, colos: []string{"SIN"}, ipClass: "unknown"},

	// Tor exits, WARP, Workers.
	{key: "tor", country: "de", region: "BE", city: "Berlin", lat: "52.52000", lon: "13.40500", asn: 60729, asName: "ZWIEBELFREUNDE", v4: pfx("185.220.101.0/24"), kind: nkTor, colos: []string{"FRA", "AMS"}, ipClass: "tor", hosts: 60},
	{key: "warp", country: "us", region: "VA", city: "Ashburn", lat: "39.04380", lon: "-77.48740", asn: 13335, asName: "CLOUDFLARENET", v4: pfx("104.28.0.0/16"), v6: pfx("2a09:bac1::/32"), kind: nkWARP, colos: []string{"IAD"}, v6Share: 0.5},
	{key: "workers", country: "us", region: "", city: "", lat: "", lon: "", asn: 13335, asName: "CLOUDFLARENET", v6: pfx("2a06:98c0:3600::/48"), kind: nkWorkers, ipClass: "unknown", fixedV6: []string{"2a06:98c0:3600::103"}},
}

var networkByKey = map[string]*network{}

// networksByKind lists the networks of each kind; pickNetwork uses weights.
var networksByKind = map[netKind][]*network{}

type colo struct {
	code string
	id   int
	edge netip.Prefix // the /24 the colo's edge servers use towards origins
}

// colos: IATA code and a stable colo ID per data center.
var colos = map[string]*colo{}

var coloTable = []struct {
	code string
	id   int
	edge string
}{
	{"IAD", 21, "172.70.34.0/24"}, {"ORD", 24, "172.70.126.0/24"}, {"DFW", 35, "172.70.222.0/24"},
	{"IAH", 166, "162.158.155.0/24"}, {"EWR", 61, "172.71.94.0/24"}, {"ATL", 31, "172.70.110.0/24"},
	{"MIA", 45, "172.70.174.0/24"}, {"LAX", 37, "172.70.206.0/24"}, {"SJC", 40, "172.69.34.0/24"},
	{"SEA", 48, "172.71.146.0/24"}, {"PDX", 124, "162.158.94.0/24"}, {"OMA", 374, "172.68.78.0/24"},
	{"DTW", 172, "172.68.147.0/24"}, {"YYZ", 92, "172.71.218.0/24"}, {"YUL", 93, "172.71.126.0/24"},
	{"LHR", 12, "172.70.90.0/24"}, {"MAN", 281, "172.70.91.0/24"}, {"FRA", 15, "172.70.242.0/24"},
	{"DUS", 274, "162.158.87.0/24"}, {"HAM", 163, "162.158.90.0/24"}, {"MUC", 264, "162.158.95.0/24"},
	{"CDG", 14, "172.71.122.0/24"}, {"MRS", 119, "172.69.82.0/24"}, {"AMS", 10, "172.69.54.0/24"},
	{"MAD", 49, "172.70.58.0/24"}, {"MXP", 51, "172.70.62.0/24"}, {"WAW", 155, "172.68.214.0/24"},
	{"ARN", 84, "172.71.186.0/24"}, {"DME", 187, "162.158.166.0/24"}, {"KBP", 153, "172.68.198.0/24"},
	{"IST", 165, "172.68.66.0/24"}, {"OTP", 229, "172.69.106.0/24"}, {"BOM", 136, "172.70.218.0/24"},
	{"DEL", 206, "172.70.230.0/24"}, {"BLR", 406, "172.70.190.0/24"}, {"MAA", 209, "172.68.126.0/24"},
	{"NRT", 11, "172.70.118.0/24"}, {"KIX", 83, "172.70.102.0/24"}, {"ICN", 98, "172.70.150.0/24"},
	{"HKG", 16, "172.70.142.0/24"}, {"SIN", 17, "172.70.146.0/24"}, {"SGN", 367, "172.68.254.0/24"},
	{"CGK", 191, "172.70.154.0/24"}, {"SYD", 20, "172.70.162.0/24"}, {"MEL", 110, "172.70.166.0/24"},
	{"GRU", 123, "172.70.178.0/24"}, {"GIG", 174, "172.70.182.0/24"}, {"QRO", 418, "172.69.114.0/24"},
	{"JNB", 140, "172.70.194.0/24"}, {"LOS", 253, "172.69.138.0/24"},
}

func init() {
	for _, c := range coloTable {
		colos[c.code] = &colo{code: c.code, id: c.id, edge: pfx(c.edge)}
	}
	for _, n := range networks {
		if _, dup := networkByKey[n.key]; dup {
			panic("sim: duplicate network " + n.key)
		}
		networkByKey[n.key] = n
		networksByKind[n.kind] = append(networksByKind[n.kind], n)
		if n.ipClass == "" {
			n.ipClass = "noRecord"
		}
		if n.weight == 0 {
			n.weight = 1
		}
		if n.hosts == 0 {
			n.hosts = 1 << 30
		}
		for _, s := range n.fixedV4 {
			n.parsed4 = append(n.parsed4, netip.MustParseAddr(s))
		}
		for _, s := range n.fixedV6 {
			n.parsed6 = append(n.parsed6, netip.MustParseAddr(s))
		}
		for _, code := range n.colos {
			if colos[code] == nil {
				panic("sim: unknown colo " + code)
			}
		}
		if len(n.colos) == 0 {
			n.colos = []string{"IAD"}
		}
	}
	initAgents()
}

// pickNetwork picks a network of one of the kinds by weight.
func pickNetwork(r *rand.Rand, kinds ...netKind) *network {
	total := 0
	for _, k := range kinds {
		for _, n := range networksByKind[k] {
			total += n.weight
		}
	}
	x := r.IntN(total)
	for _, k := range kinds {
		for _, n := range networksByKind[k] {
			if x < n.weight {
				return n
			}
			x -= n.weight
		}
	}
	panic("unreachable")
}

// randomAddr returns a client address on the network: IPv6 with the
// network's v6 share (or forced), IPv4 otherwise.
func (n *network) randomAddr(r *rand.Rand, v6Share float64) netip.Addr {
	if len(n.parsed6) > 0 && (!n.v4.IsValid() || r.Float64() < v6Share) {
		return n.parsed6[r.IntN(len(n.parsed6))]
	}
	if len(n.parsed4) > 0 {
		return n.parsed4[r.IntN(len(n.parsed4))]
	}
	if n.v6.IsValid() && (!n.v4.IsValid() || r.Float64() < v6Share) {
		return randomInPrefix(r, n.v6, n.hosts)
	}
	return randomInPrefix(r, n.v4, n.hosts)
}

// randomInPrefix returns an address inside p. For IPv4 it avoids the .0 and
// .255 host octets; IPv6 addresses get a random interface identifier.
// hosts limits how many distinct addresses the prefix yields.
func randomInPrefix(r *rand.Rand, p netip.Prefix, hosts int) netip.Addr {
	a := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	h := r.Uint64()
	if hosts < 1<<30 {
		h = uint64(r.IntN(hosts)) * 0x9e3779b97f4a7c15
	}
	l := r.Uint64()
	// Fill every bit after the prefix with random bits.
	for i := bits; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = (h >> (63 - i)) & 1
		} else {
			bit = (l >> (127 - i)) & 1
			if p.Addr().Is4() {
				bit = (h >> (127 - i)) & 1
			}
		}
		byteIdx, shift := i/8, 7-uint(i%8)
		a[byteIdx] = a[byteIdx]&^(1<<shift) | byte(bit<<shift)
	}
	addr := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		addr = addr.Unmap()
		b := addr.As4()
		if b[3] == 0 || b[3] == 255 {
			b[3] = byte(1 + h%254)
		}
		addr = netip.AddrFrom4(b)
	}
	return addr
}

// edgeIP returns the address of an edge server in colo c (the source of
// Cloudflare's requests to origins, EdgeServerIP).
func (c *colo) edgeIP(r *rand.Rand) netip.Addr {
	b := c.edge.Addr().As4()
	b[3] = byte(2 + r.IntN(250))
	return netip.AddrFrom4(b)
}
