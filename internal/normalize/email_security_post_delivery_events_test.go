package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func FuzzNormalizeEmailSecurityPostDeliveryEvents(f *testing.F) {
	fuzzDataset(f, "email_security_post_delivery_events")
}

// makePostDeliveryEvent returns a post-delivery action (move, submission
// or quarantine release) on a delivered message.
func makePostDeliveryEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 8, 28, 16, 0, 0, 0, time.UTC).Add(time.Duration(i) * 3 * time.Second)
	from, fromName := edgeMailbox(rng)
	to, _ := edgeMailbox(rng)
	op := edgePick(rng, "move", "move", "submission", "quarantineRelease")
	ok := rng.IntN(10) != 0
	status, folder, dest, reqDisp := "OK", "", "", ""
	if !ok {
		status = "ErrorItemNotFound"
	}
	switch op {
	case "move":
		dest = edgePick(rng, "RecoverableItemsPurges", "JunkEmail", "Inbox")
		if ok {
			folder = dest
		}
	case "submission":
		reqDisp = edgePick(rng, "malicious", "spam", "none")
	}
	return fmt.Sprintf(`{"AlertID":"%s-%s","CompletedAt":"%s","Destination":"%s","FinalDisposition":"%s","Folder":"%s",`+
		`"From":"%s","FromName":"%s","MessageID":"<%016x@%s>","MessageTimestamp":"%s","MicrosoftTenantID":"%s",`+
		`"Operation":"%s","PostfixID":"%s","Reasons":%s,"Recipient":"%s","RequestedAt":"%s","RequestedBy":"%s",`+
		`"RequestedDisposition":"%s","Status":"%s","Subject":"%s","Success":%t,"To":["%s"]}`,
		edgeAlnum(rng, 15), t.Add(-time.Hour).Format("2006-01-02T15:04:05"), t.Add(1500*time.Millisecond).Format(time.RFC3339Nano),
		dest, edgePick(rng, "malicious", "suspicious", "spam", "none"), folder, from, fromName, rng.Uint64(),
		edgePick(rng, edgeMailDomains...), t.Add(-time.Hour).Format(time.RFC3339), edgeUUID(rng), op, edgeAlnum(rng, 11),
		edgePick(rng, `["Malicious URL"]`, `["Impersonation","New domain"]`, `[]`), to, t.Format(time.RFC3339Nano),
		edgePick(rng, "soc@example.com", "auto-moderation@example.com"), reqDisp, status,
		edgePick(rng, "Invoice overdue", "Your mailbox is full", "Quarterly report"), ok, to)
}
