package ops

import (
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestExpandTileForward(t *testing.T) {
	col := mvF64([]int{3, 1}, 1, 2, 3)
	mvCheck(t, []mvCase{
		{name: "Expand/dim-changed", op: "Expand", in: []*tensor.Tensor{col, i64([]int{3}, 2, 1, 2)},
			want: []*tensor.Tensor{mvF64([]int{2, 3, 2}, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3)}},
		{name: "Expand/ones-keep-dims", op: "Expand", in: []*tensor.Tensor{col, i64([]int{2}, 1, 1)},
			want: []*tensor.Tensor{mvF64([]int{3, 1}, 1, 2, 3)}},
		{name: "Expand/row", op: "Expand", in: []*tensor.Tensor{mvF64([]int{3}, 1, 2, 3), i64([]int{2}, 2, 3)},
			want: []*tensor.Tensor{mvF64([]int{2, 3}, 1, 2, 3, 1, 2, 3)}},
		{name: "Expand/scalar", op: "Expand", in: []*tensor.Tensor{mvF64(nil, 7), i64([]int{2}, 1, 2)},
			want: []*tensor.Tensor{mvF64([]int{1, 2}, 7, 7)}},
		{name: "Expand/to-zero", op: "Expand", in: []*tensor.Tensor{col, i64([]int{3}, 0, 1, 1)},
			want: []*tensor.Tensor{mvF64([]int{0, 3, 1})}},
		{name: "Expand/err-incompatible", op: "Expand", in: []*tensor.Tensor{col, i64([]int{2}, 2, 1)}, errSub: "cannot expand"},
		{name: "Expand/err-negative", op: "Expand", in: []*tensor.Tensor{col, i64([]int{1}, -1)}, errSub: "negative"},

		{name: "Tile/2d", op: "Tile", in: []*tensor.Tensor{mvF64([]int{2, 2}, 1, 2, 3, 4), i64([]int{2}, 2, 3)},
			want: []*tensor.Tensor{mvF64([]int{4, 6}, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4)}},
		{name: "Tile/ones", op: "Tile", in: []*tensor.Tensor{col, i64([]int{2}, 1, 1)}, want: []*tensor.Tensor{col}},
		{name: "Tile/zero", op: "Tile", in: []*tensor.Tensor{col, i64([]int{2}, 0, 2)}, want: []*tensor.Tensor{mvF64([]int{0, 2})}},
		{name: "Tile/err-length", op: "Tile", in: []*tensor.Tensor{col, i64([]int{1}, 2)}, errSub: "1 entries for an input of rank 2"},
		{name: "Tile/err-negative", op: "Tile", in: []*tensor.Tensor{col, i64([]int{2}, 1, -1)}, errSub: "negative"},
	})
}

func TestExpandTileGrad(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	cases := []gradCase{
		{name: "Expand/same", node: Node{OpType: "Expand"}, in: []*tensor.Tensor{randT(r, -1, 1, 2, 3), i64([]int{2}, 2, 3)}},
		{name: "Expand/prepend", node: Node{OpType: "Expand"}, in: []*tensor.Tensor{randT(r, -1, 1, 3, 1), i64([]int{3}, 2, 1, 4)}},
		{name: "Tile/ones", node: Node{OpType: "Tile"}, in: []*tensor.Tensor{randT(r, -1, 1, 2, 3), i64([]int{2}, 1, 1)}},
	}
	for k := 0; k < 4; k++ {
		s := mvRandShape(r, 3)
		bs := make([]int64, 4)
		bs[0] = int64(1 + r.Intn(3))
		for a, d := range s {
			bs[a+1] = int64(d)
			if r.Intn(2) == 0 {
				s[a] = 1
			}
		}
		for a := range bs[1:] {
			if r.Intn(3) == 0 {
				bs[a+1] = 1
			}
		}
		cases = append(cases, gradCase{name: "Expand/random", node: Node{OpType: "Expand"}, in: []*tensor.Tensor{randT(r, -1, 1, s...), i64([]int{4}, bs...)}})
		ts := mvRandShape(r, 3)
		reps := []int64{int64(1 + r.Intn(3)), int64(1 + r.Intn(3)), int64(1 + r.Intn(3))}
		cases = append(cases, gradCase{name: "Tile/random", node: Node{OpType: "Tile"}, in: []*tensor.Tensor{randT(r, -1, 1, ts...), i64([]int{3}, reps...)}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}
