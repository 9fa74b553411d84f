// Package logpull is the source that pulls a zone's HTTP request logs
// from Cloudflare's Logpull API (type cloudflare_logpull;
// shared/cloudflare/PROTOCOL.md §4): GET /zones/{id}/logs/received, one
// time window after another.
//
// # Windows
//
// Windows are [start, end) in whole minutes, walked forward from the
// checkpoint: each as long as window (at most 1 h, Logpull's limit), ending
// no later than now - delay (rounded down to the minute; Cloudflare serves
// nothing newer than a minute, 5 per its API reference) and starting no
// earlier than 7 days ago (retention; a checkpoint older than that skips
// ahead with a warning and flarehose_poll_errors_total{reason=
// "retention_gap"}). Catching up, windows follow each other at once (the
// request budgets pace them: 1200 / 5 min per credential, 15 / min per
// zone); caught up, the source polls every interval. Logpull's time is
// when Cloudflare received the record, so a window's answer never changes
// and windows need no overlap.
//
// Each request asks for fields (default: all, from
// /logs/received/fields, fetched once), timestamps=unixnano by default
// (Logpull documents unixnano, unix and rfc3339; a configured rfc3339ns
// falls back to unixnano once, for good, if Cloudflare refuses it) and
// sample when set.
//
// # A window is handed on only once it is complete
//
// The gzip NDJSON answer is decompressed into a spool file next to the
// checkpoint (bounded memory whatever the window holds). An answer whose
// last line is "Error streaming data." (or that is cut, or whose gzip is
// bad) is incomplete: the spool is dropped and the same window is
// requested again after a backoff, so nothing of it was handed on. A
// complete spool is renamed into place, recorded in the checkpoint as
// pending, and handed to the pipeline in chunks of chunk_bytes (dataset
// logpull), the checkpoint noting after each stored chunk how far it got;
// after the last chunk the checkpoint's end moves to the window's end.
// A restart resumes a pending window from its spool at the first chunk
// not stored, so a crash repeats at most the chunk being stored.
//
// # Checkpoint
//
// <data_dir>/checkpoints/<source name>.json, written atomically:
//
//	{"version":1, "type":"cloudflare_logpull", "zone_id":"...",
//	 "end":"...",            end of the last complete window: the next starts here
//	 "pending": {"start":"...", "end":"...", "file":"<name>.window.ndjson",
//	             "size":N, "offset":N, "line":N},   (only while a window is being handed on)
//	 "updated":"..."}
//
// # Failures
//
// As cfaudit: nothing advances on a failure; Retry-After on 429;
// pause on the pipeline's backpressure; authentication failures and a
// zone without log retention are logged at error level with what to do.
// An end Cloudflare finds too recent (its clock behind ours) adds a minute
// of extra delay each time, up to an hour, and retries at once.
package logpull

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/decode"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/source/cfapi"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// Dataset is what the records are handed on as (internal/normalize).
const Dataset = "logpull"

// StreamErrorLine is the line Logpull ends an incomplete answer with.
const StreamErrorLine = "Error streaming data."

const (
	checkpointVersion = 1
	typeName          = "cloudflare_logpull"
	// retentionMargin keeps the first window this far inside the 7 days.
	retentionMargin = 10 * time.Minute
	maxSkew         = time.Hour
	// PermissionHint names what Logpull needs.
	PermissionHint = "Logpull needs an API token with the Logs Read permission for the zone (Enterprise zones only), or api_email + api_key"
)

// Source pulls Logpull windows. It implements source.Source.
type Source struct {
	name      string
	cfg       Config
	log       *slog.Logger
	m         *telemetry.Metrics
	client    *cfapi.Client
	clock     cfapi.Clock
	ckPath    string
	spoolPath string
	path      string
	zone      *cfapi.Budget
	user      *cfapi.Budget
	runner    *cfapi.Runner

	// Owned by the poll loop after Start.
	next       event.Consumer
	st         checkpoint
	loaded     bool
	fields     string // comma-separated, resolved
	timestamps string
	skew       time.Duration // extra delay learned from "too recent" refusals
	margin     time.Duration // retention margin, grown by "too early" refusals
}

type checkpoint struct {
	Version int       `json:"version"`
	Type    string    `json:"type"`
	ZoneID  string    `json:"zone_id"`
	End     time.Time `json:"end"`
	Pending *pending  `json:"pending,omitempty"`
	Updated time.Time `json:"updated"`
}

type pending struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	File   string    `json:"file"`
	Size   int64     `json:"size"`
	Offset int64     `json:"offset"`
	Line   int       `json:"line"`
}

var _ source.Source = (*Source)(nil)

// New builds the source; Start makes it poll. cfg must have its defaults
// set.
func New(name string, cfg Config, deps source.Deps) (*Source, error) {
	return newSource(name, cfg, deps, cfapi.RealClock)
}

func newSource(name string, cfg Config, deps source.Deps, clock cfapi.Clock) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cloudflare_logpull source %q: %w", name, err)
	}
	set, err := cfapi.NewSetup("cloudflare_logpull", name, cfg.APIConfig, deps.DataDir, deps.Logger, deps.Metrics, clock)
	if err != nil {
		return nil, err
	}
	client := set.Client
	s := &Source{name: name, cfg: cfg, log: set.Log, m: set.Metrics, clock: clock, client: client,
		ckPath: set.Checkpoint, path: "/zones/" + cfg.ZoneID + "/logs/received",
		timestamps: cfg.Timestamps, margin: retentionMargin}
	s.spoolPath = strings.TrimSuffix(s.ckPath, ".json") + ".window.ndjson"
	base := strings.TrimRight(cfg.BaseURL, "/")
	s.zone = cfapi.SharedBudget("logpull-zone|"+base+"|"+cfg.ZoneID, cfapi.LogpullZoneRequests, time.Minute)
	s.user = cfapi.SharedBudget("logpull-user|"+client.CredentialID(), cfapi.LogpullUserRequests, time.Minute)
	if len(cfg.Fields) > 0 {
		s.fields = joinFields(cfg.Fields)
	}
	s.runner = &cfapi.Runner{Name: name, Log: s.log, Metrics: s.m, Clock: clock, Poll: s.poll}
	return s, nil
}

// Name implements source.Source.
func (s *Source) Name() string { return s.name }

// Start reads the checkpoint and starts polling; the first poll starts at
// once. ctx is not used after Start returns: Stop stops the source.
func (s *Source) Start(ctx context.Context, next event.Consumer) error {
	if err := s.prepare(next); err != nil {
		return err
	}
	from := "now - " + s.cfg.Since.String() + " (no checkpoint yet)"
	if s.loaded {
		from = s.st.End.Format(time.RFC3339)
	}
	s.log.Info("pulling Logpull windows", "zone_id", s.cfg.ZoneID, "from", from,
		"window", s.cfg.Window.String(), "delay", s.cfg.Delay.String(), "interval", s.cfg.Interval.String())
	return s.runner.Start()
}

// Stop stops polling: a window being downloaded is abandoned, a chunk
// being stored may finish until ctx ends; the checkpoint never moves past
// what was stored.
func (s *Source) Stop(ctx context.Context) error { return s.runner.Stop(ctx) }

func (s *Source) prepare(next event.Consumer) error {
	if next == nil {
		return errors.New("cloudflare_logpull: Start needs a consumer")
	}
	s.next = next
	// Partial downloads of a previous run.
	if olds, _ := filepath.Glob(s.spoolPath + ".part-*"); len(olds) > 0 {
		for _, p := range olds {
			os.Remove(p)
		}
	}
	var st checkpoint
	found, err := cfapi.LoadCheckpoint(s.ckPath, &st)
	if err != nil {
		return fmt.Errorf("cloudflare_logpull source %q: %w", s.name, err)
	}
	switch {
	case !found:
		return nil
	case st.Type != typeName || st.ZoneID != s.cfg.ZoneID:
		s.log.Warn("the checkpoint is for another zone: starting over from since (it will be replaced)",
			"checkpoint", s.ckPath, "checkpoint_zone", st.ZoneID)
		return nil
	case st.End.IsZero():
		return fmt.Errorf("cloudflare_logpull source %q: checkpoint %s has no end; move it away to start over", s.name, s.ckPath)
	}
	s.st, s.loaded = st, true
	return nil
}

func floorMinute(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

func ceilMinute(t time.Time) time.Time {
	f := floorMinute(t)
	if f.Before(t) {
		return f.Add(time.Minute)
	}
	return f
}

// poll pulls every complete window available.
func (s *Source) poll(ctx, cctx context.Context) (time.Duration, error) {
	now := s.clock.Now()
	if !s.loaded {
		start := floorMinute(now.Add(-s.cfg.Since.D()))
		if oldest := ceilMinute(now.Add(-Retention + s.margin)); start.Before(oldest) {
			start = oldest // since: 7d means as far back as Logpull keeps
		}
		s.st = checkpoint{Version: checkpointVersion, Type: typeName, ZoneID: s.cfg.ZoneID, End: start}
		s.loaded = true
	}
	s.setLag(now)
	if s.st.Pending != nil {
		if err := s.deliverPending(ctx, cctx); err != nil {
			return 0, err
		}
	}
	if s.fields == "" {
		if err := s.resolveFields(ctx); err != nil {
			return 0, s.hint(err)
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		now = s.clock.Now()
		s.setLag(now)
		if oldest := ceilMinute(now.Add(-Retention + s.margin)); s.st.End.Before(oldest) {
			s.log.Warn("the checkpoint is older than Logpull keeps logs: skipping ahead, the records in between are lost",
				"from", s.st.End.Format(time.RFC3339), "to", oldest.Format(time.RFC3339))
			s.m.PollErrors.WithLabelValues(s.name, "retention_gap").Inc()
			s.st.End = oldest
			if err := s.save(); err != nil {
				return 0, err
			}
		}
		avail := floorMinute(now.Add(-s.cfg.Delay.D() - s.skew))
		if !s.st.End.Before(avail) {
			return s.cfg.Interval.D(), nil
		}
		end := s.st.End.Add(s.cfg.Window.D())
		if end.After(avail) {
			end = avail
		}
		err := s.pullWindow(ctx, s.st.End, end)
		if err == nil && s.st.Pending != nil {
			err = s.deliverPending(ctx, cctx)
		}
		if err != nil {
			if s.adjust(err) {
				continue
			}
			return 0, s.hint(err)
		}
	}
}

// adjust reacts to a refusal the source can fix itself, and reports
// whether to try again at once: rfc3339ns not accepted (fall back to
// unixnano), end too recent for Cloudflare's clock (more delay), start too
// old for it (more margin).
func (s *Source) adjust(err error) bool {
	var ae *cfapi.Error
	if !errors.As(err, &ae) || ae.Kind != cfapi.KindBadRequest {
		return false
	}
	msg := strings.ToLower(ae.Messages())
	switch {
	case strings.Contains(msg, "too recent") && s.skew < maxSkew:
		s.skew += time.Minute
		s.m.PollErrors.WithLabelValues(s.name, "clock_skew").Inc()
		s.log.Warn("Cloudflare finds the window's end too recent (its clock is behind this machine's, or it needs a longer delay): adding a minute of delay",
			"extra_delay", s.skew.String(), "delay", s.cfg.Delay.String(), "answer", ae.Messages())
		return true
	case strings.Contains(msg, "too early") && s.margin < 24*time.Hour:
		s.margin += 10 * time.Minute
		s.m.PollErrors.WithLabelValues(s.name, "retention_gap").Inc()
		s.log.Warn("Cloudflare finds the window's start older than its retention: moving the start later", "margin", s.margin.String(), "answer", ae.Messages())
		return true
	case s.timestamps == "rfc3339ns":
		// Logpull's docs list unixnano, unix and rfc3339 only; whatever
		// else this refusal is about, unixnano is as precise.
		s.log.Info("Cloudflare refuses this Logpull request with timestamps=rfc3339ns; asking for unixnano from now on", "answer", ae.Messages())
		s.timestamps = "unixnano"
		return true
	}
	return false
}

// hint adds what to do to an authentication failure.
func (s *Source) hint(err error) error {
	var ae *cfapi.Error
	if errors.As(err, &ae) && ae.Kind == cfapi.KindAuth && ae.Hint == "" {
		if strings.Contains(strings.ToLower(ae.Messages()), "retention") {
			ae.Hint = "turn log retention on for the zone: POST /zones/" + s.cfg.ZoneID + "/logs/control/retention/flag with {\"flag\":true} (needs Logs Write); logs from before that are not kept"
		} else {
			ae.Hint = PermissionHint
		}
	}
	return err
}

// setLag sets flarehose_poll_lag_seconds: now minus the end of the last
// complete window.
func (s *Source) setLag(now time.Time) {
	s.m.PollLag.WithLabelValues(s.name).Set(max(now.Sub(s.st.End).Seconds(), 0))
}

// resolveFields asks /logs/received/fields for every field name.
func (s *Source) resolveFields(ctx context.Context) error {
	path := "/zones/" + s.cfg.ZoneID + "/logs/received/fields"
	op := "GET " + path
	body, err := s.client.GetBare(ctx, path, nil)
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return cfapi.Malformed(op, "want a JSON object of field names and descriptions, got %s", jsonKind(body))
	}
	names := make([]string, 0, len(m))
	for k := range m {
		if fieldName.MatchString(k) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return cfapi.Malformed(op, "the list of fields is empty")
	}
	slices.Sort(names)
	s.fields = joinFields(names)
	s.log.Info("asking Logpull for every field it lists", "fields", len(names))
	return nil
}

func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "an empty body"
	}
	if len(b) > 60 {
		b = append(b[:60:60], "..."...)
	}
	return strconv.Quote(string(b))
}

// pullWindow downloads [start, end) into the spool file and records it as
// pending; an empty window just moves the checkpoint. An incomplete answer
// leaves nothing behind.
func (s *Source) pullWindow(ctx context.Context, start, end time.Time) error {
	q := url.Values{}
	q.Set("start", start.UTC().Format(time.RFC3339))
	q.Set("end", end.UTC().Format(time.RFC3339))
	q.Set("fields", s.fields)
	q.Set("timestamps", s.timestamps)
	if s.cfg.Sample > 0 && s.cfg.Sample < 1 {
		q.Set("sample", strconv.FormatFloat(s.cfg.Sample, 'f', -1, 64))
	}
	op := fmt.Sprintf("GET %s (start=%s end=%s)", s.path, q.Get("start"), q.Get("end"))
	wctx, cancel := context.WithTimeout(ctx, s.cfg.MaxWindowTime.D())
	defer cancel()
	resp, err := s.client.Stream(wctx, s.path, q, s.user, s.zone)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	if err := os.MkdirAll(filepath.Dir(s.spoolPath), 0o750); err != nil {
		return &cfapi.CheckpointError{Path: s.spoolPath, Err: err}
	}
	f, err := os.CreateTemp(filepath.Dir(s.spoolPath), filepath.Base(s.spoolPath)+".part-*")
	if err != nil {
		return &cfapi.CheckpointError{Path: s.spoolPath, Err: err}
	}
	tmp := f.Name()
	kept := false
	defer func() {
		if !kept {
			f.Close()
			os.Remove(tmp)
		}
	}()
	counted := &countReader{r: resp.Body}
	defer func() { s.client.CountBytes(counted.n) }()
	zr, err := decode.NewReader(counted, resp.Header.Get("Content-Encoding"), 0)
	if err != nil {
		return s.streamError(ctx, op, "cannot decompress the answer: "+err.Error())
	}
	defer zr.Close()
	tw := &tailWriter{w: f}
	if _, err := io.Copy(tw, zr); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return &cfapi.CheckpointError{Path: tmp, Err: err} // the disk, not the answer
		}
		if errors.Is(err, decode.ErrCorrupt) {
			return s.streamError(ctx, op, fmt.Sprintf("cannot decompress the answer (after %d bytes): %v", tw.n, err))
		}
		return s.streamError(ctx, op, fmt.Sprintf("the answer was cut after %d bytes: %v", tw.n, err))
	}
	if tw.endsWithStreamError() {
		return s.streamError(ctx, op, fmt.Sprintf("the answer ended with %q after %d bytes; the window is requested again", StreamErrorLine, tw.n))
	}
	if tw.n == 0 || allBlank(tw.tail) && tw.n == int64(len(tw.tail)) {
		s.st.End = end.UTC()
		if err := s.save(); err != nil {
			return err
		}
		s.runner.Progress()
		s.setLag(s.clock.Now())
		return nil
	}
	if err := f.Sync(); err != nil {
		return &cfapi.CheckpointError{Path: tmp, Err: err}
	}
	if err := f.Close(); err != nil {
		return &cfapi.CheckpointError{Path: tmp, Err: err}
	}
	if err := os.Rename(tmp, s.spoolPath); err != nil {
		return &cfapi.CheckpointError{Path: s.spoolPath, Err: err}
	}
	kept = true
	s.st.Pending = &pending{Start: start.UTC(), End: end.UTC(), File: filepath.Base(s.spoolPath), Size: tw.n}
	if err := s.save(); err != nil {
		return err
	}
	return nil
}

func allBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

func (s *Source) streamError(ctx context.Context, op, detail string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return &cfapi.Error{Kind: cfapi.KindStream, Op: op, Status: 200, Detail: detail}
}

// deliverPending hands the pending window's spool on, chunk by chunk,
// then moves the checkpoint to the window's end.
func (s *Source) deliverPending(ctx, cctx context.Context) error {
	p := s.st.Pending
	f, err := os.Open(s.spoolPath)
	if err == nil {
		defer f.Close()
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil && fi.Size() != p.Size {
			err = fmt.Errorf("it holds %d bytes, the checkpoint says %d", fi.Size(), p.Size)
		}
	}
	if err != nil {
		// The spool is gone or damaged: fetch the window again. What was
		// already stored of it comes a second time (the store dedups by RayID).
		s.log.Warn("the pending window's spool file is unusable: requesting the window again", "file", s.spoolPath, "err", err.Error(),
			"start", p.Start.Format(time.RFC3339), "end", p.End.Format(time.RFC3339), "lines_already_stored", p.Line)
		s.st.Pending = nil
		return s.save()
	}
	if p.Offset > 0 {
		if _, err := f.Seek(p.Offset, io.SeekStart); err != nil {
			return &cfapi.CheckpointError{Path: s.spoolPath, Err: err}
		}
	}
	origin := fmt.Sprintf("GET %s?start=%s&end=%s", s.path, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339))
	cr := decode.NewChunkReader(f, int(s.cfg.ChunkBytes), decode.DefaultMaxLine)
	for p.Offset < p.Size {
		if err := ctx.Err(); err != nil {
			return err
		}
		ch, err := cr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &cfapi.CheckpointError{Path: s.spoolPath, Err: err}
		}
		if ch.Lines > 0 {
			d := &event.Delivery{Dataset: Dataset, Source: s.name, Origin: origin, Received: s.clock.Now(), Body: ch.Data, FirstLine: p.Line + 1}
			if _, err := s.next.Consume(cctx, d); err != nil {
				return &cfapi.ConsumerError{Err: err}
			}
		}
		p.Offset += int64(len(ch.Data))
		p.Line += bytes.Count(ch.Data, []byte{'\n'})
		if p.Offset < p.Size {
			if err := s.save(); err != nil {
				return err
			}
		}
	}
	f.Close()
	s.st.End, s.st.Pending = p.End, nil
	if err := s.save(); err != nil {
		return err
	}
	os.Remove(s.spoolPath)
	s.runner.Progress()
	s.setLag(s.clock.Now())
	return nil
}

func (s *Source) save() error {
	s.st.Updated = s.clock.Now().UTC()
	return cfapi.SaveCheckpoint(s.ckPath, &s.st)
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// tailWriter writes through and keeps the last bytes written.
type tailWriter struct {
	w    io.Writer
	n    int64
	tail []byte
}

const tailKeep = 128

func (t *tailWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.n += int64(n)
	if len(p) >= tailKeep {
		t.tail = append(t.tail[:0], p[len(p)-tailKeep:]...)
	} else {
		t.tail = append(t.tail, p...)
		if len(t.tail) > tailKeep {
			t.tail = append(t.tail[:0], t.tail[len(t.tail)-tailKeep:]...)
		}
	}
	return n, err
}

// endsWithStreamError reports whether the last non-blank line is
// Logpull's "Error streaming data.".
func (t *tailWriter) endsWithStreamError() bool {
	trimmed := bytes.TrimRight(t.tail, " \t\r\n")
	if !bytes.HasSuffix(trimmed, []byte(StreamErrorLine)) {
		return false
	}
	before := len(trimmed) - len(StreamErrorLine)
	return before == 0 || trimmed[before-1] == '\n'
}
