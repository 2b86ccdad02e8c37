package ops

// Add, Sub, Mul, Div: numpy-broadcast binary arithmetic.
//
//	C = A op B, shapes broadcast; backward sums each gradient back over the
//	axes its input was broadcast along (SumToShape).
//	dA = dC (Add, Sub) · B (Mul) · 1/B (Div)
//	dB = dC (Add) · -dC (Sub) · A (Mul) · -dC·A/B² (Div)

import (
	"ft/tensor"
)

type arith struct{ kind byte } // '+', '-', '*', '/'

func init() {
	for _, o := range []struct {
		name string
		k    byte
	}{{"Add", '+'}, {"Sub", '-'}, {"Mul", '*'}, {"Div", '/'}} {
		k := o.k
		Register("", o.name, 7, func(n *Node) (Op, error) { return arith{k}, nil })
	}
}

func arithNum[T tensor.Number](k byte, a, b *tensor.Tensor) (*tensor.Tensor, error) {
	return arithMap[T](k, a, b)
}

func (o arith) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	if err := sameType(string(o.kind), a, b); err != nil {
		return nil, err
	}
	var r *tensor.Tensor
	var err error
	switch a.DType() {
	case tensor.Float32:
		r, err = arithNum[float32](o.kind, a, b)
	case tensor.Float64:
		r, err = arithNum[float64](o.kind, a, b)
	case tensor.Int64:
		if o.kind == '/' && hasZero(tensor.Data[int64](b)) {
			return nil, errDivZero
		}
		r, err = arithNum[int64](o.kind, a, b)
	case tensor.Int32:
		if o.kind == '/' && hasZero(tensor.Data[int32](b)) {
			return nil, errDivZero
		}
		r, err = arithNum[int32](o.kind, a, b)
	case tensor.Uint8:
		if o.kind == '/' && hasZero(tensor.Data[uint8](b)) {
			return nil, errDivZero
		}
		r, err = arithNum[uint8](o.kind, a, b)
	case tensor.Int8:
		if o.kind == '/' && hasZero(tensor.Data[int8](b)) {
			return nil, errDivZero
		}
		r, err = arithNum[int8](o.kind, a, b)
	default:
		return nil, errDType("arithmetic", a)
	}
	if err != nil {
		return nil, err
	}
	return single(r)
}

func (o arith) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	switch in[0].DType() {
	case tensor.Float32:
		return arithBackward[float32](o.kind, in, dout[0], need)
	case tensor.Float64:
		return arithBackward[float64](o.kind, in, dout[0], need)
	}
	return nil, errDType("arithmetic backward", in[0])
}

// Saves: Add and Sub read nothing (shapes only); Mul a·b: da reads b,
// db reads a; Div a/b: da reads b, db reads a and b.
func (o arith) Saves(need []bool) (ins, outs []int) {
	switch o.kind {
	case '*':
		return crossed(need), nil
	case '/':
		if need[1] {
			return []int{0, 1}, nil
		}
		if need[0] {
			ins = append(ins, 1)
		}
	}
	return ins, nil
}

func arithBackward[T tensor.Float](k byte, in []*tensor.Tensor, g *tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	res := make([]*tensor.Tensor, 2)
	var err error
	if need[0] {
		var ga *tensor.Tensor
		switch k {
		case '+', '-':
			ga = g
		case '*':
			ga, err = arithMap[T]('*', g, b)
		case '/':
			ga, err = arithMap[T]('/', g, b)
		}
		if err != nil {
			return nil, err
		}
		// ga may be dout itself: gradients are never modified in place
		// unless owned (graph accumulates into new tensors).
		res[0] = arithReduceGrad(ga, a.Shape)
	}
	if need[1] {
		var gb *tensor.Tensor
		switch k {
		case '+':
			// the same tensor as input 0's gradient: the graph never
			// changes a gradient it does not own in place, and hands
			// parameters distinct tensors
			gb = g
		case '-':
			gb = unaryMap(g, func(x T) T { return -x })
		case '*':
			gb, err = arithMap[T]('*', g, a)
		case '/':
			// -g * a / b²
			var t *tensor.Tensor
			t, err = arithMap[T]('*', g, a)
			if err == nil {
				gb, err = arithMap[T]('q', t, b)
			}
		}
		if err != nil {
			return nil, err
		}
		res[1] = arithReduceGrad(gb, b.Shape)
	}
	return res, nil
}

func hasZero[T int64 | int32 | uint8 | int8](d []T) bool {
	for _, v := range d {
		if v == 0 {
			return true
		}
	}
	return false
}
