package cfclient

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error codes the client recognises (PROTOCOL.md §1.2, §6.3).
const (
	CodeRateLimited      = 971   // 429 "Please wait and consider throttling your request speed"
	CodeRateLimitedAlt   = 10429 // the same text, seen by one project
	CodeJobLimit         = 1004  // 403 "creating a new job ... is not allowed: exceeded max jobs allowed"
	CodeInvalidHeaders   = 6003  // 400 "Invalid request headers" (malformed token or key)
	CodeNoRoute          = 7003  // "No route for the URI" / "Could not route to ..."
	CodeAuthentication   = 10000 // 403 "Authentication error": bad token or missing permission
	msgValidatingDestErr = "error validating destination"
)

// APIError is a failed API call: the HTTP status and Cloudflare's errors.
// Its messages are already scrubbed of known secrets.
type APIError struct {
	Status      int
	Method, URL string
	Errors      []Message
	// Body is a snippet of a response that carried no errors (a proxy's
	// HTML page, an empty body).
	Body string
	// RetryAfter is the response's Retry-After (0 when absent).
	RetryAfter time.Duration
	// WaitTooLong is set when the client gave up because RetryAfter was over
	// its MaxWait (the bound it had).
	WaitTooLong time.Duration
}

// Error renders "METHOD URL: HTTP status: [code] message (chain...)".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.URL, e.Status)
	if len(e.Errors) == 0 {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	for i, m := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(m.String())
	}
	return b.String()
}

// String renders "code message: chain; chain".
func (m Message) String() string {
	s := fmt.Sprintf("%d %s", m.Code, m.Message)
	if len(m.ErrorChain) > 0 {
		parts := make([]string, len(m.ErrorChain))
		for i, c := range m.ErrorChain {
			parts[i] = c.String()
		}
		s += " (" + strings.Join(parts, "; ") + ")"
	}
	return s
}

// Has reports whether Cloudflare's errors carry code (error_chain included).
func (e *APIError) Has(code int) bool {
	var walk func([]Message) bool
	walk = func(ms []Message) bool {
		for _, m := range ms {
			if m.Code == code || walk(m.ErrorChain) {
				return true
			}
		}
		return false
	}
	return walk(e.Errors)
}

// Contains reports whether any error message contains s (case-insensitive).
func (e *APIError) Contains(s string) bool {
	s = strings.ToLower(s)
	var walk func([]Message) bool
	walk = func(ms []Message) bool {
		for _, m := range ms {
			if strings.Contains(strings.ToLower(m.Message), s) || walk(m.ErrorChain) {
				return true
			}
		}
		return false
	}
	return walk(e.Errors)
}

// RateLimited reports a 429 (or Cloudflare's rate limit codes).
func (e *APIError) RateLimited() bool {
	return e.Status == http.StatusTooManyRequests || e.Has(CodeRateLimited) || e.Has(CodeRateLimitedAlt)
}

// DestinationInvalid reports the failure of the check Cloudflare makes when
// a job gets a destination: the validation upload (HTTP) or the storage
// write (object stores).
func (e *APIError) DestinationInvalid() bool { return e.Contains(msgValidatingDestErr) }

// Hint explains the error in terms of what to do, for scope (the zone or
// account the call was for). "" when there is nothing to add.
func (e *APIError) Hint(scope Scope) string {
	where := "this " + scope.Kind
	if scope.ID != "" {
		where = scope.Kind + " " + scope.ID
	}
	switch {
	case e.RateLimited():
		wait := "a few minutes (Cloudflare blocks every call of a credential for 5 minutes after it went over 1200 requests in 5 minutes)"
		if e.RetryAfter > 0 {
			wait = e.RetryAfter.String()
		}
		if e.WaitTooLong > 0 {
			return fmt.Sprintf("rate limited: Cloudflare asks to wait %s, longer than the %s this command waits; try again later (or raise --max-wait)", wait, e.WaitTooLong)
		}
		return "rate limited: Cloudflare still refused after the retries; wait " + wait + " and try again"
	case e.Has(CodeInvalidHeaders):
		return "Cloudflare could not read the credentials: an API token is 40 characters (--api-token / CLOUDFLARE_API_TOKEN), a Global API Key 37 hex digits with its account e-mail (--api-email/--api-key)"
	case e.Has(CodeAuthentication):
		return "the token is invalid, or lacks the Logs Write permission for " + where +
			" (every Logpush API call needs it, reads included; zone datasets need a token scoped to the zone, account datasets one scoped to the account)"
	case e.Has(CodeJobLimit) && e.Contains("bot management"):
		return "this zone's plan does not include Bot Management: leave out the Bot* fields (use --fields default)"
	case e.Has(CodeJobLimit):
		return "Cloudflare allows 4 Logpush jobs per zone, and none for a dataset the plan is not entitled to: " +
			"list the jobs with 'flarehose logpush jobs list' and delete one you no longer need with 'flarehose logpush jobs delete ID'"
	case e.DestinationInvalid():
		return destinationHint(e)
	case e.Contains("ownership challenge"):
		return "the ownership challenge must be the content of the file Cloudflare wrote for this exact destination_conf, and is valid 7 days: run the command again to get a fresh one"
	case e.Has(CodeNoRoute):
		return "check the zone or account ID (32 hex digits, from the dashboard's Overview page) and --base-url"
	case e.Status == http.StatusNotFound:
		return "no such job in " + where + ": 'flarehose logpush jobs list' shows the job IDs"
	case e.Status >= 500:
		return "Cloudflare's API failed; try again in a moment"
	}
	return ""
}

// HintFor is Hint for a call about a job whose destination is dest (nil
// for HTTP): when Cloudflare could not write to a bucket, the hint is about
// its access to the bucket, not about an HTTP receiver.
func (e *APIError) HintFor(scope Scope, dest *ObjectDestination) string {
	if dest != nil && (e.DestinationInvalid() || e.Contains("error writing ownership challenge")) {
		return bucketHint(dest)
	}
	return e.Hint(scope)
}

// bucketHint says what Cloudflare needs to write to a bucket
// (PROTOCOL.md §3.1).
func bucketHint(d *ObjectDestination) string {
	const base = "Cloudflare writes to the bucket itself (the ownership challenge, then test.txt.gz) when the job is created: "
	where := d.Scheme + "://" + d.Bucket
	switch d.Scheme {
	case "s3":
		if d.Query.Get("access-key-id") != "" {
			return base + "check that " + where + " exists at the endpoint= given and that the keys in the destination may write to it"
		}
		return base + "check that " + where + " exists in the region= given and that its bucket policy lets Cloudflare's IAM user " +
			"arn:aws:iam::391854517948:user/cloudflare-logpush s3:PutObject on arn:aws:s3:::" + d.Bucket + "/*"
	case "r2":
		return base + "check that " + where + " exists in the account-id= given and that the R2 API token's keys may write to it"
	case "gs":
		return base + "check that " + where + " exists and that the service account logpush@cloudflare-data.iam.gserviceaccount.com has Storage Object Admin on it"
	case "azure":
		return base + "check that the container exists and that the SAS in the destination allows Write (sp=w, ss=b, srt=o) and has not expired"
	}
	return base + "check that " + where + " exists and that Cloudflare may write to it"
}

func destinationHint(e *APIError) string {
	const base = "Cloudflare makes a test upload to the destination when the job is created or its destination changes, so the receiver must already be running and reachable: "
	switch {
	case e.Contains(" 401") || e.Contains("unauthorized"):
		return base + "the receiver refused the upload's secret: give the job the same secret 'flarehose serve' uses (FLAREHOSE_SECRET) and the same header name (--secret-header, default X-Flarehose-Secret)"
	case e.Contains(" 404"):
		return base + "the receiver answered 404: the URL path must be <path_prefix><dataset> (default /logpush/<dataset>)"
	case e.Contains("connection refused"):
		return base + "nothing listens at that address (connection refused): start 'flarehose serve' there first, with the listen address and port of the URL"
	case e.Contains("no such host"):
		return base + "the host name does not resolve: check the URL's DNS name"
	case e.Contains("timeout") || e.Contains("deadline exceeded"):
		return base + "the upload timed out: check that the port is open to Cloudflare's egress IPs (firewall, security group) and that the receiver answers quickly"
	case e.Contains("certificate") || e.Contains("x509") || e.Contains("tls"):
		return base + "Cloudflare needs an https:// URL with a certificate it trusts (a public CA, not self-signed)"
	}
	return base + "start 'flarehose serve' first, check that the https:// URL is reachable from the internet (DNS, firewall, port open to Cloudflare's egress IPs) with a certificate Cloudflare trusts, and that it answers POST with 200"
}
