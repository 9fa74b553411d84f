package decode

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchBody is 1000 NDJSON records of ~1.5 KB with varying values.
func benchBody() []byte {
	var b bytes.Buffer
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, `{"RayID":"%016x","ClientIP":"192.0.%d.%d","EdgeStartTimestamp":%d,"ClientRequestURI":"/p/%d?q=%x","Pad":"%s"}`+"\n",
			uint64(i)*0x9e3779b97f4a7c15, i%256, i*7%256, 1717171717000000000+int64(i)*1e6, i*31, i*i, bytes.Repeat([]byte{'a' + byte(i%26)}, 1300))
	}
	return b.Bytes()
}

// BenchmarkDecode: gunzip + chunking + line splitting of one upload, no HTTP.
func BenchmarkDecode(b *testing.B) {
	raw := benchBody()
	for _, tc := range []struct {
		name string
		body []byte
	}{{"plain", raw}, {"gzip", gz(b, string(raw))}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				z, err := NewReader(bytes.NewReader(tc.body), "", 1<<30)
				if err != nil {
					b.Fatal(err)
				}
				cr := NewChunkReader(z, DefaultChunkBytes, DefaultMaxLine)
				cr.SizeHint(int64(len(raw)))
				lines := 0
				for {
					c, err := cr.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					_ = Lines(c.Data, DefaultMaxLine, func(int, []byte, error) error { lines++; return nil })
				}
				z.Close()
				if lines != 1000 {
					b.Fatalf("%d lines", lines)
				}
			}
			b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
