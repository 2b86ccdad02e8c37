package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"
)

// bf16Kernels returns every bf16 micro-kernel this build and CPU can run,
// the portable one first; with exact, only those that compute VDPBF16PS's
// definition.
func bf16Kernels(exact bool) []bf16Kernel {
	bf16Kern() // the kernel in use is set up before tests swap it
	var ks []bf16Kernel
	for _, k := range append([]bf16Kernel{newBF16Kernel(4, 4, bf16KernGo, "go-4x4")}, bf16AsmKernels()...) {
		if k.exact || !exact {
			ks = append(ks, k)
		}
	}
	return ks
}

// bf16Special draws bf16 patterns that stress the kernels' semantics:
// tiny and huge magnitudes (products that under- or overflow float32,
// results near 2^-126), signed zeros, denormals (flushed by packing), Inf
// and NaN, besides ordinary values.
func bf16Special(r *rand.Rand) uint16 {
	sign := uint16(r.Intn(2)) << 15
	mant := uint16(r.Intn(128))
	switch r.Intn(10) {
	case 0: // tiny: exponent 1..20 (products below 2^-126)
		return sign | uint16(1+r.Intn(20))<<7 | mant
	case 1: // around 2^-63: products near 2^-126
		return sign | uint16(127-63-2+r.Intn(5))<<7 | mant
	case 2: // huge
		return sign | uint16(230+r.Intn(25))<<7 | mant
	case 3:
		return sign // ±0
	case 4:
		if r.Intn(8) == 0 {
			return sign | 0x7f80 // ±Inf
		}
		if r.Intn(8) == 0 {
			return sign | 0x7fc0 | mant&0x3f // NaN
		}
	}
	return sign | uint16(120+r.Intn(15))<<7 | mant // ordinary: 2^-7 .. 2^7
}

// TestBF16KernelsAgree runs every kernel on the same packed strips and
// wants the same bits (NaN for NaN): the AVX512_BF16 hardware, its AVX-512F
// emulation and the Go emulation of VDPBF16PS's definition.
func TestBF16KernelsAgree(t *testing.T) {
	ks := bf16Kernels(true)
	r := rand.New(rand.NewSource(11))
	const mr, nr = 8, 32 // the largest tile; smaller kernels run over it in pieces
	for trial := 0; trial < 400; trial++ {
		kc2 := 1 + r.Intn(40)
		a := make([]uint32, kc2*mr)
		b := make([]uint32, kc2*nr)
		special := trial%2 == 1
		for i := range a {
			if special {
				a[i] = uint32(bf16Special(r)) | uint32(bf16Special(r))<<16
			} else {
				a[i] = uint32(BF16FromF32(float32(r.NormFloat64()))) | uint32(BF16FromF32(float32(r.NormFloat64())))<<16
			}
		}
		for i := range b {
			if special {
				b[i] = uint32(bf16Special(r)) | uint32(bf16Special(r))<<16
			} else {
				b[i] = uint32(BF16FromF32(float32(r.NormFloat64()))) | uint32(BF16FromF32(float32(r.NormFloat64())))<<16
			}
		}
		for i := range a { // packing flushes denormals
			a[i] = uint32(bf16DAZ(uint16(a[i]))) | uint32(bf16DAZ(uint16(a[i]>>16)))<<16
		}
		for i := range b {
			b[i] = uint32(bf16DAZ(uint16(b[i]))) | uint32(bf16DAZ(uint16(b[i]>>16)))<<16
		}
		alpha := float32(1)
		if trial%3 == 0 {
			alpha = 0.75
		}
		acc := trial%4 == 0
		c0 := make([]float32, mr*nr)
		for i := range c0 {
			c0[i] = float32(r.NormFloat64())
		}
		var ref []float32
		for _, k := range ks {
			c := append([]float32(nil), c0...)
			// the tile in pieces of k.mr×k.nr, strips cut from a and b
			for i0 := 0; i0 < mr; i0 += k.mr {
				for j0 := 0; j0 < nr; j0 += k.nr {
					as := make([]uint32, kc2*k.mr)
					bs := make([]uint32, kc2*k.nr)
					for q := 0; q < kc2; q++ {
						copy(as[q*k.mr:(q+1)*k.mr], a[q*mr+i0:q*mr+i0+k.mr])
						copy(bs[q*k.nr:(q+1)*k.nr], b[q*nr+j0:q*nr+j0+k.nr])
					}
					k.fn(kc2, as, bs, c[i0*nr+j0:], nr, alpha, acc)
				}
			}
			if ref == nil {
				ref = c
				continue
			}
			for i := range c {
				x, y := math.Float32bits(c[i]), math.Float32bits(ref[i])
				if x != y && !(c[i] != c[i] && ref[i] != ref[i]) {
					row, col := i/nr, i%nr
					var trace string
					for q := 0; q < kc2; q++ {
						trace += fmt.Sprintf(" (%08x·%08x)", a[q*mr+row], b[q*nr+col])
					}
					t.Fatalf("trial %d kc2 %d alpha %v acc %v: %s C[%d][%d] = %v (%08x), %s %v (%08x); c0 %v; pairs%s",
						trial, kc2, alpha, acc, k.name, row, col, c[i], x, ks[0].name, ref[i], y, c0[i], trace)
				}
			}
		}
	}
}

// TestBF16Semantics pins VDPBF16PS's definition with hand-derived sums of
// one element (k = 4: pairs (k0 low, k1 high), (k2, k3)), run by every
// kernel through GemmBF16 on bf16 operands.
func TestBF16Semantics(t *testing.T) {
	h := func(x float64) uint16 { // exact bf16 of x
		b := BF16FromF32(float32(x))
		if float64(BF16ToF32(b)) != x {
			panic(fmt.Sprint("not a bf16 value: ", x))
		}
		return b
	}
	for _, c := range []struct {
		name string
		a, b [4]float64
		want float64
	}{
		// pair 0 gives 1 (high) + 2^-24 (low) = 1 (tie to even); pair 1 adds
		// 2^-24 (high: 1 again) then -1 (low): 0. Low products first would
		// give 1 + 2^-24 - 1 + 2^-24 ... = 2^-24.
		{"high product first", [4]float64{0x1p-24, 1, -1, 0x1p-24}, [4]float64{1, 1, 1, 1}, 0},
		// 2^-140 alone is below 2^-126: flushed (the exact sum is 2^-140).
		{"tiny result flushed", [4]float64{0, 0x1p-70, 0, 0}, [4]float64{0, 0x1p-70, 0, 0}, 0},
		// a tiny product added to a normal accumulator is kept
		{"tiny product kept", [4]float64{0x1p-70, 1, 0, 0}, [4]float64{0x1p-70, 1, 0, 0}, 1 + 0x1p-140},
		// 2^-126 + 2^-149, then - 1.25·2^-149: 2^-126 - 2^-151 rounds (24 bits,
		// unbounded exponent) to 2^-126: not tiny after rounding.
		{"tininess after rounding", [4]float64{0x1p-75, 0x1p-63, 0, -1.25 * 0x1p-75}, [4]float64{0x1p-74, 0x1p-63, 0, 0x1p-74}, 0x1p-126},
		// ... - 1.5·2^-149: 2^-126 - 2^-150 is on the 24-bit grid, tiny:
		// flushed (the denormal grid would round it to 2^-126).
		{"tiny on the 24-bit grid", [4]float64{0x1p-75, 0x1p-63, 0, -1.5 * 0x1p-75}, [4]float64{0x1p-74, 0x1p-63, 0, 0x1p-74}, 0},
		// products beyond float32: 2^100·2^100 = Inf
		{"overflow", [4]float64{0x1p100, 0, 0, 0}, [4]float64{0x1p100, 0, 0, 0}, math.Inf(1)},
		// fused: -1.5·2^127 (high, an exact float32 accumulator), then
		// 2^127·2 = 2^128 (low, beyond float32): 2^126 once rounded, not Inf
		{"fused past the range", [4]float64{0x1p127, -0x1p127, 0, 0}, [4]float64{2, 1.5, 0, 0}, 0x1p126},
	} {
		var a, b [4]uint16
		for i := range a {
			a[i], b[i] = h(c.a[i]), h(c.b[i])
		}
		for _, k := range bf16Kernels(true) {
			old := kernelBF16
			kernelBF16 = k
			out := []float32{float32(math.NaN())}
			GemmBF16(false, true, 1, 1, 4, 1, a[:], 4, b[:], 4, 0, out, 1)
			kernelBF16 = old
			if float64(out[0]) != c.want {
				t.Errorf("%s: %s: got %g, want %g", c.name, k.name, out[0], c.want)
			}
		}
	}
}

// TestBF16FromF32 checks the rounding against hand-derived bit patterns.
func TestBF16FromF32(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // 1 + 2^-8: tie, to even (down)
		{0x3f818000, 0x3f82}, // 1 + 3·2^-8: tie, to even (up)
		{0x3f808001, 0x3f81}, // just above the tie: up
		{0x3f807fff, 0x3f80}, // just below: down
		{0xbf808001, 0xbf81}, // negative, away from zero in magnitude
		{0x00000000, 0x0000}, // +0
		{0x80000000, 0x8000}, // -0
		{0x00000001, 0x0000}, // smallest denormal: to +0
		{0x807fffff, 0x8000}, // largest negative denormal: to -0
		{0x00800000, 0x0080}, // smallest normal
		{0x7f7fffff, 0x7f80}, // float32 max rounds up to +Inf
		{0x7f7f7fff, 0x7f7f}, // largest value that rounds to bf16 max
		{0x7f7f8000, 0x7f80}, // tie at bf16 max: to even (Inf)
		{0x7f800000, 0x7f80}, // +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x7fc00000, 0x7fc0}, // quiet NaN
		{0x7f800001, 0x7fc0}, // signalling NaN, payload in the low half: quieted
		{0xff810000, 0xffc1}, // negative signalling NaN: sign and upper payload kept
		{0x7fffffff, 0x7fff}, // NaN with every payload bit: not rounded into Inf
	} {
		if got := BF16FromF32(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("BF16FromF32(%08x) = %04x, want %04x", c.in, got, c.want)
		}
	}
}

// TestBF16Run: bf16 operands are copied with denormals flushed to signed
// zero, four at a time as one by one (every pattern).
func TestBF16Run(t *testing.T) {
	src := make([]uint16, 1<<16+3)
	for i := range src {
		src[i] = uint16(i * 7919) // every pattern (7919 is odd), and a tail
	}
	dst := make([]uint16, len(src))
	bf16Run(dst, src)
	for i, h := range src {
		want := h
		if h&0x7f80 == 0 {
			want = h & 0x8000
		}
		if dst[i] != want {
			t.Fatalf("bf16Run(%04x) = %04x, want %04x", h, dst[i], want)
		}
	}
}

// TestBF16Round: the vectorized rounding (VCVTNE2PS2BF16) gives
// BF16FromF32's bits for every upper half and a set of lower halves
// (ties, around ties, NaN payloads, denormals).
func TestBF16Round(t *testing.T) {
	lows := []uint32{0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0x4000, 0xc000}
	src := make([]float32, 0, 1<<16*len(lows))
	for hi := uint32(0); hi < 1<<16; hi++ {
		for _, lo := range lows {
			src = append(src, math.Float32frombits(hi<<16|lo))
		}
	}
	src = append(src, 1, 2, 3) // a tail past a multiple of 32
	got := make([]uint16, len(src))
	BF16Round(got, src)
	for i, x := range src {
		if want := BF16FromF32(x); got[i] != want {
			t.Fatalf("BF16Round(%08x) = %04x, want %04x", math.Float32bits(x), got[i], want)
		}
	}
}

// naiveGemmBF16 is the reference: the float64 triple loop on the
// bf16-rounded operands, with an error bound for float32 accumulation:
// k sequential roundings of the running sum, one per k block when C is
// updated, alpha and beta (first order, u = 2^-24):
// (k + 2·blocks + 3)·u·(|alpha|·Σ|a·b| + |beta·C|).
func naiveGemmBF16(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, bound []float64) {
	want, bound = make([]float64, m*n), make([]float64, m*n)
	bf := func(x float32) float64 { return float64(BF16ToF32(BF16FromF32(x))) }
	blocks := (k + bf16KC - 1) / bf16KC
	u := (float64(k+2*blocks) + 3) * 0x1p-24
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s, sa := 0.0, 0.0
			for p := 0; p < k; p++ {
				av, bv := opElem(a, lda, transA, i, p), opElem(b, ldb, transB, p, j)
				s += bf(av) * bf(bv)
				sa += math.Abs(bf(av) * bf(bv))
			}
			r := float64(alpha) * s
			e := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				r += float64(beta) * float64(c[i*ldc+j])
				e += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], bound[i*n+j] = r, u*e
		}
	}
	return want, bound
}

var gemmBF16Cases = append([]gemmCase{
	{1, 1, 1, 1, 0, 0},
	{7, 7, 7, 1, 0, 0},
	{33, 33, 33, 1, 1, 1},
	{129, 129, 129, 0.5, 0, 0},
	{1, 129, 33, 1, 0, 2},
	{129, 1, 7, -2, 1, 0},
	{9, 40, 1100, 1, 0.25, 1}, // three k blocks, the last one odd
	{17, 70, 513, 1, 0, 0},    // one value past a block
}, gemmCases...)

// TestGemmBF16 runs every bf16 kernel against the reference, every
// transposition, and wants the bits of the portable kernel from each exact
// one.
func TestGemmBF16(t *testing.T) {
	ks := bf16Kernels(false)
	old := kernelBF16
	defer func() { kernelBF16 = old }()
	r := rand.New(rand.NewSource(12))
	for _, tc := range gemmBF16Cases {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				name := fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v_a%g_b%g_pad%d", tc.m, tc.n, tc.k, ta, tb, tc.alpha, tc.beta, tc.pad)
				a, b, c0, lda, ldb, ldc := gemmOperands[float32](r, tc, ta, tb)
				alpha, beta := float32(tc.alpha), float32(tc.beta)
				want, bound := naiveGemmBF16(ta, tb, tc.m, tc.n, tc.k, alpha, a, lda, b, ldb, beta, c0, ldc)
				var ref []float32
				for _, k := range ks {
					kernelBF16 = k
					c := append([]float32(nil), c0...)
					GemmBF16(ta, tb, tc.m, tc.n, tc.k, alpha, a, lda, b, ldb, beta, c, ldc)
					for i := 0; i < tc.m; i++ {
						for j := 0; j < ldc; j++ {
							got := c[i*ldc+j]
							if j >= tc.n {
								if o := c0[i*ldc+j]; math.Float32bits(got) != math.Float32bits(o) {
									t.Fatalf("%s %s: wrote padding C[%d][%d]", k.name, name, i, j)
								}
								continue
							}
							if w := want[i*tc.n+j]; math.Abs(float64(got)-w) > bound[i*tc.n+j] {
								t.Fatalf("%s %s: C[%d][%d] = %v, want %v ± %g", k.name, name, i, j, got, w, bound[i*tc.n+j])
							}
						}
					}
					if ref == nil {
						ref = c
						continue
					}
					for i := range c {
						if !k.exact {
							break
						}
						if math.Float32bits(c[i]) != math.Float32bits(ref[i]) && !(c[i] != c[i] && ref[i] != ref[i]) {
							t.Fatalf("%s %s: element %d = %v, %s gave %v", k.name, name, i, c[i], ks[0].name, ref[i])
						}
					}
				}
			}
		}
	}
}

// TestGemmBF16Operands: bf16 operands (uint16, as BF16Round makes them)
// give the bits of the float32 operands they were rounded from, in any
// mix, and bf16 denormals count as zero.
func TestGemmBF16Operands(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for _, sz := range [][3]int{{5, 9, 7}, {140, 530, 301}, {64, 40, 1030}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, b := randSlice[float32](r, m*k), randSlice[float32](r, k*n)
				lda, ldb := leadingDims(m, n, k, ta, tb)
				a16, b16 := make([]uint16, len(a)), make([]uint16, len(b))
				BF16Round(a16, a)
				BF16Round(b16, b)
				for i := 0; i < len(a16); i += 17 { // denormal patterns in the bf16 operand
					a16[i] = a16[i]&0x8000 | uint16(1+i%127)
					a[i] = 0
				}
				want := make([]float32, m*n)
				GemmBF16(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0, want, n)
				for v := 0; v < 3; v++ {
					c := make([]float32, m*n)
					switch v {
					case 0:
						GemmBF16(ta, tb, m, n, k, 1.5, a16, lda, b16, ldb, 0, c, n)
					case 1:
						GemmBF16(ta, tb, m, n, k, 1.5, a16, lda, b, ldb, 0, c, n)
					case 2:
						GemmBF16(ta, tb, m, n, k, 1.5, a, lda, b16, ldb, 0, c, n)
					}
					for i := range c {
						if c[i] != want[i] {
							t.Fatalf("%v tA=%v tB=%v variant %d: element %d = %v, float32 operands gave %v", sz, ta, tb, v, i, c[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestGemmBatchBF16: a strided batch with broadcast (repeated) offsets
// gives the bits of separate calls.
func TestGemmBatchBF16(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	for _, sz := range [][3]int{{3, 4, 5}, {70, 90, 300}, {128, 64, 128}} {
		m, n, k := sz[0], sz[1], sz[2]
		const batch = 5
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a := randSlice[float32](r, 2*m*k)
				b := randSlice[float32](r, k*n)
				lda, ldb := leadingDims(m, n, k, ta, tb)
				aOff, bOff, cOff := broadcastOffsets(batch, m, n, k)
				c := randSlice[float32](r, batch*m*n)
				want := append([]float32(nil), c...)
				for i := 0; i < batch; i++ {
					GemmBF16(ta, tb, m, n, k, 0.5, a[aOff[i]:], lda, b, ldb, 2, want[cOff[i]:], n)
				}
				GemmBatchBF16(ta, tb, m, n, k, 0.5, a, aOff, lda, b, bOff, ldb, 2, c, cOff, n)
				for i := range c {
					if c[i] != want[i] {
						t.Fatalf("%v tA=%v tB=%v: element %d: batch %v, single %v", sz, ta, tb, i, c[i], want[i])
					}
				}
			}
		}
	}
}

// TestGemmBF16TilingInvariant: the bits do not depend on the tiling (so
// not on the number of workers), nor on operands packed once for all tiles.
func TestGemmBF16TilingInvariant(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	m, n, k := 150, 333, 1100
	a, b := randSlice[float32](r, m*k), randSlice[float32](r, k*n)
	c0 := randSlice[float32](r, m*n)
	old := kernelBF16
	defer func() { kernelBF16 = old }()
	for _, kern := range bf16Kernels(false) {
		kernelBF16 = kern
		for _, tr := range [][2]bool{{false, true}, {true, false}} {
			ta, tb := tr[0], tr[1]
			lda, ldb := leadingDims(m, n, k, ta, tb)
			var ref []float32
			for _, w := range []int{1, 2, 3, 16, 64, 1000} {
				mc, nc := gemmTiles(kern.mr, kern.nr, kern.mc, kern.nc, m, n, 1, w)
				c := append([]float32(nil), c0...)
				pa := make([]uint32, mc*bf16KC/2)
				pb := make([]uint32, nc*bf16KC/2)
				tt := make([]float32, kern.mr*kern.nr)
				for i0 := 0; i0 < m; i0 += mc {
					for j0 := 0; j0 < n; j0 += nc {
						bf16Tile(kern, ta, tb, min(mc, m-i0), min(nc, n-j0), k, 0.5, a, lda, i0, b, ldb, j0, 1.5, c[i0*n+j0:], n, pa, pb, tt, bf16Pre{})
					}
				}
				if ref == nil {
					ref = c
					continue
				}
				for i := range c {
					if c[i] != ref[i] {
						t.Fatalf("%s tA=%v: workers %d (tile %d×%d): element %d differs: %v vs %v", kern.name, ta, w, mc, nc, i, c[i], ref[i])
					}
				}
			}
			c := append([]float32(nil), c0...)
			GemmBF16(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 1.5, c, n)
			for i := range c {
				if c[i] != ref[i] {
					t.Fatalf("%s tA=%v: GemmBF16: element %d differs from the tile-by-tile product: %v vs %v", kern.name, ta, i, c[i], ref[i])
				}
			}
		}
	}
}

// BenchmarkGemmLayersBF16 times every layer product of layerShapes in
// float32 (GemmBatch) and bf16 (GemmBatchBF16) one after the other, so that
// a shared machine's load hits both alike, and reports GFLOP/s (wall) and
// GFLOP/cpu-s (per second of CPU time of the process, steadier on a loaded
// machine; see cpuSeconds):
//
//	f32     GemmBatch on float32 operands
//	bf16    GemmBatchBF16 on the same float32 operands (rounded while packed)
//	bf16w   the weight operand (B of the -fwd and -dx products) already bf16
//	bf16in  both operands already bf16 (as autocast passes activations)
//
//	go test ./kernels -run '^$' -bench GemmLayersBF16
func BenchmarkGemmLayersBF16(b *testing.B) {
	names, shapes := layerShapes()
	for i, s := range shapes {
		batch, m, n, k, ta, tb := s[0], s[1], s[2], s[3], s[4] == 1, s[5] == 1
		var a, bb []float32
		var a16, b16 []uint16
		var c []float32
		setup := sync.OnceFunc(func() { // only for the shapes that run
			r := rand.New(rand.NewSource(3))
			a, bb = randSlice[float32](r, batch*m*k), randSlice[float32](r, batch*k*n)
			a16, b16 = make([]uint16, len(a)), make([]uint16, len(bb))
			BF16Round(a16, a)
			BF16Round(b16, bb)
			c = make([]float32, batch*m*n)
		})
		lda, ldb := leadingDims(m, n, k, ta, tb)
		aOff, bOff, cOff := batchOffsets(batch, m, n, k)
		flop := 2 * float64(batch) * float64(m) * float64(n) * float64(k)
		type variant struct {
			name string
			fn   func()
		}
		runs := []variant{
			{"f32", func() { GemmBatch(ta, tb, m, n, k, 1, a, aOff, lda, bb, bOff, ldb, 0, c, cOff, n) }},
			{"bf16", func() { GemmBatchBF16(ta, tb, m, n, k, 1, a, aOff, lda, bb, bOff, ldb, 0, c, cOff, n) }},
		}
		if batch == 1 && !ta { // X·W or dY·Wᵀ: B is a weight
			runs = append(runs, variant{"bf16w", func() { GemmBatchBF16(ta, tb, m, n, k, 1, a, aOff, lda, b16, bOff, ldb, 0, c, cOff, n) }})
		}
		runs = append(runs, variant{"bf16in", func() { GemmBatchBF16(ta, tb, m, n, k, 1, a16, aOff, lda, b16, bOff, ldb, 0, c, cOff, n) }})
		for _, run := range runs {
			b.Run(names[i]+"/"+run.name, func(b *testing.B) {
				setup()
				run.fn() // warm the pools
				b.ResetTimer()
				cpu0 := cpuSeconds()
				for i := 0; i < b.N; i++ {
					run.fn()
				}
				cpu := cpuSeconds() - cpu0
				b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu > 0 {
					b.ReportMetric(flop*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}
