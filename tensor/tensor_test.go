package tensor

import (
	"slices"
	"testing"
)

func TestBroadcastShape(t *testing.T) {
	cases := []struct {
		a, b, want []int
		ok         bool
	}{
		{[]int{2, 3}, []int{3}, []int{2, 3}, true},
		{[]int{2, 1, 4}, []int{3, 1}, []int{2, 3, 4}, true},
		{[]int{}, []int{5}, []int{5}, true},
		{[]int{2, 3}, []int{2}, nil, false},
		{[]int{0, 3}, []int{1, 3}, []int{0, 3}, true},
	}
	for _, c := range cases {
		got, err := BroadcastShape(c.a, c.b)
		if (err == nil) != c.ok || (c.ok && !SameShape(got, c.want)) {
			t.Errorf("BroadcastShape(%v, %v) = %v, %v; want %v ok=%v", c.a, c.b, got, err, c.want, c.ok)
		}
	}
}

// TestIndexWalk: the broadcasting walker visits every output element once,
// with the offsets a hand-written loop gives.
func TestIndexWalk(t *testing.T) {
	out := []int{2, 3, 4}
	a := []int{2, 1, 4}
	b := []int{3, 1}
	sa, sb := BroadcastStrides(a, out), BroadcastStrides(b, out)
	it := NewIndex(out, sa, sb)
	n := 0
	for it.Next() {
		i, j := n/(3*4), (n/4)%3
		if it.Off[0] != i*4 || it.Off[1] != j {
			t.Fatalf("run %d: offsets %v, want [%d %d]", n/4, it.Off, i*4, j)
		}
		if it.InnerStride[0] != 1 || it.InnerStride[1] != 0 || it.Inner != 4 {
			t.Fatalf("inner strides %v, inner %d", it.InnerStride, it.Inner)
		}
		n += it.Inner
	}
	if n != 24 {
		t.Fatalf("visited %d elements, want 24", n)
	}
}

// TestIndexSeek: Seek(r) gives the offsets of run r of a plain walk, and
// Next goes on from there; past the end the walk is over.
func TestIndexSeek(t *testing.T) {
	out := []int{2, 3, 4}
	sa, sb := BroadcastStrides([]int{2, 1, 4}, out), BroadcastStrides([]int{3, 1}, out)
	var want [][]int
	for it := NewIndex(out, sa, sb); it.Next(); {
		want = append(want, slices.Clone(it.Off))
	}
	for r := range want {
		it := NewIndex(out, sa, sb)
		if !it.Seek(r) || !slices.Equal(it.Off, want[r]) {
			t.Fatalf("Seek(%d): offsets %v, want %v", r, it.Off, want[r])
		}
		for q := r + 1; q < len(want); q++ {
			if !it.Next() || !slices.Equal(it.Off, want[q]) {
				t.Fatalf("Seek(%d) then Next to run %d: offsets %v, want %v", r, q, it.Off, want[q])
			}
		}
		if it.Next() {
			t.Fatalf("Seek(%d): the walk goes on past run %d", r, len(want)-1)
		}
	}
	if NewIndex(out, sa, sb).Seek(len(want)) {
		t.Fatal("Seek past the last run succeeded")
	}
	if it := NewIndex([]int{}, []int{}); !it.Seek(0) || it.Inner != 1 || it.Next() {
		t.Fatal("a scalar walk is one run")
	}
	if NewIndex([]int{2, 0}, []int{0, 1}).Seek(0) {
		t.Fatal("Seek in an empty walk succeeded")
	}
}

func TestCloneReshapeInts(t *testing.T) {
	x := New([]int{2, 2}, []int64{1, 2, 3, 4})
	c := x.Clone()
	c.I64()[0] = 9
	if x.I64()[0] != 1 {
		t.Fatal("Clone shares data")
	}
	r := x.Reshaped([]int{4})
	if r.Rank() != 1 || r.Len() != 4 {
		t.Fatal("Reshaped")
	}
	v, err := x.Ints()
	if err != nil || v[3] != 4 {
		t.Fatal(v, err)
	}
	if _, err := New([]int{1}, []float32{1}).Ints(); err == nil {
		t.Fatal("Ints of a float tensor must fail")
	}
}

func TestTranspose2D(t *testing.T) {
	x := New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	y := Transpose2D(x)
	if !SameShape(y.Shape, []int{3, 2}) || !slices.Equal(y.F32(), []float32{1, 4, 2, 5, 3, 6}) {
		t.Fatalf("Transpose2D = %v", y)
	}
	if z := Transpose2D(New([]int{1, 2}, []float64{7, 8})); !SameShape(z.Shape, []int{2, 1}) || !slices.Equal(z.F64(), []float64{7, 8}) {
		t.Fatalf("Transpose2D float64 = %v", z)
	}
	if x.F32()[1] != 2 {
		t.Fatal("Transpose2D changed its input")
	}
}
