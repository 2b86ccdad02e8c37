package ops

// Dropout. Before opset 12 the ratio is an attribute and the op always runs
// in inference mode; from opset 12 on, ratio (default 0.5) and training_mode
// (default false) are optional scalar inputs.
//
//	inference (or ratio 0): y = x, mask = all true
//	training:  mask[i] = u[i] >= ratio,  y = x · mask / (1 - ratio)
//	dx = dy · mask / (1 - ratio)   (training);  dx = dy (inference)
//
// x, y, mask, dx, dy all have the same shape; mask is bool (x's type before
// opset 10). In training mode the mask is always returned as the second
// output, declared by the node or not, so Backward can read it.
//
// The uniforms u come from a counter-based generator: the k-th training-mode
// Forward of a node draws stream k of its seed (the seed attribute, or a fixed
// seed mixed with the node's name, so that nodes differ). The same model and
// call order give the same masks on any machine and thread count.

import (
	"fmt"
	"hash/fnv"
	"sync/atomic"

	"ft/tensor"
)

type dropout struct {
	old   bool    // opset < 12: ratio attribute, inference only
	maskT bool    // opset < 10: the mask has x's element type
	ratio float64 // the ratio attribute (old)
	nOut  int
	seed  uint64
	calls *atomic.Uint64
}

func init() {
	build := func(n *Node) (Op, error) {
		o := dropout{
			old:   n.Opset < 12,
			maskT: n.Opset < 10,
			ratio: float64(n.Float("ratio", 0.5)),
			nOut:  n.NumOutputs,
			calls: new(atomic.Uint64),
		}
		if n.Has("seed") {
			o.seed = uint64(n.Int("seed", 0))
		} else {
			h := fnv.New64a()
			h.Write([]byte(n.Name))
			o.seed = 0x5eed_d50f_0c0d_e000 ^ h.Sum64()
		}
		return o, nil
	}
	Register("", "Dropout", 7, build)
	Register("", "Dropout", 10, build)
	Register("", "Dropout", 12, build)
}

// mode returns the ratio and whether Forward draws a mask.
func (o dropout) mode(in []*tensor.Tensor) (ratio float64, train bool, err error) {
	ratio = o.ratio
	if o.old {
		return ratio, false, nil
	}
	ratio = 0.5
	if len(in) > 1 && in[1] != nil {
		if ratio, err = scalarValue("Dropout ratio", in[1]); err != nil {
			return 0, false, err
		}
	}
	if len(in) > 2 && in[2] != nil {
		b := in[2].B()
		if len(b) != 1 {
			return 0, false, fmt.Errorf("Dropout: training_mode must be one bool, got %s%v", in[2].DType(), in[2].Shape)
		}
		train = b[0]
	}
	if train && (ratio < 0 || ratio > 1) {
		return 0, false, fmt.Errorf("Dropout: ratio %g is outside [0, 1]", ratio)
	}
	return ratio, train && ratio > 0, nil
}

func (o dropout) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	if !x.DType().IsFloat() {
		return nil, errDType("Dropout", x)
	}
	ratio, train, err := o.mode(in)
	if err != nil {
		return nil, err
	}
	if !train {
		res := []*tensor.Tensor{x.Clone()}
		if o.nOut > 1 {
			var m *tensor.Tensor
			if o.maskT {
				m, _ = castTensor(tensor.New(x.Shape, allTrue(x.Len())), x.DType())
			} else {
				m = tensor.New(x.Shape, allTrue(x.Len()))
			}
			res = append(res, m)
		}
		return res, nil
	}
	mask := make([]bool, x.Len())
	state := mix64(o.seed ^ mix64(o.calls.Add(1)))
	forRange(len(mask), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			u := float64(mix64(state+uint64(i)*0x9e3779b97f4a7c15)>>11) * 0x1p-53
			mask[i] = u >= ratio
		}
	})
	var y *tensor.Tensor
	switch x.DType() {
	case tensor.Float32:
		y = dropoutApply[float32](x, mask, ratio)
	default:
		y = dropoutApply[float64](x, mask, ratio)
	}
	return []*tensor.Tensor{y, tensor.New(x.Shape, mask)}, nil
}

func allTrue(n int) []bool {
	m := make([]bool, n)
	for i := range m {
		m[i] = true
	}
	return m
}

// mix64 is splitmix64's finaliser: a bijective 64-bit hash.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// dropoutApply returns x · mask / (1 - ratio) (0 where the mask is false).
func dropoutApply[T tensor.Float](x *tensor.Tensor, mask []bool, ratio float64) *tensor.Tensor {
	xd := tensor.Data[T](x)
	yd := make([]T, len(xd))
	var scale T
	if ratio < 1 {
		scale = T(1 / (1 - ratio))
	}
	forRange(len(xd), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if mask[i] {
				yd[i] = xd[i] * scale
			}
		}
	})
	return tensor.New(x.Shape, yd)
}

func (o dropout) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	res := make([]*tensor.Tensor, len(in))
	if !need[0] {
		return res, nil
	}
	ratio, train, err := o.mode(in)
	if err != nil {
		return nil, err
	}
	g := outGrad(out, dout, 0)
	if !train {
		res[0] = g.Clone()
		return res, nil
	}
	if len(out) < 2 || out[1].B() == nil {
		return nil, fmt.Errorf("Dropout backward: the training mask (output 1) is missing")
	}
	switch g.DType() {
	case tensor.Float32:
		res[0] = dropoutApply[float32](g, out[1].B(), ratio)
	case tensor.Float64:
		res[0] = dropoutApply[float64](g, out[1].B(), ratio)
	default:
		return nil, errDType("Dropout backward", g)
	}
	return res, nil
}
