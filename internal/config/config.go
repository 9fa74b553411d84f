// Package config loads flarehose's YAML configuration: one file, ${ENV}
// expansion for secrets, unknown keys rejected with their line. Component
// sections (sources, sinks) stay raw YAML nodes here; internal/registry
// decodes each into its component's typed config with DecodeStrict.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flarehose/flarehose/internal/telemetry"
)

// Config is the whole configuration file.
type Config struct {
	DataDir   string              `yaml:"data_dir"`
	Log       telemetry.LogConfig `yaml:"log"`
	HTTP      HTTPConfig          `yaml:"http"`
	Normalize NormalizeConfig     `yaml:"normalize"`
	Queue     QueueConfig         `yaml:"queue"`
	// ShutdownTimeout bounds graceful shutdown: sources drain in-flight
	// deliveries and sinks flush what is queued within it.
	ShutdownTimeout Duration    `yaml:"shutdown_timeout"`
	Sources         []Component `yaml:"sources"`
	Sinks           []Component `yaml:"sinks"`

	// SinkUnhealthyAfter is how long a sink's writes may keep failing
	// before /readyz reports the service not ready; 0 never does.
	SinkUnhealthyAfter Duration `yaml:"sink_unhealthy_after"`
}

// HTTPConfig is the UI / API / metrics server.
type HTTPConfig struct {
	Listen string `yaml:"listen"` // "" disables it
}

// NormalizeConfig holds the normalization defaults; sources may override
// the two Elastic-tag options.
type NormalizeConfig struct {
	PreserveOriginal    bool   `yaml:"preserve_original"`     // keep event.original (Elastic tag preserve_original_event)
	KeepDuplicateFields bool   `yaml:"keep_duplicate_fields"` // keep custom fields that duplicate ECS (preserve_duplicate_custom_fields)
	GeoIPDir            string `yaml:"geoip_dir"`             // folder with MaxMind GeoLite2-City / -ASN databases
	AccountID           string `yaml:"account_id"`            // Cloudflare account id, for datasets that carry none
}

// QueueConfig bounds the durable queue.
type QueueConfig struct {
	MaxBytes     ByteSize `yaml:"max_bytes"`
	SegmentBytes ByteSize `yaml:"segment_bytes"`
}

// Component is one source or sink: its type, a name (defaults to the type)
// and the rest of its keys, decoded later by the component's factory.
type Component struct {
	Type string
	Name string
	// Normalize overrides the normalize: defaults for this source's records.
	Normalize NormalizeOverrides
	Line      int        // where the component starts, for error messages
	Node      *yaml.Node // the whole mapping, type and name included
}

// NormalizeOverrides are a source's own Elastic-tag options; nil keeps the
// top-level normalize: setting.
type NormalizeOverrides struct {
	PreserveOriginal    *bool `yaml:"preserve_original"`
	KeepDuplicateFields *bool `yaml:"keep_duplicate_fields"`
}

// CommonKeys are read by Component itself, not by the component's factory.
var CommonKeys = []string{"type", "name", "normalize"}

// UnmarshalYAML keeps the node for the registry and reads type and name.
func (c *Component) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a component must be a mapping with a type", n.Line)
	}
	c.Node, c.Line = n, n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "type":
			c.Type = n.Content[i+1].Value
		case "name":
			c.Name = n.Content[i+1].Value
		case "normalize":
			if err := DecodeStrict(n.Content[i+1], &c.Normalize); err != nil {
				return err
			}
		}
	}
	if c.Type == "" {
		return fmt.Errorf("line %d: component has no type", n.Line)
	}
	if c.Name == "" {
		c.Name = c.Type
	}
	return nil
}

// Defaults returns the configuration `flarehose serve` runs without a file.
func Defaults() *Config {
	return &Config{
		DataDir:         "./flarehose-data",
		HTTP:            HTTPConfig{Listen: "127.0.0.1:8080"},
		Queue:           QueueConfig{MaxBytes: 8 << 30, SegmentBytes: 64 << 20},
		ShutdownTimeout: Duration(30e9),

		SinkUnhealthyAfter: Duration(2 * time.Minute),
	}
}

// Load reads, expands and strictly decodes a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(data, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.DataDir != "" && !filepath.IsAbs(cfg.DataDir) {
		// A relative data_dir is relative to the config file, not the cwd,
		// so a service manager starting us elsewhere finds the same data.
		cfg.DataDir = filepath.Join(filepath.Dir(path), cfg.DataDir)
	}
	return cfg, nil
}

// MaxFileBytes bounds a configuration file: anything bigger is a mistake.
const MaxFileBytes = 4 << 20

// Parse decodes configuration text. lookup resolves ${VAR} references.
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("configuration is %d bytes, more than the %d allowed", len(data), MaxFileBytes)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, errEOF) {
			return Defaults(), nil
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if err := expandEnv(&root, lookup); err != nil {
		return nil, err
	}
	cfg := Defaults()
	if len(root.Content) == 0 {
		return cfg, nil
	}
	if err := DecodeStrict(root.Content[0], cfg); err != nil {
		return nil, err
	}
	return cfg, cfg.Validate()
}

// Validate checks the settings this package owns; component settings are
// checked by their factories (registry.Check).
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir must not be empty"))
	}
	if err := c.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Queue.MaxBytes < 16<<20 {
		errs = append(errs, fmt.Errorf("queue.max_bytes %s is below the 16MiB minimum", c.Queue.MaxBytes))
	}
	if c.Queue.SegmentBytes < 1<<20 || c.Queue.SegmentBytes > c.Queue.MaxBytes {
		errs = append(errs, fmt.Errorf("queue.segment_bytes %s must be between 1MiB and queue.max_bytes", c.Queue.SegmentBytes))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown_timeout must be positive"))
	}
	if c.SinkUnhealthyAfter < 0 {
		errs = append(errs, errors.New("sink_unhealthy_after must not be negative (0 keeps /readyz ready whatever the sinks do)"))
	}
	names := map[string]int{}
	for _, list := range [][]Component{c.Sources, c.Sinks} {
		for _, comp := range list {
			if prev, dup := names[comp.Name]; dup {
				errs = append(errs, fmt.Errorf("line %d: component name %q already used at line %d; give each a unique name", comp.Line, comp.Name, prev))
			}
			names[comp.Name] = comp.Line
		}
	}
	return errors.Join(errs...)
}
