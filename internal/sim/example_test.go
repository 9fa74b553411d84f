package sim_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/flarehose/flarehose/internal/sim"
)

// Render records of a job's output options without pushing them.
func ExampleNewGenerator() {
	g, err := sim.NewGenerator("http_requests", 42)
	if err != nil {
		panic(err)
	}
	f, err := sim.NewFormat("http_requests", sim.OutputOptions{
		FieldNames:      []string{"RayID", "ClientIP", "ClientCountry", "ClientRequestHost", "ClientRequestURI", "EdgeResponseStatus", "EdgeStartTimestamp"},
		TimestampFormat: sim.TimestampRFC3339ms,
	})
	if err != nil {
		panic(err)
	}
	var buf []byte
	start := time.Now().Add(-time.Minute)
	for i := range 5 {
		buf = g.Append(buf, start.Add(time.Duration(i)*time.Second), f)
	}
	os.Stdout.Write(buf)
}

// Fill a collector with a day of zone traffic and its firewall events.
// Both jobs use the same options and FollowTraffic, so every firewall event
// matches a request (RayID and timestamp).
func ExampleNewPusher() {
	ctx := context.Background()
	opts := sim.PushOptions{Mode: sim.ModeBackfill, Window: 24 * time.Hour, Rate: 5, Seed: 1, Concurrency: 2, FollowTraffic: true}
	for _, ds := range []string{"http_requests", "firewall_events"} {
		p, err := sim.NewPusher(sim.Job{
			Dataset:         ds,
			DestinationConf: "http://127.0.0.1:8080/logpush/" + ds + "?header_X-Flarehose-Secret=s3cret",
			Output:          sim.OutputOptions{TimestampFormat: sim.TimestampRFC3339},
		}, opts)
		if err != nil {
			panic(err)
		}
		if err := p.Run(ctx); err != nil {
			fmt.Println(ds, err)
			continue
		}
		st := p.Stats()
		fmt.Println(ds, st.RecordsSent, "records in", st.BatchesSent, "batches")
	}
}
