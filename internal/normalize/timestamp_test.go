package normalize

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// cloudflareFormats renders one instant in every timestamp_format Cloudflare
// offers (ints as JSON numbers and as strings), the way Elastic's fixtures
// also show them.
func cloudflareFormats(t time.Time) map[string]string {
	t = t.UTC()
	return map[string]string{
		"unixnano":        strconv.FormatInt(t.UnixNano(), 10),
		"unixnano-string": strconv.Quote(strconv.FormatInt(t.UnixNano(), 10)),
		"unix":            strconv.FormatInt(t.Unix(), 10),
		"unix-string":     strconv.Quote(strconv.FormatInt(t.Unix(), 10)),
		"unixms":          strconv.FormatInt(t.UnixMilli(), 10),
		"unixms-string":   strconv.Quote(strconv.FormatInt(t.UnixMilli(), 10)),
		"unixmicro":       strconv.FormatInt(t.UnixMicro(), 10),
		"rfc3339":         strconv.Quote(t.Format("2006-01-02T15:04:05Z07:00")),
		"rfc3339ms":       strconv.Quote(t.Format("2006-01-02T15:04:05.000Z07:00")),
		"rfc3339ns":       strconv.Quote(t.Format("2006-01-02T15:04:05.000000000Z07:00")),
		"rfc3339-offset":  strconv.Quote(t.In(time.FixedZone("", -5*3600-30*60)).Format("2006-01-02T15:04:05-07:00")),
		"rfc1123":         strconv.Quote(t.Format(time.RFC1123)),
	}
}

// TestTimestampFormatsProperty: every format of the same instant gives the
// same @timestamp (and Meta.Time, to the precision the format carries), on
// each dataset's time field.
func TestTimestampFormatsProperty(t *testing.T) {
	env := newTestEnv(t, Options{})
	n := env.NewNormalizer()
	rng := rand.New(rand.NewPCG(7, 11))
	fields := map[string]string{"http_requests": "EdgeStartTimestamp", "firewall_events": "Datetime", "audit_logs": "When"}
	for i := 0; i < 300; i++ {
		// Whole seconds, so that every format can represent the instant.
		sec := rng.Int64N(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()-time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) +
			time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		inst := time.Unix(sec, 0).UTC()
		want := inst.Format("2006-01-02T15:04:05.000Z")
		for ds, field := range fields {
			for name, val := range cloudflareFormats(inst) {
				doc, meta, err := n.Normalize(ds, []byte(fmt.Sprintf(`{%q:%s}`, field, val)), nil)
				if err != nil {
					t.Fatalf("%s %s=%s: %v", ds, field, val, err)
				}
				got := decode(t, doc)["@timestamp"]
				if got != want {
					t.Fatalf("%s %s (%s): @timestamp = %v, want %s", ds, name, val, got, want)
				}
				if meta.Time != inst.UnixNano() {
					t.Fatalf("%s %s (%s): Meta.Time = %d, want %d", ds, name, val, meta.Time, inst.UnixNano())
				}
			}
		}
	}
}

// TestTimestampSubsecond: formats with sub-second precision agree on the
// millisecond, and Meta.Time keeps what the format carries.
func TestTimestampSubsecond(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for i := 0; i < 2000; i++ {
		inst := time.Unix(1_600_000_000+rng.Int64N(200_000_000), rng.Int64N(1e9)).UTC()
		wantMS := inst.Truncate(time.Millisecond)
		for name, val := range map[string]string{
			"unixnano":  strconv.FormatInt(inst.UnixNano(), 10),
			"rfc3339ns": inst.Format("2006-01-02T15:04:05.000000000Z"),
			"rfc3339ms": inst.Format("2006-01-02T15:04:05.000Z"),
			"unixms":    strconv.FormatInt(inst.UnixMilli(), 10),
			"unixmicro": strconv.FormatInt(inst.UnixMicro(), 10),
		} {
			ns, ok := parseTimeString(val)
			if !ok {
				t.Fatalf("%s %q did not parse", name, val)
			}
			if got := string(appendTimeMillis(nil, ns)); got != strconv.Quote(wantMS.Format("2006-01-02T15:04:05.000Z")) {
				t.Fatalf("%s %q -> %s, want %s", name, val, got, wantMS.Format(time.RFC3339Nano))
			}
			if name == "unixnano" || name == "rfc3339ns" {
				if ns != inst.UnixNano() {
					t.Fatalf("%s %q -> %d ns, want %d", name, val, ns, inst.UnixNano())
				}
			}
		}
	}
}

func TestParseTime(t *testing.T) {
	good := map[string]string{
		"2022-05-25T13:25:26Z":            "2022-05-25T13:25:26.000Z",
		"2022-05-25T13:25:26.5Z":          "2022-05-25T13:25:26.500Z",
		"2022-05-25T13:25:26,25Z":         "2022-05-25T13:25:26.250Z",
		"2022-05-25 13:25:26":             "2022-05-25T13:25:26.000Z",
		"2022-05-25T15:25:26+0200":        "2022-05-25T13:25:26.000Z",
		"2022-05-25T08:25:26-05":          "2022-05-25T13:25:26.000Z",
		"2022-05-25T13:25":                "2022-05-25T13:25:00.000Z",
		"2022-05-25":                      "2022-05-25T00:00:00.000Z",
		"2024-02-29T00:00:00Z":            "2024-02-29T00:00:00.000Z",
		"Thu, 21 May 2022 11:17:33 UTC":   "2022-05-21T11:17:33.000Z",
		"Wed, 17 Apr 2024 13:00:04 GMT":   "2024-04-17T13:00:04.000Z",
		"Wed, 17 Apr 2024 15:00:04 +0200": "2024-04-17T13:00:04.000Z",
		"1653485126":                      "2022-05-25T13:25:26.000Z",
		"1653485126000":                   "2022-05-25T13:25:26.000Z",
		"1653485126000000":                "2022-05-25T13:25:26.000Z",
		"1653485126000000000":             "2022-05-25T13:25:26.000Z",
		"0":                               "1970-01-01T00:00:00.000Z",
		"-1":                              "1969-12-31T23:59:59.000Z",
		"1653485126.5":                    "2022-05-25T13:25:26.500Z",
		" 1653485126 ":                    "2022-05-25T13:25:26.000Z",
	}
	for in, want := range good {
		ns, ok := parseTimeString(in)
		if !ok {
			t.Errorf("%q did not parse", in)
			continue
		}
		if got := string(appendTimeMillis(nil, ns)); got != strconv.Quote(want) {
			t.Errorf("%q -> %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2022-13-01", "2023-02-29", "2022-05-25T25:00:00Z", "2022-05-25T13:25:26Q",
		"2022-05-25T13:25:26.Z", "99999999999999999999", "NaN", "1e400", "10000-01-01", "3000-01-01T00:00:00Z", "-", "12:00"} {
		if ns, ok := parseTimeString(bad); ok {
			t.Errorf("%q parsed as %d", bad, ns)
		}
	}
}

func TestCivilRoundTrip(t *testing.T) {
	for d := int64(-800_000); d < 800_000; d += 7 {
		y, m, dd := civilFromDays(d)
		if back := daysFromCivil(y, m, dd); back != d {
			t.Fatalf("day %d -> %d-%d-%d -> %d", d, y, m, dd, back)
		}
		if want := time.Unix(d*86400, 0).UTC(); want.Year() != y || int(want.Month()) != m || want.Day() != dd {
			t.Fatalf("day %d -> %d-%d-%d, time says %s", d, y, m, dd, want)
		}
	}
}
