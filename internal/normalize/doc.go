// Package normalize turns raw Cloudflare log records into ECS documents,
// field for field what Elastic's cloudflare_logpush integration (its ingest
// pipelines) makes of them.
//
// # Using it
//
//	env, err := normalize.NewEnv(normalize.Options{PreserveOriginal: true})
//	defer env.Close()
//	n := env.NewNormalizer()            // one per goroutine
//	doc, meta, err := n.Normalize("http_requests", line, buf[:0])
//
// Normalize never builds maps and never calls json.Marshal: it decodes with
// valyala/fastjson, fills the slots of a compiled Schema with encoded JSON
// values held in a reusable arena, and writes the nested document by walking
// the slots in path order (ecsjson.Nester). A record that cannot be
// normalized yields a *RecordError (invalid JSON, not an object, too large,
// nested too deep, duplicate keys, numbers such as NaN); a field whose value
// has the wrong type does not: the field is left out (a string in a long or
// ip field would make Elasticsearch reject the whole document, and give the
// store's typed column garbage), and the document gets error.message (the
// field and its value, shortened), event.kind "pipeline_error" and
// event.original, as Elastic's on_failure handlers do (TestConversionFailures
// and every golden document check that no field FieldDefs types as a
// number, boolean, ip, date or geo_point holds anything else). Fields the
// mapping does not know are kept,
// snake_cased, under the dataset namespace and counted (Env.UnknownFields,
// Options.OnUnknownFields).
//
// # Adding a dataset
//
// Every dataset is one file, ds_<cloudflare name>.go, holding a Dataset
// value listed in datasetList in registry.go (see ds_http_requests.go). To add one:
//
//  1. Read Elastic's pipeline, elastic/integrations
//     packages/cloudflare_logpush/data_stream/<stream>/elasticsearch/ingest_pipeline/default.yml,
//     in the version its test fixtures (../shared/conformance/elastic/...) were made with.
//  2. Write the mapping table: one Field per Cloudflare field (every field of
//     the dataset in ../shared/cloudflare/datasets.json, plus the deprecated
//     ones Elastic still handles), translating the processors as below. The
//     namespace cloudflare_logpush.<stream>. is implied in Custom.
//  3. For what a row cannot say (url.* from uri_parts, grok/dissect of a
//     protocol, values computed from several fields), write Derive: it gets
//     the Schema once (output slots from Schema.Slot / Schema.Custom, inputs
//     from Schema.Field) and returns the per-record function, which reads
//     with Rec.String / Rec.Value / Rec.IP (and readBool, readLong, stringOf,
//     validIP: value.go) and writes with Rec.SetString, SetLower, SetInt,
//     SetTime, SetValue, SetRaw, CopySlot, AddRelated, AddRelatedEach,
//     AddError (conversionError for a value of the wrong type: leave the
//     field out). Helpers for recurring processors are in derive.go
//     (BindURL + URIParts, SplitProtocol, SplitTLS, splitTLSVersion,
//     splitHostPort, bindEventSpan, bindHostOSType, setStrings); the
//     community_id processor in flow.go, the DNS code tables in dns.go.
//  4. Set IDFields (usually RayID, or what makes an event unique) for the
//     deduplication id.
//  5. Add realistic records of your own (bad values too) to
//     testdata/<name>/input.ndjson, a record generator make<Name> in
//     <name>_test.go listed in recordGenerators (harness_test.go), run
//     go test -run TestGolden -update, review the goldens, and check the
//     conformance (go build -o /tmp/fh ./cmd/flarehose, then
//     ../shared/conformance/check --bin /tmp/fh --only <stream>). The
//     harness (TestGolden, TestEmitPaths, TestConversionFailures,
//     FuzzNormalize, BenchmarkNormalize) iterates the registry: nothing
//     else lists datasets. Field assertions go to <name>_test.go.
//
// Pipeline processors and their table equivalents:
//
//	rename json.X to custom.path              {Src: "X", Custom: "custom.path"}
//	convert json.X to long/double/boolean/ip  Type: Long, Double, Bool, IP
//	convert json.X to string                  Type: String (Mapping: "long" when
//	                                            Elastic maps the strings as long)
//	date json.X                               Type: Timestamp
//	set ecs.f copy_from custom.path, with custom.path in the final
//	  "remove unless preserve_duplicate_custom_fields" list
//	                                          ECS: "ecs.f"
//	set ecs.f copy_from custom.path (kept)    Copy: "ecs.f"
//	lowercase the copy / trim a prefix        Lower: true / TrimPrefix: "?"
//	rename Y to the same target "if null"     a second row after the first (earlier rows win)
//	append related.ip/hosts/user/hash         Related: RelatedIP, RelatedHosts, RelatedUser, RelatedHash
//	user_agent on json.X                      Enrich: UserAgent
//	geoip (+ ASN) on an IP field              Enrich: GeoIP("source")
//	set event.kind/category/type constants    Dataset.Static
//	cleanup script dropping "N/A" too         Dataset.DropNA
//
// Whatever Elastic drops in its final cleanup (null, "", empty objects and
// arrays) is never written; Timestamps come out as RFC 3339 UTC with
// milliseconds whatever Cloudflare's timestamp_format was.
package normalize
