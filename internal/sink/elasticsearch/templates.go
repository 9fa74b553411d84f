package elasticsearch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/flarehose/flarehose/internal/normalize"
)

// Index templates. For every known dataset D (Elastic name E, e.g.
// cloudflare_logpush.http_request) flarehose installs
//
//	component template  flarehose-ecs@mappings   settings, the ECS mapping
//	                                              table, dynamic templates
//	component template  logs-E@flarehose          D's constants (+ fields)
//	index template      logs-E                    logs-E-* as a data stream,
//	                                              composed of the two above
//
// named as Elastic's integration names its templates, so a cluster that
// already has the integration's template keeps it (it is not ours: see
// decide). Every template carries
//
//	_meta: {managed_by: flarehose, version: TemplateVersion, hash: <content>}
//
// where hash is a hash of the template's content (everything but _meta and
// version, canonicalized). On start a template is installed when missing,
// updated when ours is newer, and left alone when it is someone else's or
// was edited since flarehose wrote it (its content no longer matches its
// hash), unless force_templates.

// TemplateVersion is bumped whenever the templates change meaning.
const TemplateVersion = 1

// CatchAllField is the text field every string, number and IP value is
// copied into (copy_to): free-text search and index.query.default_field.
const CatchAllField = "flarehose.text"

const (
	managedBy       = "flarehose"
	commonComponent = "flarehose-ecs@mappings"
	// Same as Elastic's integrations, above the built-in logs-*-* (100).
	templatePriority = 200
)

// DataStream returns the data stream of a dataset (any name
// normalize.Resolve accepts): logs-<elastic dataset>-<namespace>, or "" for
// an unknown dataset.
func DataStream(dataset, namespace string) string {
	e := normalize.ElasticDataset(dataset)
	if e == "" {
		return ""
	}
	return "logs-" + e + "-" + namespace
}

// templateDef is one template to install.
type templateDef struct {
	index bool   // an index template (else a component template)
	name  string // template name
	body  map[string]any
	hash  string // of body, canonicalized
}

func (d *templateDef) path() string {
	if d.index {
		return "/_index_template/" + url.PathEscape(d.name)
	}
	return "/_component_template/" + url.PathEscape(d.name)
}

// payload is the body with version and _meta.
func (d *templateDef) payload() ([]byte, error) {
	b := make(map[string]any, len(d.body)+2)
	for k, v := range d.body {
		b[k] = v
	}
	b["version"] = TemplateVersion
	b["_meta"] = map[string]any{"managed_by": managedBy, "version": TemplateVersion, "hash": d.hash}
	return json.Marshal(b)
}

// buildTemplates returns the templates for the given Elastic dataset
// names, component templates first. extra adds fields to one dataset's
// component template (nil for none).
func buildTemplates(info Info, elastic []string, extra func(elastic string) []Field) ([]templateDef, error) {
	common := map[string]any{
		"template": map[string]any{
			"settings": map[string]any{
				"index.mapping.total_fields.limit": "10000",
				"index.query.default_field":        []any{CatchAllField},
			},
			"mappings": map[string]any{
				"dynamic":           true,
				"date_detection":    false,
				"dynamic_templates": dynamicTemplates(),
				"properties":        properties(info, ECSFields, nil),
			},
		},
	}
	defs := []templateDef{{name: commonComponent, body: common}}
	for _, e := range elastic {
		consts := map[string]string{"data_stream.dataset": e, "event.dataset": e, "data_stream.type": "logs"}
		fields := []Field{
			{"data_stream.type", "constant_keyword"},
			{"data_stream.dataset", "constant_keyword"},
			{"event.dataset", "constant_keyword"},
		}
		if extra != nil {
			fields = append(fields, extra(e)...)
		}
		defs = append(defs, templateDef{name: "logs-" + e + "@flarehose", body: map[string]any{
			"template": map[string]any{"mappings": map[string]any{"properties": properties(info, fields, consts)}},
		}})
	}
	for _, e := range elastic {
		defs = append(defs, templateDef{index: true, name: "logs-" + e, body: map[string]any{
			"index_patterns": []any{"logs-" + e + "-*"},
			"data_stream":    map[string]any{},
			"priority":       templatePriority,
			"composed_of":    []any{commonComponent, "logs-" + e + "@flarehose"},
		}})
	}
	for i := range defs {
		h, err := contentHash(defs[i].body, defs[i].index)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", defs[i].name, err)
		}
		defs[i].hash = h
	}
	return defs, nil
}

func dynamicTemplates() []any {
	return []any{
		map[string]any{"flarehose_strings": map[string]any{
			"match_mapping_type": "string",
			"mapping":            map[string]any{"type": "keyword", "ignore_above": 1024, "copy_to": CatchAllField},
		}},
		map[string]any{"flarehose_longs": map[string]any{
			"match_mapping_type": "long",
			"mapping":            map[string]any{"type": "long", "copy_to": CatchAllField},
		}},
		map[string]any{"flarehose_doubles": map[string]any{
			"match_mapping_type": "double",
			"mapping":            map[string]any{"type": "double", "copy_to": CatchAllField},
		}},
	}
}

// properties builds the nested "properties" object of a mapping from
// dotted paths. consts gives constant_keyword values. With consts == nil
// (the common component) the catch-all field is added.
func properties(info Info, fields []Field, consts map[string]string) map[string]any {
	root := map[string]any{}
	if consts == nil {
		root["flarehose"] = map[string]any{"properties": map[string]any{
			"text": map[string]any{"type": "text", "norms": false},
		}}
	}
	for _, f := range fields {
		segs := strings.Split(f.Path, ".")
		props := root
		for _, s := range segs[:len(segs)-1] {
			node, _ := props[s].(map[string]any)
			if node == nil {
				node = map[string]any{}
				props[s] = node
			}
			sub, _ := node["properties"].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
				node["properties"] = sub
			}
			props = sub
		}
		leaf := segs[len(segs)-1]
		m := leafMapping(info, f.Path, f.Type, consts[f.Path])
		if old, ok := props[leaf].(map[string]any); ok {
			// An object already created by a deeper path: keep its properties.
			if sub, ok := old["properties"]; ok {
				m["properties"] = sub
				delete(m, "copy_to")
			}
		}
		props[leaf] = m
	}
	return root
}

// leafMapping maps one field type for the cluster's flavour and version.
func leafMapping(info Info, path, typ, constValue string) map[string]any {
	es := info.Flavor != FlavorOpenSearch
	m := map[string]any{}
	copyTo := true
	switch typ {
	case "keyword":
		m["type"] = "keyword"
		m["ignore_above"] = 1024
	case "wildcard":
		if (es && info.AtLeast(7, 9)) || (!es && info.AtLeast(2, 15)) {
			m["type"] = "wildcard"
		} else {
			m["type"] = "keyword"
			m["ignore_above"] = 8191
		}
	case "match_only_text":
		if (es && info.AtLeast(7, 14)) || (!es && info.AtLeast(2, 12)) {
			m["type"] = "match_only_text"
		} else {
			m["type"] = "text"
			m["norms"] = false
		}
	case "text":
		m["type"] = "text"
	case "long", "integer", "short", "byte", "double", "float", "half_float", "ip":
		m["type"] = typ
	case "scaled_float":
		if es {
			m["type"] = "scaled_float"
			m["scaling_factor"] = 1000
		} else { // mapper-extras is a module OpenSearch's minimal builds lack
			m["type"] = "float"
		}
	case "constant_keyword":
		copyTo = false
		switch {
		case constValue != "" && ((es && info.AtLeast(7, 9)) || (!es && info.AtLeast(2, 14))):
			m["type"] = "constant_keyword"
			m["value"] = constValue
		case constValue == "" && es && info.AtLeast(7, 9):
			m["type"] = "constant_keyword" // takes the first document's value
		default: // OpenSearch needs a value up front
			m["type"] = "keyword"
			m["ignore_above"] = 1024
			copyTo = true
		}
	case "flattened":
		copyTo = false
		switch {
		case es:
			m["type"] = "flattened"
		case info.AtLeast(2, 7):
			m["type"] = "flat_object"
		default:
			m["type"] = "object"
			m["enabled"] = false
		}
	case "object", "nested":
		copyTo = false
		m["type"] = typ
	default: // date, boolean, geo_point, date_nanos, ...
		copyTo = false
		m["type"] = typ
	}
	if path == "event.original" {
		// ECS: kept, not indexed; still searchable as free text.
		m["index"] = false
		m["doc_values"] = false
		delete(m, "ignore_above")
	}
	if copyTo {
		m["copy_to"] = CatchAllField
	}
	return m
}

// ---- content hash ----

// contentHash hashes what a template says, excluding version and _meta, in
// a form that does not change when the cluster reformats it: keys sorted,
// scalars as text, settings flattened to index.* keys. It is computed from
// what flarehose sends and from what the cluster returns, and the two must
// agree for an untouched template.
func contentHash(body map[string]any, index bool) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	return hashJSON(raw, index)
}

func hashJSON(raw []byte, index bool) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	var parts []string
	add := func(name string, x any) {
		if x != nil {
			parts = append(parts, name+"="+canon(x))
		}
	}
	if index {
		add("index_patterns", v["index_patterns"])
		add("composed_of", v["composed_of"])
		add("priority", v["priority"])
	}
	if t, ok := v["template"].(map[string]any); ok {
		if s, ok := t["settings"].(map[string]any); ok && len(s) > 0 {
			flat := map[string]any{}
			flattenSettings("", s, flat)
			add("settings", flat)
		}
		if m, ok := t["mappings"].(map[string]any); ok && len(m) > 0 {
			if d, ok := m["_doc"].(map[string]any); ok && len(m) == 1 {
				m = d
			}
			add("mappings", m)
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:12]), nil
}

func flattenSettings(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flattenSettings(key, sub, out)
			continue
		}
		if !strings.HasPrefix(key, "index.") {
			key = "index." + key
		}
		out[key] = v
	}
}

// canon writes a JSON value with sorted keys and every scalar as a string.
func canon(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(fmt.Sprintf("%q:", k))
				walk(x[k])
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteByte(',')
				}
				walk(e)
			}
			b.WriteByte(']')
		case nil:
			b.WriteString("null")
		default:
			b.WriteString(fmt.Sprintf("%q", fmt.Sprint(x)))
		}
	}
	walk(v)
	return b.String()
}

// ---- decisions ----

// existingTemplate is what the cluster has under a template name.
type existingTemplate struct {
	Found       bool
	ManagedBy   string // _meta.managed_by
	Version     int    // _meta.version
	Hash        string // _meta.hash
	ContentHash string // hash of its current content
}

// TemplateAction is what the sink did with one template.
type TemplateAction string

// Template actions.
const (
	TemplateInstalled TemplateAction = "installed" // was missing
	TemplateUpdated   TemplateAction = "updated"   // ours, older version
	TemplateCurrent   TemplateAction = "current"   // ours, up to date
	TemplateForced    TemplateAction = "forced"    // overwritten by force_templates
	TemplateNotOurs   TemplateAction = "not_ours"  // someone else's: left alone
	TemplateModified  TemplateAction = "modified"  // ours but edited since: left alone
	TemplateNewer     TemplateAction = "newer"     // written by a newer flarehose: left alone
)

// decide says what to do with one template.
func decide(ex existingTemplate, ourHash string, force bool) (TemplateAction, bool) {
	if !ex.Found {
		return TemplateInstalled, true
	}
	ours := ex.ManagedBy == managedBy
	untouched := ours && ex.Hash != "" && ex.Hash == ex.ContentHash
	if ours && untouched && ex.Version == TemplateVersion && ex.Hash == ourHash {
		return TemplateCurrent, false
	}
	if force {
		return TemplateForced, true
	}
	switch {
	case !ours:
		return TemplateNotOurs, false
	case !untouched:
		return TemplateModified, false
	case ex.Version > TemplateVersion:
		return TemplateNewer, false
	}
	// Ours and untouched: an older version, or the same version with other
	// content (a build that changed the mapping without a version bump).
	return TemplateUpdated, true
}

// readTemplates lists what the cluster has: name -> existingTemplate.
func readTemplates(ctx context.Context, c *Client, index bool) (map[string]existingTemplate, error) {
	path, listKey, itemKey := "/_component_template", "component_templates", "component_template"
	if index {
		path, listKey, itemKey = "/_index_template", "index_templates", "index_template"
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path})
	if err != nil {
		return nil, err
	}
	out := map[string]existingTemplate{}
	if resp.Status == http.StatusNotFound { // OpenSearch answers 404 when there are none
		return out, nil
	}
	if resp.Status != http.StatusOK {
		return nil, newHTTPError(http.MethodGet, path, resp)
	}
	var raw map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(resp.Body, &raw); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	for _, it := range raw[listKey] {
		var name string
		if err := json.Unmarshal(it["name"], &name); err != nil {
			continue
		}
		body := it[itemKey]
		ex := existingTemplate{Found: true}
		var meta struct {
			Meta struct {
				ManagedBy string `json:"managed_by"`
				Version   int    `json:"version"`
				Hash      string `json:"hash"`
			} `json:"_meta"`
		}
		if err := json.Unmarshal(body, &meta); err == nil {
			ex.ManagedBy, ex.Version, ex.Hash = meta.Meta.ManagedBy, meta.Meta.Version, meta.Meta.Hash
		}
		if h, err := hashJSON(body, index); err == nil {
			ex.ContentHash = h
		}
		out[name] = ex
	}
	return out, nil
}

// installTemplates applies decide to every template and returns what it
// did per template name.
func installTemplates(ctx context.Context, c *Client, defs []templateDef, force bool) (map[string]TemplateAction, error) {
	comps, err := readTemplates(ctx, c, false)
	if err != nil {
		return nil, fmt.Errorf("reading component templates: %w", err)
	}
	idx, err := readTemplates(ctx, c, true)
	if err != nil {
		return nil, fmt.Errorf("reading index templates: %w", err)
	}
	done := map[string]TemplateAction{}
	var errs []error
	for i := range defs {
		d := &defs[i]
		have := comps
		if d.index {
			have = idx
		}
		act, put := decide(have[d.name], d.hash, force)
		done[d.name] = act
		if !put {
			continue
		}
		body, err := d.payload()
		if err != nil {
			return done, err
		}
		if _, err := c.JSON(ctx, http.MethodPut, d.path(), body); err != nil {
			errs = append(errs, fmt.Errorf("template %s: %w", d.name, err))
			if len(errs) >= 3 {
				break
			}
		}
	}
	return done, errors.Join(errs...)
}
