// Package cfapi simulates the Cloudflare API endpoints the collector uses,
// following shared/cloudflare/PROTOCOL.md (its "sim:" choices where
// sources disagree): API tokens and Global API Keys, the response
// envelope and error bodies, the global rate limit, audit logs v1 and v2,
// Logpull, and the Logpush job API, whose enabled jobs really push gzip
// batches to their HTTP destinations through internal/sim's Pusher.
//
// # Use in a test
//
//	srv, err := cfapi.New(cfapi.Config{Seed: 1, Clock: clock, RetentionOn: true})
//	ts := httptest.NewServer(srv)
//	defer ts.Close(); defer srv.Close()
//	base := ts.URL + cfapi.BasePath   // the client's API base URL
//	token := srv.Token()              // Authorization: Bearer <token>
//	account, zones := srv.AccountID(), srv.Zones()
//
// or cfapi.Listen("127.0.0.1:0", cfg), which serves on a real port and
// has BaseURL. `flarehose sim` runs one from the command line.
//
// # Endpoints (under /client/v4)
//
//	GET  /user/tokens/verify
//	GET  /accounts/{id}/audit_logs                         audit logs v1 (page-based)
//	GET  /accounts/{id}/logs/audit                         audit logs v2 (cursor-based)
//	GET  /zones/{id}/logs/control/retention/flag           Logpull retention
//	POST /zones/{id}/logs/control/retention/flag
//	GET  /zones/{id}/logs/received                         Logpull (gzip NDJSON, no envelope)
//	GET  /zones/{id}/logs/received/fields                  bare {field: description}
//	GET  /zones/{id}/logs/rayids/{ray_id}
//	GET, POST         /{zones|accounts}/{id}/logpush/jobs
//	GET, PUT, DELETE  /{zones|accounts}/{id}/logpush/jobs/{job_id}
//	GET  /{zones|accounts}/{id}/logpush/datasets/{dataset}/fields
//	GET  /{zones|accounts}/{id}/logpush/datasets/{dataset}/jobs
//	POST /{zones|accounts}/{id}/logpush/ownership
//	POST /{zones|accounts}/{id}/logpush/ownership/validate
//	POST /{zones|accounts}/{id}/logpush/validate/destination
//	POST /{zones|accounts}/{id}/logpush/validate/destination/exists
//	POST /{zones|accounts}/{id}/logpush/validate/origin
//
// # Data
//
// The audit log is one stream, grown from internal/sim's audit_logs
// generator as the Clock advances (Config.AuditRate events per hour,
// Config.AuditHistory of history at start), plus an entry for every job
// create, update and delete and every retention change made through this
// API. A few events (Config.AuditLateFraction) become visible up to
// Config.AuditLateMax after their time, as late data. v1 renders them as
// GO0's entry (when, newValue/newValueJson...), v2 as the schema's
// account/action/actor/raw/resource/zone object.
//
// Logpull serves each zone's http_requests records minute by minute, each
// minute generated from (seed, zone ID, minute): the same window always
// gives the same records in the same order (sample= is deterministic too).
//
// Datasets: catalog.json is shared/cloudflare/datasets.json reduced to
// field names, types and descriptions (every documented dataset, both
// scopes). Jobs may use any of them; only the simulated ones
// (http_requests, firewall_events, audit_logs) are pushed, and for those
// only the fields the generator fills can be selected.
//
// # Choices where Cloudflare is not documented
//
// Error codes: 971, 1004, 6003/6102/6103/6111, 7003 and 10000 are
// Cloudflare's; 1001 (bad parameter or body), 1002 (destination or
// ownership check failed), 1003 (job not found), 1005 (Logpull retention
// off) and 7001 (405 method not allowed) are the simulator's. A missing
// permission or scope is Cloudflare's 403 10000 "Authentication error"
// with the simulator's explanation in error_chain. Requests without any
// credentials get 403 10000 too.
package cfapi
