package ops

// Comparisons and logic, all with numpy broadcasting and bool outputs, none
// carrying gradients (ShapeOnly):
//
//	Equal, Less, LessOrEqual, Greater, GreaterOrEqual: numeric inputs (Equal also bool)
//	And, Or, Xor: bool inputs;  Not: bool
//	IsNaN, IsInf (detect_negative, detect_positive): float inputs

import (
	"math"

	"ft/tensor"
)

type compare struct {
	name string
	kind byte // '=', '<', 'l' (<=), '>', 'g' (>=)
}

type logic struct {
	name string
	kind byte // '&', '|', '^', '!'
}

type isNaN struct{}

type isInf struct{ neg, pos bool }

func (compare) NoGradient() {}
func (logic) NoGradient()   {}
func (isNaN) NoGradient()   {}
func (isInf) NoGradient()   {}

func init() {
	for _, c := range []struct {
		name  string
		kind  byte
		since int
	}{
		{"Equal", '=', 7}, {"Less", '<', 7}, {"LessOrEqual", 'l', 12},
		{"Greater", '>', 7}, {"GreaterOrEqual", 'g', 12},
	} {
		op := compare{c.name, c.kind}
		Register("", c.name, c.since, func(n *Node) (Op, error) { return op, nil })
	}
	for _, c := range []struct {
		name  string
		kind  byte
		since int
	}{{"And", '&', 7}, {"Or", '|', 7}, {"Xor", '^', 7}, {"Not", '!', 1}} {
		op := logic{c.name, c.kind}
		Register("", c.name, c.since, func(n *Node) (Op, error) { return op, nil })
	}
	Register("", "IsNaN", 9, func(n *Node) (Op, error) { return isNaN{}, nil })
	Register("", "IsInf", 10, func(n *Node) (Op, error) {
		return isInf{neg: n.Int("detect_negative", 1) != 0, pos: n.Int("detect_positive", 1) != 0}, nil
	})
}

func (o compare) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	if err := sameType(o.name, a, b); err != nil {
		return nil, err
	}
	var r *tensor.Tensor
	var err error
	switch a.DType() {
	case tensor.Float32:
		r, err = compareNum[float32](o.kind, a, b)
	case tensor.Float64:
		r, err = compareNum[float64](o.kind, a, b)
	case tensor.Int64:
		r, err = compareNum[int64](o.kind, a, b)
	case tensor.Int32:
		r, err = compareNum[int32](o.kind, a, b)
	case tensor.Uint8:
		r, err = compareNum[uint8](o.kind, a, b)
	case tensor.Int8:
		r, err = compareNum[int8](o.kind, a, b)
	case tensor.Bool:
		if o.kind != '=' {
			return nil, errDType(o.name, a)
		}
		r, err = binaryMap(a, b, func(x, y bool) bool { return x == y })
	default:
		return nil, errDType(o.name, a)
	}
	if err != nil {
		return nil, err
	}
	return single(r)
}

func compareNum[T tensor.Number](k byte, a, b *tensor.Tensor) (*tensor.Tensor, error) {
	switch k {
	case '=':
		return binaryMap(a, b, func(x, y T) bool { return x == y })
	case '<':
		return binaryMap(a, b, func(x, y T) bool { return x < y })
	case 'l':
		return binaryMap(a, b, func(x, y T) bool { return x <= y })
	case '>':
		return binaryMap(a, b, func(x, y T) bool { return x > y })
	default:
		return binaryMap(a, b, func(x, y T) bool { return x >= y })
	}
}

func (o logic) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	for _, t := range in {
		if t.DType() != tensor.Bool {
			return nil, errDType(o.name, t)
		}
	}
	var r *tensor.Tensor
	var err error
	switch o.kind {
	case '!':
		r = unaryMap(in[0], func(x bool) bool { return !x })
	case '&':
		r, err = binaryMap(in[0], in[1], func(x, y bool) bool { return x && y })
	case '|':
		r, err = binaryMap(in[0], in[1], func(x, y bool) bool { return x || y })
	default:
		r, err = binaryMap(in[0], in[1], func(x, y bool) bool { return x != y })
	}
	if err != nil {
		return nil, err
	}
	return single(r)
}

func (isNaN) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	switch x := in[0]; x.DType() {
	case tensor.Float32:
		return single(unaryMap(x, func(v float32) bool { return v != v }))
	case tensor.Float64:
		return single(unaryMap(x, func(v float64) bool { return v != v }))
	default:
		return nil, errDType("IsNaN", x)
	}
}

func (o isInf) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	f := func(v float64) bool { return (o.pos && math.IsInf(v, 1)) || (o.neg && math.IsInf(v, -1)) }
	switch x := in[0]; x.DType() {
	case tensor.Float32:
		return single(unaryMap(x, func(v float32) bool { return f(float64(v)) }))
	case tensor.Float64:
		return single(unaryMap(x, f))
	default:
		return nil, errDType("IsInf", x)
	}
}
