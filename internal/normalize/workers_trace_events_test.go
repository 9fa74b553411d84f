package normalize

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// makeWorkersTraceEvent returns a Workers Trace Event: mostly fetch
// invocations (with logs and sometimes exceptions), some cron triggers.
func makeWorkersTraceEvent(rng *rand.Rand, i int) string {
	t := time.Date(2024, 4, 17, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 173 * time.Millisecond)
	script := pick(rng, "api-gateway", "image-resizer", "auth-edge", "cron-cleanup")
	outcome := pick(rng, "ok", "ok", "ok", "ok", "exception", "exceededCpu", "canceled")
	var event, typ string
	if script == "cron-cleanup" {
		typ = "scheduled"
		event = fmt.Sprintf(`{"Cron":"*/5 * * * *","ScheduledTime":%d}`, t.UnixMilli())
	} else {
		typ = "fetch"
		status := 200
		if outcome == "exception" {
			status = 500
		}
		event = fmt.Sprintf(`{"RayID":"%016x","Request":{"URL":"https://%s.example.workers.dev/%s","Method":"%s"},"Response":{"Status":%d}}`,
			rng.Uint64(), script, pick(rng, "", "v1/items", "v1/items?page=2", "img/hero.webp?w=640"), pick(rng, "GET", "GET", "POST"), status)
	}
	logs, exceptions := `[]`, `[]`
	if rng.IntN(2) == 0 {
		logs = fmt.Sprintf(`[{"Level":"log","Message":["handled request","%d ms"],"TimestampMs":%d},{"Level":"warn","Message":["cache miss"],"TimestampMs":%d}]`,
			rng.IntN(50), t.UnixMilli()+1, t.UnixMilli()+3)
	}
	if outcome == "exception" {
		exceptions = fmt.Sprintf(`[{"Name":"TypeError","Message":"Cannot read properties of undefined (reading 'id')","TimestampMs":%d}]`, t.UnixMilli()+5)
	}
	return fmt.Sprintf(`{"CPUTimeMs":%d,"DispatchNamespace":"","Entrypoint":"%s","Event":%s,"EventTimestampMs":%d,"EventType":"%s",`+
		`"Exceptions":%s,"Logs":%s,"Outcome":"%s","ScriptName":"%s","ScriptTags":["%s"],`+
		`"ScriptVersion":{"ID":"%s","Message":"deploy %d","Tag":"v%d"},"WallTimeMs":%d}`,
		rng.IntN(50), pick(rng, "", "default", "ImageResizer"), event, t.UnixMilli(), typ, exceptions, logs, outcome, script,
		pick(rng, "prod", "edge"), randUUID(rng), rng.IntN(300), rng.IntN(40), rng.IntN(900))
}

func TestWorkersTraceSnake(t *testing.T) {
	for in, want := range map[string]string{
		"RayID": "ray_id", "URL": "url", "EventTimestampMs": "event_timestamp_ms", "HTTPStatus": "httpstatus",
		"rayId": "ray_id", "already_snake": "already_snake", "aBCd": "a_bcd", "aBcD": "a_bc_d", "JA4Signals": "ja4signals",
		"": "", "ÄrgerNis": "ärger_nis",
	} {
		if got := string(workersTraceSnake(nil, in)); got != want {
			t.Errorf("workersTraceSnake(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWorkersTraceKeys: keys that collide after snake_casing keep the
// last value; the ECS copies come from the snake_cased event; duplicates
// are dropped from event without KeepDuplicateFields.
func TestWorkersTraceKeys(t *testing.T) {
	line := `{"Event":{"RayID":"r1","rayId":"r2","Request":{"URL":"https://w.example/a?b=c","Method":"PUT"},"Response":{"Status":201},` +
		`"Queue":{"BatchSize":[{"MsgID":1},[{"KeepCase":2}]]}},"Outcome":"exception","EventTimestampMs":"1713355200123"}`
	doc, _ := normalizeOne(t, newTestEnv(t, Options{}), "workers_trace", line)
	for k, want := range map[string]string{
		"event.id":                  "r2",
		"http.request.method":       "PUT",
		"http.response.status_code": "201",
		"url.query":                 "b=c",
		"event.outcome":             "failure",
		"event.type":                "[info error]",
		"@timestamp":                "2024-04-17T12:00:00.123Z",
		"cloudflare_logpush.workers_trace.event.queue.batch_size": "[map[msg_id:1] [map[KeepCase:2]]]",
	} {
		if got := fmt.Sprint(doc[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	for _, absent := range []string{"cloudflare_logpush.workers_trace.event.ray_id", "cloudflare_logpush.workers_trace.event.request.url",
		"cloudflare_logpush.workers_trace.outcome", "cloudflare_logpush.workers_trace.timestamp"} {
		if _, ok := doc[absent]; ok {
			t.Errorf("%s should be absent", absent)
		}
	}
	doc, _ = normalizeOne(t, newTestEnv(t, Options{KeepDuplicateFields: true}), "workers_trace", line)
	if doc["cloudflare_logpush.workers_trace.event.ray_id"] != "r2" || doc["cloudflare_logpush.workers_trace.event.request.method"] != "PUT" {
		t.Errorf("duplicates not kept: %v", doc)
	}
}

// TestWorkersTraceHostile: odd Event shapes give valid documents without
// duplicate keys (or a RecordError), never a panic.
func TestWorkersTraceHostile(t *testing.T) {
	n := newTestEnv(t, Options{KeepDuplicateFields: true}).NewNormalizer()
	var many strings.Builder
	many.WriteString(`{"Event":{`)
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&many, `"Key%dX":%d,"key%d_x":"v%d",`, i%70, i, i%70, i)
	}
	many.WriteString(`"RayID":"r"}}`)
	deep := `{"Event":` + strings.Repeat(`{"A":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`
	for _, line := range []string{
		many.String(),
		deep,
		`{"Event":{"RayID":"a","RayID":"b"}}`,
		`{"Event":{"Ünïcode":{"ÄB":1},"":2,"A":{"":{}},"B":[[],{},null,""]}}`,
		`{"Event":[{"RayID":1},[{"RayID":2}],"x"],"Logs":{"Level":"log"},"ScriptTags":"one","ScriptVersion":"v1"}`,
		`{"Event":{"Request":"GET /","Response":[1],"RayID":{"a":1}}}`,
		`{"Event":{"Request":{"URL":5}},"Outcome":{"ok":true}}`,
		"{\"Event\":{\"K\xff\":1,\"K\xfe\":2,\"k\xef\xbf\xbd\":3,\"Ab\xc3\":{\"\xe2\x82\":4}}}",
	} {
		doc, meta, err := n.Normalize("workers_trace_events", []byte(line), nil)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("%s: %v", line, err)
			}
			continue
		}
		if meta.Drop {
			t.Fatalf("dropped: %s", line)
		}
		checkDoc(t, doc)
	}
}

// TestWorkersTraceStatusCode: http.response.status_code (a long) gets
// Event.response.status when it is an integer, and nothing but an error
// otherwise.
func TestWorkersTraceStatusCode(t *testing.T) {
	n := newTestEnv(t, Options{}).NewNormalizer()
	for status, want := range map[string]any{`404`: 404, `"200"`: 200, `""`: nil, `null`: nil, `"teapot"`: nil, `{"code":1}`: nil, `2.5`: nil} {
		raw, _, err := n.Normalize("workers_trace_events", []byte(`{"Event":{"RayID":"r","Response":{"Status":`+status+`}}}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkFieldTypes(t, "workers_trace_events", raw)
		doc := decode(t, raw)
		expectFields(t, doc, map[string]any{"http.response.status_code": want})
		_, hasErr := doc["error.message"]
		if wantErr := want == nil && status != `""` && status != `null`; hasErr != wantErr {
			t.Errorf("status %s: error.message %v", status, doc["error.message"])
		}
	}
}
