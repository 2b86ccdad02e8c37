// Package kernels holds ft's hot numeric loops: the one GEMM entry point that
// every matrix product in forward and backward goes through, the row kernels
// (bias, GELU, softmax, layer norm, Exp32), the shared parallel-for, which
// carries a body's panic back to its caller (Panic), and the float32 buffer
// pool whose policy a Pool sets. Work is split into fixed chunks that do not
// depend on the number of threads, so the same inputs give the same bits on
// any machine.
package kernels

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

var (
	poolOnce sync.Once
	work     chan func()
	workers  int
)

// Workers returns the number of goroutines of the shared pool.
func Workers() int {
	poolOnce.Do(startPool)
	return workers
}

func startPool() {
	workers = runtime.GOMAXPROCS(0)
	work = make(chan func(), 4*workers)
	for i := 0; i < workers; i++ {
		go func() {
			for f := range work {
				f()
			}
		}()
	}
}

// ParallelFor splits [0, n) into chunks of `grain` items (the last may be
// shorter) and calls body(lo, hi) for each chunk, on the calling goroutine
// and on the shared pool, returning when all are done. Chunk boundaries
// depend only on n and grain, so a body that writes disjoint outputs per
// chunk is deterministic. The caller takes chunks itself and waits only for
// chunks already started, so nested calls never deadlock. A body that
// panics, on any goroutine, makes ParallelFor panic on the caller with a
// *Panic (the rest of the chunks are skipped).
func ParallelFor(n, grain int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	chunks := (n + grain - 1) / grain
	if chunks == 1 || Workers() == 1 {
		for lo := 0; lo < n; lo += grain {
			if p := runChunk(body, lo, min(lo+grain, n)); p != nil {
				panic(p)
			}
		}
		return
	}
	var next, done atomic.Int64
	var failed atomic.Pointer[Panic]
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	runChunks := func() {
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks {
				return
			}
			if failed.Load() == nil { // after a panic, the rest are skipped
				lo := c * grain
				if p := runChunk(body, lo, min(lo+grain, n)); p != nil {
					failed.CompareAndSwap(nil, p)
				}
			}
			if done.Add(1) == int64(chunks) {
				mu.Lock()
				cond.Broadcast()
				mu.Unlock()
			}
		}
	}
	helpers := min(Workers(), chunks) - 1
	for i := 0; i < helpers; i++ {
		select {
		case work <- runChunks:
		default: // pool busy: the caller does the work
		}
	}
	runChunks()
	mu.Lock()
	for done.Load() < int64(chunks) {
		cond.Wait()
	}
	mu.Unlock()
	if p := failed.Load(); p != nil {
		panic(p)
	}
}

// Panic is what ParallelFor panics with, on the calling goroutine, when a
// body panicked (on a worker of the shared pool or on the caller): the
// value the body panicked with and the stack of the goroutine that ran
// it, taken where it panicked. A worker never lets a panic end the
// program; the caller gets it once every chunk already started is done.
// Error gives both, so an unrecovered Panic prints the body's file:line.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string {
	return fmt.Sprintf("%v\n\n[kernels.ParallelFor: the body panicked on this stack]\n%s", p.Value, p.Stack)
}

// Unwrap returns the value the body panicked with if it is an error (a
// *tensor.AllocError, say).
func (p *Panic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// runChunk runs body(lo, hi), returning what it panicked with (a nested
// ParallelFor's *Panic as it is).
func runChunk(body func(lo, hi int), lo, hi int) (p *Panic) {
	defer func() {
		if r := recover(); r != nil {
			if q, ok := r.(*Panic); ok {
				p = q
				return
			}
			p = &Panic{Value: r, Stack: debug.Stack()}
		}
	}()
	body(lo, hi)
	return nil
}

// Grain returns a chunk size for n items that costs about `cost` flops each,
// aiming at chunks of roughly 32k flops and at least one chunk per item group.
func Grain(n int, cost int) int {
	if cost < 1 {
		cost = 1
	}
	g := 32768 / cost
	if g < 1 {
		g = 1
	}
	if g > n {
		g = n
	}
	return g
}
