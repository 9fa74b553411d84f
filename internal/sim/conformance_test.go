package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
)

// datasetsJSON is the field catalogue the project keeps next to the
// protocol notes; tests skip when it is absent (a user's clone).
const datasetsJSON = "../../../shared/cloudflare/datasets.json"

// loadSpec returns scope -> dataset -> field -> type from datasets.json.
func loadSpec(t *testing.T) map[string]map[string]map[string]string {
	t.Helper()
	raw, err := os.ReadFile(datasetsJSON)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not found", datasetsJSON)
	}
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Datasets map[string]map[string]struct {
			Fields []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"fields"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	spec := map[string]map[string]map[string]string{}
	for scope, sets := range doc.Datasets {
		spec[scope] = map[string]map[string]string{}
		for name, ds := range sets {
			fields := map[string]string{}
			for _, f := range ds.Fields {
				fields[f.Name] = f.Type
			}
			spec[scope][name] = fields
		}
	}
	return spec
}

// generate renders n records of dataset with format f, one second apart.
func generate(t testing.TB, dataset string, cfg Config, f *Format, n int) []byte {
	t.Helper()
	g, err := NewGeneratorConfig(dataset, cfg)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)
	var out []byte
	for i := range n {
		out = g.Append(out, base.Add(time.Duration(i)*time.Second), f)
	}
	return out
}

// decodeLines decodes NDJSON with json.Number for numbers.
func decodeLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	return recs
}

func isInt(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	_, err := n.Int64()
	return err == nil && !strings.ContainsAny(string(n), ".eE")
}

// checkType reports whether v has the JSON type datasets.json gives; a
// timestamp is an integer or an RFC 3339 string depending on tsString.
func checkType(v any, typ string, tsString bool) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "int":
		return isInt(v)
	case "float":
		_, ok := v.(json.Number)
		return ok
	case "bool":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array[string]", "array[int]":
		arr, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range arr {
			if _, isStr := e.(string); typ == "array[string]" && !isStr || typ == "array[int]" && !isInt(e) {
				return false
			}
		}
		return true
	case "timestamp":
		if !tsString {
			return isInt(v)
		}
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	}
	return false
}

func TestDatasetsConformance(t *testing.T) {
	spec := loadSpec(t)
	for _, name := range Datasets() {
		t.Run(name, func(t *testing.T) {
			scope, err := DatasetScope(name)
			if err != nil {
				t.Fatal(err)
			}
			want := spec[scope][name]
			if want == nil {
				t.Fatalf("%s/%s is not in datasets.json", scope, name)
			}
			g, _ := NewGenerator(name, 1)
			got := map[string]bool{}
			for _, f := range g.Fields() {
				got[f.Name] = true
				typ, ok := want[f.Name]
				if !ok {
					t.Errorf("field %s is not in datasets.json", f.Name)
				} else if typ != string(f.Type) {
					t.Errorf("field %s: generator type %s, datasets.json %s", f.Name, f.Type, typ)
				}
			}
			for f := range want {
				if !got[f] {
					t.Errorf("datasets.json field %s is not generated", f)
				}
			}

			// Every value of many records (attack bursts included) has
			// the documented type, with integer and string timestamps.
			n := 15000
			if scope == ScopeAccount {
				n = 5000
			}
			for _, ts := range []string{TimestampUnixNano, TimestampRFC3339ms} {
				f := MustFormat(name, OutputOptions{TimestampFormat: ts})
				recs := decodeLines(t, generate(t, name, Config{Seed: 3, AttackBursts: 40}, f, n))
				if len(recs) != n {
					t.Fatalf("got %d records, want %d", len(recs), n)
				}
				bad := 0
				for _, r := range recs {
					if len(r) != len(want) {
						t.Fatalf("record has %d fields, want %d", len(r), len(want))
					}
					for k, v := range r {
						if !checkType(v, want[k], ts != TimestampUnixNano) && bad < 10 {
							bad++
							t.Errorf("%s (%s): %s = %#v", k, want[k], ts, v)
						}
					}
				}
			}
		})
	}
}
