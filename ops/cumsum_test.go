package ops

import (
	"testing"

	"ft/tensor"
)

func TestCumSumForward(t *testing.T) {
	v := mvF64([]int{5}, 1, 2, 3, 4, 5)
	m := mvF64([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	ax := func(a int64) *tensor.Tensor { return i64(nil, a) }
	mvCheck(t, []mvCase{
		{name: "1d", op: "CumSum", in: []*tensor.Tensor{v, ax(0)}, want: []*tensor.Tensor{mvF64([]int{5}, 1, 3, 6, 10, 15)}},
		{name: "exclusive", op: "CumSum", attrs: map[string]Attr{"exclusive": mvAI(1)}, in: []*tensor.Tensor{v, ax(0)}, want: []*tensor.Tensor{mvF64([]int{5}, 0, 1, 3, 6, 10)}},
		{name: "reverse", op: "CumSum", attrs: map[string]Attr{"reverse": mvAI(1)}, in: []*tensor.Tensor{v, ax(0)}, want: []*tensor.Tensor{mvF64([]int{5}, 15, 14, 12, 9, 5)}},
		{name: "reverse-exclusive", op: "CumSum", attrs: map[string]Attr{"reverse": mvAI(1), "exclusive": mvAI(1)}, in: []*tensor.Tensor{v, ax(0)}, want: []*tensor.Tensor{mvF64([]int{5}, 14, 12, 9, 5, 0)}},
		{name: "axis0", op: "CumSum", in: []*tensor.Tensor{m, ax(0)}, want: []*tensor.Tensor{mvF64([]int{2, 3}, 1, 2, 3, 5, 7, 9)}},
		{name: "axis-neg1-int32-axis", op: "CumSum", in: []*tensor.Tensor{m, mvI32([]int{1}, -1)}, want: []*tensor.Tensor{mvF64([]int{2, 3}, 1, 3, 6, 4, 9, 15)}},
		{name: "int32", op: "CumSum", in: []*tensor.Tensor{mvI32([]int{3}, 1, -2, 3), ax(0)}, want: []*tensor.Tensor{mvI32([]int{3}, 1, -1, 2)}},
		{name: "int64", op: "CumSum", in: []*tensor.Tensor{i64([]int{3}, 1, 2, 3), ax(0)}, want: []*tensor.Tensor{i64([]int{3}, 1, 3, 6)}},
		{name: "float32", op: "CumSum", in: []*tensor.Tensor{mvF32([]int{2}, 0.5, 0.25), ax(0)}, want: []*tensor.Tensor{mvF32([]int{2}, 0.5, 0.75)}},
		{name: "err-axis", op: "CumSum", in: []*tensor.Tensor{m, ax(2)}, errSub: "out of range"},
		{name: "err-axis-shape", op: "CumSum", in: []*tensor.Tensor{m, i64([]int{2}, 0, 1)}, errSub: "one value"},
		{name: "err-bool", op: "CumSum", in: []*tensor.Tensor{tensor.New([]int{1}, []bool{true}), ax(0)}, errSub: "not supported"},
	})
}
