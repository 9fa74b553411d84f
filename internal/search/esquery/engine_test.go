package esquery

import (
	"os"
	"testing"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/search/searchtest"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch/estest"
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
		s, ns := estest.Fill(t, url, "esq", docs)
		return New(s.Client(), ns)
	})
}
