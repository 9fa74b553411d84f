package store

import (
	"database/sql/driver"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/valyala/fastjson"
)

// Column is one typed column of the events table, extracted from the ECS
// document when an event is written. Queries on Path use the column instead
// of parsing the document, and Top/Histogram group on it.
type Column struct {
	Name string // SQL column name
	Type string // DuckDB type: VARCHAR, VARCHAR[], SMALLINT, INTEGER, BIGINT or DOUBLE
	Path string // ECS dotted path the value is read from
	// IP marks a VARCHAR column holding an IP address. The store then also
	// keeps <Name>_num UHUGEINT: the address as a 128-bit number (IPv4 as
	// ::ffff:a.b.c.d), so that CIDR and range queries are integer range
	// scans that zone maps can prune.
	IP bool
}

// columns is the declarative list of typed columns. Adding an entry is all
// it takes to add a column: Open adds it to existing databases (older rows
// keep NULL there; queries on its path then miss those rows).
//
// Paths follow Elastic's cloudflare_logpush integration. Later, per-dataset
// field definitions will generate this list.
var columns = []Column{
	{Name: "event_action", Type: "VARCHAR", Path: "event.action"},
	{Name: "event_outcome", Type: "VARCHAR", Path: "event.outcome"},
	{Name: "event_category", Type: "VARCHAR[]", Path: "event.category"},
	{Name: "event_dataset", Type: "VARCHAR", Path: "event.dataset"},
	{Name: "data_stream_dataset", Type: "VARCHAR", Path: "data_stream.dataset"},
	{Name: "source_ip", Type: "VARCHAR", Path: "source.ip", IP: true},
	{Name: "destination_ip", Type: "VARCHAR", Path: "destination.ip", IP: true},
	{Name: "source_country", Type: "VARCHAR", Path: "source.geo.country_iso_code"},
	{Name: "source_asn", Type: "BIGINT", Path: "source.as.number"},
	{Name: "http_method", Type: "VARCHAR", Path: "http.request.method"},
	{Name: "http_status", Type: "SMALLINT", Path: "http.response.status_code"},
	{Name: "url_domain", Type: "VARCHAR", Path: "url.domain"},
	{Name: "url_path", Type: "VARCHAR", Path: "url.path"},
	{Name: "user_agent_name", Type: "VARCHAR", Path: "user_agent.name"},
	{Name: "user_email", Type: "VARCHAR", Path: "user.email"},
	{Name: "rule_id", Type: "VARCHAR", Path: "rule.id"},
	{Name: "rule_name", Type: "VARCHAR", Path: "rule.name"},
	// Custom fields (the normalizer keeps ZoneName and EdgeResponseBytes
	// under the dataset's namespace only). One path per column: firewall
	// events' zone name is queried from the document.
	{Name: "zone_name", Type: "VARCHAR", Path: "cloudflare_logpush.http_request.zone.name"},
	{Name: "bytes", Type: "BIGINT", Path: "cloudflare_logpush.http_request.edge.response.bytes"},
}

// Fixed columns, not extracted from the document.
const (
	colTime    = "ts"      // TIMESTAMP: Record.Time (UTC, microseconds)
	colDataset = "dataset" // VARCHAR: Record.Dataset (Cloudflare dataset name)
	colID      = "id"      // VARCHAR: Record.ID (deterministic; Write skips a (dataset, id, ts) already stored)
	colDoc     = "doc"     // JSON: the full ECS document
)

// kind says how a value is extracted, stored and compared.
type kind int

const (
	kString kind = iota
	kList
	kInt
	kFloat
	kIP
	kTime
	kJSON // not a column: extracted from doc at query time
)

// physCol is one physical column of the table, in appender order.
type physCol struct {
	name string
	typ  string // DuckDB type in the DDL
	kind kind
	keys []string // fastjson path; nil for fixed columns
	ip   bool     // the _num twin of an IP column
	bits int      // integer width for range checks (16, 32, 64)
}

// schema is the table layout derived from columns.
type schema struct {
	phys   []physCol
	byPath map[string]fieldRef // ECS path (and aliases) -> column
	types  []duckdb.TypeInfo   // appender types, parallel to phys
}

// fieldRef is how a query reaches a field: a typed column, or the JSON path
// into doc.
type fieldRef struct {
	kind  kind
	col   string // column name, or the JSON path literal for kJSON
	num   string // for kIP: the _num column
	field string // ECS name, for error messages
}

func newSchema(cols []Column) (*schema, error) {
	s := &schema{byPath: map[string]fieldRef{}}
	s.phys = append(s.phys,
		physCol{name: colTime, typ: "TIMESTAMP", kind: kTime},
		physCol{name: colDataset, typ: "VARCHAR", kind: kString},
		physCol{name: colID, typ: "VARCHAR", kind: kString},
	)
	seen := map[string]bool{colTime: true, colDataset: true, colID: true, colDoc: true}
	var nums []physCol
	for _, c := range cols {
		if !validIdent(c.Name) || seen[c.Name] || seen[c.Name+"_num"] {
			return nil, fmt.Errorf("store: bad or duplicate column name %q", c.Name)
		}
		seen[c.Name] = true
		p := physCol{name: c.Name, typ: c.Type, keys: strings.Split(c.Path, ".")}
		switch c.Type {
		case "VARCHAR":
			p.kind = kString
		case "VARCHAR[]":
			p.kind = kList
		case "SMALLINT":
			p.kind, p.bits = kInt, 16
		case "INTEGER":
			p.kind, p.bits = kInt, 32
		case "BIGINT":
			p.kind, p.bits = kInt, 64
		case "DOUBLE":
			p.kind = kFloat
		default:
			return nil, fmt.Errorf("store: column %s: unsupported type %q", c.Name, c.Type)
		}
		ref := fieldRef{kind: p.kind, col: c.Name, field: c.Path}
		if c.IP {
			if c.Type != "VARCHAR" {
				return nil, fmt.Errorf("store: IP column %s must be VARCHAR", c.Name)
			}
			p.kind = kIP
			ref.kind, ref.num = kIP, c.Name+"_num"
			seen[ref.num] = true
			nums = append(nums, physCol{name: ref.num, typ: "UHUGEINT", kind: kIP, keys: p.keys, ip: true})
		}
		if _, dup := s.byPath[c.Path]; dup {
			return nil, fmt.Errorf("store: two columns for path %s", c.Path)
		}
		s.byPath[c.Path] = ref
		s.phys = append(s.phys, p)
	}
	s.phys = append(s.phys, nums...)
	s.phys = append(s.phys, physCol{name: colDoc, typ: "VARCHAR"})
	s.byPath["@timestamp"] = fieldRef{kind: kTime, col: colTime, field: "@timestamp"}
	s.byPath["_id"] = fieldRef{kind: kString, col: colID, field: "_id"}

	for _, p := range s.phys {
		var ti duckdb.TypeInfo
		var err error
		switch p.typ {
		case "TIMESTAMP":
			ti, err = duckdb.NewTypeInfo(duckdb.TYPE_TIMESTAMP)
		case "VARCHAR", "JSON": // doc is appended as VARCHAR and cast on insert
			ti, err = duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
		case "VARCHAR[]":
			var v duckdb.TypeInfo
			if v, err = duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR); err == nil {
				ti, err = duckdb.NewListInfo(v)
			}
		case "SMALLINT":
			ti, err = duckdb.NewTypeInfo(duckdb.TYPE_SMALLINT)
		case "INTEGER":
			ti, err = duckdb.NewTypeInfo(duckdb.TYPE_INTEGER)
		case "BIGINT":
			ti, err = duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
		case "DOUBLE":
			ti, err = duckdb.NewTypeInfo(duckdb.TYPE_DOUBLE)
		case "UHUGEINT":
			ti, err = duckdb.NewTypeInfo(duckdb.TYPE_UHUGEINT)
		}
		if err != nil || ti == nil {
			return nil, fmt.Errorf("store: column %s: no appender type for %s: %v", p.name, p.typ, err)
		}
		s.types = append(s.types, ti)
	}
	return s, nil
}

// validIdent accepts lower-case SQL identifiers: the column list is code, but
// names go into DDL unquoted, so check anyway.
func validIdent(s string) bool {
	if s == "" || len(s) > 63 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// createSQL is the DDL of the events table.
func (s *schema) createSQL() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE events (")
	for i, p := range s.phys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.name + " " + p.typ)
	}
	b.WriteString(")")
	return b.String()
}

// insertSQL is the query of the appender: rows arrive as appended_data with
// the columns of phys in order. doc is stored as it comes: Write has
// already checked it is a JSON object, and a second check by DuckDB's JSON
// cast costs ~25% of the write throughput.
func (s *schema) insertSQL() string {
	names := make([]string, len(s.phys))
	sel := make([]string, len(s.phys))
	for i, p := range s.phys {
		names[i] = p.name
		sel[i] = fmt.Sprintf("col%d", i+1)
	}
	return "INSERT INTO events (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(sel, ", ") + " FROM appended_data"
}

// fillRow extracts one record's values into row (len(s.phys)). doc has been
// parsed into v.
func (s *schema) fillRow(row []driver.Value, ts time.Time, dataset, id string, doc []byte, v *fastjson.Value) {
	for i := range s.phys {
		p := &s.phys[i]
		switch {
		case p.name == colTime:
			row[i] = ts
		case p.name == colDataset:
			row[i] = dataset
		case p.name == colID:
			row[i] = id
		case p.name == colDoc:
			row[i] = string(doc)
		default:
			row[i] = extract(p, v.Get(p.keys...))
		}
	}
}

// extract converts a JSON value to the column's Go value; nil (NULL) when
// absent or of the wrong shape.
func extract(p *physCol, v *fastjson.Value) driver.Value {
	if v == nil {
		return nil
	}
	switch p.kind {
	case kString:
		s, ok := scalarText(v)
		if !ok {
			return nil
		}
		return s
	case kIP:
		s, ok := scalarText(v)
		if !ok {
			return nil
		}
		if !p.ip {
			return s
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil
		}
		return ipNum(a)
	case kList:
		if v.Type() == fastjson.TypeArray {
			arr, _ := v.Array()
			out := make([]string, 0, len(arr))
			for _, e := range arr {
				if s, ok := scalarText(e); ok {
					out = append(out, s)
				}
			}
			return out
		}
		if s, ok := scalarText(v); ok {
			return []string{s}
		}
		return nil
	case kInt:
		n, ok := jsonInt(v)
		if !ok {
			return nil
		}
		switch p.bits {
		case 16:
			if n < math.MinInt16 || n > math.MaxInt16 {
				return nil
			}
			return int16(n)
		case 32:
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil
			}
			return int32(n)
		}
		return n
	case kFloat:
		switch v.Type() {
		case fastjson.TypeNumber:
			f, err := v.Float64()
			if err != nil {
				return nil
			}
			return f
		case fastjson.TypeString:
			f, err := strconv.ParseFloat(string(v.GetStringBytes()), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil
			}
			return f
		}
	}
	return nil
}

// scalarText returns a string, number or boolean as text; for an array, its
// first such element.
func scalarText(v *fastjson.Value) (string, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes()), true
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		return v.String(), true
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, e := range arr {
			if e.Type() != fastjson.TypeArray {
				if s, ok := scalarText(e); ok {
					return s, true
				}
			}
		}
	}
	return "", false
}

func jsonInt(v *fastjson.Value) (int64, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		if n, err := v.Int64(); err == nil {
			return n, true
		}
		f, err := v.Float64()
		if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, false
		}
		return int64(f), true
	case fastjson.TypeString:
		n, err := strconv.ParseInt(string(v.GetStringBytes()), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// ipNum is the 128-bit number of an address; IPv4 is mapped into
// ::ffff:0:0/96 so that both families share one column.
func ipNum(a netip.Addr) *big.Int {
	b := a.Unmap().As16() // As16 maps IPv4 to ::ffff:a.b.c.d
	return new(big.Int).SetBytes(b[:])
}

// ipRange is the first and last number of a prefix, as decimal text for a
// ?::UHUGEINT parameter.
func ipRange(p netip.Prefix) (lo, hi string) {
	a := p.Addr()
	bits := p.Bits()
	if a.Is4() {
		bits += 96
	}
	first := ipNum(a)
	span := new(big.Int).Lsh(big.NewInt(1), uint(128-bits))
	last := new(big.Int).Add(first, span.Sub(span, big.NewInt(1)))
	return first.String(), last.String()
}
