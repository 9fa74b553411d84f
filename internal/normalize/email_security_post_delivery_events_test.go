package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makePostDeliveryEvent returns a post-delivery action (move, submission
// or quarantine release) on a delivered message.
func makePostDeliveryEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 8, 28, 16, 0, 0, 0, time.UTC).Add(time.Duration(i) * 3 * time.Second)
	from, fromName := randMailbox(rng)
	to, _ := randMailbox(rng)
	op := pick(rng, "move", "move", "submission", "quarantineRelease")
	ok := rng.IntN(10) != 0
	status, folder, dest, reqDisp := "OK", "", "", ""
	if !ok {
		status = "ErrorItemNotFound"
	}
	switch op {
	case "move":
		dest = pick(rng, "RecoverableItemsPurges", "JunkEmail", "Inbox")
		if ok {
			folder = dest
		}
	case "submission":
		reqDisp = pick(rng, "malicious", "spam", "none")
	}
	return fmt.Sprintf(`{"AlertID":"%s-%s","CompletedAt":"%s","Destination":"%s","FinalDisposition":"%s","Folder":"%s",`+
		`"From":"%s","FromName":"%s","MessageID":"<%016x@%s>","MessageTimestamp":"%s","MicrosoftTenantID":"%s",`+
		`"Operation":"%s","PostfixID":"%s","Reasons":%s,"Recipient":"%s","RequestedAt":"%s","RequestedBy":"%s",`+
		`"RequestedDisposition":"%s","Status":"%s","Subject":"%s","Success":%t,"To":["%s"]}`,
		randAlnum(rng, 15), t.Add(-time.Hour).Format("2006-01-02T15:04:05"), t.Add(1500*time.Millisecond).Format(time.RFC3339Nano),
		dest, pick(rng, "malicious", "suspicious", "spam", "none"), folder, from, fromName, rng.Uint64(),
		pick(rng, mailDomains...), t.Add(-time.Hour).Format(time.RFC3339), randUUID(rng), op, randAlnum(rng, 11),
		pick(rng, `["Malicious URL"]`, `["Impersonation","New domain"]`, `[]`), to, t.Format(time.RFC3339Nano),
		pick(rng, "soc@example.com", "auto-moderation@example.com"), reqDisp, status,
		pick(rng, "Invoice overdue", "Your mailbox is full", "Quarterly report"), ok, to)
}
