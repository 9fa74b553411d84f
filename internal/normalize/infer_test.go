package normalize

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// goldenInputs returns, per registered dataset that has one, the lines of
// testdata/<dataset>/input.ndjson that normalize to a document as that
// dataset (drops and errors left out; whole API responses left out).
func goldenInputs(t *testing.T) map[string][][]byte {
	t.Helper()
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	out := map[string][][]byte{}
	for _, ds := range registry().datasets {
		b, err := os.ReadFile(filepath.Join("testdata", ds.Name, "input.ndjson"))
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if _, meta, err := n.Normalize(ds.Name, line, nil); err != nil || meta.Drop {
				continue
			}
			out[ds.Name] = append(out[ds.Name], line)
		}
	}
	return out
}

// inferTarget is the dataset Infer should name for a record of ds: ds
// itself, or the dataset whose catalogue an alias shares (logpull ->
// http_requests).
func inferTarget(ds string) string {
	d, _ := lookup(ds)
	if d.Catalog != "" && d.Catalog != "-" && d.Catalog != d.Name {
		return d.Catalog
	}
	return d.Name
}

// TestInferGoldenInputs: Infer never names a wrong dataset for the golden
// inputs of every registered dataset; it may decline (ambiguous records).
func TestInferGoldenInputs(t *testing.T) {
	inputs := goldenInputs(t)
	names := sortedKeys(inputs)
	total, right, declined := 0, 0, 0
	for _, ds := range names {
		want := inferTarget(ds)
		for _, line := range inputs[ds] {
			total++
			inf := InferDetail(line)
			switch {
			case !inf.OK:
				declined++
				t.Logf("%s: declined (%d keys, best explains %d, ties %v): %.120s", ds, inf.Keys, inf.Explained, inf.Ambiguous, line)
			case inf.Dataset == want:
				right++
			default:
				t.Errorf("%s record inferred as %s: %.200s", ds, inf.Dataset, line)
			}
		}
	}
	t.Logf("Infer on %d golden inputs of %d datasets: %d right, %d declined, %d wrong", total, len(names), right, declined, total-right-declined)
	if total > 0 && right*10 < total*8 {
		t.Errorf("only %d of %d golden inputs inferred", right, total)
	}
}

// TestRerouteMatrix sends every golden input of every dataset to every
// other dataset's route (NormalizeAuto), and to its own:
//   - on its own route a record is never rerouted;
//   - on another route it is either rerouted to its own dataset or kept on
//     the route, never sent to a third dataset;
//   - it is kept only when the route's mapping knows most of its fields
//     (nothing to contradict) or Infer cannot tell.
func TestRerouteMatrix(t *testing.T) {
	inputs := goldenInputs(t)
	names := sortedKeys(inputs)
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	routes := Datasets()
	sent, rerouted, kept := 0, 0, 0
	keptBy := map[string]int{}
	for _, ds := range names {
		own := inferTarget(ds)
		for _, line := range inputs[ds] {
			inf := InferDetail(line)
			for _, route := range routes {
				_, meta, err := n.NormalizeAuto(route, line, nil)
				if err != nil {
					var re *RecordError
					if !errors.As(err, &re) {
						t.Fatalf("%T", err)
					}
					continue // the record breaks the route's mapping the same way either way
				}
				if route == ds {
					if meta.RoutedFrom != "" {
						t.Errorf("%s record rerouted from its own route to %s: %.200s", ds, meta.Dataset, line)
					}
					continue
				}
				sent++
				switch meta.Dataset {
				case route:
					kept++
					if inf.OK && inf.Dataset == own {
						r, _ := lookup(route)
						have := inf.explainedBy(r)
						if missing := inf.Keys - have; missing >= 1 && 5*missing >= inf.Keys && have < inf.Explained {
							t.Errorf("%s record kept on route %s although %d of its %d fields are unknown there: %.160s", ds, route, missing, inf.Keys, line)
						}
					}
					keptBy[ds+"->"+route]++
				case own, ds:
					rerouted++
					if meta.RoutedFrom != route {
						t.Errorf("RoutedFrom = %q, want %q", meta.RoutedFrom, route)
					}
				default:
					t.Errorf("%s record sent to %s was normalized as %s: %.200s", ds, route, meta.Dataset, line)
				}
			}
		}
	}
	t.Logf("%d records x wrong routes: %d rerouted to their dataset, %d kept on the route (all their fields known there, or ambiguous)", sent, rerouted, kept)
	var worst []string
	for k, v := range keptBy {
		worst = append(worst, k+"="+itoa(v))
	}
	sort.Strings(worst)
	if len(worst) > 40 {
		worst = append(worst[:40], "...")
	}
	t.Logf("kept: %s", strings.Join(worst, " "))
}

func TestInferExamples(t *testing.T) {
	cases := []struct {
		raw, want string // want "" = not ok
	}{
		{`{"RayID":"41ddf1740f67442d","EdgeStartTimestamp":1526810289280000000,"ClientIP":"192.0.2.1","EdgeResponseStatus":200}`, "http_requests"},
		{`{"ClientIP":"192.0.2.1","RayID":"41ddf1740f67442d"}`, ""}, // http_requests or firewall_events
		{`{"Action":"block","Kind":"firewall","Source":"firewallCustom","RuleID":"r","RayID":"x","Datetime":"2024-04-17T12:00:00Z"}`, "firewall_events"},
		{`{"ActionResult":true,"ActionType":"update","ActorEmail":"a@example.com","ActorIP":"192.0.2.1","ResourceType":"zone","When":1}`, "audit_logs"},
		{`{"action":{"result":true,"type":"login"},"actor":{"id":"x"},"id":"i","when":"2024-01-01T00:00:00Z","interface":"UI","owner":{"id":"o"}}`, "audit_logs_api"},
		{`{"id":"i","account":{"id":"a"},"action":{"type":"update"},"actor":{"type":"user"},"raw":{"method":"GET"},"zone":{"name":"z"}}`, "audit_logs_v2_api"},
		{`{"success":true,"errors":[],"result":[{"id":"i","account":{"id":"a"},"raw":{},"zone":{}}]}`, "audit_logs_v2_api"},
		{`{"Totally":"unknown","Fields":1}`, ""},
		{`[1,2]`, ""},
		{`not json`, ""},
	}
	for _, c := range cases {
		got, ok := Infer([]byte(c.raw))
		if c.want == "" && ok || c.want != "" && (!ok || got != c.want) {
			t.Errorf("Infer(%s) = %q, %v; want %q", c.raw, got, ok, c.want)
		}
	}
	// Examples for datasets the other mapping files add, when registered.
	more := []struct{ ds, raw string }{
		{"dns_logs", `{"ColoCode":"SJC","EDNSSubnet":"192.0.2.0","EDNSSubnetLength":24,"QueryName":"example.com","QueryType":1,"ResponseCached":false,"ResponseCode":0,"SourceIP":"198.51.100.1","Timestamp":"2024-04-17T12:00:00Z"}`},
		{"sinkhole_http_logs", `{"AccountID":"a","Timestamp":"2024-04-17T12:00:00Z","SinkholeID":"s","SrcAddr":"192.0.2.1","DestAddr":"198.51.100.1","URI":"/","Method":"GET"}`},
		// RayID, EdgeStartTimestamp and ClientIP are websocket_analytics
		// fields too: without an http_requests-only field, ambiguous.
		{"websocket_analytics", `{"RayID":"r","EdgeStartTimestamp":1,"ClientIP":"192.0.2.1","ConnectionID":"c","BytesSentClient":1}`},
	}
	for _, m := range more {
		if _, registered := lookup(m.ds); !registered {
			continue
		}
		if got, ok := Infer([]byte(m.raw)); !ok || got != m.ds {
			inf := InferDetail([]byte(m.raw))
			t.Errorf("Infer(%s record) = %q, %v (explains %d of %d, ties %v)", m.ds, got, ok, inf.Explained, inf.Keys, inf.Ambiguous)
		}
	}
}

func TestNormalizeAuto(t *testing.T) {
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	// No dataset: inferred.
	_, meta, err := n.NormalizeAuto("", []byte(`{"RayID":"r","EdgeStartTimestamp":1526810289280000000,"ClientIP":"192.0.2.1","ClientRequestMethod":"GET"}`), nil)
	if err != nil || meta.Dataset != "http_requests" || meta.RoutedFrom != "" {
		t.Errorf("inferred: %+v %v", meta, err)
	}
	// No dataset, ambiguous: an unknown_dataset error, not a drop.
	_, _, err = n.NormalizeAuto("", []byte(`{"ClientIP":"192.0.2.1","RayID":"r"}`), nil)
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != "unknown_dataset" || !strings.Contains(re.Msg, "firewall_events") {
		t.Errorf("ambiguous: %v", err)
	}
	for _, probe := range []string{`{"content":"tests"}`, "test", "  "} {
		if _, meta, err := n.NormalizeAuto("", []byte(probe), nil); err != nil || !meta.Drop {
			t.Errorf("%q: %+v %v", probe, meta, err)
		}
	}
	// A firewall event on the http_requests route is rerouted, and the
	// output replaces (does not follow) what the first attempt appended.
	fw := []byte(`{"Action":"block","Kind":"firewall","Source":"firewallCustom","RuleID":"r1","RayID":"8757d2a4bc1e2f01","Datetime":"2024-04-17T12:00:00Z","Description":"d","MatchIndex":0}`)
	dst := []byte("prefix\n")
	out, meta, err := n.NormalizeAuto("http_requests", fw, dst)
	if err != nil || meta.Dataset != "firewall_events" || meta.RoutedFrom != "http_requests" {
		t.Fatalf("rerouted: %+v %v", meta, err)
	}
	if !bytes.HasPrefix(out, dst) || bytes.Count(out, []byte(`"@timestamp"`)) != 1 {
		t.Errorf("bad output: %s", out)
	}
	doc := decode(t, out[len(dst):])
	if doc["event.dataset"] != "cloudflare_logpush.firewall_event" {
		t.Errorf("event.dataset = %v", doc["event.dataset"])
	}
	// A record whose fields the route knows stays, even if it fits another.
	if _, meta, _ := n.NormalizeAuto("firewall_events", []byte(`{"ClientIP":"192.0.2.1","RayID":"r"}`), nil); meta.Dataset != "firewall_events" {
		t.Errorf("kept: %+v", meta)
	}
	// One unknown field among many: not enough to reroute.
	if _, meta, _ := n.NormalizeAuto("http_requests", []byte(`{"ClientIP":"192.0.2.1","RayID":"r","EdgeStartTimestamp":1,"ClientRequestHost":"h","ClientRequestMethod":"GET","EdgeResponseStatus":200,"Kind":"firewall"}`), nil); meta.RoutedFrom != "" {
		t.Errorf("one stray field rerouted the record: %+v", meta)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func BenchmarkInfer(b *testing.B) {
	line := []byte(makeHTTPRequest(newRand(), 0))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Infer(line)
	}
}
