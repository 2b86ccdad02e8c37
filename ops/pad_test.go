package ops

import (
	"testing"

	"ft/tensor"
)

func TestPadForward(t *testing.T) {
	v := mvF64([]int{5}, 0, 1, 2, 3, 4)
	m := mvF64([]int{2, 2}, 1, 2, 3, 4)
	mode := func(s string) map[string]Attr { return map[string]Attr{"mode": mvAS(s)} }
	p := func(v ...int64) *tensor.Tensor { return i64([]int{len(v)}, v...) }
	mvCheck(t, []mvCase{
		{name: "constant-zero", op: "Pad", in: []*tensor.Tensor{m, p(0, 1, 1, 0)}, want: []*tensor.Tensor{mvF64([]int{3, 3}, 0, 1, 2, 0, 3, 4, 0, 0, 0)}},
		{name: "constant-value", op: "Pad", in: []*tensor.Tensor{m, p(1, 0, 0, 0), mvF64(nil, 9)}, want: []*tensor.Tensor{mvF64([]int{3, 2}, 9, 9, 1, 2, 3, 4)}},
		{name: "constant-absent-value-axes", op: "Pad", in: []*tensor.Tensor{m, p(1, 1), nil, i64([]int{1}, -1)}, want: []*tensor.Tensor{mvF64([]int{2, 4}, 0, 1, 2, 0, 0, 3, 4, 0)}},
		{name: "crop", op: "Pad", in: []*tensor.Tensor{v, p(-1, -2)}, want: []*tensor.Tensor{mvF64([]int{2}, 1, 2)}},
		{name: "crop-and-pad", op: "Pad", in: []*tensor.Tensor{m, p(-1, 1, 0, 0), mvF64(nil, 5)}, want: []*tensor.Tensor{mvF64([]int{1, 3}, 5, 3, 4)}},
		// oracle: numpy.pad and onnxruntime
		{name: "reflect", op: "Pad", attrs: mode("reflect"), in: []*tensor.Tensor{v, p(2, 3)}, want: []*tensor.Tensor{mvF64([]int{10}, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1)}},
		{name: "reflect-cropped", op: "Pad", attrs: mode("reflect"), in: []*tensor.Tensor{v, p(-1, 3)}, want: []*tensor.Tensor{mvF64([]int{7}, 1, 2, 3, 4, 3, 2, 1)}},
		{name: "reflect-repeated", op: "Pad", attrs: mode("reflect"), in: []*tensor.Tensor{mvF64([]int{3}, 0, 1, 2), p(5, 0)}, want: []*tensor.Tensor{mvF64([]int{8}, 1, 0, 1, 2, 1, 0, 1, 2)}},
		{name: "edge", op: "Pad", attrs: mode("edge"), in: []*tensor.Tensor{m, p(1, 0, 0, 2)}, want: []*tensor.Tensor{mvF64([]int{3, 4}, 1, 2, 2, 2, 1, 2, 2, 2, 3, 4, 4, 4)}},
		{name: "edge-cropped", op: "Pad", attrs: mode("edge"), in: []*tensor.Tensor{v, p(2, -2)}, want: []*tensor.Tensor{mvF64([]int{5}, 0, 0, 0, 1, 2)}},
		{name: "wrap", op: "Pad", opset: 19, attrs: mode("wrap"), in: []*tensor.Tensor{v, p(2, 6)}, want: []*tensor.Tensor{mvF64([]int{13}, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0)}},
		{name: "attrs-opset2", op: "Pad", opset: 2, attrs: map[string]Attr{"pads": mvAIs(1, 1), "value": mvAF(2)}, in: []*tensor.Tensor{i64([]int{1}, 5)}, want: []*tensor.Tensor{i64([]int{3}, 2, 5, 2)}},
		{name: "empty-input-constant", op: "Pad", in: []*tensor.Tensor{mvF64([]int{0, 2}), p(1, 0, 0, 0)}, want: []*tensor.Tensor{mvF64([]int{1, 2}, 0, 0)}},
		{name: "err-length", op: "Pad", in: []*tensor.Tensor{m, p(1, 1)}, errSub: "4 entries"},
		{name: "err-crop-below-zero", op: "Pad", in: []*tensor.Tensor{v, p(-3, -3)}, errSub: "below zero"},
		{name: "err-edge-empty", op: "Pad", attrs: mode("edge"), in: []*tensor.Tensor{mvF64([]int{0}), p(1, 0)}, errSub: "nothing to read"},
		{name: "err-mode", op: "Pad", attrs: mode("mirror"), in: []*tensor.Tensor{v, p(1, 0)}, errSub: "unknown mode"},
		{name: "err-wrap-opset", op: "Pad", opset: 18, attrs: mode("wrap"), in: []*tensor.Tensor{v, p(1, 0)}, errSub: "opset 19"},
		{name: "err-value-type", op: "Pad", in: []*tensor.Tensor{v, p(1, 0), mvF32(nil, 1)}, errSub: "constant_value has type"},
		{name: "err-axes", op: "Pad", in: []*tensor.Tensor{m, p(1, 1), nil, i64([]int{1}, 2)}, errSub: "out of range"},
	})
}
