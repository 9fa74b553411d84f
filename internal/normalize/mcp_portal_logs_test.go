package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeMCPPortalLog returns an MCP portal request record.
func makeMCPPortalLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 29 * time.Millisecond)
	method := pick(rng, "tools/call", "tools/call", "tools/list", "resources/read", "prompts/get")
	tool, prompt, resource := "", "", ""
	switch method {
	case "tools/call":
		tool = pick(rng, "search_issues", "create_pull_request", "query_database")
	case "prompts/get":
		prompt = "summarize"
	case "resources/read":
		resource = "file:///reports/q2.md"
	}
	ok := rng.IntN(10) != 0
	errMsg := ""
	if !ok {
		errMsg = "upstream returned 502"
	}
	return fmt.Sprintf(`{"ClientCountry":"%s","ClientIP":"%s","ColoCode":"%s","Datetime":%d,"Error":"%s","Method":"%s",`+
		`"PortalAUD":"%016x%016x","PortalID":"portal-%d","PromptGetName":"%s","ResourceReadURI":"%s","ServerAUD":"%016x%016x",`+
		`"ServerID":"%s","ServerResponseDurationMs":%d,"ServerURL":"https://%s.example.com/mcp","SessionID":"%s","Success":%t,`+
		`"ToolCallName":"%s","UserEmail":"user%d@example.org","UserID":"%s"}`,
		pick(rng, "us", "de", "fr", "gb"), randIPv4(rng), pick(rng, "FRA", "IAD", "SJC"), t.UnixNano(), errMsg, method,
		rng.Uint64(), rng.Uint64(), rng.IntN(5), prompt, resource, rng.Uint64(), rng.Uint64(), pick(rng, "github-mcp", "files-mcp", "db-mcp"),
		rng.IntN(3000), pick(rng, "github-mcp", "files-mcp", "db-mcp"), randUUID(rng), ok, tool, rng.IntN(500), randUUID(rng))
}

func TestMCPPortalLogsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "mcp_portal_log",
		`{"Method":"tools/call","Success":false,"ServerResponseDurationMs":"182","ServerURL":"https://mcp.example.com:8443/v1/mcp","ClientIP":"198.51.100.1","ClientCountry":"de"}`)
	expectFields(t, doc, map[string]any{
		"event.action":                "tools/call",
		"event.outcome":               "failure",
		"event.duration":              "182000000",
		"url.domain":                  "mcp.example.com",
		"url.port":                    "8443",
		"source.ip":                   "198.51.100.1",
		"source.geo.country_iso_code": "de",
		"related.hosts":               []any{"mcp.example.com"},
		"related.ip":                  []any{"198.51.100.1"},
		"cloudflare_logpush.mcp_portal_log.server.url":                  "https://mcp.example.com:8443/v1/mcp",
		"cloudflare_logpush.mcp_portal_log.server.response_duration_ms": "182",
		"cloudflare_logpush.mcp_portal_log.client.ip":                   nil,
	})
	doc = normalizeFlat(t, Options{}, "mcp_portal_logs", `{"Success":"true","ServerResponseDurationMs":-1}`)
	expectFields(t, doc, map[string]any{"event.outcome": "success", "event.duration": nil})
}
