package kernels

import (
	"math"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A pool of float32 buffers by exact length, for the outputs of the hot
// forward ops: a graph run hands back the buffers of values no one uses any
// more (graph.Run), so the next run, or a later node of the same size,
// takes them instead of asking the runtime for fresh zeroed memory. The
// pool is a set of sync.Pools, emptied by the garbage collector: it never
// holds memory for long. Buffers from GetF32 are not zeroed: only outputs
// that are written whole may use it.

// PoolMinLen is the shortest buffer the pool keeps; shorter ones come from
// make (tests lower it to exercise the pool on small models). FT_NOPOOL=1
// turns the pool off (less memory held between runs, more allocation).
var PoolMinLen = 1 << 14

func init() {
	if os.Getenv("FT_NOPOOL") != "" {
		PoolMinLen = math.MaxInt
	}
}

var (
	poolMu sync.Mutex
	pools  = map[int]*sync.Pool{}
)

func poolFor(n int) *sync.Pool {
	poolMu.Lock()
	defer poolMu.Unlock()
	p := pools[n]
	if p == nil {
		p = &sync.Pool{}
		pools[n] = p
	}
	return p
}

// GetF32 returns a float32 slice of length n with arbitrary contents.
func GetF32(n int) []float32 {
	if n >= PoolMinLen {
		if PoisonPut {
			testMu.Lock()
			defer testMu.Unlock()
			if l := testFree[n]; len(l) > 0 {
				b := l[len(l)-1]
				testFree[n] = l[:len(l)-1]
				return (*b)[:n]
			}
			return make([]float32, n)
		}
		if b, ok := poolFor(n).Get().(*[]float32); ok {
			return (*b)[:n]
		}
	}
	return make([]float32, n)
}

// PoisonPut (tests only) makes PutF32 overwrite every buffer handed back
// with NaN, pooled or not: a buffer recycled while something still reads it
// then shows up as NaN in that reader's results. The pool is then a plain
// free list that the garbage collector does not empty (reuse is the same
// from run to run) and a buffer handed back twice without being taken in
// between panics.
var PoisonPut bool

var (
	testMu   sync.Mutex
	testFree = map[int][]*[]float32{}
)

var puts atomic.Int64

// PoolPuts counts the buffers the pool has taken back (for tests).
func PoolPuts() int64 { return puts.Load() }

// PutF32 hands b back for reuse; the caller guarantees nothing refers to
// its backing array any more.
func PutF32(b []float32) {
	b = b[:cap(b)]
	if PoisonPut {
		nan := float32(math.NaN())
		for i := range b {
			b[i] = nan
		}
	}
	if len(b) < PoolMinLen || len(b) == 0 {
		return
	}
	puts.Add(1)
	if PoisonPut {
		testMu.Lock()
		defer testMu.Unlock()
		lo := uintptr(unsafe.Pointer(&b[0]))
		hi := lo + uintptr(len(b))*4
		for _, l := range testFree {
			for _, f := range l {
				a := uintptr(unsafe.Pointer(&(*f)[0]))
				if a < hi && lo < a+uintptr(len(*f))*4 {
					panic("kernels.PutF32: a buffer handed back twice")
				}
			}
		}
		testFree[len(b)] = append(testFree[len(b)], &b)
		return
	}
	poolFor(len(b)).Put(&b)
}
