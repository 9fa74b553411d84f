package cfclient

import (
	"strings"
	"testing"
)

// TestHintForBuckets: when Cloudflare cannot write to a bucket, the hint is
// about its access to that bucket, not about an HTTP receiver.
func TestHintForBuckets(t *testing.T) {
	writeFail := &APIError{Status: 400, Errors: []Message{{Code: 1002, Message: "error writing ownership challenge: bucket cf-logs does not exist"}}}
	validateFail := &APIError{Status: 400, Errors: []Message{{Code: 1002, Message: "error validating destination: error writing object: error uploading: access denied"}}}
	tests := []struct {
		err  *APIError
		conf string // "" for an HTTP destination
		want string
	}{
		{writeFail, "s3://cf-logs/http?region=us-east-1", "arn:aws:iam::391854517948:user/cloudflare-logpush s3:PutObject on arn:aws:s3:::cf-logs/*"},
		{validateFail, "s3://cf-logs/http?region=us-east-1&access-key-id=AK&secret-access-key=SK&endpoint=minio.example", "the keys in the destination"},
		{validateFail, "r2://cf-logs/http?account-id=0123&access-key-id=AK&secret-access-key=SK", "R2 API token"},
		{writeFail, "gs://cf-logs/http", "logpush@cloudflare-data.iam.gserviceaccount.com has Storage Object Admin"},
		{validateFail, "azure://acct.blob.core.windows.net/logs/http?sp=w&sig=x", "allows Write (sp=w, ss=b, srt=o)"},
		{validateFail, "", "start 'flarehose serve' first"},
		// A wrong token is about the token, whatever the destination.
		{&APIError{Status: 400, Errors: []Message{{Code: 1002, Message: "ownership challenge is invalid"}}}, "gs://cf-logs/http", "valid 7 days"},
	}
	for _, tc := range tests {
		var dest *ObjectDestination
		if tc.conf != "" {
			var err error
			if dest, err = ParseObjectDestination(tc.conf); err != nil {
				t.Fatal(err)
			}
		}
		got := tc.err.HintFor(Zone("z"), dest)
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s with %q:\n got %q\nwant it to mention %q", tc.err.Errors[0].Message, tc.conf, got, tc.want)
		}
		if strings.Contains(got, "SK") || strings.Contains(got, "sig=") {
			t.Errorf("hint leaks a secret: %q", got)
		}
	}
}
