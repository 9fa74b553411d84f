package cfapi

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/flarehose/flarehose/internal/sim"
)

// Logpull (PROTOCOL.md §4): a zone's http_requests records by the minute.
// Every minute of every zone is generated on demand from a seed derived
// from the server seed, the zone ID and the minute, so pulling the same
// window twice gives the same records (in the same order), and a window
// that overlaps another agrees with it on the shared part.

// defaultLogpullFields is what /logs/received returns without fields=
// (the docs' example set; Cloudflare says its default "may change").
var defaultLogpullFields = []string{"ClientIP", "ClientRequestHost", "ClientRequestMethod", "ClientRequestURI",
	"EdgeEndTimestamp", "EdgeResponseBytes", "EdgeResponseStatus", "EdgeStartTimestamp", "RayID"}

const streamErrorLine = "Error streaming data.\n"

type logpullStore struct {
	s       *Server
	mu      sync.Mutex
	rays    map[string]map[string]rayPos // zone -> ray -> where
	scanned map[string]map[int64]bool    // zone -> minutes indexed
}

type rayPos struct {
	minute int64
	index  int
}

func newLogpullStore(s *Server) *logpullStore {
	return &logpullStore{s: s, rays: map[string]map[string]rayPos{}, scanned: map[string]map[int64]bool{}}
}

// minuteSeed is the seed of one zone minute.
func (s *Server) minuteSeed(zoneID string, minute int64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(zoneID))
	var b [16]byte
	for i := range 8 {
		b[i] = byte(s.cfg.Seed >> (8 * i))
		b[8+i] = byte(uint64(minute) >> (8 * i))
	}
	h.Write(b[:])
	return h.Sum64()
}

// dayShape is the relative traffic rate at t (1 on average over a
// weekday): a trough around 03:00 UTC, a peak around 15:00 UTC, quieter
// weekends.
func dayShape(t time.Time) float64 {
	t = t.UTC()
	h := float64(t.Hour()) + float64(t.Minute())/60
	rate := (0.55 + 0.45*math.Cos(2*math.Pi*(h-15)/24)) / 0.55
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		rate *= 0.8
	}
	return rate
}

// minuteRecords renders the records of one zone minute with format f and
// calls emit for each, in time order; emit returns false to stop.
func (s *Server) minuteRecords(z *zoneState, minute int64, f *sim.Format, emit func(i int, t time.Time, rec []byte) bool) {
	seed := s.minuteSeed(z.ID, minute)
	r := rand.New(rand.NewPCG(seed, 1))
	start := time.Unix(minute*60, 0)
	n := int(math.Round(s.cfg.LogpullPerMinute * dayShape(start) * (0.85 + 0.3*r.Float64())))
	if n <= 0 {
		return
	}
	gen, err := sim.NewGeneratorConfig("http_requests", sim.Config{Seed: seed, Zones: []string{z.Name}})
	if err != nil {
		panic(err) // zones are checked in New
	}
	var buf []byte
	for i := range n {
		t := start.Add(time.Duration((float64(i) + r.Float64()) / float64(n) * float64(time.Minute)))
		buf = gen.Append(buf[:0], t, f)
		if !emit(i, t, buf) {
			return
		}
	}
}

// logpullQuery is a parsed /logs/received query.
type logpullQuery struct {
	start, end time.Time
	count      int
	sample     float64
	format     *sim.Format
}

var logpullParams = []string{"start", "end", "fields", "count", "sample", "timestamps", "CVE-2021-44228"}

// parseLogpullTime reads Unix seconds, Unix nanoseconds or RFC 3339.
func parseLogpullTime(v string) (time.Time, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if len(strings.TrimPrefix(v, "-")) > 12 {
			return time.Unix(0, n), true
		}
		return time.Unix(n, 0), true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func badQuery(msg string) *apiError { return badRequest("bad query: " + msg) }

// parseFormat reads fields, timestamps and CVE-2021-44228.
func (s *Server) logpullFormat(c *request) (*sim.Format, *apiError) {
	opts := sim.OutputOptions{FieldNames: defaultLogpullFields}
	if v, _ := c.query("fields"); v != "" {
		if strings.ContainsAny(v, " \t") {
			return nil, badQuery("error parsing fields: fields must be comma-separated without spaces")
		}
		opts.FieldNames = strings.Split(v, ",")
		ds, _ := s.catalog.lookup("zone", "http_requests")
		seen := map[string]bool{}
		for _, f := range opts.FieldNames {
			if _, ok := ds.field(f); !ok {
				return nil, badQuery("error parsing fields: unknown field " + strconv.Quote(f))
			}
			if seen[f] {
				return nil, badQuery("error parsing fields: field " + strconv.Quote(f) + " given twice")
			}
			seen[f] = true
		}
	}
	switch v, _ := c.query("timestamps"); v {
	case "", "unixnano":
		opts.TimestampFormat = sim.TimestampUnixNano
	case "unix", "rfc3339":
		opts.TimestampFormat = v
	default:
		return nil, badQuery("error parsing timestamps: must be one of unixnano, unix, rfc3339")
	}
	if v, ok := c.query("CVE-2021-44228"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, badQuery("error parsing CVE-2021-44228: must be true or false")
		}
		opts.CVE202144228 = b
	}
	f, err := sim.NewFormat("http_requests", opts)
	if err != nil {
		return nil, badQuery(err.Error())
	}
	return f, nil
}

// logpullAdmit applies retention and Logpull's own rate limits.
func (s *Server) logpullAdmit(c *request) *apiError {
	s.mu.Lock()
	on := c.scope.zone.retention
	s.mu.Unlock()
	if !on {
		return errorf(http.StatusForbidden, CodeRetentionOff, "Log retention is not enabled for this zone")
	}
	for _, l := range []struct {
		lim *limiter
		key string
	}{{s.lpZone, "zone:" + c.scope.id}, {s.lpUser, c.id.key}} {
		if l.lim == nil {
			continue
		}
		if _, _, retry := l.lim.take(l.key, c.now); retry > 0 {
			c.w.Header().Set("Retry-After", strconv.FormatInt(max(ceilSeconds(retry), 1), 10))
			return errorf(http.StatusTooManyRequests, CodeRateLimited, msgRateLimited)
		}
	}
	return nil
}

// writeLogpullError renders a Logpull query error: the envelope, or the
// plain text third parties observed.
func (s *Server) logpullError(c *request, e *apiError) *apiError {
	if e == nil || !s.cfg.LogpullPlainErrors || e.status != http.StatusBadRequest {
		return e
	}
	c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	c.w.WriteHeader(e.status)
	c.w.Write([]byte(e.msg.Message + "\n"))
	return nil
}

func (s *Server) parseReceived(c *request) (*logpullQuery, *apiError) {
	for name := range c.r.URL.Query() {
		known := false
		for _, p := range logpullParams {
			known = known || p == name
		}
		if !known {
			return nil, badRequest("bad query parameter: query arguments are limited to: " + strings.Join(logpullParams, ","))
		}
	}
	q := &logpullQuery{sample: 1}
	startV, ok := c.query("start")
	if !ok || startV == "" {
		return nil, badQuery("error parsing start time: start is required")
	}
	if q.start, ok = parseLogpullTime(startV); !ok {
		return nil, badQuery("error parsing start time: must be unix timestamp or rfc3339 string")
	}
	endV, ok := c.query("end")
	if !ok || endV == "" {
		return nil, badQuery("error parsing end time: end is required")
	}
	if q.end, ok = parseLogpullTime(endV); !ok {
		return nil, badQuery("error parsing end time: must be unix timestamp or rfc3339 string")
	}
	cfg := s.cfg
	switch {
	case !q.start.Before(q.end):
		return nil, badQuery("error parsing time: invalid time range: start not before end")
	case q.end.Sub(q.start) > cfg.LogpullMaxWindow:
		return nil, badQuery("error parsing time: invalid time range: too long")
	case q.start.Before(c.now.Add(-cfg.LogpullRetention)):
		return nil, badQuery("error parsing time: invalid time range: too early: logs older than " + cfg.LogpullRetention.String() + " are not available")
	case q.end.After(c.now.Add(-cfg.LogpullMinDelay)):
		return nil, badQuery("error parsing time: invalid time range: too recent: minimum delay in serving logs is " + cfg.LogpullMinDelay.String())
	}
	if v, ok := c.query("count"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, badQuery("error parsing count: must be a positive integer")
		}
		q.count = n
	}
	if v, ok := c.query("sample"); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1) {
			return nil, badQuery("error parsing sample: must be a number in (0.0, 1.0]")
		}
		q.sample = f
	}
	var err *apiError
	q.format, err = s.logpullFormat(c)
	return q, err
}

// ndjsonWriter writes Logpull's body, gzip-compressed when the client
// accepts it.
type ndjsonWriter struct {
	w  http.ResponseWriter
	zw *gzip.Writer
}

func newNDJSONWriter(c *request) *ndjsonWriter {
	h := c.w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	nw := &ndjsonWriter{w: c.w}
	if strings.Contains(c.r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		nw.zw = gzip.NewWriter(c.w)
	}
	c.w.WriteHeader(http.StatusOK)
	return nw
}

func (nw *ndjsonWriter) Write(b []byte) {
	if nw.zw != nil {
		nw.zw.Write(b)
		return
	}
	nw.w.Write(b)
}

func (nw *ndjsonWriter) Close() {
	if nw.zw != nil {
		nw.zw.Close()
	}
}

// handleReceived: GET /zones/{id}/logs/received.
func (s *Server) handleReceived(c *request) *apiError {
	if err := s.logpullAdmit(c); err != nil {
		return err
	}
	q, err := s.parseReceived(c)
	if err != nil {
		return s.logpullError(c, err)
	}
	cut, fail := -1, false
	if s.cfg.LogpullFault != nil {
		if n, f := s.cfg.LogpullFault(c.scope.id, q.start, q.end); f {
			cut, fail = max(n, 0), true
		}
	}
	out := newNDJSONWriter(c)
	defer out.Close()
	written := 0
	firstMin, lastMin := floorDiv(q.start.Unix(), 60), floorDiv(q.end.Add(-1).Unix(), 60)
	done := false
	for m := firstMin; m <= lastMin && !done; m++ {
		var sampler *rand.Rand
		if q.sample < 1 {
			sampler = rand.New(rand.NewPCG(s.minuteSeed(c.scope.id, m), 2))
		}
		s.minuteRecords(c.scope.zone, m, q.format, func(_ int, t time.Time, rec []byte) bool {
			if sampler != nil && sampler.Float64() >= q.sample {
				return true
			}
			if t.Before(q.start) || !t.Before(q.end) {
				return true
			}
			if (q.count > 0 && written >= q.count) || (fail && written >= cut) {
				done = true
				return false
			}
			out.Write(rec)
			written++
			return true
		})
	}
	if fail {
		out.Write([]byte(streamErrorLine))
	}
	return nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

var rayRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// handleRayID: GET /zones/{id}/logs/rayids/{ray_id}.
func (s *Server) handleRayID(c *request) *apiError {
	if err := s.logpullAdmit(c); err != nil {
		return err
	}
	for name := range c.r.URL.Query() {
		if name != "fields" && name != "timestamps" && name != "CVE-2021-44228" {
			return s.logpullError(c, badRequest("bad query parameter: query arguments are limited to: fields,timestamps,CVE-2021-44228"))
		}
	}
	ray, _, _ := strings.Cut(strings.ToLower(c.params["ray"]), "-") // drop a -IATA suffix
	if !rayRe.MatchString(ray) {
		return s.logpullError(c, badQuery("invalid ray id "+strconv.Quote(c.params["ray"])+": want 16 hex digits"))
	}
	f, err := s.logpullFormat(c)
	if err != nil {
		return s.logpullError(c, err)
	}
	pos, found := s.logpull.find(c.scope.zone, ray, c.now)
	out := newNDJSONWriter(c)
	defer out.Close()
	if found {
		s.minuteRecords(c.scope.zone, pos.minute, f, func(i int, _ time.Time, rec []byte) bool {
			if i == pos.index {
				out.Write(rec)
				return false
			}
			return true
		})
	}
	return nil
}

// find looks a Ray ID up in a zone's retained minutes, newest first,
// indexing every minute it reads.
func (l *logpullStore) find(z *zoneState, ray string, now time.Time) (rayPos, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rays, scanned := l.rays[z.ID], l.scanned[z.ID]
	if rays == nil {
		rays, scanned = map[string]rayPos{}, map[int64]bool{}
		l.rays[z.ID], l.scanned[z.ID] = rays, scanned
	}
	if p, ok := rays[ray]; ok {
		return p, true
	}
	f := sim.MustFormat("http_requests", sim.OutputOptions{FieldNames: []string{"RayID"}})
	newest := floorDiv(now.Add(-l.s.cfg.LogpullMinDelay).Unix(), 60) - 1
	oldest := floorDiv(now.Add(-l.s.cfg.LogpullRetention).Unix(), 60) + 1
	for m := newest; m >= oldest; m-- {
		if scanned[m] {
			continue
		}
		scanned[m] = true
		l.s.minuteRecords(z, m, f, func(i int, _ time.Time, rec []byte) bool {
			var v struct{ RayID string }
			if json.Unmarshal(bytes.TrimSpace(rec), &v) == nil {
				rays[v.RayID] = rayPos{minute: m, index: i}
			}
			return true
		})
		if p, ok := rays[ray]; ok {
			return p, true
		}
	}
	return rayPos{}, false
}

// handleReceivedFields: GET /zones/{id}/logs/received/fields, a bare
// object (no envelope).
func (s *Server) handleReceivedFields(c *request) *apiError {
	ds, _ := s.catalog.lookup("zone", "http_requests")
	writeJSON(c.w, http.StatusOK, ds.describe())
	return nil
}

// handleRetentionGet: GET /zones/{id}/logs/control/retention/flag.
func (s *Server) handleRetentionGet(c *request) *apiError {
	s.mu.Lock()
	on := c.scope.zone.retention
	s.mu.Unlock()
	return c.ok(map[string]bool{"flag": on}, nil)
}

// handleRetentionSet: POST /zones/{id}/logs/control/retention/flag.
func (s *Server) handleRetentionSet(c *request) *apiError {
	var body struct {
		Flag *bool `json:"flag"`
	}
	if err := c.decode(&body); err != nil {
		return err
	}
	if body.Flag == nil {
		return badRequest("flag is required (true or false)")
	}
	s.mu.Lock()
	old := c.scope.zone.retention
	c.scope.zone.retention = *body.Flag
	s.mu.Unlock()
	if old != *body.Flag {
		s.auditAPI(c, "update", "logpull_retention", c.scope.id, c.scope.zone.Name,
			map[string]string{"zone_name": c.scope.zone.Name}, map[string]bool{"flag": old}, map[string]bool{"flag": *body.Flag}, "logs")
	}
	return c.ok(map[string]bool{"flag": *body.Flag}, nil)
}
