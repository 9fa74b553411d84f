// Package estest writes test documents into a real Elasticsearch or
// OpenSearch node through the elasticsearch sink, each test in a namespace
// of its own that is deleted afterwards. It is for tests only: production
// code must not import it.
package estest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
)

// Fill writes docs into a fresh namespace (prefix plus a unique number) on
// the node at url, refreshes it so searches see every document, and
// returns the sink (whose Client the caller may use) and the namespace.
// The namespace's data streams are deleted when the test ends.
func Fill(t testing.TB, url, prefix string, docs []event.Record) (*elasticsearch.Sink, string) {
	t.Helper()
	ns := fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e9)
	cfg := elasticsearch.DefaultConfig()
	cfg.URLs = []string{url}
	cfg.Namespace = ns
	cfg.Timeout = config.Duration(30 * time.Second)
	s, err := elasticsearch.New(prefix+"-test", *cfg, elasticsearch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.Client().Do(context.Background(), elasticsearch.Request{Method: http.MethodDelete, Path: "/_data_stream/logs-*-" + ns})
		s.Close()
	})
	ctx := context.Background()
	if err := s.Write(ctx, &event.Batch{Records: docs}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().JSON(ctx, http.MethodPost, "/logs-*-"+ns+"/_refresh", nil); err != nil {
		t.Fatal(err)
	}
	return s, ns
}
