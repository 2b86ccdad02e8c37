package kernels

import "sync"

// GEMM: C = alpha * op(A) * op(B) + beta * C on row-major matrices.
//
// Structure (BLIS-like, simplified so that tiles are independent tasks):
//
//	C is cut into fixed tiles of gemmMC×gemmNC; each tile is one task of one
//	ParallelFor over all tiles of all products of a batch. A task walks k in
//	blocks of gemmKC: it packs the block of op(A) (mc×kc) into strips of mr
//	rows and the block of op(B) (kc×nc) into strips of nr columns, then runs
//	the mr×nr micro-kernel over every pair of strips and adds the result into C.
//
// Every element of C is summed in the same order (k blocks in order, p in
// order within a block) whatever the number of threads: tile boundaries depend
// only on m, n and k, so results are bit-identical on any machine with the same
// kernel. The micro-kernel is pure Go (kern4x4); an assembly kernel may replace
// it through gemmKernels.

const (
	gemmMC = 64  // rows of C per task (a multiple of every mr)
	gemmNC = 256 // columns of C per task (a multiple of every nr)
	gemmKC = 256 // depth of one packed block

	// Products with fewer multiply-adds than this (or one row / one column)
	// skip packing and run a simple loop.
	gemmSmall = 8 * 1024
)

// microKernel computes t[r*nr+c] = Σ_p a[p*mr+r]·b[p*nr+c] over p < kc for a
// packed strip a (kc×mr) and b (kc×nr).
type microKernel[T float32 | float64] struct {
	mr, nr int
	fn     func(kc int, a, b, t []T)
}

var (
	kernel32 = microKernel[float32]{4, 4, kern4x4[float32]}
	kernel64 = microKernel[float64]{4, 4, kern4x4[float64]}
)

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
	batch := len(cOff)
	if m <= 0 || n <= 0 || batch == 0 {
		return
	}
	if len(aOff) != batch || len(bOff) != batch {
		panic("kernels.GemmBatch: offset lists of different lengths")
	}
	if k <= 0 || alpha == 0 {
		ParallelFor(batch, Grain(batch, m*n), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				scaleC(m, n, beta, c[cOff[i]:], ldc)
			}
		})
		return
	}
	if m*n*k <= gemmSmall || m == 1 || n == 1 {
		ParallelFor(batch, Grain(batch, 2*m*n*k), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gemmSimple(transA, transB, m, n, k, alpha, a[aOff[i]:], lda, b[bOff[i]:], ldb, beta, c[cOff[i]:], ldc)
			}
		})
		return
	}
	tm := (m + gemmMC - 1) / gemmMC
	tn := (n + gemmNC - 1) / gemmNC
	tiles := tm * tn
	flops := 2 * min(m, gemmMC) * min(n, gemmNC) * k
	kern := kernelFor[T]()
	ParallelFor(batch*tiles, Grain(batch*tiles, flops), func(lo, hi int) {
		buf := getPackBuf[T](gemmMC*gemmKC + gemmKC*gemmNC + kern.mr*kern.nr)
		pa := (*buf)[:gemmMC*gemmKC]
		pb := (*buf)[gemmMC*gemmKC : gemmMC*gemmKC+gemmKC*gemmNC]
		t := (*buf)[gemmMC*gemmKC+gemmKC*gemmNC:]
		for task := lo; task < hi; task++ {
			bi, ti := task/tiles, task%tiles
			i0, j0 := (ti/tn)*gemmMC, (ti%tn)*gemmNC
			mc, nc := min(gemmMC, m-i0), min(gemmNC, n-j0)
			gemmTile(kern, transA, transB, mc, nc, k, alpha,
				a[aOff[bi]:], lda, i0, b[bOff[bi]:], ldb, j0, beta, c[cOff[bi]+i0*ldc+j0:], ldc, pa, pb, t)
		}
		putPackBuf(buf)
	})
}

// gemmTile computes the mc×nc tile of C whose top-left element is op(A) row
// i0, op(B) column j0 (c starts at that element).
func gemmTile[T float32 | float64](kern microKernel[T], transA, transB bool, mc, nc, k int, alpha T,
	a []T, lda, i0 int, b []T, ldb, j0 int, beta T, c []T, ldc int, pa, pb, t []T) {
	mr, nr := kern.mr, kern.nr
	for p0 := 0; p0 < k; p0 += gemmKC {
		kc := min(gemmKC, k-p0)
		packA(transA, a, lda, i0, mc, p0, kc, mr, pa)
		packB(transB, b, ldb, j0, nc, p0, kc, nr, pb)
		first := p0 == 0
		for jr := 0; jr < nc; jr += nr {
			bs := pb[jr*kc : jr*kc+nr*kc]
			nn := min(nr, nc-jr)
			for ir := 0; ir < mc; ir += mr {
				as := pa[ir*kc : ir*kc+mr*kc]
				kern.fn(kc, as, bs, t)
				mm := min(mr, mc-ir)
				for r := 0; r < mm; r++ {
					crow := c[(ir+r)*ldc+jr : (ir+r)*ldc+jr+nn]
					trow := t[r*nr : r*nr+nn]
					switch {
					case !first:
						for j, v := range trow {
							crow[j] += alpha * v
						}
					case beta == 0:
						for j, v := range trow {
							crow[j] = alpha * v
						}
					case beta == 1:
						for j, v := range trow {
							crow[j] += alpha * v
						}
					default:
						for j, v := range trow {
							crow[j] = beta*crow[j] + alpha*v
						}
					}
				}
			}
		}
	}
}

// packA copies rows [i0, i0+mc) × columns [p0, p0+kc) of op(A) into strips of
// mr rows: strip s holds dst[s*mr*kc + p*mr + r] = op(A)[i0+s*mr+r][p0+p],
// zero-padded past mc.
func packA[T float32 | float64](trans bool, a []T, lda, i0, mc, p0, kc, mr int, dst []T) {
	for s := 0; s < mc; s += mr {
		d := dst[s*kc : s*kc+mr*kc]
		rows := min(mr, mc-s)
		if trans {
			// op(A)[i][p] = a[p*lda+i]: rows of a are contiguous in i.
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0+s : (p0+p)*lda+i0+s+rows]
				dp := d[p*mr : p*mr+mr]
				copy(dp, src)
				for r := rows; r < mr; r++ {
					dp[r] = 0
				}
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := a[(i0+s+r)*lda+p0 : (i0+s+r)*lda+p0+kc]
			for p, v := range src {
				d[p*mr+r] = v
			}
		}
		for r := rows; r < mr; r++ {
			for p := 0; p < kc; p++ {
				d[p*mr+r] = 0
			}
		}
	}
}

// packB copies rows [p0, p0+kc) × columns [j0, j0+nc) of op(B) into strips of
// nr columns: dst[s*nr*kc + p*nr + c] = op(B)[p0+p][j0+s*nr+c], zero-padded.
func packB[T float32 | float64](trans bool, b []T, ldb, j0, nc, p0, kc, nr int, dst []T) {
	for s := 0; s < nc; s += nr {
		d := dst[s*kc : s*kc+nr*kc]
		cols := min(nr, nc-s)
		if !trans {
			for p := 0; p < kc; p++ {
				src := b[(p0+p)*ldb+j0+s : (p0+p)*ldb+j0+s+cols]
				dp := d[p*nr : p*nr+nr]
				copy(dp, src)
				for c := cols; c < nr; c++ {
					dp[c] = 0
				}
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: rows of b are contiguous in p.
		for c := 0; c < cols; c++ {
			src := b[(j0+s+c)*ldb+p0 : (j0+s+c)*ldb+p0+kc]
			for p, v := range src {
				d[p*nr+c] = v
			}
		}
		for c := cols; c < nr; c++ {
			for p := 0; p < kc; p++ {
				d[p*nr+c] = 0
			}
		}
	}
}

// kern4x4 is the portable micro-kernel: a 4×4 tile in 16 scalar accumulators.
func kern4x4[T float32 | float64](kc int, a, b, t []T) {
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
	t = t[:16]
	t[0], t[1], t[2], t[3] = c00, c01, c02, c03
	t[4], t[5], t[6], t[7] = c10, c11, c12, c13
	t[8], t[9], t[10], t[11] = c20, c21, c22, c23
	t[12], t[13], t[14], t[15] = c30, c31, c32, c33
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

// gemmSimple is the unpacked path for small products, GEMV shapes included.
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
