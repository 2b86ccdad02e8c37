package ops

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestGatherForward(t *testing.T) {
	emb := mvArange(4, 3) // row i holds 3i, 3i+1, 3i+2
	x := mvArange(2, 3)
	mvCheck(t, []mvCase{
		{name: "embedding", op: "Gather", in: []*tensor.Tensor{emb, i64([]int{2, 2}, 3, 0, 1, 3)},
			want: []*tensor.Tensor{mvF64([]int{2, 2, 3}, 9, 10, 11, 0, 1, 2, 3, 4, 5, 9, 10, 11)}},
		{name: "negative", op: "Gather", in: []*tensor.Tensor{emb, i64([]int{2}, -1, -4)},
			want: []*tensor.Tensor{mvF64([]int{2, 3}, 9, 10, 11, 0, 1, 2)}},
		{name: "scalar-index", op: "Gather", in: []*tensor.Tensor{emb, i64(nil, 2)},
			want: []*tensor.Tensor{mvF64([]int{3}, 6, 7, 8)}},
		{name: "axis1", op: "Gather", attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{x, mvI32([]int{3}, 2, 2, -3)},
			want: []*tensor.Tensor{mvF64([]int{2, 3}, 2, 2, 0, 5, 5, 3)}},
		{name: "axis-neg1-scalar", op: "Gather", attrs: map[string]Attr{"axis": mvAI(-1)}, in: []*tensor.Tensor{x, i64(nil, 1)},
			want: []*tensor.Tensor{mvF64([]int{2}, 1, 4)}},
		{name: "shape-vector", op: "Gather", in: []*tensor.Tensor{i64([]int{3}, 8, 128, 768), i64(nil, 1)},
			want: []*tensor.Tensor{i64([]int{}, 128)}},
		{name: "empty-indices", op: "Gather", in: []*tensor.Tensor{emb, i64([]int{0})},
			want: []*tensor.Tensor{mvF64([]int{0, 3})}},
		{name: "err-range", op: "Gather", in: []*tensor.Tensor{emb, i64([]int{2}, 1, 4)}, errSub: "value 4 at position 1 is out of range [-4, 3]"},
		{name: "err-range-neg", op: "Gather", in: []*tensor.Tensor{emb, i64([]int{1}, -5)}, errSub: "out of range"},
		// ONNX allows [-s, s-1]; anything else is an error naming the node, never a wrap
		{name: "err-range-names-node", op: "Gather", in: []*tensor.Tensor{emb, i64([]int{1}, -5)}, errSub: `Gather node "`},
		{name: "err-range-min-int64", op: "Gather", in: []*tensor.Tensor{emb, i64([]int{1}, math.MinInt64)}, errSub: "value -9223372036854775808 at position 0 is out of range [-4, 3]"},
		{name: "err-range-min-int32", op: "Gather", in: []*tensor.Tensor{emb, mvI32([]int{1}, math.MinInt32)}, errSub: "out of range [-4, 3]"},
		{name: "err-axis", op: "Gather", attrs: map[string]Attr{"axis": mvAI(2)}, in: []*tensor.Tensor{emb, i64([]int{1}, 0)}, errSub: "out of range"},
		{name: "err-float-indices", op: "Gather", in: []*tensor.Tensor{emb, mvF64([]int{1}, 0)}, errSub: "integer tensor"},
		{name: "err-scalar-data", op: "Gather", in: []*tensor.Tensor{mvF64(nil, 1), i64(nil, 0)}, errSub: "scalar"},
	})
}

func TestGatherElementsForward(t *testing.T) {
	x := mvF64([]int{3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	mvCheck(t, []mvCase{
		// ONNX's example: axis 0, indices [[1,2,0],[2,0,0]] -> [[4,8,3],[7,2,3]]
		{name: "axis0", op: "GatherElements", in: []*tensor.Tensor{x, i64([]int{2, 3}, 1, 2, 0, 2, 0, 0)},
			want: []*tensor.Tensor{mvF64([]int{2, 3}, 4, 8, 3, 7, 2, 3)}},
		{name: "axis1-negative", op: "GatherElements", attrs: map[string]Attr{"axis": mvAI(-1)}, in: []*tensor.Tensor{x, i64([]int{3, 2}, -1, 0, 1, 1, 0, -3)},
			want: []*tensor.Tensor{mvF64([]int{3, 2}, 3, 1, 5, 5, 7, 7)}},
		{name: "smaller-indices", op: "GatherElements", attrs: map[string]Attr{"axis": mvAI(1)}, in: []*tensor.Tensor{x, mvI32([]int{1, 2}, 2, 0)},
			want: []*tensor.Tensor{mvF64([]int{1, 2}, 3, 1)}},
		{name: "err-rank", op: "GatherElements", in: []*tensor.Tensor{x, i64([]int{3}, 0, 0, 0)}, errSub: "same rank"},
		{name: "err-range", op: "GatherElements", in: []*tensor.Tensor{x, i64([]int{1, 1}, 3)}, errSub: "out of range"},
		{name: "err-shape", op: "GatherElements", in: []*tensor.Tensor{x, i64([]int{1, 4}, 0, 0, 0, 0)}, errSub: "exceeds data shape"},
	})
}

func TestGatherGrad(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	cases := []gradCase{
		{name: "Gather/repeated", node: Node{OpType: "Gather"}, in: []*tensor.Tensor{randT(r, -1, 1, 4, 3), i64([]int{2, 3}, 1, 1, -3, 0, 3, 1)}},
		{name: "Gather/scalar-index", node: Node{OpType: "Gather", Attrs: map[string]Attr{"axis": mvAI(-1)}}, in: []*tensor.Tensor{randT(r, -1, 1, 2, 3), i64(nil, 2)}},
		{name: "GatherElements/repeated", node: Node{OpType: "GatherElements", Attrs: map[string]Attr{"axis": mvAI(1)}},
			in: []*tensor.Tensor{randT(r, -1, 1, 2, 3), i64([]int{2, 4}, 0, 0, 2, -1, 1, 1, 1, 0)}},
	}
	for k := 0; k < 4; k++ {
		s := mvRandShape(r, 3)
		axis := r.Intn(3)
		d := s[axis]
		is := mvRandShape(r, 1+r.Intn(2))
		idx := make([]int64, tensor.Size(is))
		for i := range idx {
			idx[i] = int64(r.Intn(2*d) - d)
		}
		cases = append(cases, gradCase{name: "Gather/random", node: Node{OpType: "Gather", Attrs: map[string]Attr{"axis": mvAI(int64(axis - 3*r.Intn(2)))}},
			in: []*tensor.Tensor{randT(r, -1, 1, s...), i64(is, idx...)}})
		es := append([]int(nil), s...)
		for a := range es {
			if a != axis {
				es[a] = 1 + r.Intn(s[a])
			} else {
				es[a] = 1 + r.Intn(5)
			}
		}
		eidx := make([]int64, tensor.Size(es))
		for i := range eidx {
			eidx[i] = int64(r.Intn(2*d) - d)
		}
		cases = append(cases, gradCase{name: "GatherElements/random", node: Node{OpType: "GatherElements", Attrs: map[string]Attr{"axis": mvAI(int64(axis))}},
			in: []*tensor.Tensor{randT(r, -1, 1, s...), i64(es, eidx...)}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

// TestGatherLarge covers the parallel path of Gather.
func TestGatherLarge(t *testing.T) {
	x := mvArange(300, 257)
	idx := make([]int64, 400)
	for i := range idx {
		idx[i] = int64(i*7%300) - 150
	}
	out, err := mvRun("Gather", 13, nil, 1, x, i64([]int{20, 20}, idx...))
	if err != nil {
		t.Fatal(err)
	}
	y := out[0].F64()
	for k, i := range idx {
		row := (int(i) + 300) % 300
		for j := 0; j < 257; j++ {
			if want := float64(row*257 + j); y[k*257+j] != want {
				t.Fatalf("row %d col %d = %v, want %v", k, j, y[k*257+j], want)
			}
		}
	}
}
