package api

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/search"
)

// Limits on query parameters.
const (
	DefaultLimit     = 100   // hits per page when limit is not given
	MaxLimit         = 10000 // larger limits are capped to this
	MaxOffset        = 1_000_000
	DefaultBuckets   = 60
	MaxBuckets       = 1000
	DefaultTopLimit  = 10
	MaxTopLimit      = 1000
	maxDatasetLen    = 128
	maxRelativeRange = 100 * 365 * 24 * time.Hour
)

// ParamError is a bad query parameter. The HTTP API answers it with 400 and
// the CLI with a usage error.
type ParamError struct {
	Param string // query parameter name, e.g. "since"
	Msg   string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

func paramErr(param, format string, a ...any) error {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, a...)}
}

// ParseRequest builds a search request from query parameters, the same way
// for every endpoint and for the CLI:
//
//	q        search language text ("" matches everything)
//	dataset  Cloudflare dataset name ("" = all)
//	since    inclusive start: a duration before now ("15m", "1h", "7d", "2w",
//	         "now-1h") or an instant (RFC 3339, or "2006-01-02" in UTC)
//	until    exclusive end, same forms as since; "now" is accepted for both
//	limit    hits per page, default 100, capped to 10000
//	offset   hits to skip, default 0
//	order    "desc" (newest first, default) or "asc"
//
// Relative times are resolved against now. Errors are *ParamError.
func ParseRequest(v url.Values, now time.Time) (search.Request, error) {
	r, err := parseCommon(v, now)
	if err != nil {
		return r, err
	}
	if r.Limit, err = intParam(v, "limit", DefaultLimit, 1, MaxLimit, true); err != nil {
		return r, err
	}
	if r.Offset, err = intParam(v, "offset", 0, 0, MaxOffset, false); err != nil {
		return r, err
	}
	switch o := strings.ToLower(strings.TrimSpace(v.Get("order"))); o {
	case "", "desc":
	case "asc":
		r.Asc = true
	default:
		return r, paramErr("order", "%q: want asc or desc", o)
	}
	return r, nil
}

// parseCommon parses the filters every endpoint shares: q, dataset, since
// and until. Limit, offset and order are left zero.
func parseCommon(v url.Values, now time.Time) (search.Request, error) {
	var r search.Request
	r.Query = strings.TrimSpace(v.Get("q"))
	if len(r.Query) > search.MaxQueryBytes {
		return r, paramErr("q", "query longer than %d bytes", search.MaxQueryBytes)
	}
	r.Dataset = strings.TrimSpace(v.Get("dataset"))
	if r.Dataset != "" && !validName(r.Dataset, maxDatasetLen) {
		return r, paramErr("dataset", "%q is not a dataset name", r.Dataset)
	}
	var err error
	if r.Since, err = timeParam(v, "since", now); err != nil {
		return r, err
	}
	if r.Until, err = timeParam(v, "until", now); err != nil {
		return r, err
	}
	if !r.Since.IsZero() && !r.Until.IsZero() && !r.Since.Before(r.Until) {
		return r, paramErr("since", "must be before until (%s >= %s)",
			r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339))
	}
	return r, nil
}

func timeParam(v url.Values, name string, now time.Time) (time.Time, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := ParseTime(s, now)
	if err != nil {
		return time.Time{}, &ParamError{Param: name, Msg: err.Error()}
	}
	return t, nil
}

// intParam parses an integer parameter: def when absent, an error below lo;
// above hi it is capped to hi when capHigh, an error otherwise.
func intParam(v url.Values, name string, def, lo, hi int, capHigh bool) (int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange || strings.HasPrefix(s, "-") {
			return 0, paramErr(name, "%q is not an integer", s)
		}
		n = math.MaxInt64
	}
	if n < int64(lo) {
		return 0, paramErr(name, "%d is below the minimum %d", n, lo)
	}
	if n > int64(hi) {
		if !capHigh {
			return 0, paramErr(name, "%s is above the maximum %d", s, hi)
		}
		return hi, nil
	}
	return int(n), nil
}

// validName accepts dataset and field names: letters, digits and _ . @ -
func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '@', c == '-':
		default:
			return false
		}
	}
	return true
}

// ParseTime parses a point in time as the API and the CLI accept it:
//
//   - "now"
//   - a duration before now: "15m", "1h", "7d", "2w", "1h30m", "90s",
//     optionally written "-15m" or "now-15m" (units ms, s, m, h, d, w)
//   - an RFC 3339 instant: "2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00"
//   - a date or a date and time without zone, taken as UTC: "2024-05-01",
//     "2024-05-01T12:00", "2024-05-01 12:00:00"
//
// The result is in UTC.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	ls := strings.ToLower(s)
	if ls == "now" {
		return now.UTC(), nil
	}
	rel := strings.TrimPrefix(ls, "now")
	rel = strings.TrimPrefix(rel, "-")
	if rel != "" && rel[0] >= '0' && rel[0] <= '9' && !strings.Contains(rel, ":") && !isDateLike(rel) {
		d, err := parseDuration(rel)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: %v", s, err)
		}
		return now.Add(-d).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want a duration before now (15m, 1h, 7d) or an RFC 3339 time (2006-01-02T15:04:05Z)", s)
}

func isDateLike(s string) bool {
	return len(s) >= 10 && s[4] == '-' && s[7] == '-'
}

// parseDuration parses a sequence of number+unit pairs: "15m", "7d", "1h30m",
// "1.5h". Units: ms, s, m, h, d (24h), w (7d).
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("bad duration: expected a number at %q", s)
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("bad number %q", s[:i])
		}
		s = s[i:]
		j := 0
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		var unit time.Duration
		switch s[:j] {
		case "ms":
			unit = time.Millisecond
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		case "":
			return 0, fmt.Errorf("missing unit after %v (use ms, s, m, h, d or w)", n)
		default:
			return 0, fmt.Errorf("unknown unit %q (use ms, s, m, h, d or w)", s[:j])
		}
		s = s[j:]
		total += n * float64(unit)
		if total > float64(maxRelativeRange) || math.IsInf(total, 0) {
			return 0, fmt.Errorf("duration longer than 100 years")
		}
	}
	return time.Duration(total), nil
}

// EncodeRequest is the inverse of ParseRequest: the query parameters for r,
// with times as absolute RFC 3339 instants. The Client uses it.
func EncodeRequest(r search.Request) url.Values {
	v := url.Values{}
	if r.Query != "" {
		v.Set("q", r.Query)
	}
	if r.Dataset != "" {
		v.Set("dataset", r.Dataset)
	}
	if !r.Since.IsZero() {
		v.Set("since", r.Since.UTC().Format(time.RFC3339Nano))
	}
	if !r.Until.IsZero() {
		v.Set("until", r.Until.UTC().Format(time.RFC3339Nano))
	}
	if r.Limit > 0 {
		v.Set("limit", strconv.Itoa(r.Limit))
	}
	if r.Offset > 0 {
		v.Set("offset", strconv.Itoa(r.Offset))
	}
	if r.Asc {
		v.Set("order", "asc")
	}
	return v
}
