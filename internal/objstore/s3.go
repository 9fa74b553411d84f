package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

const (
	// s3DialTimeout bounds connecting to the endpoint (the SDK's default is
	// 30s per attempt), so a black-holed endpoint fails in seconds.
	s3DialTimeout = 5 * time.Second
	// s3HeaderTimeout bounds the wait for an answer once a request is
	// sent (after the body for a Put): a server that accepts connections
	// but never answers must not hang a caller without a deadline.
	s3HeaderTimeout = 60 * time.Second
	// s3MaxBackoff caps the SDK's wait between its 3 attempts (up to 20s
	// by default; with this cap it is 1s): the callers poll and retry on
	// their own, so a dead endpoint should surface in 2s, not 6s or more.
	s3MaxBackoff = time.Second
	// s3CredentialsTimeout bounds finding credentials in the default chain.
	// Off EC2 the chain ends at the instance metadata service, whose
	// client retries for 4s (refused) to 5s (silent) per lookup, on every
	// request (failures are not cached), then says only "no EC2 IMDS role
	// found". Real sources (files, environment, IMDS on EC2, STS) answer
	// well within the bound.
	s3CredentialsTimeout = 3 * time.Second
)

// s3Bucket is a bucket of AWS S3, R2 or another S3-compatible store.
type s3Bucket struct {
	client   *s3.Client
	bucket   string
	name     string // s3://bucket[@host]
	endpoint string // the endpoint requests go to ("" for AWS's own), for errors
	secrets  []string
}

func newS3(ctx context.Context, cfg Config) (Bucket, error) {
	b := &s3Bucket{bucket: cfg.Bucket, name: "s3://" + cfg.Bucket}
	for _, s := range []string{cfg.SecretAccessKey, cfg.SessionToken} {
		if s != "" {
			b.secrets = append(b.secrets, s)
		}
	}
	var endpoint *url.URL
	if cfg.Endpoint != "" {
		u, err := EndpointURL(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.name, err)
		}
		u.User = nil // S3 authenticates with keys, never URL userinfo
		endpoint = u
	}

	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = s3DialTimeout }).
		WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = s3HeaderTimeout })
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.AddWithMaxBackoffDelay(retry.NewStandard(), s3MaxBackoff)
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, b.scrub(fmt.Errorf("%s: loading the AWS configuration: %w", b.name, err))
	}
	if awsCfg.Region == "" { // neither cfg nor AWS_REGION / the profile name one
		awsCfg.Region = "us-east-1"
	}
	awsCfg.Logger = s3Logger{}
	if cfg.AccessKeyID == "" && awsCfg.Credentials != nil {
		awsCfg.Credentials = aws.NewCredentialsCache(s3BoundedCredentials{awsCfg.Credentials})
	}

	b.client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if endpoint != nil {
			o.BaseEndpoint = aws.String(endpoint.String())
		}
		// o.BaseEndpoint also holds an endpoint from the environment
		// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL) or the shared config.
		if o.BaseEndpoint == nil {
			o.UsePathStyle = cfg.PathStyle
			return
		}
		u, err := url.Parse(*o.BaseEndpoint)
		if err != nil || u.Host == "" {
			return // the SDK reports a bad endpoint on the first request
		}
		b.endpoint = u.Scheme + "://" + u.Host
		b.name = "s3://" + cfg.Bucket + "@" + u.Host
		o.UsePathStyle = cfg.PathStyle || !cfg.VirtualHost
		if !s3IsAWSHost(u.Hostname()) {
			// Since early 2025 the SDK adds CRC checksums (aws-chunked
			// trailers, x-amz-checksum-* headers) to every upload and
			// validates them on download. R2, older MinIO, Ceph, B2 and
			// others reject or mishandle those requests; "when required"
			// restores the plain signed requests every S3 store accepts.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	return b, nil
}

// s3IsAWSHost reports whether host is AWS's own S3 (where the SDK's default
// checksums are right).
func s3IsAWSHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")
}

// s3Logger sends the SDK's few log lines (it writes them to stderr by
// default) to slog.
type s3Logger struct{}

func (s3Logger) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	level := slog.LevelDebug
	// Logpush uploads to S3 are multipart, whose checksums the SDK cannot
	// check: it would warn on every object read, saying nothing actionable.
	if c == logging.Warn && !strings.Contains(msg, "multipart checksum") {
		level = slog.LevelWarn
	}
	slog.Default().Log(context.Background(), level, msg, "component", "objstore/s3")
}

// s3BoundedCredentials gives the default chain a deadline, so that "no
// credentials anywhere" fails in seconds rather than after the metadata
// service's retries, and says what to do about it.
type s3BoundedCredentials struct{ aws.CredentialsProvider }

// errS3NoCredentials marks a failed credentials lookup.
var errS3NoCredentials = errors.New("no AWS credentials found")

func (p s3BoundedCredentials) Retrieve(parent context.Context) (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(parent, s3CredentialsTimeout)
	defer cancel()
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil && parent.Err() != nil {
		return c, err // the caller gave up: not a credentials problem
	}
	if err != nil {
		return c, fmt.Errorf("%w (give an access key id and secret access key, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run with an instance role): %v",
			errS3NoCredentials, err)
	}
	return c, nil
}

func (b *s3Bucket) String() string { return b.name }

// checkKey refuses keys S3 cannot hold; an empty key would address the
// bucket itself.
func (b *s3Bucket) checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%s: empty key", b)
	case len(key) > 1024:
		return fmt.Errorf("%s: key %.40q... is longer than S3's 1024 bytes", b, key)
	case !utf8.ValidString(key):
		return fmt.Errorf("%s: key %q is not valid UTF-8", b, key)
	}
	return nil
}

func (b *s3Bucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := b.checkKey(key); err != nil {
		return nil, err
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		if s3IsNoSuchKey(err) {
			return nil, errNotExist(b, key)
		}
		return nil, b.wrap("get", key, err)
	}
	return out.Body, nil
}

func (b *s3Bucket) Put(ctx context.Context, key string, body []byte, opts PutOptions) error {
	if err := b.checkKey(key); err != nil {
		return err
	}
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	in := &s3.PutObjectInput{
		Bucket:        &b.bucket,
		Key:           &key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   &ct,
	}
	if opts.ContentEncoding != "" {
		in.ContentEncoding = &opts.ContentEncoding
	}
	if _, err := b.client.PutObject(ctx, in); err != nil {
		return b.wrap("put", key, err)
	}
	return nil
}

func (b *s3Bucket) List(ctx context.Context, prefix, startAfter string, fn func(Object) error) error {
	in := &s3.ListObjectsV2Input{
		Bucket: &b.bucket,
		// URL-encoded keys survive characters XML 1.0 cannot carry.
		EncodingType: types.EncodingTypeUrl,
	}
	if prefix != "" {
		in.Prefix = &prefix
	}
	if startAfter != "" {
		in.StartAfter = &startAfter
	}
	pages := s3.NewListObjectsV2Paginator(b.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return b.wrap("list", prefix+"*", err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			// Decode only what the store says it encoded: a store that
			// ignores encoding-type sends raw keys, where "+" is a "+".
			if page.EncodingType == types.EncodingTypeUrl {
				k, err := url.QueryUnescape(key)
				if err != nil {
					return fmt.Errorf("%s: list %s*: the store sent a badly encoded key %q", b, prefix, key)
				}
				key = k
			}
			obj := Object{Key: key, Size: aws.ToInt64(o.Size), ETag: strings.Trim(aws.ToString(o.ETag), `"`)}
			if o.LastModified != nil {
				obj.LastModified = *o.LastModified
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *s3Bucket) Delete(ctx context.Context, key string) error {
	if err := b.checkKey(key); err != nil {
		return err
	}
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil && !s3IsNoSuchKey(err) {
		return b.wrap("delete", key, err)
	}
	return nil
}

// s3IsNoSuchKey: S3 says NoSuchKey; some compatible stores send a bare 404.
// A missing bucket is also a 404 but must not read as a missing object,
// or a caller waiting for an object would wait forever.
func s3IsNoSuchKey(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket":
			return false
		}
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// wrap turns an SDK error into one that names the operation, bucket and
// key and says what probably went wrong. The SDK error stays in the chain
// (errors.As finds smithy.APIError), but its text is shortened and never
// carries the secret key.
func (b *s3Bucket) wrap(op, key string, err error) error {
	where := fmt.Sprintf("%s: %s %s", b, op, s3PrintableKey(key))
	var msg string
	var api smithy.APIError
	var dns *net.DNSError
	switch {
	case errors.Is(err, errS3NoCredentials):
		msg = fmt.Sprintf("%s: %v", where, s3CredentialsCause(err))
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("%s: %v (endpoint %s)", where, s3CtxCause(err), b.endpointName())
	case errors.As(err, &api):
		code := api.ErrorCode()
		detail := code
		if m := api.ErrorMessage(); m != "" && m != code {
			detail += ": " + m
		}
		switch code {
		case "NoSuchBucket":
			msg = fmt.Sprintf("%s: bucket %s does not exist (%s)", where, b.bucket, detail)
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidSecurity", "AllAccessDisabled":
			msg = fmt.Sprintf("%s: access denied: check the credentials and the bucket policy (%s)", where, detail)
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			region := ""
			var re *awshttp.ResponseError
			if errors.As(err, &re) && re.Response != nil {
				region = re.Response.Header.Get("X-Amz-Bucket-Region")
			}
			if region != "" {
				msg = fmt.Sprintf("%s: wrong region: the bucket is in %s (%s)", where, region, detail)
			} else {
				msg = fmt.Sprintf("%s: wrong region or endpoint for this bucket (%s)", where, detail)
			}
		default:
			msg = fmt.Sprintf("%s: %s", where, detail)
			var re *awshttp.ResponseError
			if errors.As(err, &re) {
				// Compatible stores have their own codes for bad keys or
				// tokens (MinIO: InvalidTokenId); a 403 is still a 403.
				if re.HTTPStatusCode() == http.StatusForbidden {
					msg = fmt.Sprintf("%s: access denied: check the credentials and the bucket policy (%s)", where, detail)
				} else {
					msg = fmt.Sprintf("%s: HTTP %d: %s", where, re.HTTPStatusCode(), detail)
				}
			}
		}
	case errors.As(err, &dns):
		msg = fmt.Sprintf("%s: cannot resolve the endpoint %s: %v", where, b.endpointName(), dns)
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = fmt.Sprintf("%s: cannot reach the endpoint %s: connection refused", where, b.endpointName())
	case s3IsNetError(err):
		msg = fmt.Sprintf("%s: cannot reach the endpoint %s: %v", where, b.endpointName(), s3NetError(err))
	default:
		msg = fmt.Sprintf("%s: %v", where, err)
	}
	return b.scrub(&s3Error{msg: msg, err: err})
}

// s3PrintableKey quotes a key only when it holds characters that would
// garble a log line (control characters, invalid UTF-8).
func s3PrintableKey(key string) string {
	if q := strconv.Quote(key); q[1:len(q)-1] != key {
		return q
	}
	return key
}

func (b *s3Bucket) endpointName() string {
	if b.endpoint != "" {
		return b.endpoint
	}
	return "AWS S3"
}

// s3Error is a readable message over the SDK error it explains.
type s3Error struct {
	msg string
	err error
}

func (e *s3Error) Error() string { return e.msg }
func (e *s3Error) Unwrap() error { return e.err }

// scrub removes the secret key and session token from an error's text,
// should the SDK or a store ever echo one.
func (b *s3Bucket) scrub(err error) error {
	msg := err.Error()
	clean := msg
	for _, s := range b.secrets {
		clean = strings.ReplaceAll(clean, s, "[REDACTED]")
	}
	if clean == msg {
		return err
	}
	return &s3Error{msg: clean, err: err}
}

// s3CredentialsCause keeps the credential chain's own message but drops the
// SDK's "operation error S3: GetObject, failed to sign request, ..." prefix.
func s3CredentialsCause(err error) string {
	s := err.Error()
	if i := strings.Index(s, errS3NoCredentials.Error()); i >= 0 {
		return s[i:]
	}
	return s
}

func s3CtxCause(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

func s3IsNetError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || errors.As(err, &ne)
}

// s3NetError is the network failure itself ("dial tcp 10.0.0.1:443: i/o
// timeout", "http: server gave HTTP response to HTTPS client", an x509
// error) without the SDK's and net/http's wrapping.
func s3NetError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
