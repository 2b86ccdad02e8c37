package graph

import (
	"ft/tensor"
)

// Buffer reuse in training steps (Forward + Backward). A training forward
// hands back, like Run, the float32 buffers of values whose last use has
// run and that the trace did not keep; Backward hands back each node's
// saved activations and its output gradients once the node is done. The
// next node or step of the same sizes takes them (kernels.GetF32) instead
// of fresh zeroed memory. A buffer goes back only if nothing can still
// reach it: its backing array overlaps no live value, no activation a node
// still to run backward keeps, no gradient still held (those returned to
// the caller included), no constant or parameter, no feed, no requested
// output and no seed. Views (Reshape, Identity, ...) share backing arrays,
// so the test is on address ranges, not on tensors. FT_NOPOOL=1 turns it
// off with the pool.

// addrRange is the address range [lo, hi) of a float32 backing array.
type addrRange struct{ lo, hi uintptr }

func spanOfT(t *tensor.Tensor) (addrRange, bool) {
	if t == nil {
		return addrRange{}, false
	}
	d, ok := t.Data.([]float32)
	if !ok || cap(d) == 0 {
		return addrRange{}, false
	}
	lo, hi := span(d)
	return addrRange{lo, hi}, true
}

func (s addrRange) overlaps(o addrRange) bool { return s.lo < o.hi && o.lo < s.hi }

func overlapsAny(s addrRange, ts []*tensor.Tensor) bool {
	for _, u := range ts {
		if o, ok := spanOfT(u); ok && s.overlaps(o) {
			return true
		}
	}
	return false
}

func overlapsSpans(s addrRange, ss []addrRange) bool {
	for _, o := range ss {
		if s.overlaps(o) {
			return true
		}
	}
	return false
}

// fixedSpans lists what a step must never recycle whatever the trace
// holds: constants, parameters and feeds.
func (g *Graph) fixedSpans(feeds map[string]*tensor.Tensor) []addrRange {
	var ss []addrRange
	add := func(t *tensor.Tensor) {
		if s, ok := spanOfT(t); ok {
			ss = append(ss, s)
		}
	}
	for _, v := range g.Values {
		add(v.Const)
	}
	for _, p := range g.Params {
		add(p.Value)
	}
	for _, f := range feeds {
		add(f)
	}
	return ss
}

// poolable says whether t's buffer is long enough for the pool to keep it
// (the liveness test is only worth running then).
func (g *Graph) poolable(t *tensor.Tensor) ([]float32, bool) {
	if t == nil {
		return nil, false
	}
	d, ok := t.Data.([]float32)
	return d, ok && cap(d) > 0 && g.opt.Pool.Keeps(cap(d))
}

// countFresh counts, for the quota of buffers Backward hands back, the
// float32 outputs of a forward node that are new buffers (not views of an
// input) by length.
func (t *Trace) countFresh(in, out []*tensor.Tensor) {
	for _, o := range out {
		d, ok := t.g.poolable(o)
		if !ok {
			continue
		}
		s, _ := spanOfT(o)
		if !overlapsAny(s, in) {
			t.quota[cap(d)]++
		}
	}
}

// Options.PoolBackward turns on handing buffers back during Backward
// (FT_POOL_BACKWARD=1 for ft; tests set it). Off by default: backward ops take
// their outputs from make, not from the pool, so buffers handed back
// during Backward sit idle until the next step's forward while backward
// allocates afresh, and the garbage collector's headroom on that larger
// live heap raised the peak RSS of a MiniLM b32 s128 step from 1.8 to
// 2.4 GB. Once backward ops take gradient buffers from kernels.GetF32,
// the buffers cycle within Backward and this can default to on.

// releaser hands back, during Backward, the buffers of a finished node.
type releaser struct {
	t     *Trace
	fixed []addrRange // constants, parameters, feeds, requested outputs, seeds
	grad  []*tensor.Tensor
}

// release puts back the buffers of cands (a node's saved activations and
// its output gradients, already dropped from the trace and from grad) that
// nothing still reachable overlaps; node is the one just done: nodes
// before it have yet to run backward.
func (r *releaser) release(cands []*tensor.Tensor, node int) {
	if !r.t.g.opt.PoolBackward {
		return
	}
	var put []addrRange
	for _, c := range cands {
		d, ok := r.t.g.poolable(c)
		if !ok {
			continue
		}
		s, _ := spanOfT(c)
		if overlapsSpans(s, put) || overlapsSpans(s, r.fixed) || overlapsAny(s, r.grad) {
			continue
		}
		live := false
		for j := node - 1; j >= 0 && !live; j-- {
			live = overlapsAny(s, r.t.ins[j]) || overlapsAny(s, r.t.outs[j])
		}
		if live {
			continue
		}
		// Hand back no more buffers of a length than the forward of this
		// step kept (took new and did not recycle itself): the next step
		// of the same shapes takes those; more would only sit in the pool
		// while backward allocates, raising peak memory.
		if r.t.quota[cap(d)] <= 0 {
			continue
		}
		r.t.quota[cap(d)]--
		put = append(put, s)
		r.t.g.opt.Pool.Put(d)
	}
}

// ReleaseGradients hands the float32 buffers of gradients that Backward
// returned back to the pool, for the next step's forward to take. Call it
// only when nothing holds them any more (after the optimizer step that
// read them, with the map about to be cleared); gradients that overlap a
// constant or parameter, or one already handed back, are left alone.
func (g *Graph) ReleaseGradients(grads map[*Param]*tensor.Tensor) {
	fixed := g.fixedSpans(nil)
	for _, x := range grads {
		d, ok := g.poolable(x)
		if !ok {
			continue
		}
		s, _ := spanOfT(x)
		if overlapsSpans(s, fixed) {
			continue
		}
		fixed = append(fixed, s)
		g.opt.Pool.Put(d)
	}
}
