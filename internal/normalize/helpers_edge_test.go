package normalize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// Tests of the "edge" datasets (Email Security, NEL, Page Shield, Workers
// Trace Events, WebSocket analytics, Zaraz, audit logs v2). Their goldens
// run in TestGolden (added to goldenDatasets below); each dataset's record
// generator and fuzz target live in <dataset>_test.go.

var edgeDatasets = []struct {
	name string
	make func(*rand.Rand, int) string
}{
	{"email_security_alerts", makeEmailSecurityAlert},
	{"email_security_post_delivery_events", makePostDeliveryEvent},
	{"nel_reports", makeNELReport},
	{"page_shield_events", makePageShieldEvent},
	{"workers_trace_events", makeWorkersTraceEvent},
	{"websocket_analytics", makeWebsocketAnalytics},
	{"zaraz_events", makeZarazEvent},
	{"audit_logs_v2", makeAuditLogV2},
}

func init() {
	for _, d := range edgeDatasets {
		goldenDatasets = append(goldenDatasets, d.name)
	}
}

// TestEmitPathsEdge: the fast and the general emitter agree on generated
// records of every edge dataset (also with fields removed).
func TestEmitPathsEdge(t *testing.T) {
	n := newTestEnv(t, Options{PreserveOriginal: true, KeepDuplicateFields: true}).NewNormalizer()
	rng := newRand()
	for _, d := range edgeDatasets {
		compared := 0
		for i := 0; i < 100; i++ {
			line := d.make(rng, i)
			if i%3 == 0 {
				line = edgeDropFields(line, i)
			}
			fast, meta, err := n.Normalize(d.name, []byte(line), nil)
			if err != nil || meta.Drop {
				t.Fatalf("%s: %v %+v: %s", d.name, err, meta, line)
			}
			checkDoc(t, fast)
			if bytes.Contains(fast, []byte(`"pipeline_error"`)) {
				t.Fatalf("%s: generated record has errors: %s", d.name, fast)
			}
			if len(n.rec.extras) > 0 {
				continue
			}
			if slow := n.rec.emitMerged(nil); !bytes.Equal(fast, slow) {
				t.Fatalf("%s: emitters differ:\nfast %s\nslow %s", d.name, fast, slow)
			}
			compared++
		}
		if compared < 90 {
			t.Errorf("%s: only %d records compared", d.name, compared)
		}
	}
}

// TestFieldDefsEdge: every output field of the edge datasets has a mapping
// type, and every record field is known (nothing lands in unknown fields).
func TestFieldDefsEdge(t *testing.T) {
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	rng := newRand()
	for _, d := range edgeDatasets {
		ds, ok := lookup(d.name)
		if !ok {
			t.Fatalf("%s not registered", d.name)
		}
		if _, untyped := fieldDefs(ds); len(untyped) > 0 {
			t.Errorf("%s: untyped output fields %v", d.name, untyped)
		}
		for i := 0; i < 20; i++ {
			if _, _, err := n.Normalize(d.name, []byte(d.make(rng, i)), nil); err != nil {
				t.Fatal(err)
			}
		}
		if u := env.UnknownFields(d.name); u != 0 {
			t.Errorf("%s: the generator writes %d unknown fields", d.name, u)
		}
	}
}

// BenchmarkNormalizeEdge is BenchmarkNormalize for the edge datasets.
//
//	go test ./internal/normalize -run - -bench NormalizeEdge -benchtime 2s
func BenchmarkNormalizeEdge(b *testing.B) {
	for _, d := range edgeDatasets {
		b.Run(d.name, func(b *testing.B) {
			env, err := NewEnv(Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer env.Close()
			n := env.NewNormalizer()
			rng := rand.New(rand.NewPCG(1, 2))
			recs := make([][]byte, 4096)
			size := 0
			for i := range recs {
				recs[i] = []byte(d.make(rng, i))
				size += len(recs[i])
			}
			var dst []byte
			for _, r := range recs { // warm the user agent cache
				if dst, _, err = n.Normalize(d.name, r, dst[:0]); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(size / len(recs)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dst, _, _ = n.Normalize(d.name, recs[i%len(recs)], dst[:0])
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
			}
		})
	}
}

// Generator helpers.

func edgePick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func edgeAlnum(rng *rand.Rand, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

func edgeUUID(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0xfff, b&0xffffffffffff)
}

func edgeIP(rng *rand.Rand) string {
	if rng.IntN(5) == 0 {
		return fmt.Sprintf("2001:db8:%x:%x::%x", rng.IntN(0xffff), rng.IntN(0xffff), 1+rng.IntN(0xfffe))
	}
	return fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(220), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
}

// edgeDropFields removes every other top-level member of a generated
// record.
func edgeDropFields(line string, seed int) string {
	parts := edgeSplitMembers(line[1 : len(line)-1])
	var kept []string
	for j, p := range parts {
		if (j+seed)%2 == 0 {
			kept = append(kept, p)
		}
	}
	return "{" + strings.Join(kept, ",") + "}"
}

// edgeSplitMembers splits the members of a JSON object body at top-level
// commas.
func edgeSplitMembers(s string) []string {
	var out []string
	depth, inStr, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// TestEdgeTypesMatchCatalog: each field's Type agrees with its type in
// Cloudflare's reference (../shared/cloudflare/datasets.json): int → long
// (or a date for unix times), bool → boolean, float → double, timestamp →
// date, string → keyword or ip, objects and arrays → kept as they are.
func TestEdgeTypesMatchCatalog(t *testing.T) {
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
	names := []string{"firewall_events"}
	for _, d := range edgeDatasets {
		names = append(names, d.name)
	}
	for _, name := range names {
		ds, _ := lookup(name)
		s := schemaOf(ds)
		for scope, sets := range cat.Datasets {
			for _, f := range sets[name].Fields {
				i, ok := s.bySrc[f.Name]
				if !ok {
					t.Errorf("%s (%s): no row for %s", name, scope, f.Name)
					continue
				}
				got := s.fields[i].Type
				ok = false
				switch f.Type {
				case "int":
					ok = got == Long || (got == Timestamp && (strings.Contains(f.Name, "Timestamp") || strings.Contains(f.Name, "Nanos")))
				case "bool":
					ok = got == Bool
				case "float":
					ok = got == Double
				case "timestamp":
					ok = got == Timestamp
				case "string":
					ok = got == Keyword || got == IP
				default: // object, array[...]
					ok = got == Keyword || (f.Type == "array[int]" && got == Long)
				}
				if !ok {
					t.Errorf("%s (%s): %s is %s in Cloudflare's reference, %s in the table", name, scope, f.Name, f.Type, got)
				}
			}
		}
	}
}
