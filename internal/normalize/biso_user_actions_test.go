package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// makeBISOUserAction returns a Browser Isolation user action record.
func makeBISOUserAction(rng *rand.Rand, i int) string {
	t := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 53 * time.Millisecond)
	host := pick(rng, "docs.example.net", "mail.example.com", "files.example.org", "crm.example.io")
	return fmt.Sprintf(`{"AccountID":"5f0c2a7d9e1b4c3a8d6e2f1a0b9c8d7e","Decision":"%s","DomainName":"%s","Metadata":"{\"mime_type\":\"text/plain\",\"length\":%d}",`+
		`"Timestamp":%d,"Type":"%s","URL":"https://%s/d/%x/edit","UserEmail":"user%d@example.org","UserID":"%s"}`,
		pick(rng, "allow", "allow", "block"), host, rng.IntN(4096), t.UnixNano(), pick(rng, "copy", "paste", "download", "upload", "print", "keyboard"),
		host, rng.Uint64(), rng.IntN(500), randUUID(rng))
}

func TestBISOUserActionsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "biso_user_action",
		`{"Decision":"block","Type":"copy","URL":"https://docs.example.net/d/1/edit#h","DomainName":"docs.example.net","UserID":"u","Timestamp":"2024-06-10T12:45:01Z"}`)
	expectFields(t, doc, map[string]any{
		"@timestamp":    "2024-06-10T12:45:01.000Z",
		"event.action":  "copy",
		"event.type":    []any{"info", "denied"},
		"url.domain":    "docs.example.net",
		"url.fragment":  "h",
		"related.hosts": []any{"docs.example.net"},
		"user.id":       "u",
		"cloudflare_logpush.biso_user_action.decision": "block",
		"cloudflare_logpush.biso_user_action.type":     nil,
	})
	doc = normalizeFlat(t, Options{}, "biso_user_actions", `{"Decision":"allow","URL":"not a url","DomainName":"x.example.org"}`)
	expectFields(t, doc, map[string]any{"event.type": []any{"info", "allowed"}, "url.domain": "x.example.org", "url.original": "not a url"})
}
