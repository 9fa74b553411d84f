package normalize

import (
	"strings"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// sinkhole_http_logs (account) → cloudflare_logpush.sinkhole_http.
// Mirrors Elastic's packages/cloudflare_logpush/data_stream/sinkhole_http
// ingest pipeline (ECS 8.11 fixtures; the 9.3.0 pipeline only differs in
// the timestamp pre-processing): source/destination with GeoIP, http.*,
// url.* from uri_parts on URL, user_agent.* from UserAgent, the headers
// split into one string per line. No unique id: the deduplication id
// hashes the whole record.

var sinkholeHTTPLogs = &Dataset{
	Name:    "sinkhole_http_logs",
	Elastic: "cloudflare_logpush.sinkhole_http",
	Aliases: []string{"sinkhole_http"},
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network"]`},
		{"event.type", `["info"]`},
	},
	Fields: []Field{
		{Src: "Timestamp", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "DestAddr", Custom: "destination.ip", ECS: "destination.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("destination")},
		{Src: "SrcAddr", Custom: "source.ip", ECS: "source.ip", Type: IP, Related: RelatedIP, Enrich: GeoIP("source")},
		{Src: "Body", Custom: "request.body.content", ECS: "http.request.body.content"},
		{Src: "BodyLength", Custom: "request.body.bytes", ECS: "http.request.body.bytes", Type: Long},
		{Src: "Method", Custom: "request.method", ECS: "http.request.method"},
		{Src: "Referrer", Custom: "request.referrer", ECS: "http.request.referrer"},
		{Src: "Host", Custom: "host.name", ECS: "host.name", Related: RelatedHosts},
		// Elastic duplicates without an ECS copy (written in deriveSinkholeHTTPLogs).
		{Src: "URI"}, // request.uri
		{Src: "URL"}, // request.url, and url.* from uri_parts
		{Src: "UserAgent", Custom: "user_agent", ECS: "user_agent.original", Enrich: UserAgent},
		{Src: "Username", Custom: "user.name", ECS: "user.name", Related: RelatedUser},
		{Src: "AccountID", Custom: "account_id"},
		{Src: "Headers"}, // request.headers, one string per line
		{Src: "Password", Custom: "request.password"},
		{Src: "R2Path", Custom: "r2path"},
		{Src: "SinkholeID", Custom: "sinkhole_id"},
	},
	Declare: []FieldDef{
		{Path: "cloudflare_logpush.sinkhole_http.request.headers", Type: "keyword", Source: "Headers"},
		{Path: "cloudflare_logpush.sinkhole_http.request.uri", Type: "keyword", Source: "URI"},
		{Path: "cloudflare_logpush.sinkhole_http.request.url", Type: "keyword", Source: "URL"},
	},
	Derive: deriveSinkholeHTTPLogs,
}

func deriveSinkholeHTTPLogs(s *Schema) DeriveFunc {
	uri, rawURL := s.Field("URI"), s.Field("URL")
	uriDup, urlDup := s.Custom("request.uri", true), s.Custom("request.url", true)
	u := BindURL(s)
	headers, headersOut := s.Field("Headers"), s.Custom("request.headers", false)
	return func(r *Rec) {
		r.SetValue(uriDup, r.Value(uri))
		r.SetValue(urlDup, r.Value(rawURL))
		if v, ok := r.String(rawURL); ok && v != "" {
			if !u.URIParts(r, v) {
				r.AddError(uriPartsError("uri_parts", v))
			}
		}
		if h, ok := r.String(headers); ok && h != "" {
			// split on "\n": Java's String.split drops trailing empty
			// strings, the cleanup the empty ones in between.
			b := r.begin()
			b = append(b, '[')
			n := 0
			for line := range strings.SplitSeq(h, "\n") {
				if line == "" {
					continue
				}
				if n > 0 {
					b = append(b, ',')
				}
				b = ecsjson.AppendString(b, line)
				n++
			}
			if n > 0 {
				r.commit(headersOut, append(b, ']'))
			}
		}
	}
}
