package objstore

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/storage"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// gcsBucket is a Google Cloud Storage bucket, or one of an emulator
// (fake-gcs-server) when an endpoint or STORAGE_EMULATOR_HOST is set.
//
// Downloads use the XML API (http://<endpoint host>/<bucket>/<key>), the
// library's default and the only one that can return a gzip object as
// stored: the JSON API refuses the Accept-Encoding header that asks for it.
// fake-gcs-server routes such URLs only when started with -public-host equal
// to the host:port clients dial (test/objstore/fakegcs.sh does).
type gcsBucket struct {
	bkt      *storage.BucketHandle
	name     string // gs://bucket
	emulated bool   // custom endpoint or STORAGE_EMULATOR_HOST
}

// Upload chunks: a body up to gcsMaxChunk goes up in one request (the
// library buffers one chunk per writer, 16 MiB by default, which small
// Logpush objects do not need); larger ones go resumable in such chunks.
const (
	gcsMinChunk = 256 << 10 // googleapi.MinUploadChunkSize
	gcsMaxChunk = 16 << 20
)

// gcsRetries bounds the library's retries, which are otherwise unlimited
// until the context ends: a down or mistyped endpoint must fail quickly.
var gcsRetries = []storage.RetryOption{
	// Put replaces the whole object and Delete treats a missing key as
	// done, so repeating either is harmless.
	storage.WithPolicy(storage.RetryAlways),
	storage.WithMaxAttempts(5),
	storage.WithBackoff(gax.Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2}),
	storage.WithErrorFuncWithContext(func(err error, rc *storage.RetryContext) bool {
		if isDialError(err) && rc != nil && rc.Attempt >= 2 {
			return false // nothing listens there: one retry is enough
		}
		return storage.ShouldRetry(err)
	}),
}

// uploadRetry is gcsRetries' error function for one upload: uploads retry
// inside the API library, which ignores the attempt limit and passes no
// RetryContext, until a 32s deadline per chunk; the closure counts.
func uploadRetry() storage.RetryOption {
	var dialErrors atomic.Int32
	return storage.WithErrorFuncWithContext(func(err error, _ *storage.RetryContext) bool {
		if isDialError(err) && dialErrors.Add(1) >= 2 {
			return false
		}
		return storage.ShouldRetry(err)
	})
}

func newGCS(ctx context.Context, cfg Config) (Bucket, error) {
	name := "gs://" + cfg.Bucket
	var opts []option.ClientOption
	emulator := os.Getenv("STORAGE_EMULATOR_HOST") != ""
	if cfg.Endpoint != "" {
		u, err := EndpointURL(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/storage/v1") + "/storage/v1/"
		opts = append(opts, option.WithEndpoint(u.String()))
	}
	switch {
	case cfg.CredentialsFile != "":
		data, err := readServiceAccount(cfg.CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, data))
	case cfg.Endpoint != "":
		opts = append(opts, option.WithoutAuthentication())
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", name, clientError(err))
	}
	client.SetRetry(gcsRetries...)
	// STORAGE_EMULATOR_HOST needs nothing here: the library then drops
	// authentication and sends both APIs to that host itself.
	return &gcsBucket{bkt: client.Bucket(cfg.Bucket), name: name, emulated: cfg.Endpoint != "" || emulator}, nil
}

// readServiceAccount reads a service account key file, checking what the
// library would otherwise report obscurely (or only at the first request).
// Errors never quote the file's content.
func readServiceAccount(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	var key struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(data, &key); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("credentials file %s: not valid JSON (error at byte %d)", path, se.Offset)
		}
		return nil, fmt.Errorf("credentials file %s: not a service account key (want a JSON object with type, client_email and private_key)", path)
	}
	switch {
	case key.Type != "service_account":
		return nil, fmt.Errorf("credentials file %s: type %q, want \"service_account\" (a key created under IAM > Service accounts > Keys)", path, key.Type)
	case key.ClientEmail == "":
		return nil, fmt.Errorf("credentials file %s: no client_email", path)
	}
	// The library parses the key only at the first request, and its error
	// dumps ASN.1 details: check it here, quoting nothing of it.
	block, _ := pem.Decode([]byte(key.PrivateKey))
	if block == nil {
		return nil, fmt.Errorf("credentials file %s: private_key is missing or not a PEM block", path)
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("credentials file %s: private_key is not a valid PKCS#8 or PKCS#1 RSA key", path)
		}
	}
	return data, nil
}

// clientError describes a failure to build the client: mostly credentials
// that could not be found or parsed.
func clientError(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "could not find default credentials") {
		return "no Google credentials: set a credentials file, GOOGLE_APPLICATION_CREDENTIALS or run where Application Default Credentials exist (" + msg + ")"
	}
	return msg
}

func (g *gcsBucket) String() string { return g.name }

// checkKey refuses names GCS rejects, before a request is made.
// https://cloud.google.com/storage/docs/objects#naming
func (g *gcsBucket) checkKey(key string) error {
	switch {
	case key == "" || key == "." || key == "..":
		return fmt.Errorf("%s: invalid key %q", g, key)
	case len(key) > 1024:
		return fmt.Errorf("%s: key %.40q... is %d bytes long, GCS allows 1024", g, key, len(key))
	case !utf8.ValidString(key):
		return fmt.Errorf("%s: key %q is not valid UTF-8", g, key)
	case strings.ContainsAny(key, "\r\n"):
		return fmt.Errorf("%s: key %q holds a carriage return or line feed", g, key)
	}
	return nil
}

func (g *gcsBucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := g.checkKey(key); err != nil {
		return nil, err
	}
	// ReadCompressed: an object stored with Content-Encoding gzip comes back
	// as stored instead of being decompressed by GCS or net/http.
	r, err := g.bkt.Object(key).ReadCompressed(true).NewReader(ctx)
	if err != nil {
		if errors.Is(err, storage.ErrObjectNotExist) {
			return nil, g.notExist(ctx, key)
		}
		return nil, g.wrap("get", key, err)
	}
	if r.Attrs.Decompressed {
		r.Close()
		return nil, fmt.Errorf("%s/%s: get: the object was served decompressed", g, key)
	}
	return r, nil
}

func (g *gcsBucket) Put(ctx context.Context, key string, body []byte, opts PutOptions) error {
	if err := g.checkKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // aborts the upload when Write fails
	w := g.bkt.Object(key).Retryer(uploadRetry()).NewWriter(ctx)
	w.ContentType = opts.ContentType
	if w.ContentType == "" {
		w.ContentType = "application/octet-stream"
	}
	w.ContentEncoding = opts.ContentEncoding
	// One byte over the body: a buffer that fills exactly cannot tell the
	// end came, and would start a resumable upload.
	w.ChunkSize = min(max(len(body)+1, gcsMinChunk), gcsMaxChunk)
	if _, err := w.Write(body); err != nil {
		w.Close()
		return g.wrap("put", key, err)
	}
	if err := w.Close(); err != nil {
		var e *googleapi.Error
		if errors.As(err, &e) && e.Code == http.StatusNotFound {
			return g.errNoBucket(err) // an upload has no object to miss
		}
		return g.wrap("put", key, err)
	}
	return nil
}

func (g *gcsBucket) List(ctx context.Context, prefix, startAfter string, fn func(Object) error) error {
	q := &storage.Query{Prefix: prefix, StartOffset: startAfter}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Etag", "Updated"}); err != nil {
		return fmt.Errorf("%s: list: %w", g, err)
	}
	it := g.bkt.Objects(ctx, q)
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			if errors.Is(err, storage.ErrBucketNotExist) {
				return g.errNoBucket(err)
			}
			return g.wrap("list", prefix, err)
		}
		if a.Name == startAfter { // StartOffset is inclusive
			continue
		}
		if err := fn(Object{Key: a.Name, Size: a.Size, ETag: strings.Trim(a.Etag, `"`), LastModified: a.Updated}); err != nil {
			return err
		}
	}
}

func (g *gcsBucket) Delete(ctx context.Context, key string) error {
	if err := g.checkKey(key); err != nil {
		return err
	}
	err := g.bkt.Object(key).Delete(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		if err := g.notExist(ctx, key); !IsNotExist(err) {
			return err
		}
		return nil
	}
	if err != nil {
		return g.wrap("delete", key, err)
	}
	return nil
}

// notExist tells a missing object from a missing bucket: GCS answers 404
// for both (fake-gcs-server without any detail), and a bucket that is not
// there should not look like a bucket without objects yet. The extra
// requests happen only on a miss.
func (g *gcsBucket) notExist(ctx context.Context, key string) error {
	if g.emulated {
		// An emulator whose public host is not the endpoint's answers 404 to
		// every XML download while the JSON API finds the object.
		if _, err := g.bkt.Object(key).Attrs(ctx); err == nil {
			return fmt.Errorf("%s/%s: the endpoint has the object (JSON API) but answers 404 to downloading it from "+
				"http://<endpoint host>/<bucket>/<key> (fake-gcs-server needs -public-host set to the endpoint's host:port)", g, key)
		}
	}
	_, err := g.bkt.Attrs(ctx)
	if errors.Is(err, storage.ErrBucketNotExist) {
		return g.errNoBucket(err)
	}
	// Found, or not ours to inspect (403 without storage.buckets.get): the
	// object is what is missing.
	return errNotExist(g, key)
}

func (g *gcsBucket) errNoBucket(err error) error {
	if !errors.Is(err, storage.ErrBucketNotExist) {
		err = fmt.Errorf("%w: %w", storage.ErrBucketNotExist, err)
	}
	return &gcsError{msg: fmt.Sprintf("%s: bucket does not exist", g), err: err}
}

// gcsError keeps the library's error for errors.As (googleapi.Error and
// its status code) under a shorter message.
type gcsError struct {
	msg string
	err error
}

func (e *gcsError) Error() string { return e.msg }
func (e *gcsError) Unwrap() error { return e.err }

// wrap names the bucket, key and operation, and spells out HTTP statuses.
func (g *gcsBucket) wrap(op, key string, err error) error {
	where := g.name + "/" + key
	if op == "list" {
		where = fmt.Sprintf("%s: prefix %q", g, key)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %s: %w", where, op, err)
	}
	var e *googleapi.Error
	if !errors.As(err, &e) {
		var ue *url.Error
		if errors.As(err, &ue) {
			// The request URL's query is API noise (fields, projection...).
			base, _, _ := strings.Cut(ue.URL, "?")
			msg := fmt.Sprintf("%s: %s: %s %s: %v", where, op, ue.Op, base, ue.Err)
			return &gcsError{msg: strings.Join(strings.Fields(msg), " "), err: err}
		}
		return fmt.Errorf("%s: %s: %w", where, op, err)
	}
	detail := e.Message
	if detail == "" {
		detail = errorBodyMessage(e.Body)
	}
	var what string
	switch e.Code {
	case http.StatusUnauthorized:
		what = "authentication failed (HTTP 401): check the credentials"
	case http.StatusForbidden:
		what = "permission denied (HTTP 403): the credentials lack access to this bucket"
	default:
		what = fmt.Sprintf("HTTP %d", e.Code)
		if t := http.StatusText(e.Code); t != "" {
			what += " " + t
		}
	}
	if detail != "" {
		what += ": " + detail
	}
	return &gcsError{msg: fmt.Sprintf("%s: %s: %s", where, op, what), err: err}
}

// isDialError reports a failure to connect at all (refused, no route, no
// such host), as opposed to a connection that broke.
func isDialError(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// errorBodyMessage extracts the message of an error body the library did
// not parse: downloads use the XML API, whose errors are
// <Error><Code/><Message/><Details/></Error>.
func errorBodyMessage(body string) string {
	body = strings.TrimSpace(body)
	var x struct {
		Code    string
		Message string
		Details string
	}
	var j struct {
		Error struct{ Message string } `json:"error"`
	}
	switch {
	case xml.Unmarshal([]byte(body), &x) == nil && x.Message != "":
		msg := x.Message
		if x.Details != "" {
			msg += " " + x.Details
		}
		if x.Code != "" {
			msg = x.Code + ": " + msg
		}
		return msg
	case json.Unmarshal([]byte(body), &j) == nil && j.Error.Message != "":
		return j.Error.Message
	}
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	return strings.Join(strings.Fields(body), " ")
}
