package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var gatewayHTTPHosts = []string{"github.com", "www.google.com", "slack.com", "files.example.net", "intranet.corp.example.org", "cdn.example.com"}

// makeGatewayHTTP returns a Gateway HTTP record.
func makeGatewayHTTP(rng *rand.Rand, i int) string {
	t := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 17 * time.Millisecond)
	host := gatewayHTTPHosts[rng.IntN(len(gatewayHTTPHosts))]
	action := pick(rng, "allow", "allow", "allow", "block", "bypass", "isolate")
	file := `"BlockedFileHash":"","BlockedFileName":"","BlockedFileReason":"unknown","BlockedFileSize":0,"BlockedFileType":""`
	if action == "block" {
		file = fmt.Sprintf(`"BlockedFileHash":"%016x%016x%016x%016x","BlockedFileName":"setup-%d.exe","BlockedFileReason":"malware","BlockedFileSize":%d,"BlockedFileType":"exe"`,
			rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.IntN(99), 1000+rng.IntN(1<<20))
	}
	return fmt.Sprintf(`{"AccountID":"5f0c2a7d9e1b4c3a8d6e2f1a0b9c8d7e","Action":"%s",%s,"CategoryIDs":[26,81],"CategoryNames":["Technology","Content Servers"],`+
		`"Datetime":%d,"DestinationIP":"%s","DestinationPort":443,"DeviceID":"%s","DeviceName":"laptop-%03d","DownloadedFileNames":[],`+
		`"Email":"user%d@example.org","FileInfo":{"files":[]},"HTTPHost":"%s","HTTPMethod":"%s","HTTPStatusCode":%d,"HTTPVersion":"%s",`+
		`"IsIsolated":false,"PolicyID":"%s","PolicyName":"%s","Quarantined":false,"Referer":"https://%s/","RequestID":"%016x%016x",`+
		`"SessionID":"%016x","SourceIP":"%s","SourceInternalIP":"100.96.%d.%d","SourcePort":%d,"URL":"https://%s%s","UntrustedCertificateAction":"none",`+
		`"UploadedFileNames":[],"UserAgent":"%s","UserID":"%s"}`,
		action, file, t.UnixNano(), randIPv4(rng), randUUID(rng), rng.IntN(500), rng.IntN(500), host,
		pick(rng, "GET", "GET", "POST", "PUT"), pick(rng, 200, 200, 204, 302, 403, 404), pick(rng, "HTTP/2", "HTTP/1.1", "HTTP/3"),
		pick(rng, "", "85063bec-74cb-4546-85a3-e0cde2cdfda2"), pick(rng, "", "Block executables"), host, rng.Uint64(), rng.Uint64(),
		rng.Uint64(), randIPv4(rng), rng.IntN(256), 1+rng.IntN(254), 1024+rng.IntN(60000), host, benchPaths[rng.IntN(len(benchPaths))],
		benchUAs[rng.IntN(len(benchUAs))], randUUID(rng))
}

func TestGatewayHTTPFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "gateway_http",
		`{"Action":"block","URL":"https://files.example.net:8443/dl/setup.exe?x=1","BlockedFileHash":"abc","BlockedFileName":"setup.exe","BlockedFileSize":"12",`+
			`"BlockedFileType":"exe","ApplicationIDs":[5,"6"],"CategoryIDs":["26"],"HTTPHost":"files.example.net","SourceInternalIP":"100.96.0.1","DeviceID":"d"}`)
	expectFields(t, doc, map[string]any{
		"event.type":       []any{"info", "denied"},
		"event.action":     "block",
		"url.original":     "https://files.example.net:8443/dl/setup.exe?x=1",
		"url.domain":       "files.example.net",
		"url.port":         "8443",
		"url.path":         "/dl/setup.exe",
		"url.extension":    "exe",
		"url.query":        "x=1",
		"file.hash.sha256": "abc",
		"file.name":        "setup.exe",
		"file.size":        "12",
		"file.extension":   "exe",
		"device.id":        "d",
		"related.hash":     []any{"abc"},
		"related.ip":       []any{"100.96.0.1"},
		"related.hosts":    []any{"d", "files.example.net"},
		"user_agent.name":  nil, // Elastic's gateway_http pipeline does not parse the user agent
		"cloudflare_logpush.gateway_http.application.ids":   []any{"5", "6"},
		"cloudflare_logpush.gateway_http.category.ids":      []any{"26"},
		"cloudflare_logpush.gateway_http.blocked_file.hash": nil,
		"cloudflare_logpush.gateway_http.url":               nil,
	})
	for action, want := range map[string]any{"allow": []any{"info", "allowed"}, "bypass": []any{"info", "allowed"}, "isolate": []any{"info"}} {
		doc = normalizeFlat(t, Options{}, "gateway_http", `{"Action":"`+action+`"}`)
		expectFields(t, doc, map[string]any{"event.type": want})
	}
	doc = normalizeFlat(t, Options{}, "gateway_http", `{"URL":"not a url"}`)
	expectFields(t, doc, map[string]any{"event.kind": "pipeline_error", "url.original": "not a url"})
}
