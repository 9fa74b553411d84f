package normalize

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of the "gateway" datasets (Gateway DNS / HTTP / Network, Zero Trust
// network sessions, Access requests, SSH logs, Browser Isolation user
// actions, MCP portal logs): goldens, emitter agreement and the benchmark,
// with the same files and flags as TestGolden / BenchmarkNormalize. Each
// dataset's generator, fuzz target and field tests live in <dataset>_test.go.

var gatewayDatasets = []struct {
	name string
	make func(*rand.Rand, int) string
}{
	{"gateway_dns", makeGatewayDNS},
	{"gateway_http", makeGatewayHTTP},
	{"gateway_network", makeGatewayNetwork},
	{"zero_trust_network_sessions", makeZeroTrustNetworkSession},
	{"access_requests", makeAccessRequest},
	{"ssh_logs", makeSSHLog},
	{"biso_user_actions", makeBISOUserAction},
	{"mcp_portal_logs", makeMCPPortalLog},
}

// TestGoldenGateway is TestGolden for the gateway datasets:
// testdata/<dataset>/input.ndjson against <variant>.golden (-update rewrites).
func TestGoldenGateway(t *testing.T) {
	for _, d := range gatewayDatasets {
		for _, v := range goldenVariants {
			t.Run(d.name+"/"+v.name, func(t *testing.T) {
				in, err := os.ReadFile(filepath.Join("testdata", d.name, "input.ndjson"))
				if err != nil {
					t.Fatal(err)
				}
				n := newTestEnv(t, v.opts).NewNormalizer()
				var got bytes.Buffer
				for i, line := range bytes.Split(bytes.TrimRight(in, "\n"), []byte("\n")) {
					doc, meta, err := n.Normalize(d.name, line, nil)
					switch {
					case err != nil:
						var re *RecordError
						if !errors.As(err, &re) {
							t.Fatalf("line %d: error %T is not a *RecordError", i+1, err)
						}
						fmt.Fprintf(&got, "# error: %v\n", err)
					case meta.Drop:
						fmt.Fprintf(&got, "# drop: %s\n", meta.DropReason)
					default:
						checkDoc(t, doc)
						got.Write(doc)
						got.WriteByte('\n')
					}
				}
				path := filepath.Join("testdata", d.name, v.name+".golden")
				if *update {
					if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -run TestGoldenGateway -update)", err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
					for i := 0; i < len(gl) || i < len(wl); i++ {
						var g, w string
						if i < len(gl) {
							g = gl[i]
						}
						if i < len(wl) {
							w = wl[i]
						}
						if g != w {
							t.Fatalf("%s line %d differs:\n got: %s\nwant: %s\n(run go test -run TestGoldenGateway -update to accept)", path, i+1, g, w)
						}
					}
				}
			})
		}
	}
}

// TestEmitPathsGateway: the fast and the general emitter agree on generated
// records of every gateway dataset (also with fields removed), and every
// generated record normalizes without a conversion error.
func TestEmitPathsGateway(t *testing.T) {
	n := newTestEnv(t, Options{PreserveOriginal: true, KeepDuplicateFields: true}).NewNormalizer()
	rng := newRand()
	for _, d := range gatewayDatasets {
		compared := 0
		for i := 0; i < 100; i++ {
			line := d.make(rng, i)
			if i%3 == 0 { // drop every other field so that sparse slot sets are covered
				line = gwDropEveryOtherField(line, i)
			}
			fast, meta, err := n.Normalize(d.name, []byte(line), nil)
			if err != nil || meta.Drop {
				t.Fatalf("%s: %v %+v: %s", d.name, err, meta, line)
			}
			checkDoc(t, fast)
			if bytes.Contains(fast, []byte(`"error":{`)) {
				t.Fatalf("%s: generated record has a conversion error:\n%s\n%s", d.name, line, fast)
			}
			if len(n.rec.extras) > 0 {
				t.Fatalf("%s: generated record has unknown fields: %s", d.name, line)
			}
			if slow := n.rec.emitMerged(nil); !bytes.Equal(fast, slow) {
				t.Fatalf("%s: emitters differ:\nfast %s\nslow %s", d.name, fast, slow)
			}
			compared++
		}
		if compared < 100 {
			t.Errorf("%s: only %d records compared", d.name, compared)
		}
	}
}

// BenchmarkNormalizeGateway is BenchmarkNormalize for the gateway datasets.
//
//	go test ./internal/normalize -run - -bench NormalizeGateway -benchtime 2s
func BenchmarkNormalizeGateway(b *testing.B) {
	for _, d := range gatewayDatasets {
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
			for _, r := range recs { // warm the caches
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

// gwDropEveryOtherField removes every other top-level member of a generated
// record.
func gwDropEveryOtherField(line string, seed int) string {
	parts := gwSplitTopLevel(line[1 : len(line)-1])
	var kept []string
	for j, p := range parts {
		if (j+seed)%2 == 0 {
			kept = append(kept, p)
		}
	}
	return "{" + strings.Join(kept, ",") + "}"
}

// gwSplitTopLevel splits the members of a JSON object body at top-level commas.
func gwSplitTopLevel(s string) []string {
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

// Generator helpers.

func gwPick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func gwUUID(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0xfff, b&0xffffffffffff)
}

func gwIPv4(rng *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(220), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
}

// gwNormalize normalizes one line and returns the flat document.
func gwNormalize(t *testing.T, opts Options, dataset, line string) map[string]any {
	t.Helper()
	doc, _ := normalizeOne(t, newTestEnv(t, opts), dataset, line)
	return doc
}

// gwExpect checks fields of a flat document (fmt.Sprint comparison; nil
// means absent).
func gwExpect(t *testing.T, doc map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := doc[k]
		if w == nil {
			if ok {
				t.Errorf("%s = %v, want absent", k, g)
			}
			continue
		}
		if !ok || fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
}

// TestFieldDefsGateway: every output field of the gateway datasets has a
// mapping type (from the table, the ECS reference or Dataset.Declare).
func TestFieldDefsGateway(t *testing.T) {
	for _, d := range gatewayDatasets {
		ds, ok := lookup(d.name)
		if !ok {
			t.Fatalf("%s not registered", d.name)
		}
		if _, untyped := fieldDefs(ds); len(untyped) > 0 {
			t.Errorf("%s: untyped output fields %v", d.name, untyped)
		}
	}
}
