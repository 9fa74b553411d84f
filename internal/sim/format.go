package sim

import (
	"fmt"
	"strconv"
	"time"
)

// FieldType is a field's type as datasets.json names it.
type FieldType string

// The field types of datasets.json. TypeTimestamp is the docs' "int or
// string": an integer or a string depending on timestamp_format.
const (
	TypeString      FieldType = "string"
	TypeInt         FieldType = "int"
	TypeBool        FieldType = "bool"
	TypeFloat       FieldType = "float"
	TypeObject      FieldType = "object"
	TypeTimestamp   FieldType = "timestamp"
	TypeStringArray FieldType = "array[string]"
	TypeIntArray    FieldType = "array[int]"
)

// Field is one field of a dataset.
type Field struct {
	Name string
	Type FieldType
}

// OutputOptions is a Logpush job's output_options object (PROTOCOL.md §2.4).
// The JSON tags are Cloudflare's keys, so a job body can be decoded into it.
// Empty values mean the defaults: every field of the dataset in the
// dataset's order, ndjson, timestamp_format unixnano, record_prefix "{",
// record_suffix "}\n", field_delimiter ",", sample_rate 1.
type OutputOptions struct {
	FieldNames      []string `json:"field_names,omitempty"`
	OutputType      string   `json:"output_type,omitempty"` // "ndjson" (default) or "csv"
	TimestampFormat string   `json:"timestamp_format,omitempty"`
	RecordPrefix    string   `json:"record_prefix,omitempty"`
	RecordSuffix    string   `json:"record_suffix,omitempty"`
	RecordDelimiter string   `json:"record_delimiter,omitempty"` // between records, not after the last
	FieldDelimiter  string   `json:"field_delimiter,omitempty"`
	BatchPrefix     string   `json:"batch_prefix,omitempty"`
	BatchSuffix     string   `json:"batch_suffix,omitempty"`
	RecordTemplate  string   `json:"record_template,omitempty"` // not supported: NewFormat rejects it
	SampleRate      float64  `json:"sample_rate,omitempty"`     // (0, 1]; 0 means 1
	CVE202144228    bool     `json:"CVE-2021-44228,omitempty"`  // rewrite "${" to "x{"
}

// The timestamp_format values.
const (
	TimestampUnixNano  = "unixnano"
	TimestampUnix      = "unix"
	TimestampRFC3339   = "rfc3339"
	TimestampRFC3339ms = "rfc3339ms"
	TimestampRFC3339ns = "rfc3339ns"
)

type tsKind uint8

const (
	tsUnixNano tsKind = iota
	tsUnix
	tsRFC3339
	tsRFC3339ms
	tsRFC3339ns
)

var tsKinds = map[string]tsKind{
	"":                 tsUnixNano,
	TimestampUnixNano:  tsUnixNano,
	TimestampUnix:      tsUnix,
	TimestampRFC3339:   tsRFC3339,
	TimestampRFC3339ms: tsRFC3339ms,
	TimestampRFC3339ns: tsRFC3339ns,
}

// Format is a job's output_options compiled for one dataset. It is
// immutable and safe for concurrent use.
type Format struct {
	dataset string
	opts    OutputOptions // with defaults filled in
	plan    []int         // indexes into the dataset's columns, in output order
	keys    [][]byte      // `"Name":` for each plan entry (ndjson only)
	ts      tsKind
	csv     bool

	recordPrefix, recordSuffix, recordDelim, fieldDelim, batchPrefix, batchSuffix []byte
}

// NewFormat compiles output options for a dataset. It fails, like the
// Logpush API would refuse the job, on an unknown dataset, a field the
// dataset does not have, a repeated field, an unknown timestamp_format or
// output_type, a sample_rate outside (0, 1], or a record_template (which the
// simulator does not implement).
func NewFormat(dataset string, o OutputOptions) (*Format, error) {
	ds, err := lookupDataset(dataset)
	if err != nil {
		return nil, err
	}
	return newFormat(ds, o)
}

func newFormat(ds *datasetInfo, o OutputOptions) (*Format, error) {
	dataset := ds.name
	f := &Format{dataset: dataset}
	switch o.OutputType {
	case "", "ndjson":
		o.OutputType = "ndjson"
		if o.RecordPrefix == "" {
			o.RecordPrefix = "{"
		}
		if o.RecordSuffix == "" {
			o.RecordSuffix = "}\n"
		}
	case "csv":
		f.csv = true
		if o.RecordSuffix == "" {
			o.RecordSuffix = "\n"
		}
	default:
		return nil, fmt.Errorf("output_type %q: must be ndjson or csv", o.OutputType)
	}
	if o.FieldDelimiter == "" {
		o.FieldDelimiter = ","
	}
	if o.RecordTemplate != "" {
		return nil, fmt.Errorf("record_template is not supported by the simulator")
	}
	ts, ok := tsKinds[o.TimestampFormat]
	if !ok {
		return nil, fmt.Errorf("timestamp_format %q: must be one of unixnano, unix, rfc3339, rfc3339ms, rfc3339ns", o.TimestampFormat)
	}
	if o.TimestampFormat == "" {
		o.TimestampFormat = TimestampUnixNano
	}
	f.ts = ts
	if o.SampleRate == 0 {
		o.SampleRate = 1
	}
	if !(o.SampleRate > 0 && o.SampleRate <= 1) {
		return nil, fmt.Errorf("sample_rate %v: must be in (0, 1]", o.SampleRate)
	}
	if len(o.FieldNames) == 0 {
		o.FieldNames = make([]string, len(ds.fields))
		for i, fl := range ds.fields {
			o.FieldNames[i] = fl.Name
		}
	} else {
		o.FieldNames = append([]string(nil), o.FieldNames...)
	}
	seen := make(map[string]bool, len(o.FieldNames))
	for _, name := range o.FieldNames {
		idx, ok := ds.index[name]
		if !ok {
			return nil, fmt.Errorf("field_names: %q is not a field of dataset %s", name, dataset)
		}
		if seen[name] {
			return nil, fmt.Errorf("field_names: %q is listed twice", name)
		}
		seen[name] = true
		f.plan = append(f.plan, idx)
		f.keys = append(f.keys, append(strconv.AppendQuote(nil, name), ':'))
	}
	f.opts = o
	cve := func(s string) []byte {
		b := []byte(s)
		if o.CVE202144228 {
			b = replaceCVE(b, 0)
		}
		return b
	}
	f.recordPrefix, f.recordSuffix = cve(o.RecordPrefix), cve(o.RecordSuffix)
	f.recordDelim, f.fieldDelim = cve(o.RecordDelimiter), cve(o.FieldDelimiter)
	f.batchPrefix, f.batchSuffix = cve(o.BatchPrefix), cve(o.BatchSuffix)
	return f, nil
}

// MustFormat is NewFormat that panics on error, for tests and fixed options.
func MustFormat(dataset string, o OutputOptions) *Format {
	f, err := NewFormat(dataset, o)
	if err != nil {
		panic(err)
	}
	return f
}

// Dataset returns the dataset the format was compiled for.
func (f *Format) Dataset() string { return f.dataset }

// Options returns the output options with every default filled in.
func (f *Format) Options() OutputOptions {
	o := f.opts
	o.FieldNames = append([]string(nil), o.FieldNames...)
	return o
}

// SampleRate returns the fraction of records the job keeps.
func (f *Format) SampleRate() float64 { return f.opts.SampleRate }

// column is one field of a dataset with the function that appends its
// value (JSON-encoded) for the record the generator G currently holds.
type column[G any] struct {
	name string
	typ  FieldType
	enc  func(b []byte, g *G, f *Format) []byte
}

func fieldsOf[G any](cols []column[G]) []Field {
	fs := make([]Field, len(cols))
	for i, c := range cols {
		fs[i] = Field{c.name, c.typ}
	}
	return fs
}

// renderRecord appends one framed record: record_prefix, the selected
// fields, record_suffix. The record delimiter is the batch's business.
func renderRecord[G any](dst []byte, cols []column[G], g *G, f *Format) []byte {
	start := len(dst)
	dst = append(dst, f.recordPrefix...)
	for i, idx := range f.plan {
		if i > 0 {
			dst = append(dst, f.fieldDelim...)
		}
		if !f.csv {
			dst = append(dst, f.keys[i]...)
		}
		dst = cols[idx].enc(dst, g, f)
	}
	dst = append(dst, f.recordSuffix...)
	if f.opts.CVE202144228 {
		dst = replaceCVE(dst, start)
	}
	return dst
}

// appendTime appends t in the format's timestamp_format.
func (f *Format) appendTime(b []byte, t time.Time) []byte {
	switch f.ts {
	case tsUnix:
		return strconv.AppendInt(b, t.Unix(), 10)
	case tsRFC3339:
		return appendRFC3339(b, t, 0)
	case tsRFC3339ms:
		return appendRFC3339(b, t, 3)
	case tsRFC3339ns:
		return appendRFC3339(b, t, 9)
	default:
		return strconv.AppendInt(b, t.UnixNano(), 10)
	}
}

// appendRFC3339 appends t as a quoted UTC RFC 3339 string with digits
// fractional second digits (0, 3 or 9; truncated, never rounded).
func appendRFC3339(b []byte, t time.Time, digits int) []byte {
	sec := t.Unix()
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		layout := `"2006-01-02T15:04:05Z"`
		switch digits {
		case 3:
			layout = `"2006-01-02T15:04:05.000Z"`
		case 9:
			layout = `"2006-01-02T15:04:05.000000000Z"`
		}
		return t.UTC().AppendFormat(b, layout)
	}
	b = append(b, '"')
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(rem/3600))
	b = append(b, ':')
	b = append2(b, int(rem/60%60))
	b = append(b, ':')
	b = append2(b, int(rem%60))
	if digits > 0 {
		ns := t.Nanosecond()
		b = append(b, '.')
		for div := 100000000; digits > 0; digits-- {
			b = append(b, byte('0'+ns/div%10))
			div /= 10
		}
	}
	return append(b, 'Z', '"')
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's civil_from_days).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
