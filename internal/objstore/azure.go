package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Azure Blob Storage authenticates here with a connection string, a SAS or
// an account key, from Config or from the AZURE_STORAGE_* environment.
// Microsoft Entra ID (azidentity: managed identity, workload identity, az
// login) is not supported yet: it would pull in azidentity and its MSAL
// dependencies for a case Logpush itself does not use (Cloudflare writes
// with a SAS).

// Retry policy. The SDK's default (3 retries, 0.8 s growing to 60 s
// between tries, 30 s dial timeout) can keep one call busy for minutes on
// an unreachable account. A collector retries on its own schedule (the
// next poll) and must report a dead endpoint promptly, so: 3 tries with
// about 0.2 s then 0.6 s between them (a refused connection fails in
// about a second), delays capped at 3 s unless the service sends
// Retry-After, a 5 s dial timeout (a black-holed address fails in ~16 s)
// and 30 s for the response headers once the request is sent. There is
// no whole-request timeout: a large download streams for as long as the
// caller's context allows, and that context bounds everything else too.
var azureRetry = policy.RetryOptions{
	MaxRetries:    2,
	RetryDelay:    200 * time.Millisecond,
	MaxRetryDelay: 3 * time.Second,
}

const (
	azureDialTimeout           = 5 * time.Second
	azureResponseHeaderTimeout = 30 * time.Second
	azureMaxKeyLen             = 1024 // Azure's limit on blob names
)

// azureHTTPClient is shared by every Azure bucket so they share connections.
var azureHTTPClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: azureDialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = azureResponseHeaderTimeout
	t.MaxIdleConnsPerHost = 16
	// Get must return the bytes as stored: with transparent decompression
	// a blob stored with Content-Encoding: gzip would come back gunzipped.
	t.DisableCompression = true
	return &http.Client{Transport: t}
})

type azureBucket struct {
	cc        *container.Client
	name      string // azure://account/container
	container string
	auth      string // "SAS", "account key" or "connection string", for errors
	sas       url.Values
	secrets   []string // scrubbed from every error text
}

func newAzure(_ context.Context, cfg Config) (Bucket, error) {
	if err := validAzureContainer(cfg.Bucket); err != nil {
		return nil, err
	}
	b := &azureBucket{container: cfg.Bucket}
	opts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry:     azureRetry,
		Transport: azureHTTPClient(),
		Telemetry: policy.TelemetryOptions{ApplicationID: "flarehose"},
	}}

	var endpoint *url.URL
	if cfg.Endpoint != "" {
		u, err := EndpointURL(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("azure: %w", err)
		}
		endpoint = u
	}
	account := cfg.AccountName
	if account == "" && endpoint != nil {
		account = azureAccountFromURL(endpoint)
	}
	if account == "" {
		account = os.Getenv("AZURE_STORAGE_ACCOUNT")
	}
	serviceURL := func() (string, error) {
		if endpoint != nil {
			return endpoint.String(), nil
		}
		if account == "" {
			return "", errors.New("azure: no account: set the account name or an endpoint (https://<account>.blob.core.windows.net)")
		}
		if !azureAccountRE.MatchString(account) {
			return "", fmt.Errorf("azure: account name %q: want 3-24 lowercase letters and digits", account)
		}
		return "https://" + account + ".blob.core.windows.net", nil
	}

	// Credentials: the first one set wins, Config before the environment.
	connStr, sasToken, key := cfg.ConnectionString, cfg.SASToken, cfg.AccountKey
	source := "config"
	if connStr == "" && sasToken == "" && key == "" {
		source = "environment"
		connStr = os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
		sasToken = os.Getenv("AZURE_STORAGE_SAS_TOKEN")
		key = os.Getenv("AZURE_STORAGE_KEY")
	}
	var err error
	switch {
	case connStr != "":
		b.auth = "connection string"
		b.secrets = append(b.secrets, connStr)
		for _, part := range strings.Split(connStr, ";") {
			if k, v, ok := strings.Cut(part, "="); ok && (strings.EqualFold(k, "AccountKey") || strings.EqualFold(k, "SharedAccessSignature")) {
				b.secrets = append(b.secrets, v)
				if q, err := url.ParseQuery(strings.TrimPrefix(v, "?")); err == nil && q.Get("sig") != "" {
					b.sas = q
					b.secrets = append(b.secrets, q.Get("sig"))
				}
			}
		}
		b.cc, err = container.NewClientFromConnectionString(connStr, cfg.Bucket, opts)
		if err != nil {
			// The SDK's messages do not echo the string; scrub anyway.
			return nil, fmt.Errorf("azure: the connection string (from %s) is not usable: %s", source, b.scrub(err.Error()))
		}
		u, perr := url.Parse(b.cc.URL())
		if perr != nil {
			return nil, errors.New("azure: the connection string's endpoint is not a valid URL")
		}
		u.RawQuery = ""
		connService := strings.TrimSuffix(strings.TrimRight(u.String(), "/"), "/"+cfg.Bucket)
		if endpoint != nil && strings.TrimRight(endpoint.String(), "/") != connService {
			return nil, fmt.Errorf("azure: the connection string's endpoint %s differs from the configured endpoint %s", connService, endpoint)
		}
		if cfg.AccountName == "" {
			account = azureAccountFromURL(u)
		}
		if account == "" {
			account = u.Host
		}
	case sasToken != "":
		b.auth = "SAS"
		tok := strings.TrimPrefix(strings.TrimSpace(sasToken), "?")
		q, perr := url.ParseQuery(tok)
		if perr != nil {
			return nil, fmt.Errorf("azure: the SAS token (from %s) is not a valid query string", source)
		}
		if q.Get("sig") == "" {
			return nil, fmt.Errorf("azure: the SAS token (from %s) has no signature (sig=)", source)
		}
		if ss := q.Get("ss"); ss != "" && !strings.Contains(ss, "b") {
			return nil, fmt.Errorf("azure: the SAS token is for services ss=%s, not blob (b)", ss)
		}
		b.sas = q
		b.secrets = append(b.secrets, tok, q.Get("sig"), url.QueryEscape(q.Get("sig")))
		svc, err := serviceURL()
		if err != nil {
			return nil, err
		}
		b.cc, err = container.NewClientWithNoCredential(svc+"/"+url.PathEscape(cfg.Bucket)+"?"+tok, opts)
		if err != nil {
			return nil, fmt.Errorf("azure: %s: %s", svc, b.scrub(err.Error()))
		}
	case key != "":
		b.auth = "account key"
		b.secrets = append(b.secrets, key)
		if account == "" {
			return nil, errors.New("azure: an account key needs the account name (AccountName, AZURE_STORAGE_ACCOUNT or an endpoint naming the account)")
		}
		cred, cerr := container.NewSharedKeyCredential(account, key)
		if cerr != nil {
			// The SDK's error quotes nothing of the key, but say it plainly.
			return nil, fmt.Errorf("azure: the account key (from %s) is not valid base64", source)
		}
		svc, err := serviceURL()
		if err != nil {
			return nil, err
		}
		b.cc, err = container.NewClientWithSharedKeyCredential(svc+"/"+url.PathEscape(cfg.Bucket), cred, opts)
		if err != nil {
			return nil, fmt.Errorf("azure: %s: %s", svc, b.scrub(err.Error()))
		}
	default:
		return nil, errors.New("azure: no credentials: set a connection string, a SAS token or an account name and key " +
			"(in the config, or AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY); " +
			"Microsoft Entra ID sign-in is not supported yet")
	}
	if account == "" {
		if endpoint != nil {
			account = endpoint.Host
		} else {
			account = "?"
		}
	}
	b.name = "azure://" + account + "/" + cfg.Bucket
	return b, nil
}

var (
	azureAccountRE   = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	azureContainerRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	azureSigRE       = regexp.MustCompile(`(?i)(sig=)[^&\s"']+`)
)

func validAzureContainer(name string) error {
	switch {
	case name == "$root" || name == "$web" || name == "$logs":
		return nil
	case !azureContainerRE.MatchString(name) || strings.Contains(name, "--"):
		return fmt.Errorf("azure: container %q: want 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit", name)
	}
	return nil
}

// azureAccountFromURL reads the account from <account>.blob.<suffix>, or
// from the first path segment of an emulator's path-style URL
// (http://127.0.0.1:10000/devstoreaccount1).
func azureAccountFromURL(u *url.URL) string {
	host := u.Hostname()
	if acct, rest, ok := strings.Cut(host, "."); ok && net.ParseIP(host) == nil &&
		(strings.HasPrefix(rest, "blob.") || strings.HasPrefix(rest, "privatelink.blob.")) {
		return acct
	}
	if seg, _, _ := strings.Cut(strings.Trim(u.Path, "/"), "/"); seg != "" {
		return seg
	}
	return ""
}

func (b *azureBucket) String() string { return b.name }

// checkKey refuses keys Azure would store under another name or reject
// with an unclear error: "." and ".." segments and doubled slashes are
// normalized away by the service, control characters are refused by it.
func (b *azureBucket) checkKey(key string) error {
	switch {
	case key == "" || strings.HasPrefix(key, "/"):
		return fmt.Errorf("%s: invalid key %q", b, key)
	case len(key) > azureMaxKeyLen:
		return fmt.Errorf("%s: key of %d bytes is longer than Azure's %d", b, len(key), azureMaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%s: key %q is not valid UTF-8", b, key)
	case strings.HasSuffix(key, "/") || strings.HasSuffix(key, ".") || strings.HasSuffix(key, `\`):
		return fmt.Errorf("%s: invalid key %q (Azure blob names must not end in '/', '.' or '\\')", b, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s: key %q holds a control character", b, key)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%s: invalid key %q (holds . or .. segments or repeated slashes)", b, key)
		}
	}
	return nil
}

func (b *azureBucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := b.checkKey(key); err != nil {
		return nil, err
	}
	resp, err := b.cc.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		return nil, b.fail(ctx, "read", key, err)
	}
	// The retry reader resumes a broken download where it stopped, pinned
	// to the blob's ETag so a replaced blob is not spliced in.
	rr := resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: 2, EarlyCloseAsError: true})
	return &azureReader{rc: rr, b: b, ctx: ctx, key: key}, nil
}

// azureReader keeps read errors (which may quote a request URL) as
// scrubbed as the others.
type azureReader struct {
	rc  io.ReadCloser
	b   *azureBucket
	ctx context.Context
	key string
}

func (r *azureReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && err != io.EOF {
		err = r.b.fail(r.ctx, "read", r.key, err)
	}
	return n, err
}

func (r *azureReader) Close() error { return r.rc.Close() }

func (b *azureBucket) Put(ctx context.Context, key string, body []byte, opts PutOptions) error {
	if err := b.checkKey(key); err != nil {
		return err
	}
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := &blob.HTTPHeaders{BlobContentType: &ct}
	if opts.ContentEncoding != "" {
		h.BlobContentEncoding = &opts.ContentEncoding
	}
	// Below 256 MiB UploadBuffer is one Put Blob request, which is all a
	// write-only SAS (sp=w, as Cloudflare's) allows.
	_, err := b.cc.NewBlockBlobClient(key).UploadBuffer(ctx, body, &blockblob.UploadBufferOptions{HTTPHeaders: h})
	if err != nil {
		return b.fail(ctx, "write", key, err)
	}
	return nil
}

func (b *azureBucket) List(ctx context.Context, prefix, startAfter string, fn func(Object) error) error {
	opts := &container.ListBlobsFlatOptions{}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	pager := b.cc.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return b.fail(ctx, "list", prefix, err)
		}
		for _, it := range page.Segment.BlobItems {
			if it == nil || it.Name == nil {
				continue
			}
			// Azure has no StartAfter (its marker is an opaque token), but
			// it lists in lexical order, so skipping up to startAfter gives
			// the same result at the cost of listing those keys.
			if *it.Name <= startAfter {
				continue
			}
			if err := ctx.Err(); err != nil {
				return b.fail(ctx, "list", prefix, err)
			}
			o := Object{Key: *it.Name}
			if p := it.Properties; p != nil {
				if p.ContentLength != nil {
					o.Size = *p.ContentLength
				}
				if p.ETag != nil {
					o.ETag = strings.Trim(string(*p.ETag), `"`)
				}
				if p.LastModified != nil {
					o.LastModified = *p.LastModified
				}
			}
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *azureBucket) Delete(ctx context.Context, key string) error {
	if err := b.checkKey(key); err != nil {
		return err
	}
	_, err := b.cc.NewBlobClient(key).Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	if err == nil || bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil
	}
	return b.fail(ctx, "delete", key, err)
}

// azureError carries a message built without secrets. It unwraps only to a
// sentinel (fs.ErrNotExist, fs.ErrPermission, a context error): the SDK's
// own error would print request URLs, which may carry a SAS.
type azureError struct {
	msg string
	is  error
}

func (e *azureError) Error() string { return e.msg }
func (e *azureError) Unwrap() error { return e.is }

// azureSASNeeds says, per operation, which SAS permission (sp) and resource
// type (srt) it takes.
var azureSASNeeds = map[string]struct{ verb, perm, srt string }{
	"read":   {"reading", "r", "o"},
	"write":  {"writing", "w or c", "o"},
	"list":   {"listing", "l", "c"},
	"delete": {"deleting", "d", "o"},
}

// fail turns an SDK error into one that names the bucket and key, says
// what to do, and holds no credential.
func (b *azureBucket) fail(ctx context.Context, op, key string, err error) error {
	where := b.name
	if key != "" {
		where += "/" + key
	}
	if op == "list" {
		where = fmt.Sprintf("%s (prefix %q)", b.name, key)
	}
	mk := func(is error, format string, args ...any) error {
		return &azureError{msg: b.scrub(fmt.Sprintf("%s: %s: ", where, op) + fmt.Sprintf(format, args...)), is: is}
	}
	for _, ce := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ce) || errors.Is(ctx.Err(), ce) {
			return mk(ce, "%v", ce)
		}
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		// Transport errors: url.Error quotes the URL (and with it a SAS);
		// what it wraps (dial, TLS, timeout) does not.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return mk(nil, "cannot reach the service: %v", err)
	}
	code := bloberror.Code(re.ErrorCode)
	switch code {
	case bloberror.BlobNotFound:
		return &azureError{msg: b.scrub(errNotExist(b, key).Error()), is: fs.ErrNotExist}
	case bloberror.ConditionNotMet:
		// Only the retry reader sends a condition (If-Match on the ETag).
		return mk(nil, "the blob was replaced while it was being read; read it again")
	case bloberror.ContainerNotFound:
		return mk(nil, "container %q does not exist in this account (create it, or check the container name)", b.container)
	case bloberror.AuthorizationPermissionMismatch, bloberror.AuthorizationResourceTypeMismatch:
		if b.sas != nil {
			need := azureSASNeeds[op]
			return mk(fs.ErrPermission, "the SAS does not allow %s (sp=%s srt=%s; %s needs sp with %s and srt with %s) [%s]",
				need.verb, b.sas.Get("sp"), b.sas.Get("srt"), need.verb, need.perm, need.srt, code)
		}
		return mk(fs.ErrPermission, "not permitted (%s, HTTP %d)", code, re.StatusCode)
	case bloberror.AuthenticationFailed, bloberror.AuthorizationFailure:
		// Azure answers a bad signature with AuthenticationFailed, Azurite
		// with AuthorizationFailure, which Azure also uses when the
		// account's network rules refuse the client.
		what := "authentication failed"
		also := ""
		if code == bloberror.AuthorizationFailure {
			what, also = "not authorized", ", or the account's network rules refuse this client"
		}
		if b.sas != nil {
			now := time.Now()
			if se, perr := time.Parse(time.RFC3339, b.sas.Get("se")); perr == nil && now.After(se) {
				return mk(fs.ErrPermission, "the SAS expired at %s (se)", se.UTC().Format(time.RFC3339))
			}
			if st, perr := time.Parse(time.RFC3339, b.sas.Get("st")); perr == nil && now.Before(st) {
				return mk(fs.ErrPermission, "the SAS is not valid before %s (st)", st.UTC().Format(time.RFC3339))
			}
			return mk(fs.ErrPermission, "%s: the SAS signature does not match this account%s (%s)", what, also, code)
		}
		cred := "account key"
		if b.auth == "connection string" {
			cred = "account key in the connection string"
		}
		return mk(fs.ErrPermission, "%s: wrong %s for this account%s (%s)", what, cred, also, code)
	}
	switch {
	case re.StatusCode == http.StatusForbidden:
		return mk(fs.ErrPermission, "not permitted with this %s (%s, HTTP 403)", b.auth, azureOrStatus(code, re))
	case re.StatusCode == http.StatusNotFound && code == "":
		// Azure always names a missing blob or container; a bare 404 comes
		// from something else answering at the endpoint.
		return mk(nil, "HTTP 404 without an Azure error code: is the endpoint right (https://<account>.blob.core.windows.net)?")
	}
	return mk(nil, "%s (HTTP %d)", azureOrStatus(code, re), re.StatusCode)
}

func azureOrStatus(code bloberror.Code, re *azcore.ResponseError) string {
	if code != "" {
		return string(code)
	}
	return http.StatusText(re.StatusCode)
}

// scrub removes credentials from text that might quote them.
func (b *azureBucket) scrub(s string) string {
	for _, sec := range b.secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "REDACTED")
		}
	}
	return azureSigRE.ReplaceAllString(s, "${1}REDACTED")
}
