package kernels

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelForNested: a body that calls ParallelFor again finishes (the
// waiting caller runs chunks itself) and every item runs exactly once.
func TestParallelForNested(t *testing.T) {
	var count atomic.Int64
	done := make(chan struct{})
	go func() {
		ParallelFor(64, 1, func(lo, hi int) {
			ParallelFor(100, 7, func(lo2, hi2 int) {
				count.Add(int64(hi2 - lo2))
			})
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("nested ParallelFor deadlocked")
	}
	if got := count.Load(); got != 6400 {
		t.Fatalf("ran %d items, want 6400", got)
	}
}

func TestParallelForCoversRange(t *testing.T) {
	for _, c := range []struct{ n, grain int }{{0, 3}, {1, 3}, {10, 3}, {1000, 1}, {7, 100}} {
		seen := make([]atomic.Int32, c.n)
		ParallelFor(c.n, c.grain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i].Add(1)
			}
		})
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("n=%d grain=%d: item %d ran %d times", c.n, c.grain, i, seen[i].Load())
			}
		}
	}
}

// TestPoolF32: a buffer handed back comes out again for the same length,
// others are fresh and zeroed.
func TestPoolF32(t *testing.T) {
	a := GetF32(PoolMinLen)
	a[0] = 7
	PutF32(a)
	b := GetF32(PoolMinLen) // most likely a again (sync.Pool may drop it)
	if len(b) != PoolMinLen {
		t.Fatalf("len %d", len(b))
	}
	c := GetF32(PoolMinLen + 1)
	if len(c) != PoolMinLen+1 || c[0] != 0 {
		t.Fatalf("fresh buffer: len %d, c[0] = %v", len(c), c[0])
	}
	s := GetF32(10)
	if len(s) != 10 {
		t.Fatalf("small buffer len %d", len(s))
	}
	PutF32(s) // ignored
}
