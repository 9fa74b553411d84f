package normalize

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var mailDomains = []string{"example.com", "example.net", "mail.example.org", "corp.example"}

func randMailbox(rng *rand.Rand) (addr, name string) {
	first := pick(rng, "alice", "bob", "carol", "dave", "erin", "frank", "grace")
	last := pick(rng, "martin", "nguyen", "smith", "garcia", "kowalski")
	return fmt.Sprintf("%s.%s@%s", first, last, pick(rng, mailDomains...)),
		strings.ToUpper(first[:1]) + first[1:] + " " + strings.ToUpper(last[:1]) + last[1:]
}

// makeEmailSecurityAlert returns an Email Security alert (rfc3339
// timestamps, 0-2 attachments, a few links).
func makeEmailSecurityAlert(rng *rand.Rand, i int) string {
	t := time.Date(2024, 8, 28, 15, 0, 0, 0, time.UTC).Add(time.Duration(i) * 1700 * time.Millisecond)
	from, fromName := randMailbox(rng)
	to, toName := randMailbox(rng)
	cc, ccName := randMailbox(rng)
	var atts []string
	for j := rng.IntN(3); j > 0; j-- {
		atts = append(atts, fmt.Sprintf(`{"Md5":"%016x%016x","Sha1":"%016x%016x%08x","Sha256":"%016x%016x%016x%016x",`+
			`"Ssdeep":"384:%xQ8tPlH25e85Q2Oi:uN9M553Oi","Name":"%s","ContentTypeProvided":"%s","ContentTypeComputed":"%s","Encrypted":%t,"Decrypted":%t}`,
			rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint32(), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(),
			rng.Uint32(), pick(rng, "invoice.pdf", "statement.xlsx", "photo.jpg", "payload.zip"),
			pick(rng, "application/pdf", "image/jpeg", "application/zip"), pick(rng, "application/pdf", "application/x-msdownload", "application/zip"),
			rng.IntN(4) == 0, rng.IntN(2) == 0))
	}
	var links []string
	for j := rng.IntN(4); j > 0; j-- {
		links = append(links, fmt.Sprintf(`"https://%s/%s?id=%d"`, pick(rng, "login.example-secure.net", "docs.example.com", "bit.example", "cdn.example.org"),
			pick(rng, "signin", "share/doc", "track", "u/verify"), rng.IntN(100000)))
	}
	disp := pick(rng, "unset", "unset", "malicious", "suspicious", "spoof", "spam", "bulk")
	reasons, cats := `[]`, `[]`
	if disp != "unset" {
		reasons = `["Sender domain registered recently","Link to credential harvester"]`
		cats = `["CredentialHarvester"]`
	}
	ip := fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(220), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	return fmt.Sprintf(`{"AlertID":"%s-%s","AlertReasons":%s,"Attachments":[%s],"BCC":[],"CC":["%s"],"CCName":["%s"],`+
		`"DKIMResult":"%s","DMARCPolicy":"%s","DMARCResult":"%s","FinalDisposition":"%s","From":"%s","FromName":"%s","Links":[%s],`+
		`"MessageDeliveryMode":"%s","MessageID":"<%016x@%s>","Origin":"%s","OriginalSender":"%s","ReplyTo":"%s","ReplyToName":"%s",`+
		`"SMTPEnvelopeFrom":"bounce-%d@%s","SMTPEnvelopeTo":["%s"],"SMTPHeloServerIP":"%s","SMTPHeloServerIPAsName":"EXAMPLE-NET",`+
		`"SMTPHeloServerIPAsNumber":"%d","SMTPHeloServerIPGeo":"%s","SMTPHeloServerName":"mta%d.%s","SPFResult":"%s",`+
		`"Subject":"%s","ThreatCategories":%s,"Timestamp":"%s","To":["%s"],"ToName":["%s"]}`,
		randAlnum(rng, 15), t.Format("2006-01-02T15:04:05"), reasons, strings.Join(atts, ","), cc, ccName,
		pick(rng, "pass", "fail", "none"), pick(rng, "none", "quarantine", "reject"), pick(rng, "pass", "fail"),
		disp, from, fromName, strings.Join(links, ","), pick(rng, "direct", "api", "bcc", "journal"),
		rng.Uint64(), pick(rng, mailDomains...), pick(rng, "external", "internal"), from, from, fromName,
		rng.IntN(1e6), pick(rng, mailDomains...), to, ip, 64496+rng.IntN(1000),
		pick(rng, "US/CA/San Jose", "DE/HE/Frankfurt", "GB/ENG/London"), rng.IntN(9), pick(rng, mailDomains...),
		pick(rng, "pass", "softfail", "neutral"), pick(rng, "Invoice overdue", "Your mailbox is full", "Quarterly report", "Re: lunch"),
		cats, t.Format(time.RFC3339), to, toName)
}

// TestEmailSecurityAlertsDerived covers what the pipeline derives beyond
// the fixture: string To, links that do not parse, non-object attachments,
// an empty disposition, HELO names that are IPs.
func TestEmailSecurityAlertsDerived(t *testing.T) {
	env := newTestEnv(t, Options{})
	doc, _ := normalizeOne(t, env, "email_security_alerts",
		`{"FinalDisposition":"","To":"a@x.example","From":"b@y.example","SMTPHeloServerName":"192.0.2.7",`+
			`"Links":["https://one.example/a","https://one.example/b",null,"mailto:c@z.example"],"Attachments":[{"Name":"","Md5":"N/A"}]}`)
	for k, want := range map[string]string{
		"event.kind":         "alert", // "" != "unset" in Elastic's condition
		"email.to.address":   "[a@x.example]",
		"email.from.address": "[b@y.example]",
		"server.address":     "192.0.2.7",
		"related.hosts":      "[one.example y.example]",
		"related.user":       "[b@y.example]",
		"cloudflare_logpush.email_security_alerts.attachments": "<nil>",
	} {
		if got := fmt.Sprint(doc[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	for _, absent := range []string{"server.domain", "file", "email.attachments", "related.hash", "error.message"} {
		if _, ok := doc[absent]; ok {
			t.Errorf("%s should be absent: %v", absent, doc[absent])
		}
	}
	doc, _ = normalizeOne(t, env, "email_security_alerts", `{"Links":["not a url"],"Attachments":["x.pdf"],"FinalDisposition":"unset"}`)
	if doc["event.kind"] != "pipeline_error" || len(doc["error.message"].([]any)) != 2 {
		t.Errorf("bad link and attachment: %v", doc)
	}
}
