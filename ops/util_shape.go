package ops

// Shared helpers of the data-movement ops (Reshape, Transpose, Concat, Slice,
// Gather, Pad, ...).
//
// Data movement works on every element type. Each kernel is written once as a
// method of mvKern[T] and reached through the mvMover interface: an op picks the
// mvMover for its tensor's element type once (mvMoverOf), then the kernel loops
// over typed slices, copying contiguous runs with copy() where it can. There
// is never an interface or closure call per element.

import (
	"fmt"

	"ft/kernels"
	"ft/tensor"
)

// mvMover is the set of typed data-movement kernels for one element type. The
// tensors handed to a mvMover's methods all hold that element type.
type mvMover interface {
	// strided copies the elements of src at offset sOff with strides sSt into
	// dst at offset dOff with strides dSt, walking shape in row-major order.
	strided(dst *tensor.Tensor, dOff int, dSt []int, src *tensor.Tensor, sOff int, sSt []int, shape []int)
	// concat writes srcs side by side into dst: dst is [outer, Σ sizes] and
	// srcs[k] is [outer, sizes[k]] (flat views).
	concat(dst *tensor.Tensor, srcs []*tensor.Tensor, outer int, sizes []int)
	// split is the inverse of concat.
	split(src *tensor.Tensor, dsts []*tensor.Tensor, outer int, sizes []int)
	// gather: data [outer, dim, inner], idx already checked and made
	// non-negative, dst [outer, len(idx), inner].
	gather(dst, data *tensor.Tensor, idx []int, outer, dim, inner int)
	// gatherElements reads dst[p] = data[base(p) + idx[p]*axisStride], where
	// the walk over idxShape with strides baseSt yields base(p).
	gatherElements(dst, data *tensor.Tensor, idx []int, idxShape, baseSt []int, axisStride int)
	// scatterND copies update rows of length `row` into dst at offsets.
	scatterND(dst, upd *tensor.Tensor, offs []int, row int)
	// fill sets every element of dst to v's first element.
	fill(dst, v *tensor.Tensor)
	// pad writes src (shape sShape) into dst (shape dShape) through per-axis
	// maps: maps[a][i] is the source index along axis a of destination index
	// i, or -1 for the constant cv (v's first element, or zero if v is nil).
	pad(dst *tensor.Tensor, dShape []int, src *tensor.Tensor, sShape []int, maps [][]int, v *tensor.Tensor)
	// trilu copies the kept triangle of each trailing [n, m] matrix of src.
	trilu(dst, src *tensor.Tensor, n, m, k int, upper bool)
	// nonzero returns the flat offsets of the non-zero elements of src.
	nonzero(src *tensor.Tensor) []int
}

type mvKern[T tensor.Elem] struct{}

// mvMoverOf returns the kernels for t's element type.
func mvMoverOf(t *tensor.Tensor) (mvMover, error) {
	switch t.Data.(type) {
	case []float32:
		return mvKern[float32]{}, nil
	case []float64:
		return mvKern[float64]{}, nil
	case []int64:
		return mvKern[int64]{}, nil
	case []int32:
		return mvKern[int32]{}, nil
	case []bool:
		return mvKern[bool]{}, nil
	case []uint8:
		return mvKern[uint8]{}, nil
	case []int8:
		return mvKern[int8]{}, nil
	}
	return nil, fmt.Errorf("element type %s is not supported", t.DType())
}

// mvNamed carries a node's identity so that Forward errors say where they come from.
type mvNamed struct{ node *Node }

func mvName(n *Node) mvNamed { c := *n; return mvNamed{&c} }

func (b mvNamed) errf(format string, args ...any) error { return b.node.Errorf(format, args...) }

// mvCoalesce drops size-1 axes and merges neighbouring axes that are
// contiguous in every operand, so that kernels walk as few, as long runs as
// possible. It returns new slices.
func mvCoalesce(shape []int, strides ...[]int) ([]int, [][]int) {
	ns := make([]int, 0, len(shape))
	nst := make([][]int, len(strides))
	for k := range nst {
		nst[k] = make([]int, 0, len(shape))
	}
	for a, d := range shape {
		if d == 1 {
			continue
		}
		if m := len(ns); m > 0 {
			merge := true
			for k := range strides {
				if nst[k][m-1] != strides[k][a]*d {
					merge = false
					break
				}
			}
			if merge {
				ns[m-1] *= d
				for k := range strides {
					nst[k][m-1] = strides[k][a]
				}
				continue
			}
		}
		ns = append(ns, d)
		for k := range strides {
			nst[k] = append(nst[k], strides[k][a])
		}
	}
	return ns, nst
}

func (mvKern[T]) strided(dt *tensor.Tensor, dOff int, dSt []int, st *tensor.Tensor, sOff int, sSt []int, shape []int) {
	dst, src := tensor.Data[T](dt), tensor.Data[T](st)
	if tensor.Size(shape) == 0 {
		return
	}
	shape, ss := mvCoalesce(shape, dSt, sSt)
	if len(shape) == 0 {
		dst[dOff] = src[sOff]
		return
	}
	dSt, sSt = ss[0], ss[1]
	last := len(shape) - 1
	n, di, si := shape[last], dSt[last], sSt[last]
	// runs [lo, hi) of the outer positions; each writes its own elements of
	// dst, so chunks can run in parallel and give the same bits.
	body := func(lo, hi int) {
		it := tensor.NewIndex(shape, dSt, sSt)
		it.Seek(lo)
		for run := lo; run < hi; run++ {
			d0, s0 := dOff+it.Off[0], sOff+it.Off[1]
			it.Next()
			switch {
			case di == 1 && si == 1:
				copy(dst[d0:d0+n], src[s0:s0+n])
			case di == 1 && si == 0:
				v, d := src[s0], dst[d0:d0+n]
				for j := range d {
					d[j] = v
				}
			default:
				for j, o, p := 0, d0, s0; j < n; j++ {
					dst[o] = src[p]
					o += di
					p += si
				}
			}
		}
	}
	runs := tensor.Size(shape[:last])
	if runs*n < mvParallelMin {
		body(0, runs)
		return
	}
	kernels.ParallelFor(runs, kernels.Grain(runs, n), body)
}

// mvParallelMin is the element count from which copies use the shared pool.
const mvParallelMin = 1 << 16

// mvCopyStrided returns a new contiguous tensor of shape `shape` read from src
// at offset off with strides st.
func mvCopyStrided(src *tensor.Tensor, off int, st []int, shape []int) (*tensor.Tensor, error) {
	m, err := mvMoverOf(src)
	if err != nil {
		return nil, err
	}
	out := tensor.Zeros(src.DType(), shape...)
	m.strided(out, 0, tensor.Strides(shape), src, off, st, shape)
	return out, nil
}

func (mvKern[T]) fill(dt, v *tensor.Tensor) {
	d := tensor.Data[T](dt)
	x := tensor.Data[T](v)[0]
	for i := range d {
		d[i] = x
	}
}

// mvReshapeCopy returns t with a new shape of the same size, sharing t's
// data (a view): values are never modified in place once computed, so the
// Reshape family costs no copy and keeps no second activation for backward.
func mvReshapeCopy(t *tensor.Tensor, shape []int) *tensor.Tensor {
	return &tensor.Tensor{Shape: append([]int(nil), shape...), Data: t.Data}
}

// mvGradOf returns a private copy of g reshaped to shape, or zeros of dt if g
// is nil (an output that does not reach the loss).
func mvGradOf(g *tensor.Tensor, dt tensor.DType, shape []int) *tensor.Tensor {
	if g == nil {
		return tensor.Zeros(dt, shape...)
	}
	return mvReshapeCopy(g, shape)
}

// mvInts reads an int64 or int32 index/shape tensor as ints.
func mvInts(t *tensor.Tensor, what string) ([]int, error) {
	if t == nil {
		return nil, fmt.Errorf("%s is missing", what)
	}
	v, err := t.Ints()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	return v, nil
}

// mvScalarInt reads a scalar (or one-element) int64/int32 tensor.
func mvScalarInt(t *tensor.Tensor, what string) (int, error) {
	v, err := mvInts(t, what)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("%s must hold one value, has shape %v", what, t.Shape)
	}
	return v[0], nil
}

// mvShapeInput reads a 1-D shape tensor and checks its dims are >= 0.
func mvShapeInput(t *tensor.Tensor, what string) ([]int, error) {
	v, err := mvInts(t, what)
	if err != nil {
		return nil, err
	}
	if t.Rank() > 1 {
		return nil, fmt.Errorf("%s must be 1-D, has shape %v", what, t.Shape)
	}
	for _, d := range v {
		if d < 0 {
			return nil, fmt.Errorf("%s %v has a negative dimension", what, v)
		}
	}
	return v, nil
}

// mvAxes normalises axes against rank, rejecting out-of-range and repeated ones.
func mvAxes(axes []int, rank int) ([]int, error) {
	r := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		n, err := normAxis(a, rank)
		if err != nil || rank == 0 {
			return nil, fmt.Errorf("axis %d out of range for rank %d", a, rank)
		}
		if seen[n] {
			return nil, fmt.Errorf("axis %d repeated in %v", a, axes)
		}
		seen[n] = true
		r[i] = n
	}
	return r, nil
}

func mvInts64(v []int64) []int {
	r := make([]int, len(v))
	for i, x := range v {
		r[i] = int(x)
	}
	return r
}

// mvOpt returns in[i], or nil if absent.
func mvOpt(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}
