package ops

import (
	"math"
	"testing"

	"ft/tensor"
)

func TestTriluForward(t *testing.T) {
	x := mvArange(3, 4) // 0..11
	upper := map[string]Attr{"upper": mvAI(1)}
	lower := map[string]Attr{"upper": mvAI(0)}
	mvCheck(t, []mvCase{
		{name: "triu", op: "Trilu", attrs: upper, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{3, 4}, 0, 1, 2, 3, 0, 5, 6, 7, 0, 0, 10, 11)}},
		{name: "triu-k1", op: "Trilu", in: []*tensor.Tensor{x, i64(nil, 1)}, want: []*tensor.Tensor{mvF64([]int{3, 4}, 0, 1, 2, 3, 0, 0, 6, 7, 0, 0, 0, 11)}},
		{name: "triu-k-neg1", op: "Trilu", in: []*tensor.Tensor{x, i64(nil, -1)}, want: []*tensor.Tensor{mvF64([]int{3, 4}, 0, 1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11)}},
		{name: "tril", op: "Trilu", attrs: lower, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{3, 4}, 0, 0, 0, 0, 4, 5, 0, 0, 8, 9, 10, 0)}},
		{name: "tril-k2", op: "Trilu", attrs: lower, in: []*tensor.Tensor{x, i64([]int{1}, 2)}, want: []*tensor.Tensor{mvF64([]int{3, 4}, 0, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 11)}},
		{name: "tril-huge-k", op: "Trilu", attrs: lower, in: []*tensor.Tensor{x, i64(nil, math.MaxInt64)}, want: []*tensor.Tensor{x}},
		{name: "triu-huge-neg-k", op: "Trilu", in: []*tensor.Tensor{x, i64(nil, math.MinInt64)}, want: []*tensor.Tensor{x}},
		{name: "triu-huge-k", op: "Trilu", in: []*tensor.Tensor{x, i64(nil, math.MaxInt64)}, want: []*tensor.Tensor{mvF64([]int{3, 4}, make([]float64, 12)...)}},
		{name: "batched-bool", op: "Trilu", attrs: lower, in: []*tensor.Tensor{tensor.New([]int{2, 2, 2}, []bool{true, true, true, true, true, false, true, true})},
			want: []*tensor.Tensor{tensor.New([]int{2, 2, 2}, []bool{true, false, true, true, true, false, true, true})}},
		{name: "err-rank", op: "Trilu", in: []*tensor.Tensor{mvF64([]int{2}, 1, 2)}, errSub: "rank >= 2"},
		{name: "err-k", op: "Trilu", in: []*tensor.Tensor{x, mvF64(nil, 1)}, errSub: "integer"},
	})
}
