package normalize

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestConformance replays Elastic's pipeline test fixtures
// (../shared/conformance/elastic/<package>/<stream>) for every stream this
// package knows, in process, comparing leaf by leaf like
// ../shared/conformance/check, and requires >= 99% of the expected fields
// per stream. Skipped when ../shared is not there.
func TestConformance(t *testing.T) {
	root := sharedPath(t, "conformance")
	geoDir := filepath.Join(root, "geoip")
	fixtures, err := filepath.Glob(filepath.Join(root, "elastic", "*", "*", "*-expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, exp := range fixtures {
		dir := filepath.Dir(exp)
		stream := filepath.Base(filepath.Dir(dir)) + "." + filepath.Base(dir)
		if _, ok := Resolve(stream); !ok {
			continue
		}
		ran++
		t.Run(stream, func(t *testing.T) {
			var fx struct {
				Expected []map[string]any `json:"expected"`
			}
			b, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &fx); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, strings.TrimSuffix(exp, "-expected.json"))
			var tags []any
			for _, d := range fx.Expected {
				if d != nil {
					tags, _ = d["tags"].([]any)
					break
				}
			}
			opts := Options{GeoIPDir: geoDir}
			opts.AccountID = fixtureConfig(t, dir)["account_id"] // test-common-config.yml _config
			for _, tag := range tags {
				switch tag {
				case "preserve_original_event":
					opts.PreserveOriginal = true
				case "preserve_duplicate_custom_fields":
					opts.KeepDuplicateFields = true
				}
			}
			env := newTestEnv(t, opts)
			n := env.NewNormalizer()
			want, matched := 0, 0
			var notes []string
			for i, line := range lines {
				if i >= len(fx.Expected) {
					break
				}
				doc, meta, err := n.Normalize(stream, []byte(line), nil)
				exp := fx.Expected[i]
				if exp == nil {
					want++
					if err == nil && meta.Drop {
						matched++
					} else {
						notes = append(notes, fmt.Sprintf("line %d: expected a drop", i+1))
					}
					continue
				}
				wf := map[string]any{}
				flattenPlain("", exp, wf)
				for _, k := range []string{"event.ingested", "ecs.version", "tags"} {
					delete(wf, k)
				}
				want += len(wf)
				if err != nil || meta.Drop {
					notes = append(notes, fmt.Sprintf("line %d: no document (%v)", i+1, err))
					continue
				}
				var got map[string]any
				if err := json.Unmarshal(doc, &got); err != nil {
					t.Fatalf("line %d: invalid JSON: %v", i+1, err)
				}
				gf := map[string]any{}
				flattenPlain("", got, gf)
				keys := make([]string, 0, len(wf))
				for k := range wf {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					g, ok := gf[k]
					if ok && sameValue(k, wf[k], g) {
						matched++
						continue
					}
					notes = append(notes, fmt.Sprintf("line %d: %s: want %v, got %v (present %v)", i+1, k, wf[k], g, ok))
				}
			}
			pct := 100 * float64(matched) / float64(max(want, 1))
			t.Logf("%s: %d/%d expected fields (%.2f%%)", stream, matched, want, pct)
			if pct < 99 {
				t.Errorf("conformance %.2f%% < 99%%:\n%s", pct, strings.Join(notes, "\n"))
			}
		})
	}
	if ran == 0 {
		t.Skip("no fixture for the known datasets")
	}
}

// fixtureConfig reads the _config map of a fixture's test-common-config.yml
// (the check script passes it as --account-id and the like).
func fixtureConfig(t *testing.T, dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, "test-common-config.yml"))
	if err != nil {
		return nil
	}
	var cfg struct {
		Fields struct {
			Config map[string]string `yaml:"_config"`
		} `yaml:"fields"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("test-common-config.yml: %v", err)
	}
	return cfg.Fields.Config
}

// flattenPlain mirrors the check script: objects flatten to dotted paths;
// arrays and empty objects are leaves.
func flattenPlain(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flattenPlain(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = v
	}
}

var isoInstant = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$`)

// sameValue compares like the check script: numbers with a tolerance,
// timestamps as instants, related.* lists as sets.
func sameValue(path string, want, got any) bool {
	switch w := want.(type) {
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case float64:
		g, ok := got.(float64)
		return ok && math.Abs(w-g) <= math.Max(1e-12, 1e-9*math.Max(math.Abs(w), math.Abs(g)))
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		if g == w {
			return true
		}
		if isoInstant.MatchString(w) && isoInstant.MatchString(g) {
			tw, err1 := time.Parse(time.RFC3339Nano, w)
			tg, err2 := time.Parse(time.RFC3339Nano, g)
			return err1 == nil && err2 == nil && tw.Equal(tg)
		}
		return false
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		ws, gs := make([]string, len(w)), make([]string, len(g))
		for i := range w {
			a, _ := json.Marshal(w[i])
			b, _ := json.Marshal(g[i])
			ws[i], gs[i] = string(a), string(b)
		}
		if strings.HasPrefix(path, "related.") {
			sort.Strings(ws)
			sort.Strings(gs)
		}
		return slices.Equal(ws, gs)
	case map[string]any:
		a, _ := json.Marshal(w)
		b, _ := json.Marshal(got)
		return string(a) == string(b)
	case nil:
		return got == nil
	}
	return false
}
