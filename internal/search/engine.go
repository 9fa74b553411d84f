// Package search holds flarehose's search language (a KQL-like query
// language: parser and AST) and the Engine interface every store implements.
// Stores translate the AST to their own query form (DuckDB SQL now,
// Elasticsearch query DSL later), so one query means the same on both.
package search

import (
	"context"
	"encoding/json"
	"time"
)

// Request is one search: a query in the search language plus the filters
// every search has.
type Request struct {
	Query   string    // search language text; "" matches everything
	Dataset string    // Cloudflare dataset name; "" = all
	Since   time.Time // inclusive; zero = unbounded
	Until   time.Time // exclusive; zero = unbounded
	Limit   int       // max hits; 0 = default (100)
	Offset  int
	Asc     bool // oldest first (default newest first)
}

// Hit is one matching event.
type Hit struct {
	Time    time.Time       `json:"time"`
	Dataset string          `json:"dataset"`
	ID      string          `json:"id"`
	Doc     json.RawMessage `json:"doc"`
}

// Result is a page of hits plus the total number of matches.
type Result struct {
	Total int64   `json:"total"`
	Hits  []Hit   `json:"hits"`
	Took  float64 `json:"took_ms"`
}

// Bucket is one bar of a histogram over time.
type Bucket struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

// Count is one value of a field and how many matching events have it.
type Count struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// Engine is implemented by every store that can be searched.
type Engine interface {
	// Search returns matching events, newest first unless r.Asc.
	Search(ctx context.Context, r Request) (*Result, error)
	// Histogram counts matching events per time bucket; the bucket width is
	// chosen from the time range so that about `buckets` bars result.
	Histogram(ctx context.Context, r Request, buckets int) ([]Bucket, time.Duration, error)
	// Top returns the most frequent values of an ECS field (e.g.
	// "data_stream.dataset", "source.ip") among matching events.
	Top(ctx context.Context, r Request, field string, limit int) ([]Count, error)
}
