package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flarehose/flarehose/internal/deadletter"
)

// Limits of GET /api/deadletters.
const (
	DefaultDeadLetterLimit = 100
	MaxDeadLetterLimit     = 1000
	// MaxDeadLetterRecord bounds the record (raw or document) shown per
	// entry; longer ones are cut and flagged "truncated" (the CLI's
	// `flarehose deadletter list --json` prints them whole).
	MaxDeadLetterRecord = 64 << 10
	maxDeadLetterError  = 4 << 10
)

// deadLetterJSON is one entry as the API shows it.
type deadLetterJSON struct {
	Ref      string          `json:"ref"`             // DAY:OFFSET, stable while the entry exists (flarehose deadletter show REF)
	State    string          `json:"state,omitempty"` // replay state: "", replayed, failed_again
	Time     time.Time       `json:"time"`
	Stage    string          `json:"stage"`
	Source   string          `json:"source,omitempty"`
	Origin   string          `json:"origin,omitempty"`
	Dataset  string          `json:"dataset,omitempty"`
	Line     int             `json:"line,omitempty"`
	Reason   string          `json:"reason"`
	Error    string          `json:"error"`
	Raw      string          `json:"raw,omitempty"`     // the record as text (raw, or a document too large to send as JSON)
	RawB64   string          `json:"raw_b64,omitempty"` // the record base64-encoded when it is not UTF-8
	Doc      json.RawMessage `json:"doc,omitempty"`     // sink stage: the ECS document
	RecordID string          `json:"record_id,omitempty"`
	Size     int             `json:"size"`                // bytes of the whole record
	Cut      bool            `json:"truncated,omitempty"` // the record shown is its first MaxDeadLetterRecord bytes
}

type deadLettersResponse struct {
	Total     int              `json:"total"` // entries matching the filters
	Entries   []deadLetterJSON `json:"entries"`
	ByReason  map[string]int   `json:"by_reason"`
	ByDataset map[string]int   `json:"by_dataset"`
	ByState   map[string]int   `json:"by_state"` // pending, replayed, failed_again
	Skipped   skippedLines     `json:"skipped"`
	window
}

// skippedLines are lines of the dead-letter files that are not entries.
type skippedLines struct {
	Invalid   int `json:"invalid"`   // not JSON or not an entry
	Torn      int `json:"torn"`      // unterminated last line (crash, or being written)
	Oversized int `json:"oversized"` // too large to read
}

// handleDeadLetters answers GET /api/deadletters: the newest dead letters
// matching since, until, dataset ("none": entries without one), reason,
// stage and state (pending, replayed, failed_again), at most limit (default
// 100, capped to 1000), with counts of every matching entry by reason,
// dataset and replay state. 503 when no dead-letter directory is
// configured.
func (s *server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	now := s.now()
	var f deadletter.Filter
	var err error
	if f.Since, err = timeParam(v, "since", now); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f.Until, err = timeParam(v, "until", now); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"dataset", &f.Dataset}, {"reason", &f.Reason}, {"stage", &f.Stage}} {
		*p.dst = strings.TrimSpace(v.Get(p.name))
		if *p.dst != "" && !validName(*p.dst, maxDatasetLen) {
			writeError(w, http.StatusBadRequest, p.name+": "+jsonQuote(*p.dst)+" is not a valid name")
			return
		}
	}
	switch f.State = strings.TrimSpace(v.Get("state")); f.State {
	case "", "pending", deadletter.StateReplayed, deadletter.StateFailedAgain:
	default:
		writeError(w, http.StatusBadRequest, "state: want pending, replayed or failed_again")
		return
	}
	limit, err := intParam(v, "limit", DefaultDeadLetterLimit, 0, MaxDeadLetterLimit, true)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.o.DeadLetterDir == "" {
		writeError(w, http.StatusServiceUnavailable, "dead letters are not available: no data directory is configured")
		return
	}
	res, err := deadletter.Query(s.o.DeadLetterDir, f, limit)
	if err != nil {
		s.log.Error("reading dead letters failed", "dir", s.o.DeadLetterDir, "err", err)
		writeError(w, http.StatusInternalServerError, "reading dead letters failed: "+err.Error())
		return
	}
	out := deadLettersResponse{
		Total: res.Total, Entries: make([]deadLetterJSON, 0, len(res.Items)),
		ByReason: res.ByReason, ByDataset: res.ByDataset, ByState: res.ByState,
		Skipped: skippedLines{Invalid: res.Stats.Invalid, Torn: res.Stats.Torn, Oversized: res.Stats.Oversized},
		window:  window{Now: now.UTC().Format(time.RFC3339Nano)},
	}
	if !f.Since.IsZero() {
		out.Since = f.Since.UTC().Format(time.RFC3339Nano)
	}
	if !f.Until.IsZero() {
		out.Until = f.Until.UTC().Format(time.RFC3339Nano)
	}
	for i := range res.Items {
		out.Entries = append(out.Entries, deadLetterView(&res.Items[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func deadLetterView(it *deadletter.Item) deadLetterJSON {
	e := &it.Entry
	d := deadLetterJSON{
		Ref: it.Ref.Short(), State: it.State, Time: e.Time, Stage: e.Stage, Source: e.Source, Origin: e.Origin,
		Dataset: e.Dataset, Line: e.Line, Reason: e.Reason, Error: clipUTF8(e.Error, maxDeadLetterError), RecordID: e.RecordID,
	}
	switch {
	case len(e.Doc) > 0:
		d.Size = len(e.Doc)
		if len(e.Doc) <= MaxDeadLetterRecord {
			d.Doc = e.Doc
		} else {
			d.Raw, d.Cut = clipUTF8(string(e.Doc), MaxDeadLetterRecord), true
		}
	case e.RawB64 != "":
		raw := e.RawBytes()
		d.Size = len(raw)
		if len(raw) > MaxDeadLetterRecord {
			raw, d.Cut = raw[:MaxDeadLetterRecord], true
		}
		var b64 deadletter.Entry
		b64.SetRaw(raw)
		d.Raw, d.RawB64 = b64.Raw, b64.RawB64
	default:
		d.Size = len(e.Raw)
		d.Raw = clipUTF8(e.Raw, MaxDeadLetterRecord)
		d.Cut = len(d.Raw) < len(e.Raw)
	}
	return d
}

// clipUTF8 cuts s to at most n bytes without splitting a character.
func clipUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// s[n] starts the first byte left out: back off while it continues a
	// character.
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(clipUTF8(s, 80))
	return string(b)
}
