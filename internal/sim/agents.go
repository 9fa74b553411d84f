package sim

import "math/rand/v2"

// visitorKind is what sort of client a visitor is; it decides the user
// agents it may use, the networks it comes from and how it browses.
type visitorKind uint8

const (
	vkHuman     visitorKind = iota // a person with a browser (desktop, phone, tablet)
	vkCrawler                      // search engine, AI and link-preview crawlers
	vkMonitor                      // uptime monitors
	vkAPIClient                    // mobile apps, SDKs and scripts using an API host
	vkTool                         // curl, wget: one-off requests
	vkScanner                      // internet-wide scanners probing for weaknesses
	vkAttacker                     // the source of an attack burst
	numVisitorKinds
)

// tlsProfile is the TLS and HTTP fingerprint of a client family.
type tlsProfile struct {
	ja4     string
	ja3     string // "" means random per client, as Chrome's shuffled extensions make it
	tls     string // ClientSSLProtocol
	cipher  string // ClientSSLCipher
	h2, h3  float64
	signals string // JA4Signals object (raw JSON)
}

var (
	tlsNone   = &tlsProfile{tls: "none", cipher: "NONE", signals: `{}`}
	tlsChrome = &tlsProfile{ja4: "t13d1516h2_8daaf6152771_02713d6af862", tls: "TLSv1.3", cipher: "AEAD-AES128-GCM-SHA256", h2: 0.6, h3: 0.38,
		signals: `{"browser_ratio_1h":0.98,"cache_ratio_1h":0.41,"h2h3_ratio_1h":0.99,"heuristic_ratio_1h":0,"ips_quantile_1h":1,"ips_rank_1h":1,"paths_rank_1h":1,"reqs_quantile_1h":1,"reqs_rank_1h":1,"uas_rank_1h":1}`}
	tlsFirefox = &tlsProfile{ja4: "t13d1715h2_5b57614c22b0_3d5424432f57", ja3: "579ccef312d18482fc42e2b822ca2430", tls: "TLSv1.3", cipher: "AEAD-AES128-GCM-SHA256", h2: 0.7, h3: 0.28,
		signals: `{"browser_ratio_1h":0.97,"cache_ratio_1h":0.38,"h2h3_ratio_1h":0.98,"heuristic_ratio_1h":0,"ips_quantile_1h":0.99,"ips_rank_1h":6,"paths_rank_1h":5,"reqs_quantile_1h":0.99,"reqs_rank_1h":7,"uas_rank_1h":9}`}
	tlsSafari = &tlsProfile{ja4: "t13d2014h2_a09f3c656075_14788d8d241b", ja3: "773906b0efdefa24a7f2b8eb6985bf37", tls: "TLSv1.3", cipher: "AEAD-AES256-GCM-SHA384", h2: 0.55, h3: 0.44,
		signals: `{"browser_ratio_1h":0.99,"cache_ratio_1h":0.44,"h2h3_ratio_1h":0.99,"heuristic_ratio_1h":0,"ips_quantile_1h":1,"ips_rank_1h":2,"paths_rank_1h":2,"reqs_quantile_1h":1,"reqs_rank_1h":2,"uas_rank_1h":3}`}
	tlsGooglebot = &tlsProfile{ja4: "t13d1517h2_8daaf6152771_b1ff8ab2d16f", ja3: "e48a18a5e1cd6213f6d2d0ec8e8ffe71", tls: "TLSv1.3", cipher: "AEAD-AES128-GCM-SHA256", h2: 0.8,
		signals: `{"browser_ratio_1h":0.02,"cache_ratio_1h":0.12,"h2h3_ratio_1h":0.81,"heuristic_ratio_1h":0,"ips_quantile_1h":0.97,"ips_rank_1h":40,"paths_rank_1h":12,"reqs_quantile_1h":0.99,"reqs_rank_1h":11,"uas_rank_1h":31}`}
	tlsBing = &tlsProfile{ja4: "t13d1812h2_e8a523a41297_7ae1e9e6bac3", ja3: "fa7f3ba4cd9ba2b7f8b1a54f0e33a35d", tls: "TLSv1.3", cipher: "AEAD-AES256-GCM-SHA384", h2: 0.5,
		signals: `{"browser_ratio_1h":0.01,"cache_ratio_1h":0.09,"h2h3_ratio_1h":0.52,"heuristic_ratio_1h":0,"ips_quantile_1h":0.95,"ips_rank_1h":88,"paths_rank_1h":30,"reqs_quantile_1h":0.98,"reqs_rank_1h":25,"uas_rank_1h":70}`}
	tlsCurl = &tlsProfile{ja4: "t13d3112h2_e8f1e7e78f70_6bebaf5329ac", ja3: "456523fc94726331a4d5a2e1d40b2cd7", tls: "TLSv1.3", cipher: "AEAD-AES256-GCM-SHA384", h2: 0.6,
		signals: `{"browser_ratio_1h":0,"cache_ratio_1h":0.05,"h2h3_ratio_1h":0.61,"heuristic_ratio_1h":0.98,"ips_quantile_1h":0.99,"ips_rank_1h":9,"paths_rank_1h":8,"reqs_quantile_1h":0.99,"reqs_rank_1h":10,"uas_rank_1h":55}`}
	tlsPython = &tlsProfile{ja4: "t13d1812h1_85036bcba153_b26ce05bbdd6", ja3: "a48c0d5f95b1ef98f560f324fd275da1", tls: "TLSv1.3", cipher: "AEAD-AES256-GCM-SHA384",
		signals: `{"browser_ratio_1h":0,"cache_ratio_1h":0.02,"h2h3_ratio_1h":0,"heuristic_ratio_1h":0.97,"ips_quantile_1h":0.99,"ips_rank_1h":12,"paths_rank_1h":16,"reqs_quantile_1h":0.99,"reqs_rank_1h":13,"uas_rank_1h":140}`}
	tlsGo = &tlsProfile{ja4: "t13d1311h2_f57a46bbacb6_e7c285222651", ja3: "19e29534fd49dd27d09234e639c4057e", tls: "TLSv1.3", cipher: "AEAD-AES128-GCM-SHA256", h2: 0.7,
		signals: `{"browser_ratio_1h":0,"cache_ratio_1h":0.03,"h2h3_ratio_1h":0.72,"heuristic_ratio_1h":0.9,"ips_quantile_1h":0.99,"ips_rank_1h":15,"paths_rank_1h":21,"reqs_quantile_1h":0.99,"reqs_rank_1h":14,"uas_rank_1h":160}`}
	tlsOkhttp = &tlsProfile{ja4: "t13d1614h2_2b729b4bf6f3_e6ce0e9b4a29", ja3: "f79b6bad2ad0641e1921aef10262856b", tls: "TLSv1.3", cipher: "AEAD-AES128-GCM-SHA256", h2: 0.95,
		signals: `{"browser_ratio_1h":0.01,"cache_ratio_1h":0.07,"h2h3_ratio_1h":0.95,"heuristic_ratio_1h":0.02,"ips_quantile_1h":0.99,"ips_rank_1h":20,"paths_rank_1h":33,"reqs_quantile_1h":0.99,"reqs_rank_1h":19,"uas_rank_1h":48}`}
	tlsNode = &tlsProfile{ja4: "t13d5911h1_a33745022dd6_1f22a2ca17c4", ja3: "4c319ebb1fb1ef7937f04ac445bbdf86", tls: "TLSv1.3", cipher: "AEAD-AES256-GCM-SHA384",
		signals: `{"browser_ratio_1h":0,"cache_ratio_1h":0.04,"h2h3_ratio_1h":0.01,"heuristic_ratio_1h":0.6,"ips_quantile_1h":0.98,"ips_rank_1h":31,"paths_rank_1h":40,"reqs_quantile_1h":0.99,"reqs_rank_1h":29,"uas_rank_1h":210}`}
	tlsScanner = &tlsProfile{ja4: "t12d1308h1_a8f3a2d7b7ce_e8f6a4b5d6c7", ja3: "6734f37431670b3ab4292b8f60f29984", tls: "TLSv1.2", cipher: "ECDHE-RSA-AES128-GCM-SHA256",
		signals: `{"browser_ratio_1h":0,"cache_ratio_1h":0,"h2h3_ratio_1h":0,"heuristic_ratio_1h":0.99,"ips_quantile_1h":0.96,"ips_rank_1h":310,"paths_rank_1h":4,"reqs_quantile_1h":0.97,"reqs_rank_1h":390,"uas_rank_1h":820}`}
)

// agent is one user agent string with what comes with it.
type agent struct {
	ua       string
	kind     visitorKind
	device   string // ClientDeviceType: desktop, mobile, tablet
	weight   int
	tls      *tlsProfile
	network  string // verified bots: the only network they come from
	category string // VerifiedBotCategory; "" when not a verified bot
	scoreLo  int    // BotScore range
	scoreHi  int
	scoreSrc string // BotScoreSrc
	js       string // JSDetectionPassed
	botTags  []string
	detIDs   []int // BotDetectionIDs
	xhr      bool  // sends X-Requested-With on API calls
}

const (
	srcML        = "Machine Learning"
	srcHeuristic = "Heuristics"
	srcVerified  = "Verified Bot"
	srcJS        = "JS Fingerprinting"
	srcBehavior  = "Behavioral Analysis"
	srcNone      = "Not Computed"
)

var agents = []*agent{
	// People on desktops.
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", kind: vkHuman, device: "desktop", weight: 22, tls: tlsChrome},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36", kind: vkHuman, device: "desktop", weight: 14, tls: tlsChrome},
	{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36", kind: vkHuman, device: "desktop", weight: 10, tls: tlsChrome},
	{ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", kind: vkHuman, device: "desktop", weight: 3, tls: tlsChrome},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36 Edg/132.0.0.0", kind: vkHuman, device: "desktop", weight: 8, tls: tlsChrome},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0", kind: vkHuman, device: "desktop", weight: 1, tls: tlsChrome},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:134.0) Gecko/20100101 Firefox/134.0", kind: vkHuman, device: "desktop", weight: 5, tls: tlsFirefox},
	{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", kind: vkHuman, device: "desktop", weight: 2, tls: tlsFirefox},
	{ua: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0", kind: vkHuman, device: "desktop", weight: 2, tls: tlsFirefox},
	{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15", kind: vkHuman, device: "desktop", weight: 7, tls: tlsSafari},
	// People on phones and tablets.
	{ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1", kind: vkHuman, device: "mobile", weight: 20, tls: tlsSafari},
	{ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", kind: vkHuman, device: "mobile", weight: 6, tls: tlsSafari},
	{ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.134 Mobile/15E148 Safari/604.1", kind: vkHuman, device: "mobile", weight: 4, tls: tlsSafari},
	{ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", kind: vkHuman, device: "mobile", weight: 20, tls: tlsChrome},
	{ua: "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36", kind: vkHuman, device: "mobile", weight: 5, tls: tlsChrome},
	{ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 357.0.0.25.101 (iPhone15,2; iOS 18_1; en_US; en; scale=3.00; 1179x2556; 657335925)", kind: vkHuman, device: "mobile", weight: 3, tls: tlsSafari},
	{ua: "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", kind: vkHuman, device: "tablet", weight: 3, tls: tlsSafari},
	{ua: "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", kind: vkHuman, device: "tablet", weight: 1, tls: tlsChrome},

	// Verified crawlers.
	{ua: "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.139 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", kind: vkCrawler, device: "mobile", weight: 14, tls: tlsGooglebot, network: "googlebot", category: "Search Engine Crawler"},
	{ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", kind: vkCrawler, device: "desktop", weight: 5, tls: tlsGooglebot, network: "googlebot", category: "Search Engine Crawler"},
	{ua: "Googlebot-Image/1.0", kind: vkCrawler, device: "desktop", weight: 2, tls: tlsGooglebot, network: "googlebot", category: "Search Engine Crawler"},
	{ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/131.0.0.0 Safari/537.36", kind: vkCrawler, device: "desktop", weight: 5, tls: tlsBing, network: "bingbot", category: "Search Engine Crawler"},
	{ua: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", kind: vkCrawler, device: "desktop", weight: 3, tls: tlsBing, network: "bingbot2", category: "Search Engine Crawler"},
	{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", kind: vkCrawler, device: "desktop", weight: 2, tls: tlsSafari, network: "applebot", category: "Search Engine Crawler"},
	{ua: "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", kind: vkCrawler, device: "desktop", weight: 1, tls: tlsGo, network: "yandex", category: "Search Engine Crawler"},
	{ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; +https://openai.com/gptbot", kind: vkCrawler, device: "desktop", weight: 3, tls: tlsPython, network: "gptbot", category: "AI Crawler"},
	{ua: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", kind: vkCrawler, device: "desktop", weight: 2, tls: tlsGo, network: "facebook", category: "Page Preview"},
	{ua: "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", kind: vkCrawler, device: "desktop", weight: 2, tls: tlsGo, network: "ovh", category: "Search Engine Optimization"},
	// An unverified AI crawler.
	{ua: "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", kind: vkCrawler, device: "mobile", weight: 2, tls: tlsGo, network: "bytedance", scoreLo: 1, scoreHi: 2, scoreSrc: srcHeuristic, detIDs: []int{33554817}},

	// Uptime monitors.
	{ua: "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", kind: vkMonitor, device: "desktop", weight: 3, tls: tlsGo, network: "linode", category: "Monitoring & Analytics"},
	{ua: "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", kind: vkMonitor, device: "desktop", weight: 2, tls: tlsCurl, network: "aws-use1", category: "Monitoring & Analytics"},

	// API clients: apps, SDKs, scripts.
	{ua: "Northwind/5.12.1 (iPhone; iOS 18.2; Scale/3.00)", kind: vkAPIClient, device: "mobile", weight: 8, tls: tlsSafari, scoreLo: 20, scoreHi: 70, scoreSrc: srcML, botTags: []string{"api"}},
	{ua: "okhttp/4.12.0", kind: vkAPIClient, device: "mobile", weight: 6, tls: tlsOkhttp, scoreLo: 15, scoreHi: 60, scoreSrc: srcML, botTags: []string{"api"}},
	{ua: "Dart/3.5 (dart:io)", kind: vkAPIClient, device: "mobile", weight: 2, tls: tlsOkhttp, scoreLo: 10, scoreHi: 50, scoreSrc: srcML, botTags: []string{"api"}},
	{ua: "python-requests/2.32.3", kind: vkAPIClient, device: "desktop", weight: 6, tls: tlsPython, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic, botTags: []string{"api"}, detIDs: []int{33554817}},
	{ua: "Go-http-client/2.0", kind: vkAPIClient, device: "desktop", weight: 4, tls: tlsGo, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic, botTags: []string{"api"}, detIDs: []int{33554819}},
	{ua: "axios/1.7.9", kind: vkAPIClient, device: "desktop", weight: 3, tls: tlsNode, scoreLo: 1, scoreHi: 29, scoreSrc: srcML, botTags: []string{"api"}},
	{ua: "PostmanRuntime/7.43.0", kind: vkAPIClient, device: "desktop", weight: 1, tls: tlsNode, scoreLo: 1, scoreHi: 20, scoreSrc: srcML, botTags: []string{"api"}},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", kind: vkAPIClient, device: "desktop", weight: 6, tls: tlsChrome, scoreLo: 60, scoreHi: 99, scoreSrc: srcML, xhr: true},

	// One-off tools.
	{ua: "curl/8.5.0", kind: vkTool, device: "desktop", weight: 5, tls: tlsCurl, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic, detIDs: []int{33554817}},
	{ua: "curl/7.81.0", kind: vkTool, device: "desktop", weight: 3, tls: tlsCurl, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic, detIDs: []int{33554817}},
	{ua: "Wget/1.21.4", kind: vkTool, device: "desktop", weight: 1, tls: tlsCurl, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic, detIDs: []int{33554817}},
	{ua: "python-requests/2.31.0", kind: vkTool, device: "desktop", weight: 2, tls: tlsPython, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic, detIDs: []int{33554817}},

	// Scanners.
	{ua: "Mozilla/5.0 zgrab/0.x", kind: vkScanner, device: "desktop", weight: 5, tls: tlsGo, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic, detIDs: []int{33554817}},
	{ua: "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", kind: vkScanner, device: "desktop", weight: 3, tls: tlsGo, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36", kind: vkScanner, device: "desktop", weight: 5, tls: tlsPython, scoreLo: 1, scoreHi: 9, scoreSrc: srcML, js: "failed"},
	{ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36", kind: vkScanner, device: "desktop", weight: 3, tls: tlsGo, scoreLo: 1, scoreHi: 5, scoreSrc: srcML},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0", kind: vkScanner, device: "desktop", weight: 2, tls: tlsPython, scoreLo: 1, scoreHi: 12, scoreSrc: srcML},
	{ua: "Mozilla/5.0 (l9scan/2.0.; +https://leakix.net)", kind: vkScanner, device: "desktop", weight: 2, tls: tlsGo, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},
	{ua: "Expanse, a Palo Alto Networks company, searches across the global IPv4 space multiple times per day to identify customers&#39; presences on the Internet. If you would like to be excluded from our scans, please send IP addresses/domains to: scaninfo@paloaltonetworks.com", kind: vkScanner, device: "desktop", weight: 2, tls: tlsScanner, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},
	{ua: "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", kind: vkScanner, device: "desktop", weight: 1, tls: tlsScanner, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},
	{ua: "", kind: vkScanner, device: "desktop", weight: 2, tls: tlsScanner, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},

	// Attack tools (bursts pick these by name, see attackAgents).
	{ua: "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", kind: vkAttacker, device: "desktop", weight: 2, tls: tlsGo, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},
	{ua: "sqlmap/1.8.12#stable (https://sqlmap.org)", kind: vkAttacker, device: "desktop", weight: 1, tls: tlsPython, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},
	{ua: "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000562)", kind: vkAttacker, device: "desktop", weight: 1, tls: tlsScanner, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},
	{ua: "WPScan v3.8.27 (https://wpscan.com/wordpress-security-scanner)", kind: vkAttacker, device: "desktop", weight: 1, tls: tlsScanner, scoreLo: 1, scoreHi: 1, scoreSrc: srcHeuristic},
}

// Tor Browser, for the few people who come through Tor.
var torBrowser = &agent{ua: "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0", kind: vkHuman, device: "desktop", weight: 1, tls: tlsFirefox}

var agentsByKind [numVisitorKinds][]*agent

// initAgents indexes the agents; world.go's init calls it once the networks
// are known.
func initAgents() {
	for _, a := range agents {
		agentsByKind[a.kind] = append(agentsByKind[a.kind], a)
		if a.network != "" && networkByKey[a.network] == nil {
			panic("sim: agent on unknown network " + a.network)
		}
	}
	for _, a := range append(agents, torBrowser) {
		switch {
		case a.category != "":
			a.scoreLo, a.scoreHi, a.scoreSrc = 1, 1, srcVerified
		case a.kind == vkHuman:
			a.scoreLo, a.scoreHi, a.scoreSrc = 30, 99, srcML
		}
		if a.js == "" {
			a.js = "missing"
			if a.kind == vkHuman {
				a.js = "passed"
			}
		}
	}
}

// pickAgent picks an agent of kind k by weight, optionally only for one
// device type.
func pickAgent(r *rand.Rand, k visitorKind, device string) *agent {
	total := 0
	for _, a := range agentsByKind[k] {
		if device == "" || a.device == device {
			total += a.weight
		}
	}
	x := r.IntN(total)
	for _, a := range agentsByKind[k] {
		if device != "" && a.device != device {
			continue
		}
		if x < a.weight {
			return a
		}
		x -= a.weight
	}
	panic("unreachable")
}
