package normalize

import (
	"strings"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// workers_trace_events (account) → cloudflare_logpush.workers_trace.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/workers_trace
// ingest pipeline (ECS 9.3.0, newest version: CPUTimeMs and WallTimeMs as
// cpu_time_ms / wall_time_ms). Its script rewrites every key under the
// namespace with the regex ([a-z])([A-Z]+) → $1_$2 and lowercases it
// (Event.RayID → event.ray_id, Logs[].TimestampMs → logs[].timestamp_ms),
// recursing into objects and into objects that are array elements; that is
// done here while the values are copied (workersTraceSnake).

var workersTraceEvents = &Dataset{
	Name:    "workers_trace_events",
	Elastic: "cloudflare_logpush.workers_trace",
	Aliases: []string{"workers_trace"},
	// No id field (Event.RayID exists for fetch events only, and a request
	// can run several Workers): the raw record is hashed.
	DropNA: true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["web"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "EventTimestampMs", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "EventType", Custom: "type", ECS: "event.action"},
		{Src: "Outcome"}, // custom outcome (a duplicate) and event.outcome in Derive
		{Src: "CPUTimeMs", Custom: "cpu_time_ms", Type: Long},
		{Src: "WallTimeMs", Custom: "wall_time_ms", Type: Long},
		// Written by Derive with their keys snake_cased.
		{Src: "DispatchNamespace"},
		{Src: "Entrypoint"},
		{Src: "Event"},
		{Src: "Exceptions"},
		{Src: "Logs"},
		{Src: "ScriptName"},
		{Src: "ScriptTags"},
		{Src: "ScriptVersion"},
	},
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.workers_trace.outcome", Type: "keyword", Source: "Outcome"},
		{Path: "cloudflare_logpush.workers_trace.dispatch_namespace", Type: "keyword", Source: "DispatchNamespace"},
		{Path: "cloudflare_logpush.workers_trace.entrypoint", Type: "keyword", Source: "Entrypoint"},
		{Path: "cloudflare_logpush.workers_trace.event", Type: "flattened", Source: "Event"},
		{Path: "cloudflare_logpush.workers_trace.exceptions", Type: "flattened", Source: "Exceptions"},
		{Path: "cloudflare_logpush.workers_trace.logs", Type: "flattened", Source: "Logs"},
		{Path: "cloudflare_logpush.workers_trace.script.name", Type: "keyword", Source: "ScriptName"},
		{Path: "cloudflare_logpush.workers_trace.script.tags", Type: "keyword", Source: "ScriptTags"},
		{Path: "cloudflare_logpush.workers_trace.script.version", Type: "flattened", Source: "ScriptVersion"},
	},
	Derive: deriveWorkersTraceEvents,
}

// workersTraceDup are the members of the snake_cased Event that Elastic
// removes without preserve_duplicate_custom_fields (they have ECS copies).
var workersTraceDup = map[string]map[string]bool{
	"":         {"ray_id": true},
	"request":  {"method": true, "url": true},
	"response": {"status": true},
}

func deriveWorkersTraceEvents(s *Schema) DeriveFunc {
	type out struct {
		f    FieldRef
		slot SlotRef
	}
	outs := [...]out{
		{s.Field("DispatchNamespace"), s.Custom("dispatch_namespace", false)},
		{s.Field("Entrypoint"), s.Custom("entrypoint", false)},
		{s.Field("Exceptions"), s.Custom("exceptions", false)},
		{s.Field("Logs"), s.Custom("logs", false)},
		{s.Field("ScriptName"), s.Custom("script.name", false)},
		{s.Field("ScriptTags"), s.Custom("script.tags", false)},
		{s.Field("ScriptVersion"), s.Custom("script.version", false)},
	}
	event, eventSlot := s.Field("Event"), s.Custom("event", false)
	outcome, outcomeCustom := s.Field("Outcome"), s.Custom("outcome", true)
	eventOutcome, eventType := s.Slot("event.outcome"), s.Slot("event.type")
	eventID, method, status := s.Slot("event.id"), s.Slot("http.request.method"), s.Slot("http.response.status_code")
	u := BindURL(s)
	return func(r *Rec) {
		for _, o := range outs {
			if v := r.Value(o.f); v != nil {
				workersTraceWrite(r, o.slot, v, false)
			}
		}
		if v := r.Value(outcome); v != nil {
			r.SetValue(outcomeCustom, v)
			switch str, _ := r.String(outcome); str {
			case "ok":
				r.SetString(eventOutcome, "success")
			case "exception":
				r.SetString(eventOutcome, "failure")
				r.SetRaw(eventType, []byte(`["info","error"]`))
			}
		}
		ev := r.Value(event)
		if ev == nil {
			return
		}
		workersTraceWrite(r, eventSlot, ev, !r.KeepDuplicates())
		if ev.Type() != fastjson.TypeObject {
			return
		}
		// The ECS copies of event.ray_id, event.request.{method,url} and
		// event.response.status (last key wins after snake_casing, as the
		// script's map puts do).
		var rayID, meth, rawURL, code *fastjson.Value
		o, _ := ev.Object()
		var kb [64]byte
		o.Visit(func(k []byte, v *fastjson.Value) {
			sk := workersTraceKey(kb[:0], k)
			switch {
			case string(sk) == "ray_id":
				rayID = v
			case string(sk) == "request":
				meth, rawURL = nil, nil
				if ro, err := v.Object(); err == nil {
					ro.Visit(func(k []byte, v *fastjson.Value) {
						switch sk := workersTraceKey(kb[:0], k); {
						case string(sk) == "method":
							meth = v
						case string(sk) == "url":
							rawURL = v
						}
					})
				}
			case string(sk) == "response":
				code = nil
				if ro, err := v.Object(); err == nil {
					ro.Visit(func(k []byte, v *fastjson.Value) {
						if string(workersTraceKey(kb[:0], k)) == "status" {
							code = v
						}
					})
				}
			}
		})
		r.SetValue(eventID, rayID)
		r.SetValue(method, meth)
		// http.response.status_code is a long: an integer (or a string
		// holding one) or nothing.
		if n, ok := readLong(code); ok {
			r.SetInt(status, n)
		} else if !isEmpty(code) {
			r.AddError(conversionError("Event.response.status", code, "long"))
		}
		if rawURL != nil && rawURL.Type() != fastjson.TypeNull {
			if str, ok := stringOf(rawURL); !ok && rawURL.Type() != fastjson.TypeString {
				r.AddError("uri_parts_http_url: event.request.url is not a string")
			} else if str != "" && !u.URIParts(r, str) {
				r.AddError(uriPartsError("uri_parts_http_url", str))
			}
		}
	}
}

// workersTraceKey snake_cases a key like the pipeline's script (see
// workersTraceSnake) into buf, for comparisons with the names Derive looks
// for; keys longer than 32 bytes give nil (they never match).
func workersTraceKey(buf []byte, k []byte) []byte {
	if len(k) > 32 {
		return nil
	}
	return workersTraceSnake(buf, b2s(k))
}

// workersTraceSnake appends k rewritten by the regex ([a-z])([A-Z]+) →
// $1_$2 and lowercased (Java's String.toLowerCase for non-ASCII).
func workersTraceSnake(dst []byte, k string) []byte {
	start := len(dst)
	ascii := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 0x80 {
			ascii = false
		}
		if c >= 'A' && c <= 'Z' {
			dst = append(dst, c+'a'-'A')
		} else {
			dst = append(dst, c)
		}
		if c >= 'a' && c <= 'z' && i+1 < len(k) && k[i+1] >= 'A' && k[i+1] <= 'Z' {
			dst = append(dst, '_')
		}
	}
	if !ascii {
		low := strings.ToLower(string(dst[start:]))
		dst = append(dst[:start], low...)
	}
	return dst
}

// workersTraceWrite writes v to slot with its object keys snake_cased
// (cleaned like Elastic's final cleanup). dropDup drops the Event members
// in workersTraceDup.
func workersTraceWrite(r *Rec, slot SlotRef, v *fastjson.Value, dropDup bool) {
	b := r.begin()
	var ok bool
	switch v.Type() {
	case fastjson.TypeObject, fastjson.TypeArray:
		var skip map[string]bool
		if dropDup {
			skip = workersTraceDup[""]
		}
		b, ok = workersTraceValue(r, b, v, 0, dropDup, skip)
	default:
		b, ok = r.appendClean(b, v, 0, true)
	}
	if ok && r.fail == nil {
		r.commit(slot, b)
	}
}

// workersTraceValue appends an object (keys snake_cased, recursively) or an
// array (object elements snake_cased; nested arrays are copied as they are,
// as the script only converts maps that are list elements).
func workersTraceValue(r *Rec, dst []byte, v *fastjson.Value, depth int, dropDup bool, skip map[string]bool) ([]byte, bool) {
	if depth >= maxDepth {
		r.failf("too_deep", "values nest deeper than %d levels", maxDepth)
		return dst, false
	}
	switch v.Type() {
	case fastjson.TypeArray:
		arr, _ := v.Array()
		start := len(dst)
		dst = append(dst, '[')
		n := 0
		for _, e := range arr {
			mark := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if e.Type() == fastjson.TypeObject {
				dst, ok = workersTraceValue(r, dst, e, depth+1, false, nil)
			} else {
				dst, ok = r.appendClean(dst, e, depth+1, false)
			}
			if r.fail != nil {
				return dst[:start], false
			}
			if !ok {
				dst = dst[:mark]
				continue
			}
			n++
		}
		if n == 0 {
			return dst[:start], false
		}
		return append(dst, ']'), true
	case fastjson.TypeObject:
		return workersTraceObject(r, dst, v, depth, dropDup, skip)
	}
	return r.appendClean(dst, v, depth, true)
}

// workersTraceObject appends an object with snake_cased keys. When two keys
// become the same (RayID and rayId), the later one wins, as with the
// script's map puts; no key is written twice.
func workersTraceObject(r *Rec, dst []byte, v *fastjson.Value, depth int, dropDup bool, skip map[string]bool) ([]byte, bool) {
	o, _ := v.Object()
	// The snake_cased keys, back to back in r.scratch (offsets; the
	// recursion below appends after them and restores the length).
	kbase := len(r.scratch)
	defer func() { r.scratch = r.scratch[:kbase] }()
	var offsBuf [33]int
	offs := offsBuf[:1]
	offs[0] = kbase
	o.Visit(func(k []byte, _ *fastjson.Value) {
		r.scratch = workersTraceSnake(r.scratch, b2s(k))
		offs = append(offs, len(r.scratch))
	})
	key := func(i int) string { return b2s(r.scratch[offs[i]:offs[i+1]]) }
	n := len(offs) - 1
	// shadowed: a later member has the same key (a map past 64 members).
	var last map[string]int
	if n > 64 {
		last = make(map[string]int, n)
		for i := 0; i < n; i++ {
			last[key(i)] = i
		}
	}
	shadowed := func(i int) bool {
		ki := key(i)
		if last != nil {
			return last[ki] != i
		}
		for j := i + 1; j < n; j++ {
			if key(j) == ki {
				return true
			}
		}
		return false
	}
	start := len(dst)
	dst = append(dst, '{')
	w, i := 0, -1
	o.Visit(func(_ []byte, e *fastjson.Value) {
		i++
		if r.fail != nil {
			return
		}
		k := key(i)
		if skip != nil && skip[k] {
			return
		}
		if n > 1 && shadowed(i) {
			return
		}
		mark := len(dst)
		if w > 0 {
			dst = append(dst, ',')
		}
		dst = ecsjson.AppendKey(dst, k)
		var ok bool
		switch e.Type() {
		case fastjson.TypeObject, fastjson.TypeArray:
			var sub map[string]bool
			if dropDup && depth == 0 && e.Type() == fastjson.TypeObject {
				sub = workersTraceDup[k]
			}
			dst, ok = workersTraceValue(r, dst, e, depth+1, false, sub)
		default:
			dst, ok = r.appendClean(dst, e, depth+1, true)
		}
		if !ok {
			dst = dst[:mark]
			return
		}
		w++
	})
	if r.fail != nil || w == 0 {
		return dst[:start], false
	}
	return append(dst, '}'), true
}
