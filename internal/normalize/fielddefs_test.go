package normalize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestFieldDefsComplete: every output field of every dataset has a type
// from a rule (its table row, the ECS reference or Dataset.Declare), never
// the keyword fallback, and FieldDefs is sorted and without duplicates.
func TestFieldDefsComplete(t *testing.T) {
	for _, ds := range registry().datasets {
		defs, untyped := fieldDefs(ds)
		untyped = slices.DeleteFunc(untyped, func(p string) bool {
			why, ok := untypedFindings[ds.Name+" "+p]
			if ok {
				t.Logf("open finding: %s %s: %s", ds.Name, p, why)
			}
			return ok
		})
		if len(untyped) > 0 {
			t.Errorf("%s: output fields with no type: %s\n\t(declare them in the Dataset: Declare: []FieldDef{{Path: ..., Type: ...}}, or add ECS fields to ecsTypes in fielddefs.go)",
				ds.Name, strings.Join(untyped, ", "))
		}
		for i := range defs {
			if defs[i].Type == "" || defs[i].Path == "" {
				t.Errorf("%s: incomplete %+v", ds.Name, defs[i])
			}
			if i > 0 && defs[i-1].Path >= defs[i].Path {
				t.Errorf("%s: FieldDefs not sorted or duplicated at %s", ds.Name, defs[i].Path)
			}
		}
		for _, d := range ds.Declare {
			if _, ok := schemaOf(ds).byPath[d.Path]; !ok {
				t.Errorf("%s: Declare lists %s, which the dataset never writes", ds.Name, d.Path)
			}
		}
	}
	if _, ok := FieldDefs("no_such_dataset"); ok {
		t.Error("FieldDefs of an unknown dataset")
	}
}

// untypedFindings are derived fields known to lack a declaration (open
// findings, logged; remove an entry when the Dataset declares the field).
var untypedFindings = map[string]string{}

func TestFieldDefsAPIDatasets(t *testing.T) {
	want := map[string]map[string][2]string{ // dataset -> path -> {type, source}
		"cloudflare.audit": {
			"@timestamp":                     {"date", "when"},
			"source.ip":                      {"ip", "actor.ip"},
			"source.geo.location":            {"geo_point", ""},
			"cloudflare.audit.actor.ip":      {"ip", "actor.ip"},
			"cloudflare.audit.metadata":      {"flattened", "metadata"},
			"cloudflare.audit.new_value":     {"flattened", "newValueJson"},
			"cloudflare.audit.interface":     {"text", "interface"},
			"cloudflare.audit.action.result": {"keyword", "action.result"},
			"event.outcome":                  {"keyword", "action.result"},
			"related.user":                   {"keyword", ""},
			"data_stream.dataset":            {"constant_keyword", ""},
		},
		"logpull": {
			"@timestamp":  {"date", "EdgeStartTimestamp"},
			"event.start": {"date", "EdgeStartTimestamp"},
			"cloudflare.edge.response.compression_ratio": {"double", "EdgeResponseCompressionRatio"},
			"cloudflare.origin.response.expires":         {"date", "OriginResponseHTTPExpires"},
			"client.geo.location":                        {"geo_point", ""},
			"source.ip":                                  {"ip", "ClientIP"},
			"url.full":                                   {"wildcard", ""},
			"event.duration":                             {"long", ""},
		},
		"audit_logs_v2_api": {
			"cloudflare.audit_v2.raw.status_code":        {"long", "raw.status_code"},
			"http.response.status_code":                  {"long", "raw.status_code"},
			"cloudflare.audit_v2.resource.request":       {"flattened", "resource.request"},
			"cloudflare.audit_v2.actor.token_details.id": {"keyword", "actor.token_id"},
		},
	}
	for ds, fields := range want {
		defs, ok := FieldDefs(ds)
		if !ok {
			t.Fatalf("FieldDefs(%s) not found", ds)
		}
		got := map[string]FieldDef{}
		for _, d := range defs {
			got[d.Path] = d
		}
		for path, w := range fields {
			if d := got[path]; d.Type != w[0] || d.Source != w[1] {
				t.Errorf("%s %s = %+v, want type %s source %q", ds, path, d, w[0], w[1])
			}
		}
	}
}

// TestFieldDefsECSConversions: a row's conversion suits the ECS field it
// writes (a Keyword row copied into a long ECS field keeps strings there).
func TestFieldDefsECSConversions(t *testing.T) {
	compatible := map[Type][]string{
		Keyword:   {"keyword", "constant_keyword", "wildcard", "match_only_text", "text", "flattened", "object", "nested"},
		Long:      {"long", "integer", "short", "byte", "unsigned_long", "scaled_float", "float", "double"},
		Double:    {"double", "float", "half_float", "scaled_float"},
		Bool:      {"boolean"},
		IP:        {"ip"},
		Timestamp: {"date", "date_nanos"},
		String:    {"keyword", "constant_keyword", "wildcard", "match_only_text", "text"},
	}
	for _, ds := range registry().datasets {
		for _, f := range ds.Fields {
			for _, p := range []string{f.ECS, f.Copy} {
				et, ok := ecsTypes[p]
				if p == "" || !ok {
					continue
				}
				found := false
				for _, c := range compatible[f.Type] {
					found = found || c == et
				}
				if !found {
					t.Errorf("%s: %s (%s) is copied to %s, an ECS %s field", ds.Name, f.Src, f.Type, p, et)
				}
			}
		}
	}
}

// elasticTypeExceptions are known, accepted differences between FieldDefs
// and Elastic's fields/*.yml, keyed "<package>.<stream> <path>".
var elasticTypeExceptions = map[string]string{
	"cloudflare.logpull cloudflare.edge.response.compression_ratio": "Elastic maps a ratio such as 2.64 as long (truncated); flarehose keeps the double",
}

// staleFieldsYML are data streams whose only reachable fields.yml predates
// the mapping of their expected documents (../shared/conformance/elastic/
// INDEX.md): their mismatches are reported, not failed.
var staleFieldsYML = map[string]string{
	"cloudflare_logpush.gateway_http":    "fields.yml older than the expected documents",
	"cloudflare_logpush.gateway_network": "fields.yml older than the expected documents",
	"cloudflare_logpush.network_session": "fields.yml older than the expected documents",
}

// TestFieldDefsElastic compares FieldDefs with the mapping types of
// Elastic's fields/*.yml (../shared/conformance/elastic/<package>/<stream>/
// fields; "external: ecs" entries typed from the ECS reference) for every
// registered dataset that has them. Type mismatches fail unless listed in
// elasticTypeExceptions (or the stream's fields.yml is stale); fields only
// one side has are logged.
func TestFieldDefsElastic(t *testing.T) {
	root := sharedPath(t, "conformance", "elastic")
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "*", "fields"))
	ran := 0
	for _, dir := range dirs {
		streamDir := filepath.Dir(dir)
		stream := filepath.Base(filepath.Dir(streamDir)) + "." + filepath.Base(streamDir)
		ds, ok := lookup(stream)
		if !ok {
			continue
		}
		ran++
		t.Run(stream, func(t *testing.T) {
			elastic := map[string]string{}
			files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
			for _, f := range files {
				readFieldsYML(t, f, elastic)
			}
			defs, _ := fieldDefs(ds)
			ours := map[string]FieldDef{}
			for _, d := range defs {
				ours[d.Path] = d
			}
			var mismatches, onlyElastic, onlyOurs []string
			for path, et := range elastic {
				d, ok := ours[path]
				if !ok {
					if et != "group" && !strings.HasPrefix(path, "agent.") && !strings.HasPrefix(path, "input.") &&
						!strings.HasPrefix(path, "log.") && !strings.HasPrefix(path, "aws.") && !strings.HasPrefix(path, "gcs.") &&
						!strings.HasPrefix(path, "azure.") && path != "tags" && path != "message" {
						onlyElastic = append(onlyElastic, path)
					}
					continue
				}
				if et == "group" || d.Type == et || sameMappingFamily(d.Type, et) {
					continue
				}
				key := stream + " " + path
				if why, ok := elasticTypeExceptions[key]; ok {
					t.Logf("listed: %s: ours %s, Elastic %s (%s)", path, d.Type, et, why)
					continue
				}
				mismatches = append(mismatches, path+": ours "+d.Type+" (from "+orDerived(d.Source)+"), Elastic "+et)
			}
			for path := range ours {
				if _, ecs := ecsTypes[path]; ecs {
					continue // ECS fields: Elastic's newer packages map them with ecs@mappings
				}
				if _, ok := elastic[path]; !ok {
					onlyOurs = append(onlyOurs, path)
				}
			}
			sort.Strings(mismatches)
			sort.Strings(onlyElastic)
			sort.Strings(onlyOurs)
			if len(onlyElastic) > 0 {
				t.Logf("%d fields in Elastic's mapping that %s never writes: %s", len(onlyElastic), ds.Name, strings.Join(onlyElastic, ", "))
			}
			if len(onlyOurs) > 0 {
				t.Logf("%d fields %s writes that Elastic's fields.yml lacks: %s", len(onlyOurs), ds.Name, strings.Join(onlyOurs, ", "))
			}
			if len(mismatches) == 0 {
				return
			}
			msg := "type mismatches with Elastic's fields.yml:\n\t" + strings.Join(mismatches, "\n\t")
			if why, stale := staleFieldsYML[stream]; stale {
				t.Logf("%s (not failed: %s)", msg, why)
				return
			}
			t.Errorf("%s\n(fix the table's Type / Mapping, or list an accepted difference in elasticTypeExceptions)", msg)
		})
	}
	if ran == 0 {
		t.Skip("no fields.yml for the registered datasets")
	}
}

func orDerived(s string) string {
	if s == "" {
		return "derived"
	}
	return s
}

// sameMappingFamily: constant_keyword (Elastic's base fields) and keyword
// hold the same values.
func sameMappingFamily(a, b string) bool {
	k := func(t string) bool { return t == "keyword" || t == "constant_keyword" }
	return k(a) && k(b)
}

type fieldsYMLEntry struct {
	Name     string           `yaml:"name"`
	Type     string           `yaml:"type"`
	External string           `yaml:"external"`
	Fields   []fieldsYMLEntry `yaml:"fields"`
}

// readFieldsYML adds path -> type for every field of an Elastic fields.yml.
func readFieldsYML(t *testing.T, file string, out map[string]string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var entries []fieldsYMLEntry
	if err := yaml.Unmarshal(b, &entries); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var walk func(prefix string, es []fieldsYMLEntry)
	walk = func(prefix string, es []fieldsYMLEntry) {
		for _, e := range es {
			path := prefix + e.Name
			switch {
			case len(e.Fields) > 0 || e.Type == "group":
				walk(path+".", e.Fields)
			case e.External == "ecs" && e.Type == "":
				if et, ok := ecsTypes[path]; ok {
					out[path] = et
				}
			case e.Type != "":
				out[path] = e.Type
			default:
				out[path] = "keyword" // Elastic's default field type
			}
		}
	}
	walk("", entries)
}

// TestTypesMatchCatalog: each field's Type agrees with its type in
// Cloudflare's reference (../shared/cloudflare/datasets.json): int → long
// (a string where Elastic converts ids to strings, a date for unix times),
// bool → boolean, float → double, timestamp → date, string → keyword, ip
// or date, objects and arrays → kept as they are (arrays of ints and
// strings may be converted element by element). Rows that only feed a
// Derive function are not checked.
func TestTypesMatchCatalog(t *testing.T) {
	var cat struct {
		Datasets map[string]map[string]struct {
			Fields []struct{ Name, Type string } `json:"fields"`
		} `json:"datasets"`
	}
	b, err := os.ReadFile(sharedPath(t, "cloudflare", "datasets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	for _, ds := range registry().datasets {
		if ds.Catalog == "-" {
			continue
		}
		s := schemaOf(ds)
		for scope, sets := range cat.Datasets {
			for _, f := range sets[catalogName(ds)].Fields {
				i, ok := s.bySrc[f.Name]
				if !ok {
					t.Errorf("%s (%s): no row for %s", ds.Name, scope, f.Name)
					continue
				}
				row := &s.fields[i]
				if row.Custom == "" && row.ECS == "" && row.Copy == "" {
					continue // read by the Derive function
				}
				got := row.Type
				switch f.Type {
				case "int":
					ok = got == Long || got == String || (got == Timestamp && (strings.Contains(f.Name, "Timestamp") || strings.Contains(f.Name, "Nanos")))
				case "bool":
					ok = got == Bool
				case "float":
					ok = got == Double
				case "timestamp":
					ok = got == Timestamp
				case "string":
					ok = got == Keyword || got == IP || got == Timestamp
				case "array[int]":
					ok = got == Keyword || got == Long || got == String
				case "array[string]":
					ok = got == Keyword || got == IP
				default: // object, other arrays
					ok = got == Keyword
				}
				if why, listed := catalogTypeExceptions[ds.Name+" "+f.Name]; !ok && listed {
					t.Logf("listed: %s %s is %s in Cloudflare's reference, %s in the table (%s)", ds.Name, f.Name, f.Type, got, why)
					continue
				}
				if !ok {
					t.Errorf("%s (%s): %s is %s in Cloudflare's reference, %s in the table", ds.Name, scope, f.Name, f.Type, got)
				}
			}
		}
	}
}

// catalogTypeExceptions are accepted differences with Cloudflare's
// reference, keyed "<dataset> <field>".
var catalogTypeExceptions = map[string]string{
	"network_analytics_logs IPv4Options": "Elastic converts it to long (fields.yml: long); a list such as \"1,5\" is a conversion error",
}
