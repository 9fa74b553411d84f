package normalize

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test harness every dataset gets without listing it anywhere but in
// recordGenerators: TestGolden, TestEmitPaths and FuzzNormalize iterate the
// registry. A dataset's own tests (field assertions, generator) live in
// <dataset>_test.go.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// recordGenerators make realistic records of every Logpush dataset (the
// field set of a typical job, every field known to the mapping, no
// conversion errors). API datasets (Dataset.Envelope) have none: their
// golden inputs are whole API answers.
var recordGenerators = map[string]func(*rand.Rand, int) string{
	"http_requests":   makeHTTPRequest,
	"firewall_events": makeFirewallEvent,
	"audit_logs":      makeAuditLog,

	"access_requests":             makeAccessRequest,
	"biso_user_actions":           makeBISOUserAction,
	"gateway_dns":                 makeGatewayDNS,
	"gateway_http":                makeGatewayHTTP,
	"gateway_network":             makeGatewayNetwork,
	"mcp_portal_logs":             makeMCPPortalLog,
	"ssh_logs":                    makeSSHLog,
	"zero_trust_network_sessions": makeZeroTrustNetworkSession,

	"audit_logs_v2":                       makeAuditLogV2,
	"email_security_alerts":               makeEmailSecurityAlert,
	"email_security_post_delivery_events": makePostDeliveryEvent,
	"nel_reports":                         makeNELReport,
	"page_shield_events":                  makePageShieldEvent,
	"websocket_analytics":                 makeWebsocketAnalytics,
	"workers_trace_events":                makeWorkersTraceEvent,
	"zaraz_events":                        makeZarazEvent,

	"dns_firewall_logs":      makeDNSFirewallLog,
	"dns_logs":               makeDNSLog,
	"ipsec_logs":             makeIPsecLog,
	"magic_bgp_logs":         makeMagicBGPLog,
	"magic_ids_detections":   makeMagicIDSDetection,
	"mnm_flow_logs":          makeMNMFlowLog,
	"network_analytics_logs": makeNetworkAnalyticsLog,
	"sinkhole_http_logs":     makeSinkholeHTTPLog,
	"spectrum_events":        makeSpectrumEvent,

	"account_abuse_protection_events": makeAccountAbuseProtectionEvent,
	"casb_findings":                   makeCASBFinding,
	"device_posture_results":          makeDevicePostureResult,
	"dex_application_tests":           makeDEXApplicationTest,
	"dex_device_state_events":         makeDEXDeviceStateEvent,
	"dlp_forensic_copies":             makeDLPForensicCopy,
	"turnstile_events":                makeTurnstileEvent,
	"warp_config_changes":             makeWARPConfigChange,
	"warp_toggle_changes":             makeWARPToggleChange,
}

// TestHarnessCoverage: every registered dataset has golden files, and every
// Logpush dataset a record generator, so that the harness covers it.
func TestHarnessCoverage(t *testing.T) {
	for _, ds := range registry().datasets {
		for _, f := range []string{"input.ndjson", "default.golden", "full.golden"} {
			if _, err := os.Stat(filepath.Join("testdata", ds.Name, f)); err != nil {
				t.Errorf("%s: no testdata/%s/%s (see doc.go, step 5)", ds.Name, ds.Name, f)
			}
		}
		if _, ok := recordGenerators[ds.Name]; !ok && !ds.Envelope {
			t.Errorf("%s: no record generator in recordGenerators (harness_test.go)", ds.Name)
		}
	}
	for name := range recordGenerators {
		if _, ok := lookup(name); !ok {
			t.Errorf("recordGenerators: %s is not a registered dataset", name)
		}
	}
}

// goldenVariants are the option sets every golden input is normalized
// with. AccountID is what Elastic's test config sets (only the API datasets
// read it).
var goldenVariants = []struct {
	name string
	opts Options
}{
	{"default", Options{AccountID: "abcd1234"}},
	{"full", Options{AccountID: "abcd1234", PreserveOriginal: true, KeepDuplicateFields: true}},
}

// TestGolden normalizes testdata/<dataset>/input.ndjson of every registered
// dataset that has one and compares with testdata/<dataset>/<variant>.golden:
// one line per outcome (NormalizeEach: an API answer gives one per item),
// the document, "# drop: reason" or "# error: message".
//
//	go test ./internal/normalize -run TestGolden -update   # rewrite them
func TestGolden(t *testing.T) {
	for _, ds := range registry().datasets {
		in, err := os.ReadFile(filepath.Join("testdata", ds.Name, "input.ndjson"))
		if errors.Is(err, os.ErrNotExist) {
			continue // reported by TestHarnessCoverage
		} else if err != nil {
			t.Fatal(err)
		}
		for _, v := range goldenVariants {
			t.Run(ds.Name+"/"+v.name, func(t *testing.T) {
				n := newTestEnv(t, v.opts).NewNormalizer()
				var got bytes.Buffer
				var buf []byte
				for i, line := range bytes.Split(bytes.TrimRight(in, "\n"), []byte("\n")) {
					buf = n.NormalizeEach(ds.Name, line, buf, func(doc []byte, meta Meta, err error) {
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
							checkFieldTypes(t, ds.Name, doc)
							got.Write(doc)
							got.WriteByte('\n')
						}
					})
				}
				path := filepath.Join("testdata", ds.Name, v.name+".golden")
				if *update {
					if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -run TestGolden -update)", err)
				}
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
						t.Fatalf("%s line %d differs:\n got: %s\nwant: %s\n(run go test -run TestGolden -update to accept)", path, i+1, g, w)
					}
				}
			})
		}
	}
}

// TestEmitPaths: the fast emitter (precomputed prefixes) and the general
// one (runtime comparison) write the same bytes, for every dataset's golden
// inputs and generated records (a third of them with every other field
// removed, so that sparse slot sets are covered). Generated records must
// normalize without an error, a conversion error or an unknown field.
func TestEmitPaths(t *testing.T) {
	n := newTestEnv(t, Options{PreserveOriginal: true, KeepDuplicateFields: true}).NewNormalizer()
	rng := newRand()
	for _, ds := range registry().datasets {
		name := ds.Name
		compared := 0
		compare := func(fast []byte) {
			if slow := n.rec.emitMerged(nil); !bytes.Equal(fast, slow) {
				t.Fatalf("%s: emitters differ:\nfast %s\nslow %s", name, fast, slow)
			}
			compared++
		}
		if gen := recordGenerators[name]; gen != nil {
			for i := 0; i < 100; i++ {
				line := gen(rng, i)
				if i%3 == 0 {
					line = dropMembers(line, i)
				}
				fast, meta, err := n.Normalize(name, []byte(line), nil)
				switch {
				case err != nil || meta.Drop:
					t.Fatalf("%s: %v %+v: %s", name, err, meta, line)
				case bytes.Contains(fast, []byte(`"error":{"message"`)):
					t.Fatalf("%s: generated record has a conversion error:\n%s\n%s", name, line, fast)
				case len(n.rec.extras) > 0:
					t.Fatalf("%s: generated record has unknown fields: %s", name, line)
				}
				checkDoc(t, fast)
				checkFieldTypes(t, name, fast)
				compare(fast)
			}
		}
		in, _ := os.ReadFile(filepath.Join("testdata", name, "input.ndjson"))
		for _, line := range bytes.Split(bytes.TrimRight(in, "\n"), []byte("\n")) {
			fast, meta, err := n.Normalize(name, line, nil)
			if err != nil || meta.Drop || len(n.rec.extras) > 0 {
				continue // the general emitter is the only one for unknown fields
			}
			compare(fast)
		}
		if compared == 0 {
			t.Errorf("%s: no document compared", name)
		}
	}
}

// FuzzNormalize feeds arbitrary records to every registered dataset (which
// picks one: its index in Datasets(), modulo their number; the fuzzer also
// moves records between datasets). Normalize must not panic, must return
// one valid JSON object without duplicate keys whenever it returns no
// error, and must leave dst untouched otherwise. The seeds are every
// dataset's golden inputs plus a few odd records. FUZZ_DATASET restricts it
// to one dataset. Every mutated user agent is a user agent cache miss (a
// full regex pass, milliseconds), so keep minimization short:
//
//	go test ./internal/normalize -run - -fuzz FuzzNormalize -fuzztime 60s -fuzzminimizetime 1s
//	FUZZ_DATASET=gateway_dns go test ./internal/normalize -run - -fuzz FuzzNormalize -fuzztime 15s
func FuzzNormalize(f *testing.F) {
	names := Datasets()
	if only := os.Getenv("FUZZ_DATASET"); only != "" {
		c, ok := Resolve(only)
		if !ok {
			f.Fatalf("FUZZ_DATASET: unknown dataset %q", only)
		}
		names = []string{c}
	}
	for i, ds := range names {
		if in, err := os.ReadFile(filepath.Join("testdata", ds, "input.ndjson")); err == nil {
			for _, l := range bytes.Split(in, []byte("\n")) {
				f.Add(uint8(i), l)
			}
		}
		for _, s := range []string{`{}`, `{"content":"tests"}`, `test`, `{"a":{"b":[1,{"c":""}]}}`, `{"RayID":NaN}`,
			`{"EdgeStartTimestamp":"1653485126","Datetime":1653485126000,"When":"2022-05-25T13:25:26+02:00"}`,
			"{\"ClientRequestURI\":\"//\xff\",\"ClientRequestHost\":\"[::1\"}", `{"Metadata":{"N/A":"N/A","x":["N/A",""]}}`} {
			f.Add(uint8(i), []byte(s))
		}
	}
	env, err := NewEnv(Options{PreserveOriginal: true})
	if err != nil {
		f.Fatal(err)
	}
	n := env.NewNormalizer()
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		ds := names[int(which)%len(names)]
		dst := []byte("prefix")
		out, meta, err := n.Normalize(ds, raw, dst)
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("%s: dst prefix lost", ds)
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || re.Reason == "" {
				t.Fatalf("%s: error %v is not a *RecordError", ds, err)
			}
			if len(out) != len("prefix") {
				t.Fatalf("%s: output on error", ds)
			}
			return
		}
		if meta.Drop {
			if len(out) != len("prefix") {
				t.Fatalf("%s: output for a dropped record", ds)
			}
			return
		}
		doc := out[len("prefix"):]
		if !json.Valid(doc) {
			t.Fatalf("%s: invalid JSON for %q:\n%s", ds, raw, doc)
		}
		checkDoc(t, doc)
		if len(meta.ID) != 32 {
			t.Fatalf("%s: bad id %q", ds, meta.ID)
		}
	})
}

// dropMembers removes every other top-level member of a generated record
// (which ones depends on seed).
func dropMembers(line string, seed int) string {
	parts := splitMembers(line[1 : len(line)-1])
	var kept []string
	for j, p := range parts {
		if (j+seed)%2 == 0 {
			kept = append(kept, p)
		}
	}
	return "{" + strings.Join(kept, ",") + "}"
}

// splitMembers splits the members of a JSON object body at top-level commas.
func splitMembers(s string) []string {
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

// ---- generator helpers ----

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func randUUID(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0xfff, b&0xffffffffffff)
}

// randHex32 is a Cloudflare-style 32 hex digit id.
func randHex32(rng *rand.Rand) string { return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()) }

func randAlnum(rng *rand.Rand, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

func randIPv4(rng *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(220), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
}

func randIPv6(rng *rand.Rand) string {
	return fmt.Sprintf("2001:db8:%x:%x::%x", rng.IntN(0xffff), rng.IntN(0xffff), 1+rng.IntN(0xfffe))
}

// randIP is an IPv4 address, or one time in five an IPv6 one.
func randIP(rng *rand.Rand) string {
	if rng.IntN(5) == 0 {
		return randIPv6(rng)
	}
	return randIPv4(rng)
}

// checkFieldTypes asserts that every value doc holds at a path FieldDefs
// types as a number, boolean, ip, date or geo_point has that type, the way
// Elasticsearch's mapping (and the store's typed columns) would take it:
// a typed field never gets a wrongly typed value (on a conversion failure
// the field is left out). Keyword-like, text and object fields are not
// checked; neither are fields FieldDefs does not list (unknown fields).
func checkFieldTypes(t testing.TB, dataset string, doc []byte) {
	t.Helper()
	defs, ok := FieldDefs(dataset)
	if !ok {
		t.Fatalf("FieldDefs(%s)", dataset)
	}
	types := make(map[string]string, len(defs))
	for _, d := range defs {
		types[d.Path] = d.Type
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode: %v: %s", err, doc)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		typ, typed := types[path]
		if !typed {
			if obj, ok := v.(map[string]any); ok {
				for k, e := range obj {
					p := k
					if path != "" {
						p = path + "." + k
					}
					walk(p, e)
				}
			}
			return
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if msg := typeMismatch(typ, e); msg != "" {
					t.Errorf("%s: %s (%s) holds %s in %s", dataset, path, typ, msg, doc)
				}
			}
			return
		}
		if msg := typeMismatch(typ, v); msg != "" {
			t.Errorf("%s: %s (%s) holds %s in %s", dataset, path, typ, msg, doc)
		}
	}
	walk("", m)
}

// typeMismatch describes v when Elasticsearch would not index it in a
// field of mapping type typ (with its default coercion: a string holding
// an integer fits a long, a geohash a geo_point), else "".
func typeMismatch(typ string, v any) string {
	bad := func() string { b, _ := json.Marshal(v); return truncate(string(b), 80) }
	str, isStr := v.(string)
	num, isNum := v.(json.Number)
	switch typ {
	case "long", "integer", "short", "byte", "unsigned_long":
		if isStr {
			num, isNum = json.Number(str), true
		}
		if !isNum || strings.ContainsAny(string(num), ".eE") {
			return bad()
		}
		if _, err := strconv.ParseInt(strings.TrimPrefix(string(num), "+"), 10, 64); err != nil && typ != "unsigned_long" {
			return bad()
		}
	case "double", "float", "half_float", "scaled_float":
		if isStr {
			num, isNum = json.Number(str), true
		}
		if _, err := num.Float64(); !isNum || err != nil {
			return bad()
		}
	case "boolean":
		if _, ok := v.(bool); !ok && str != "true" && str != "false" {
			return bad()
		}
	case "ip":
		if !validIP(str) {
			return bad()
		}
	case "date", "date_nanos":
		if _, err := time.Parse(time.RFC3339Nano, str); !isStr || err != nil {
			return bad()
		}
	case "geo_point":
		if o, ok := v.(map[string]any); ok {
			if _, ok := o["lat"].(json.Number); !ok {
				return bad()
			}
			if _, ok := o["lon"].(json.Number); !ok {
				return bad()
			}
			return ""
		}
		const geohash = "0123456789bcdefghjkmnpqrstuvwxyz"
		if !isStr || str == "" || strings.Trim(str, geohash) != "" {
			return bad()
		}
	}
	return ""
}

// TestConversionFailures gives every typed row of every dataset values
// that do not convert (in a generated record, or alone): the record is
// kept, reports the field in error.message with event.original, and no
// typed output field holds a wrongly typed value (checkFieldTypes).
func TestConversionFailures(t *testing.T) {
	n := newTestEnv(t, Options{KeepDuplicateFields: true}).NewNormalizer()
	rng := newRand()
	cases := 0
	for _, ds := range registry().datasets {
		base := map[string]any{}
		if gen := recordGenerators[ds.Name]; gen != nil {
			dec := json.NewDecoder(strings.NewReader(gen(rng, 0)))
			dec.UseNumber()
			if err := dec.Decode(&base); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range ds.Fields {
			bad := []any{map[string]any{"a": json.Number("1")}, []any{json.Number("1"), map[string]any{}}}
			switch f.Type {
			case Keyword: // kept as it comes: only what Derive makes of it is checked
				bad = append(bad, "not-a-value", json.Number("12.5"), "N/A", []any{"x", json.Number("-1")})
			case String:
				bad = append(bad, "not-a-number") // a bad value where a numeric Mapping needs integers
			case Double:
				bad = append(bad, "not-a-number")
			default:
				bad = append(bad, "not-a-value", json.Number("12.5"))
			}
			for _, b := range bad {
				if f.Type == Bool || f.Type == IP || f.Type == Timestamp {
					if _, isNum := b.(json.Number); isNum {
						continue // a number is no ip or boolean; unix times are numbers
					}
				}
				rec := cloneWith(base, f.Src, b)
				line, err := json.Marshal(rec)
				if err != nil {
					t.Fatal(err)
				}
				doc, meta, err := n.Normalize(ds.Name, line, nil)
				if err != nil || meta.Drop {
					t.Errorf("%s %s=%v: %v %+v", ds.Name, f.Src, b, err, meta)
					continue
				}
				checkDoc(t, doc)
				checkFieldTypes(t, ds.Name, doc)
				cases++
				if f.Type == Keyword || (f.Type == String && !integerMapping(f.Mapping) && !isObjectLike(b)) {
					continue // not a conversion failure
				}
				flat := decode(t, doc)
				msgs := fmt.Sprint(flat["error.message"])
				if !strings.Contains(msgs, f.Src+": cannot convert ") || flat["event.kind"] != "pipeline_error" || flat["event.original"] == nil {
					t.Errorf("%s %s=%v: error.message %s, event.kind %v", ds.Name, f.Src, b, msgs, flat["event.kind"])
				}
			}
		}
	}
	if cases < 1000 {
		t.Fatalf("only %d records checked", cases)
	}
}

// isObjectLike: v is an object, or an array holding one.
func isObjectLike(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return true
	case []any:
		for _, e := range v {
			if isObjectLike(e) {
				return true
			}
		}
	}
	return false
}

// cloneWith returns a copy of rec with src (a dotted path for the API
// datasets' nested fields) set to v.
func cloneWith(rec map[string]any, src string, v any) map[string]any {
	out := make(map[string]any, len(rec)+1)
	for k, e := range rec {
		out[k] = e
	}
	head, rest, nested := strings.Cut(src, ".")
	if !nested {
		out[src] = v
		return out
	}
	sub, _ := out[head].(map[string]any)
	if sub == nil {
		sub = map[string]any{}
	}
	out[head] = cloneWith(sub, rest, v)
	return out
}
