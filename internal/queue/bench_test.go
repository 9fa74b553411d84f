package queue

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkFsync is the floor under every Append on this disk: one small
// write plus fdatasync of an appended file.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "f"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for b.Loop() {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := datasync(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20} {
		for _, appenders := range []int{1, 8} {
			b.Run(fmt.Sprintf("size=%dKB/appenders=%d", size>>10, appenders), func(b *testing.B) {
				q, err := Open(Options{Dir: b.TempDir(), MaxBytes: 1 << 40})
				if err != nil {
					b.Fatal(err)
				}
				defer q.Close()
				entry := payload(1, size)
				var left atomic.Int64
				left.Store(int64(b.N))
				b.SetBytes(int64(size))
				b.ResetTimer()
				var wg sync.WaitGroup
				for range appenders {
					wg.Go(func() {
						for left.Add(-1) >= 0 {
							if err := q.Append(context.Background(), entry); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				st := q.Stats()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
				b.ReportMetric(float64(st.Entries)/float64(st.Commits), "entries/fsync")
			})
		}
	}
}

func BenchmarkRead(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("size=%dKB", size>>10), func(b *testing.B) {
			q, err := Open(Options{Dir: b.TempDir(), MaxBytes: 1 << 40})
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			r, err := q.Reader("bench")
			if err != nil {
				b.Fatal(err)
			}
			// Fill with concurrent appenders so setup does not take one fsync per entry.
			entry := payload(1, size)
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						if err := q.Append(context.Background(), entry); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.SetBytes(int64(size))
			b.ResetTimer()
			ctx := context.Background()
			for i := range b.N {
				e, err := r.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if i%100 == 99 || i == b.N-1 {
					if err := r.Commit(e.Pos); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
