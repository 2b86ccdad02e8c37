package ops

import (
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestTransposeForward(t *testing.T) {
	x := mvArange(2, 3)
	y := mvArange(2, 1, 3, 2)
	mvCheck(t, []mvCase{
		{name: "default-2d", op: "Transpose", in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{3, 2}, 0, 3, 1, 4, 2, 5)}},
		{name: "identity", op: "Transpose", attrs: map[string]Attr{"perm": mvAIs(0, 1)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{mvF64([]int{2, 3}, 0, 1, 2, 3, 4, 5)}},
		// [2,1,3,2] -> perm (0,2,1,3) -> [2,3,1,2]: the unit axis moves, data order unchanged
		{name: "bhsd", op: "Transpose", attrs: map[string]Attr{"perm": mvAIs(0, 2, 1, 3)}, in: []*tensor.Tensor{y}, want: []*tensor.Tensor{mvF64([]int{2, 3, 1, 2}, y.F64()...)}},
		// [2,1,3,2] -> perm (3,0,2,1) -> [2,2,3,1]: Y[a,b,c,0] = X[b,0,c,a] = 6b+2c+a
		{name: "4d", op: "Transpose", attrs: map[string]Attr{"perm": mvAIs(3, 0, 2, 1)}, in: []*tensor.Tensor{y},
			want: []*tensor.Tensor{mvF64([]int{2, 2, 3, 1}, 0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11)}},
		{name: "scalar", op: "Transpose", in: []*tensor.Tensor{mvF64([]int{}, 3)}, want: []*tensor.Tensor{mvF64([]int{}, 3)}},
		{name: "empty", op: "Transpose", in: []*tensor.Tensor{mvF64([]int{0, 2})}, want: []*tensor.Tensor{mvF64([]int{2, 0})}},
		{name: "err-not-perm", op: "Transpose", attrs: map[string]Attr{"perm": mvAIs(0, 0)}, in: []*tensor.Tensor{x}, errSub: "not a permutation"},
		{name: "err-length", op: "Transpose", attrs: map[string]Attr{"perm": mvAIs(0, 1, 2)}, in: []*tensor.Tensor{x}, errSub: "3 entries"},
		{name: "err-range", op: "Transpose", attrs: map[string]Attr{"perm": mvAIs(0, 2)}, in: []*tensor.Tensor{x}, errSub: "not a permutation"},
	})
}

// TestTransposeAllPerms compares every permutation of a rank-4 tensor with
// a direct index computation.
func TestTransposeAllPerms(t *testing.T) {
	shape := []int{2, 3, 1, 4}
	x := mvArange(shape...)
	st := tensor.Strides(shape)
	var perms [][]int
	var gen func(p []int, used []bool)
	gen = func(p []int, used []bool) {
		if len(p) == 4 {
			perms = append(perms, append([]int(nil), p...))
			return
		}
		for a := 0; a < 4; a++ {
			if !used[a] {
				used[a] = true
				gen(append(p, a), used)
				used[a] = false
			}
		}
	}
	gen(nil, make([]bool, 4))
	for _, p := range perms {
		out, err := mvRun("Transpose", 13, map[string]Attr{"perm": mvAIs(int64(p[0]), int64(p[1]), int64(p[2]), int64(p[3]))}, 1, x)
		if err != nil {
			t.Fatal(err)
		}
		y := out[0]
		ys := []int{shape[p[0]], shape[p[1]], shape[p[2]], shape[p[3]]}
		if !tensor.SameShape(y.Shape, ys) {
			t.Fatalf("perm %v: shape %v, want %v", p, y.Shape, ys)
		}
		i := 0
		for a := 0; a < ys[0]; a++ {
			for b := 0; b < ys[1]; b++ {
				for c := 0; c < ys[2]; c++ {
					for d := 0; d < ys[3]; d++ {
						want := a*st[p[0]] + b*st[p[1]] + c*st[p[2]] + d*st[p[3]]
						if y.F64()[i] != float64(want) {
							t.Fatalf("perm %v: element %d = %v, want %d", p, i, y.F64()[i], want)
						}
						i++
					}
				}
			}
		}
	}
}

func TestTransposeGrad(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	cases := []gradCase{
		{name: "default", node: Node{OpType: "Transpose"}, in: []*tensor.Tensor{randT(r, -1, 1, 3, 4)}},
		{name: "negative-perm", node: Node{OpType: "Transpose", Attrs: map[string]Attr{"perm": mvAIs(-1, 0, 1)}}, in: []*tensor.Tensor{randT(r, -1, 1, 2, 3, 4)}},
	}
	for k := 0; k < 4; k++ {
		p := r.Perm(4)
		cases = append(cases, gradCase{name: "random",
			node: Node{OpType: "Transpose", Attrs: map[string]Attr{"perm": mvAIs(int64(p[0]), int64(p[1]), int64(p[2]), int64(p[3]))}},
			in:   []*tensor.Tensor{randT(r, -1, 1, mvRandShape(r, 4)...)}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

// TestTransposeLarge covers the parallel path of the strided copy.
func TestTransposeLarge(t *testing.T) {
	shape := []int{40, 50, 37}
	x := mvArange(shape...)
	out, err := mvRun("Transpose", 13, map[string]Attr{"perm": mvAIs(2, 0, 1)}, 1, x)
	if err != nil {
		t.Fatal(err)
	}
	y := out[0].F64()
	i := 0
	for c := 0; c < 37; c++ {
		for a := 0; a < 40; a++ {
			for b := 0; b < 50; b++ {
				if want := float64(a*50*37 + b*37 + c); y[i] != want {
					t.Fatalf("element %d = %v, want %v", i, y[i], want)
				}
				i++
			}
		}
	}
}
