package ops

import (
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestReshapeFamilyForward(t *testing.T) {
	x := mvArange(2, 3, 4)
	d := x.F64()
	x1 := mvArange(1, 3, 1)
	mvCheck(t, []mvCase{
		{name: "Reshape/infer", op: "Reshape", in: []*tensor.Tensor{x, i64([]int{2}, -1, 6)}, want: []*tensor.Tensor{mvF64([]int{4, 6}, d...)}},
		{name: "Reshape/zero-copies", op: "Reshape", in: []*tensor.Tensor{x, i64([]int{3}, 0, 0, -1)}, want: []*tensor.Tensor{mvF64([]int{2, 3, 4}, d...)}},
		{name: "Reshape/int32-shape", op: "Reshape", in: []*tensor.Tensor{x, mvI32([]int{2}, 24, 1)}, want: []*tensor.Tensor{mvF64([]int{24, 1}, d...)}},
		{name: "Reshape/scalar", op: "Reshape", in: []*tensor.Tensor{mvF64([]int{1, 1}, 5), i64([]int{0})}, want: []*tensor.Tensor{mvF64([]int{}, 5)}},
		{name: "Reshape/allowzero", op: "Reshape", opset: 14, attrs: map[string]Attr{"allowzero": mvAI(1)},
			in: []*tensor.Tensor{mvF64([]int{0, 3}), i64([]int{3}, 3, 0, 7)}, want: []*tensor.Tensor{mvF64([]int{3, 0, 7})}},
		{name: "Reshape/allowzero-ignored-before-14", op: "Reshape", opset: 13, attrs: map[string]Attr{"allowzero": mvAI(1)},
			in: []*tensor.Tensor{x, i64([]int{2}, 0, -1)}, want: []*tensor.Tensor{mvF64([]int{2, 12}, d...)}},
		{name: "Reshape/attr-opset4", op: "Reshape", opset: 4, attrs: map[string]Attr{"shape": mvAIs(6, -1)},
			in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{6, 4}, d...)}},
		{name: "Reshape/err-size", op: "Reshape", in: []*tensor.Tensor{x, i64([]int{2}, 5, 5)}, errSub: "cannot reshape"},
		{name: "Reshape/err-indivisible", op: "Reshape", in: []*tensor.Tensor{x, i64([]int{2}, 5, -1)}, errSub: "cannot reshape"},
		{name: "Reshape/err-two-inferred", op: "Reshape", in: []*tensor.Tensor{x, i64([]int{2}, -1, -1)}, errSub: "more than one -1"},
		{name: "Reshape/err-negative", op: "Reshape", in: []*tensor.Tensor{x, i64([]int{2}, -2, 12)}, errSub: "invalid dimension -2"},
		{name: "Reshape/err-zero-past-rank", op: "Reshape", in: []*tensor.Tensor{x, i64([]int{4}, 2, 3, 4, 0)}, errSub: "copies dimension 3"},
		{name: "Reshape/err-allowzero-infer", op: "Reshape", attrs: map[string]Attr{"allowzero": mvAI(1)}, in: []*tensor.Tensor{mvF64([]int{0}), i64([]int{2}, 0, -1)}, errSub: "both 0 and -1"},
		{name: "Reshape/err-float-shape", op: "Reshape", in: []*tensor.Tensor{x, mvF64([]int{1}, 24)}, errSub: "integer tensor"},
		{name: "Reshape/err-2d-shape", op: "Reshape", in: []*tensor.Tensor{x, i64([]int{1, 1}, 24)}, errSub: "1-D"},

		{name: "Squeeze/all", op: "Squeeze", in: []*tensor.Tensor{x1}, want: []*tensor.Tensor{mvF64([]int{3}, 0, 1, 2)}},
		{name: "Squeeze/axes-input", op: "Squeeze", opset: 13, in: []*tensor.Tensor{x1, i64([]int{1}, -1)}, want: []*tensor.Tensor{mvF64([]int{1, 3}, 0, 1, 2)}},
		{name: "Squeeze/axes-attr", op: "Squeeze", opset: 11, attrs: map[string]Attr{"axes": mvAIs(0)}, in: []*tensor.Tensor{x1}, want: []*tensor.Tensor{mvF64([]int{3, 1}, 0, 1, 2)}},
		{name: "Squeeze/to-scalar", op: "Squeeze", in: []*tensor.Tensor{mvF64([]int{1, 1}, 4)}, want: []*tensor.Tensor{mvF64([]int{}, 4)}},
		{name: "Squeeze/err-not-one", op: "Squeeze", in: []*tensor.Tensor{x1, i64([]int{1}, 1)}, errSub: "size is not 1"},
		{name: "Squeeze/err-range", op: "Squeeze", in: []*tensor.Tensor{x1, i64([]int{1}, 3)}, errSub: "out of range"},
		{name: "Squeeze/err-repeat", op: "Squeeze", in: []*tensor.Tensor{x1, i64([]int{2}, 0, -3)}, errSub: "repeated"},

		{name: "Unsqueeze/input", op: "Unsqueeze", opset: 13, in: []*tensor.Tensor{mvF64([]int{3}, 0, 1, 2), i64([]int{2}, 0, -1)}, want: []*tensor.Tensor{mvF64([]int{1, 3, 1}, 0, 1, 2)}},
		{name: "Unsqueeze/unsorted", op: "Unsqueeze", opset: 13, in: []*tensor.Tensor{mvF64([]int{2}, 0, 1), i64([]int{2}, 2, 0)}, want: []*tensor.Tensor{mvF64([]int{1, 2, 1}, 0, 1)}},
		{name: "Unsqueeze/attr", op: "Unsqueeze", opset: 11, attrs: map[string]Attr{"axes": mvAIs(1)}, in: []*tensor.Tensor{mvF64([]int{2}, 0, 1)}, want: []*tensor.Tensor{mvF64([]int{2, 1}, 0, 1)}},
		{name: "Unsqueeze/scalar", op: "Unsqueeze", opset: 13, in: []*tensor.Tensor{mvF64([]int{}, 7), i64([]int{1}, 0)}, want: []*tensor.Tensor{mvF64([]int{1}, 7)}},
		{name: "Unsqueeze/err-missing-attr", op: "Unsqueeze", opset: 11, in: []*tensor.Tensor{x}, errSub: "missing attribute axes"},
		{name: "Unsqueeze/err-missing-input", op: "Unsqueeze", opset: 13, in: []*tensor.Tensor{x}, errSub: "axes is missing"},
		{name: "Unsqueeze/err-range", op: "Unsqueeze", opset: 13, in: []*tensor.Tensor{x, i64([]int{1}, 4)}, errSub: "out of range"},
		{name: "Unsqueeze/err-repeat", op: "Unsqueeze", opset: 13, in: []*tensor.Tensor{x, i64([]int{2}, 1, 1)}, errSub: "repeated"},

		{name: "Flatten/default", op: "Flatten", in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{2, 12}, d...)}},
		{name: "Flatten/0", op: "Flatten", attrs: map[string]Attr{"axis": mvAI(0)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{1, 24}, d...)}},
		{name: "Flatten/rank", op: "Flatten", attrs: map[string]Attr{"axis": mvAI(3)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{24, 1}, d...)}},
		{name: "Flatten/negative", op: "Flatten", attrs: map[string]Attr{"axis": mvAI(-1)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{6, 4}, d...)}},
		{name: "Flatten/err-axis", op: "Flatten", attrs: map[string]Attr{"axis": mvAI(4)}, in: []*tensor.Tensor{x}, errSub: "out of range"},
	})
}

// TestReshapeIsView: the Reshape family returns a view of its input (values
// are never modified in place once computed, so no copy is needed) and
// leaves the input as it was.
func TestReshapeIsView(t *testing.T) {
	x := mvArange(2, 3)
	out, err := mvRun("Reshape", 18, nil, 1, x, i64([]int{1}, 6))
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(x.Shape, []int{2, 3}) || !tensor.SameShape(out[0].Shape, []int{6}) {
		t.Fatalf("shapes %v → %v", x.Shape, out[0].Shape)
	}
	if &out[0].F64()[0] != &x.F64()[0] {
		t.Fatal("Reshape copied its input")
	}
}

func TestReshapeFamilyGrad(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	var cases []gradCase
	for k := 0; k < 3; k++ {
		s := mvRandShape(r, 3)
		cases = append(cases,
			gradCase{name: "Reshape/infer", node: Node{OpType: "Reshape"}, in: []*tensor.Tensor{randT(r, -1, 1, s...), i64([]int{2}, int64(s[0]), -1)}},
			gradCase{name: "Reshape/zero", node: Node{OpType: "Reshape"}, in: []*tensor.Tensor{randT(r, -1, 1, s...), i64([]int{2}, 0, -1)}},
			gradCase{name: "Flatten/neg", node: Node{OpType: "Flatten", Attrs: map[string]Attr{"axis": mvAI(-2)}}, in: []*tensor.Tensor{randT(r, -1, 1, s...)}},
			gradCase{name: "Unsqueeze/neg", node: Node{OpType: "Unsqueeze"}, in: []*tensor.Tensor{randT(r, -1, 1, s...), i64([]int{2}, -1, 1)}},
			gradCase{name: "Unsqueeze/attr", node: Node{OpType: "Unsqueeze", Opset: 11, Attrs: map[string]Attr{"axes": mvAIs(0)}}, in: []*tensor.Tensor{randT(r, -1, 1, s...)}},
		)
		s[1] = 1
		cases = append(cases,
			gradCase{name: "Squeeze/neg", node: Node{OpType: "Squeeze"}, in: []*tensor.Tensor{randT(r, -1, 1, s...), i64([]int{1}, -2)}},
			gradCase{name: "Squeeze/all", node: Node{OpType: "Squeeze"}, in: []*tensor.Tensor{randT(r, -1, 1, s...)}},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}
