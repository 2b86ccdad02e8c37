package ops

import (
	"math/rand"
	"testing"

	"ft/tensor"
)

// einsumCases: equations (explicit form, letters only, so that the
// brute-force reference can read them) with operand shapes; alt is an
// equivalent implicit or ellipsis spelling that must give the same result.
var einsumCases = []struct {
	eq     string
	alt    string
	shapes [][]int
}{
	{"ij,jk->ik", "ij,jk", [][]int{{3, 4}, {4, 5}}},
	{"i,i->", "i,i", [][]int{{5}, {5}}},
	{"bij->bji", "", [][]int{{2, 3, 4}}},
	{"ij->ji", "ij->ji", [][]int{{3, 4}}},
	{"ij->", "", [][]int{{3, 4}}},
	{"ii->", "ii", [][]int{{4, 4}}},
	{"ii->i", "", [][]int{{4, 4}}},
	{"bii->bi", "...ii->...i", [][]int{{2, 3, 3}}},
	{"bfnd,ndh->bfh", "", [][]int{{2, 3, 4, 5}, {4, 5, 6}}}, // ALBERT attention output
	{"bfh,hnd->bfnd", "", [][]int{{2, 3, 6}, {6, 4, 5}}},    // ALBERT q/k/v
	{"bhqd,bhkd->bhqk", "...qd,...kd->...qk", [][]int{{2, 3, 4, 5}, {2, 3, 6, 5}}},
	{"bhqk,bhkd->bhqd", "", [][]int{{2, 3, 4, 6}, {2, 3, 6, 5}}},
	{"bhid,bhjd->bhij", "", [][]int{{1, 2, 3, 4}, {1, 2, 5, 4}}},
	{"bnij,bjnd->bind", "", [][]int{{2, 3, 4, 5}, {2, 5, 3, 6}}}, // batch not leading in B
	{"ij,ij->ij", "", [][]int{{3, 4}, {3, 4}}},                   // Hadamard (k empty)
	{"i,j->ij", "i,j", [][]int{{3}, {4}}},                        // outer product
	{"ij,j->i", "ij,j", [][]int{{3, 4}, {4}}},
	{"bij,bjk->bik", "...ij,...jk->...ik", [][]int{{2, 3, 4}, {1, 4, 5}}}, // broadcast batch
	{"ijk,ikl->jl", "", [][]int{{2, 3, 4}, {2, 4, 5}}},                    // two contracted labels
	{"abc,cd->abd", "", [][]int{{2, 1, 3}, {3, 4}}},
	{"iij,jk->ik", "", [][]int{{3, 3, 4}, {4, 2}}},                // diagonal inside a pair
	{"ij,jk,kl->il", "ij,jk,kl", [][]int{{2, 3}, {3, 4}, {4, 5}}}, // three operands
	{"ijx,jk->ik", "", [][]int{{2, 3, 2}, {3, 4}}},                // private label summed
	{"Ab,bC->AC", "Ab,bC", [][]int{{2, 3}, {3, 4}}},
	{"ij,jk->ik", "", [][]int{{40, 70}, {70, 50}}}, // packed GEMM
}

func TestEinsumForward(t *testing.T) {
	// Hand-derived: trace of [[1,2],[3,4]] = 5; [1,2,3]·[4,5,6] = 32.
	laClose(t, "trace", laRun(t, laNode("Einsum", 12, "equation", "ii"), tensor.New([]int{2, 2}, []float64{1, 2, 3, 4}))[0], []int{}, []float64{5}, 0)
	laClose(t, "inner", laRun(t, laNode("Einsum", 12, "equation", "i,i"),
		tensor.New([]int{3}, []float32{1, 2, 3}), tensor.New([]int{3}, []float32{4, 5, 6}))[0], []int{}, []float64{32}, 0)
	laClose(t, "transpose", laRun(t, laNode("Einsum", 12, "equation", "ij->ji"), tensor.New([]int{2, 3}, []float64{1, 2, 3, 4, 5, 6}))[0],
		[]int{3, 2}, []float64{1, 4, 2, 5, 3, 6}, 0)
	// Implicit output is in character order: "ba" -> "ab" is a transpose.
	laClose(t, "implicit-order", laRun(t, laNode("Einsum", 12, "equation", "ba"), tensor.New([]int{2, 3}, []float64{1, 2, 3, 4, 5, 6}))[0],
		[]int{3, 2}, []float64{1, 4, 2, 5, 3, 6}, 0)

	r := rand.New(rand.NewSource(8))
	for _, c := range einsumCases {
		in := make([]*tensor.Tensor, len(c.shapes))
		in32 := make([]*tensor.Tensor, len(c.shapes))
		for i, s := range c.shapes {
			in[i] = randT(r, -1, 1, s...)
			in32[i] = laF32(in[i])
		}
		want, shape := laNaiveEinsum(c.eq, in...)
		laClose(t, c.eq+"/f64", laRun(t, laNode("Einsum", 12, "equation", c.eq), in...)[0], shape, want, 1e-12)
		laClose(t, c.eq+"/f32", laRun(t, laNode("Einsum", 12, "equation", c.eq), in32...)[0], shape, want, 1e-5)
		if c.alt != "" {
			laClose(t, c.alt, laRun(t, laNode("Einsum", 12, "equation", c.alt), in...)[0], shape, want, 1e-12)
		}
	}
	// Ellipsis with a different number of dimensions per operand.
	a, b := randT(r, -1, 1, 2, 3, 4, 5), randT(r, -1, 1, 3, 5, 6)
	want, _ := laNaiveEinsum("abij,bjk->abik", a, b)
	laClose(t, "ellipsis-ranks", laRun(t, laNode("Einsum", 12, "equation", "...ij,...jk->...ik"), a, b)[0], []int{2, 3, 4, 6}, want, 1e-12)
	// Spaces are ignored.
	x, y := a.Reshaped([]int{6, 20}), randT(r, 0, 1, 20, 1)
	want, _ = laNaiveEinsum("ij,jk->ik", x, y)
	laClose(t, "spaces", laRun(t, laNode("Einsum", 12, "equation", " ij , jk -> ik "), x, y)[0], []int{6, 1}, want, 1e-12)
}

func TestEinsumErrors(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, c := range []struct {
		eq     string
		shapes [][]int
	}{
		{"ij,jk->ik", [][]int{{2, 3}, {4, 5}}}, // sizes disagree
		{"ij,jk->ik", [][]int{{2, 3}}},         // operand count
		{"ij->ik", [][]int{{2, 3}}},            // output label in no input
		{"ij->ii", [][]int{{2, 3}}},            // repeated output label
		{"ijk->i", [][]int{{2, 3}}},            // rank
		{"i.j->i", [][]int{{2, 3}}},            // bad ellipsis
		{"i1->i", [][]int{{2, 3}}},             // bad character
	} {
		in := make([]*tensor.Tensor, len(c.shapes))
		for i, s := range c.shapes {
			in[i] = randT(r, 0, 1, s...)
		}
		if err := laForwardErr(laNode("Einsum", 12, "equation", c.eq), in...); err == nil {
			t.Errorf("%q on %v: no error", c.eq, c.shapes)
		}
	}
}

func TestEinsumGrad(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	for _, c := range einsumCases {
		if c.shapes[0][0] >= 40 {
			continue
		}
		in := make([]*tensor.Tensor, len(c.shapes))
		for i, s := range c.shapes {
			in[i] = randT(r, -1, 1, s...)
		}
		gc := gradCase{name: c.eq, node: laNode("Einsum", 12, "equation", c.eq), in: in}
		t.Run(c.eq, func(t *testing.T) { checkGrad(t, gc) })
		if c.alt != "" {
			ga := gradCase{name: c.alt, node: laNode("Einsum", 12, "equation", c.alt), in: in}
			t.Run(c.alt, func(t *testing.T) { checkGrad(t, ga) })
		}
	}
	// Gradient for one operand only.
	gc := gradCase{name: "only-second", node: laNode("Einsum", 12, "equation", "ij,jk,kl->il"),
		in: []*tensor.Tensor{randT(r, -1, 1, 2, 3), randT(r, -1, 1, 3, 4), randT(r, -1, 1, 4, 2)}, wrt: []int{1}}
	t.Run(gc.name, func(t *testing.T) { checkGrad(t, gc) })
}

// TestEinsumNoCopy: the equations transformer exports use are plain batched
// GEMMs on the operands as stored (no gather, no final transpose).
func TestEinsumNoCopy(t *testing.T) {
	for _, c := range []struct {
		eq     string
		shapes [][]int
	}{
		{"bfnd,ndh->bfh", [][]int{{2, 3, 4, 5}, {4, 5, 6}}},
		{"bfh,hnd->bfnd", [][]int{{2, 3, 6}, {6, 4, 5}}},
		{"bhqd,bhkd->bhqk", [][]int{{2, 3, 4, 5}, {2, 3, 6, 5}}},
		{"bhqk,bhkd->bhqd", [][]int{{2, 3, 4, 6}, {2, 3, 6, 5}}},
		{"ij,jk->ik", [][]int{{3, 4}, {4, 5}}},
		{"ij,kj->ik", [][]int{{3, 4}, {5, 4}}},
		{"ji,jk->ik", [][]int{{4, 3}, {4, 5}}},
	} {
		o, err := parseEinsum(c.eq)
		if err != nil {
			t.Fatal(err)
		}
		p, err := o.plan(c.shapes)
		if err != nil {
			t.Fatal(err)
		}
		s := p.steps[0]
		if !s.sa.id || !s.sb.id || !p.final.id {
			t.Errorf("%s: copies (A view %v, B view %v, output view %v)", c.eq, s.sa.id, s.sb.id, p.final.id)
		}
	}
}
