package search

import "time"

// Limits every engine applies to requests.
const (
	DefaultLimit   = 100   // hits per page when Request.Limit is 0
	MaxLimit       = 10000 // also Elasticsearch's default index.max_result_window
	DefaultBuckets = 60    // histogram bars when none are asked for
	MaxBuckets     = 2000
)

// bucketSteps are the histogram widths offered, smallest first.
var bucketSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
	90 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// BucketWidth picks the smallest step that covers span in at most n buckets.
func BucketWidth(span time.Duration, n int) time.Duration {
	for _, st := range bucketSteps {
		if span <= st*time.Duration(n) {
			return st
		}
	}
	// Beyond the table: whole years.
	w := bucketSteps[len(bucketSteps)-1]
	for span > w*time.Duration(n) {
		w *= 2
	}
	return w
}

// BucketNumber is the number of the bucket of width w that holds t:
// buckets start at multiples of w since the Unix epoch (UTC), bucket n at
// n*w. Widths are whole seconds (at least one), so any unit finer than a
// second (DuckDB's microseconds, Elasticsearch's milliseconds) numbers the
// buckets the same.
func BucketNumber(t time.Time, w time.Duration) int64 {
	return floorDiv(t.UnixMicro(), w.Microseconds())
}

// Histogram lays a histogram out the same way on every engine: the number
// of bars (DefaultBuckets when buckets <= 0, at most MaxBuckets), the range
// (r.Since..r.Until; an open end is taken from the matching events), the
// width (BucketWidth) and the bars themselves, empty ones inside the range
// included with count 0.
//
// The engine does the counting. bounds returns the earliest and latest
// matching event (ok false when none matches); it is called only when the
// range is open. count returns, per BucketNumber, how many matching events
// fall in [from, to) (from and to are r's range with open ends filled in).
func Histogram(r Request, buckets int,
	bounds func() (lo, hi time.Time, ok bool, err error),
	count func(from, to time.Time, width time.Duration) (map[int64]int64, error),
) ([]Bucket, time.Duration, error) {
	if buckets <= 0 {
		buckets = DefaultBuckets
	}
	buckets = min(buckets, MaxBuckets)
	from, to := r.Since, r.Until
	if from.IsZero() || to.IsZero() {
		lo, hi, ok, err := bounds()
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			return []Bucket{}, BucketWidth(to.Sub(from), buckets), nil
		}
		if from.IsZero() {
			from = lo.UTC()
		}
		if to.IsZero() {
			to = hi.UTC().Add(time.Microsecond) // Until is exclusive
		}
	}
	if !to.After(from) {
		return []Bucket{}, time.Second, nil
	}
	width := BucketWidth(to.Sub(from), buckets)
	counts, err := count(from, to, width)
	if err != nil {
		return nil, 0, err
	}
	first := BucketNumber(from, width)
	last := BucketNumber(to.Add(-time.Nanosecond), width)
	wus := width.Microseconds()
	out := make([]Bucket, 0, last-first+1)
	for b := first; b <= last; b++ {
		out = append(out, Bucket{Start: time.UnixMicro(b * wus).UTC(), Count: counts[b]})
	}
	return out, width, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
