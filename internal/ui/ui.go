// Package ui holds flarehose's web UI: plain HTML, CSS and JavaScript with no
// build step, embedded in the binary. Nothing is loaded from other origins.
// The UI talks to the JSON API of internal/api under the same origin, with
// URLs relative to the page so it also works behind a path-prefix proxy.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// asset is one embedded file ready to serve.
type asset struct {
	name  string
	body  []byte
	ctype string
	etag  string
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// Files returns the embedded assets (for tests and tooling).
func Files() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}

// Handler serves the UI: index.html at "/" and at any path that is not an
// asset, and the assets by name. Assets are referenced from index.html with a
// content hash (?v=...) and cached for a long time under that URL; index.html
// itself is revalidated on every load.
func Handler() http.Handler {
	files := map[string]*asset{}
	err := fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := contentTypes[path.Ext(p)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		files[p] = &asset{name: p, body: b, ctype: ct, etag: hex.EncodeToString(sum[:8])}
		return nil
	})
	if err != nil {
		panic(err)
	}
	index := files["index.html"]
	if index == nil {
		panic("ui: index.html missing from the embedded assets")
	}
	// Point index.html at hashed asset URLs so browsers never mix versions.
	body := index.body
	for name, a := range files {
		if name == "index.html" {
			continue
		}
		body = bytes.ReplaceAll(body, []byte(`"`+name+`"`), []byte(`"`+name+`?v=`+a.etag+`"`))
	}
	sum := sha256.Sum256(body)
	index = &asset{name: "index.html", body: body, ctype: index.ctype, etag: hex.EncodeToString(sum[:8])}
	files["index.html"] = index

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/")
		a, ok := files[name]
		if !ok || name == "index.html" {
			a = index
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", `"`+a.etag+`"`)
		if a != index && r.URL.Query().Get("v") == a.etag {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
	})
}
