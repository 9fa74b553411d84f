package sim

import (
	"math/rand/v2"
	"time"
)

// BatchWriter renders one upload body the way a Logpush job lays it out:
// batch_prefix, the records joined by record_delimiter, batch_suffix. It
// applies sample_rate: a sampled-out record is still generated (the
// generator moves on) but not written. Reset starts the next batch.
type BatchWriter struct {
	f       *Format
	sampler *rand.Rand // nil when sample_rate is 1
	buf     []byte
	scratch []byte
	n       int
	last    int // offset of the last record's delimiter (or of the record when it is the first)
	done    bool
}

// NewBatchWriter returns a writer for format f. seed drives sampling.
func NewBatchWriter(f *Format, seed uint64) *BatchWriter {
	w := &BatchWriter{f: f}
	if f.SampleRate() < 1 {
		w.sampler = newRand(seed, 4)
	}
	w.Reset()
	return w
}

// Reset starts a new, empty batch in the writer's buffer.
func (w *BatchWriter) Reset() { w.reset(w.buf[:0]) }

func (w *BatchWriter) reset(buf []byte) {
	w.buf = append(buf[:0], w.f.batchPrefix...)
	w.n, w.last, w.done = 0, len(w.buf), false
}

// Add generates the next record of g, stamped t. It returns false when
// sample_rate dropped the record.
func (w *BatchWriter) Add(g Generator, t time.Time) bool {
	if fg, ok := g.(interface{ pass(time.Time) bool }); ok && !fg.pass(t) {
		return false // a job filter declined it (NewFilteredGenerator)
	}
	if w.sampler != nil && w.sampler.Float64() >= w.f.SampleRate() {
		w.scratch = g.Append(w.scratch[:0], t, w.f)
		return false
	}
	w.last = len(w.buf)
	if w.n > 0 {
		w.buf = append(w.buf, w.f.recordDelim...)
	}
	w.buf = g.Append(w.buf, t, w.f)
	w.n++
	return true
}

// Records returns how many records the batch holds.
func (w *BatchWriter) Records() int { return w.n }

// Len returns the size of the finished body, batch_suffix included.
func (w *BatchWriter) Len() int {
	if w.done {
		return len(w.buf)
	}
	return len(w.buf) + len(w.f.batchSuffix)
}

// Bytes finishes the batch (appends batch_suffix) and returns the body.
// The body is valid until the next Reset; Add must not follow.
func (w *BatchWriter) Bytes() []byte {
	if !w.done {
		w.buf = append(w.buf, w.f.batchSuffix...)
		w.done = true
	}
	return w.buf
}

// popLast removes the last record from the batch and returns a copy of it
// without its delimiter, for the next batch (splitting at max bytes).
func (w *BatchWriter) popLast(dst []byte) []byte {
	start := w.last
	if w.n > 1 {
		start += len(w.f.recordDelim)
	}
	dst = append(dst[:0], w.buf[start:]...)
	w.buf = w.buf[:w.last]
	w.n--
	return dst
}

// addRaw appends an already rendered record.
func (w *BatchWriter) addRaw(rec []byte) {
	w.last = len(w.buf)
	if w.n > 0 {
		w.buf = append(w.buf, w.f.recordDelim...)
	}
	w.buf = append(w.buf, rec...)
	w.n++
}

// detach finishes the batch and hands its buffer over, starting the next
// batch in buf.
func (w *BatchWriter) detach(buf []byte) []byte {
	body := w.Bytes()
	w.reset(buf)
	return body
}
