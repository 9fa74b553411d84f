package sim

import (
	"errors"
	"time"
)

// A Logpush job's filter (PROTOCOL.md §6.4) drops records before they are
// formatted and sampled. NewFilteredGenerator gives the Pusher (through
// PushOptions.Generator) and the BatchWriter a generator that can decline
// records: a declined record is generated (the stream moves on) but never
// written, and the Pusher counts it with the sampled-out records.

// recordSource is implemented by this package's generators: prepare moves
// to the next record, stamped t, and renderCurrent renders that record
// again and again with any format. Append is prepare plus renderCurrent.
type recordSource interface {
	prepare(t time.Time)
	renderCurrent(dst []byte, f *Format) []byte
}

// filteredGen is a generator whose records pass a job filter.
type filteredGen struct {
	inner   Generator
	src     recordSource
	eval    *Format // the fields the filter reads, ndjson, unixnano
	keep    func(record []byte) bool
	scratch []byte
	pending bool // pass accepted the current record; Append renders it
}

// NewFilteredGenerator wraps g, one of this package's generators, so that
// a BatchWriter (and so a Pusher) keeps only the records keep accepts.
// keep receives each record as one JSON object holding fields (nil: all of
// the dataset's fields) with unixnano timestamps, without a trailing
// newline; the slice is only valid during the call. Records are filtered
// before sample_rate applies, as Cloudflare does. Append on the returned
// generator, called outside a BatchWriter, does not filter.
func NewFilteredGenerator(g Generator, fields []string, keep func(record []byte) bool) (Generator, error) {
	src, ok := g.(recordSource)
	if !ok {
		return nil, errors.New("sim: NewFilteredGenerator needs a generator of this package")
	}
	if keep == nil {
		return nil, errors.New("sim: NewFilteredGenerator needs a keep function")
	}
	eval, err := NewFormat(g.Dataset(), OutputOptions{FieldNames: fields, RecordSuffix: "}"})
	if err != nil {
		return nil, err
	}
	fg := &filteredGen{inner: g, src: src, eval: eval, keep: keep}
	if st, ok := g.(Stepper); ok {
		return &filteredStepper{fg, st}, nil
	}
	return fg, nil
}

// filteredStepper is a filtered Stepper (a Feed): the Pusher still steps
// it, and the filter sees each record the step produced.
type filteredStepper struct {
	*filteredGen
	st Stepper
}

func (g *filteredStepper) Step(t time.Time) int { return g.st.Step(t) }

func (g *filteredGen) Dataset() string { return g.inner.Dataset() }
func (g *filteredGen) Fields() []Field { return g.inner.Fields() }

func (g *filteredGen) Append(dst []byte, t time.Time, f *Format) []byte {
	if !g.pending {
		g.src.prepare(t)
	}
	g.pending = false
	return g.src.renderCurrent(dst, f)
}

// pass moves to the next record and reports whether the filter keeps it;
// when it does, the next Append renders that record.
func (g *filteredGen) pass(t time.Time) bool {
	g.src.prepare(t)
	g.scratch = g.src.renderCurrent(g.scratch[:0], g.eval)
	g.pending = g.keep(g.scratch)
	return g.pending
}

// recordSource for each generator; each Append is prepare + renderCurrent.

func (g *httpGen) prepare(t time.Time) {
	g.r, g.t = g.tr.next(), t
	g.details()
}

func (g *httpGen) renderCurrent(dst []byte, f *Format) []byte {
	return renderRecord(dst, httpColumns, g, formatFor(httpDataset, f))
}

func (g *auditGen) prepare(t time.Time) {
	g.t = t
	g.next()
}

func (g *auditGen) renderCurrent(dst []byte, f *Format) []byte {
	return renderRecord(dst, auditColumns, g, formatFor(auditDataset, f))
}

func (g *fwGen) prepare(t time.Time) {
	if g.stepped && g.r != nil && g.i < len(g.r.matches) {
		t = g.stepT
	} else {
		g.stepped = false
		for g.r == nil || g.i >= len(g.r.matches) {
			g.advance()
		}
	}
	g.m, g.mi = g.r.matches[g.i], len(g.r.matches)-1-g.i
	g.i++
	g.t = t
}

func (g *fwGen) renderCurrent(dst []byte, f *Format) []byte {
	return renderRecord(dst, fwColumns, g, formatFor(fwDataset, f))
}
