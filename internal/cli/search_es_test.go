package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flarehose/flarehose/internal/search/searchtest"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch/estest"
)

// writeConfig writes a configuration file into a temporary directory and
// returns its path. %[1]s in yaml is replaced by that directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "flarehose.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(yaml, "%[1]s", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedURL is an http URL where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

const testSource = `
sources:
  - type: logpush_http
    secret: s
`

// TestSearchSinkSelection checks which sink a configuration's search reads
// (no cluster needed: an elasticsearch sink points where nothing listens,
// and the error names the sink that was tried) and the usage errors.
func TestSearchSinkSelection(t *testing.T) {
	down := closedURL(t)
	esOnly := writeConfig(t, testSource+`
sinks:
  - type: elasticsearch
    name: es1
    urls: [`+down+`]
  - type: elasticsearch
    name: es2
    urls: [`+down+`]
    namespace: other
`)
	esFirst := writeConfig(t, `data_dir: data`+testSource+`
sinks:
  - type: elasticsearch
    name: es
    urls: [`+down+`]
  - type: duckdb
    name: local
    path: events.duckdb
`)
	noSinks := writeConfig(t, testSource)
	invalidES := writeConfig(t, testSource+`
sinks:
  - type: elasticsearch
    name: es
`)
	cases := []struct {
		name string
		args []string
		code int
		want []string // all in stderr
	}{
		{"es only: the first elasticsearch sink", []string{"-c", esOnly}, 1, []string{`sink "es1" (elasticsearch): cannot reach the cluster`, "check its urls in " + esOnly}},
		{"--sink picks by name", []string{"-c", esOnly, "--sink", "es2"}, 1, []string{`sink "es2" (elasticsearch): cannot reach the cluster`}},
		{"duckdb before a listed-first elasticsearch", []string{"-c", esFirst}, 1, []string{"no store at " + filepath.Join(filepath.Dir(esFirst), "data", "events.duckdb")}},
		{"--data-dir moves the duckdb sink's file", []string{"-c", esFirst, "--data-dir", "/nonexistent"}, 1, []string{"no store at " + filepath.Join("/nonexistent", "events.duckdb")}},
		{"--sink elasticsearch beside duckdb", []string{"-c", esFirst, "--sink", "es"}, 1, []string{`sink "es" (elasticsearch): cannot reach`}},
		{"--sink unknown", []string{"-c", esFirst, "--sink", "nope"}, 2, []string{`--sink "nope"`, "its sinks: es (elasticsearch), local (duckdb)"}},
		{"--sink without --config", []string{"--sink", "es"}, 2, []string{"--sink needs --config"}},
		{"--sink with --server", []string{"-c", esOnly, "--sink", "es1", "--server", "http://127.0.0.1:1"}, 2, []string{"--sink and --server"}},
		{"no sinks", []string{"-c", noSinks}, 1, []string{"has no sinks, so nothing to search"}},
		{"--sink on a config without sinks", []string{"-c", noSinks, "--sink", "es"}, 2, []string{"has no sinks"}},
		{"invalid elasticsearch sink", []string{"-c", invalidES}, 1, []string{`elasticsearch "es"`, "urls: at least one URL"}},
		{"bad query: usage error before any connection", []string{"-c", esOnly, "source.ip:("}, 2, []string{"flarehose: "}},
		{"bad --since", []string{"-c", esOnly, "--since", "yesterday-ish"}, 2, []string{"since"}},
		{"missing config file", []string{"-c", filepath.Join(t.TempDir(), "none.yaml")}, 1, []string{"no such file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := run(t, "", append([]string{"search"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %q", code, c.code, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q does not contain %q", errs, w)
				}
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

// fakeCluster answers GET / with status and body, and fails the test on
// any other request (nothing must be searched after GET / failed).
func fakeCluster(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSearchClusterRefuses checks the errors of a cluster that answers but
// refuses: never a credential in the message, even when the answer echoes it.
func TestSearchClusterRefuses(t *testing.T) {
	const (
		password = "hunter2-Pa55word"
		apiKey   = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
		token    = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.tok"
	)
	echo := func(secret string) string {
		return `{"error":{"type":"security_exception","reason":"unable to authenticate with ` + secret + `"},"status":401}`
	}
	cases := []struct {
		name, auth, status string
		code               int
		body               string
		want               string
		secret             string
	}{
		{"password", "username: flarehose\n    password: " + password, "401", 401, echo(password), "authentication failed: the cluster refused the credentials (HTTP 401, security_exception)", password},
		{"api key", "api_key: " + apiKey, "401", 401, echo(apiKey), "check its username/password, api_key or bearer_token", apiKey},
		{"bearer token", "bearer_token: " + token, "401", 401, echo(token), "authentication failed", token},
		{"not a cluster", "username: flarehose\n    password: " + password, "200", 200, "<html>hello " + password + "</html>", "cannot search this cluster: GET /: not JSON", password},
		{"too old", "api_key: " + apiKey, "200", 200, `{"version":{"number":"7.9.3"}}`, "data streams need 7.10", apiKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := fakeCluster(t, c.code, c.body)
			cfg := writeConfig(t, testSource+`
sinks:
  - type: elasticsearch
    name: es
    urls: [`+u+`]
    `+c.auth+`
`)
			code, out, errs := run(t, "", "search", "-c", cfg, "event.action:block")
			if code != 1 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, c.want)
			}
			if strings.Contains(out+errs, c.secret) {
				t.Errorf("the credential is in the output: %q", out+errs)
			}
		})
	}
}

func TestRedactSecrets(t *testing.T) {
	basic := "ZmxhcmVob3NlOnMzY3JldA==" // base64("flarehose:s3cret")
	cases := []struct {
		name string
		cfg  elasticsearch.Config
		err  error
		want string
	}{
		{"password", elasticsearch.Config{Username: "flarehose", Password: "s3cret"}, errors.New("bad s3cret here"), "bad [REDACTED] here"},
		{"basic header", elasticsearch.Config{Username: "flarehose", Password: "s3cret"}, errors.New("Basic " + basic), "Basic [REDACTED]"},
		{"api key", elasticsearch.Config{APIKey: "k3y=="}, errors.New("ApiKey k3y=="), "ApiKey [REDACTED]"},
		{"bearer", elasticsearch.Config{BearerToken: "t0k"}, errors.New("x t0k t0k"), "x [REDACTED] [REDACTED]"},
		{"nothing to hide", elasticsearch.Config{Username: "u", Password: "p4ss"}, errors.New("cluster unreachable"), "cluster unreachable"},
		{"usage errors stay usage errors", elasticsearch.Config{APIKey: "k3y"}, usageError{errors.New("k3y")}, "[REDACTED]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := redactSecrets(c.err, &c.cfg)
			if got.Error() != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			var ue usageError
			if errors.As(c.err, &ue) != errors.As(got, &ue) {
				t.Errorf("usage error lost or gained: %T -> %T", c.err, got)
			}
		})
	}
}

// Integration tests: a real OpenSearch/Elasticsearch node named by
// FLAREHOSE_OPENSEARCH_URL (test/opensearch/start.sh starts one; make
// test-opensearch does both).

func opensearchURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("FLAREHOSE_OPENSEARCH_URL")
	if u == "" {
		t.Skip("FLAREHOSE_OPENSEARCH_URL is not set: start a node with test/opensearch/start.sh and export FLAREHOSE_OPENSEARCH_URL=<its URL> (make test-opensearch does both)")
	}
	return strings.TrimRight(u, "/")
}

// fillNamespace writes the search fixture (internal/search/searchtest)
// through the elasticsearch sink into a namespace of its own, and returns it.
func fillNamespace(t *testing.T, nodeURL string) string {
	t.Helper()
	_, ns := estest.Fill(t, nodeURL, "cli", searchtest.Records())
	return ns
}

// found lists the fixture's short names (searchtest.Alias) whose id is in
// the output, sorted and space-separated.
func found(out string) string {
	var ids []string
	for _, id := range searchtest.Alias {
		if strings.Contains(out, id) {
			ids = append(ids, id)
		}
	}
	return strings.Join(searchtest.Names(ids), " ")
}

// The fixture's time range: o1 is on 2024-03-01, the rest on 2024-05-01.
var fixtureRange = []string{"--since", "2024-01-01", "--until", "2024-06-01"}

func TestSearchOpenSearch(t *testing.T) {
	node := opensearchURL(t)
	ns := fillNamespace(t, node)
	cfg := writeConfig(t, `data_dir: data`+testSource+`
sinks:
  - type: duckdb
  - type: elasticsearch
    name: opensearch
    urls: [`+closedURL(t)+`, `+node+`]
    namespace: `+ns+`
    timeout: 30s
`)
	empty := writeConfig(t, testSource+`
sinks:
  - type: elasticsearch
    urls: [`+node+`]
    namespace: none_`+ns+`
`)
	es := []string{"search", "-c", cfg, "--sink", "opensearch"}
	cases := []struct {
		name      string
		args      []string
		code      int
		want      string // short names found in --json output
		lines     int    // stdout lines; -1 = do not check
		stderr    string
		notStdout string
	}{
		{"everything", append(append(es, fixtureRange...), "--json"), 0, "a1 a2 f1 f2 f3 h1 h2 h3 h4 h5 o1", 11, "11 of 11 matching events", ""},
		{"typed range", append(append(es, fixtureRange...), "--json", "http.response.status_code >= 400"), 0, "f1 f2 h2 h4 h5", 5, "5 of 5 matching", ""},
		{"CIDR and NOT", append(append(es, fixtureRange...), "--json", "source.ip:10.0.0.0/8 AND NOT event.action:block"), 0, "h2 h4", 2, "2 of 2 matching", ""},
		{"--dataset", append(append(es, fixtureRange...), "--json", "--dataset", "firewall_events"), 0, "f1 f2 f3", 3, "3 of 3 matching", ""},
		{"--dataset, elastic name", append(append(es, fixtureRange...), "--json", "--dataset", "cloudflare_logpush.audit"), 0, "a1 a2", 2, "2 of 2 matching", ""},
		{"--since cuts o1", append(es, "--json", "--since", "2024-04-01", "--until", "2024-06-01", "http.response.status_code < 300"), 0, "f3 h1", 2, "2 of 2 matching", ""},
		{"--limit and --order asc: the oldest", append(append(es, fixtureRange...), "--json", "--limit", "1", "--order", "asc"), 0, "o1", 1, "1 of 11 matching", ""},
		{"table output", append(append(es, fixtureRange...), "event.action:block"), 0, "", 2, "1 of 1 matching", ""},
		{"nothing matches", append(append(es, fixtureRange...), "--json", "user.email:nobody@example.net"), 0, "", 0, "0 of 0 matching", ""},
		{"bad query syntax", append(es, "source.ip:("), 2, "", 0, "flarehose: ", ""},
		{"bad query for the field's type", append(es, "http.response.status_code:abc"), 2, "", 0, "is numeric", ""},
		{"offset beyond the window", append(es, "--offset", "9999", "--limit", "2"), 2, "", 0, "offset + limit", ""},
		{"no data streams yet", []string{"search", "-c", empty}, 1, "", 0, "no data streams yet for namespace \"none_" + ns + "\"", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := run(t, "", c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, c.code, out, errs)
			}
			if !strings.Contains(errs, c.stderr) {
				t.Errorf("stderr %q does not contain %q", errs, c.stderr)
			}
			if got := found(out); got != c.want {
				t.Errorf("found %q, want %q\nstdout %s", got, c.want, out)
			}
			if c.lines >= 0 && strings.Count(out, "\n") != c.lines {
				t.Errorf("%d lines, want %d:\n%s", strings.Count(out, "\n"), c.lines, out)
			}
		})
	}
	t.Run("table row", func(t *testing.T) {
		_, out, _ := run(t, "", append(append(es, fixtureRange...), "event.action:block")...)
		for _, w := range []string{"TIME", "DATASET", "firewall_events", "action=block", "ip=10.1.2.3"} {
			if !strings.Contains(out, w) {
				t.Errorf("table %q does not contain %q", out, w)
			}
		}
	})
}

// authProxy stands in front of the node and wants basic auth, as a secured
// cluster does (the test node runs without the security plugin).
func authProxy(t *testing.T, nodeURL, user, password string) string {
	t.Helper()
	target, err := url.Parse(nodeURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Basic realm="security"`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"unable to authenticate user [%s] with password [%s] for REST request [%s]"},"status":401}`, u, p, r.URL.Path)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSearchOpenSearchAuth(t *testing.T) {
	node := opensearchURL(t)
	ns := fillNamespace(t, node)
	proxy := authProxy(t, node, "reader", "c0rrect-h0rse")
	cfgWith := func(urls, password string) string {
		return writeConfig(t, testSource+`
sinks:
  - type: elasticsearch
    name: secured
    urls: [`+urls+`]
    username: reader
    password: "`+password+`"
    namespace: `+ns+`
`)
	}
	cases := []struct {
		name     string
		cfg      string
		code     int
		want     string
		password string
	}{
		{"right password", cfgWith(proxy, "c0rrect-h0rse"), 0, "5 of 5 matching", "c0rrect-h0rse"},
		{"wrong password", cfgWith(proxy, "wr0ng-batt3ry"), 1, `sink "secured" (elasticsearch): authentication failed`, "wr0ng-batt3ry"},
		{"bad URL", cfgWith(closedURL(t), "c0rrect-h0rse"), 1, `sink "secured" (elasticsearch): cannot reach the cluster`, "c0rrect-h0rse"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"search", "-c", c.cfg, "--json", "http.response.status_code >= 400"}, fixtureRange...)
			code, out, errs := run(t, "", args...)
			if code != c.code || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, c.code, c.want)
			}
			if strings.Contains(out+errs, c.password) {
				t.Errorf("the password is in the output: %q", out+errs)
			}
		})
	}
}
