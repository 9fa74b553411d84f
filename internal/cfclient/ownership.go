package cfclient

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ChallengeReader reads the ownership challenge file Cloudflare wrote into
// an object storage destination (PROTOCOL.md §3.3), with the owner's own
// credentials. A missing file is reported with an error wrapping
// fs.ErrNotExist: the caller waits and tries again.
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
// file:///DIR (or a plain directory path) is a LocalDirReader. Reading real
// S3, R2, GCS and Azure buckets needs their SDKs and is not built in yet.
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
		return nil, fmt.Errorf("%w for %s:// (built in: file:///DIR)", ErrNoReader, scheme)
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

// OwnershipChallenge runs the ownership challenge for dest: it asks
// Cloudflare to write the challenge file (POST .../logpush/ownership), then
// reads it back with reader, trying again every second until wait has
// passed (Cloudflare's write may show up late). It returns the token
// (registered with the client's Redactor) and the file name.
func (c *Client) OwnershipChallenge(ctx context.Context, s Scope, dest *ObjectDestination, reader ChallengeReader, wait time.Duration) (token, filename string, err error) {
	o, err := c.RequestOwnership(ctx, s, dest.Conf)
	if err != nil {
		return "", "", err
	}
	if o.Filename == "" {
		return "", "", fmt.Errorf("Cloudflare wrote no ownership challenge for %s: %s", MaskDestination(dest.Conf), c.scrub(o.Message))
	}
	deadline := time.Now().Add(wait)
	for {
		content, err := reader.ReadChallenge(ctx, dest, o.Filename)
		if err == nil {
			token, err := CheckChallenge(string(content))
			if err != nil {
				return "", o.Filename, fmt.Errorf("%s://%s/%s: %w", dest.Scheme, dest.Bucket, o.Filename, err)
			}
			if c.Redact != nil {
				c.Redact.Add(token)
			}
			return token, o.Filename, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			return "", o.Filename, fmt.Errorf("reading the ownership challenge %s://%s/%s: %s", dest.Scheme, dest.Bucket, o.Filename, c.scrub(err.Error()))
		}
		if err := c.sleep(ctx, time.Second); err != nil {
			return "", o.Filename, err
		}
	}
}
