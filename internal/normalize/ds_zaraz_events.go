package normalize

import (
	"strings"

	"github.com/valyala/fastjson"
)

// zaraz_events (zone) → cloudflare_logpush.zaraz_event.
//
// Elastic has no such data stream: this follows the conventions of its
// pipelines (snake_case custom fields; the custom copies of @timestamp,
// event.action and source.ip are duplicates, like Elastic's). ECS:
//   - @timestamp: TimestampStart; event.action: EventType (server_request,
//     server_response, action_triggered, ecommerce_triggered,
//     client_request, component_error); event.kind "event",
//     event.category ["web"], event.type ["info"] (plus "error" for
//     component_error);
//   - source.ip (+ related.ip): IP, the client;
//   - url.*: uri_parts on URL (a URL that does not parse is kept as
//     url.original, without an error: this is not an Elastic pipeline);
//   - user_agent.* and http.request.referrer from RequestHeaders
//     (User-Agent, Referer; any case).
// Body, EventDetails and RequestHeaders are kept whole (flattened).

var zarazEvents = &Dataset{
	Name:    "zaraz_events",
	Elastic: "cloudflare_logpush.zaraz_event",
	Aliases: []string{"zaraz_event"},
	// No id field: the raw record is hashed.
	DropNA: true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["web"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "TimestampStart", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "EventType", Custom: "event_type", ECS: "event.action"},
		{Src: "IP", Custom: "ip", ECS: "source.ip", Type: IP, Related: RelatedIP},
		{Src: "URL", Custom: "url", ECS: "url.original"}, // url.* in Derive
		{Src: "Body", Custom: "body", Mapping: "flattened"},
		{Src: "EventDetails", Custom: "event_details", Mapping: "flattened"},
		{Src: "RequestHeaders", Custom: "request_headers", Mapping: "flattened"},
	},
	Derive: deriveZarazEvents,
}

func deriveZarazEvents(s *Schema) DeriveFunc {
	u := BindURL(s)
	rawURL, eventType, headers := s.Field("URL"), s.Field("EventType"), s.Field("RequestHeaders")
	typ := s.Slot("event.type")
	uaOriginal, referrer := s.Slot("user_agent.original"), s.Slot("http.request.referrer")
	ua := UserAgent.bind(s)
	return func(r *Rec) {
		if str, ok := r.String(rawURL); ok && str != "" {
			u.URIParts(r, str) // else url.original (the table's copy) stays
		}
		if et, ok := r.String(eventType); ok && et == "component_error" {
			r.SetRaw(typ, []byte(`["info","error"]`))
		}
		hv := r.Value(headers)
		if hv == nil || hv.Type() != fastjson.TypeObject {
			return
		}
		o, _ := hv.Object()
		o.Visit(func(k []byte, v *fastjson.Value) {
			str, ok := stringOf(v)
			if !ok {
				return
			}
			switch {
			case strings.EqualFold(b2s(k), "user-agent"):
				r.SetString(uaOriginal, str)
				ua(r, str)
			case strings.EqualFold(b2s(k), "referer"):
				r.SetString(referrer, str)
			}
		})
	}
}
