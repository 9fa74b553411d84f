package ui

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readAsset(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(Files(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContentTypes(t *testing.T) {
	h := Handler()
	for _, tt := range []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", "<!doctype html>"},
		{"/index.html", "text/html; charset=utf-8", "<!doctype html>"},
		{"/does/not/exist", "text/html; charset=utf-8", "<!doctype html>"},
		{"/search?q=a", "text/html; charset=utf-8", "<!doctype html>"},
		{"/app.js", "text/javascript; charset=utf-8", "'use strict'"},
		{"/app.css", "text/css; charset=utf-8", ":root"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	} {
		r := serve(t, h, "GET", tt.path, nil)
		b := body(t, r)
		if r.StatusCode != 200 {
			t.Errorf("GET %s = %d", tt.path, r.StatusCode)
		}
		if ct := r.Header.Get("Content-Type"); ct != tt.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, ct, tt.ctype)
		}
		if !strings.Contains(b, tt.contains) {
			t.Errorf("GET %s: body lacks %q", tt.path, tt.contains)
		}
	}
	r := serve(t, h, "HEAD", "/app.js", nil)
	if r.StatusCode != 200 || body(t, r) != "" || r.Header.Get("Content-Length") == "" {
		t.Errorf("HEAD /app.js = %d, Content-Length %q", r.StatusCode, r.Header.Get("Content-Length"))
	}
	if r := serve(t, h, "POST", "/", nil); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d", r.StatusCode)
	}
}

func TestCaching(t *testing.T) {
	h := Handler()
	index := body(t, serve(t, h, "GET", "/", nil))
	m := regexp.MustCompile(`src="app\.js\?v=([0-9a-f]{16})"`).FindStringSubmatch(index)
	if m == nil {
		t.Fatalf("index.html does not load app.js by content hash:\n%s", index)
	}
	if !regexp.MustCompile(`href="app\.css\?v=[0-9a-f]{16}"`).MatchString(index) {
		t.Error("index.html does not load app.css by content hash")
	}
	if r := serve(t, h, "GET", "/", nil); r.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("index Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	r := serve(t, h, "GET", "/app.js?v="+m[1], nil)
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("hashed app.js Cache-Control %q", cc)
	}
	etag := r.Header.Get("ETag")
	if etag != `"`+m[1]+`"` {
		t.Errorf("ETag %q, want the hash %q", etag, m[1])
	}
	if cc := serve(t, h, "GET", "/app.js?v=old", nil).Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("stale-hash app.js Cache-Control %q", cc)
	}
	if r := serve(t, h, "GET", "/app.js", map[string]string{"If-None-Match": etag}); r.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", r.StatusCode)
	}
}

// TestNoExternalURLs: the UI must load nothing from other origins. The only
// absolute URLs allowed are the SVG namespace name (never fetched) and
// documentation placeholders (example.com and friends, a template string);
// every src, href and url() is relative.
func TestNoExternalURLs(t *testing.T) {
	absRE := regexp.MustCompile(`(?i)https?://[^\s"'<>)\x60]+`)
	allowed := regexp.MustCompile(`^(?i)https?://(www\.w3\.org/2000/svg$|\$\{host\}|([a-z0-9-]+\.)*example\.(com|net|org)([:/]|$))`)
	refRE := regexp.MustCompile(`(?i)(?:\s(?:src|href|action)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*))`)
	n := 0
	err := fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files(), p)
		if err != nil {
			return err
		}
		n++
		for i, line := range strings.Split(string(b), "\n") {
			for _, u := range absRE.FindAllString(line, -1) {
				if !allowed.MatchString(u) {
					t.Errorf("%s:%d: external URL %q", p, i+1, u)
				}
			}
			if p == "app.js" {
				continue
			}
			for _, m := range refRE.FindAllStringSubmatch(line, -1) {
				ref := m[1] + m[2]
				if strings.HasPrefix(ref, "//") || (strings.Contains(ref, ":") && !strings.HasPrefix(ref, "data:")) {
					t.Errorf("%s:%d: non-relative reference %q", p, i+1, ref)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Errorf("checked only %d files", n)
	}
}

// TestIndexIsCSPClean: the CSP allows no inline script or style, so
// index.html must have none (they would be silently blocked).
func TestIndexIsCSPClean(t *testing.T) {
	index := readAsset(t, "index.html")
	for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(index, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script: %s", m[0])
		}
	}
	for _, re := range []string{`(?i)<style`, `(?i)\sstyle\s*=`, `(?i)\son[a-z]+\s*=`, `(?i)javascript:`} {
		if loc := regexp.MustCompile(re).FindStringIndex(index); loc != nil {
			t.Errorf("index.html has %q at %q", re, index[loc[0]:min(len(index), loc[0]+60)])
		}
	}
}

// TestScriptInsertsNoHTML: data reaches the DOM through textContent and
// attributes only.
func TestScriptInsertsNoHTML(t *testing.T) {
	js := readAsset(t, "app.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('style'", "createContextualFragment"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}

// TestScriptIDsExist: every element the script looks up by id is in index.html.
func TestScriptIDsExist(t *testing.T) {
	js, index := readAsset(t, "app.js"), readAsset(t, "index.html")
	ids := regexp.MustCompile(`\$\('([^']+)'\)`).FindAllStringSubmatch(js, -1)
	if len(ids) < 10 {
		t.Fatalf("found only %d element lookups", len(ids))
	}
	for _, m := range ids {
		if !strings.Contains(index, `id="`+m[1]+`"`) {
			t.Errorf("app.js looks up #%s, which index.html lacks", m[1])
		}
	}
}

func TestScriptSyntax(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	out, err := exec.Command(node, "--check", filepath.Join("assets", "app.js")).CombinedOutput()
	if err != nil {
		t.Errorf("node --check app.js: %v\n%s", err, out)
	}
}
