package sim

import (
	"encoding/json"
	"fmt"
	"time"
)

// Feed is a Generator for records that exist already rather than being
// generated: the API simulator feeds a Logpush audit_logs job the events
// its audit log API serves, so a job and a poller see the same events
// (same IDs, same times, the API's own changes included). Records come in
// Cloudflare's default shape (one JSON object, field names as the dataset
// has them, timestamps in RFC 3339) and are rendered with any job's output
// options like generated ones.
//
// Feed is a Stepper: Step(t) takes the records that became available up to
// t (from next) and returns how many the following Append calls render, so
// a Pusher with PushOptions.FollowTraffic pushes each record once, as soon
// as it exists. Each record keeps its own timestamps; t only paces.
type Feed struct {
	ds    *datasetInfo
	cols  []column[feedRecord]
	next  func(t time.Time) [][]byte
	queue [][]byte
	cur   feedRecord
}

// feedRecord is the record being rendered: its fields, as raw JSON.
type feedRecord struct {
	fields map[string]json.RawMessage
}

// NewFeed returns a Feed for dataset; next(t) returns the records that
// became available since the previous call, oldest first.
func NewFeed(dataset string, next func(t time.Time) [][]byte) (*Feed, error) {
	ds, err := lookupDataset(dataset)
	if err != nil {
		return nil, err
	}
	if next == nil {
		return nil, fmt.Errorf("sim: NewFeed needs a record source")
	}
	cols := make([]column[feedRecord], len(ds.fields))
	for i, f := range ds.fields {
		cols[i] = feedColumn(f)
	}
	return &Feed{ds: ds, cols: cols, next: next}, nil
}

// feedColumn renders one field of a fed record with the encoder a
// generated record of that type would use.
func feedColumn(f Field) column[feedRecord] {
	name := f.Name
	raw := func(r *feedRecord) json.RawMessage { return r.fields[name] }
	switch f.Type {
	case TypeTimestamp:
		return colTime(name, func(r *feedRecord) time.Time {
			var s string
			json.Unmarshal(raw(r), &s)
			t, _ := time.Parse(time.RFC3339Nano, s)
			return t
		})
	case TypeString:
		return colStr(name, func(r *feedRecord) string {
			var s string
			json.Unmarshal(raw(r), &s)
			return s
		})
	case TypeBool:
		return colBool(name, func(r *feedRecord) bool {
			var b bool
			json.Unmarshal(raw(r), &b)
			return b
		})
	default: // numbers, objects, arrays: as given
		zero := map[FieldType]string{TypeInt: "0", TypeFloat: "0", TypeObject: "{}", TypeStringArray: "[]", TypeIntArray: "[]"}[f.Type]
		return column[feedRecord]{name, f.Type, func(b []byte, r *feedRecord, _ *Format) []byte {
			if v := raw(r); len(v) > 0 && string(v) != "null" {
				return append(b, v...)
			}
			return append(b, zero...)
		}}
	}
}

// Dataset implements Generator.
func (g *Feed) Dataset() string { return g.ds.name }

// Fields implements Generator.
func (g *Feed) Fields() []Field { return g.ds.fields }

// Step implements Stepper: it queues the records available at t and
// returns how many the next Append calls render.
func (g *Feed) Step(t time.Time) int {
	added := g.next(t)
	g.queue = append(g.queue, added...)
	return len(added)
}

// Append implements Generator: it renders the oldest queued record (an
// empty record when none is queued, which a Pusher never asks for).
func (g *Feed) Append(dst []byte, _ time.Time, f *Format) []byte {
	g.prepare(time.Time{})
	return g.renderCurrent(dst, f)
}

func (g *Feed) prepare(time.Time) {
	g.cur = feedRecord{}
	if len(g.queue) == 0 {
		return
	}
	rec := g.queue[0]
	g.queue[0] = nil
	g.queue = g.queue[1:]
	// The records come from the simulator itself; one that is not an
	// object renders with every field empty.
	_ = json.Unmarshal(rec, &g.cur.fields)
}

func (g *Feed) renderCurrent(dst []byte, f *Format) []byte {
	return renderRecord(dst, g.cols, &g.cur, formatFor(g.ds, f))
}
