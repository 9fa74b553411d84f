package sim

import "time"

// Column constructors: each wraps an accessor of the generator's current
// record in the right JSON encoder.

func colStr[G any](name string, f func(*G) string) column[G] {
	return column[G]{name, TypeString, func(b []byte, g *G, _ *Format) []byte { return appendString(b, f(g)) }}
}

func colBytes[G any](name string, f func(*G) []byte) column[G] {
	return column[G]{name, TypeString, func(b []byte, g *G, _ *Format) []byte { return appendString(b, f(g)) }}
}

func colInt[G any](name string, f func(*G) int) column[G] {
	return column[G]{name, TypeInt, func(b []byte, g *G, _ *Format) []byte { return appendInt(b, f(g)) }}
}

func colBool[G any](name string, f func(*G) bool) column[G] {
	return column[G]{name, TypeBool, func(b []byte, g *G, _ *Format) []byte { return appendBool(b, f(g)) }}
}

func colFloat[G any](name string, f func(*G) float64) column[G] {
	return column[G]{name, TypeFloat, func(b []byte, g *G, _ *Format) []byte { return appendFloat(b, f(g)) }}
}

func colStrs[G any](name string, f func(*G) []string) column[G] {
	return column[G]{name, TypeStringArray, func(b []byte, g *G, _ *Format) []byte { return appendStrings(b, f(g)) }}
}

func colInts[G any](name string, f func(*G) []int) column[G] {
	return column[G]{name, TypeIntArray, func(b []byte, g *G, _ *Format) []byte { return appendInts(b, f(g)) }}
}

// colObject writes a JSON object the accessor returns already encoded.
func colObject[G any](name string, f func(*G) []byte) column[G] {
	return column[G]{name, TypeObject, func(b []byte, g *G, _ *Format) []byte { return append(b, f(g)...) }}
}

// colTime writes a timestamp in the format's timestamp_format.
func colTime[G any](name string, f func(*G) time.Time) column[G] {
	return column[G]{name, TypeTimestamp, func(b []byte, g *G, fm *Format) []byte { return fm.appendTime(b, f(g)) }}
}

// Constant values shared by columns.
var (
	emptyObject = []byte("{}")
	noStrings   = []string{}
	noInts      = []int{}
)
