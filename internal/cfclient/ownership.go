package cfclient

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/aws/smithy-go"
	"google.golang.org/api/googleapi"

	"github.com/flarehose/flarehose/internal/objstore"
)

// ChallengeReader reads the ownership challenge file Cloudflare wrote into
// an object storage destination (PROTOCOL.md §3.3), with the owner's own
// credentials. A missing file is reported with an error wrapping
// fs.ErrNotExist: the caller waits and tries again. Errors need not name
// the file: OwnershipChallenge does.
type ChallengeReader interface {
	// ReadChallenge returns the content of filename (as Cloudflare named
	// it, relative to the bucket or container) in dest.
	ReadChallenge(ctx context.Context, dest *ObjectDestination, filename string) ([]byte, error)
}

// LocalDirReader reads challenges from a local directory laid out as
// <Dir>/<scheme>/<bucket>/<filename>: the layout the simulator's
// cfapi.LocalDir writes (`flarehose sim --ownership-dir DIR`), and that of
// a bucket synced or mounted locally.
type LocalDirReader struct{ Dir string }

// ReadChallenge implements ChallengeReader.
func (l LocalDirReader) ReadChallenge(_ context.Context, dest *ObjectDestination, filename string) ([]byte, error) {
	clean := path.Clean("/" + filename)[1:]
	return os.ReadFile(filepath.Join(l.Dir, dest.Scheme, dest.Bucket, filepath.FromSlash(clean)))
}

// ErrNoReader says no built-in ChallengeReader reads a scheme's buckets.
var ErrNoReader = errors.New("no challenge reader")

// NewChallengeReader returns the reader a --challenge-from value names:
// file:///DIR (or a plain directory path) is a LocalDirReader. Buckets
// themselves are read by a BucketReader, which needs credentials rather
// than a location; other schemes give ErrNoReader.
func NewChallengeReader(spec string) (ChallengeReader, error) {
	if dir, ok := strings.CutPrefix(spec, "file://"); ok {
		if u, err := url.Parse(spec); err == nil && u.Path != "" {
			dir = u.Path
			if u.Host != "" && u.Host != "localhost" {
				dir = u.Host + u.Path // file://relative/dir
			}
		}
		return LocalDirReader{Dir: dir}, nil
	}
	if scheme, _, ok := strings.Cut(spec, "://"); ok {
		return nil, fmt.Errorf("%w for %s:// (built in: file:///DIR; buckets are read directly when no --challenge-from is given)", ErrNoReader, scheme)
	}
	return LocalDirReader{Dir: spec}, nil
}

var challengeRe = regexp.MustCompile(`^[a-zA-Z0-9/\+\.\-_]+$`)

// CheckChallenge checks a token's form (OA24: at most 4096 characters of
// [a-zA-Z0-9/+.-_]) after trimming surrounding white space.
func CheckChallenge(token string) (string, error) {
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return "", errors.New("the ownership challenge is empty")
	case len(token) > 4096:
		return "", errors.New("the ownership challenge is longer than 4096 characters: is it the right file?")
	case !challengeRe.MatchString(token):
		return "", errors.New("the ownership challenge holds characters a Cloudflare token cannot have: is it the right file?")
	}
	return token, nil
}

// ChallengeError is an ownership challenge Cloudflare wrote that could not
// be read back: still missing after the wait, or unreadable.
type ChallengeError struct {
	Object   string        // scheme://bucket/filename
	Filename string        // as Cloudflare named it
	Missing  bool          // still absent when the wait ran out
	Wait     time.Duration // how long it was waited for
	msg      string        // the reader's error, scrubbed
	err      error
}

func (e *ChallengeError) Error() string {
	if e.Missing {
		return fmt.Sprintf("the ownership challenge Cloudflare wrote to %s did not appear within %s: %s", e.Object, e.Wait, e.msg)
	}
	return fmt.Sprintf("Cloudflare wrote the ownership challenge to %s, but reading it failed: %s", e.Object, e.msg)
}

func (e *ChallengeError) Unwrap() error { return e.err }

// readAttemptTimeout bounds one read of the challenge, so an endpoint that
// accepts connections and never answers cannot hang the command.
const readAttemptTimeout = 20 * time.Second

// OwnershipChallenge runs the ownership challenge for dest: it asks
// Cloudflare to write the challenge file (POST .../logpush/ownership), then
// reads it back with reader, trying again every second until wait has
// passed (Cloudflare's write may show up late). It returns the token
// (registered with the client's Redactor) and the file name. A read that
// fails is a *ChallengeError.
func (c *Client) OwnershipChallenge(ctx context.Context, s Scope, dest *ObjectDestination, reader ChallengeReader, wait time.Duration) (token, filename string, err error) {
	o, err := c.RequestOwnership(ctx, s, dest.Conf)
	if err != nil {
		return "", "", err
	}
	if o.Filename == "" {
		return "", "", fmt.Errorf("Cloudflare wrote no ownership challenge for %s: %s", MaskDestination(dest.Conf), c.scrub(o.Message))
	}
	object := dest.Scheme + "://" + dest.Bucket + "/" + o.Filename
	if err := checkFilename(o.Filename); err != nil {
		return "", o.Filename, fmt.Errorf("Cloudflare named the ownership challenge %q: %v", c.scrub(object), err)
	}
	deadline := time.Now().Add(wait)
	for {
		rctx, cancel := context.WithTimeout(ctx, readAttemptTimeout)
		content, err := reader.ReadChallenge(rctx, dest, o.Filename)
		cancel()
		if err == nil {
			token, err := CheckChallenge(string(content))
			if err != nil {
				return "", o.Filename, fmt.Errorf("%s: %w", object, err)
			}
			if c.Redact != nil {
				c.Redact.Add(token)
			}
			return token, o.Filename, nil
		}
		if ctx.Err() != nil {
			return "", o.Filename, ctx.Err()
		}
		missing := errors.Is(err, fs.ErrNotExist)
		if !missing || time.Now().After(deadline) {
			return "", o.Filename, &ChallengeError{Object: object, Filename: o.Filename, Missing: missing, Wait: wait, msg: c.scrub(err.Error()), err: err}
		}
		if err := c.sleep(ctx, time.Second); err != nil {
			return "", o.Filename, err
		}
	}
}

// checkFilename refuses a challenge file name no store can hold: the name
// comes from the API and goes into a request path or a local file name.
func checkFilename(name string) error {
	switch {
	case name == "" || strings.HasPrefix(name, "/"):
		return errors.New("not a key relative to the bucket")
	case len(name) > 1024:
		return errors.New("longer than 1024 bytes")
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return errors.New("holds control characters")
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return errors.New("holds a '..' segment")
		}
	}
	return nil
}

// StorageCredentials are the bucket owner's credentials for reading the
// challenge back: Cloudflare writes with its own identity (its IAM user,
// its service account, the destination's SAS), the owner reads with
// theirs. Empty fields fall back to each provider's environment.
type StorageCredentials struct {
	// Endpoint replaces the provider's public endpoint: an S3-compatible
	// store, GovCloud, an emulator (MinIO, fake-gcs-server, Azurite).
	Endpoint string

	// S3. Empty: the AWS default chain (AWS_* environment, AWS_PROFILE,
	// shared config, SSO, instance role).
	AccessKeyID, SecretAccessKey, SessionToken string

	// GCS: a service account key file. Empty: Application Default
	// Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata server);
	// STORAGE_EMULATOR_HOST works through the library.
	GCSCredentialsFile string

	// Azure, each tried before its AZURE_STORAGE_* variable. The account is
	// needed with a SAS or key when the destination does not name it.
	AzureConnectionString, AzureSAS, AzureAccount, AzureKey string
}

// Environment variables the Azure CLI and SDKs read; BucketReader reads
// them too, since the objstore Config takes explicit Azure credentials.
const (
	EnvAzureConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	EnvAzureSAS              = "AZURE_STORAGE_SAS_TOKEN"
	EnvAzureAccount          = "AZURE_STORAGE_ACCOUNT"
	EnvAzureKey              = "AZURE_STORAGE_KEY"
)

// BucketReader is the ChallengeReader that reads the destination's own
// bucket (S3, GCS, Azure Blob) through internal/objstore, with Creds. For
// Azure it tries each credential it has, the destination's SAS last (it
// usually allows only Write).
type BucketReader struct {
	Creds StorageCredentials
	// Getenv reads the environment (nil: os.Getenv).
	Getenv func(string) string
	// Open opens a bucket (nil: objstore.Open).
	Open func(context.Context, objstore.Config) (objstore.Bucket, error)

	mu    sync.Mutex
	plans map[string]*readPlan // by destination_conf
}

// readPlan is how one destination is read: the credentials to try, in
// order, with their buckets opened once.
type readPlan struct {
	attempts []*readAttempt
	good     *readAttempt                   // the one that answered last (tried first)
	keys     func(filename string) []string // where Cloudflare's file name may be
	hint     string                         // what to do when the credentials fail
	err      error                          // the destination cannot be read at all
}

type readAttempt struct {
	cfg     objstore.Config
	with    string // "the AWS default credentials (profile x)"
	skip    string // why it is not tried ("": tried)
	destSAS bool   // Cloudflare's own write SAS
	bucket  objstore.Bucket
}

// BucketReadError is a challenge the owner's credentials could not read:
// what was tried (Error) and what to do next (Hint, "" when none fits).
type BucketReadError struct {
	msg  string
	Hint string
	Err  error // the last store error
}

func (e *BucketReadError) Error() string { return e.msg }
func (e *BucketReadError) Unwrap() error { return e.Err }

// challengeReadLimit is far above a token's 4096 characters: a bigger
// object is the wrong file.
const challengeReadLimit = 64 << 10

func (b *BucketReader) getenv(k string) string {
	if b.Getenv != nil {
		return b.Getenv(k)
	}
	return os.Getenv(k)
}

// Describe says how dest's challenge would be read ("with ..."), for a dry
// run and for messages.
func (b *BucketReader) Describe(dest *ObjectDestination) string {
	p := b.plan(dest)
	if p.err != nil {
		return "(unreadable: " + p.err.Error() + ")"
	}
	var with []string
	for _, a := range p.attempts {
		if a.skip == "" {
			with = append(with, a.with)
		}
	}
	if len(with) == 0 {
		return "(no credential can read it)"
	}
	return "with " + strings.Join(with, ", then ")
}

// ReadChallenge implements ChallengeReader.
func (b *BucketReader) ReadChallenge(ctx context.Context, dest *ObjectDestination, filename string) ([]byte, error) {
	p := b.plan(dest)
	if p.err != nil {
		return nil, p.err
	}
	keys := p.keys(filename)
	b.mu.Lock()
	order := make([]*readAttempt, 0, len(p.attempts))
	if p.good != nil {
		order = append(order, p.good)
	}
	for _, a := range p.attempts {
		if a != p.good {
			order = append(order, a)
		}
	}
	b.mu.Unlock()

	var tried []string
	var last error
	worst := failOther
	for _, a := range order {
		if a.skip != "" {
			tried = append(tried, a.skip)
			continue
		}
		var data []byte
		var err error
		for _, k := range keys {
			if data, err = b.read(ctx, a, k); !objstore.IsNotExist(err) {
				break
			}
		}
		if err == nil || objstore.IsNotExist(err) {
			b.mu.Lock()
			p.good = a
			b.mu.Unlock()
			if err != nil {
				return nil, fmt.Errorf("not found (read with %s): %w", a.with, fs.ErrNotExist)
			}
			return data, nil
		}
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, ctx.Err()
		}
		kind, why := classify(err)
		// The caller names the object already: drop a provider's
		// "s3://bucket[/key]: " lead.
		why = storeNameRe.ReplaceAllString(why, "")
		tried = append(tried, describeFailure(kind, a, why))
		last, worst = err, kind
		if !kind.credential() {
			break // the store or the network failed: other credentials would too
		}
	}
	if last == nil { // every attempt was skipped
		last = errors.New("no usable credential")
		worst = failNoCreds
	}
	hint := p.hint
	switch worst {
	case failUnreachable:
		hint = "check the endpoint (--storage-endpoint, AWS_ENDPOINT_URL_S3, STORAGE_EMULATOR_HOST) and that this machine reaches it"
	case failNoBucket:
		hint = "check that you read the store Cloudflare writes to (the destination's region, --storage-endpoint)"
	case failRegion:
		hint = "the bucket is in another region than the destination's region= says; fix the destination"
	}
	return nil, &BucketReadError{msg: strings.Join(tried, "; then "), Hint: hint, Err: last}
}

func (b *BucketReader) read(ctx context.Context, a *readAttempt, key string) ([]byte, error) {
	b.mu.Lock()
	bucket := a.bucket
	b.mu.Unlock()
	if bucket == nil {
		open := b.Open
		if open == nil {
			open = objstore.Open
		}
		var err error
		if bucket, err = open(ctx, a.cfg); err != nil {
			return nil, err
		}
		b.mu.Lock()
		a.bucket = bucket
		b.mu.Unlock()
	}
	return objstore.ReadAll(ctx, bucket, key, challengeReadLimit)
}

func (b *BucketReader) plan(dest *ObjectDestination) *readPlan {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.plans[dest.Conf]; ok {
		return p
	}
	p := b.newPlan(dest)
	if b.plans == nil {
		b.plans = map[string]*readPlan{}
	}
	b.plans[dest.Conf] = p
	return p
}

func (b *BucketReader) newPlan(dest *ObjectDestination) *readPlan {
	p := &readPlan{keys: func(f string) []string { return []string{f} }}
	if dest.Scheme == "sumo" {
		p.err = errors.New("sumo:// is a Sumo Logic collector, not a bucket: flarehose cannot read what Cloudflare sends there")
		return p
	}
	base, err := objstore.FromDestination(dest.Conf)
	if err != nil {
		p.err = err
		return p
	}
	if b.Creds.Endpoint != "" {
		base.Endpoint = b.Creds.Endpoint
	}
	add := func(cfg objstore.Config, with string) *readAttempt {
		a := &readAttempt{cfg: cfg, with: with}
		p.attempts = append(p.attempts, a)
		return a
	}
	switch base.Provider {
	case objstore.ProviderS3:
		b.planS3(p, base, add)
	case objstore.ProviderGCS:
		b.planGCS(p, base, add)
	case objstore.ProviderAzure:
		b.planAzure(p, base, add)
	}
	return p
}

func (b *BucketReader) planS3(p *readPlan, cfg objstore.Config, add func(objstore.Config, string) *readAttempt) {
	p.hint = "give credentials that can read s3://" + cfg.Bucket + ": AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --s3-access-key-id with $AWS_SECRET_ACCESS_KEY"
	switch {
	case cfg.AccessKeyID != "":
		add(cfg, "the keys in the destination")
	case b.Creds.AccessKeyID != "":
		cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = b.Creds.AccessKeyID, b.Creds.SecretAccessKey, b.Creds.SessionToken
		add(cfg, "the access key "+b.Creds.AccessKeyID+" (--s3-access-key-id)")
	default:
		// An endpoint from the environment is an S3-compatible store or an
		// emulator as surely as --storage-endpoint is: address it the same
		// way (path style) rather than as AWS's virtual hosts.
		if b.Creds.Endpoint == "" && cfg.Endpoint == "" && (b.getenv("AWS_ENDPOINT_URL_S3") != "" || b.getenv("AWS_ENDPOINT_URL") != "") {
			cfg.PathStyle = true
		}
		var from string
		switch {
		case b.getenv("AWS_ACCESS_KEY_ID") != "":
			from = "AWS_ACCESS_KEY_ID " + b.getenv("AWS_ACCESS_KEY_ID")
		case b.getenv("AWS_PROFILE") != "":
			from = "profile " + b.getenv("AWS_PROFILE")
		default:
			from = "shared config and credentials files, SSO, instance role"
		}
		add(cfg, "the AWS default credentials ("+from+")")
	}
}

func (b *BucketReader) planGCS(p *readPlan, cfg objstore.Config, add func(objstore.Config, string) *readAttempt) {
	p.hint = "give credentials that can read gs://" + cfg.Bucket + ": GOOGLE_APPLICATION_CREDENTIALS, 'gcloud auth application-default login', or --gcs-credentials FILE (a service account key)"
	var with string
	switch {
	case b.Creds.GCSCredentialsFile != "":
		cfg.CredentialsFile = b.Creds.GCSCredentialsFile
		with = "the service account key " + b.Creds.GCSCredentialsFile
	case b.Creds.Endpoint != "":
		with = "no credentials (the endpoint " + b.Creds.Endpoint + ")"
	case b.getenv("STORAGE_EMULATOR_HOST") != "":
		with = "no credentials (the emulator at STORAGE_EMULATOR_HOST=" + b.getenv("STORAGE_EMULATOR_HOST") + ")"
	case b.getenv("GOOGLE_APPLICATION_CREDENTIALS") != "":
		with = "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS=" + b.getenv("GOOGLE_APPLICATION_CREDENTIALS") + ")"
	default:
		with = "Application Default Credentials (gcloud's application-default login, or the metadata server)"
	}
	add(cfg, with)
}

func (b *BucketReader) planAzure(p *readPlan, base objstore.Config, add func(objstore.Config, string) *readAttempt) {
	p.hint = "give credentials that can read the container " + base.Bucket + ": " + EnvAzureConnectionString + ", " + EnvAzureSAS +
		" (a SAS with Read) or " + EnvAzureKey + " (with " + EnvAzureAccount + " when the destination does not name the account); or --azure-connection-string, --azure-sas, --azure-key"
	destSAS := base.SASToken
	if base.AccountName != "" { // the destination names the account host
		p.keys = azureKeys(base)
	}
	// The account: the destination's host names it; else the flag, the
	// environment, or the endpoint (Azurite: http://host:port/<account>).
	account := base.AccountName
	for _, a := range []string{b.Creds.AzureAccount, b.getenv(EnvAzureAccount), accountFromEndpoint(base.Endpoint)} {
		if account == "" {
			account = a
		}
	}
	endpoint := base.Endpoint
	if endpoint == "" && account != "" {
		endpoint = "https://" + account + ".blob.core.windows.net"
	}
	cfg := objstore.Config{Provider: objstore.ProviderAzure, Bucket: base.Bucket, Prefix: base.Prefix, Endpoint: endpoint, AccountName: account}
	source := func(flagVal, flag, env string) (string, string) {
		if flagVal != "" {
			return flagVal, flag
		}
		return b.getenv(env), env
	}
	noAccount := "was not tried: no storage account (the destination does not name it; set " + EnvAzureAccount + " or --azure-account)"

	if cs, from := source(b.Creds.AzureConnectionString, "--azure-connection-string", EnvAzureConnectionString); cs != "" {
		c := objstore.Config{Provider: objstore.ProviderAzure, Bucket: base.Bucket, Prefix: base.Prefix, ConnectionString: cs}
		add(c, from)
	}
	if sas, from := source(b.Creds.AzureSAS, "--azure-sas", EnvAzureSAS); sas != "" {
		c := cfg
		c.SASToken = strings.TrimPrefix(sas, "?")
		a := add(c, from)
		if endpoint == "" {
			a.skip = from + " " + noAccount
		}
	}
	if key, from := source(b.Creds.AzureKey, "--azure-key", EnvAzureKey); key != "" {
		c := cfg
		c.AccountKey = key
		a := add(c, from+" (account "+account+")")
		if account == "" {
			a.skip = from + " " + noAccount
		}
	}
	if destSAS != "" {
		c := cfg
		c.SASToken = destSAS
		a := add(c, "the destination's SAS")
		a.destSAS = true
		q, _ := url.ParseQuery(destSAS)
		switch sp := q.Get("sp"); {
		case endpoint == "":
			a.skip = "the destination's SAS " + noAccount
		case sp != "" && !strings.Contains(sp, "r"):
			a.skip = "the destination's SAS was not tried: it allows sp=" + sp + ", not Read (Cloudflare needs only Write)"
		}
	}
	if len(p.attempts) == 0 {
		p.err = errors.New("no Azure credentials to read with: " + p.hint)
	}
}

// accountFromEndpoint finds the storage account in an endpoint URL:
// <account>.blob.<suffix>, or the first path segment of an emulator's
// http://host:port/<account>.
func accountFromEndpoint(endpoint string) string {
	if endpoint == "" {
		return ""
	}
	u, err := objstore.EndpointURL(endpoint)
	if err != nil {
		return ""
	}
	if first, _, _ := strings.Cut(strings.Trim(u.Path, "/"), "/"); first != "" {
		return first
	}
	if label, rest, ok := strings.Cut(u.Hostname(), "."); ok && strings.HasPrefix(rest, "blob.") {
		return label
	}
	return ""
}

// azureKeys handles a destination that names the account host
// (azure://<account>.blob.core.windows.net/<container>/<dir>): Cloudflare's
// file name may be relative to the container, or start with the container
// (relative to the URL's path). The challenge sits in the destination path
// (<dir>, {DATE} expanded): the reading that puts it there comes first,
// the name as given second.
func azureKeys(cfg objstore.Config) func(string) []string {
	dirRe := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(cfg.Prefix), regexp.QuoteMeta("{DATE}"), `\d{8}`) + "$")
	inDir := func(key string) bool {
		dir := ""
		if i := strings.LastIndex(key, "/"); i >= 0 {
			dir = key[:i]
		}
		return dirRe.MatchString(dir)
	}
	return func(filename string) []string {
		if rest, ok := strings.CutPrefix(filename, cfg.Bucket+"/"); ok && !inDir(filename) && inDir(rest) {
			return []string{rest, filename}
		}
		return []string{filename}
	}
}

// failKind sorts a store error by what the owner can do about it.
type failKind int

const (
	failOther       failKind = iota
	failDenied               // the credentials work but may not read the object
	failBadCreds             // the store rejects the credentials
	failNoCreds              // no credentials were found
	failNoBucket             // the bucket or container is not there
	failRegion               // the bucket lives in another region
	failUnreachable          // the endpoint does not answer
)

// credential reports whether other credentials might do better.
func (k failKind) credential() bool { return k == failDenied || k == failBadCreds || k == failNoCreds }

func describeFailure(k failKind, a *readAttempt, why string) string {
	switch k {
	case failDenied:
		s := "access denied with " + a.with + ": " + why
		if a.cfg.Provider == objstore.ProviderS3 {
			s += " (S3 also answers so for a missing key when the credentials lack s3:ListBucket)"
		}
		if a.destSAS {
			s += " (the destination's SAS is Cloudflare's write credential: it usually lacks Read)"
		}
		return s
	case failBadCreds:
		return "the store rejected " + a.with + ": " + why
	case failNoCreds:
		return a.with + " found no credentials: " + why
	case failNoBucket:
		return "the bucket does not exist (read with " + a.with + "): " + why
	case failRegion:
		return "wrong region (read with " + a.with + "): " + why
	case failUnreachable:
		return "could not reach the store (with " + a.with + "): " + why
	}
	return "reading with " + a.with + " failed: " + why
}

// Error codes of S3 and Azure Blob Storage by what they mean for the owner.
var storeCodes = map[string]failKind{
	// S3
	"AccessDenied": failDenied, "AllAccessDisabled": failDenied, "AccountProblem": failDenied, "Forbidden": failDenied,
	"InvalidAccessKeyId": failBadCreds, "SignatureDoesNotMatch": failBadCreds, "InvalidToken": failBadCreds,
	"ExpiredToken": failBadCreds, "TokenRefreshRequired": failBadCreds, "InvalidSecurity": failBadCreds,
	"InvalidClientTokenId": failBadCreds,
	"NoSuchBucket":         failNoBucket,
	"PermanentRedirect":    failRegion, "AuthorizationHeaderMalformed": failRegion, "IllegalLocationConstraintException": failRegion,
	// Azure
	"AuthorizationPermissionMismatch": failDenied, "AuthorizationFailure": failDenied,
	"AuthorizationSourceIPMismatch": failDenied, "AuthorizationProtocolMismatch": failDenied,
	"AuthorizationResourceTypeMismatch": failDenied, "AuthorizationServiceMismatch": failDenied,
	"AuthenticationFailed": failBadCreds, "InvalidAuthenticationInfo": failBadCreds, "NoAuthenticationInformation": failBadCreds,
	"ContainerNotFound": failNoBucket, "ResourceNotFound": failNoBucket, "AccountIsDisabled": failDenied,
}

var (
	storeNameRe   = regexp.MustCompile(`^(s3|gs|azure|file)://\S*: ((get|read) \S+: )?`)
	codeWordRe    = regexp.MustCompile(`\b[A-Z][A-Za-z]+\b`)
	azureStatusRe = regexp.MustCompile(`RESPONSE (\d{3})`)
	azureCodeRe   = regexp.MustCompile(`ERROR CODE: (\w+)`)
)

// classify sorts a store error and says it briefly: the SDKs' own error
// types when the provider kept them, their messages otherwise.
func classify(err error) (failKind, string) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		why := apiErr.ErrorCode()
		if m := apiErr.ErrorMessage(); m != "" {
			why += ": " + m
		}
		if k, ok := storeCodes[apiErr.ErrorCode()]; ok {
			return k, why
		}
		return kindOfStatus(err, why)
	}
	var azErr *azcore.ResponseError
	if errors.As(err, &azErr) {
		why := fmt.Sprintf("HTTP %d %s", azErr.StatusCode, azErr.ErrorCode)
		if k, ok := storeCodes[azErr.ErrorCode]; ok {
			return k, why
		}
		return statusKind(azErr.StatusCode), why
	}
	var gErr *googleapi.Error
	if errors.As(err, &gErr) {
		why := fmt.Sprintf("HTTP %d", gErr.Code)
		if gErr.Message != "" {
			why += ": " + gErr.Message
		}
		return statusKind(gErr.Code), why
	}
	msg := err.Error()
	why := brief(msg)
	// Azure's message, flattened by a provider: keep status and code.
	if m := azureCodeRe.FindStringSubmatch(msg); m != nil {
		why = "HTTP " + firstMatch(azureStatusRe, msg) + " " + m[1]
		if k, ok := storeCodes[m[1]]; ok {
			return k, why
		}
	}
	for _, w := range codeWordRe.FindAllString(msg, -1) {
		if k, ok := storeCodes[w]; ok {
			return k, why
		}
	}
	lower := strings.ToLower(msg)
	for _, s := range []string{"failed to retrieve credentials", "could not find default credentials", "no ec2 imds role",
		"failed to refresh cached credentials", "no valid providers in chain", "credentials: could not find"} {
		if strings.Contains(lower, s) {
			return failNoCreds, why
		}
	}
	// An OAuth token exchange refused (a deleted or disabled service
	// account key); it comes wrapped in a url.Error, so before the network
	// checks.
	for _, s := range []string{"cannot fetch token", "invalid_grant", "invalid_client", "unauthorized_client"} {
		if strings.Contains(lower, s) {
			return failBadCreds, why
		}
	}
	if strings.Contains(lower, "bucket doesn't exist") || strings.Contains(lower, "bucket does not exist") {
		return failNoBucket, why
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return failUnreachable, why
	}
	for _, s := range []string{"connection refused", "no such host", "i/o timeout", "network is unreachable", "deadline exceeded", "dial tcp", "tls:"} {
		if strings.Contains(lower, s) {
			return failUnreachable, why
		}
	}
	if m := azureStatusRe.FindStringSubmatch(msg); m != nil {
		var code int
		fmt.Sscan(m[1], &code)
		return statusKind(code), why
	}
	return failOther, why
}

// kindOfStatus sorts an S3 error with an unknown code by its HTTP status.
func kindOfStatus(err error, why string) (failKind, string) {
	var st interface{ HTTPStatusCode() int }
	if errors.As(err, &st) {
		return statusKind(st.HTTPStatusCode()), why
	}
	return failOther, why
}

func statusKind(code int) failKind {
	switch code {
	case 401:
		return failBadCreds
	case 403:
		return failDenied
	case 301, 307:
		return failRegion
	}
	return failOther
}

func firstMatch(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return "?"
}

// brief shortens an error message to one line of at most 400 bytes, cut
// between words.
func brief(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 400 {
		cut := strings.LastIndexAny(msg[:397], " ,;")
		if cut < 300 {
			cut = 397
		}
		msg = strings.TrimRight(msg[:cut], " ,;") + "..."
	}
	return msg
}
