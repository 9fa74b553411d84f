// Package registry lists every component flarehose can build, and nothing
// else: one entry per source and sink type, each a factory that makes a
// typed config (defaults set), and builds the component from it once
// validated. Adding a component = adding one entry here. No init() wiring.
package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/search/esquery"
	"github.com/flarehose/flarehose/internal/sink"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/source/cfaudit"
	"github.com/flarehose/flarehose/internal/source/logpull"
	"github.com/flarehose/flarehose/internal/source/logpush"
	"github.com/flarehose/flarehose/internal/store"
)

// Validator is a component's typed configuration.
type Validator interface{ Validate() error }

// SourceFactory builds one type of source.
type SourceFactory struct {
	Type        string
	Description string
	NewConfig   func() Validator // a config with defaults set
	Build       func(name string, cfg Validator, deps source.Deps) (source.Source, error)
}

// SinkFactory builds one type of sink.
type SinkFactory struct {
	Type        string
	Description string
	NewConfig   func() Validator
	Build       func(name string, cfg Validator, deps sink.Deps) (sink.Sink, error)
	// Engine, when set, searches what the sink stored (for the UI, API and
	// `flarehose search`); sinks that are themselves a search.Engine need none.
	Engine func(sink.Sink) search.Engine
}

// Sources lists every source type.
var Sources = []SourceFactory{
	{
		Type:        "logpush_http",
		Description: "Cloudflare Logpush HTTP destination: POST /logpush/<dataset>, gzip or plain NDJSON",
		NewConfig:   func() Validator { c := &logpush.Config{}; c.SetDefaults(); return c },
		Build: func(name string, c Validator, d source.Deps) (source.Source, error) {
			return logpush.New(name, *c.(*logpush.Config), d)
		},
	},
	{
		Type:        "cloudflare_audit",
		Description: "Cloudflare audit logs API poller (v2 cursor pages or v1 numbered pages), checkpointed, deduplicated over its overlap",
		NewConfig:   func() Validator { c := &cfaudit.Config{}; c.SetDefaults(); return c },
		Build: func(name string, c Validator, d source.Deps) (source.Source, error) {
			return cfaudit.New(name, *c.(*cfaudit.Config), d)
		},
	},
	{
		Type:        "cloudflare_logpull",
		Description: "Cloudflare Logpull API poller: a zone's HTTP request logs, window by window, checkpointed",
		NewConfig:   func() Validator { c := &logpull.Config{}; c.SetDefaults(); return c },
		Build: func(name string, c Validator, d source.Deps) (source.Source, error) {
			return logpull.New(name, *c.(*logpull.Config), d)
		},
	},
}

// Sinks lists every sink type.
var Sinks = []SinkFactory{
	{
		Type:        "duckdb",
		Description: "embedded DuckDB store in the data directory: search, UI, retention",
		NewConfig:   func() Validator { return store.DefaultSinkConfig() },
		Build: func(name string, c Validator, d sink.Deps) (sink.Sink, error) {
			return store.NewSink(name, *c.(*store.SinkConfig), d)
		},
	},
	{
		Type:        "elasticsearch",
		Description: "Elasticsearch 8.x / OpenSearch 2.x: data streams logs-<elastic dataset>-<namespace>, as Elastic's integration",
		NewConfig:   func() Validator { return elasticsearch.DefaultConfig() },
		Build: func(name string, c Validator, d sink.Deps) (sink.Sink, error) {
			return elasticsearch.NewSink(name, *c.(*elasticsearch.Config), d)
		},
		Engine: func(s sink.Sink) search.Engine {
			es := s.(*elasticsearch.Sink)
			return esquery.New(es.Client(), es.Namespace())
		},
	},
}

// Source returns the factory for a type.
func Source(typ string) (SourceFactory, error) {
	for _, f := range Sources {
		if f.Type == typ {
			return f, nil
		}
	}
	return SourceFactory{}, fmt.Errorf("unknown source type %q (known: %s)", typ, typeList(Sources, func(f SourceFactory) string { return f.Type }))
}

// Sink returns the factory for a type.
func Sink(typ string) (SinkFactory, error) {
	for _, f := range Sinks {
		if f.Type == typ {
			return f, nil
		}
	}
	return SinkFactory{}, fmt.Errorf("unknown sink type %q (known: %s)", typ, typeList(Sinks, func(f SinkFactory) string { return f.Type }))
}

func typeList[T any](list []T, name func(T) string) string {
	names := make([]string, len(list))
	for i, f := range list {
		names[i] = name(f)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// DecodeSource decodes and validates a source's config section.
func DecodeSource(c config.Component) (SourceFactory, Validator, error) {
	f, err := Source(c.Type)
	if err != nil {
		return f, nil, fmt.Errorf("line %d: %w", c.Line, err)
	}
	cfg, err := decode(c, f.NewConfig())
	return f, cfg, err
}

// DecodeSink decodes and validates a sink's config section.
func DecodeSink(c config.Component) (SinkFactory, Validator, error) {
	f, err := Sink(c.Type)
	if err != nil {
		return f, nil, fmt.Errorf("line %d: %w", c.Line, err)
	}
	if c.Normalize != (config.NormalizeOverrides{}) {
		return f, nil, fmt.Errorf("line %d: sink %q: normalize: applies to sources only", c.Line, c.Name)
	}
	cfg, err := decode(c, f.NewConfig())
	return f, cfg, err
}

func decode(c config.Component, cfg Validator) (Validator, error) {
	// type, name and normalize are read by config.Component; the typed
	// config must not see them as unknown keys.
	n := *c.Node
	n.Content = nil
	for i := 0; i+1 < len(c.Node.Content); i += 2 {
		if k := c.Node.Content[i].Value; !slices.Contains(config.CommonKeys, k) {
			n.Content = append(n.Content, c.Node.Content[i], c.Node.Content[i+1])
		}
	}
	if err := config.DecodeStrict(&n, cfg); err != nil {
		return nil, fmt.Errorf("%s %q (line %d): %w", c.Type, c.Name, c.Line, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s %q (line %d): %w", c.Type, c.Name, c.Line, err)
	}
	return cfg, nil
}

// Check decodes and validates every component of a configuration without
// building anything (flarehose validate).
func Check(cfg *config.Config) error {
	if len(cfg.Sources) == 0 {
		return fmt.Errorf("no sources configured: add one under sources: (types: %s)", typeList(Sources, func(f SourceFactory) string { return f.Type }))
	}
	if len(cfg.Sinks) == 0 {
		return fmt.Errorf("no sinks configured: add one under sinks: (types: %s)", typeList(Sinks, func(f SinkFactory) string { return f.Type }))
	}
	for _, c := range cfg.Sources {
		if _, _, err := DecodeSource(c); err != nil {
			return err
		}
	}
	for _, c := range cfg.Sinks {
		if _, _, err := DecodeSink(c); err != nil {
			return err
		}
	}
	return nil
}
