package normalize

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

func TestURIParts(t *testing.T) {
	type want struct {
		domain, path, query, frag, scheme, ext, user, pass, userInfo string
		port                                                         int
	}
	cases := map[string]want{
		"https://xyz.example.com/s/api/_stats":                {domain: "xyz.example.com", path: "/s/api/_stats", scheme: "https", port: -1},
		"https://example.test.gr//android-chrome-192x192.png": {domain: "example.test.gr", path: "//android-chrome-192x192.png", scheme: "https", ext: "png", port: -1},
		"http://h.example/a%20b/c.TXT?x=%41&y=+#frag%21":      {domain: "h.example", path: "/a b/c.TXT", query: "x=A&y=+", frag: "frag!", scheme: "http", ext: "TXT", port: -1},
		"https://u:p%40ss@h.example:8443/":                    {domain: "h.example", path: "/", scheme: "https", user: "u", pass: "p@ss", userInfo: "u:p@ss", port: 8443},
		"http://[2001:db8::1]:8080/x":                         {domain: "[2001:db8::1]", path: "/x", scheme: "http", port: 8080},
		"http://192.0.2.1/":                                   {domain: "192.0.2.1", path: "/", scheme: "http", port: -1},
		// Not a valid host name for java.net.URI: no domain (registry authority).
		"http://my_host.example/x": {path: "/x", scheme: "http", port: -1},
		// java.net.URI rejects the space: java.net.URL keeps raw parts.
		"http://h.example/a b?q=%41 1": {domain: "h.example", path: "/a b", query: "q=%41 1", scheme: "http", port: -1},
		"/relative/path.js?x=1":        {path: "/relative/path.js", query: "x=1", ext: "js", port: -1},
		"http://h.example/dir.v2/file": {domain: "h.example", path: "/dir.v2/file", scheme: "http", port: -1},
		"http://h.example/trailing.":   {domain: "h.example", path: "/trailing.", scheme: "http", port: -1},
	}
	for in, w := range cases {
		p, ok := parseURIParts(in)
		if !ok {
			t.Errorf("%s: did not parse", in)
			continue
		}
		got := want{p.domain, p.path, p.query, p.fragment, p.scheme, p.extension, p.username, p.password, p.userInfo, p.port}
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", in, got, w)
		}
	}
	for _, bad := range []string{"gopher://h.example/a b", "no scheme with space", "mailto:a b"} {
		if p, ok := parseURIParts(bad); ok {
			t.Errorf("%q parsed: %+v", bad, p)
		}
	}
}

func TestSplitProtocol(t *testing.T) {
	for in, want := range map[string][2]string{"HTTP/1.1": {"HTTP", "1.1"}, "HTTP/2": {"HTTP", "2"}, "SPDY/3.1/x": {"SPDY", "3.1/x"}} {
		n, v, ok := SplitProtocol(in)
		if !ok || n != want[0] || v != want[1] {
			t.Errorf("SplitProtocol(%q) = %q %q %v", in, n, v, ok)
		}
	}
	if _, _, ok := SplitProtocol("HTTP"); ok {
		t.Error("HTTP split")
	}
	for in, want := range map[string][2]string{"TLSv1.3": {"TLS", "1.3"}, "QUICv1": {"QUIC", "1"}, "SSLv3": {"SSL", "3"}} {
		n, v, ok := SplitTLS(in)
		if !ok || n != want[0] || v != want[1] {
			t.Errorf("SplitTLS(%q) = %q %q %v", in, n, v, ok)
		}
	}
	if _, _, ok := SplitTLS("none"); ok {
		t.Error("none split")
	}
}

func TestUserAgent(t *testing.T) {
	p := newUAParser(64)
	cases := map[string]uaInfo{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36": {
			name: "Chrome", version: "51.0.2704.103", osName: "Mac OS X", osVersion: "10.10.5", osFull: "Mac OS X 10.10.5", device: "Mac"},
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.51 Safari/537.36": {
			name: "Chrome", version: "99.0.4844.51", osName: "Linux", device: "Other"},
		// No OS pattern matches: Elasticsearch writes no user_agent.os.
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": {name: "Googlebot", version: "2.1", device: "Spider"},
		"curl/8.5.0":            {name: "curl", version: "8.5.0", device: "Other"},
		"totally unknown thing": {name: "Other", device: "Other"},
		// An explicit os_v1_replacement "$1" is taken literally by
		// Elasticsearch (cloudflare/logpull's fixture shows "Windows $1").
		"Mozilla/5.0(WindowsNT10.0;Win64;x64)AppleWebKit/537.36(KHTML,likeGecko)Chrome/91.0.4472.124Safari/537.36": {
			name: "Chrome", version: "91.0.4472.124", osName: "Windows", osVersion: "$1", osFull: "Windows $1", device: "Other"},
	}
	for ua, w := range cases {
		info := p.lookup(ua)
		got := [6]string{info.name, info.version, info.osName, info.osVersion, info.osFull, info.device}
		if got != [6]string{w.name, w.version, w.osName, w.osVersion, w.osFull, w.device} {
			t.Errorf("%s:\n got %+v\nwant %+v", ua, got, w)
		}
	}
	if p.cache.Len() != len(cases) {
		t.Errorf("cache holds %d entries", p.cache.Len())
	}
}

func TestLRU(t *testing.T) {
	c := newLRU[int](16) // 2 shards of 8
	for i := 0; i < 1000; i++ {
		c.Add(fmt.Sprint(i), i)
	}
	if n := c.Len(); n > 16 || n < 8 {
		t.Fatalf("Len = %d, want bounded by 16", n)
	}
	if v, ok := c.Get("999"); !ok || v != 999 {
		t.Fatal("most recent entry evicted")
	}
	if _, ok := c.Get("0"); ok {
		t.Fatal("oldest entry kept")
	}
	// Recently used entries survive.
	c = newLRU[int](8) // 1 shard
	for i := 0; i < 8; i++ {
		c.Add(fmt.Sprint(i), i)
	}
	c.Get("0")
	c.Add("new", 100)
	if _, ok := c.Get("0"); !ok {
		t.Fatal("recently used entry evicted")
	}
	if _, ok := c.Get("1"); ok {
		t.Fatal("least recently used entry kept")
	}
	c.Add("0", 42)
	if v, _ := c.Get("0"); v != 42 {
		t.Fatal("update lost")
	}
}

func TestLRUConcurrent(t *testing.T) {
	c := newLRU[int](256)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				k := fmt.Sprint((i * (g + 1)) % 700)
				if v, ok := c.Get(k); ok && fmt.Sprint(v) != k {
					t.Errorf("key %s holds %d", k, v)
					return
				}
				var n int
				fmt.Sscan(k, &n)
				c.Add(k, n)
			}
		}(g)
	}
	wg.Wait()
	if c.Len() > 256 {
		t.Fatalf("Len = %d", c.Len())
	}
}

// TestConcurrentNormalizers shares one Env between goroutines (run with -race).
func TestConcurrentNormalizers(t *testing.T) {
	env := newTestEnv(t, Options{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			n := env.NewNormalizer()
			for i := 0; i < 200; i++ {
				ua := benchUAs[(i+g)%len(benchUAs)]
				line := fmt.Sprintf(`{"RayID":"%d-%d","ClientRequestUserAgent":%q,"Unknown%d":1}`, g, i, ua, i%3)
				doc, _, err := n.Normalize("http_requests", []byte(line), nil)
				if err != nil {
					t.Error(err)
					return
				}
				checkDoc(t, doc)
			}
		}(g)
	}
	wg.Wait()
	if env.UnknownFields("http_requests") != 800 {
		t.Errorf("unknown fields counted %d, want 800", env.UnknownFields("http_requests"))
	}
}

// TestGeoIP uses MaxMind's test databases from ../shared (the ones
// Elastic's expected outputs were enriched with), through a dataset
// compiled only for this test.
func TestGeoIP(t *testing.T) {
	dir := sharedPath(t, "conformance", "geoip")
	env := newTestEnv(t, Options{GeoIPDir: dir})
	ds := &Dataset{
		Name: "geo_test", Elastic: "test.geo",
		Fields: []Field{{Src: "IP", Custom: "ip", ECS: "source.ip", Type: IP, Enrich: GeoIP("source")}},
	}
	s := compile(ds)
	n := env.NewNormalizer()
	doc, _, err := n.normalize(s, []byte(`{"IP":"89.160.20.156"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkDoc(t, doc)
	got := decode(t, doc)
	for k, v := range map[string]string{
		"source.geo.city_name":        "Linköping",
		"source.geo.continent_name":   "Europe",
		"source.geo.country_iso_code": "SE",
		"source.geo.country_name":     "Sweden",
		"source.geo.region_iso_code":  "SE-E",
		"source.geo.region_name":      "Östergötland County",
		"source.geo.location.lat":     "58.4167",
		"source.geo.location.lon":     "15.6167",
		"source.as.number":            "29518",
		"source.as.organization.name": "Bredband2 AB",
	} {
		if fmt.Sprint(got[k]) != v {
			t.Errorf("%s = %v, want %s", k, got[k], v)
		}
	}
	// Unknown addresses add nothing.
	doc, _, err = n.normalize(s, []byte(`{"IP":"10.1.2.3"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decode(t, doc)["source.geo.country_iso_code"]; ok {
		t.Errorf("private address enriched: %s", doc)
	}
	if _, err := NewEnv(Options{GeoIPDir: filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing GeoIP dir accepted")
	}
	if _, err := NewEnv(Options{GeoIPDir: t.TempDir()}); err == nil {
		t.Error("GeoIP dir without databases accepted")
	}
}
