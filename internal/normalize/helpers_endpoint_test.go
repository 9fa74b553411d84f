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

// Tests of the "endpoint" datasets (DEX, device posture, WARP, CASB, DLP,
// Turnstile, Account Abuse Protection): goldens, emitter agreement and the
// benchmark, with the same files and flags as TestGolden / BenchmarkNormalize.
// Each dataset's generator and fuzz target live in <dataset>_test.go.

var endpointDatasets = []struct {
	name string
	make func(*rand.Rand, int) string
}{
	{"dex_application_tests", makeDEXApplicationTest},
	{"dex_device_state_events", makeDEXDeviceStateEvent},
	{"device_posture_results", makeDevicePostureResult},
	{"casb_findings", makeCASBFinding},
	{"dlp_forensic_copies", makeDLPForensicCopy},
	{"warp_config_changes", makeWARPConfigChange},
	{"warp_toggle_changes", makeWARPToggleChange},
	{"turnstile_events", makeTurnstileEvent},
	{"account_abuse_protection_events", makeAccountAbuseProtectionEvent},
}

// TestGoldenEndpoint is TestGolden for the endpoint datasets:
// testdata/<dataset>/input.ndjson against <variant>.golden (-update rewrites).
func TestGoldenEndpoint(t *testing.T) {
	for _, d := range endpointDatasets {
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
					t.Fatalf("%v (run go test -run TestGoldenEndpoint -update)", err)
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
							t.Fatalf("%s line %d differs:\n got: %s\nwant: %s\n(run go test -run TestGoldenEndpoint -update to accept)", path, i+1, g, w)
						}
					}
				}
			})
		}
	}
}

// TestEmitPathsEndpoint: the fast and the general emitter agree on
// generated records of every endpoint dataset (also with fields removed).
func TestEmitPathsEndpoint(t *testing.T) {
	n := newTestEnv(t, Options{PreserveOriginal: true, KeepDuplicateFields: true}).NewNormalizer()
	rng := newRand()
	for _, d := range endpointDatasets {
		compared := 0
		for i := 0; i < 100; i++ {
			line := d.make(rng, i)
			if i%3 == 0 { // drop every other field so that sparse slot sets are covered
				line = epDropFields(line, i)
			}
			fast, meta, err := n.Normalize(d.name, []byte(line), nil)
			if err != nil || meta.Drop {
				t.Fatalf("%s: %v %+v: %s", d.name, err, meta, line)
			}
			checkDoc(t, fast)
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

// epDropFields removes every other top-level member of a flat
// generated record (values hold no '","' sequences at the top level).
func epDropFields(line string, seed int) string {
	parts := epSplitMembers(line[1 : len(line)-1])
	var kept []string
	for j, p := range parts {
		if (j+seed)%2 == 0 {
			kept = append(kept, p)
		}
	}
	return "{" + strings.Join(kept, ",") + "}"
}

// epSplitMembers splits the members of a JSON object body at top-level commas.
func epSplitMembers(s string) []string {
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

// BenchmarkNormalizeEndpoint is BenchmarkNormalize for the endpoint datasets.
//
//	go test ./internal/normalize -run - -bench NormalizeEndpoint -benchtime 2s
func BenchmarkNormalizeEndpoint(b *testing.B) {
	for _, d := range endpointDatasets {
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

func epPick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func epUUID(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0xfff, b&0xffffffffffff)
}

// TestFieldDefsEndpoint: every output field of the endpoint datasets has a
// mapping type (no path falls back to keyword untyped).
func TestFieldDefsEndpoint(t *testing.T) {
	for _, d := range endpointDatasets {
		ds, ok := lookup(d.name)
		if !ok {
			t.Fatalf("%s not registered", d.name)
		}
		if _, untyped := fieldDefs(ds); len(untyped) > 0 {
			t.Errorf("%s: untyped output fields %v", d.name, untyped)
		}
	}
}

// TestHostOSTypeEndpoint checks Elastic's script_map_host_os_type mapping.
func TestHostOSTypeEndpoint(t *testing.T) {
	n := newTestEnv(t, Options{}).NewNormalizer()
	for platform, want := range map[string]string{
		"mac": "macos", "macOS": "macos", "windows": "windows", "Windows 11": "windows", "linux": "linux",
		"ios": "ios", "iPadOS": "", "android": "android", "chromeos": "", "": "", "unix": "unix", "darwin": "",
	} {
		doc, _, err := n.Normalize("dex_device_state_events", []byte(`{"ClientPlatform":"`+platform+`"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := decode(t, doc)["host.os.type"].(string)
		if got != want {
			t.Errorf("ClientPlatform %q: host.os.type %q, want %q", platform, got, want)
		}
	}
}
