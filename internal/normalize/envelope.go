package normalize

import (
	"bytes"
	"strings"

	"github.com/valyala/fastjson"
)

// Cloudflare API envelopes.
//
// The API datasets (Dataset.Envelope: the v1 and v2 audit logs) are
// collected as pages {"success":true,"errors":[],"result":[item, ...],
// "result_info":{...}}. Elastic's httpjson / CEL inputs split result[] and
// send each item through the pipeline; an empty page yields no event. For
// such datasets a record that is a whole envelope is handled so:
//
//   - Normalize: an envelope whose result is empty (or null) is dropped
//     (Meta.DropReason "empty_response"); a failed response (success false,
//     or errors) is a *RecordError "api_error"; an envelope holding items is
//     a *RecordError "envelope": Normalize makes one document per call.
//   - NormalizeEach: normalizes every item of result[] in turn (each item's
//     event.original is the item alone, compact), and otherwise behaves as
//     Normalize. Sources that hand whole API pages on use it.
//
// A record is an envelope when it is an object with both "success" and
// "result" members; the items themselves never have them.

// envelopeOutcome classifies an envelope: drop (empty page) or an error.
func envelopeOutcome(obj *fastjson.Object) (drop bool, err *RecordError) {
	if msg := envelopeErrors(obj); msg != "" {
		return false, &RecordError{Reason: "api_error", Msg: truncate(msg, 300)}
	}
	res := obj.Get("result")
	switch res.Type() {
	case fastjson.TypeNull:
		return true, nil
	case fastjson.TypeArray:
		arr, _ := res.Array()
		if len(arr) == 0 {
			return true, nil
		}
		return false, &RecordError{Reason: "envelope", Msg: "a whole API response (" + itoa(len(arr)) +
			" record(s) in result): normalize its result items one by one (NormalizeEach, or jq -c '.result[]')"}
	}
	return false, &RecordError{Reason: "envelope", Msg: "an API response whose result is a JSON " + res.Type().String() + ", not a list of records"}
}

// envelopeErrors returns the errors of a failed API response, "" when it
// succeeded.
func envelopeErrors(obj *fastjson.Object) string {
	var msgs []string
	if errs := obj.Get("errors"); errs != nil && errs.Type() == fastjson.TypeArray {
		arr, _ := errs.Array()
		for _, e := range arr {
			m := string(e.GetStringBytes("message"))
			if c := e.Get("code"); c != nil {
				m = strings.TrimSpace(string(c.MarshalTo(nil)) + " " + m)
			}
			if m == "" {
				m = string(e.MarshalTo(nil))
			}
			msgs = append(msgs, m)
		}
	}
	if s := obj.Get("success"); s != nil && s.Type() == fastjson.TypeFalse && len(msgs) == 0 {
		msgs = append(msgs, "success is false")
	}
	if len(msgs) == 0 {
		return ""
	}
	return "the API answered with errors: " + strings.Join(msgs, "; ")
}

func isEnvelope(obj *fastjson.Object) bool {
	return obj.Get("success") != nil && obj.Get("result") != nil
}

// NormalizeEach normalizes raw like Normalize, except that for a dataset
// whose records may come as whole API responses (the audit logs APIs), an
// envelope's result items are normalized one by one. emit is called once
// per outcome (document, drop or error), in order; doc is valid only during
// the call. It returns dst's buffer for reuse.
func (n *Normalizer) NormalizeEach(dataset string, raw []byte, dst []byte, emit func(doc []byte, meta Meta, err error)) []byte {
	s := n.schema(dataset)
	if s != nil && s.ds.Envelope && bytes.Contains(raw, []byte(`"result"`)) {
		if v, err := n.ep.ParseBytes(trimSpace(raw)); err == nil {
			if obj, err := v.Object(); err == nil && isEnvelope(obj) && envelopeErrors(obj) == "" {
				if arr, err := obj.Get("result").Array(); err == nil && len(arr) > 0 {
					n.items, n.itemEnds = n.items[:0], n.itemEnds[:0]
					for _, it := range arr {
						n.items = it.MarshalTo(n.items)
						n.itemEnds = append(n.itemEnds, len(n.items))
					}
					start := 0
					for _, end := range n.itemEnds {
						doc, meta, err := n.Normalize(dataset, n.items[start:end], dst[:0])
						if err == nil {
							dst = doc
						}
						emit(doc, meta, err)
						start = end
					}
					return dst
				}
			}
		}
	}
	doc, meta, err := n.Normalize(dataset, raw, dst[:0])
	if err == nil {
		dst = doc
	}
	emit(doc, meta, err)
	return dst
}
