package kernels

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Float32 buffers by exact length, for the outputs of the hot forward ops:
// a graph run hands back (Pool.Put) the buffers of values no one uses any
// more, so the next run, or a later node of the same size, takes them
// (GetF32) instead of asking the runtime for fresh zeroed memory. The free
// buffers are held in sync.Pools, emptied by the garbage collector: they
// never hold memory for long. Buffers from GetF32 are not zeroed: only
// outputs that are written whole may use it.
//
// What goes back is decided by a Pool, held by whoever runs (graph.Options):
// there is no package-level switch. GetF32 takes whatever any Pool handed
// back.

// DefaultPoolMinLen is the shortest buffer a Pool hands back unless its
// MinLen says otherwise; shorter ones are cheap to make.
const DefaultPoolMinLen = 1 << 14

// Pool is the policy for handing float32 buffers back for reuse. The zero
// Pool hands back buffers of DefaultPoolMinLen elements or more. A Pool's
// fields are set before it is first used and not changed after; a Pool may
// then be used from any number of goroutines.
type Pool struct {
	// Off hands nothing back (less memory held between runs, more
	// allocation).
	Off bool
	// MinLen is the shortest buffer handed back (0: DefaultPoolMinLen).
	// Tests lower it to 1 to exercise the pool on small models.
	MinLen int
	// Poison (tests) overwrites every buffer handed back with NaN, kept
	// or not: a buffer recycled while something still reads it then shows
	// up as NaN in that reader's results. Kept buffers then go on a plain
	// free list that the garbage collector does not empty (reuse is the
	// same from run to run), and a buffer handed back twice without being
	// taken in between panics.
	Poison bool

	puts atomic.Int64
}

// Enabled says whether p keeps any buffer at all (false with Off), so a
// caller may skip its liveness bookkeeping. A nil Pool is the zero Pool.
func (p *Pool) Enabled() bool { return p == nil || !p.Off }

// Keeps says whether Put keeps a buffer of capacity n. A nil Pool is the
// zero Pool.
func (p *Pool) Keeps(n int) bool {
	if p == nil {
		return n >= DefaultPoolMinLen
	}
	if !p.Enabled() || n == 0 {
		return false
	}
	if p.MinLen > 0 {
		return n >= p.MinLen
	}
	return n >= DefaultPoolMinLen
}

// Puts counts the buffers p has kept (for tests).
func (p *Pool) Puts() int64 {
	if p == nil {
		return 0
	}
	return p.puts.Load()
}

// Put hands b back for reuse if p keeps buffers of its capacity; the caller
// guarantees nothing refers to its backing array any more.
func (p *Pool) Put(b []float32) {
	b = b[:cap(b)]
	poison := p != nil && p.Poison
	if poison {
		nan := float32(math.NaN())
		for i := range b {
			b[i] = nan
		}
	}
	if !p.Keeps(len(b)) {
		return
	}
	if p != nil {
		p.puts.Add(1)
	}
	noteLen(len(b))
	if poison {
		putKept(b)
		return
	}
	poolFor(len(b)).Put(&b)
}

var (
	poolMu sync.Mutex
	pools  = map[int]*sync.Pool{}
	// minPut is the shortest length ever handed back: GetF32 looks for
	// nothing shorter.
	minPut atomic.Int64
	// kept: buffers from poisoning Pools, which the garbage collector does
	// not empty; nKept counts them.
	keptMu sync.Mutex
	kept   = map[int][]*[]float32{}
	nKept  atomic.Int64
)

func init() { minPut.Store(math.MaxInt64) }

func noteLen(n int) {
	for {
		m := minPut.Load()
		if int64(n) >= m || minPut.CompareAndSwap(m, int64(n)) {
			return
		}
	}
}

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

// GetF32 returns a float32 slice of length n with arbitrary contents: a
// buffer some Pool handed back if one of that length is free, else a new
// one.
func GetF32(n int) []float32 {
	if n <= 0 || int64(n) < minPut.Load() {
		return make([]float32, n)
	}
	if nKept.Load() > 0 {
		if b := takeKept(n); b != nil {
			return b
		}
	}
	if b, ok := poolFor(n).Get().(*[]float32); ok {
		return (*b)[:n]
	}
	return make([]float32, n)
}

func takeKept(n int) []float32 {
	keptMu.Lock()
	defer keptMu.Unlock()
	l := kept[n]
	if len(l) == 0 {
		return nil
	}
	b := l[len(l)-1]
	kept[n] = l[:len(l)-1]
	nKept.Add(-1)
	return (*b)[:n]
}

// putKept puts b on the free list of kept buffers, panicking if it
// overlaps one already there (a buffer handed back twice).
func putKept(b []float32) {
	keptMu.Lock()
	defer keptMu.Unlock()
	lo := uintptr(unsafe.Pointer(&b[0]))
	hi := lo + uintptr(len(b))*4
	for _, l := range kept {
		for _, f := range l {
			a := uintptr(unsafe.Pointer(&(*f)[0]))
			if a < hi && lo < a+uintptr(len(*f))*4 {
				panic("kernels.Pool.Put: a buffer handed back twice")
			}
		}
	}
	kept[len(b)] = append(kept[len(b)], &b)
	nKept.Add(1)
}
