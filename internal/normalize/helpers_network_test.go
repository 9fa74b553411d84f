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

// Tests of the "network" datasets (DNS, DNS firewall, network analytics,
// Magic IDS, Spectrum, sinkhole HTTP, IPsec, Magic BGP, MNM flows): goldens,
// emitter agreement, the benchmark and the shared helpers (Community ID,
// DNS tables), with the same files and flags as TestGolden /
// BenchmarkNormalize. Each dataset's generator, fuzz target and field tests
// live in <dataset>_test.go.

var networkDatasets = []struct {
	name string
	make func(*rand.Rand, int) string
}{
	{"dns_logs", makeDNSLog},
	{"dns_firewall_logs", makeDNSFirewallLog},
	{"network_analytics_logs", makeNetworkAnalyticsLog},
	{"magic_ids_detections", makeMagicIDSDetection},
	{"spectrum_events", makeSpectrumEvent},
	{"sinkhole_http_logs", makeSinkholeHTTPLog},
	{"ipsec_logs", makeIPsecLog},
	{"magic_bgp_logs", makeMagicBGPLog},
	{"mnm_flow_logs", makeMNMFlowLog},
}

// TestGoldenNetwork is TestGolden for the network datasets:
// testdata/<dataset>/input.ndjson against <variant>.golden (-update rewrites).
func TestGoldenNetwork(t *testing.T) {
	for _, d := range networkDatasets {
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
					t.Fatalf("%v (run go test -run TestGoldenNetwork -update)", err)
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
							t.Fatalf("%s line %d differs:\n got: %s\nwant: %s\n(run go test -run TestGoldenNetwork -update to accept)", path, i+1, g, w)
						}
					}
				}
			})
		}
	}
}

// TestEmitPathsNetwork: the fast and the general emitter agree on generated
// records of every network dataset (also with fields removed), and every
// generated record normalizes without a conversion error or unknown field.
func TestEmitPathsNetwork(t *testing.T) {
	n := newTestEnv(t, Options{PreserveOriginal: true, KeepDuplicateFields: true}).NewNormalizer()
	rng := newRand()
	for _, d := range networkDatasets {
		for i := 0; i < 100; i++ {
			line := d.make(rng, i)
			if i%3 == 0 { // drop every other field so that sparse slot sets are covered
				line = nwDropEveryOtherField(line, i)
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
		}
	}
}

// BenchmarkNormalizeNetwork is BenchmarkNormalize for the network datasets.
//
//	go test ./internal/normalize -run - -bench NormalizeNetwork -benchtime 2s
func BenchmarkNormalizeNetwork(b *testing.B) {
	for _, d := range networkDatasets {
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

// TestCommunityID checks the processor's algorithm against the Community ID
// specification's example and its symmetry and edge cases.
func TestCommunityID(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Flow
		want string // "" = no id
	}{
		// The example of github.com/corelight/community-id-spec.
		{"spec tcp", Flow{SrcIP: "128.232.110.120", DstIP: "66.35.250.204", SrcPort: 34855, DstPort: 80, Transport: "tcp"}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"spec tcp reversed", Flow{SrcIP: "66.35.250.204", DstIP: "128.232.110.120", SrcPort: 80, DstPort: 34855, Transport: "TCP"}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"iana number wins", Flow{SrcIP: "128.232.110.120", DstIP: "66.35.250.204", SrcPort: 34855, DstPort: 80, IANANumber: "6", Transport: "udp"}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"mapped ipv4", Flow{SrcIP: "::ffff:128.232.110.120", DstIP: "66.35.250.204", SrcPort: 34855, DstPort: 80, Transport: "tcp"}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"no source", Flow{DstIP: "66.35.250.204", SrcPort: 1, DstPort: 80, Transport: "tcp"}, ""},
		{"bad address", Flow{SrcIP: "x", DstIP: "66.35.250.204", Transport: "tcp"}, ""},
		{"no protocol", Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2"}, ""},
		{"unknown name", Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", Transport: "unix"}, ""},
		{"number too big", Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", IANANumber: "255"}, ""},
		{"bad port", Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", SrcPort: 70000, DstPort: 1, Transport: "udp"}, ""},
	} {
		got, ok := CommunityID(&c.f)
		if ok != (c.want != "") || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
	// Symmetry, also for ICMP echo request / reply and IPv6; ports only
	// count for the protocols that have them.
	pairs := [][2]Flow{
		{{SrcIP: "2001:db8::1", DstIP: "2001:db8::2", SrcPort: 5353, DstPort: 53, Transport: "udp"},
			{SrcIP: "2001:db8::2", DstIP: "2001:db8::1", SrcPort: 53, DstPort: 5353, Transport: "udp"}},
		{{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", ICMPType: 8, Transport: "icmp"},
			{SrcIP: "192.0.2.2", DstIP: "192.0.2.1", ICMPType: 0, Transport: "icmp"}},
		{{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", SrcPort: 1, DstPort: 2, Transport: "gre"},
			{SrcIP: "192.0.2.2", DstIP: "192.0.2.1", Transport: "47"}},
	}
	for _, p := range pairs {
		a, ok1 := CommunityID(&p[0])
		b, ok2 := CommunityID(&p[1])
		if !ok1 || !ok2 || a != b {
			t.Errorf("%+v / %+v: %q %q", p[0], p[1], a, b)
		}
	}
	// One-way ICMP (destination unreachable) keeps its direction.
	a, _ := CommunityID(&Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", ICMPType: 3, ICMPCode: 1, Transport: "icmp"})
	b, _ := CommunityID(&Flow{SrcIP: "192.0.2.2", DstIP: "192.0.2.1", ICMPType: 3, ICMPCode: 1, Transport: "icmp"})
	if a == b || a == "" {
		t.Errorf("one-way ICMP: %q %q", a, b)
	}
}

func TestDNSTables(t *testing.T) {
	for n, want := range map[int64]string{0: "Reserved", 1: "A", 28: "AAAA", 54: "", 65: "HTTPS", 99: "SPF", 109: "EUI64",
		110: "", 128: "NXNAME", 249: "TKEY", 255: "ANY", 257: "CAA", 264: "IPN", 265: "", 32768: "TA", 32769: "DLV", 65535: "", -1: ""} {
		if got := DNSQueryType(n); got != want {
			t.Errorf("DNSQueryType(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "NoError", 3: "NXDomain", 11: "DSOTYPENI", 12: "", 16: "BADVERS", 23: "BADCOOKIE", 24: "", -1: ""} {
		if got := DNSResponseCode(n); got != want {
			t.Errorf("DNSResponseCode(%d) = %q, want %q", n, got, want)
		}
	}
}

// nwDropEveryOtherField removes every other top-level member of a generated
// record.
func nwDropEveryOtherField(line string, seed int) string {
	body := line[1 : len(line)-1]
	var parts []string
	depth, inStr, start := 0, false, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
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
			parts = append(parts, body[start:i])
			start = i + 1
		}
	}
	parts = append(parts, body[start:])
	var kept []string
	for j, p := range parts {
		if (j+seed)%2 == 0 {
			kept = append(kept, p)
		}
	}
	return "{" + strings.Join(kept, ",") + "}"
}

func nwPick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func nwIPv4(rng *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(220), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
}

func nwIPv6(rng *rand.Rand) string {
	return fmt.Sprintf("2001:db8:%x:%x::%x", rng.IntN(0xffff), rng.IntN(0xffff), 1+rng.IntN(0xfffe))
}

// nwExpect checks fields of a flat document (fmt.Sprint comparison; nil
// means absent).
func nwExpect(t *testing.T, doc map[string]any, want map[string]any) {
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

// nwNormalize normalizes one line and returns the flat document.
func nwNormalize(t *testing.T, opts Options, dataset, line string) map[string]any {
	t.Helper()
	doc, _ := normalizeOne(t, newTestEnv(t, opts), dataset, line)
	return doc
}
