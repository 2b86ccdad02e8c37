package ops

// Expand and Tile: repeat the input.
//
//	Expand(X, shape [k]) -> Y of shape broadcast(X.shape, shape)    (numpy rules)
//	    dX = dY summed over the broadcast axes (SumToShape)
//	Tile(X [d_0..d_{r-1}], repeats [r]) -> Y [d_0·n_0, …, d_{r-1}·n_{r-1}]
//	    Y[i] = X[i mod d]: read as Y [n_0, d_0, n_1, d_1, …] broadcast from
//	    X [1, d_0, 1, d_1, …]; dX = dY as [n_0, d_0, …] summed over the n axes.
//
// Both are one strided copy with stride 0 along repeated axes (filled, or
// copied in runs when the innermost axis is not repeated).

import (
	"ft/tensor"
)

func init() {
	Register("", "Expand", 8, func(n *Node) (Op, error) { return &opExpand{mvName(n)}, nil })
	Register("", "Tile", 6, func(n *Node) (Op, error) { return &opTile{mvName(n)}, nil })
}

// ---- Expand ----

type opExpand struct{ mvNamed }

func (o *opExpand) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	shape, err := mvShapeInput(mvOpt(in, 1), "shape")
	if err != nil {
		return nil, o.errf("%v", err)
	}
	out, err := tensor.BroadcastShape(x.Shape, shape)
	if err != nil {
		return nil, o.errf("cannot expand shape %v to %v", x.Shape, shape)
	}
	if err := mvCheckAlloc(out); err != nil {
		return nil, o.errf("%v", err)
	}
	y, err := mvCopyStrided(x, 0, tensor.BroadcastStrides(x.Shape, out), out)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	return single(y)
}

// Backward: dX = dY summed over the axes X was broadcast along.
func (o *opExpand) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g := make([]*tensor.Tensor, len(in))
	if !need[0] {
		return g, nil
	}
	x := in[0]
	if !x.DType().IsFloat() {
		return nil, o.errf("%v", errDType("Expand backward", x))
	}
	if dout[0] == nil {
		g[0] = tensor.Zeros(x.DType(), x.Shape...)
		return g, nil
	}
	g[0] = SumToShape(dout[0], x.Shape)
	if g[0] == dout[0] {
		g[0] = dout[0].Clone()
	}
	return g, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (o *opExpand) Saves([]bool) (ins, outs []int) { return nil, nil }

// ---- Tile ----

type opTile struct{ mvNamed }

// view returns Y's shape and the interleaved [n_0, d_0, …] shape with X's
// strides for it.
func (o *opTile) view(in []*tensor.Tensor) (yShape, shape2, st2 []int, err error) {
	x := in[0]
	reps, err := mvInts(mvOpt(in, 1), "repeats")
	if err != nil {
		return nil, nil, nil, o.errf("%v", err)
	}
	if len(reps) != x.Rank() {
		return nil, nil, nil, o.errf("repeats %v has %d entries for an input of rank %d", reps, len(reps), x.Rank())
	}
	st := tensor.Strides(x.Shape)
	yShape = make([]int, len(reps))
	for a, n := range reps {
		if n < 0 {
			return nil, nil, nil, o.errf("repeats %v has a negative entry", reps)
		}
		yShape[a] = x.Shape[a] * n
		shape2 = append(shape2, n, x.Shape[a])
		st2 = append(st2, 0, st[a])
	}
	if err := mvCheckAlloc(shape2); err != nil {
		return nil, nil, nil, o.errf("%v", err)
	}
	return yShape, shape2, st2, nil
}

func (o *opTile) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	yShape, shape2, st2, err := o.view(in)
	if err != nil {
		return nil, err
	}
	y, err := mvCopyStrided(in[0], 0, st2, shape2)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	y.Shape = yShape
	return single(y)
}

// Backward: dX = Σ over the repeat axes of dY viewed as [n_0, d_0, n_1, d_1, …].
func (o *opTile) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g := make([]*tensor.Tensor, len(in))
	if !need[0] {
		return g, nil
	}
	x := in[0]
	if !x.DType().IsFloat() {
		return nil, o.errf("%v", errDType("Tile backward", x))
	}
	if dout[0] == nil {
		g[0] = tensor.Zeros(x.DType(), x.Shape...)
		return g, nil
	}
	_, shape2, _, err := o.view(in)
	if err != nil {
		return nil, err
	}
	to := make([]int, len(shape2))
	for a := range to {
		to[a] = 1
		if a%2 == 1 {
			to[a] = shape2[a]
		}
	}
	s := SumToShape(&tensor.Tensor{Shape: shape2, Data: dout[0].Data}, to)
	g[0] = mvReshapeCopy(s, x.Shape)
	return g, nil
}
