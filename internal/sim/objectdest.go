package sim

import (
	"encoding/hex"
	"hash/crc32"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/objstore"
)

// Object storage destinations (PROTOCOL.md §3.2): a job whose destination
// is s3://, r2://, gs:// or azure:// writes each batch as one gzip object
// named after the batch's data-time window, and validates the destination
// with a test.txt.gz object.

// ValidationObjectName is the base name of the object Cloudflare writes to
// validate an object storage destination.
const ValidationObjectName = "test.txt.gz"

// objectTimeLayout formats the start and end of a batch's window in keys.
const objectTimeLayout = "20060102T150405Z"

// datePlaceholder is replaced by the UTC date (YYYYMMDD) in a path.
const datePlaceholder = "{DATE}"

// ExpandPath replaces {DATE} in a destination path with t's UTC date
// (YYYYMMDD).
func ExpandPath(path string, t time.Time) string {
	if !strings.Contains(path, datePlaceholder) {
		return path
	}
	return strings.ReplaceAll(path, datePlaceholder, t.UTC().Format("20060102"))
}

// BatchObjectKey returns the key of the object holding a batch whose
// records span [start, end] of data time: <path>/<start>_<end>_<hash>.log.gz,
// {DATE} in path replaced by start's date. start is rounded down and end up
// to the second, so every record's timestamp lies inside the key's window.
// hash is 8 lower-case hex digits.
func BatchObjectKey(path string, start, end time.Time, hash string) string {
	s := start.UTC().Truncate(time.Second)
	e := end.UTC()
	if t := e.Truncate(time.Second); !t.Equal(e) {
		e = t.Add(time.Second)
	}
	return objstore.Join(ExpandPath(path, s), s.Format(objectTimeLayout)+"_"+e.Format(objectTimeLayout)+"_"+hash+".log.gz")
}

// ValidationObjectKey returns the key of the validation object written at
// t: <path>/test.txt.gz, {DATE} replaced by t's date.
func ValidationObjectKey(path string, t time.Time) string {
	return objstore.Join(ExpandPath(path, t), ValidationObjectName)
}

// ValidationObject returns the validation object's content: gzip of
// {"content":"tests"}.
func ValidationObject() []byte { return append([]byte(nil), probeContent...) }

// batchHash is the 8 hex digits of a batch's key: a checksum of the job
// and the batch's content, so that retries of a batch rewrite the same
// object and two jobs writing to one path do not collide.
func batchHash(jobID int, body []byte) string {
	h := crc32.Update(crc32.ChecksumIEEE([]byte(strconv.Itoa(jobID))), crc32.IEEETable, body)
	var b [4]byte
	b[0], b[1], b[2], b[3] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
	return hex.EncodeToString(b[:])
}

// objectDest is where an object storage job writes.
type objectDest struct {
	scheme  string // s3, r2, gs, azure: names the store in error_message
	path    string // key prefix from the destination_conf, may hold {DATE}
	bucket  objstore.Bucket
	secrets []string // destination_conf values no error may show
}

func newObjectDest(conf string, b objstore.Bucket) (*objectDest, error) {
	cfg, err := objstore.FromDestination(conf)
	if err != nil {
		return nil, err
	}
	scheme, _, _ := strings.Cut(conf, "://")
	d := &objectDest{scheme: scheme, path: cfg.Prefix, bucket: b}
	for _, s := range []string{cfg.SecretAccessKey, cfg.SessionToken, cfg.AccountKey} {
		d.addSecret(s)
	}
	if cfg.SASToken != "" {
		d.addSecret(cfg.SASToken)
		if q, err := url.ParseQuery(cfg.SASToken); err == nil {
			d.addSecret(q.Get("sig"))
		}
	}
	return d, nil
}

// addSecret records a value to redact. Very short values are left alone:
// replacing every "s" of a message would make it unreadable, and no
// store takes such keys.
func (d *objectDest) addSecret(s string) {
	if len(s) < 6 {
		return
	}
	for _, v := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
		if !slices.Contains(d.secrets, v) {
			d.secrets = append(d.secrets, v)
		}
	}
}

// sigParam matches a SAS signature in a URL an SDK error may quote.
var sigParam = regexp.MustCompile(`(?i)([?&]sig=)[^&\s"']+`)

// redact keeps secrets of the destination_conf out of an error message:
// the stores' SDKs are expected not to echo them, but a job's
// error_message is shown to anyone who can list jobs.
func (d *objectDest) redact(err error) string {
	s := err.Error()
	for _, secret := range d.secrets {
		s = strings.ReplaceAll(s, secret, "REDACTED")
	}
	return sigParam.ReplaceAllString(s, "${1}REDACTED")
}

// RedactObjectError returns err's message without the secrets an object
// storage destination_conf carries (secret access key, Azure SAS).
func RedactObjectError(conf string, err error) string {
	d, perr := newObjectDest(conf, nil)
	if perr != nil {
		return sigParam.ReplaceAllString(err.Error(), "${1}REDACTED")
	}
	return d.redact(err)
}
