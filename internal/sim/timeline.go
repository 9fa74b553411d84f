package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// diurnal spreads n timestamps over [start, end) in ascending order with a
// day-shaped rate: a trough around 03:00 UTC, a peak around 15:00 UTC,
// quieter weekends, and some minute-to-minute noise. Each minute gets its
// share of the records (the shares add up to exactly n); inside a minute
// the timestamps are evenly stratified with jitter, so they stay sorted.
type diurnal struct {
	r      *rand.Rand
	start  time.Time
	end    time.Time
	counts []int
	bucket int // current minute
	k      int // records handed out in the current minute
}

const diurnalBucket = time.Minute

func newDiurnal(start, end time.Time, n int, seed uint64) *diurnal {
	d := &diurnal{r: newRand(seed, 5), start: start, end: end}
	if n <= 0 || !end.After(start) {
		return d
	}
	nb := int((end.Sub(start) + diurnalBucket - 1) / diurnalBucket)
	weights := make([]float64, nb)
	total := 0.0
	for i := range weights {
		bs := start.Add(time.Duration(i) * diurnalBucket)
		span := min(diurnalBucket, end.Sub(bs))
		weights[i] = diurnalRate(bs) * (0.85 + 0.3*d.r.Float64()) * float64(span) / float64(diurnalBucket)
		total += weights[i]
	}
	d.counts = make([]int, nb)
	cum, prev := 0.0, 0
	for i, w := range weights {
		cum += w
		upto := int(math.Round(float64(n) * cum / total))
		if i == nb-1 {
			upto = n
		}
		d.counts[i] = upto - prev
		prev = upto
	}
	return d
}

// diurnalRate is the relative traffic rate at t.
func diurnalRate(t time.Time) float64 {
	t = t.UTC()
	h := float64(t.Hour()) + float64(t.Minute())/60
	rate := 0.55 + 0.45*math.Cos(2*math.Pi*(h-15)/24)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		rate *= 0.8
	}
	return rate
}

// next returns the next timestamp; ok is false when all n were handed out.
func (d *diurnal) next() (t time.Time, ok bool) {
	for d.bucket < len(d.counts) && d.k >= d.counts[d.bucket] {
		d.bucket, d.k = d.bucket+1, 0
	}
	if d.bucket >= len(d.counts) {
		return time.Time{}, false
	}
	bs := d.start.Add(time.Duration(d.bucket) * diurnalBucket)
	span := min(diurnalBucket, d.end.Sub(bs))
	c := d.counts[d.bucket]
	off := (float64(d.k) + d.r.Float64()) / float64(c) * float64(span)
	d.k++
	return bs.Add(time.Duration(off)), true
}
