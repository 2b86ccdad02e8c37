package graph

import (
	"unsafe"

	"ft/tensor"
)

// recycle hands the float32 buffer of value id, whose last use has just
// run in a forward-only run (Run), back to kernels' pool (kernels.GetF32),
// where the next output of that size takes it instead of fresh zeroed
// memory. Only a buffer nothing can still reach goes back: the value was
// computed by a node (not a feed, constant or control-flow result), and its
// backing array overlaps no live value (views: Reshape, Identity), no
// constant or parameter and no feed.
func (g *Graph) recycle(vals []*tensor.Tensor, id int, feeds map[string]*tensor.Tensor) {
	t := vals[id]
	v := g.Values[id]
	if t == nil || v.Const != nil || v.Producer < 0 {
		return
	}
	switch g.Nodes[v.Producer].OpType {
	case "If", "Loop", "Scan":
		return
	}
	d, ok := g.poolable(t)
	if !ok {
		return
	}
	lo, hi := span(d)
	overlaps := func(u *tensor.Tensor) bool {
		if u == nil {
			return false
		}
		e, ok := u.Data.([]float32)
		if !ok || cap(e) == 0 {
			return false
		}
		a, b := span(e)
		return a < hi && lo < b
	}
	for j, u := range vals {
		if j != id && overlaps(u) {
			return
		}
	}
	for _, w := range g.Values {
		if overlaps(w.Const) {
			return
		}
	}
	for _, f := range feeds {
		if overlaps(f) {
			return
		}
	}
	g.opt.Pool.Put(d)
}

// span is the address range of d's backing array.
func span(d []float32) (lo, hi uintptr) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(d)))
	return p, p + uintptr(cap(d))*4
}
