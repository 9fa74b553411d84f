// Package objstore reads and writes the object stores Cloudflare Logpush
// writes to: AWS S3, R2 and other S3-compatible stores, Google Cloud
// Storage and Azure Blob Storage, plus a local directory laid out like a
// bucket. One small interface (Bucket) over the providers' own SDKs serves
// the simulator (writing Logpush objects and ownership challenges), the
// `logpush jobs create` ownership flow (reading the challenge back) and the
// object storage sources.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Object describes one stored object.
type Object struct {
	Key          string // full key inside the bucket, no leading "/"
	Size         int64
	ETag         string // as the store reports it, quotes removed
	LastModified time.Time
}

// Bucket is one bucket (S3, R2, GCS) or container (Azure) of an object
// store, or a local directory. Implementations are safe for concurrent use.
// Keys are relative to the bucket, "/"-separated, with no leading "/".
type Bucket interface {
	// Get opens key for reading. A missing key gives an error wrapping
	// fs.ErrNotExist. The caller closes the reader. Content is returned as
	// stored: gzip objects are not decompressed.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Put stores body under key, replacing any object there.
	Put(ctx context.Context, key string, body []byte, opts PutOptions) error
	// List calls fn for every object whose key starts with prefix and sorts
	// after startAfter ("" for all), in lexical key order. An error from fn
	// stops the listing and is returned.
	List(ctx context.Context, prefix, startAfter string, fn func(Object) error) error
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the bucket for logs and errors ("s3://logs"), never
	// with credentials.
	String() string
}

// PutOptions are optional object metadata.
type PutOptions struct {
	ContentType     string // default application/octet-stream
	ContentEncoding string
}

// ErrNotExist is fs.ErrNotExist, re-exported for callers that do not
// import io/fs.
var ErrNotExist = fs.ErrNotExist

// ReadAll reads a whole object, refusing one larger than limit bytes
// (limit <= 0: no limit).
func ReadAll(ctx context.Context, b Bucket, key string, limit int64) ([]byte, error) {
	rc, err := b.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if limit <= 0 {
		return io.ReadAll(rc)
	}
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s/%s: object is larger than %d bytes", b, key, limit)
	}
	return data, nil
}

// Join joins key parts with "/", dropping empty parts and stray slashes.
func Join(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "/")
}

// errNotExist wraps a provider's "no such key" answer so errors.Is(err,
// fs.ErrNotExist) holds.
func errNotExist(bucket fmt.Stringer, key string) error {
	return fmt.Errorf("%s/%s: %w", bucket, printableKey(key), fs.ErrNotExist)
}

// printableKey quotes a key that holds control or invalid characters, so
// it cannot garble a log line.
func printableKey(key string) string {
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return strconv.Quote(key)
		}
	}
	return key
}

// IsNotExist reports whether err says an object does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
