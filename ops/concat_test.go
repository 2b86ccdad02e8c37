package ops

import (
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestConcatForward(t *testing.T) {
	a := mvF64([]int{2, 2}, 1, 2, 3, 4)
	b := mvF64([]int{2, 1}, 5, 6)
	c := mvF64([]int{1, 2}, 7, 8)
	mvCheck(t, []mvCase{
		{name: "axis1", op: "Concat", attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{a, b}, want: []*tensor.Tensor{mvF64([]int{2, 3}, 1, 2, 5, 3, 4, 6)}},
		{name: "axis-neg1", op: "Concat", attrs: map[string]Attr{"axis": mvAI(-1)}, in: []*tensor.Tensor{b, a, b}, want: []*tensor.Tensor{mvF64([]int{2, 4}, 5, 1, 2, 5, 6, 3, 4, 6)}},
		{name: "axis0", op: "Concat", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{a, c}, want: []*tensor.Tensor{mvF64([]int{3, 2}, 1, 2, 3, 4, 7, 8)}},
		{name: "empty-part", op: "Concat", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{mvF64([]int{0, 2}), c}, want: []*tensor.Tensor{mvF64([]int{1, 2}, 7, 8)}},
		{name: "single", op: "Concat", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{c}, want: []*tensor.Tensor{mvF64([]int{1, 2}, 7, 8)}},
		{name: "int64-shapes", op: "Concat", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{i64([]int{1}, 2), i64([]int{2}, -1, 4)}, want: []*tensor.Tensor{i64([]int{3}, 2, -1, 4)}},
		{name: "err-missing-axis", op: "Concat", in: []*tensor.Tensor{a}, errSub: "missing attribute axis"},
		{name: "err-axis", op: "Concat", attrs: map[string]Attr{"axis": mvAI(2)}, in: []*tensor.Tensor{a, a}, errSub: "out of range"},
		{name: "err-shape", op: "Concat", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{a, b}, errSub: "differ off axis 0"},
		{name: "err-rank", op: "Concat", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{a, mvF64([]int{2}, 1, 2)}, errSub: "ranks differ"},
		{name: "err-type", op: "Concat", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{a, mvF32([]int{1, 2}, 1, 2)}, errSub: "type float32"},
		{name: "err-scalar", op: "Concat", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{mvF64(nil, 1)}, errSub: "scalars"},
	})
}

func TestSplitForward(t *testing.T) {
	x := mvArange(2, 6)
	r0 := []float64{0, 1, 2, 3, 4, 5}
	r1 := []float64{6, 7, 8, 9, 10, 11}
	mvCheck(t, []mvCase{
		{name: "equal-axis1", op: "Split", opset: 13, attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{mvF64([]int{2, 2}, 0, 1, 6, 7), mvF64([]int{2, 2}, 2, 3, 8, 9), mvF64([]int{2, 2}, 4, 5, 10, 11)}},
		{name: "default-axis0", op: "Split", opset: 13, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{mvF64([]int{1, 6}, r0...), mvF64([]int{1, 6}, r1...)}},
		{name: "attr-split-opset11", op: "Split", opset: 11, attrs: map[string]Attr{"axis": mvAI(-1), "split": mvAIs(1, 5)}, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{mvF64([]int{2, 1}, 0, 6), mvF64([]int{2, 5}, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11)}},
		{name: "input-split-opset13", op: "Split", opset: 13, attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{x, i64([]int{3}, 4, 0, 2)},
			want: []*tensor.Tensor{mvF64([]int{2, 4}, 0, 1, 2, 3, 6, 7, 8, 9), mvF64([]int{2, 0}), mvF64([]int{2, 2}, 4, 5, 10, 11)}},
		{name: "num-outputs-uneven", op: "Split", opset: 18, attrs: map[string]Attr{"axis": mvAI(1), "num_outputs": mvAI(4)}, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{mvF64([]int{2, 2}, 0, 1, 6, 7), mvF64([]int{2, 2}, 2, 3, 8, 9), mvF64([]int{2, 2}, 4, 5, 10, 11), mvF64([]int{2, 0})}},
		{name: "num-outputs-1d", op: "Split", opset: 18, attrs: map[string]Attr{"num_outputs": mvAI(2)}, in: []*tensor.Tensor{mvArange(5)},
			want: []*tensor.Tensor{mvF64([]int{3}, 0, 1, 2), mvF64([]int{2}, 3, 4)}},
		{name: "err-sum", op: "Split", opset: 13, attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{x, i64([]int{2}, 4, 1)},
			want: []*tensor.Tensor{nil, nil}, errSub: "sums to 5"},
		{name: "err-count", op: "Split", opset: 13, attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{x, i64([]int{2}, 4, 2)},
			want: []*tensor.Tensor{nil, nil, nil}, errSub: "3 outputs"},
		{name: "err-negative", op: "Split", opset: 13, attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{x, i64([]int{2}, 8, -2)},
			want: []*tensor.Tensor{nil, nil}, errSub: "outside [0, 6]"},
		{name: "err-unequal", op: "Split", opset: 13, attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{nil, nil, nil, nil}, errSub: "equal parts"},
		{name: "err-num-outputs-too-many", op: "Split", opset: 18, attrs: map[string]Attr{"num_outputs": mvAI(4)}, in: []*tensor.Tensor{mvArange(5)},
			want: []*tensor.Tensor{nil, nil, nil, nil}, errSub: "does not split"},
		{name: "err-axis", op: "Split", opset: 13, attrs: map[string]Attr{"axis": mvAI(2)}, in: []*tensor.Tensor{x}, errSub: "out of range"},
	})
}

func TestConcatSplitGrad(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	var cases []gradCase
	for k := 0; k < 3; k++ {
		s := mvRandShape(r, 3)
		axis := r.Intn(3)
		s2 := append([]int(nil), s...)
		s2[axis] = 1 + r.Intn(3)
		cases = append(cases,
			gradCase{name: "Concat", node: Node{OpType: "Concat", Attrs: map[string]Attr{"axis": mvAI(int64(axis - 3))}},
				in: []*tensor.Tensor{randT(r, -1, 1, s...), randT(r, -1, 1, s2...), randT(r, -1, 1, s...)}},
			gradCase{name: "Concat/one-input", node: Node{OpType: "Concat", Attrs: map[string]Attr{"axis": mvAI(int64(axis))}},
				in: []*tensor.Tensor{randT(r, -1, 1, s...), randT(r, -1, 1, s2...)}, wrt: []int{1}},
		)
		s3 := append([]int(nil), s...)
		s3[axis] = 5
		cases = append(cases,
			gradCase{name: "Split/input", node: Node{OpType: "Split", NumOutputs: 3, Attrs: map[string]Attr{"axis": mvAI(int64(axis))}},
				in: []*tensor.Tensor{randT(r, -1, 1, s3...), i64([]int{3}, 2, 0, 3)}},
			gradCase{name: "Split/attr-neg-axis", node: Node{OpType: "Split", Opset: 11, NumOutputs: 2, Attrs: map[string]Attr{"axis": mvAI(int64(axis - 3)), "split": mvAIs(1, 4)}},
				in: []*tensor.Tensor{randT(r, -1, 1, s3...)}},
			gradCase{name: "Split/num-outputs-one-used", node: Node{OpType: "Split", Opset: 18, NumOutputs: 2, Attrs: map[string]Attr{"axis": mvAI(int64(axis)), "num_outputs": mvAI(2)}},
				in: []*tensor.Tensor{randT(r, -1, 1, s3...)}, nOuts: 1},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}
