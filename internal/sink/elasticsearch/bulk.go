package elasticsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// The bulk body is built by appending bytes: per record one action line
// naming the data stream and the record's deterministic id, then the
// record's document as it is. No document is parsed or re-encoded (except
// one that spans several lines, which bulk cannot carry: it is compacted).

// appendAction appends `{"create":{"_index":"<index>","_id":"<id>"}}\n`.
// index must be JSON-safe (data stream names are); id is escaped.
func appendAction(dst []byte, index, id string) []byte {
	dst = append(dst, `{"create":{"_index":"`...)
	dst = append(dst, index...)
	dst = append(dst, `","_id":`...)
	dst = appendJSONString(dst, id)
	dst = append(dst, "}}\n"...)
	return dst
}

// appendJSONString appends s as a JSON string literal. Invalid UTF-8 is
// replaced by U+FFFD (JSON text must be UTF-8).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				const hex = "0123456789abcdef"
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// docLine returns the document as one bulk line (without the newline), or
// an error when it cannot be one: empty, not an object, or invalid JSON
// spread over several lines (such a document is compacted into a new slice).
func docLine(doc []byte) ([]byte, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) < 2 || doc[0] != '{' || doc[len(doc)-1] != '}' {
		return nil, fmt.Errorf("document is not a JSON object")
	}
	if bytes.IndexByte(doc, '\n') < 0 && bytes.IndexByte(doc, '\r') < 0 {
		return doc, nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, doc); err != nil {
		return nil, fmt.Errorf("document is not valid JSON: %v", err)
	}
	return out.Bytes(), nil
}

// Item outcomes.
type outcome uint8

const (
	itemOK       outcome = iota // created, or already there (409)
	itemRetry                   // 429, 5xx: send again after a backoff
	itemRejected                // the document's fault: dead-letter it
	itemFail                    // the cluster's state (blocked, forbidden): fail the Write
)

// itemResult is one item of a bulk response.
type itemResult struct {
	Status int
	Type   string // error.type
	Reason string // error.reason
}

// classify says what to do with an item.
func classify(r itemResult) outcome {
	switch {
	case r.Status >= 200 && r.Status < 300, r.Status == 409:
		return itemOK
	case r.Status == 429, r.Status >= 500, r.Status == 0:
		return itemRetry
	case r.Status == 401, r.Status == 403, r.Status == 404,
		r.Type == "cluster_block_exception", r.Type == "index_closed_exception",
		r.Type == "index_not_found_exception":
		return itemFail
	}
	return itemRejected
}

// bulkFilter trims the bulk response to what is read: for 20k items this
// takes the response from megabytes to a few hundred kilobytes.
const bulkFilter = "filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason"

// parseBulk reads a bulk response. When "errors" is false every item
// succeeded and items is nil; otherwise items has one result per action, in
// order. n is the number of actions sent, to check the answer's length.
func parseBulk(p *fastjson.Parser, body []byte, n int) (errs bool, items []itemResult, err error) {
	// Fast path: {"errors":false,...} (filter_path keeps "errors" first).
	head := body
	if len(head) > 32 {
		head = head[:32]
	}
	if bytes.HasPrefix(bytes.TrimSpace(head), []byte(`{"errors":false`)) {
		return false, nil, nil
	}
	v, err := p.ParseBytes(body)
	if err != nil {
		return false, nil, fmt.Errorf("bulk response is not JSON: %w", err)
	}
	ev := v.Get("errors")
	if ev == nil {
		return false, nil, fmt.Errorf("bulk response has no \"errors\": %s", snippet(body))
	}
	if ev.Type() == fastjson.TypeFalse {
		return false, nil, nil
	}
	arr := v.GetArray("items")
	if len(arr) != n {
		return true, nil, fmt.Errorf("bulk response has %d items for %d actions", len(arr), n)
	}
	items = make([]itemResult, n)
	for i, it := range arr {
		o, err := it.Object()
		if err != nil {
			return true, nil, fmt.Errorf("bulk response item %d: %w", i, err)
		}
		o.Visit(func(_ []byte, op *fastjson.Value) { // the one key: "create"
			items[i].Status = op.GetInt("status")
			if e := op.Get("error"); e != nil {
				items[i].Type = string(e.GetStringBytes("type"))
				items[i].Reason = string(e.GetStringBytes("reason"))
			}
		})
	}
	return true, items, nil
}
