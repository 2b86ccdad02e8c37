package ops

// Gather and GatherElements: read data at integer indices along one axis.
//
//	Gather(data [o.., d, i..], indices [q..]; axis) -> Y [o.., q.., i..]
//	    Y[o, q, i] = data[o, indices[q], i]         (an embedding lookup at axis 0)
//	    dData = zeros, then dData[o, indices[q], i] += dY[o, q, i]
//	GatherElements(data [r dims], indices [r dims]; axis) -> Y (indices' shape)
//	    Y[p] = data[p with p[axis] replaced by indices[p]]
//	    dData = zeros, then dData[p with p[axis] = indices[p]] += dY[p]
//	Indices are int64 or int32 in [-d, d-1] (negative ones count from the end);
//	repeated indices accumulate in backward.
//
// Gather copies whole rows of the inner block with copy().

import (
	"fmt"

	"ft/kernels"
	"ft/tensor"
)

func init() {
	Register("", "Gather", 1, func(n *Node) (Op, error) {
		return &opGather{mvNamed: mvName(n), axis: int(n.Int("axis", 0))}, nil
	})
	Register("", "GatherElements", 11, func(n *Node) (Op, error) {
		return &opGatherElements{mvNamed: mvName(n), axis: int(n.Int("axis", 0))}, nil
	})
}

// mvIndices reads an index tensor and maps it into [0, d), rejecting
// out-of-range values.
func mvIndices(t *tensor.Tensor, d int, what string) ([]int, error) {
	idx, err := mvInts(t, what)
	if err != nil {
		return nil, err
	}
	for k, i := range idx {
		if i < -d || i >= d {
			return nil, fmt.Errorf("%s value %d at position %d is out of range [%d, %d]", what, i, k, -d, d-1)
		}
		if i < 0 {
			idx[k] = i + d
		}
	}
	return idx, nil
}

// ---- Gather ----

type opGather struct {
	mvNamed
	axis int
}

type mvGatherPlan struct {
	idx               []int
	outer, dim, inner int
	shape             []int
}

func (o *opGather) plan(in []*tensor.Tensor) (mvGatherPlan, error) {
	x, it := in[0], mvOpt(in, 1)
	if it == nil {
		return mvGatherPlan{}, o.errf("missing input indices")
	}
	if x.Rank() == 0 {
		return mvGatherPlan{}, o.errf("cannot gather from a scalar")
	}
	axis, err := normAxis(o.axis, x.Rank())
	if err != nil {
		return mvGatherPlan{}, o.errf("%v", err)
	}
	p := mvGatherPlan{dim: x.Shape[axis], outer: tensor.Size(x.Shape[:axis]), inner: tensor.Size(x.Shape[axis+1:])}
	if p.idx, err = mvIndices(it, p.dim, "indices"); err != nil {
		return mvGatherPlan{}, o.errf("%v (axis %d of data shape %v)", err, axis, x.Shape)
	}
	p.shape = append(append(append([]int{}, x.Shape[:axis]...), it.Shape...), x.Shape[axis+1:]...)
	return p, nil
}

func (mvKern[T]) gather(dt, st *tensor.Tensor, idx []int, outer, dim, inner int) {
	dst, src := tensor.Data[T](dt), tensor.Data[T](st)
	// row r = b·len(idx) + k of dst is row idx[k] of block b of src
	body := func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, k := r/len(idx), r%len(idx)
			s := (b*dim + idx[k]) * inner
			copy(dst[r*inner:(r+1)*inner], src[s:s+inner])
		}
	}
	rows := outer * len(idx)
	if inner == 1 {
		o := 0
		for b := 0; b < outer; b++ {
			base := b * dim
			for _, i := range idx {
				dst[o] = src[base+i]
				o++
			}
		}
		return
	}
	if rows*inner < mvParallelMin {
		body(0, rows)
		return
	}
	kernels.ParallelFor(rows, kernels.Grain(rows, inner), body)
}

func (o *opGather) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	p, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	m, err := mvMoverOf(in[0])
	if err != nil {
		return nil, o.errf("%v", err)
	}
	y := tensor.Zeros(in[0].DType(), p.shape...)
	m.gather(y, in[0], p.idx, p.outer, p.dim, p.inner)
	return single(y)
}

// Backward: scatter-add dY's rows into a zero table (duplicates accumulate).
func (o *opGather) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g, more := scatterGrad(in, dout, need)
	if !more {
		return g, nil
	}
	x := in[0]
	p, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tensor.Float32:
		mvGatherAdd(g[0].F32(), dout[0].F32(), p)
	case tensor.Float64:
		mvGatherAdd(g[0].F64(), dout[0].F64(), p)
	default:
		return nil, o.errf("%v", errDType("Gather backward", x))
	}
	return g, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (o *opGather) Saves([]bool) (ins, outs []int) { return nil, nil }

func mvGatherAdd[T tensor.Float](g, dy []T, p mvGatherPlan) {
	o := 0
	for b := 0; b < p.outer; b++ {
		base := b * p.dim * p.inner
		for _, i := range p.idx {
			row := g[base+i*p.inner : base+(i+1)*p.inner]
			for j, v := range dy[o : o+p.inner] {
				row[j] += v
			}
			o += p.inner
		}
	}
}

// ---- GatherElements ----

type opGatherElements struct {
	mvNamed
	axis int
}

// plan checks the inputs and returns the normalised indices, the strides that
// walk indices' shape through data with the axis left out, and the axis stride.
func (o *opGatherElements) plan(in []*tensor.Tensor) (idx, baseSt []int, axisStride int, err error) {
	x, it := in[0], mvOpt(in, 1)
	if it == nil {
		return nil, nil, 0, o.errf("missing input indices")
	}
	r := x.Rank()
	if r == 0 || it.Rank() != r {
		return nil, nil, 0, o.errf("data %v and indices %v must have the same rank >= 1", x.Shape, it.Shape)
	}
	axis, err := normAxis(o.axis, r)
	if err != nil {
		return nil, nil, 0, o.errf("%v", err)
	}
	for a, d := range it.Shape {
		if a != axis && d > x.Shape[a] {
			return nil, nil, 0, o.errf("indices shape %v exceeds data shape %v on axis %d", it.Shape, x.Shape, a)
		}
	}
	if idx, err = mvIndices(it, x.Shape[axis], "indices"); err != nil {
		return nil, nil, 0, o.errf("%v (axis %d of data shape %v)", err, axis, x.Shape)
	}
	baseSt = tensor.Strides(x.Shape)
	axisStride = baseSt[axis]
	baseSt[axis] = 0
	return idx, baseSt, axisStride, nil
}

func (mvKern[T]) gatherElements(dt, st *tensor.Tensor, idx []int, idxShape, baseSt []int, axisStride int) {
	dst, src := tensor.Data[T](dt), tensor.Data[T](st)
	it := tensor.NewIndex(idxShape, baseSt)
	o := 0
	for it.Next() {
		b, s := it.Off[0], it.InnerStride[0]
		for j := 0; j < it.Inner; j++ {
			dst[o] = src[b+idx[o]*axisStride]
			b += s
			o++
		}
	}
}

func (o *opGatherElements) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	idx, baseSt, as, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	m, err := mvMoverOf(in[0])
	if err != nil {
		return nil, o.errf("%v", err)
	}
	y := tensor.Zeros(in[0].DType(), in[1].Shape...)
	m.gatherElements(y, in[0], idx, in[1].Shape, baseSt, as)
	return single(y)
}

// Backward: dData[p with p[axis] = indices[p]] += dY[p].
func (o *opGatherElements) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g, more := scatterGrad(in, dout, need)
	if !more {
		return g, nil
	}
	x := in[0]
	idx, baseSt, as, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tensor.Float32:
		mvGatherElementsAdd(g[0].F32(), dout[0].F32(), idx, in[1].Shape, baseSt, as)
	case tensor.Float64:
		mvGatherElementsAdd(g[0].F64(), dout[0].F64(), idx, in[1].Shape, baseSt, as)
	default:
		return nil, o.errf("%v", errDType("GatherElements backward", x))
	}
	return g, nil
}

func mvGatherElementsAdd[T tensor.Float](g, dy []T, idx, idxShape, baseSt []int, axisStride int) {
	it := tensor.NewIndex(idxShape, baseSt)
	o := 0
	for it.Next() {
		b, s := it.Off[0], it.InnerStride[0]
		for j := 0; j < it.Inner; j++ {
			g[b+idx[o]*axisStride] += dy[o]
			b += s
			o++
		}
	}
}
