package event

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The queue stores a batch as one entry. Layout (all lengths uvarint):
//
//	version byte (1) | count | count x (len dataset | dataset | len id | id | varint time | len doc | doc)
//
// The queue adds its own framing and checksum around the entry.
const codecVersion = 1

// ErrCorruptBatch is returned by DecodeBatch for an entry that does not parse.
var ErrCorruptBatch = errors.New("corrupt batch entry")

// AppendBatch appends the encoding of b to dst and returns the extended slice.
func AppendBatch(dst []byte, b *Batch) []byte {
	dst = append(dst, codecVersion)
	dst = binary.AppendUvarint(dst, uint64(len(b.Records)))
	for i := range b.Records {
		r := &b.Records[i]
		dst = appendBytes(dst, r.Dataset)
		dst = appendBytes(dst, r.ID)
		dst = binary.AppendVarint(dst, r.Time)
		dst = binary.AppendUvarint(dst, uint64(len(r.Doc)))
		dst = append(dst, r.Doc...)
	}
	return dst
}

func appendBytes(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// DecodeBatch decodes an entry written by AppendBatch. Record documents alias
// data; copy them if data is reused.
func DecodeBatch(data []byte) (Batch, error) {
	if len(data) == 0 || data[0] != codecVersion {
		return Batch{}, fmt.Errorf("%w: unknown version", ErrCorruptBatch)
	}
	p := data[1:]
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)) {
		return Batch{}, fmt.Errorf("%w: bad record count", ErrCorruptBatch)
	}
	p = p[k:]
	b := Batch{Records: make([]Record, 0, n)}
	for i := uint64(0); i < n; i++ {
		var r Record
		var ds, id, doc []byte
		var err error
		if ds, p, err = readBytes(p); err != nil {
			return Batch{}, err
		}
		if id, p, err = readBytes(p); err != nil {
			return Batch{}, err
		}
		t, k := binary.Varint(p)
		if k <= 0 {
			return Batch{}, fmt.Errorf("%w: bad time", ErrCorruptBatch)
		}
		p = p[k:]
		if doc, p, err = readBytes(p); err != nil {
			return Batch{}, err
		}
		r.Dataset, r.ID, r.Time, r.Doc = string(ds), string(id), t, doc
		b.Records = append(b.Records, r)
	}
	if len(p) != 0 {
		return Batch{}, fmt.Errorf("%w: %d trailing bytes", ErrCorruptBatch, len(p))
	}
	return b, nil
}

func readBytes(p []byte) (v, rest []byte, err error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, nil, fmt.Errorf("%w: bad length", ErrCorruptBatch)
	}
	return p[k : k+int(n)], p[k+int(n):], nil
}
