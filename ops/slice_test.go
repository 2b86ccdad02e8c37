package ops

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestSliceForward(t *testing.T) {
	x := mvArange(3, 4) // rows 0..3, 4..7, 8..11
	v := mvArange(6)
	const big = math.MaxInt64
	mvCheck(t, []mvCase{
		{name: "basic", op: "Slice", in: []*tensor.Tensor{x, i64([]int{2}, 1, 0), i64([]int{2}, 2, 3), i64([]int{2}, 0, 1)},
			want: []*tensor.Tensor{mvF64([]int{1, 3}, 4, 5, 6)}},
		{name: "default-axes", op: "Slice", in: []*tensor.Tensor{x, i64([]int{1}, 1), i64([]int{1}, 3)},
			want: []*tensor.Tensor{mvF64([]int{2, 4}, 4, 5, 6, 7, 8, 9, 10, 11)}},
		{name: "negative-axis-and-start", op: "Slice", in: []*tensor.Tensor{x, i64([]int{1}, -2), i64([]int{1}, big), i64([]int{1}, -1)},
			want: []*tensor.Tensor{mvF64([]int{3, 2}, 2, 3, 6, 7, 10, 11)}},
		{name: "step2", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, 0), i64([]int{1}, 6), i64([]int{1}, 0), i64([]int{1}, 2)},
			want: []*tensor.Tensor{mvF64([]int{3}, 0, 2, 4)}},
		{name: "step3-uneven", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, 1), i64([]int{1}, 6), i64([]int{1}, 0), i64([]int{1}, 3)},
			want: []*tensor.Tensor{mvF64([]int{2}, 1, 4)}},
		{name: "reverse-all", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, -1), i64([]int{1}, math.MinInt64), i64([]int{1}, 0), i64([]int{1}, -1)},
			want: []*tensor.Tensor{mvF64([]int{6}, 5, 4, 3, 2, 1, 0)}},
		{name: "reverse-overflowing-start", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, big), i64([]int{1}, -100), i64([]int{1}, 0), i64([]int{1}, -2)},
			want: []*tensor.Tensor{mvF64([]int{3}, 5, 3, 1)}},
		{name: "reverse-2d", op: "Slice", in: []*tensor.Tensor{x, i64([]int{2}, 10, 2), i64([]int{2}, -10, 0), i64([]int{2}, 1, 0), i64([]int{2}, -1, -1)},
			want: []*tensor.Tensor{mvF64([]int{2, 4}, 11, 10, 9, 8, 7, 6, 5, 4)}},
		{name: "start-out-of-bounds", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, 10), i64([]int{1}, 20)},
			want: []*tensor.Tensor{mvF64([]int{0})}},
		{name: "end-before-start", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, 4), i64([]int{1}, 2)},
			want: []*tensor.Tensor{mvF64([]int{0})}},
		{name: "int32-inputs", op: "Slice", in: []*tensor.Tensor{v, mvI32([]int{1}, -3), mvI32([]int{1}, -1), mvI32([]int{1}, 0), mvI32([]int{1}, 1)},
			want: []*tensor.Tensor{mvF64([]int{2}, 3, 4)}},
		{name: "absent-axes-present-steps", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, 0), i64([]int{1}, 6), nil, i64([]int{1}, 5)},
			want: []*tensor.Tensor{mvF64([]int{2}, 0, 5)}},
		{name: "attrs-opset9", op: "Slice", opset: 9, attrs: map[string]Attr{"starts": mvAIs(1), "ends": mvAIs(100), "axes": mvAIs(1)}, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{mvF64([]int{3, 3}, 1, 2, 3, 5, 6, 7, 9, 10, 11)}},
		{name: "err-step0", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, 0), i64([]int{1}, 6), i64([]int{1}, 0), i64([]int{1}, 0)}, errSub: "step for axis 0 is 0"},
		{name: "err-lengths", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, 0), i64([]int{2}, 6, 6)}, errSub: "differ in length"},
		{name: "err-axis", op: "Slice", in: []*tensor.Tensor{v, i64([]int{1}, 0), i64([]int{1}, 6), i64([]int{1}, 1)}, errSub: "out of range"},
		{name: "err-repeated-axis", op: "Slice", in: []*tensor.Tensor{x, i64([]int{2}, 0, 0), i64([]int{2}, 1, 1), i64([]int{2}, 1, -1)}, errSub: "repeated"},
		{name: "err-float-starts", op: "Slice", in: []*tensor.Tensor{v, mvF64([]int{1}, 0), i64([]int{1}, 6)}, errSub: "starts"},
		{name: "err-too-many", op: "Slice", in: []*tensor.Tensor{v, i64([]int{2}, 0, 0), i64([]int{2}, 6, 6)}, errSub: "2 starts"},
	})
}

func TestSliceGrad(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	cases := []gradCase{
		{name: "reverse", node: Node{OpType: "Slice"}, in: []*tensor.Tensor{randT(r, -1, 1, 5, 3), i64([]int{1}, -1), i64([]int{1}, math.MinInt64), i64([]int{1}, 0), i64([]int{1}, -2)}},
		{name: "attrs", node: Node{OpType: "Slice", Opset: 9, Attrs: map[string]Attr{"starts": mvAIs(1), "ends": mvAIs(-1), "axes": mvAIs(-1)}}, in: []*tensor.Tensor{randT(r, -1, 1, 2, 4)}},
		{name: "empty", node: Node{OpType: "Slice"}, in: []*tensor.Tensor{randT(r, -1, 1, 3), i64([]int{1}, 2), i64([]int{1}, 1)}},
	}
	for k := 0; k < 6; k++ {
		s := mvRandShape(r, 3)
		for i := range s {
			s[i] += 2
		}
		var starts, ends, axes, steps []int64
		for _, a := range r.Perm(3)[:1+r.Intn(3)] {
			d := int64(s[a])
			st := int64(1 + r.Intn(2))
			if r.Intn(2) == 0 {
				st = -st
			}
			starts = append(starts, int64(r.Intn(int(2*d+2)))-d-1)
			ends = append(ends, int64(r.Intn(int(2*d+2)))-d-1)
			ax := int64(a)
			if r.Intn(2) == 0 {
				ax -= 3
			}
			axes = append(axes, ax)
			steps = append(steps, st)
		}
		n := []int{len(starts)}
		cases = append(cases, gradCase{name: "random", node: Node{OpType: "Slice"},
			in: []*tensor.Tensor{randT(r, -1, 1, s...), i64(n, starts...), i64(n, ends...), i64(n, axes...), i64(n, steps...)}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

// TestSliceMatchesLoop compares random slices with an element-by-element
// reference that follows the ONNX clamping rules.
func TestSliceMatchesLoop(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	for k := 0; k < 200; k++ {
		d := 1 + r.Intn(7)
		x := mvArange(d)
		s, e := r.Intn(2*d+6)-d-3, r.Intn(2*d+6)-d-3
		st := 1 + r.Intn(3)
		if r.Intn(2) == 0 {
			st = -st
		}
		var want []float64
		ss, ee := s, e
		if ss < 0 {
			ss += d
		}
		if ee < 0 {
			ee += d
		}
		if st > 0 {
			ss, ee = min(max(ss, 0), d), min(max(ee, 0), d)
			for i := ss; i < ee; i += st {
				want = append(want, float64(i))
			}
		} else {
			ss, ee = min(max(ss, 0), d-1), min(max(ee, -1), d-1)
			for i := ss; i > ee; i += st {
				want = append(want, float64(i))
			}
		}
		out, err := mvRun("Slice", 13, nil, 1, x, i64([]int{1}, int64(s)), i64([]int{1}, int64(e)), i64([]int{1}, 0), i64([]int{1}, int64(st)))
		if err != nil {
			t.Fatal(err)
		}
		if !mvSame(out[0], mvF64([]int{len(want)}, want...)) {
			t.Fatalf("d=%d [%d:%d:%d]: got %v, want %v", d, s, e, st, out[0], want)
		}
	}
}
