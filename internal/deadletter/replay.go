package deadletter

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/decode"
	"github.com/flarehose/flarehose/internal/event"
)

// Replay sends the raw records of dead letters back to a running flarehose
// receiver, so they go through today's normalizer after a fix.
//
// # Design
//
//   - What is sent: entries of stage "normalize" that match the filter and
//     have no mark, grouped by dataset into gzip'd NDJSON uploads to
//     POST <receiver><path_prefix><dataset>, exactly as Cloudflare sends
//     them. Entries without a dataset (the delivery named none) cannot be
//     addressed to a dataset route and are skipped, as are records the
//     receiver had cut to its max_line_bytes (they can never parse) and
//     sink-stage entries (ReplayDocs sends those to their sink).
//   - Only what existed when the replay started is read (a size snapshot of
//     every file), so records that fail again during the replay are not
//     picked up and sent around in a loop.
//   - Marks: once the receiver answers 200 for an upload, every entry in it
//     is marked "replayed" in <dir>/replay.log (appended, fsynced): a later
//     replay never sends it again, even if this one is interrupted.
//   - Failed again: the receiver writes a record that still fails to the
//     dead letters again (a new entry with the same raw bytes, today's
//     error) before it answers 200. After sending, replay reads what was
//     appended to the directory since the snapshot and matches new entries
//     to sent records by dataset and raw bytes: those count as failed again
//     (the rest as accepted) and are marked "failed_again", so a plain
//     replay does not send them around again (they would fail the same
//     way); RetryFailed includes them after another fix. This only sees
//     re-dead-lettered records when the receiver writes to this directory
//     (replay on the receiver's host, with its data dir); otherwise every
//     acknowledged record counts as accepted.
//   - At most one replay or purge runs per directory (Lock).
//   - A killed replay may leave records that failed again unmarked (they are
//     then pending and would be sent once more: harmless) and, if killed
//     between a 200 and its marks, an upload that is sent twice: the
//     records carry deterministic ids, so duplicates are removed
//     downstream.
type Replay struct {
	Dir    string
	Filter Filter
	// RetryFailed also sends entries that failed again on an earlier replay.
	RetryFailed bool
	// DryRun reads and groups but sends nothing and writes no marks.
	DryRun bool

	// Receiver base URL, e.g. http://127.0.0.1:9560.
	To string
	// PathPrefix of the receiver's routes; default "/logpush/".
	PathPrefix string
	// SecretHeader carries Secret; default "X-Flarehose-Secret".
	SecretHeader string
	Secret       string
	// Username and Password, when set, are sent as basic auth instead.
	Username, Password string
	Client             *http.Client // nil: a client with a 5 minute timeout

	BatchBytes   int // uncompressed bytes per upload; default 8 MiB
	BatchRecords int // records per upload; default 10000
	// MaxAttempts per upload when the receiver answers 429/502/503/504 or
	// the connection fails after it was made; default 8.
	MaxAttempts int
	// MaxWait caps one wait between attempts (Retry-After); default 30 s.
	MaxWait time.Duration
	// Progress, when set, is told about each upload.
	Progress func(dataset string, records int, status string)

	sleep func(context.Context, time.Duration) error // tests
}

// DatasetCounts are one dataset's replay counts.
type DatasetCounts struct {
	Sent        int `json:"sent"`
	Accepted    int `json:"accepted"`
	FailedAgain int `json:"failed_again"`
	Refused     int `json:"refused"`
}

// ReplayResult says what a replay did.
type ReplayResult struct {
	Matched     int `json:"matched"`      // entries matching the filter
	Sent        int `json:"sent"`         // records acknowledged by the receiver (or, dry, that would be sent)
	Accepted    int `json:"accepted"`     // sent and not dead-lettered again
	FailedAgain int `json:"failed_again"` // sent and dead-lettered again (new entries, marked failed_again)
	Refused     int `json:"refused"`      // refused by the receiver (4xx): still pending
	NotSent     int `json:"not_sent"`     // not sent because the replay stopped early: still pending

	AlreadyReplayed  int `json:"already_replayed"`   // skipped: replayed before
	SkippedFailed    int `json:"skipped_failed"`     // skipped: failed again on an earlier replay (RetryFailed sends them)
	SkippedNoDataset int `json:"skipped_no_dataset"` // skipped: no dataset to address
	SkippedTruncated int `json:"skipped_truncated"`  // skipped: cut to the receiver's max_line_bytes, can never parse
	SkippedDocs      int `json:"skipped_docs"`       // skipped: sink-stage documents (ReplayDocs)

	ByDataset map[string]*DatasetCounts `json:"by_dataset"`
	Errors    []string                  `json:"errors,omitempty"`
	Stats     Stats                     `json:"read"`
	DryRun    bool                      `json:"dry_run,omitempty"`
}

func (r *ReplayResult) setNotSent() {
	r.NotSent = max(0, r.Matched-r.AlreadyReplayed-r.SkippedFailed-r.SkippedNoDataset-r.SkippedTruncated-r.SkippedDocs-r.Sent-r.Refused)
}

func (r *ReplayResult) ds(name string) *DatasetCounts {
	c := r.ByDataset[name]
	if c == nil {
		c = &DatasetCounts{}
		r.ByDataset[name] = c
	}
	return c
}

// errFatal stops a replay: the receiver cannot take anything (bad secret,
// unreachable, overloaded for too long).
type errFatal struct{ error }

type pendingRec struct {
	ref Ref
	raw []byte
}

type batch struct {
	dataset string
	recs    []pendingRec
	bytes   int
}

// Run replays. It returns the result so far together with an error when it
// had to stop (receiver unreachable, wrong secret, ctx ended); refusals of
// single uploads are listed in ReplayResult.Errors instead.
func (rp *Replay) Run(ctx context.Context) (*ReplayResult, error) {
	rp.defaults()
	res := &ReplayResult{ByDataset: map[string]*DatasetCounts{}, DryRun: rp.DryRun}
	if !rp.DryRun {
		if _, err := url.Parse(rp.To); err != nil || !strings.HasPrefix(rp.To, "http") {
			return res, fmt.Errorf("receiver URL %q: want http://host:port or https://host:port", rp.To)
		}
	}
	unlock, err := Lock(rp.Dir)
	if err != nil {
		return res, err
	}
	defer unlock()
	marks, err := LoadMarks(rp.Dir)
	if err != nil {
		return res, err
	}
	snap, err := Sizes(rp.Dir)
	if err != nil {
		return res, err
	}

	sent := map[[32]byte]int{} // hash of dataset + raw of acknowledged records
	batches := map[string]*batch{}
	refusedDS := map[string]bool{} // datasets the receiver answered 404 for
	var fatal error

	send := func(b *batch) error {
		if len(b.recs) == 0 {
			return nil
		}
		defer func() { b.recs, b.bytes = b.recs[:0], 0 }()
		if rp.DryRun {
			res.Sent += len(b.recs)
			res.ds(b.dataset).Sent += len(b.recs)
			return nil
		}
		if refusedDS[b.dataset] {
			res.Refused += len(b.recs)
			res.ds(b.dataset).Refused += len(b.recs)
			return nil
		}
		return rp.sendSplit(ctx, b.dataset, b.recs, res, marks, sent, refusedDS)
	}

	st, err := Scan(rp.Dir, ScanOptions{Since: rp.Filter.Since, Until: rp.Filter.Until, Stop: snap}, func(r Ref, e *Entry) error {
		if !rp.Filter.Match(e) {
			return nil
		}
		state := marks.State(r)
		if !rp.Filter.matchState(state) {
			return nil
		}
		res.Matched++
		switch {
		case state == StateReplayed:
			res.AlreadyReplayed++
			return nil
		case state == StateFailedAgain && !rp.RetryFailed:
			res.SkippedFailed++
			return nil
		case e.IsDoc():
			res.SkippedDocs++
			return nil
		case e.Dataset == "":
			res.SkippedNoDataset++
			return nil
		}
		raw := e.RawBytes()
		if bytes.Contains(raw, []byte(decode.TruncationMarker)) {
			res.SkippedTruncated++
			return nil
		}
		b := batches[e.Dataset]
		if b == nil {
			b = &batch{dataset: e.Dataset}
			batches[e.Dataset] = b
		}
		if len(b.recs) > 0 && (len(b.recs) >= rp.BatchRecords || b.bytes+len(raw)+1 > rp.BatchBytes) {
			if err := send(b); err != nil {
				return err
			}
		}
		b.recs = append(b.recs, pendingRec{ref: r, raw: raw})
		b.bytes += len(raw) + 1
		return nil
	})
	res.Stats = st
	if err != nil {
		fatal = err
	}
	if fatal == nil {
		names := make([]string, 0, len(batches))
		for n := range batches {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if err := send(batches[n]); err != nil {
				fatal = err
				break
			}
		}
	}
	if !rp.DryRun && len(sent) > 0 {
		if err := rp.findFailedAgain(snap, sent, marks, res); err != nil {
			res.Errors = append(res.Errors, "counting records that failed again: "+err.Error())
		}
	}
	for _, c := range res.ByDataset {
		c.Accepted = c.Sent - c.FailedAgain
	}
	res.Accepted = res.Sent - res.FailedAgain
	if rp.DryRun {
		res.Accepted = 0
	}
	res.setNotSent()
	var fe errFatal
	if errors.As(fatal, &fe) {
		return res, fe.error
	}
	return res, fatal
}

func (rp *Replay) defaults() {
	if rp.PathPrefix == "" {
		rp.PathPrefix = "/logpush/"
	}
	if rp.SecretHeader == "" {
		rp.SecretHeader = "X-Flarehose-Secret"
	}
	if rp.Client == nil {
		rp.Client = &http.Client{Timeout: 5 * time.Minute}
	}
	if rp.BatchBytes <= 0 {
		rp.BatchBytes = 8 << 20
	}
	if rp.BatchRecords <= 0 {
		rp.BatchRecords = 10000
	}
	if rp.MaxAttempts <= 0 {
		rp.MaxAttempts = 8
	}
	if rp.MaxWait <= 0 {
		rp.MaxWait = 30 * time.Second
	}
	if rp.sleep == nil {
		rp.sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
}

func recordKey(stage, dataset string, payload []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(stage))
	h.Write([]byte{0})
	h.Write([]byte(dataset))
	h.Write([]byte{0})
	h.Write(payload)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// sendSplit uploads recs; when the receiver refuses the upload as too large
// or malformed (413, 415, 400) it halves it, so one bad record is refused
// alone and the others go through.
func (rp *Replay) sendSplit(ctx context.Context, dataset string, recs []pendingRec, res *ReplayResult, marks *Marks, sent map[[32]byte]int, refusedDS map[string]bool) error {
	code, msg, err := rp.upload(ctx, dataset, recs)
	if err != nil {
		return err
	}
	dc := res.ds(dataset)
	switch {
	case code == http.StatusOK:
		now := time.Now().UTC()
		mk := make([]Mark, len(recs))
		for i, r := range recs {
			mk[i] = Mark{Ref: r.ref, State: StateReplayed, Time: now, To: rp.To}
			sent[recordKey(StageNormalize, dataset, r.raw)]++
		}
		if err := marks.Add(mk); err != nil {
			// Sent but not marked: a later replay would send them again.
			return errFatal{fmt.Errorf("the receiver stored %d records but marking them as replayed failed (a later replay would send them again): %w", len(recs), err)}
		}
		res.Sent += len(recs)
		dc.Sent += len(recs)
		if rp.Progress != nil {
			rp.Progress(dataset, len(recs), "ok")
		}
		return nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return errFatal{fmt.Errorf("the receiver at %s refused the credentials (HTTP %d: %s): pass --secret or set FLAREHOSE_SECRET to the receiver's secret", rp.To, code, msg)}
	case code == http.StatusNotFound:
		refusedDS[dataset] = true
		res.Refused += len(recs)
		dc.Refused += len(recs)
		res.Errors = append(res.Errors, fmt.Sprintf("%s: the receiver answered 404 (%s): check --to and --path-prefix; %d records stay pending", dataset, msg, len(recs)))
		if rp.Progress != nil {
			rp.Progress(dataset, len(recs), "refused: "+msg)
		}
		return nil
	case (code == http.StatusRequestEntityTooLarge || code == http.StatusUnsupportedMediaType || code == http.StatusBadRequest) && len(recs) > 1:
		half := len(recs) / 2
		if err := rp.sendSplit(ctx, dataset, recs[:half], res, marks, sent, refusedDS); err != nil {
			return err
		}
		return rp.sendSplit(ctx, dataset, recs[half:], res, marks, sent, refusedDS)
	default:
		res.Refused += len(recs)
		dc.Refused += len(recs)
		what := fmt.Sprintf("%d records", len(recs))
		if len(recs) == 1 {
			what = "record " + recs[0].ref.String()
		}
		res.Errors = append(res.Errors, fmt.Sprintf("%s: HTTP %d: %s (%s stays pending)", dataset, code, msg, what))
		if rp.Progress != nil {
			rp.Progress(dataset, len(recs), fmt.Sprintf("refused: HTTP %d", code))
		}
		return nil
	}
}

// upload POSTs one gzip'd NDJSON body, retrying while the receiver is busy.
// A non-nil error is fatal for the replay.
func (rp *Replay) upload(ctx context.Context, dataset string, recs []pendingRec) (int, string, error) {
	body := encodeBody(recs)
	u := strings.TrimRight(rp.To, "/") + rp.PathPrefix + url.PathEscape(dataset)
	wait := time.Second
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return 0, "", errFatal{err}
		}
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("User-Agent", "flarehose-deadletter-replay")
		if rp.Username != "" || rp.Password != "" {
			req.SetBasicAuth(rp.Username, rp.Password)
		} else if rp.Secret != "" {
			req.Header.Set(rp.SecretHeader, rp.Secret)
		}
		resp, err := rp.Client.Do(req)
		var code int
		var msg string
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			code, msg = resp.StatusCode, strings.TrimSpace(string(b))
			if msg == "" {
				msg = http.StatusText(code)
			}
			if code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable &&
				code != http.StatusBadGateway && code != http.StatusGatewayTimeout {
				return code, msg, nil
			}
			if s := resp.Header.Get("Retry-After"); s != "" {
				if n, perr := strconv.Atoi(s); perr == nil && n >= 0 {
					wait = time.Duration(n) * time.Second
				}
			}
		} else {
			if ctx.Err() != nil {
				return 0, "", errFatal{ctx.Err()}
			}
			var oe *net.OpError
			if errors.As(err, &oe) && oe.Op == "dial" {
				return 0, "", errFatal{fmt.Errorf("cannot reach the receiver at %s: %v (is flarehose serve running? see --to)", rp.To, err)}
			}
			msg = err.Error()
		}
		if attempt >= rp.MaxAttempts {
			if code != 0 {
				return 0, "", errFatal{fmt.Errorf("the receiver at %s still answers HTTP %d (%s) after %d attempts: stopped; run replay again later", rp.To, code, msg, attempt)}
			}
			return 0, "", errFatal{fmt.Errorf("sending to %s failed %d times (%s): stopped; run replay again later", rp.To, attempt, msg)}
		}
		if rp.Progress != nil {
			rp.Progress(dataset, len(recs), fmt.Sprintf("retrying in %s: %s", min(wait, rp.MaxWait), clip(msg, 120)))
		}
		if err := rp.sleep(ctx, min(wait, rp.MaxWait)); err != nil {
			return 0, "", errFatal{err}
		}
		wait = min(wait*2, rp.MaxWait)
	}
}

// encodeBody gzips the records as NDJSON. The receiver rejects an upload
// whose first line looks like a JSON array or a document spread over lines
// (415); such a record goes later in the upload, where it is just a bad line.
func encodeBody(recs []pendingRec) []byte {
	order := make([]int, 0, len(recs))
	var tail []int
	for i, r := range recs {
		if len(order) == 0 && decode.CheckNDJSON(r.raw) != nil {
			tail = append(tail, i)
			continue
		}
		order = append(order, i)
	}
	order = append(order, tail...)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	for _, i := range order {
		zw.Write(recs[i].raw)
		zw.Write([]byte{'\n'})
	}
	zw.Close()
	return buf.Bytes()
}

// findFailedAgain reads what was appended since the snapshot and marks the
// entries whose record was just sent as failed again.
func (rp *Replay) findFailedAgain(snap map[string]int64, sent map[[32]byte]int, marks *Marks, res *ReplayResult) error {
	var mk []Mark
	now := time.Now().UTC()
	_, err := Scan(rp.Dir, ScanOptions{From: snap}, func(r Ref, e *Entry) error {
		if e.IsDoc() {
			return nil
		}
		k := recordKey(StageNormalize, e.Dataset, e.RawBytes())
		if sent[k] == 0 {
			return nil
		}
		sent[k]--
		res.FailedAgain++
		res.ds(e.Dataset).FailedAgain++
		mk = append(mk, Mark{Ref: r, State: StateFailedAgain, Time: now, To: rp.To})
		return nil
	})
	if err != nil {
		return err
	}
	return marks.Add(mk)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ReplayDocs sends the documents of sink-stage dead letters (Stage ==
// sink) that match the filter and have no mark to write, which is normally
// the sink's Write (a sink built from the same configuration), in batches of
// up to batchRecords. Each batch written is marked replayed. A document the
// sink rejects again is written to the dead letters again by the sink itself
// (if it has a dead-letter store); those new entries are found like in Run
// and marked failed_again.
func ReplayDocs(ctx context.Context, dir string, f Filter, sink string, retryFailed bool, batchRecords int,
	write func(context.Context, *event.Batch) error) (*ReplayResult, error) {
	res := &ReplayResult{ByDataset: map[string]*DatasetCounts{}}
	if batchRecords <= 0 {
		batchRecords = 1000
	}
	unlock, err := Lock(dir)
	if err != nil {
		return res, err
	}
	defer unlock()
	marks, err := LoadMarks(dir)
	if err != nil {
		return res, err
	}
	snap, err := Sizes(dir)
	if err != nil {
		return res, err
	}
	sent := map[[32]byte]int{}
	var b event.Batch
	var refs []Ref
	flush := func() error {
		if len(refs) == 0 {
			return nil
		}
		if err := write(ctx, &b); err != nil {
			return fmt.Errorf("sink %s: %w (%d documents stay pending)", sink, err, len(refs))
		}
		now := time.Now().UTC()
		mk := make([]Mark, len(refs))
		for i, r := range refs {
			mk[i] = Mark{Ref: r, State: StateReplayed, Time: now, To: "sink:" + sink}
			rec := &b.Records[i]
			sent[recordKey(sink, rec.Dataset, rec.Doc)]++
			res.ds(rec.Dataset).Sent++
		}
		if err := marks.Add(mk); err != nil {
			return fmt.Errorf("the sink stored %d documents but marking them as replayed failed: %w", len(refs), err)
		}
		res.Sent += len(refs)
		b.Records, refs = b.Records[:0], refs[:0]
		return nil
	}
	st, err := Scan(dir, ScanOptions{Since: f.Since, Until: f.Until, Stop: snap}, func(r Ref, e *Entry) error {
		if e.Stage != sink || !f.Match(e) {
			return nil
		}
		state := marks.State(r)
		if !f.matchState(state) {
			return nil
		}
		res.Matched++
		switch {
		case state == StateReplayed:
			res.AlreadyReplayed++
			return nil
		case state == StateFailedAgain && !retryFailed:
			res.SkippedFailed++
			return nil
		}
		rec, ok := e.Record()
		if !ok {
			res.Refused++
			res.Errors = append(res.Errors, fmt.Sprintf("%s: no JSON document to send", r))
			return nil
		}
		b.Records = append(b.Records, rec)
		refs = append(refs, r)
		if len(refs) >= batchRecords {
			return flush()
		}
		return nil
	})
	res.Stats = st
	if err == nil {
		err = flush()
	}
	if len(sent) > 0 {
		var mk []Mark
		now := time.Now().UTC()
		_, serr := Scan(dir, ScanOptions{From: snap}, func(r Ref, e *Entry) error {
			if e.Stage != sink {
				return nil
			}
			k := recordKey(sink, e.Dataset, e.Payload())
			if sent[k] == 0 {
				return nil
			}
			sent[k]--
			res.FailedAgain++
			res.ds(e.Dataset).FailedAgain++
			mk = append(mk, Mark{Ref: r, State: StateFailedAgain, Time: now, To: "sink:" + sink})
			return nil
		})
		if serr == nil {
			serr = marks.Add(mk)
		}
		if serr != nil {
			res.Errors = append(res.Errors, "counting documents that failed again: "+serr.Error())
		}
	}
	for _, c := range res.ByDataset {
		c.Accepted = c.Sent - c.FailedAgain
	}
	res.Accepted = res.Sent - res.FailedAgain
	res.setNotSent()
	return res, err
}
