package esquery

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/search/searchtest"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
)

// TestSearchConformance runs the search conformance suite (the same tables
// as the DuckDB store's, internal/search/searchtest) against a real
// OpenSearch/Elasticsearch node holding the fixture, written by the
// elasticsearch sink into a namespace of its own. It needs
// FLAREHOSE_OPENSEARCH_URL (test/opensearch/start.sh starts a node).
func TestSearchConformance(t *testing.T) {
	url := os.Getenv("FLAREHOSE_OPENSEARCH_URL")
	if url == "" {
		t.Skip("FLAREHOSE_OPENSEARCH_URL is not set: start a node with test/opensearch/start.sh and export FLAREHOSE_OPENSEARCH_URL=<its URL> (make test-opensearch does both)")
	}
	searchtest.Run(t, searchtest.OpenSearch, func(t *testing.T, docs []event.Record) search.Engine {
		ns := fmt.Sprintf("esq%d", time.Now().UnixNano()%1e9)
		cfg := elasticsearch.DefaultConfig()
		cfg.URLs = []string{url}
		cfg.Namespace = ns
		cfg.Timeout = config.Duration(30 * time.Second)
		s, err := elasticsearch.New("esquery-test", *cfg, elasticsearch.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		t.Cleanup(func() {
			_, _ = s.Client().Do(context.Background(), elasticsearch.Request{Method: http.MethodDelete, Path: "/_data_stream/logs-*-" + ns})
			s.Close()
		})
		if err := s.Write(ctx, &event.Batch{Records: docs}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Client().JSON(ctx, http.MethodPost, "/logs-*-"+ns+"/_refresh", nil); err != nil {
			t.Fatal(err)
		}
		return New(s.Client(), ns)
	})
}
