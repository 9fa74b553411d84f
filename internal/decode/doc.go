// Package decode is the "decode" stage: it turns the bytes a source received
// into records (lines), with hard limits so that hostile or broken input costs
// bounded memory.
//
// What it does:
//
//   - NewReader decompresses a body as it streams: gzip when the sender says
//     so (Content-Encoding: gzip or x-gzip) or when the body starts with the
//     gzip magic 1f 8b, plain otherwise. Concatenated gzip members (what
//     Cloudflare-like producers emit) are one stream. Past a configured number
//     of decompressed bytes it fails with ErrTooLarge, so a gzip bomb costs no
//     more than the caller's buffers. Gunzip is the same for a body already in
//     memory.
//   - ChunkReader cuts a decompressed stream into chunks of about N bytes at
//     line boundaries, so a receiver can hand a 1 GiB upload to the pipeline
//     piece by piece. A line longer than its limit is cut short and marked so
//     that it can never parse as JSON (see TruncationMarker).
//   - Lines and Split walk NDJSON: "\n" or "\r\n" endings, blank lines
//     skipped, a missing final newline tolerated, lines over the limit
//     reported with ErrLineTooLong rather than aborting.
//   - IsValidationProbe recognises Cloudflare's test upload.
//   - CheckNDJSON says clearly when a body is not NDJSON but one of the
//     other layouts Cloudflare's output_options can produce.
//
// Supported input: NDJSON (Cloudflare's default output_type "ndjson", one JSON
// object per line), optionally gzip-compressed. Lines that are not JSON are
// still handed on as lines: deciding they are bad (and dead-lettering them) is
// the normalizer's job. Not supported: a body that is one JSON array
// ("[{...},{...}]") or one wrapped document spread over lines (batch_prefix
// `{"events":[`, record_delimiter ","); CheckNDJSON reports those with
// ErrNotNDJSON. CSV output (output_type "csv") is not detected: its lines are
// handed on and fail normalization. Content encodings other than gzip
// (deflate, br, zstd) fail with ErrUnsupportedEncoding.
package decode
