package graph

import (
	"sort"
	"unsafe"

	"ft/tensor"
)

// Buffer reuse in forward runs (Run, and the forward of a training step).
// When a value's last use has run, its float32 buffer goes back to
// the graph's pool (Options.Pool), where the next output of that size takes
// it instead of fresh zeroed memory. Only a buffer nothing can still reach
// goes back: views (Reshape, Identity, Split, ...) share backing arrays,
// so values are grouped by shared memory, and a group's buffer goes back
// when its last member dies, unless the group touches a constant, a
// parameter or a feed, holds a control-flow result (If, Loop, Scan), or
// (training) holds something the trace keeps for backward.
//
// An op's output can only share memory with the op's inputs (ops keep no
// state between runs; see package ops) or with a constant, so the groups
// are built as nodes run: an output joins the group of every input or
// sibling output it overlaps, and is checked against the constants,
// parameters and feeds (sorted address ranges). Each step is a handful of
// comparisons per input and output: a run costs time linear in its size.
// With the pool off (Options.Pool.Off; FT_NOPOOL=1 for ft) none of it runs.

// span is the address range of d's backing array.
func span(d []float32) (lo, hi uintptr) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(d)))
	return p, p + uintptr(cap(d))*4
}

// spanIndex answers "does this range overlap any of a fixed set of
// ranges" in O(log n): ranges sorted by start, with the running maximum of
// their ends.
type spanIndex struct {
	lo, maxHi []uintptr
}

func newSpanIndex(ss []addrRange) spanIndex {
	sort.Slice(ss, func(i, j int) bool { return ss[i].lo < ss[j].lo })
	x := spanIndex{lo: make([]uintptr, len(ss)), maxHi: make([]uintptr, len(ss))}
	var m uintptr
	for i, s := range ss {
		m = max(m, s.hi)
		x.lo[i], x.maxHi[i] = s.lo, m
	}
	return x
}

func (x spanIndex) overlaps(s addrRange) bool {
	j := sort.Search(len(x.lo), func(i int) bool { return x.lo[i] >= s.hi }) // ranges before j start below s.hi
	return j > 0 && x.maxHi[j-1] > s.lo
}

// aliases tracks, during one forward, which values share memory.
type aliases struct {
	g      *Graph
	tr     *Trace // nil for Run
	fixed  spanIndex
	group  []int32 // per value: its group, -1 for none (not a float32 node output)
	parent []int32 // per group: union-find parent
	live   []int32 // per root group: members not yet dead
	pinned []bool  // per root group: never handed back
}

// newAliases starts the tracking for a forward, or returns nil when the
// pool is off.
func (g *Graph) newAliases(feeds map[string]*tensor.Tensor, tr *Trace) *aliases {
	if !g.opt.Pool.Enabled() {
		return nil
	}
	var fixed []addrRange
	if tr != nil {
		fixed = append(fixed, tr.fixed...)
	} else {
		fixed = g.fixedSpans(feeds)
	}
	a := &aliases{g: g, tr: tr, fixed: newSpanIndex(fixed), group: make([]int32, len(g.Values))}
	for i := range a.group {
		a.group[i] = -1
	}
	return a
}

func (a *aliases) find(x int32) int32 {
	for a.parent[x] != x {
		a.parent[x] = a.parent[a.parent[x]]
		x = a.parent[x]
	}
	return x
}

func (a *aliases) union(x, y int32) int32 {
	x, y = a.find(x), a.find(y)
	if x == y {
		return x
	}
	a.parent[y] = x
	a.live[x] += a.live[y]
	a.pinned[x] = a.pinned[x] || a.pinned[y]
	return x
}

// produced records the outputs of node i (inputs in, outputs out; extras
// beyond the node's declared outputs are not values).
func (a *aliases) produced(n *Node, in, out []*tensor.Tensor) {
	control := false
	switch n.OpType {
	case "If", "Loop", "Scan":
		control = true
	}
	for k, id := range n.Out {
		if id < 0 || k >= len(out) {
			continue
		}
		s, ok := spanOfT(out[k])
		if !ok {
			continue
		}
		g := int32(len(a.parent))
		a.parent = append(a.parent, g)
		a.live = append(a.live, 1)
		a.pinned = append(a.pinned, control || a.fixed.overlaps(s))
		for j, x := range in {
			if o, ok := spanOfT(x); ok && s.overlaps(o) {
				if src := n.In[j]; src >= 0 && a.group[src] >= 0 {
					g = a.union(g, a.group[src])
				} else {
					a.pinned[a.find(g)] = true // a constant, parameter or feed (or unknown): keep
				}
			}
		}
		for j, sib := range n.Out[:k] {
			if sib >= 0 && a.group[sib] >= 0 {
				if o, ok := spanOfT(out[j]); ok && s.overlaps(o) {
					g = a.union(g, a.group[sib])
				}
			}
		}
		a.group[id] = g
	}
}

// kept pins the groups of the values whose memory the trace keeps for
// node n's backward (kept: what it saved of in and out, extras included).
func (a *aliases) kept(n *Node, in, out []*tensor.Tensor, kept ...[]*tensor.Tensor) {
	for _, ks := range kept {
		for _, x := range ks {
			s, ok := spanOfT(x)
			if !ok {
				continue
			}
			for j, id := range n.In {
				if id >= 0 && a.group[id] >= 0 && j < len(in) {
					if o, ok := spanOfT(in[j]); ok && s.overlaps(o) {
						a.pinned[a.find(a.group[id])] = true
					}
				}
			}
			for j, id := range n.Out {
				if id >= 0 && a.group[id] >= 0 && j < len(out) {
					if o, ok := spanOfT(out[j]); ok && s.overlaps(o) {
						a.pinned[a.find(a.group[id])] = true
					}
				}
			}
		}
	}
}

// dead is called when value id has had its last use: its buffer goes back
// to the pool if it is the last live member of a group nothing else holds.
func (a *aliases) dead(vals []*tensor.Tensor, id int) {
	gi := a.group[id]
	if gi < 0 {
		return
	}
	r := a.find(gi)
	a.live[r]--
	if a.live[r] > 0 || a.pinned[r] {
		return
	}
	d, ok := a.g.poolable(vals[id])
	if !ok {
		return
	}
	if a.tr != nil {
		a.tr.quota[cap(d)]--
	}
	a.g.opt.Pool.Put(d)
}
