package normalize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// timestampFormats renders an instant in every Cloudflare timestamp_format
// (and the string forms of the integer ones, which some jobs produce). The
// second-precision formats are only offered for whole seconds.
func timestampFormats(ts time.Time) map[string]string {
	ns := ts.UnixNano()
	f := map[string]string{
		"unixnano":        fmt.Sprint(ns),
		"unixnano-string": fmt.Sprintf("%q", fmt.Sprint(ns)),
		"rfc3339ns":       fmt.Sprintf("%q", ts.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")),
	}
	if ts.Nanosecond()%1e6 == 0 {
		f["rfc3339ms"] = fmt.Sprintf("%q", ts.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	if ts.Nanosecond() == 0 {
		f["unix"] = fmt.Sprint(ts.Unix())
		f["unix-string"] = fmt.Sprintf("%q", fmt.Sprint(ts.Unix()))
		f["rfc3339"] = fmt.Sprintf("%q", ts.UTC().Format(time.RFC3339))
		f["rfc3339-offset"] = fmt.Sprintf("%q", ts.In(time.FixedZone("", 2*3600)).Format(time.RFC3339))
	}
	return f
}

// nestedRecord builds {"a":{"b":value}} for the dotted Src "a.b".
func nestedRecord(src, value string) string {
	segs := strings.Split(src, ".")
	var b strings.Builder
	for _, s := range segs {
		fmt.Fprintf(&b, `{%q:`, s)
	}
	b.WriteString(value)
	b.WriteString(strings.Repeat("}", len(segs)))
	return b.String()
}

// TestTimestampFormatsAllDatasets: for every Timestamp field of every
// registered dataset, every format of the same instant gives the same
// document (RFC 3339 UTC, milliseconds, truncated), without errors, and
// @timestamp, when the field feeds it, is that instant.
func TestTimestampFormatsAllDatasets(t *testing.T) {
	instants := []time.Time{
		time.Date(2024, 4, 17, 12, 34, 56, 0, time.UTC),
		time.Date(2024, 4, 17, 12, 34, 56, 789_000_000, time.UTC),
		time.Date(2024, 4, 17, 12, 34, 56, 789_123_456, time.UTC), // sub-millisecond: truncated
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	for _, opts := range []Options{{}, {KeepDuplicateFields: true}} {
		env := newTestEnv(t, opts)
		n := env.NewNormalizer()
		fields := 0
		catalog := catalogTimestampFields(t)
		for _, ds := range registry().datasets {
			for _, f := range ds.Fields {
				if f.Type != Timestamp && !catalog[catalogName(ds)][f.Src] {
					continue
				}
				fields++
				for _, ts := range instants {
					want := ts.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
					var first []byte
					var firstFormat string
					for format, value := range timestampFormats(ts) {
						rec := nestedRecord(f.Src, value)
						doc, meta, err := n.Normalize(ds.Name, []byte(rec), nil)
						if err != nil || meta.Drop {
							t.Errorf("%s.%s %s: %v %+v", ds.Name, f.Src, format, err, meta)
							continue
						}
						if bytes.Contains(doc, []byte(`"error"`)) || !bytes.Contains(doc, []byte(want)) {
							t.Errorf("%s.%s %s (%s): want %s in %s", ds.Name, f.Src, format, value, want, doc)
							continue
						}
						if m := decode(t, doc); m["@timestamp"] != nil {
							if m["@timestamp"] != want || meta.Time != ts.Truncate(time.Millisecond).UnixNano() && meta.Time != ts.UnixNano() {
								t.Errorf("%s.%s %s: @timestamp %v, meta.Time %d, want %s", ds.Name, f.Src, format, m["@timestamp"], meta.Time, want)
							}
						}
						if first == nil {
							first, firstFormat = doc, format
						} else if !bytes.Equal(doc, first) {
							t.Errorf("%s.%s: %s and %s give different documents:\n%s\n%s", ds.Name, f.Src, firstFormat, format, first, doc)
						}
					}
				}
			}
		}
		if fields == 0 {
			t.Fatal("no Timestamp fields registered")
		}
		t.Logf("%d Timestamp fields of %d datasets checked (datasets.json: %d datasets)", fields, len(registry().datasets), len(catalog))
	}
}

// catalogTimestampFields: dataset -> the fields datasets.json documents as
// timestamps ("int or string"), so that a timestamp a mapping handles in
// its Derive function rather than with Type Timestamp is checked too.
// Empty without ../shared.
func catalogTimestampFields(t *testing.T) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	dir, err := os.Getwd()
	if err != nil {
		return out
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "..", "..", "shared", "cloudflare", "datasets.json"))
	if err != nil {
		return out
	}
	var cat struct {
		Datasets map[string]map[string]struct {
			TimestampFields []string `json:"timestamp_fields"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	for _, sets := range cat.Datasets {
		for name, set := range sets {
			if out[name] == nil {
				out[name] = map[string]bool{}
			}
			for _, f := range set.TimestampFields {
				out[name][f] = true
			}
		}
	}
	return out
}

func catalogName(ds *Dataset) string {
	if ds.Catalog != "" && ds.Catalog != "-" {
		return ds.Catalog
	}
	return ds.Name
}
