package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Providers Open knows.
const (
	ProviderS3    = "s3"    // AWS S3, R2, MinIO and other S3-compatible stores
	ProviderGCS   = "gcs"   // Google Cloud Storage
	ProviderAzure = "azure" // Azure Blob Storage
	ProviderFile  = "file"  // a local directory per bucket
)

// Config says which bucket to open and how to authenticate. Empty
// credentials mean the provider's default chain (AWS: environment, shared
// config, instance role; GCS: Application Default Credentials; Azure: the
// AZURE_STORAGE_* environment).
type Config struct {
	Provider string // ProviderS3, ProviderGCS, ProviderAzure or ProviderFile
	Bucket   string // bucket, or Azure container
	// Prefix is the key prefix the caller works under (a Logpush
	// destination's path, {DATE} unexpanded). Bucket methods take full keys;
	// Prefix is carried for the caller.
	Prefix string

	// Endpoint is the service URL when it is not the provider's public one:
	// an S3-compatible store or R2 (https://<account>.r2.cloudflarestorage.com),
	// an emulator (MinIO, fake-gcs-server, Azurite: http://127.0.0.1:10000/devstoreaccount1),
	// an Azure account (https://<account>.blob.core.windows.net). A host
	// without a scheme means https.
	Endpoint string

	// S3
	Region          string // default us-east-1 (auto for R2)
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// PathStyle addresses buckets as <endpoint>/<bucket> instead of
	// <bucket>.<endpoint>: MinIO and most S3-compatible stores need it. It
	// is turned on whenever Endpoint is set and VirtualHost is not.
	PathStyle   bool
	VirtualHost bool

	// GCS: a service account key file (JSON). With an emulator Endpoint and
	// no file, requests are unauthenticated.
	CredentialsFile string

	// Azure: one of a SAS (the query string, without "?"), an account key
	// (with AccountName) or a connection string.
	AccountName      string
	AccountKey       string
	SASToken         string
	ConnectionString string

	// Dir is the root of ProviderFile: objects live in <Dir>/<Bucket>/<key>.
	Dir string
}

// Validate reports what is missing or contradictory.
func (c Config) Validate() error {
	switch c.Provider {
	case ProviderS3, ProviderGCS, ProviderAzure:
		if c.Bucket == "" {
			return fmt.Errorf("%s: no bucket", c.Provider)
		}
		if strings.ContainsAny(c.Bucket, "/?#") {
			return fmt.Errorf("%s: bucket %q must not contain '/', '?' or '#'", c.Provider, c.Bucket)
		}
	case ProviderFile:
		if c.Dir == "" {
			return errors.New("file: no directory")
		}
		if c.Bucket == "" || c.Bucket == "." || c.Bucket == ".." || strings.ContainsAny(c.Bucket, `/\`) {
			return fmt.Errorf("file: bucket %q is not a plain directory name", c.Bucket)
		}
	case "":
		return errors.New("no object store provider")
	default:
		return fmt.Errorf("unknown object store provider %q (want s3, gcs, azure or file)", c.Provider)
	}
	if c.Provider == ProviderS3 && (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return errors.New("s3: give both access key id and secret access key, or neither")
	}
	if c.Endpoint != "" {
		if _, err := EndpointURL(c.Endpoint); err != nil {
			return err
		}
	}
	return nil
}

// EndpointURL normalizes an endpoint: a bare host[:port] gets https://.
func EndpointURL(endpoint string) (*url.URL, error) {
	e := strings.TrimRight(strings.TrimSpace(endpoint), "/")
	if !strings.Contains(e, "://") {
		e = "https://" + e
	}
	// Errors quote the endpoint without its query: a pasted SAS URL would
	// otherwise put its signature in the message.
	shown, _, _ := strings.Cut(e, "?")
	shown, _, _ = strings.Cut(shown, "#")
	u, err := url.Parse(e)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("endpoint %q: want http(s)://host[:port][/path] or host[:port]", shown)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q: no query or fragment allowed (give credentials separately)", shown)
	}
	return u, nil
}

// Open returns the bucket cfg names. It checks cfg but does not contact
// the store.
func Open(ctx context.Context, cfg Config) (Bucket, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Provider {
	case ProviderS3:
		return newS3(ctx, cfg)
	case ProviderGCS:
		return newGCS(ctx, cfg)
	case ProviderAzure:
		return newAzure(ctx, cfg)
	default:
		return newLocal(cfg)
	}
}

// FromDestination reads a Cloudflare Logpush destination_conf for an
// object store (PROTOCOL.md §3.1) into a Config: the bucket, the path
// (as Prefix) and what the URL itself carries (region, endpoint, keys, an
// Azure SAS). Credentials it does not carry (AWS S3 and GCS, where
// Cloudflare writes with its own identity) are left empty for the
// caller to fill.
//
//	s3://bucket/dir?region=us-east-1[&sse=AES256]
//	s3://bucket/dir?region=r&access-key-id=ID&secret-access-key=S&endpoint=host
//	r2://bucket/dir?account-id=ACCT&access-key-id=ID&secret-access-key=S
//	gs://bucket/dir
//	azure://<account>.blob.core.windows.net/<container>/dir?<SAS>
//	azure://<container>/dir?<SAS>   (account from elsewhere)
func FromDestination(conf string) (Config, error) {
	u, err := url.Parse(strings.TrimSpace(conf))
	if err != nil {
		return Config{}, fmt.Errorf("destination_conf: %v", stripQuery(err))
	}
	if u.Host == "" {
		return Config{}, fmt.Errorf("destination_conf %s://...: no bucket", u.Scheme)
	}
	p := strings.Trim(u.Path, "/")
	if u.RawPath != "" {
		p = strings.Trim(u.RawPath, "/")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("destination_conf %s://%s: the query string is not valid URL encoding", u.Scheme, u.Host)
	}
	var c Config
	switch u.Scheme {
	case "s3":
		c = Config{Provider: ProviderS3, Bucket: u.Host, Prefix: p, Region: q.Get("region"),
			AccessKeyID: q.Get("access-key-id"), SecretAccessKey: q.Get("secret-access-key"), Endpoint: q.Get("endpoint")}
	case "r2":
		acct := q.Get("account-id")
		if acct == "" {
			return Config{}, errors.New("destination_conf r2://: account-id is required")
		}
		c = Config{Provider: ProviderS3, Bucket: u.Host, Prefix: p, Region: "auto",
			AccessKeyID: q.Get("access-key-id"), SecretAccessKey: q.Get("secret-access-key"),
			Endpoint: "https://" + acct + ".r2.cloudflarestorage.com"}
	case "gs":
		c = Config{Provider: ProviderGCS, Bucket: u.Host, Prefix: p}
	case "azure":
		c = Config{Provider: ProviderAzure, SASToken: u.RawQuery}
		if strings.Contains(u.Host, ".") || strings.Contains(u.Host, ":") {
			// The SAS URL with https replaced by azure: the host is the
			// account's endpoint, the first path segment the container.
			container, rest, _ := strings.Cut(p, "/")
			if container == "" {
				return Config{}, errors.New("destination_conf azure://: no container after the account host")
			}
			c.Endpoint, c.Bucket, c.Prefix = "https://"+u.Host, container, rest
			c.AccountName, _, _ = strings.Cut(u.Host, ".")
		} else {
			c.Bucket, c.Prefix = u.Host, p
		}
	default:
		return Config{}, fmt.Errorf("destination_conf: %q is not an object store scheme (want s3, r2, gs or azure)", u.Scheme)
	}
	return c, c.Validate()
}

// stripQuery keeps a URL parse error from echoing the destination_conf
// (its query may hold keys or a SAS signature): only the inner reason
// (e.g. invalid URL escape "%zz") is kept.
func stripQuery(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("not a valid URL: %w", ue.Err)
	}
	return err
}
