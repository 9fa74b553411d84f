package cfapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The Logpush filter language (PROTOCOL.md §6.4): {"where": node}, where a
// node is {"and": [node...]}, {"or": [node...]} or a condition
// {"key": Field, "operator": op, "value": v}.

const (
	maxFilterBytes      = 1000
	maxFilterConditions = 30
)

// firewall_events fields Cloudflare does not let a filter use.
var unfilterableFirewall = []string{"Action", "Description", "Kind", "MatchIndex", "Metadata", "OriginatorRayID", "RuleID", "Source"}

type filterNode struct {
	and, or []*filterNode
	key, op string
	neg     bool // a "!" or "neq" operator
	// the condition's value, by kind
	str    string
	num    float64
	isNum  bool
	isBool bool
	b      bool
	list   []string // in / !in
}

// compiledFilter is a job filter ready to test records.
type compiledFilter struct {
	root   *filterNode
	fields []string // the fields it reads, sorted
}

// compileFilter parses a job's filter string for a dataset.
func compileFilter(src string, ds *dataset) (*compiledFilter, error) {
	if len(src) > maxFilterBytes {
		return nil, fmt.Errorf("filter is %d bytes long; the limit is %d", len(src), maxFilterBytes)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(src), &top); err != nil {
		return nil, fmt.Errorf("filter is not a JSON object: %v", err)
	}
	where, ok := top["where"]
	if !ok || len(top) != 1 {
		return nil, fmt.Errorf(`filter must be {"where": ...}`)
	}
	cf := &compiledFilter{}
	fields := map[string]bool{}
	count := 0
	root, err := parseNode(where, ds, fields, &count, 0)
	if err != nil {
		return nil, err
	}
	if count > maxFilterConditions {
		return nil, fmt.Errorf("filter has %d conditions; the limit is %d", count, maxFilterConditions)
	}
	cf.root = root
	for f := range fields {
		cf.fields = append(cf.fields, f)
	}
	slices.Sort(cf.fields)
	return cf, nil
}

var filterOps = map[string]bool{
	"eq": true, "!eq": true, "neq": true, "lt": true, "leq": true, "gt": true, "geq": true,
	"startsWith": true, "endsWith": true, "!startsWith": true, "!endsWith": true,
	"contains": true, "!contains": true, "in": true, "!in": true,
}

func parseNode(raw json.RawMessage, ds *dataset, fields map[string]bool, count *int, depth int) (*filterNode, error) {
	if depth > 20 {
		return nil, fmt.Errorf("filter is nested too deeply")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("filter node %s is not an object", raw)
	}
	for _, group := range []string{"and", "or"} {
		list, ok := m[group]
		if !ok {
			continue
		}
		if len(m) != 1 {
			return nil, fmt.Errorf("filter node with %q must have no other keys", group)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(list, &items); err != nil || len(items) == 0 {
			return nil, fmt.Errorf("filter %q must be a non-empty array of nodes", group)
		}
		n := &filterNode{}
		for _, it := range items {
			child, err := parseNode(it, ds, fields, count, depth+1)
			if err != nil {
				return nil, err
			}
			if group == "and" {
				n.and = append(n.and, child)
			} else {
				n.or = append(n.or, child)
			}
		}
		return n, nil
	}
	var cond struct {
		Key      string          `json:"key"`
		Operator string          `json:"operator"`
		Value    json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &cond); err != nil || cond.Key == "" || cond.Operator == "" || cond.Value == nil {
		return nil, fmt.Errorf("filter condition %s needs key, operator and value", raw)
	}
	*count++
	f, ok := ds.field(cond.Key)
	if !ok {
		return nil, fmt.Errorf("filter key %q is not a field of dataset %s", cond.Key, ds.name)
	}
	if ds.name == "firewall_events" && slices.Contains(unfilterableFirewall, cond.Key) {
		return nil, fmt.Errorf("filter key %q cannot be filtered on in firewall_events", cond.Key)
	}
	if !filterOps[cond.Operator] {
		return nil, fmt.Errorf("filter operator %q is not supported", cond.Operator)
	}
	n := &filterNode{key: cond.Key, op: strings.TrimPrefix(cond.Operator, "!"), neg: strings.HasPrefix(cond.Operator, "!")}
	if cond.Operator == "neq" {
		n.op, n.neg = "eq", true
	}
	typ := f.Type
	isArray := strings.HasPrefix(typ, "array")
	numeric := typ == "int" || typ == "float" || typ == "timestamp"
	if typ == "object" || typ == "array[object]" {
		return nil, fmt.Errorf("filter key %q is an %s: no operator applies to it", cond.Key, typ)
	}
	bad := func() error {
		return fmt.Errorf("filter operator %q does not apply to %s field %s", cond.Operator, typ, cond.Key)
	}
	switch n.op {
	case "eq":
		if isArray {
			return nil, bad()
		}
	case "lt", "leq", "gt", "geq":
		if !numeric {
			return nil, bad()
		}
	case "startsWith", "endsWith":
		if typ != "string" {
			return nil, bad()
		}
	case "contains":
		if typ != "string" && !isArray {
			return nil, bad()
		}
	case "in":
		if typ != "string" && !numeric {
			return nil, bad()
		}
		list, err := filterList(cond.Value)
		if err != nil {
			return nil, fmt.Errorf("filter %s %s: %v", cond.Key, cond.Operator, err)
		}
		n.list = list
		fields[cond.Key] = true
		return n, nil
	}
	if err := n.setValue(cond.Value); err != nil {
		return nil, fmt.Errorf("filter %s %s: %v", cond.Key, cond.Operator, err)
	}
	if (n.op == "lt" || n.op == "leq" || n.op == "gt" || n.op == "geq") && !n.isNum {
		return nil, fmt.Errorf("filter %s %s: value must be a number", cond.Key, cond.Operator)
	}
	fields[cond.Key] = true
	return n, nil
}

// setValue reads a condition's value: a string (also a number given as a
// string, as the docs' examples do), a number or a bool.
func (n *filterNode) setValue(raw json.RawMessage) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		n.str = x
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			n.num, n.isNum = f, true
		}
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return err
		}
		n.str, n.num, n.isNum = x.String(), f, true
	case bool:
		n.b, n.isBool, n.str = x, true, strconv.FormatBool(x)
	default:
		return fmt.Errorf("value must be a string, number or bool")
	}
	return nil
}

// filterList reads in's value: a JSON array (Logpush) or a comma-separated
// string (Instant Logs).
func filterList(raw json.RawMessage) ([]string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.Split(s, ","), nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("value must be an array")
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if json.Unmarshal(it, &s) == nil {
			out = append(out, s)
			continue
		}
		var num json.Number
		if err := json.Unmarshal(it, &num); err != nil {
			return nil, fmt.Errorf("array items must be strings or numbers")
		}
		out = append(out, num.String())
	}
	return out, nil
}

// keep reports whether a record (one JSON object holding at least the
// filter's fields) passes.
func (cf *compiledFilter) keep(rec []byte) bool {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return false
	}
	return cf.root.eval(m)
}

func (n *filterNode) eval(m map[string]any) bool {
	switch {
	case n.and != nil:
		for _, c := range n.and {
			if !c.eval(m) {
				return false
			}
		}
		return true
	case n.or != nil:
		for _, c := range n.or {
			if c.eval(m) {
				return true
			}
		}
		return false
	}
	return n.test(m[n.key]) != n.neg
}

// test applies the (positive) operator to a record value.
func (n *filterNode) test(v any) bool {
	switch n.op {
	case "eq":
		return n.equals(v)
	case "lt", "leq", "gt", "geq":
		f, ok := number(v)
		if !ok {
			return false
		}
		switch n.op {
		case "lt":
			return f < n.num
		case "leq":
			return f <= n.num
		case "gt":
			return f > n.num
		}
		return f >= n.num
	case "startsWith":
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, n.str)
	case "endsWith":
		s, ok := v.(string)
		return ok && strings.HasSuffix(s, n.str)
	case "contains":
		switch x := v.(type) {
		case string:
			return strings.Contains(x, n.str)
		case []any:
			for _, e := range x {
				if n.equals(e) {
					return true
				}
			}
		}
		return false
	case "in":
		s, ok := scalarString(v)
		return ok && slices.Contains(n.list, s)
	}
	return false
}

func (n *filterNode) equals(v any) bool {
	switch x := v.(type) {
	case string:
		return x == n.str
	case json.Number:
		f, err := x.Float64()
		return err == nil && n.isNum && f == n.num
	case bool:
		if n.isBool {
			return x == n.b
		}
		return n.str == strconv.FormatBool(x)
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}
