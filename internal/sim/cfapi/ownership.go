package cfapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/objstore"
	"github.com/flarehose/flarehose/internal/sim"
)

// Object storage destinations and the ownership challenge (PROTOCOL.md
// §3.1, §3.3).

// ObjectDestination is an object storage destination_conf: s3://, r2://,
// gs://, azure:// (and sumo://, which has no bucket but takes an ownership
// challenge too).
type ObjectDestination struct {
	Conf   string     // the destination_conf as given
	Scheme string     // "s3", "r2", "gs", "azure" or "sumo"
	Bucket string     // bucket or container (the host for sumo)
	Path   string     // the key prefix, without leading or trailing "/"; may hold {DATE}
	Query  url.Values // region, endpoint, access-key-id, SAS parameters...
}

// ParseObjectDestination parses an object storage destination_conf. The
// bucket and path are read as objstore.FromDestination reads them (an
// azure://<account>.blob.core.windows.net/<container>/<dir> conf names
// container and dir), so that what the simulator writes lands where a
// reader of the conf looks.
func ParseObjectDestination(conf string) (*ObjectDestination, error) {
	u, err := url.Parse(conf)
	if err != nil {
		// url's error quotes the conf, and with it any key or SAS.
		return nil, errors.New("destination_conf: not a valid URL")
	}
	switch u.Scheme {
	case "s3", "r2", "gs", "azure":
		cfg, err := objstore.FromDestination(conf)
		if err != nil {
			return nil, err
		}
		return &ObjectDestination{Conf: conf, Scheme: u.Scheme, Bucket: cfg.Bucket, Path: cfg.Prefix, Query: u.Query()}, nil
	case "sumo":
	default:
		return nil, fmt.Errorf("destination_conf: %q is not an object storage scheme", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("destination_conf: no bucket")
	}
	p := strings.Trim(u.Path, "/")
	if u.RawPath != "" {
		p = strings.Trim(u.RawPath, "/")
	}
	return &ObjectDestination{Conf: conf, Scheme: u.Scheme, Bucket: u.Host, Path: p, Query: u.Query()}, nil
}

// NeedsOwnership reports whether Cloudflare asks for an ownership
// challenge for this destination: AWS S3 without embedded keys, GCS,
// Azure and Sumo Logic; not S3-compatible endpoints or R2.
func (d *ObjectDestination) NeedsOwnership() bool {
	switch d.Scheme {
	case "gs", "azure", "sumo":
		return true
	case "s3":
		return d.Query.Get("access-key-id") == ""
	}
	return false
}

// Prefix returns the key prefix with {DATE} replaced by t's UTC date
// (YYYYMMDD).
func (d *ObjectDestination) Prefix(t time.Time) string { return sim.ExpandPath(d.Path, t) }

// Storage is how the simulator reaches object storage destinations: it
// stands in for Cloudflare's own access to a customer's bucket (its IAM
// user for S3, its service account for GCS, the SAS of an Azure
// destination_conf). The simulator writes ownership challenge files,
// validation objects and the batches of enabled jobs through it.
type Storage interface {
	// Bucket opens the bucket or container dest names.
	Bucket(ctx context.Context, dest *ObjectDestination) (objstore.Bucket, error)
}

// LocalDir is a Storage that keeps every bucket as a directory:
// <Dir>/<scheme>/<bucket>/<key>. cfclient.LocalDirReader reads the same
// layout.
type LocalDir struct{ Dir string }

// Bucket implements Storage.
func (l LocalDir) Bucket(ctx context.Context, dest *ObjectDestination) (objstore.Bucket, error) {
	return objstore.Open(ctx, objstore.Config{Provider: objstore.ProviderFile, Dir: filepath.Join(l.Dir, dest.Scheme), Bucket: dest.Bucket})
}

// Path returns the file that holds key of dest's bucket.
func (l LocalDir) Path(dest *ObjectDestination, key string) string {
	clean := path.Clean("/" + key)[1:]
	return filepath.Join(l.Dir, dest.Scheme, dest.Bucket, filepath.FromSlash(clean))
}

// ownershipClaims are what a challenge token binds: the zone or account,
// the exact destination_conf and a fingerprint of bucket and path.
type ownershipClaims struct {
	Type        string `json:"typ"` // "zone" or "account"
	ID          string `json:"id"`
	Destination string `json:"destination_conf"`
	Fingerprint string `json:"fp"`
	IssuedAt    int64  `json:"iat"`
	Expires     int64  `json:"exp"`
}

var b64 = base64.RawURLEncoding

func fingerprint(d *ObjectDestination) string {
	sum := sha256.Sum256([]byte(d.Scheme + "://" + d.Bucket + "/" + d.Path))
	return hex.EncodeToString(sum[:8])
}

// ownershipToken issues a JWT (HS256) for a destination, valid 7 days.
func (s *Server) ownershipToken(sc scope, d *ObjectDestination, now time.Time) string {
	header := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(ownershipClaims{Type: sc.kind, ID: sc.id, Destination: d.Conf, Fingerprint: fingerprint(d),
		IssuedAt: now.Unix(), Expires: now.Add(7 * 24 * time.Hour).Unix()})
	unsigned := header + "." + b64.EncodeToString(claims)
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(unsigned))
	return unsigned + "." + b64.EncodeToString(m.Sum(nil))
}

// checkOwnership verifies a challenge token for a scope and destination.
func (s *Server) checkOwnership(sc scope, d *ObjectDestination, token string, now time.Time) error {
	if token == "" {
		return errors.New("ownership challenge is missing; request one with POST .../logpush/ownership")
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return errors.New("ownership challenge is invalid")
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return errors.New("ownership challenge is invalid")
	}
	raw, err := b64.DecodeString(parts[1])
	var c ownershipClaims
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return errors.New("ownership challenge is invalid")
	}
	switch {
	case now.Unix() > c.Expires:
		return errors.New("ownership challenge has expired")
	case c.Type != sc.kind || c.ID != sc.id:
		return errors.New("ownership challenge was issued for another " + sc.kind)
	case c.Destination != d.Conf || c.Fingerprint != fingerprint(d):
		return errors.New("ownership challenge was issued for another destination_conf")
	}
	return nil
}
