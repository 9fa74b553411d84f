// Package searchtest is the search conformance suite: one fixture of ECS
// documents, one table of queries with the events each must find, and Run,
// which checks a search.Engine (Search with filters, paging and order,
// Histogram, Top, invalid and hostile input) against them. Every engine's
// tests call Run, so "the same query gives the same results on DuckDB and on
// OpenSearch" is one table. Where engines legitimately differ, the table
// says so per engine, with the reason.
//
// It is for tests only: production code must not import it.
package searchtest

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/event"
)

// events.ndjson holds the fixture, one {"dataset", "id", "doc"} a line:
// Cloudflare http_requests, firewall_events and audit records as the
// normalizer writes them (ECS documents).
//
//go:embed testdata/events.ndjson
var eventsNDJSON []byte

// Alias maps the short names the tables use to the fixture's event ids.
var Alias = map[string]string{
	"h1": "8a1b2c3d4e5f6001",                     // GET /api/v1/users 200 203.0.113.10 US FRA
	"h2": "8a1b2c3d4e5f6002",                     // POST /login 403 10.1.2.3 DE FRA
	"h3": "8a1b2c3d4e5f6003",                     // GET /static/app.js 304 2001:db8::1 GB LHR
	"h4": "8a1b2c3d4e5f6004",                     // GET /api/v1/orders 500 10.200.0.5 US IAD, error.message
	"h5": "8a1b2c3d4e5f6005",                     // GET /wp-admin/100%_done 404 198.51.100.7 CN SIN Googlebot
	"f1": "8a1b2c3d4e5f7001",                     // block, 10.1.2.3 DE 403 /login
	"f2": "8a1b2c3d4e5f7002",                     // managed_challenge 198.51.100.7 CN 403
	"f3": "8a1b2c3d4e5f7003",                     // log 2001:db8:ffff::5 GB 200
	"a1": "73fd39ed-5aab-4a2a-b93c-c9a4abf0c425", // token_create success user@example.com
	"a2": "0c3e1c8a-1f7e-4d6e-9a63-2d1f6b6f0b11", // zone_setting_update failure admin@example.org
	"o1": "8a1b2c3d4e5f5999",                     // 2024-03-01, old
}

// Times of the fixture: every event but o1 is on Day, between 09:00 and
// 12:00 UTC.
var (
	Day = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	// AllRecent is every event on Day (all but o1).
	AllRecent = "h1 h2 h3 h4 h5 f1 f2 f3 a1 a2"
)

// At is h:m on Day.
func At(h, m int) time.Time {
	return Day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// Records returns the fixture (a fresh copy each call): Time is the
// document's @timestamp.
func Records() []event.Record {
	var out []event.Record
	sc := bufio.NewScanner(bytes.NewReader(eventsNDJSON))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Dataset string          `json:"dataset"`
			ID      string          `json:"id"`
			Doc     json.RawMessage `json:"doc"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			panic(fmt.Sprintf("searchtest: testdata/events.ndjson: %v", err))
		}
		var ts struct {
			T time.Time `json:"@timestamp"`
		}
		if err := json.Unmarshal(line.Doc, &ts); err != nil {
			panic(fmt.Sprintf("searchtest: testdata/events.ndjson: %s: %v", line.ID, err))
		}
		out = append(out, event.Record{Dataset: line.Dataset, ID: line.ID, Time: ts.T.UnixNano(), Doc: slices.Clone([]byte(line.Doc))})
	}
	if err := sc.Err(); err != nil {
		panic(err)
	}
	return out
}

// Batch returns the fixture as one batch.
func Batch() *event.Batch { return &event.Batch{Records: Records()} }

// Names maps event ids to their short names (ids without one are kept),
// sorted.
func Names(ids []string) []string {
	rev := make(map[string]string, len(Alias))
	for k, v := range Alias {
		rev[v] = k
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if n, ok := rev[id]; ok {
			out[i] = n
		} else {
			out[i] = id
		}
	}
	slices.Sort(out)
	return out
}

// Set splits a space-separated list of short names, sorted ("" is empty,
// not nil).
func Set(s string) []string {
	out := strings.Fields(s)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}
