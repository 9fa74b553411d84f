package esquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
)

// Limits, the same on every engine.
const (
	DefaultLimit = search.DefaultLimit
	MaxLimit     = search.MaxLimit // also Elasticsearch's default index.max_result_window
	MaxBuckets   = search.MaxBuckets
	typesTTL     = 10 * time.Second
)

// ErrQueryFailed is returned when the cluster fails a query that passed
// translation (the cluster's message is in the error).
var ErrQueryFailed = errors.New("esquery: query failed")

// Engine searches the data streams of one namespace. It implements
// search.Engine.
type Engine struct {
	c  *elasticsearch.Client
	ns string

	mu    sync.Mutex
	types map[string]typesEntry // indices + "|" + field -> types
	pp    fastjson.ParserPool
}

type typesEntry struct {
	fts []FieldType
	at  time.Time
}

var _ search.Engine = (*Engine)(nil)

// New returns an engine over logs-*-<namespace> of the cluster c talks to
// (elasticsearch.Sink.Client() gives the sink's client).
func New(c *elasticsearch.Client, namespace string) *Engine {
	return &Engine{c: c, ns: namespace, types: map[string]typesEntry{}}
}

// indices returns the comma-separated data streams a request searches, or
// "" when its dataset is unknown (nothing matches).
func (e *Engine) indices(r search.Request) (string, error) {
	if r.Dataset != "" {
		if !utf8.ValidString(r.Dataset) || strings.ContainsFunc(r.Dataset, unicode.IsControl) {
			return "", badQuery("invalid dataset name %q", r.Dataset)
		}
		return elasticsearch.DataStream(r.Dataset, e.ns), nil
	}
	// Every dataset's stream: one pattern per Elastic package prefix.
	seen := map[string]bool{}
	var pats []string
	for _, d := range normalize.Datasets() {
		ed := normalize.ElasticDataset(d)
		pkg, _, _ := strings.Cut(ed, ".")
		if !seen[pkg] {
			seen[pkg] = true
			pats = append(pats, "logs-"+pkg+".*-"+e.ns)
		}
	}
	sort.Strings(pats)
	return strings.Join(pats, ","), nil
}

const indexOpts = "ignore_unavailable=true&allow_no_indices=true"

// fieldTypes looks the fields' types up with _field_caps (cached briefly).
func (e *Engine) fieldTypes(ctx context.Context, indices string, fields []string) (Types, error) {
	out := Types{}
	var missing []string
	now := time.Now()
	e.mu.Lock()
	for _, f := range fields {
		if te, ok := e.types[indices+"|"+f]; ok && now.Sub(te.at) < typesTTL {
			if te.fts != nil {
				out[f] = te.fts
			}
			continue
		}
		missing = append(missing, f)
	}
	e.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	path := "/" + url.PathEscape(indices) + "/_field_caps?" + indexOpts + "&fields=" + url.QueryEscape(strings.Join(missing, ","))
	resp, err := e.c.JSON(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrQueryFailed, err)
	}
	p := e.pp.Get()
	defer e.pp.Put(p)
	v, err := p.ParseBytes(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: _field_caps: %v", ErrQueryFailed, err)
	}
	got := map[string][]FieldType{}
	if fo := v.GetObject("fields"); fo != nil {
		fo.Visit(func(name []byte, tv *fastjson.Value) {
			to, err := tv.Object()
			if err != nil {
				return
			}
			var fts []FieldType
			to.Visit(func(typ []byte, info *fastjson.Value) {
				if string(typ) == "unmapped" {
					return
				}
				ft := FieldType{Type: string(typ)}
				for _, ix := range info.GetArray("indices") {
					ft.Indices = append(ft.Indices, string(ix.GetStringBytes()))
				}
				fts = append(fts, ft)
			})
			sort.Slice(fts, func(i, j int) bool { return fts[i].Type < fts[j].Type })
			got[string(name)] = fts
		})
	}
	e.mu.Lock()
	if len(e.types) > 10000 {
		clear(e.types)
	}
	for _, f := range missing {
		fts := got[f]
		e.types[indices+"|"+f] = typesEntry{fts: fts, at: now}
		if fts != nil {
			out[f] = fts
		}
	}
	e.mu.Unlock()
	return out, nil
}

// query builds the query of a request: time range, then the search.
func (e *Engine) query(ctx context.Context, r search.Request, indices string) (Q, error) {
	n, err := search.Parse(r.Query)
	if err != nil {
		return nil, err
	}
	var filter []any
	if !r.Since.IsZero() || !r.Until.IsZero() {
		rg := Q{"format": timeFormat}
		if !r.Since.IsZero() {
			rg["gte"] = msCeil(r.Since)
		}
		if !r.Until.IsZero() {
			rg["lt"] = msCeil(r.Until)
		}
		filter = append(filter, Q{"range": Q{"@timestamp": rg}})
	}
	if _, all := n.(*search.MatchAll); !all {
		types, err := e.fieldTypes(ctx, indices, Fields(n))
		if err != nil {
			return nil, err
		}
		q, err := Translate(n, types)
		if err != nil {
			return nil, err
		}
		filter = append(filter, q)
	}
	if len(filter) == 0 {
		return Q{"match_all": Q{}}, nil
	}
	return Q{"bool": Q{"filter": filter}}, nil
}

// run posts a search body and parses the answer.
func (e *Engine) run(ctx context.Context, indices string, body Q, use func(v *fastjson.Value) error) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := e.c.Do(ctx, elasticsearch.Request{Method: http.MethodPost, Path: "/" + url.PathEscape(indices) + "/_search?" + indexOpts, Body: b})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %v", ErrQueryFailed, err)
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("%w: HTTP %d: %s", ErrQueryFailed, resp.Status, errorReason(resp.Body))
	}
	p := e.pp.Get()
	defer e.pp.Put(p)
	v, err := p.ParseBytes(resp.Body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrQueryFailed, err)
	}
	return use(v)
}

func errorReason(body []byte) string {
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		if len(body) > 200 {
			body = body[:200]
		}
		return strconv.Quote(string(body))
	}
	r := string(v.GetStringBytes("error", "root_cause", "0", "reason"))
	if r == "" {
		r = string(v.GetStringBytes("error", "reason"))
	}
	if t := string(v.GetStringBytes("error", "type")); t != "" {
		r = t + ": " + r
	}
	return r
}

// Search returns a page of matching events, newest first unless r.Asc.
func (e *Engine) Search(ctx context.Context, r search.Request) (*search.Result, error) {
	start := time.Now()
	limit := r.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		return nil, badQuery("limit %d is above the maximum %d", limit, MaxLimit)
	}
	if r.Offset < 0 {
		return nil, badQuery("offset must not be negative")
	}
	if r.Offset+limit > MaxLimit {
		return nil, badQuery("offset + limit must not be above %d", MaxLimit)
	}
	res := &search.Result{Hits: []search.Hit{}}
	indices, err := e.indices(r)
	if err != nil {
		return nil, err
	}
	if indices == "" {
		return res, nil
	}
	q, err := e.query(ctx, r, indices)
	if err != nil {
		return nil, err
	}
	order := "desc"
	if r.Asc {
		order = "asc"
	}
	body := Q{
		"query":            q,
		"from":             r.Offset,
		"size":             limit,
		"sort":             []any{Q{"@timestamp": Q{"order": order, "unmapped_type": "date"}}},
		"track_total_hits": true,
	}
	err = e.run(ctx, indices, body, func(v *fastjson.Value) error {
		res.Total = v.GetInt64("hits", "total", "value")
		for _, h := range v.GetArray("hits", "hits") {
			src := h.Get("_source")
			hit := search.Hit{ID: string(h.GetStringBytes("_id")), Dataset: datasetOf(string(h.GetStringBytes("_index")))}
			if src != nil {
				hit.Doc = json.RawMessage(src.MarshalTo(nil))
				if ts := src.GetStringBytes("@timestamp"); ts != nil {
					if tm, err := time.Parse(time.RFC3339Nano, string(ts)); err == nil {
						hit.Time = tm.UTC()
					}
				}
				if hit.Dataset == "" {
					hit.Dataset = canonical(string(src.GetStringBytes("data_stream", "dataset")))
				}
			} else {
				hit.Doc = json.RawMessage("null")
			}
			res.Hits = append(res.Hits, hit)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Took = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// datasetOf maps a backing index (.ds-logs-<elastic>-<ns>-<date>-<gen>) or
// data stream name to the canonical dataset.
func datasetOf(index string) string {
	name := strings.TrimPrefix(strings.TrimPrefix(index, ".ds-"), "logs-")
	if i := strings.IndexByte(name, '-'); i > 0 {
		name = name[:i]
	}
	return canonical(name)
}

func canonical(elastic string) string {
	if c, ok := normalize.Resolve(elastic); ok {
		return c
	}
	return elastic
}

// Histogram counts matching events per time bucket (date_histogram);
// search.Histogram lays the buckets out as on every engine: multiples of the
// width since the epoch, empty buckets inside the range with count 0.
func (e *Engine) Histogram(ctx context.Context, r search.Request, buckets int) ([]search.Bucket, time.Duration, error) {
	indices, err := e.indices(r)
	if err != nil {
		return nil, 0, err
	}
	if indices == "" { // an unknown dataset: nothing matches
		none := func() (lo, hi time.Time, ok bool, err error) { return lo, hi, false, nil }
		zero := func(_, _ time.Time, _ time.Duration) (map[int64]int64, error) { return nil, nil }
		return search.Histogram(r, buckets, none, zero)
	}
	q, err := e.query(ctx, r, indices)
	if err != nil {
		return nil, 0, err
	}
	bounds := func() (lo, hi time.Time, ok bool, err error) {
		err = e.run(ctx, indices, Q{"size": 0, "query": q, "track_total_hits": false, "aggs": Q{
			"lo": Q{"min": Q{"field": "@timestamp"}}, "hi": Q{"max": Q{"field": "@timestamp"}},
		}}, func(v *fastjson.Value) error {
			lv, hv := v.Get("aggregations", "lo", "value"), v.Get("aggregations", "hi", "value")
			if lv == nil || hv == nil || lv.Type() != fastjson.TypeNumber {
				return nil
			}
			lo, hi, ok = time.UnixMilli(int64(lv.GetFloat64())), time.UnixMilli(int64(hv.GetFloat64())), true
			return nil
		})
		return lo, hi, ok, err
	}
	count := func(from, to time.Time, width time.Duration) (map[int64]int64, error) {
		// The range also bounds the query, so open ends are filled in.
		rq := Q{"bool": Q{"filter": []any{q, Q{"range": Q{"@timestamp": Q{
			"gte": msCeil(from), "lt": msCeil(to), "format": timeFormat}}}}}}
		counts := map[int64]int64{}
		err := e.run(ctx, indices, Q{"size": 0, "query": rq, "track_total_hits": false, "aggs": Q{
			"h": Q{"date_histogram": Q{"field": "@timestamp", "fixed_interval": strconv.FormatInt(width.Milliseconds(), 10) + "ms", "min_doc_count": 1}},
		}}, func(v *fastjson.Value) error {
			for _, b := range v.GetArray("aggregations", "h", "buckets") {
				counts[search.BucketNumber(time.UnixMilli(b.GetInt64("key")), width)] += b.GetInt64("doc_count")
			}
			return nil
		})
		return counts, err
	}
	return search.Histogram(r, buckets, bounds, count)
}

// msCeil formats a time bound rounded up to the millisecond: date fields
// hold milliseconds, and a finer bound would be truncated, so that
// "lt 12:00:00.0005" would wrongly exclude an event at 12:00:00.000.
func msCeil(t time.Time) string {
	t = t.UTC()
	if r := t.Sub(t.Truncate(time.Millisecond)); r > 0 {
		t = t.Truncate(time.Millisecond).Add(time.Millisecond)
	}
	return t.Format(time.RFC3339Nano)
}

// Top returns the most frequent values of field among matching events (a
// terms aggregation): most frequent first, ties by value.
func (e *Engine) Top(ctx context.Context, r search.Request, field string, limit int) ([]search.Count, error) {
	if limit <= 0 {
		limit = 10
	}
	if limit > MaxLimit {
		return nil, badQuery("limit %d is above the maximum %d", limit, MaxLimit)
	}
	if err := search.CheckField(field); err != nil {
		return nil, badQuery("%v", err)
	}
	indices, err := e.indices(r)
	if err != nil {
		return nil, err
	}
	out := []search.Count{}
	if indices == "" {
		return out, nil
	}
	q, err := e.query(ctx, r, indices)
	if err != nil {
		return nil, err
	}
	types, err := e.fieldTypes(ctx, indices, []string{field})
	if err != nil {
		return nil, err
	}
	isDateField := false
	for _, ft := range types[field] {
		if isText(ft.Type) {
			return nil, badQuery("field %s is full text: its values cannot be counted", field)
		}
		if isDate(ft.Type) {
			isDateField = true
		}
	}
	if len(types[field]) == 0 {
		return out, nil
	}
	if allConstant(types[field]) {
		return e.topConstant(ctx, indices, q, field, limit)
	}
	err = e.run(ctx, indices, Q{"size": 0, "query": q, "track_total_hits": false, "aggs": Q{
		"t": Q{"terms": Q{"field": field, "size": limit, "order": []any{Q{"_count": "desc"}, Q{"_key": "asc"}}}},
	}}, func(v *fastjson.Value) error {
		for _, b := range v.GetArray("aggregations", "t", "buckets") {
			c := search.Count{Count: b.GetInt64("doc_count")}
			k := b.Get("key")
			switch {
			case isDateField && k != nil && k.Type() == fastjson.TypeNumber:
				c.Value = formatTime(time.UnixMilli(k.GetInt64()).UTC())
			case b.Get("key_as_string") != nil:
				c.Value = string(b.GetStringBytes("key_as_string"))
			case k != nil && k.Type() == fastjson.TypeString:
				c.Value = string(k.GetStringBytes())
			case k != nil:
				c.Value = string(k.MarshalTo(nil))
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// formatTime prints a time as DuckDB casts a TIMESTAMP to text.
func formatTime(t time.Time) string {
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return strings.TrimRight(t.Format("2006-01-02 15:04:05.000000"), "0")
}

func allConstant(fts []FieldType) bool {
	for _, ft := range fts {
		if ft.Type != "constant_keyword" {
			return false
		}
	}
	return true
}

// topConstant counts a constant_keyword field per index (its value is in
// each index's mapping): OpenSearch's terms aggregation on such a field
// returns index names instead of the value.
func (e *Engine) topConstant(ctx context.Context, indices string, q Q, field string, limit int) ([]search.Count, error) {
	resp, err := e.c.JSON(ctx, http.MethodGet, "/"+url.PathEscape(indices)+"/_mapping/field/"+url.PathEscape(field)+"?"+indexOpts, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrQueryFailed, err)
	}
	p := e.pp.Get()
	v, err := p.ParseBytes(resp.Body)
	if err != nil {
		e.pp.Put(p)
		return nil, fmt.Errorf("%w: %v", ErrQueryFailed, err)
	}
	leaf := field[strings.LastIndexByte(field, '.')+1:]
	value := map[string]string{}
	if o, err := v.Object(); err == nil {
		o.Visit(func(index []byte, iv *fastjson.Value) {
			if val := iv.GetStringBytes("mappings", field, "mapping", leaf, "value"); val != nil {
				value[string(index)] = string(val)
			}
		})
	}
	e.pp.Put(p)
	counts := map[string]int64{}
	err = e.run(ctx, indices, Q{"size": 0, "query": q, "track_total_hits": false, "aggs": Q{
		"t": Q{"terms": Q{"field": "_index", "size": MaxLimit}},
	}}, func(v *fastjson.Value) error {
		for _, b := range v.GetArray("aggregations", "t", "buckets") {
			if val, ok := value[string(b.GetStringBytes("key"))]; ok {
				counts[val] += b.GetInt64("doc_count")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]search.Count, 0, len(counts))
	for val, n := range counts {
		out = append(out, search.Count{Value: val, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
