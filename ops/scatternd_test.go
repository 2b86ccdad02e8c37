package ops

import (
	"testing"

	"ft/tensor"
)

func TestScatterNDForward(t *testing.T) {
	data := mvF64([]int{8}, 1, 2, 3, 4, 5, 6, 7, 8)
	m := mvArange(2, 3)
	red := func(s string) map[string]Attr { return map[string]Attr{"reduction": mvAS(s)} }
	mvCheck(t, []mvCase{
		{name: "1d", op: "ScatterND", in: []*tensor.Tensor{data, i64([]int{4, 1}, 4, 3, 1, 7), mvF64([]int{4}, 9, 10, 11, 12)},
			want: []*tensor.Tensor{mvF64([]int{8}, 1, 11, 3, 10, 9, 6, 7, 12)}},
		{name: "rows-negative-index", op: "ScatterND", in: []*tensor.Tensor{m, i64([]int{1, 1}, -1), mvF64([]int{1, 3}, 7, 8, 9)},
			want: []*tensor.Tensor{mvF64([]int{2, 3}, 0, 1, 2, 7, 8, 9)}},
		{name: "elements", op: "ScatterND", in: []*tensor.Tensor{m, i64([]int{2, 2}, 0, 2, 1, 0), mvF64([]int{2}, -1, -2)},
			want: []*tensor.Tensor{mvF64([]int{2, 3}, 0, 1, -1, -2, 4, 5)}},
		{name: "whole", op: "ScatterND", in: []*tensor.Tensor{m, i64([]int{0}), mvF64([]int{2, 3}, 9, 9, 9, 9, 9, 9)},
			want: []*tensor.Tensor{mvF64([]int{2, 3}, 9, 9, 9, 9, 9, 9)}},
		{name: "add-duplicates", op: "ScatterND", attrs: red("add"), in: []*tensor.Tensor{data, i64([]int{3, 1}, 0, 0, 2), mvF64([]int{3}, 10, 20, 30)},
			want: []*tensor.Tensor{mvF64([]int{8}, 31, 2, 33, 4, 5, 6, 7, 8)}},
		{name: "mul", op: "ScatterND", attrs: red("mul"), in: []*tensor.Tensor{data, i64([]int{2, 1}, 1, 1), mvF64([]int{2}, 3, 4)},
			want: []*tensor.Tensor{mvF64([]int{8}, 1, 24, 3, 4, 5, 6, 7, 8)}},
		{name: "max-int", op: "ScatterND", opset: 18, attrs: red("max"), in: []*tensor.Tensor{i64([]int{3}, 1, 5, 3), i64([]int{2, 1}, 0, 1), i64([]int{2}, 4, 4)},
			want: []*tensor.Tensor{i64([]int{3}, 4, 5, 3)}},
		{name: "min", op: "ScatterND", opset: 18, attrs: red("min"), in: []*tensor.Tensor{data, i64([]int{1, 1}, 7), mvF64([]int{1}, 0)},
			want: []*tensor.Tensor{mvF64([]int{8}, 1, 2, 3, 4, 5, 6, 7, 0)}},
		{name: "err-index", op: "ScatterND", in: []*tensor.Tensor{data, i64([]int{1, 1}, 8), mvF64([]int{1}, 0)}, errSub: "index 8 on axis 0 is out of range"},
		{name: "err-updates-shape", op: "ScatterND", in: []*tensor.Tensor{m, i64([]int{1, 1}, 0), mvF64([]int{1, 2}, 0, 0)}, errSub: "want [1 3]"},
		{name: "err-depth", op: "ScatterND", in: []*tensor.Tensor{m, i64([]int{1, 3}, 0, 0, 0), mvF64([]int{1}, 0)}, errSub: "index 3 axes"},
		{name: "err-type", op: "ScatterND", in: []*tensor.Tensor{m, i64([]int{1, 1}, 0), mvF32([]int{1, 3}, 0, 0, 0)}, errSub: "updates have type"},
		{name: "err-reduction", op: "ScatterND", attrs: red("avg"), in: []*tensor.Tensor{data}, errSub: "unknown reduction"},
		{name: "err-bool-add", op: "ScatterND", attrs: red("add"), in: []*tensor.Tensor{tensor.New([]int{1}, []bool{true}), i64([]int{1, 1}, 0), tensor.New([]int{1}, []bool{true})}, errSub: "not supported"},
	})
}
