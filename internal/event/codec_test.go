package event

import (
	"bytes"
	"errors"
	"testing"
)

func TestBatchRoundTrip(t *testing.T) {
	cases := []Batch{
		{},
		{Records: []Record{{Dataset: "http_requests", ID: "abc", Time: 1700000000123456789, Doc: []byte(`{"a":1}`)}}},
		{Records: []Record{
			{Dataset: "dns_logs", ID: "", Time: 0, Doc: []byte(`{}`)},
			{Dataset: "audit_logs", ID: "x", Time: -5, Doc: bytes.Repeat([]byte("z"), 70000)},
		}},
	}
	for i, in := range cases {
		enc := AppendBatch(nil, &in)
		out, err := DecodeBatch(enc)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if len(out.Records) != len(in.Records) {
			t.Fatalf("case %d: got %d records, want %d", i, len(out.Records), len(in.Records))
		}
		for j := range in.Records {
			a, b := in.Records[j], out.Records[j]
			if a.Dataset != b.Dataset || a.ID != b.ID || a.Time != b.Time || !bytes.Equal(a.Doc, b.Doc) {
				t.Fatalf("case %d record %d: got %+v want %+v", i, j, b, a)
			}
		}
	}
}

func TestDecodeBatchRejectsCorruption(t *testing.T) {
	good := AppendBatch(nil, &Batch{Records: []Record{{Dataset: "d", ID: "i", Time: 1, Doc: []byte(`{"x":1}`)}}})
	cases := map[string][]byte{
		"empty":        nil,
		"bad version":  append([]byte{9}, good[1:]...),
		"truncated":    good[:len(good)-3],
		"trailing":     append(append([]byte{}, good...), 0),
		"huge count":   {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge doc len": {1, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, in := range cases {
		if _, err := DecodeBatch(in); !errors.Is(err, ErrCorruptBatch) {
			t.Errorf("%s: err = %v, want ErrCorruptBatch", name, err)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(AppendBatch(nil, &Batch{Records: []Record{{Dataset: "d", ID: "i", Time: 1, Doc: []byte(`{}`)}}}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatch(data)
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip unchanged.
		again, err := DecodeBatch(AppendBatch(nil, &b))
		if err != nil || len(again.Records) != len(b.Records) {
			t.Fatalf("round trip failed: %v", err)
		}
		for i := range b.Records {
			if !bytes.Equal(again.Records[i].Doc, b.Records[i].Doc) || again.Records[i].ID != b.Records[i].ID {
				t.Fatalf("record %d changed in round trip", i)
			}
		}
	})
}
