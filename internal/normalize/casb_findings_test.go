package normalize

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// makeCASBFinding returns a CASB finding on a SaaS asset.
func makeCASBFinding(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	kind := pick(rng,
		[5]string{"Microsoft: File Publicly Accessible Read Only", "High", "Microsoft 365", "Microsoft Connection", "https://example-my.sharepoint.com/personal/u%d/Documents/Report%%20%d.xlsx?web=1"},
		[5]string{"Google Workspace: File shared with external users", "Medium", "Google Workspace", "Google Workspace Connection", "https://drive.google.com/file/d/%d%d/view"},
		[5]string{"GitHub: Repository is public", "Low", "GitHub org", "GitHub Connection", "https://github.com/example/repo-%d-%d"},
		[5]string{"Slack: Admin user without 2FA", "Critical", "Slack", "Slack Connection", ""})
	link := kind[4]
	if link != "" {
		link = fmt.Sprintf(link, rng.IntN(1000), rng.IntN(100000))
	}
	return fmt.Sprintf(`{"AssetDisplayName":"Asset %d","AssetExternalID":"%016X","AssetLink":"%s",`+
		`"AssetMetadata":{"createdBy":{"user":{"email":"user%d@example.com","displayName":"User %d"}},"shared":{"scope":"%s"},"size":%d,"lastModifiedDateTime":"%s"},`+
		`"DetectedTimestamp":%d,"FindingTypeDisplayName":"%s","FindingTypeID":"%s","FindingTypeSeverity":"%s","InstanceID":"%s",`+
		`"IntegrationDisplayName":"%s","IntegrationID":"%s","IntegrationPolicyVendor":"%s"}`,
		rng.IntN(100000), rng.Uint64(), link, rng.IntN(500), rng.IntN(500), pick(rng, "anonymous", "organization", "users"),
		rng.IntN(10_000_000), t.Add(-time.Hour).Format(time.RFC3339), t.UnixNano(), kind[0], randUUID(rng), kind[1], randUUID(rng),
		kind[2], randUUID(rng), kind[3])
}
