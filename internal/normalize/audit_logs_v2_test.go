package normalize

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// auditV2Actions are realistic (product, resource type, action type,
// description, method, URI template) combinations.
var auditV2Actions = [][6]string{
	{"members", "member", "create", "Add Member", "POST", "/accounts/%s/members"},
	{"members", "member", "delete", "Remove Member", "DELETE", "/accounts/%s/members/%s"},
	{"dns_records", "dns_record", "update", "Update DNS record", "PATCH", "/zones/%s/dns_records/%s"},
	{"dns_records", "dns_record", "create", "Create DNS record", "POST", "/zones/%s/dns_records"},
	{"api_tokens", "token", "update", "Roll API token", "PUT", "/user/tokens/%s/value"},
	{"waf", "ruleset", "update", "Update ruleset", "PUT", "/zones/%s/rulesets/phases/http_request_firewall_custom/entrypoint"},
}

// makeAuditLogV2 returns an audit_logs_v2 record (Logpush dataset: the v2
// API's entry flattened to PascalCase fields).
func makeAuditLogV2(rng *rand.Rand, i int) string {
	t := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 17 * time.Second)
	a := auditV2Actions[rng.IntN(len(auditV2Actions))]
	account, zone, resource := randHex32(rng), randHex32(rng), randHex32(rng)
	args := []any{zone, resource}
	switch a[0] {
	case "members":
		args, zone = []any{account, resource}, ""
	case "api_tokens":
		args, zone = []any{resource}, ""
	}
	uri := fmt.Sprintf(a[5], args[:strings.Count(a[5], "%s")]...)
	result, status := "success", 200
	if rng.IntN(8) == 0 {
		result, status = "failure", pick(rng, 400, 403, 409)
	}
	ctx := pick(rng, "dash", "api_token", "api_token", "api_key")
	token, ua := `{}`, benchUAs[rng.IntN(len(benchUAs))]
	if ctx == "api_token" {
		token = fmt.Sprintf(`{"id":"%s","name":"%s"}`, randHex32(rng), pick(rng, "terraform", "ci-deploy"))
		ua = pick(rng, "terraform-provider-cloudflare/4.40.0", "curl/8.5.0", "cloudflare-go/v6.6.0")
	}
	zoneName := ""
	if zone != "" {
		zoneName = pick(rng, "example.com", "example.net")
	}
	return fmt.Sprintf(`{"AccountID":"%s","AccountName":"Example Corp","ActionDescription":"%s","ActionResult":"%s",`+
		`"ActionTimestamp":"%s","ActionType":"%s","ActorContext":"%s","ActorEmail":"%s","ActorID":"%s",`+
		`"ActorIPAddress":"%s","ActorTokenDetails":%s,"ActorType":"user","AuditLogID":"%s",`+
		`"Raw":{"cf_ray_id":"%016x","method":"%s","status_code":%d,"uri":"%s","user_agent":"%s"},`+
		`"ResourceID":"%s","ResourceProduct":"%s","ResourceRequest":{"name":"www","proxied":true},"ResourceResponse":{},`+
		`"ResourceScope":"%s","ResourceType":"%s","ResourceValue":{},"ZoneID":"%s","ZoneName":"%s"}`,
		account, a[3], result, t.Format(time.RFC3339Nano), a[2], ctx, pick(rng, "alice@example.com", "ops-bot@example.com"),
		randHex32(rng), randIP(rng), token, randUUID(rng), rng.Uint64(), a[4], status, uri, ua,
		resource, a[0], pick(rng, "accounts", "zones"), a[1], zone, zoneName)
}
