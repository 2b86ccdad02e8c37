package kernels

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// goid returns the current goroutine's id (from its stack header).
func goid() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	return string(bytes.Fields(b)[1])
}

type testErr struct{}

func (testErr) Error() string { return "test error" }

// TestParallelForPanicOnWorker: a body that panics on a worker goroutine
// of the pool does not end the program: ParallelFor panics on the caller,
// once started chunks are done, with a *Panic holding the value and the
// worker's stack (naming the body's line); errors.As finds an error value
// through it; the pool keeps working after.
func TestParallelForPanicOnWorker(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: every chunk runs on the caller")
	}
	caller := goid()
	var onWorker atomic.Int64
	var line atomic.Int64
	got := func() (r any) {
		defer func() { r = recover() }()
		ParallelFor(1000, 1, func(lo, hi int) {
			if goid() == caller {
				time.Sleep(time.Millisecond) // leave chunks to the workers
				return
			}
			onWorker.Add(1)
			_, _, l, _ := runtime.Caller(0)
			line.Store(int64(l + 2)) // the panic below
			panic(testErr{})
		})
		return nil
	}()
	p, ok := got.(*Panic)
	if !ok {
		t.Fatalf("recovered %T %v, want *kernels.Panic", got, got)
	}
	if onWorker.Load() == 0 {
		t.Fatal("no chunk ran on a worker")
	}
	var te testErr
	if p.Value != (testErr{}) || !errors.As(p, &te) {
		t.Fatalf("value %v, want testErr reachable by errors.As", p.Value)
	}
	want := "parallel_test.go:" + strconv.Itoa(int(line.Load()))
	if !strings.Contains(string(p.Stack), want) || !strings.Contains(p.Error(), want) {
		t.Fatalf("stack does not name %s:\n%s", want, p.Stack)
	}
	var n atomic.Int64
	ParallelFor(1000, 1, func(lo, hi int) { n.Add(int64(hi - lo)) })
	if n.Load() != 1000 {
		t.Fatalf("after a panic the pool ran %d of 1000 items", n.Load())
	}
}

// TestParallelForPanicNested: a panic in a nested loop reaches the outer
// caller as the inner *Panic, with the innermost stack.
func TestParallelForPanicNested(t *testing.T) {
	got := func() (r any) {
		defer func() { r = recover() }()
		ParallelFor(8, 1, func(lo, hi int) {
			ParallelFor(8, 1, func(lo2, hi2 int) {
				if lo == 3 && lo2 == 5 {
					panic("inner")
				}
			})
		})
		return nil
	}()
	p, ok := got.(*Panic)
	if !ok || p.Value != "inner" || !strings.Contains(string(p.Stack), "TestParallelForPanicNested.func") {
		t.Fatalf("recovered %T %v", got, got)
	}
}

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

// TestPoolF32: a buffer a Pool keeps comes out again for the same length,
// others are fresh and zeroed; a buffer shorter than MinLen, or any with
// the Pool off, is not kept.
func TestPoolF32(t *testing.T) {
	p := &Pool{}
	a := GetF32(DefaultPoolMinLen)
	a[0] = 7
	p.Put(a)
	if p.Puts() != 1 {
		t.Fatalf("%d buffers kept, want 1", p.Puts())
	}
	b := GetF32(DefaultPoolMinLen) // most likely a again (sync.Pool may drop it)
	if len(b) != DefaultPoolMinLen {
		t.Fatalf("len %d", len(b))
	}
	c := GetF32(DefaultPoolMinLen + 1)
	if len(c) != DefaultPoolMinLen+1 || c[0] != 0 {
		t.Fatalf("fresh buffer: len %d, c[0] = %v", len(c), c[0])
	}
	s := GetF32(10)
	if len(s) != 10 {
		t.Fatalf("small buffer len %d", len(s))
	}
	p.Put(s)                                // below MinLen: not kept
	(&Pool{Off: true}).Put(GetF32(1 << 20)) // off: not kept
	if (&Pool{Off: true}).Enabled() || !(*Pool)(nil).Enabled() || !p.Enabled() {
		t.Fatal("Enabled: want false only with Off")
	}
	if p.Puts() != 1 {
		t.Fatalf("%d buffers kept, want 1", p.Puts())
	}
}

// TestPoolPoison: a poisoning Pool fills what it gets with NaN, hands the
// same buffer out again for the same length, and panics on a buffer handed
// back twice.
func TestPoolPoison(t *testing.T) {
	p := &Pool{MinLen: 1, Poison: true}
	const n = 12345 // a length no other test uses
	a := GetF32(n)
	for i := range a {
		a[i] = 1
	}
	p.Put(a)
	if a[0] == a[0] || a[n-1] == a[n-1] {
		t.Fatalf("a buffer handed back is not NaN: %v %v", a[0], a[n-1])
	}
	b := GetF32(n)
	if &b[0] != &a[0] {
		t.Fatal("a kept buffer did not come out again")
	}
	p.Put(b)
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("a buffer handed back twice did not panic")
		}
		GetF32(n) // leave the free list as found
	}()
	p.Put(b[:10])
}

// avx512Paths returns the paths a kernel test runs — portable (false), then
// the CPU's own (true where it has AVX-512) — and restores hasAVX512 when
// tb ends; the test sets hasAVX512 to each in turn.
func avx512Paths(tb testing.TB) []bool {
	native := hasAVX512
	tb.Cleanup(func() { hasAVX512 = native })
	return []bool{false, native}
}

// benchPaths runs body as a sub-benchmark on each path of avx512Paths
// ("portable", "avx512"), reporting elems per run as Gelem/s.
func benchPaths(b *testing.B, elems int, body func()) {
	for _, avx := range avx512Paths(b) {
		hasAVX512 = avx
		b.Run(map[bool]string{false: "portable", true: "avx512"}[avx], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				body()
			}
			b.ReportMetric(float64(b.N*elems)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
