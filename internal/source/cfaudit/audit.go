// Package cfaudit is the source that polls Cloudflare's audit log API
// (type cloudflare_audit; shared/cloudflare/PROTOCOL.md §5): v2
// (GET /accounts/{id}/logs/audit, cursor pages) or v1
// (GET /accounts/{id}/audit_logs, numbered pages).
//
// # A poll
//
// Every interval it asks for the events since the checkpoint's since, in
// ascending time order (direction=asc: pages already read do not shift as
// new events arrive), and walks the pages: v1 page=1,2,... until a page
// comes back empty; v2 following result_info.cursor (or cursors.after)
// until there is none. v2 needs before=: the source's time plus an hour,
// so a source clock behind Cloudflare's loses nothing. Each page's new
// items are one event.Delivery (dataset audit_logs_v2_api or
// audit_logs_api, one compact JSON item per line); the checkpoint moves
// only after Consume returned nil, page by page.
//
// # Checkpoint, overlap, dedup
//
// <data_dir>/checkpoints/<source name>.json, written atomically (temp
// file, fsync, rename, directory fsync):
//
//	{"version":1, "type":"cloudflare_audit", "api":"v2", "account_id":"...",
//	 "since":"...",      lower bound of the next query
//	 "newest":"...",     newest event time handed on
//	 "caught_up":"...",  when the last complete poll started (source clock)
//	 "seen":[{"id":"...","time":"..."}, ...],
//	 "updated":"..."}
//
// since = newest - overlap (never moving back), so every poll reads the
// last overlap again and picks up events Cloudflare shows late; seen holds
// the IDs of the events handed on with a time at or after since (the only
// ones a query can return again; at most 100000, the oldest dropped
// first), so neither the overlap nor a restart hands an event on twice.
// Only an event that shows up later than overlap after newer ones can be
// missed. Event times more than an hour ahead of the source clock do not
// move newest, so one bad timestamp cannot make the source skip ahead.
// Items without an id are keyed by a hash of their content.
//
// # Failures
//
// Nothing is advanced on a failure; the poll is retried after
// cfapi.RetryDelay (Retry-After on 429; 1 s to 30 s when the pipeline
// answers event.ErrBackpressure, ErrClosed or ErrUnavailable; 1 min to 30
// min on authentication errors, which are logged at error level with
// Cloudflare's message, naming the missing permission, and what the token
// needs: Account Settings Read). Malformed answers (bad JSON, no result, a
// result that is not a list, a cursor that is not a string or does not
// advance) are logged, counted and retried, never a crash.
package cfaudit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/source/cfapi"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// The datasets the pages are handed on as (internal/normalize).
const (
	DatasetV1 = "audit_logs_api"
	DatasetV2 = "audit_logs_v2_api"
)

const (
	checkpointVersion = 1
	typeName          = "cloudflare_audit"
	// futureSlack is how far past the source's clock v2's before= goes,
	// and how far ahead an event time may be and still count as newest.
	futureSlack = time.Hour
	// maxSeen bounds the remembered IDs.
	maxSeen = 100_000
	// maxPages bounds one walk, against an API that never stops paging.
	maxPages = 100_000
	// PermissionHint names what the audit log endpoints need.
	PermissionHint = "the audit logs need an API token with the Account Settings Read permission for the account (or api_email + api_key of a member)"
)

// Source polls the audit log API. It implements source.Source.
type Source struct {
	name    string
	cfg     Config
	log     *slog.Logger
	m       *telemetry.Metrics
	client  *cfapi.Client
	clock   cfapi.Clock
	ckPath  string
	dataset string
	path    string
	runner  *cfapi.Runner

	// Owned by the poll loop after Start.
	next   event.Consumer
	st     checkpoint
	seen   map[string]time.Time
	loaded bool // st holds a checkpoint (read or started)
}

type checkpoint struct {
	Version   int        `json:"version"`
	Type      string     `json:"type"`
	API       string     `json:"api"`
	AccountID string     `json:"account_id"`
	Since     time.Time  `json:"since"`
	Newest    time.Time  `json:"newest,omitzero"`
	CaughtUp  time.Time  `json:"caught_up,omitzero"`
	Seen      []seenItem `json:"seen"`
	Updated   time.Time  `json:"updated"`
}

type seenItem struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

var _ source.Source = (*Source)(nil)

// New builds the source; Start makes it poll. cfg must have its defaults
// set.
func New(name string, cfg Config, deps source.Deps) (*Source, error) {
	return newSource(name, cfg, deps, cfapi.RealClock)
}

func newSource(name string, cfg Config, deps source.Deps, clock cfapi.Clock) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cloudflare_audit source %q: %w", name, err)
	}
	set, err := cfapi.NewSetup("cloudflare_audit", name, cfg.APIConfig, deps.DataDir, deps.Logger, deps.Metrics, clock)
	if err != nil {
		return nil, err
	}
	s := &Source{name: name, cfg: cfg, log: set.Log, m: set.Metrics, clock: clock, client: set.Client,
		ckPath: set.Checkpoint, seen: map[string]time.Time{}}
	if cfg.Version == "v1" {
		s.dataset, s.path = DatasetV1, "/accounts/"+cfg.AccountID+"/audit_logs"
	} else {
		s.dataset, s.path = DatasetV2, "/accounts/"+cfg.AccountID+"/logs/audit"
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
	if s.loaded {
		s.log.Info("polling the audit log from its checkpoint", "api", s.cfg.Version, "account_id", s.cfg.AccountID,
			"since", s.st.Since.Format(time.RFC3339), "interval", s.cfg.Interval.String())
	} else {
		s.log.Info("polling the audit log, no checkpoint yet", "api", s.cfg.Version, "account_id", s.cfg.AccountID,
			"backfill", s.cfg.Since.String(), "interval", s.cfg.Interval.String())
	}
	return s.runner.Start()
}

// Stop stops polling: the page in flight is abandoned unless it is being
// stored (then it may finish until ctx ends), and the checkpoint never
// moves past what was stored.
func (s *Source) Stop(ctx context.Context) error { return s.runner.Stop(ctx) }

// prepare reads the checkpoint.
func (s *Source) prepare(next event.Consumer) error {
	if next == nil {
		return errors.New("cloudflare_audit: Start needs a consumer")
	}
	s.next = next
	var st checkpoint
	found, err := cfapi.LoadCheckpoint(s.ckPath, &st)
	if err != nil {
		return fmt.Errorf("cloudflare_audit source %q: %w", s.name, err)
	}
	switch {
	case !found:
		return nil
	case st.Type != typeName || st.AccountID != s.cfg.AccountID || st.API != s.cfg.Version:
		s.log.Warn("the checkpoint is for another account or API version: starting over from since (it will be replaced)",
			"checkpoint", s.ckPath, "checkpoint_account", st.AccountID, "checkpoint_api", st.API)
		return nil
	case st.Since.IsZero():
		return fmt.Errorf("cloudflare_audit source %q: checkpoint %s has no since; move it away to start over", s.name, s.ckPath)
	}
	s.st, s.loaded = st, true
	for _, it := range st.Seen {
		s.seen[it.ID] = it.Time
	}
	return nil
}

// poll is one round: walk every page since the checkpoint.
func (s *Source) poll(ctx, cctx context.Context) (time.Duration, error) {
	start := s.clock.Now()
	if !s.loaded {
		s.st = checkpoint{Version: checkpointVersion, Type: typeName, API: s.cfg.Version, AccountID: s.cfg.AccountID,
			Since: start.Add(-s.cfg.Since.D()).UTC().Truncate(time.Second)}
		s.loaded = true
	}
	s.setLag(start)
	var err error
	if s.cfg.Version == "v1" {
		err = s.walkV1(ctx, cctx, start)
	} else {
		err = s.walkV2(ctx, cctx, start)
	}
	if err != nil {
		var ae *cfapi.Error
		if errors.As(err, &ae) && ae.Kind == cfapi.KindAuth && ae.Hint == "" {
			ae.Hint = PermissionHint
		}
		return 0, err
	}
	s.st.CaughtUp = start.UTC()
	if err := s.save(); err != nil {
		return 0, err
	}
	s.setLag(s.clock.Now())
	return s.cfg.Interval.D(), nil
}

// setLag sets flarehose_poll_lag_seconds: now minus the start of the last
// complete poll (the since of the backfill before the first one).
func (s *Source) setLag(now time.Time) {
	ref := s.st.CaughtUp
	if ref.IsZero() {
		ref = s.st.Since
	}
	s.m.PollLag.WithLabelValues(s.name).Set(max(now.Sub(ref).Seconds(), 0))
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Source) walkV1(ctx, cctx context.Context, start time.Time) error {
	q := url.Values{}
	q.Set("direction", "asc")
	q.Set("per_page", strconv.Itoa(s.cfg.PageSize))
	q.Set("since", formatTime(s.st.Since))
	op := "GET " + s.path
	var prev []json.RawMessage
	for page := 1; page <= maxPages; page++ {
		q.Set("page", strconv.Itoa(page))
		env, err := s.client.Get(ctx, s.path, q)
		if err != nil {
			return err
		}
		items, err := env.ResultList(op)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		if samePage(prev, items) {
			return cfapi.Malformed(op, "page %d repeats page %d: the API ignores page=", page, page-1)
		}
		prev = items
		if err := s.deliver(ctx, cctx, items, start, fmt.Sprintf("%s page %d", op, page)); err != nil {
			return err
		}
	}
	return cfapi.Malformed(op, "more than %d pages in one poll", maxPages)
}

func samePage(a, b []json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if string(a[i]) != string(b[i]) {
			return false
		}
	}
	return true
}

func (s *Source) walkV2(ctx, cctx context.Context, start time.Time) error {
	q := url.Values{}
	q.Set("direction", "asc")
	q.Set("limit", strconv.Itoa(s.cfg.PageSize))
	q.Set("since", formatTime(s.st.Since))
	before := start
	if s.st.Since.After(before) {
		before = s.st.Since
	}
	q.Set("before", formatTime(before.Add(futureSlack)))
	op := "GET " + s.path
	cursor := ""
	for page := 1; page <= maxPages; page++ {
		env, err := s.client.Get(ctx, s.path, q)
		if err != nil {
			return err
		}
		items, err := env.ResultList(op)
		if err != nil {
			return err
		}
		next, err := v2Cursor(op, env.ResultInfo)
		if err != nil {
			return err
		}
		if len(items) > 0 {
			if err := s.deliver(ctx, cctx, items, start, fmt.Sprintf("%s page %d", op, page)); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		if next == cursor {
			return cfapi.Malformed(op, "result_info.cursor did not advance")
		}
		cursor = next
		q.Set("cursor", cursor)
	}
	return cfapi.Malformed(op, "more than %d pages in one poll", maxPages)
}

// v2Cursor reads the next page's cursor: result_info.cursor (the docs),
// else result_info.cursors.after (cloudflare-go v6); "" on the last page.
// count may be a number or a string (PROTOCOL.md §5.2) and is not used.
func v2Cursor(op string, info json.RawMessage) (string, error) {
	if info == nil {
		return "", nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(info, &m); err != nil {
		return "", cfapi.Malformed(op, "result_info is not an object")
	}
	str := func(name string, raw json.RawMessage) (string, error) {
		if raw == nil || string(raw) == "null" {
			return "", nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", cfapi.Malformed(op, "%s is not a string", name)
		}
		return v, nil
	}
	cur, err := str("result_info.cursor", m["cursor"])
	if err != nil || cur != "" {
		return cur, err
	}
	if raw := m["cursors"]; raw != nil && string(raw) != "null" {
		var cs map[string]json.RawMessage
		if err := json.Unmarshal(raw, &cs); err != nil {
			return "", cfapi.Malformed(op, "result_info.cursors is not an object")
		}
		return str("result_info.cursors.after", cs["after"])
	}
	return "", nil
}

// fresh is an item not handed on before.
type fresh struct {
	id string
	t  time.Time // zero when the item has no readable time
}

// deliver hands a page's new items on as one delivery and, once stored,
// moves the checkpoint.
func (s *Source) deliver(ctx, cctx context.Context, items []json.RawMessage, start time.Time, origin string) error {
	var body []byte
	var news []fresh
	inPage := map[string]bool{}
	for _, raw := range items {
		compact, err := compactJSON(raw)
		if err != nil {
			continue // cannot happen: raw came out of a parsed list
		}
		id, t := s.itemKey(compact)
		if _, dup := s.seen[id]; dup || inPage[id] {
			continue
		}
		inPage[id] = true
		body = append(append(body, compact...), '\n')
		news = append(news, fresh{id, t})
	}
	if len(news) == 0 {
		return nil
	}
	d := &event.Delivery{Dataset: s.dataset, Source: s.name, Origin: origin, Received: s.clock.Now(), Body: body}
	if _, err := s.next.Consume(cctx, d); err != nil {
		return &cfapi.ConsumerError{Err: err}
	}
	s.apply(news, start)
	if err := s.save(); err != nil {
		return err
	}
	s.runner.Progress()
	return nil
}

func compactJSON(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(raw))
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// itemKey returns an item's id (its "id" member, else a hash of the item)
// and time (v1 "when", v2 "action.time"; zero when absent or unreadable).
func (s *Source) itemKey(item []byte) (string, time.Time) {
	var m map[string]json.RawMessage
	if json.Unmarshal(item, &m) != nil {
		return hashID(item), time.Time{}
	}
	id := ""
	if raw := m["id"]; raw != nil {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			id = str
		} else if raw[0] != '{' && raw[0] != '[' && string(raw) != "null" {
			id = string(raw) // a number
		}
	}
	if id == "" {
		id = hashID(item)
	}
	var ts string
	if s.cfg.Version == "v1" {
		json.Unmarshal(m["when"], &ts)
	} else if a := m["action"]; a != nil {
		var action struct {
			Time json.RawMessage `json:"time"`
		}
		if json.Unmarshal(a, &action) == nil {
			json.Unmarshal(action.Time, &ts)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return id, time.Time{}
	}
	return id, t.UTC()
}

func hashID(item []byte) string {
	sum := sha256.Sum256(item)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// apply records stored items: seen, newest, since, pruning.
func (s *Source) apply(news []fresh, start time.Time) {
	limit := start.Add(futureSlack)
	for _, f := range news {
		t := f.t
		if t.IsZero() || t.After(limit) {
			if !t.IsZero() {
				s.log.Warn("an audit event is dated far ahead of this machine's clock; it does not move the checkpoint", "id", f.id, "time", t.Format(time.RFC3339))
			}
			t = s.st.Since // remembered as long as the newest events
			if s.st.Newest.After(t) {
				t = s.st.Newest
			}
		} else if t.After(s.st.Newest) {
			s.st.Newest = t
		}
		s.seen[f.id] = t
	}
	if since := s.st.Newest.Add(-s.cfg.Overlap.D()).Truncate(time.Second); since.After(s.st.Since) {
		s.st.Since = since
	}
	for id, t := range s.seen {
		if t.Before(s.st.Since) {
			delete(s.seen, id)
		}
	}
	if len(s.seen) > maxSeen {
		list := s.seenList()
		for _, it := range list[:len(list)-maxSeen] {
			delete(s.seen, it.ID)
		}
	}
}

func (s *Source) seenList() []seenItem {
	list := make([]seenItem, 0, len(s.seen))
	for id, t := range s.seen {
		list = append(list, seenItem{ID: id, Time: t})
	}
	slices.SortFunc(list, func(a, b seenItem) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return list
}

func (s *Source) save() error {
	s.st.Seen = s.seenList()
	s.st.Updated = s.clock.Now().UTC()
	return cfapi.SaveCheckpoint(s.ckPath, &s.st)
}
