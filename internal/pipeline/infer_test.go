package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/normalize"
)

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// datasetSink records the dataset of every record written.
type datasetSink struct {
	mu       sync.Mutex
	datasets []string
}

func (s *datasetSink) Name() string { return "test" }
func (s *datasetSink) Close() error { return nil }
func (s *datasetSink) Write(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range b.Records {
		s.datasets = append(s.datasets, r.Dataset)
	}
	return nil
}

// written runs the sink until n records arrived and returns their datasets.
func written(t *testing.T, f fixture, n int) []string {
	t.Helper()
	s := &datasetSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.RunSink(ctx, s) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		got := len(s.datasets)
		s.mu.Unlock()
		if got >= n {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.datasets...)
}

const (
	inferHTTP     = `{"RayID":"8757d2a4bc1e2f01","EdgeStartTimestamp":1713355200301000000,"ClientIP":"198.51.100.1","ClientRequestMethod":"GET","EdgeResponseStatus":200}`
	inferFirewall = `{"Action":"block","Kind":"firewall","Source":"firewallCustom","RuleID":"r1","RayID":"8757d2a4bc1e2f02","Datetime":"2024-04-17T12:00:00Z","Description":"d"}`
	ambiguous     = `{"ClientIP":"198.51.100.1","RayID":"8757d2a4bc1e2f03"}`
)

// TestConsumeWithoutDataset: each record's dataset is inferred; an
// ambiguous record goes to the dead letters with its raw line (reason
// unknown_dataset), the probe is dropped.
func TestConsumeWithoutDataset(t *testing.T) {
	f := newFixture(t)
	body := strings.Join([]string{inferHTTP, inferFirewall, ambiguous, `{"content":"tests"}`}, "\n")
	res, err := f.p.Consume(context.Background(), &event.Delivery{Source: "generic", Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 4 || res.Accepted != 2 || res.DeadLettered != 1 || res.Dropped != 1 {
		t.Fatalf("result %+v", res)
	}
	var dead []deadletter.Entry
	deadletter.Read(f.dead, func(e deadletter.Entry) error { dead = append(dead, e); return nil })
	if len(dead) != 1 || dead[0].Reason != "unknown_dataset" || string(dead[0].RawBytes()) != ambiguous || dead[0].Line != 3 {
		t.Fatalf("dead letters %+v", dead)
	}
	if got := written(t, f, 2); strings.Join(got, ",") != "http_requests,firewall_events" {
		t.Errorf("datasets written %v", got)
	}
	m := f.p.o.Metrics
	if v := counterValue(m.RecordsRerouted.WithLabelValues("none", "firewall_events")); v != 1 {
		t.Errorf("records_rerouted_total{none,firewall_events} = %v", v)
	}
	if v := counterValue(m.RecordsAccepted.WithLabelValues("http_requests")); v != 1 {
		t.Errorf("records_accepted_total{http_requests} = %v", v)
	}
	if v := counterValue(m.RecordsDead.WithLabelValues("none", "unknown_dataset")); v != 1 {
		t.Errorf("records_deadlettered_total{none,unknown_dataset} = %v", v)
	}
}

// TestConsumeReroutes: a firewall event sent to the http_requests route is
// stored as a firewall event and counted; the http record stays.
func TestConsumeReroutes(t *testing.T) {
	f := newFixture(t)
	res, err := f.p.Consume(context.Background(), &event.Delivery{Dataset: "http_requests", Source: "logpush", Body: []byte(inferHTTP + "\n" + inferFirewall + "\n" + ambiguous)})
	if err != nil || res.Accepted != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	if got := written(t, f, 3); strings.Join(got, ",") != "http_requests,firewall_events,http_requests" {
		t.Errorf("datasets written %v", got)
	}
	m := f.p.o.Metrics
	if v := counterValue(m.RecordsRerouted.WithLabelValues("http_requests", "firewall_events")); v != 1 {
		t.Errorf("records_rerouted_total = %v", v)
	}
	if v := counterValue(m.RecordsAccepted.WithLabelValues("firewall_events")); v != 1 {
		t.Errorf("records_accepted_total{firewall_events} = %v", v)
	}
}

// TestConsumeGoldenInputsOnEveryRoute sends the golden inputs of every
// dataset (../normalize/testdata/<dataset>/input.ndjson, as they are) to
// every route and to no route: nothing is lost (each line is accepted,
// dropped or dead-lettered) and every stored record is in its own dataset or
// the route's.
func TestConsumeGoldenInputsOnEveryRoute(t *testing.T) {
	inputs := map[string][]byte{}
	for _, ds := range normalize.Datasets() {
		b, err := os.ReadFile(filepath.Join("..", "normalize", "testdata", ds, "input.ndjson"))
		if err == nil {
			inputs[ds] = b
		}
	}
	if len(inputs) == 0 {
		t.Skip("no golden inputs")
	}
	own := func(ds string) map[string]bool {
		m := map[string]bool{ds: true}
		if ds == "logpull" {
			m["http_requests"] = true // logpull records are http_requests records
		}
		return m
	}
	routes := append([]string{""}, normalize.Datasets()...)
	f := newFixture(t)
	type sent struct {
		ds, route string
		accepted  int
	}
	var order []sent
	total := 0
	for _, ds := range normalize.Datasets() {
		body, ok := inputs[ds]
		if !ok {
			continue
		}
		lines := len(bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n")))
		for _, route := range routes {
			res, err := f.p.Consume(context.Background(), &event.Delivery{Dataset: route, Source: "test", Body: body})
			if err != nil {
				t.Fatalf("%s -> %q: %v", ds, route, err)
			}
			if res.Records != lines || res.Accepted+res.Dropped+res.DeadLettered != lines {
				t.Errorf("%s -> %q: %+v for %d lines", ds, route, res, lines)
			}
			order = append(order, sent{ds, route, res.Accepted})
			total += res.Accepted
		}
	}
	got := written(t, f, total)
	if len(got) != total {
		t.Fatalf("%d records written, want %d", len(got), total)
	}
	rerouted, k := 0, 0
	for _, o := range order {
		ok := own(o.ds)
		for _, w := range got[k : k+o.accepted] {
			if !ok[w] && w != o.route {
				t.Errorf("a %s record sent to %q was stored as %s", o.ds, o.route, w)
			}
			if o.route != "" && w != o.route {
				rerouted++
			}
		}
		k += o.accepted
	}
	t.Logf("%d datasets' golden inputs on %d routes (and none): %d records stored, %d rerouted", len(inputs), len(routes)-1, total, rerouted)
}
