package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotNDJSON means a body is plainly not NDJSON but another layout that
// Cloudflare's output_options can produce.
var ErrNotNDJSON = errors.New("body is not NDJSON")

// CheckNDJSON looks at the start of a body (the first chunk is enough) and
// returns an error wrapping ErrNotNDJSON when it is one of the layouts that
// are not supported:
//
//   - one JSON array: the first non-blank byte is '['
//     (batch_prefix "[", record_delimiter ",", batch_suffix "]");
//   - one JSON document spread over lines, such as the documented wrapped
//     form `{"events":[` ... `]}`: the first non-blank line is "{" alone or
//     ends with "[".
//
// Anything else is taken as NDJSON, including lines that are not JSON at all
// (they are the normalizer's to reject one by one). It reads at most the
// first line of head.
func CheckNDJSON(head []byte) error {
	i := 0
	for i < len(head) && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n') {
		i++
	}
	head = head[i:]
	if len(head) == 0 {
		return nil
	}
	const hint = `; only NDJSON (one JSON object per line) is supported: set the Logpush job's output_options back to the ndjson defaults (no batch_prefix, batch_suffix or record_delimiter)`
	if head[0] == '[' {
		return fmt.Errorf("%w: it is a JSON array%s", ErrNotNDJSON, hint)
	}
	if head[0] != '{' {
		return nil
	}
	first := head
	if j := bytes.IndexByte(head, '\n'); j >= 0 {
		first = head[:j]
	}
	first = bytes.TrimRight(first, " \t\r")
	if len(first) == 1 || first[len(first)-1] == '[' {
		return fmt.Errorf("%w: it is one JSON document spread over lines (such as {\"events\":[...]})%s", ErrNotNDJSON, hint)
	}
	return nil
}

// IsValidationProbe reports whether body is the test upload Cloudflare makes
// when a Logpush job to an HTTP destination is created or validated. The docs
// give its content as {"content":"tests"}; the OpenTelemetry Collector's
// receiver has seen the bare word test. Both are recognised, with any
// whitespace around them (and, for the JSON form, inside it). body is the
// decompressed body.
func IsValidationProbe(body []byte) bool {
	b := bytes.TrimSpace(body)
	if len(b) > 64 { // the probe is tiny; never parse a real batch
		return false
	}
	switch string(b) {
	case "test", "tests", `{"content":"tests"}`, `{"content":"test"}`:
		return true
	}
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || len(m) != 1 {
		return false
	}
	var s string
	if json.Unmarshal(m["content"], &s) != nil {
		return false
	}
	return s == "tests" || s == "test"
}
