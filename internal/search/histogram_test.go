package search

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestBucketWidth(t *testing.T) {
	for _, tt := range []struct {
		span time.Duration
		n    int
		want time.Duration
	}{
		{time.Hour, 60, time.Minute},
		{time.Hour, 61, time.Minute},
		{time.Hour, 50, 2 * time.Minute},
		{24 * time.Hour, 100, 15 * time.Minute},
		{30 * 24 * time.Hour, 60, 12 * time.Hour},
		{3 * time.Second, 100, time.Second},
		{5000 * 24 * time.Hour, 10, 730 * 24 * time.Hour},
	} {
		if got := BucketWidth(tt.span, tt.n); got != tt.want {
			t.Errorf("BucketWidth(%v, %d) = %v, want %v", tt.span, tt.n, got, tt.want)
		}
	}
}

func TestBucketNumber(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		w    time.Duration
		want int64
	}{
		{time.Unix(0, 0), time.Hour, 0},
		{time.Unix(3599, 999999999), time.Hour, 0},
		{time.Unix(3600, 0), time.Hour, 1},
		{time.Unix(-1, 0), time.Hour, -1}, // before the epoch: floor, not truncation
		{time.Unix(-3600, 0), time.Hour, -1},
		{time.Unix(-3601, 0), time.Hour, -2},
	} {
		if got := BucketNumber(tt.t, tt.w); got != tt.want {
			t.Errorf("BucketNumber(%v, %v) = %d, want %d", tt.t.UTC(), tt.w, got, tt.want)
		}
	}
}

// TestHistogramLayout checks the layout with a fake engine; the searchtest
// suite checks it on the real engines.
func TestHistogramLayout(t *testing.T) {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	noBounds := func() (lo, hi time.Time, ok bool, err error) { t.Error("bounds called for a closed range"); return }
	var gotFrom, gotTo time.Time
	count := func(from, to time.Time, w time.Duration) (map[int64]int64, error) {
		gotFrom, gotTo = from, to
		return map[int64]int64{BucketNumber(day.Add(time.Hour), w): 3}, nil
	}
	bs, w, err := Histogram(Request{Since: day, Until: day.Add(4 * time.Hour)}, 4, noBounds, count)
	want := []Bucket{{day, 0}, {day.Add(time.Hour), 3}, {day.Add(2 * time.Hour), 0}, {day.Add(3 * time.Hour), 0}}
	if err != nil || w != time.Hour || !slices.Equal(bs, want) {
		t.Fatalf("closed range: %v %v %v", bs, w, err)
	}
	// Open: the events' range, Until just after the last one.
	bounds := func() (lo, hi time.Time, ok bool, err error) {
		return day.Add(time.Hour), day.Add(2 * time.Hour), true, nil
	}
	bs, w, err = Histogram(Request{}, 0, bounds, count)
	if err != nil || w != 2*time.Minute || len(bs) != 31 || !gotFrom.Equal(day.Add(time.Hour)) || !gotTo.Equal(day.Add(2*time.Hour+time.Microsecond)) {
		t.Fatalf("open range: %d bars of %v from %v to %v, %v", len(bs), w, gotFrom, gotTo, err)
	}
	// Nothing matches, bad range, errors.
	none := func() (lo, hi time.Time, ok bool, err error) { return }
	if bs, _, err := Histogram(Request{Since: day}, 10, none, count); err != nil || len(bs) != 0 || bs == nil {
		t.Fatalf("no match: %v %v", bs, err)
	}
	if bs, w, err := Histogram(Request{Since: day, Until: day}, 10, noBounds, count); err != nil || len(bs) != 0 || w != time.Second {
		t.Fatalf("empty range: %v %v %v", bs, w, err)
	}
	boom := errors.New("boom")
	failing := func(time.Time, time.Time, time.Duration) (map[int64]int64, error) { return nil, boom }
	if _, _, err := Histogram(Request{Since: day, Until: day.Add(time.Hour)}, 10, noBounds, failing); !errors.Is(err, boom) {
		t.Fatalf("count error: %v", err)
	}
	// Many bars asked for: at most MaxBuckets (+1 when the range straddles).
	bs, _, _ = Histogram(Request{Since: day, Until: day.Add(365 * 24 * time.Hour)}, 1e9, noBounds, count)
	if len(bs) > MaxBuckets+1 {
		t.Fatalf("%d bars", len(bs))
	}
}
