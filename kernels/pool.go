package kernels

import (
	"math"
	"os"
	"sync"
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
		if b, ok := poolFor(n).Get().(*[]float32); ok {
			return (*b)[:n]
		}
	}
	return make([]float32, n)
}

// PutF32 hands b back for reuse; the caller guarantees nothing refers to
// its backing array any more.
func PutF32(b []float32) {
	b = b[:cap(b)]
	if len(b) < PoolMinLen || len(b) == 0 {
		return
	}
	poolFor(len(b)).Put(&b)
}
