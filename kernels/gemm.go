package kernels

import "sync"

// GEMM: C = alpha * op(A) * op(B) + beta * C on row-major matrices.
//
// Structure (BLIS-like, simplified so that tiles are independent tasks):
//
//	C is cut into tiles of at most gemmMC×gemmNC (multiples of the
//	micro-kernel's mr×nr, see gemmTiles); each tile is one task of one
//	ParallelFor over all tiles of all products of a batch. A task walks k in
//	blocks of gemmKC: it packs the block of op(A) (mc×kc) into strips of mr
//	rows and the block of op(B) (kc×nc) into strips of nr columns, then runs
//	the mr×nr micro-kernel over every pair of strips and adds the result into C.
//
// Every element of C is computed the same way wherever its tile falls: for
// each k block in order, one accumulator summed over p in order, then
// C = alpha·acc (first block, beta = 0) or C += alpha·acc. So the bits do not
// depend on the tiling, and tiles may shrink to give every worker a task
// (gemmTiles) while results stay identical on any number of threads.
// The micro-kernel is pure Go (kern4x4) or, on amd64, assembly
// (gemm_amd64.s) for AVX-512 or AVX2+FMA.

const (
	gemmMC = 128 // rows of C per task, at most (rounded down to a multiple of mr)
	gemmNC = 512 // columns of C per task, at most (rounded down to a multiple of nr)
	gemmKC = 256 // depth of one packed block

	// Products with fewer multiply-adds than this skip packing and run a
	// simple loop.
	gemmSmall = 8 * 1024

	// gemmPackCost is the cost of packing one element, in multiply-adds of
	// the micro-kernel (about 0.25 ns against 0.008 ns), for choosing tiles.
	gemmPackCost = 32
)

// microKernel computes the mr×nr tile Σ_p a[p*mr+r]·b[p*nr+j] (p < kc) of
// packed strips a (kc×mr) and b (kc×nr) and writes c[r*ldc+j] = alpha·tile
// (acc false) or c[r*ldc+j] += alpha·tile (acc true). kc is at least 1.
type microKernel[T float32 | float64] struct {
	mr, nr int
	mc, nc int // task tile: gemmMC×gemmNC rounded down to multiples of mr, nr
	fn     func(kc int, a, b, c []T, ldc int, alpha T, acc bool)
	// fnS, when set, is fn with strided operands, so that strips can be
	// read in place instead of packed: A element (r, p) at a[p*aP + r*aR],
	// B row p (nr elements) at b[p*bP:] (packed strips: aP = mr, aR = 1,
	// bP = nr). Same sums in the same order as fn.
	fnS  func(kc int, a []T, aP, aR int, b []T, bP int, c []T, ldc int, alpha T, acc bool)
	name string
}

func newKernel[T float32 | float64](mr, nr int, fn func(kc int, a, b, c []T, ldc int, alpha T, acc bool), name string) microKernel[T] {
	return microKernel[T]{mr: mr, nr: nr, mc: gemmMC / mr * mr, nc: gemmNC / nr * nr, fn: fn, name: name}
}

// The kernels in use: the portable ones, replaced at init by assembly where
// the CPU has it (gemm_amd64.go).
var (
	kernel32 = newKernel(4, 4, kern4x4[float32], "go-4x4")
	kernel64 = newKernel(4, 4, kern4x4[float64], "go-4x4")
)

// KernelName reports the float32 and float64 micro-kernels in use.
func KernelName() (f32, f64 string) { return kernel32.name, kernel64.name }

func kernelFor[T float32 | float64]() microKernel[T] {
	var z T
	switch any(z).(type) {
	case float32:
		return any(kernel32).(microKernel[T])
	default:
		return any(kernel64).(microKernel[T])
	}
}

// Gemm computes C = alpha * op(A) * op(B) + beta * C for row-major matrices,
// where op(X) is X or its transpose. op(A) is m×k, op(B) is k×n, C is m×n.
// lda, ldb and ldc are the row strides of A, B and C as stored.
// This is the single matrix-product entry point of ft; faster kernels plug in
// here. Results do not depend on the number of threads.
// When beta is 0, C is only written (NaNs in C do not propagate).
func Gemm[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	zero := []int{0}
	GemmBatch(transA, transB, m, n, k, alpha, a, zero, lda, b, zero, ldb, beta, c, zero, ldc)
}

// GemmBatch computes len(cOff) independent products
//
//	C[cOff[i]:] = alpha * op(A[aOff[i]:]) * op(B[bOff[i]:]) + beta * C[cOff[i]:]
//
// of the same sizes (as Gemm), sharing one parallel loop over all their tiles:
// the entry point for batched and broadcast matrix products. A and B offsets
// may repeat (a broadcast operand); the C regions must not overlap. Each
// product gives exactly the bits Gemm gives for it alone.
func GemmBatch[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, aOff []int, lda int, b []T, bOff []int, ldb int, beta T, c []T, cOff []int, ldc int) {
	if gemmBatchTrivial("kernels.GemmBatch", m, n, k, alpha == 0, aOff, bOff, beta, c, cOff, ldc) {
		return
	}
	batch := len(cOff)
	if m*n*k <= gemmSmall {
		ParallelFor(batch, Grain(batch, 2*m*n*k), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gemmSimple(transA, transB, m, n, k, alpha, a[aOff[i]:], lda, b[bOff[i]:], ldb, beta, c[cOff[i]:], ldc)
			}
		})
		return
	}
	kern := kernelFor[T]()
	g := newGemmGrid(kern.mr, kern.nr, kern.mc, kern.nc, m, n, k, batch)
	mcT, ncT, mPad, nPad := g.mc, g.nc, g.mPad, g.nPad
	// An operand that several tiles share (op(B) when there are several
	// rows of tiles, op(A) when there are several columns) is packed once,
	// in parallel, instead of once per tile.
	// With a strided kernel, full strips of op(A) are read in place (A or
	// Aᵀ as stored: 8 contiguous rows, or 8 contiguous columns per p), and
	// so are those of B as stored when one tile uses them and its rows are
	// short (attention's V, K, dC).
	var pre0 tilePre[T]
	if kern.fnS != nil {
		pre0.directA = true
		pre0.directB = !transB && g.tm == 1 && ldb <= 2*kern.nr
	}
	var preA, preB *[]T
	if g.tn > 1 && !pre0.directA {
		preA = prepack(packA[T], transA, a, aOff, lda, m, mPad, k, kern.mr)
		defer putPackBuf(preA)
	}
	if g.tm > 1 {
		preB = prepack(packB[T], transB, b, bOff, ldb, n, nPad, k, kern.nr)
		defer putPackBuf(preB)
	}
	ParallelFor(batch*g.tiles, Grain(batch*g.tiles, g.flops), func(lo, hi int) {
		buf := getPackBuf[T](mcT*gemmKC + gemmKC*ncT + kern.mr*kern.nr)
		pa := (*buf)[:mcT*gemmKC]
		pb := (*buf)[mcT*gemmKC : mcT*gemmKC+gemmKC*ncT]
		t := (*buf)[mcT*gemmKC+gemmKC*ncT:]
		for task := lo; task < hi; task++ {
			bi, i0, j0, mc, nc := g.tile(task)
			pre := pre0
			if preA != nil {
				pre.a, pre.aw = (*preA)[bi*k*mPad:(bi+1)*k*mPad], mPad
			}
			if preB != nil {
				pre.b, pre.bw = (*preB)[bi*k*nPad:(bi+1)*k*nPad], nPad
			}
			gemmTilePre(kern, transA, transB, mc, nc, k, alpha,
				a[aOff[bi]:], lda, i0, b[bOff[bi]:], ldb, j0, beta, c[cOff[bi]+i0*ldc+j0:], ldc, pa, pb, t, pre)
		}
		putPackBuf(buf)
	})
}

// gemmBatchTrivial does the part of a batch of products that needs no
// product: nothing for an empty batch or an empty C, C = beta·C for k ≤ 0 or
// a zero alpha (alphaZero). It reports whether the batch is done, and
// panics (naming the caller) on offset lists of different lengths.
func gemmBatchTrivial[T float32 | float64](caller string, m, n, k int, alphaZero bool, aOff, bOff []int, beta T, c []T, cOff []int, ldc int) bool {
	batch := len(cOff)
	if m <= 0 || n <= 0 || batch == 0 {
		return true
	}
	if len(aOff) != batch || len(bOff) != batch {
		panic(caller + ": offset lists of different lengths")
	}
	if k <= 0 || alphaZero {
		ParallelFor(batch, Grain(batch, m*n), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				scaleC(m, n, beta, c[cOff[i]:], ldc)
			}
		})
		return true
	}
	return false
}

// gemmGrid is how a batch of m×n products is cut into tiles of mc×nc
// (gemmTiles): tm×tn tiles a product, flops of work in a full tile, and m
// and n padded to whole strips of the micro-kernel's mr and nr.
type gemmGrid struct {
	m, n, mc, nc, tm, tn, tiles, flops, mPad, nPad int
}

func newGemmGrid(mr, nr, mc, nc, m, n, k, batch int) gemmGrid {
	g := gemmGrid{m: m, n: n}
	g.mc, g.nc = gemmTiles(mr, nr, mc, nc, m, n, batch, Workers())
	g.tm = (m + g.mc - 1) / g.mc
	g.tn = (n + g.nc - 1) / g.nc
	g.tiles = g.tm * g.tn
	g.flops = 2 * min(m, g.mc) * min(n, g.nc) * k
	g.mPad, g.nPad = (m+mr-1)/mr*mr, (n+nr-1)/nr*nr
	return g
}

// tile returns task's product bi and its tile: first row i0 and column j0
// of C, mc rows and nc columns.
func (g gemmGrid) tile(task int) (bi, i0, j0, mc, nc int) {
	bi, ti := task/g.tiles, task%g.tiles
	i0, j0 = (ti/g.tn)*g.mc, (ti%g.tn)*g.nc
	return bi, i0, j0, min(g.mc, g.m-i0), min(g.nc, g.n-j0)
}

// prepack packs an operand of width w (op(A)'s rows or op(B)'s columns) of
// every product whole, with pack (packA or packB): k blocks of gemmKC in
// order, block p0 at p0·pad holding all strips of r, as a tile would pack
// them. Per product k·pad elements, products one after another.
func prepack[T float32 | float64](pack func(bool, []T, int, int, int, int, int, int, []T), trans bool,
	src []T, off []int, ld, w, pad, k, r int) *[]T {
	size := k * pad
	buf := getPackBuf[T](len(off) * size)
	dst := *buf
	g := newPackGrid(len(off), k, gemmKC, w, r)
	ParallelFor(g.units, Grain(g.units, 2*g.group*gemmKC), func(lo, hi int) {
		for u := lo; u < hi; u++ {
			bi, p0, kc, j0, cols := g.unit(u)
			pack(trans, src[off[bi]:], ld, j0, cols, p0, kc, r, dst[bi*size+p0*pad+j0*kc:])
		}
	})
	return buf
}

// packGrid cuts the packing of a whole operand (prepack, prepackBF16) into
// units of work: per product, per k block of kcMax, a group of columns
// (op(A)'s rows or op(B)'s columns), a whole number of strips of r.
type packGrid struct {
	k, kcMax, w, group, groups, kBlocks, units int
}

func newPackGrid(batch, k, kcMax, w, r int) packGrid {
	g := packGrid{k: k, kcMax: kcMax, w: w, group: max(1, 64/r) * r}
	g.kBlocks = (k + kcMax - 1) / kcMax
	g.groups = (w + g.group - 1) / g.group
	g.units = batch * g.kBlocks * g.groups
	return g
}

// unit returns unit u's product bi, k block (from p0, kc long) and columns
// (from j0, cols wide).
func (g packGrid) unit(u int) (bi, p0, kc, j0, cols int) {
	bi, rest := u/(g.kBlocks*g.groups), u%(g.kBlocks*g.groups)
	p0, j0 = (rest/g.groups)*g.kcMax, (rest%g.groups)*g.group
	return bi, p0, min(g.kcMax, g.k-p0), j0, min(g.group, g.w-j0)
}

// tilePre points a tile at operands packed beforehand (prepack), nil where
// the tile packs its own: a (b) holds one product's packed op(A) (op(B)),
// aw (bw) its padded width.
type tilePre[T float32 | float64] struct {
	a, b   []T
	aw, bw int
	// directA (directB): full strips of op(A) (op(B)) are read in place
	// by kern.fnS, only a last partial strip is packed.
	directA, directB bool
}

// gemmTiles returns the task tile. Starting from mc×nc, it halves the larger
// side (in whole strips, down to 2 strips) and keeps the tiling with the least
// estimated time: rounds of tasks over the workers times one task's cost
// (mc·nc multiply-adds plus (mc+nc)·gemmPackCost for packing, per unit of k).
func gemmTiles(mr, nr, mc, nc, m, n, batch, workers int) (int, int) {
	mc, nc = min(mc, (m+mr-1)/mr*mr), min(nc, (n+nr-1)/nr*nr)
	cost := func(mc, nc int) int {
		tasks := batch * ((m + mc - 1) / mc) * ((n + nc - 1) / nc)
		rounds := (tasks + workers - 1) / max(workers, 1)
		return rounds * (mc*nc + gemmPackCost*(mc+nc))
	}
	bestM, bestN, best := mc, nc, cost(mc, nc)
	for {
		switch {
		case nc >= 4*nr && nc >= mc:
			nc = (nc/nr + 1) / 2 * nr
		case mc >= 4*mr:
			mc = (mc/mr + 1) / 2 * mr
		case nc >= 4*nr:
			nc = (nc/nr + 1) / 2 * nr
		default:
			return bestM, bestN
		}
		if c := cost(mc, nc); c < best {
			bestM, bestN, best = mc, nc, c
		}
	}
}

// gemmTile computes the mc×nc tile of C whose top-left element is op(A) row
// i0, op(B) column j0 (c starts at that element).
func gemmTile[T float32 | float64](kern microKernel[T], transA, transB bool, mc, nc, k int, alpha T,
	a []T, lda, i0 int, b []T, ldb, j0 int, beta T, c []T, ldc int, pa, pb, t []T) {
	gemmTilePre(kern, transA, transB, mc, nc, k, alpha, a, lda, i0, b, ldb, j0, beta, c, ldc, pa, pb, t, tilePre[T]{})
}

// gemmTilePre is gemmTile reading op(A) and/or op(B) from pre where given.
func gemmTilePre[T float32 | float64](kern microKernel[T], transA, transB bool, mc, nc, k int, alpha T,
	a []T, lda, i0 int, b []T, ldb, j0 int, beta T, c []T, ldc int, pa, pb, t []T, pre tilePre[T]) {
	mr, nr := kern.mr, kern.nr
	directA := pre.directA && pre.a == nil
	directB := pre.directB && pre.b == nil
	for p0 := 0; p0 < k; p0 += gemmKC {
		kc := min(gemmKC, k-p0)
		switch {
		case pre.a != nil:
			pa = pre.a[p0*pre.aw+i0*kc:]
		case directA:
			if s := mc / mr * mr; s < mc {
				packA(transA, a, lda, i0+s, mc-s, p0, kc, mr, pa[s*kc:])
			}
		default:
			packA(transA, a, lda, i0, mc, p0, kc, mr, pa)
		}
		switch {
		case pre.b != nil:
			pb = pre.b[p0*pre.bw+j0*kc:]
		case directB:
			if s := nc / nr * nr; s < nc {
				packB(transB, b, ldb, j0+s, nc-s, p0, kc, nr, pb[s*kc:])
			}
		default:
			packB(transB, b, ldb, j0, nc, p0, kc, nr, pb)
		}
		first := p0 == 0
		if first && beta != 0 && beta != 1 {
			scaleC(mc, nc, beta, c, ldc)
		}
		acc := !first || beta != 0
		for jr := 0; jr < nc; jr += nr {
			nn := min(nr, nc-jr)
			bs, bP := pb[jr*kc:jr*kc+nr*kc], nr
			if directB && nn == nr {
				bs, bP = b[p0*ldb+j0+jr:], ldb
			}
			for ir := 0; ir < mc; ir += mr {
				mm := min(mr, mc-ir)
				as, aP, aR := pa[ir*kc:ir*kc+mr*kc], mr, 1
				switch {
				case !directA || mm < mr:
				case transA: // op(A)[i][p] = a[p*lda+i]
					as, aP, aR = a[p0*lda+i0+ir:], lda, 1
				default:
					as, aP, aR = a[(i0+ir)*lda+p0:], 1, lda
				}
				dst, ld, ac := c[ir*ldc+jr:], ldc, acc
				edge := mm < mr || nn < nr
				if edge { // through the scratch tile t
					dst, ld, ac = t, nr, false
				}
				if aP == mr && aR == 1 && bP == nr {
					kern.fn(kc, as, bs, dst, ld, alpha, ac)
				} else {
					kern.fnS(kc, as, aP, aR, bs, bP, dst, ld, alpha, ac)
				}
				if !edge {
					continue
				}
				storeTile(c[ir*ldc+jr:], ldc, t, nr, mm, nn, acc)
			}
		}
	}
}

// storeTile moves the mm×nn corner of the scratch tile t (rows nr apart)
// into c (from its first element, rows ldc apart): c += t when acc, else
// c = t. It finishes the edge tiles a micro-kernel computes into t.
func storeTile[T float32 | float64](c []T, ldc int, t []T, nr, mm, nn int, acc bool) {
	for r := 0; r < mm; r++ {
		crow := c[r*ldc : r*ldc+nn]
		trow := t[r*nr : r*nr+nn]
		if acc {
			for j, v := range trow {
				crow[j] += v
			}
		} else {
			copy(crow, trow)
		}
	}
}

// packA copies rows [i0, i0+mc) × columns [p0, p0+kc) of op(A) into strips of
// mr rows: strip s holds dst[s*kc + p*mr + r] = op(A)[i0+s+r][p0+p],
// zero-padded past mc.
func packA[T float32 | float64](trans bool, a []T, lda, i0, mc, p0, kc, mr int, dst []T) {
	for s := 0; s < mc; s += mr {
		d := dst[s*kc : s*kc+mr*kc]
		if trans { // op(A)[i][p] = a[p*lda+i]
			packN(a, lda, i0+s, min(mr, mc-s), p0, kc, mr, d)
		} else {
			packT(a, lda, i0+s, min(mr, mc-s), p0, kc, mr, d)
		}
	}
}

// packB copies rows [p0, p0+kc) × columns [j0, j0+nc) of op(B) into strips of
// nr columns: dst[s*kc + p*nr + c] = op(B)[p0+p][j0+s+c], zero-padded.
func packB[T float32 | float64](trans bool, b []T, ldb, j0, nc, p0, kc, nr int, dst []T) {
	for s := 0; s < nc; s += nr {
		d := dst[s*kc : s*kc+nr*kc]
		if trans { // op(B)[p][j] = b[j*ldb+p]
			packT(b, ldb, j0+s, min(nr, nc-s), p0, kc, nr, d)
		} else {
			packN(b, ldb, j0+s, min(nr, nc-s), p0, kc, nr, d)
		}
	}
}

// packN packs a panel whose strip rows are contiguous in the source:
// d[p*w+c] = src[(p0+p)*ld + c0 + c] for c < n, zero for n ≤ c < w.
func packN[T float32 | float64](src []T, ld, c0, n, p0, kc, w int, d []T) {
	for p := 0; p < kc; p++ {
		dp := d[p*w : p*w+w]
		sp := src[(p0+p)*ld+c0:][:n]
		if n == 8 && w == 8 {
			dp = dp[:8:8]
			sp = sp[:8:8]
			dp[0], dp[1], dp[2], dp[3], dp[4], dp[5], dp[6], dp[7] = sp[0], sp[1], sp[2], sp[3], sp[4], sp[5], sp[6], sp[7]
			continue
		}
		copy(dp, sp)
		clear(dp[n:])
	}
}

// packT packs a panel whose strip columns are contiguous in the source
// (a transposing copy), eight source rows at a time:
// d[p*w+c] = src[(r0+c)*ld + p0 + p] for c < n, zero for n ≤ c < w.
func packT[T float32 | float64](src []T, ld, r0, n, p0, kc, w int, d []T) {
	c := 0
	for ; c+8 <= n; c += 8 {
		s0 := src[(r0+c)*ld+p0:][:kc]
		s1 := src[(r0+c+1)*ld+p0:][:len(s0)]
		s2 := src[(r0+c+2)*ld+p0:][:len(s0)]
		s3 := src[(r0+c+3)*ld+p0:][:len(s0)]
		s4 := src[(r0+c+4)*ld+p0:][:len(s0)]
		s5 := src[(r0+c+5)*ld+p0:][:len(s0)]
		s6 := src[(r0+c+6)*ld+p0:][:len(s0)]
		s7 := src[(r0+c+7)*ld+p0:][:len(s0)]
		o := c
		for p, v := range s0 {
			dp := d[o : o+8 : o+8]
			dp[0], dp[1], dp[2], dp[3], dp[4], dp[5], dp[6], dp[7] = v, s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p]
			o += w
		}
	}
	for ; c < n; c++ {
		for p, v := range src[(r0+c)*ld+p0:][:kc] {
			d[p*w+c] = v
		}
	}
	for ; c < w; c++ {
		for p := 0; p < kc; p++ {
			d[p*w+c] = 0
		}
	}
}

// kern4x4 is the portable micro-kernel: a 4×4 tile in 16 scalar accumulators
// (the Go compiler keeps most in registers; about 4.5 GFLOP/s a core).
func kern4x4[T float32 | float64](kc int, a, b, c []T, ldc int, alpha T, acc bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 T
	a = a[:kc*4]
	b = b[:kc*4]
	for p := 0; p+4 <= len(a) && p+4 <= len(b); p += 4 {
		aa := a[p : p+4 : p+4]
		bb := b[p : p+4 : p+4]
		a0, a1, a2, a3 := aa[0], aa[1], aa[2], aa[3]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r0 := c[0*ldc : 0*ldc+4 : 0*ldc+4]
	r1 := c[1*ldc : 1*ldc+4 : 1*ldc+4]
	r2 := c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := c[3*ldc : 3*ldc+4 : 3*ldc+4]
	if acc {
		r0[0], r0[1], r0[2], r0[3] = r0[0]+alpha*c00, r0[1]+alpha*c01, r0[2]+alpha*c02, r0[3]+alpha*c03
		r1[0], r1[1], r1[2], r1[3] = r1[0]+alpha*c10, r1[1]+alpha*c11, r1[2]+alpha*c12, r1[3]+alpha*c13
		r2[0], r2[1], r2[2], r2[3] = r2[0]+alpha*c20, r2[1]+alpha*c21, r2[2]+alpha*c22, r2[3]+alpha*c23
		r3[0], r3[1], r3[2], r3[3] = r3[0]+alpha*c30, r3[1]+alpha*c31, r3[2]+alpha*c32, r3[3]+alpha*c33
		return
	}
	r0[0], r0[1], r0[2], r0[3] = alpha*c00, alpha*c01, alpha*c02, alpha*c03
	r1[0], r1[1], r1[2], r1[3] = alpha*c10, alpha*c11, alpha*c12, alpha*c13
	r2[0], r2[1], r2[2], r2[3] = alpha*c20, alpha*c21, alpha*c22, alpha*c23
	r3[0], r3[1], r3[2], r3[3] = alpha*c30, alpha*c31, alpha*c32, alpha*c33
}

// scaleC sets C = beta*C (C = 0 when beta is 0).
func scaleC[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemmSimple is the unpacked path for small products.
func gemmSimple[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	var row, at []T
	if !transB {
		row = make([]T, n)
	} else if transA {
		at = make([]T, k)
	}
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if !transB {
			// row = Σ_p op(A)[i][p] · B[p][:]
			clear(row)
			for p := 0; p < k; p++ {
				var av T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				bp := b[p*ldb : p*ldb+n]
				for j, bv := range bp {
					row[j] += av * bv
				}
			}
			storeRow(crow, row, alpha, beta)
			continue
		}
		// op(B)[p][j] = B[j][p]: dot products of op(A)'s row with B's rows.
		var ai []T
		if transA {
			for p := 0; p < k; p++ {
				at[p] = a[p*lda+i]
			}
			ai = at
		} else {
			ai = a[i*lda : i*lda+k]
		}
		for j := range crow {
			s := alpha * dot(ai, b[j*ldb:j*ldb+k])
			if beta == 0 {
				crow[j] = s
			} else {
				crow[j] = beta*crow[j] + s
			}
		}
	}
}

func storeRow[T float32 | float64](crow, row []T, alpha, beta T) {
	row = row[:len(crow)]
	if beta == 0 {
		for j, v := range row {
			crow[j] = alpha * v
		}
		return
	}
	for j, v := range row {
		crow[j] = alpha*v + beta*crow[j]
	}
}

func dot[T float32 | float64](x, y []T) T {
	var s0, s1, s2, s3 T
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < n; i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

var packPool32, packPool64 sync.Pool

func getPackBuf[T float32 | float64](n int) *[]T {
	var z T
	p := &packPool64
	if _, ok := any(z).(float32); ok {
		p = &packPool32
	}
	if v, ok := p.Get().(*[]T); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	s := make([]T, n)
	return &s
}

func putPackBuf[T float32 | float64](b *[]T) {
	var z T
	if _, ok := any(z).(float32); ok {
		packPool32.Put(b)
	} else {
		packPool64.Put(b)
	}
}
