package searchtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search"
)

// NewEngine returns an engine holding docs (written, refreshed, ready to be
// searched). Run calls it once; cleanup is the caller's (t.Cleanup).
type NewEngine func(t *testing.T, docs []event.Record) search.Engine

// Run runs the conformance suite against the engine newEngine makes from
// the fixture (Records). kind selects the per-engine expectations.
func Run(t *testing.T, kind Kind, newEngine NewEngine) {
	t.Helper()
	e := newEngine(t, Records())
	t.Run("Queries", func(t *testing.T) { testQueries(t, kind, e) })
	t.Run("Filters", func(t *testing.T) { testFilters(t, e) })
	t.Run("OrderAndPaging", func(t *testing.T) { testOrderAndPaging(t, kind, e) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, e) })
	t.Run("Histogram", func(t *testing.T) { testHistogram(t, e) })
	t.Run("Top", func(t *testing.T) { testTop(t, e) })
	t.Run("Hostile", func(t *testing.T) { testHostile(t, e) })
}

// SearchIDs runs r (with a limit large enough for every match) and returns
// the short names of the hits, sorted; it checks that Total counts them.
func SearchIDs(t *testing.T, e search.Engine, r search.Request) ([]string, error) {
	t.Helper()
	r.Limit = 1000
	res, err := e.Search(context.Background(), r)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	if res.Total != int64(len(ids)) {
		t.Errorf("Total %d, hits %d", res.Total, len(ids))
	}
	return Names(ids), nil
}

func testQueries(t *testing.T, kind Kind, e search.Engine) {
	for _, c := range Queries {
		t.Run(c.Query, func(t *testing.T) {
			got, err := SearchIDs(t, e, search.Request{Query: c.Query})
			if err != nil {
				t.Fatal(err)
			}
			if want := Set(c.WantOn(kind)); !slices.Equal(got, want) {
				t.Errorf("Search(%q) on %s = %v, want %v", c.Query, kind, got, want)
			}
		})
	}
}

func testFilters(t *testing.T, e search.Engine) {
	for _, c := range Filters {
		t.Run(c.Name, func(t *testing.T) {
			got, err := SearchIDs(t, e, c.Req)
			if err != nil {
				t.Fatal(err)
			}
			if want := Set(c.Want); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func testOrderAndPaging(t *testing.T, kind Kind, e search.Engine) {
	ctx := context.Background()
	res, err := e.Search(ctx, search.Request{Dataset: "http_requests", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 6 || len(res.Hits) != 2 {
		t.Fatalf("total %d hits %d", res.Total, len(res.Hits))
	}
	if got := Names([]string{res.Hits[0].ID, res.Hits[1].ID}); !slices.Equal(got, []string{"h4", "h5"}) || !res.Hits[0].Time.Equal(At(11, 0)) {
		t.Errorf("newest first: got %v, first at %v", got, res.Hits[0].Time)
	}
	if Names([]string{res.Hits[0].ID})[0] != "h5" {
		t.Errorf("first hit %s, want h5", res.Hits[0].ID)
	}
	if res.Hits[0].Dataset != "http_requests" {
		t.Errorf("dataset %q", res.Hits[0].Dataset)
	}
	var doc map[string]any
	if err := json.Unmarshal(res.Hits[0].Doc, &doc); err != nil || doc["@timestamp"] != "2024-05-01T11:00:00Z" {
		t.Errorf("doc does not round-trip: %v %v", err, doc["@timestamp"])
	}
	res, err = e.Search(ctx, search.Request{Dataset: "http_requests", Limit: 2, Offset: 1, Asc: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := Names([]string{res.Hits[0].ID, res.Hits[1].ID}); !slices.Equal(got, []string{"h1", "h2"}) || !res.Hits[0].Time.Equal(At(10, 0)) {
		t.Errorf("asc page 2 = %v, first at %v", got, res.Hits[0].Time)
	}
	// Every page of one, oldest first, is the whole fixture in time order.
	var order []string
	for off := 0; off < 12; off++ {
		res, err := e.Search(ctx, search.Request{Limit: 1, Offset: off, Asc: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 11 {
			t.Fatalf("offset %d: total %d", off, res.Total)
		}
		for _, h := range res.Hits {
			order = append(order, Names([]string{h.ID})[0])
		}
	}
	if want := "o1 a1 h1 h2 f1 h3 h4 f2 f3 h5 a2"; strings.Join(order, " ") != want {
		t.Errorf("pages oldest first = %v, want %s", order, want)
	}
	res, err = e.Search(ctx, search.Request{Offset: 100})
	if err != nil || len(res.Hits) != 0 || res.Total != 11 {
		t.Errorf("offset past the end: %v %+v", err, res)
	}
	if _, err := e.Search(ctx, search.Request{Limit: search.MaxLimit + 1}); !errors.Is(err, search.ErrInvalidQuery) {
		t.Errorf("limit above max: %v", err)
	}
	if _, err := e.Search(ctx, search.Request{Offset: -1}); !errors.Is(err, search.ErrInvalidQuery) {
		t.Errorf("negative offset: %v", err)
	}
	// Deep paging: OpenSearch/Elasticsearch refuse from+size above
	// index.max_result_window (MaxLimit); DuckDB pages on (an empty page
	// here, total still counted).
	res, err = e.Search(ctx, search.Request{Offset: search.MaxLimit - 1, Limit: 2})
	switch kind {
	case OpenSearch:
		if !errors.Is(err, search.ErrInvalidQuery) {
			t.Errorf("offset+limit above max: %v, want ErrInvalidQuery", err)
		}
	default:
		if err != nil || len(res.Hits) != 0 || res.Total != 11 {
			t.Errorf("offset+limit above max: %v %+v", err, res)
		}
	}
}

func testErrors(t *testing.T, e search.Engine) {
	ctx := context.Background()
	t.Run("dataset", func(t *testing.T) {
		for _, ds := range InvalidDatasets {
			if _, err := e.Search(ctx, search.Request{Dataset: ds}); !errors.Is(err, search.ErrInvalidQuery) {
				t.Errorf("dataset %q: %v", ds, err)
			}
		}
	})
	for _, q := range InvalidQueries {
		t.Run(q, func(t *testing.T) {
			_, err := e.Search(ctx, search.Request{Query: q})
			if !errors.Is(err, search.ErrInvalidQuery) {
				t.Fatalf("Search(%q) error = %v, want ErrInvalidQuery", q, err)
			}
			checkNoLeak(t, err)
			if _, _, err := e.Histogram(ctx, search.Request{Query: q}, 10); !errors.Is(err, search.ErrInvalidQuery) {
				t.Errorf("Histogram(%q) error = %v, want ErrInvalidQuery", q, err)
			}
			if _, err := e.Top(ctx, search.Request{Query: q}, "source.ip", 5); !errors.Is(err, search.ErrInvalidQuery) {
				t.Errorf("Top(%q) error = %v, want ErrInvalidQuery", q, err)
			}
		})
	}
}

// checkNoLeak fails when an error quotes the engine's own query text.
func checkNoLeak(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{"SELECT", "LINE 1", "json_extract"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error leaks the engine's query: %v", err)
		}
	}
}

func testHistogram(t *testing.T, e search.Engine) {
	for _, c := range Histograms {
		t.Run(c.Name, func(t *testing.T) {
			bs, width, err := e.Histogram(context.Background(), c.Req, c.Buckets)
			if err != nil {
				t.Fatal(err)
			}
			if c.Width != 0 && width != c.Width {
				t.Errorf("width %v, want %v", width, c.Width)
			}
			counts := make([]string, len(bs))
			for i, b := range bs {
				counts[i] = fmt.Sprint(b.Count)
				if want := bs[0].Start.Add(time.Duration(i) * width); !b.Start.Equal(want) || b.Start.Location() != time.UTC {
					t.Errorf("bar %d starts at %v, want %v (UTC)", i, b.Start, want)
				}
			}
			if got := strings.Join(counts, " "); got != c.Counts {
				t.Errorf("counts %q, want %q", got, c.Counts)
			}
			if len(bs) > 0 && !bs[0].Start.Equal(c.Start) {
				t.Errorf("first bar at %v, want %v", bs[0].Start, c.Start)
			}
		})
	}
}

func testTop(t *testing.T, e search.Engine) {
	ctx := context.Background()
	for _, c := range Tops {
		t.Run(c.Field, func(t *testing.T) {
			got, err := e.Top(ctx, c.Req, c.Field, c.Limit)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, n := range got {
				parts = append(parts, fmt.Sprintf("%s=%d", n.Value, n.Count))
			}
			if g := strings.Join(parts, " "); g != c.Want {
				t.Errorf("Top(%s) = %q, want %q", c.Field, g, c.Want)
			}
		})
	}
	for _, f := range InvalidTopFields {
		if _, err := e.Top(ctx, search.Request{}, f, 10); !errors.Is(err, search.ErrInvalidQuery) {
			t.Errorf("Top(%q): %v, want ErrInvalidQuery", f, err)
		}
	}
}

// HostileQueries are queries an attacker (or a fuzzer) might type: each
// must either work or be refused with ErrInvalidQuery, as a query, a
// dataset and a Top field, and leave the data as it was.
func HostileQueries() []string {
	deep := strings.Repeat("(", 10000) + "a" + strings.Repeat(")", 10000)
	manyOr := strings.TrimSuffix(strings.Repeat("source.ip:10.1.2.3 OR ", 1000), " OR ")
	return []string{
		`url.path:"'; DROP TABLE events; --"`,
		`url.path:'; DROP TABLE events; --`,
		`"a' OR '1'='1"`,
		`' OR 1=1 --`,
		`x:' OR 1=1 --`,
		`user.email:"\' OR ''='"`,
		`cloudflare_logpush.http_request.edge.colo.code:"') OR 1=1 --"`,
		`cloudflare_logpush.x:*'*`,
		`a')--:x`,
		`a"b:x`,
		`a$.b:x`,
		`a[0]:x`,
		`doc:x`,
		`events:*`,
		`ts:x`,
		`"; SELECT * FROM duckdb_settings(); --`,
		`url.path:*\*\%_*`,
		`http.response.status_code:1e400`,
		`http.response.status_code:-99999999999999999999`,
		`source.as.number:9223372036854775808`,
		`source.ip:::ffff:0:0/0`,
		`@timestamp >= "9999-12-31T23:59:59Z"`,
		`@timestamp >= "0001-01-01"`,
		"url.path:" + strings.Repeat("x", 10000),
		strings.Repeat("x", 10000),
		strings.Repeat("a", search.MaxQueryBytes+1),
		deep,
		deepQuery,
		strings.Repeat("NOT ", 5000) + "a",
		manyOr,
		"\xff\xfe",
		"url.path:\xc3",
		"a\x00b",
		"url.path:\u202e\u0000",
		`\u0027`,
		"\u2028 googlebot \u00a0",
	}
}

// deepQuery is nested as deep as the parser allows; it finds h5.
var deepQuery = strings.Repeat("(", search.MaxDepth) + "googlebot" + strings.Repeat(")", search.MaxDepth)

func testHostile(t *testing.T, e search.Engine) {
	ctx := context.Background()
	for i, q := range HostileQueries() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			for _, r := range []search.Request{{Query: q}, {Query: q, Dataset: q, Since: Day, Until: Day.Add(time.Hour)}} {
				res, err := e.Search(ctx, r)
				if err != nil {
					if !errors.Is(err, search.ErrInvalidQuery) {
						t.Fatalf("Search(%.60q): %v (want results or ErrInvalidQuery)", q, err)
					}
					checkNoLeak(t, err)
				} else if res == nil {
					t.Fatal("nil result")
				}
				if _, _, err := e.Histogram(ctx, r, 10); err != nil && !errors.Is(err, search.ErrInvalidQuery) {
					t.Fatalf("Histogram(%.60q): %v", q, err)
				}
				if _, err := e.Top(ctx, r, "source.ip", 5); err != nil && !errors.Is(err, search.ErrInvalidQuery) {
					t.Fatalf("Top(%.60q): %v", q, err)
				}
				if _, err := e.Top(ctx, search.Request{}, q, 5); err != nil && !errors.Is(err, search.ErrInvalidQuery) {
					t.Fatalf("Top(field=%.60q): %v", q, err)
				}
			}
		})
	}
	// Still all there.
	ids, err := SearchIDs(t, e, search.Request{})
	if err != nil || !slices.Equal(ids, Set(AllRecent+" o1")) {
		t.Fatalf("after hostile queries: %v %v", ids, err)
	}
	ids, err = SearchIDs(t, e, search.Request{Query: deepQuery})
	if err != nil || !slices.Equal(ids, []string{"h5"}) {
		t.Fatalf("deep query: %v %v", ids, err)
	}
}
