package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// opElem is element [i][j] of op(X) for X stored with leading dimension ld
// (transposed where trans).
func opElem[T any](x []T, ld int, trans bool, i, j int) T {
	if trans {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}

// naiveGemm is the reference: a triple loop in float64.
func naiveGemm[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				av, bv := opElem(a, lda, transA, i, p), opElem(b, ldb, transB, p, j)
				s += float64(av) * float64(bv)
			}
			r := float64(alpha) * s
			if beta != 0 {
				r += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = r
		}
	}
	return out
}

func randSlice[T float32 | float64](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.Float64()*2 - 1)
	}
	return s
}

type gemmCase struct {
	m, n, k     int
	alpha, beta float64
	pad         int // extra elements per row of A, B and C (lda > columns)
}

// gemmOperands draws tc's operands for the transpositions ta, tb, every row
// padded by tc.pad: A and B random, C random, or NaN where beta is 0 (C
// must then not be read).
func gemmOperands[T float32 | float64](r *rand.Rand, tc gemmCase, ta, tb bool) (a, b, c []T, lda, ldb, ldc int) {
	ar, ac := tc.m, tc.k
	if ta {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tb {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc = ac+tc.pad, bc+tc.pad, tc.n+tc.pad
	a = randSlice[T](r, max(ar*lda, 1))
	b = randSlice[T](r, max(br*ldb, 1))
	c = randSlice[T](r, tc.m*ldc)
	if tc.beta == 0 {
		for i := range c {
			c[i] = T(math.NaN())
		}
	}
	return a, b, c, lda, ldb, ldc
}

// leadingDims returns lda and ldb of unpadded operands of op(A) m×k and
// op(B) k×n, stored transposed where ta, tb.
func leadingDims(m, n, k int, ta, tb bool) (lda, ldb int) {
	lda, ldb = k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	return lda, ldb
}

// broadcastOffsets returns the offsets of a batch with broadcast operands:
// two A matrices used alternately, one B for all, C one after another.
func broadcastOffsets(batch, m, n, k int) (aOff, bOff, cOff []int) {
	for i := 0; i < batch; i++ {
		aOff, bOff, cOff = append(aOff, (i%2)*m*k), append(bOff, 0), append(cOff, i*m*n)
	}
	return aOff, bOff, cOff
}

// batchOffsets returns the offsets of batch products stored one after
// another (A m×k, B k×n, C m×n).
func batchOffsets(batch, m, n, k int) (aOff, bOff, cOff []int) {
	for i := 0; i < batch; i++ {
		aOff, bOff, cOff = append(aOff, i*m*k), append(bOff, i*k*n), append(cOff, i*m*n)
	}
	return aOff, bOff, cOff
}

var gemmCases = []gemmCase{
	{1, 1, 1, 1, 0, 0},
	{3, 5, 7, 1, 0, 0},
	{1, 37, 19, 1, 0, 0}, // row vector (GEMV path)
	{29, 1, 31, 1, 0, 0}, // column vector
	{17, 23, 0, 1, 0.5, 0},
	{37, 41, 43, 1, 0, 0},
	{37, 41, 43, 0.5, 2, 3},
	{67, 259, 13, 1, 1, 1},
	{131, 263, 300, 1.5, -0.5, 2}, // several tiles and two k blocks, odd edges
	{64, 256, 512, 1, 0, 0},       // exact tiles
	{5, 300, 600, 2, 0, 1},
	{65, 5, 517, 1, 1, 0},
	{1, 300, 200, 1, 0, 0}, // GEMV shapes on the packed path
	{300, 1, 200, 1, 1, 0},
	{140, 530, 300, 1, 0.5, 0}, // several rows and columns of tiles: A and B packed once for all tiles
	{70, 100, 300, 1, 0, 5},    // row strides larger than the rows (A read in place with lda)
}

// TestGemmDirectA: reading A in place (fnA) gives the bits of packing it.
func TestGemmDirectA(t *testing.T) {
	if kernel32.fnS == nil {
		t.Skip("no in-place A kernel on this CPU")
	}
	r := rand.New(rand.NewSource(6))
	old := kernel32
	defer func() { kernel32 = old }()
	for _, sz := range [][3]int{{4096, 384, 384}, {131, 263, 300}, {128, 32, 128}, {37, 41, 43}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tb := range []bool{false, true} {
			a, b := randSlice[float32](r, m*(k+3)), randSlice[float32](r, k*n)
			ldb := n
			if tb {
				ldb = k
			}
			var c [2][]float32
			for i, fnS := range []func(int, []float32, int, int, []float32, int, []float32, int, float32, bool){nil, old.fnS} {
				kernel32.fnS = fnS
				c[i] = randSlice[float32](rand.New(rand.NewSource(1)), m*n)
				Gemm(false, tb, m, n, k, 0.5, a, k+3, b, ldb, 1.5, c[i], n)
			}
			for i := range c[0] {
				if c[0][i] != c[1][i] {
					t.Fatalf("%v tB=%v: element %d: packed A %v, in place %v", sz, tb, i, c[0][i], c[1][i])
				}
			}
		}
	}
	// batches of attention-sized products, every transposition: Aᵀ and B
	// are read in place too
	for _, sz := range [][3]int{{128, 32, 128}, {128, 128, 32}, {100, 40, 70}, {8, 32, 5}} {
		m, n, k := sz[0], sz[1], sz[2]
		const batch = 3
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, b := randSlice[float32](r, batch*m*k), randSlice[float32](r, batch*k*n)
				lda, ldb := leadingDims(m, n, k, ta, tb)
				aOff, bOff, cOff := batchOffsets(batch, m, n, k)
				var c [2][]float32
				for i, fnS := range []func(int, []float32, int, int, []float32, int, []float32, int, float32, bool){nil, old.fnS} {
					kernel32.fnS = fnS
					c[i] = make([]float32, batch*m*n)
					GemmBatch(ta, tb, m, n, k, 1, a, aOff, lda, b, bOff, ldb, 0, c[i], cOff, n)
				}
				for i := range c[0] {
					if c[0][i] != c[1][i] {
						t.Fatalf("batch %v tA=%v tB=%v: element %d: packed %v, in place %v", sz, ta, tb, i, c[0][i], c[1][i])
					}
				}
			}
		}
	}
}

func testGemm[T float32 | float64](t *testing.T, tol float64) {
	r := rand.New(rand.NewSource(1))
	for _, tc := range gemmCases {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				name := fmt.Sprintf("%T/m%d_n%d_k%d_tA%v_tB%v_a%g_b%g_pad%d", T(0), tc.m, tc.n, tc.k, ta, tb, tc.alpha, tc.beta, tc.pad)
				a, b, c, lda, ldb, ldc := gemmOperands[T](r, tc, ta, tb)
				want := naiveGemm(ta, tb, tc.m, tc.n, tc.k, T(tc.alpha), a, lda, b, ldb, T(tc.beta), c, ldc)
				orig := append([]T(nil), c...)
				Gemm(ta, tb, tc.m, tc.n, tc.k, T(tc.alpha), a, lda, b, ldb, T(tc.beta), c, ldc)
				for i := 0; i < tc.m; i++ {
					for j := 0; j < ldc; j++ {
						got := float64(c[i*ldc+j])
						if j >= tc.n {
							if o := float64(orig[i*ldc+j]); got != o && !(math.IsNaN(got) && math.IsNaN(o)) {
								t.Fatalf("%s: wrote padding C[%d][%d]", name, i, j)
							}
							continue
						}
						w := want[i*tc.n+j]
						if math.Abs(got-w) > tol*(1+math.Abs(w))*math.Sqrt(float64(tc.k+1)) {
							t.Fatalf("%s: C[%d][%d] = %v, want %v", name, i, j, got, w)
						}
					}
				}
			}
		}
	}
}

// TestGemm runs every micro-kernel this CPU has (the portable Go one and the
// assembly ones) against the reference.
func TestGemm(t *testing.T) {
	k32, k64 := asmKernels()
	k32 = append([]microKernel[float32]{newKernel(4, 4, kern4x4[float32], "go-4x4")}, k32...)
	k64 = append([]microKernel[float64]{newKernel(4, 4, kern4x4[float64], "go-4x4")}, k64...)
	old32, old64 := kernel32, kernel64
	defer func() { kernel32, kernel64 = old32, old64 }()
	for i := range k32 {
		kernel32, kernel64 = k32[i], k64[i]
		t.Run(k32[i].name+"/float32", func(t *testing.T) { testGemm[float32](t, 1e-6) })
		t.Run(k64[i].name+"/float64", func(t *testing.T) { testGemm[float64](t, 1e-14) })
	}
}

// TestGemmBatch checks that a batch with broadcast (repeated) offsets gives
// exactly the bits of separate Gemm calls.
func TestGemmBatch(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, sz := range [][3]int{{3, 4, 5}, {70, 90, 300}} {
		m, n, k := sz[0], sz[1], sz[2]
		const batch = 5
		a := randSlice[float32](r, 2*m*k) // two A matrices, used alternately
		b := randSlice[float32](r, k*n)   // one B for all
		aOff, bOff, cOff := broadcastOffsets(batch, m, n, k)
		c := randSlice[float32](r, batch*m*n)
		want := append([]float32(nil), c...)
		for i := 0; i < batch; i++ {
			Gemm(false, true, m, n, k, 0.5, a[aOff[i]:], k, b, k, 2, want[cOff[i]:], n)
		}
		GemmBatch(false, true, m, n, k, 0.5, a, aOff, k, b, bOff, k, 2, c, cOff, n)
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("%v: element %d: batch %v, single %v", sz, i, c[i], want[i])
			}
		}
	}
}

// BenchmarkGemm measures BERT-sized products (tokens × hidden × FFN and the
// attention score product) and reports GFLOP/s.
func BenchmarkGemm(b *testing.B) {
	for _, s := range []struct {
		m, n, k        int
		transA, transB bool
	}{
		{128, 1536, 384, false, false}, // x·W1: 128 tokens, hidden 384, FFN 1536
		{128, 384, 1536, false, true},  // dX = dY·W1ᵀ
		{384, 1536, 128, true, false},  // dW = Xᵀ·dY
		{128, 128, 64, false, true},    // attention scores per head
	} {
		for _, dt := range []string{"float32", "float64"} {
			k32, k64 := KernelName()
			kn := k32
			if dt == "float64" {
				kn = k64
			}
			name := fmt.Sprintf("%s-%s/%dx%dx%d_tA%v_tB%v", dt, kn, s.m, s.k, s.n, s.transA, s.transB)
			b.Run(name, func(b *testing.B) {
				if dt == "float32" {
					benchGemm[float32](b, s.m, s.n, s.k, s.transA, s.transB)
				} else {
					benchGemm[float64](b, s.m, s.n, s.k, s.transA, s.transB)
				}
			})
		}
	}
}

func benchGemm[T float32 | float64](b *testing.B, m, n, k int, ta, tb bool) {
	r := rand.New(rand.NewSource(3))
	a := randSlice[T](r, m*k)
	bb := randSlice[T](r, k*n)
	c := make([]T, m*n)
	lda, ldb := leadingDims(m, n, k, ta, tb)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Gemm(ta, tb, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestGemmTilingInvariant: the bits of C do not depend on how C is cut into
// tasks (so not on the number of workers either).
func TestGemmTilingInvariant(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	m, n, k := 150, 333, 600
	a, b := randSlice[float32](r, m*k), randSlice[float32](r, k*n)
	c0 := randSlice[float32](r, m*n)
	kern := kernelFor[float32]()
	var ref []float32
	for _, w := range []int{1, 2, 3, 16, 64, 1000} {
		mc, nc := gemmTiles(kern.mr, kern.nr, kern.mc, kern.nc, m, n, 1, w)
		c := append([]float32(nil), c0...)
		buf := make([]float32, mc*gemmKC+gemmKC*nc+kern.mr*kern.nr)
		pa, pb, tt := buf[:mc*gemmKC], buf[mc*gemmKC:mc*gemmKC+gemmKC*nc], buf[mc*gemmKC+gemmKC*nc:]
		for i0 := 0; i0 < m; i0 += mc {
			for j0 := 0; j0 < n; j0 += nc {
				gemmTile(kern, false, true, min(mc, m-i0), min(nc, n-j0), k, 0.5, a, k, i0, b, k, j0, 1.5, c[i0*n+j0:], n, pa, pb, tt)
			}
		}
		if ref == nil {
			ref = c
			continue
		}
		for i := range c {
			if c[i] != ref[i] {
				t.Fatalf("workers %d (tile %d×%d): element %d differs: %v vs %v", w, mc, nc, i, c[i], ref[i])
			}
		}
	}
	// Gemm (operands packed once for all tiles) gives the same bits.
	c := append([]float32(nil), c0...)
	Gemm(false, true, m, n, k, 0.5, a, k, b, k, 1.5, c, n)
	for i := range c {
		if c[i] != ref[i] {
			t.Fatalf("Gemm: element %d differs from the tile-by-tile product: %v vs %v", i, c[i], ref[i])
		}
	}
	for _, c := range []struct{ m, n, batch, workers, mc, nc int }{
		{128, 1536, 1, 1, 128, 512},
		{128, 1536, 1, 2, 128, 256},  // 3+3 tasks rather than 2+1
		{128, 1536, 1, 16, 128, 128}, // 12 tasks in one round
		{4096, 1536, 1, 16, 128, 512},
		{128, 128, 96, 16, 128, 128}, // attention: the batch fills the workers
		{30, 20, 1, 1, 32, 32},
	} {
		if mc, nc := gemmTiles(8, 32, 128, 512, c.m, c.n, c.batch, c.workers); mc != c.mc || nc != c.nc {
			t.Errorf("gemmTiles(%d×%d, batch %d, %d workers) = %d×%d, want %d×%d", c.m, c.n, c.batch, c.workers, mc, nc, c.mc, c.nc)
		}
	}
}

// layerShapes are the float32 products of one encoder layer of MiniLM-L6
// (hidden 384, FFN 1536, 12 heads of 32) and BERT-base (768, 3072, 12 heads
// of 64) at batch 32, sequence 128 (M = 4096 tokens), forward and backward,
// as ops.MatMul issues them: dX = dY·Wᵀ and dW = Xᵀ·dY through the
// transposition flags, attention as batches of 32·12 products.
// testmodels/bench_train.py times the same products with torch.matmul.
func layerShapes() (names []string, shapes [][6]int) {
	const tokens, heads, seq = 4096, 12, 128
	for _, mdl := range []struct {
		name         string
		h, ffn, head int
	}{{"minilm", 384, 1536, 32}, {"bert-base", 768, 3072, 64}} {
		h, f, d := mdl.h, mdl.ffn, mdl.head
		add := func(what string, batch, m, n, k int, ta, tb bool) {
			t := map[bool]string{false: "N", true: "T"}
			names = append(names, fmt.Sprintf("%s-%s/b%d_m%d_n%d_k%d_%s%s", mdl.name, what, batch, m, n, k, t[ta], t[tb]))
			b2i := map[bool]int{false: 0, true: 1}
			shapes = append(shapes, [6]int{batch, m, n, k, b2i[ta], b2i[tb]})
		}
		add("proj-fwd", 1, tokens, h, h, false, false)
		add("proj-dx", 1, tokens, h, h, false, true)
		add("proj-dw", 1, h, h, tokens, true, false)
		add("ffn1-fwd", 1, tokens, f, h, false, false)
		add("ffn1-dx", 1, tokens, h, f, false, true)
		add("ffn1-dw", 1, h, f, tokens, true, false)
		add("ffn2-fwd", 1, tokens, h, f, false, false)
		add("ffn2-dx", 1, tokens, f, h, false, true)
		add("ffn2-dw", 1, f, h, tokens, true, false)
		add("scores-fwd", 32*heads, seq, seq, d, false, true)
		add("context-fwd", 32*heads, seq, d, seq, false, false)
		add("scores-dq", 32*heads, seq, d, seq, false, false)
		add("scores-dk", 32*heads, seq, d, seq, true, false)
		add("context-dp", 32*heads, seq, seq, d, false, true)
		add("context-dv", 32*heads, seq, d, seq, true, false)
	}
	return names, shapes
}

// BenchmarkGemmLayers reports GFLOP/s of every layer product (float32).
//
//	go test ./kernels -run '^$' -bench GemmLayers -benchtime 20x
func BenchmarkGemmLayers(b *testing.B) {
	names, shapes := layerShapes()
	for i, s := range shapes {
		batch, m, n, k, ta, tb := s[0], s[1], s[2], s[3], s[4] == 1, s[5] == 1
		b.Run(names[i], func(b *testing.B) {
			r := rand.New(rand.NewSource(3))
			a := randSlice[float32](r, batch*m*k)
			bb := randSlice[float32](r, batch*k*n)
			c := make([]float32, batch*m*n)
			lda, ldb := leadingDims(m, n, k, ta, tb)
			aOff, bOff, cOff := batchOffsets(batch, m, n, k)
			GemmBatch(ta, tb, m, n, k, 1, a, aOff, lda, bb, bOff, ldb, 0, c, cOff, n) // warm the pools
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				GemmBatch(ta, tb, m, n, k, 1, a, aOff, lda, bb, bOff, ldb, 0, c, cOff, n)
			}
			b.ReportMetric(2*float64(batch)*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
