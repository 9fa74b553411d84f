package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeAccessRequest returns an Access request record.
func makeAccessRequest(rng *rand.Rand, i int) string {
	t := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 301 * time.Millisecond)
	return fmt.Sprintf(`{"Action":"%s","Allowed":%t,"AppDomain":"%s","AppUUID":"%s","Connection":"%s","Country":"%s","CreatedAt":%d,`+
		`"Email":"user%d@example.org","IPAddress":"%s","PurposeJustificationPrompt":"","PurposeJustificationResponse":"","RayID":"%016x",`+
		`"TemporaryAccessApprovers":[],"TemporaryAccessDuration":0,"UserUID":"%s"}`,
		pick(rng, "login", "login", "logout"), rng.IntN(5) != 0, pick(rng, "wiki.example.org", "admin.example.org/console", "grafana.example.net"),
		randUUID(rng), pick(rng, "azureAD", "onetimepin", "okta", "github"), pick(rng, "us", "de", "fr", "gb", "jp"), t.UnixNano(),
		rng.IntN(500), randIPv4(rng), rng.Uint64(), randUUID(rng))
}

func TestAccessRequestsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "access_request",
		`{"Allowed":false,"Country":"de","IPAddress":"198.51.100.1","TemporaryAccessApprovers":["a@example.org","b@example.org"],"UserUID":"u","Email":"e@example.org"}`)
	expectFields(t, doc, map[string]any{
		"event.type":                  []any{"access", "denied"},
		"client.ip":                   "198.51.100.1",
		"client.geo.country_iso_code": "DE", // no GeoIP database: upper-cased Country
		"related.user":                []any{"e@example.org", "u", "a@example.org", "b@example.org"},
		"cloudflare_logpush.access_request.allowed": nil,
		"cloudflare_logpush.access_request.country": nil,
	})
	doc = normalizeFlat(t, Options{KeepDuplicateFields: true}, "access_request", `{"Allowed":"TRUE","Country":"de"}`)
	expectFields(t, doc, map[string]any{
		"event.type": []any{"access", "allowed"},
		"cloudflare_logpush.access_request.allowed": true,
		"cloudflare_logpush.access_request.country": "de",
	})
	doc = normalizeFlat(t, Options{}, "access_request", `{"Allowed":"maybe"}`)
	expectFields(t, doc, map[string]any{"event.type": []any{"access"}, "event.kind": "pipeline_error"})
}
