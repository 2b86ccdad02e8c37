package ops

// Constant and ConstantOfShape: tensors made from attributes.
//
//	Constant(; value | value_float | value_floats | value_int | value_ints) -> Y
//	    value_float/value_int give a scalar (float32/int64), value_floats/value_ints
//	    a 1-D tensor; value_string(s) and sparse_value are not supported.
//	ConstantOfShape(shape [k] int64; value = float32 0) -> Y [shape...] filled with
//	    value's one element, of value's type (an empty shape gives a scalar).
//
// Neither carries a gradient (ShapeOnly). Every Forward returns a fresh tensor,
// so callers may write into it.

import (
	"ft/tensor"
)

func init() {
	Register("", "Constant", 1, buildConstant)
	Register("", "ConstantOfShape", 9, func(n *Node) (Op, error) {
		v := tensor.Scalar(float32(0))
		if n.Has("value") {
			v = n.Tensor("value")
			if v == nil || v.DType() == tensor.Invalid {
				return nil, n.Errorf("attribute value has an unsupported type")
			}
			if v.Len() != 1 {
				return nil, n.Errorf("attribute value must hold one element, has shape %v", v.Shape)
			}
		}
		return &opConstantOfShape{mvName(n), v}, nil
	})
}

func buildConstant(n *Node) (Op, error) {
	var t *tensor.Tensor
	set := 0
	for name, a := range n.Attrs {
		switch name {
		case "value":
			if a.T == nil || a.T.DType() == tensor.Invalid {
				return nil, n.Errorf("attribute value has an unsupported type")
			}
			t = a.T.Clone()
		case "value_float":
			t = tensor.Scalar(a.F)
		case "value_floats":
			t = tensor.New([]int{len(a.Floats)}, append([]float32{}, a.Floats...))
		case "value_int":
			t = tensor.Scalar(a.I)
		case "value_ints":
			t = tensor.New([]int{len(a.Ints)}, append([]int64{}, a.Ints...))
		case "value_string", "value_strings":
			return nil, n.Errorf("string constants (%s) are not supported", name)
		case "sparse_value":
			return nil, n.Errorf("sparse constants are not supported")
		default:
			continue
		}
		set++
	}
	if set != 1 {
		return nil, n.Errorf("needs exactly one value attribute, has %d", set)
	}
	return opConstant{t}, nil
}

type opConstant struct{ t *tensor.Tensor }

func (opConstant) NoGradient() {}

func (o opConstant) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return single(o.t.Clone())
}

type opConstantOfShape struct {
	mvNamed
	v *tensor.Tensor
}

func (*opConstantOfShape) NoGradient() {}

func (o *opConstantOfShape) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	shape, err := mvShapeInput(mvOpt(in, 0), "shape")
	if err != nil {
		return nil, o.errf("%v", err)
	}
	if err := mvCheckAlloc(shape); err != nil {
		return nil, o.errf("%v", err)
	}
	m, err := mvMoverOf(o.v)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	y := tensor.Zeros(o.v.DType(), shape...)
	m.fill(y, o.v)
	return single(y)
}
