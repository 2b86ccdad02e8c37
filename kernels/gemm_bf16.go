package kernels

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// bfloat16 GEMM with float32 accumulation (mixed precision, as PyTorch's CPU
// autocast runs matrix products):
//
//	C = alpha · op(bf16(A)) · op(bf16(B)) + beta · C     (C float32)
//
// Operands are float32 (rounded to bfloat16 while they are packed) or
// already bfloat16 (uint16 bit patterns, e.g. weights converted once per
// step). Packing stores pairs of consecutive-k bf16 values in one 32-bit
// lane (low half: even k), the layout of VDPBF16PS and TDPBF16PS. Blocking
// and tasks are those of the float32 GEMM (gemm.go), with k blocks of
// bf16KC values.
//
// Kernels, best first (gemm_bf16_amd64.go chooses):
//
//	amx-32x32        AMX-BF16 (TDPBF16PS), where the CPU and Linux allow it
//	avx512bf16-8x32  VDPBF16PS
//	avx512f-8x32     VDPBF16PS emulated with FMA (AVX-512F)
//	avx2-4x16        the same with AVX2 and FMA
//	go-4x4           portable Go emulation (also -tags purego)
//
// The others are exact: for each element of C and each pair of k in
// order they compute
//
//	acc = fma(a[2q+1]·b[2q+1] + acc)   then   acc = fma(a[2q]·b[2q] + acc)
//
// in float32, round to nearest even, a result that is tiny (below 2^-126
// after rounding to 24 bits with unbounded exponent) flushed to signed
// zero: the definition of VDPBF16PS in Intel's SDM (DAZ in, FTZ out, RNE;
// MXCSR not used), which the hardware follows bit for bit
// (TestBF16Semantics, TestBF16KernelsAgree). A bf16·bf16 product is exact
// in float32 (8-bit significands) unless it over- or underflows, so only the
// flush, the order of the two products and fusing past the float32 range
// make this differ from float32 multiply-adds. Odd k is padded with a zero
// half pair; C is then written as alpha·acc or C + alpha·acc (two roundings,
// no flush), once per k block. So the exact kernels give the same bits, on
// any number of threads.
//
// AMX gives other bits: measured on Sapphire Rapids, TDPBF16PS follows
// neither the SDM pseudo-code's sequential FMAs (either order of a pair)
// nor an exact sum per instruction rounded once (each differs from it in
// 14-50 % of the elements of random products, by an ulp or so); its error
// stays within the float32 accumulation bound that TestGemmBF16 checks.
// Its bits do not depend on the tiling or the number of threads either.
// DisableAMX keeps to the exact kernels (ft: FT_BF16_NOAMX=1).
//
// Speed on Sapphire Rapids: VDPBF16PS (zmm) issues once per 2 cycles with
// 64 flops, FMA twice per cycle with 32: the VDPBF16PS kernel is no faster
// than the float32 GEMM, AMX is several times faster.
//
// Rounding float32 to bf16 is VCVTNE2PS2BF16's: round to nearest even,
// NaN kept (quieted: bit 6 set), denormal inputs to signed zero. PyTorch's
// scalar c10::BFloat16 keeps denormals and returns 0x7FC0 for every NaN;
// its oneDNN kernels use the instruction.

// bf16KC is the depth of one packed block in k values (even: whole pairs).
// 512 bf16 values of 32 columns are the 32 KiB of 256 float32 values.
const bf16KC = 512

// BF16Operand is the element type of a GemmBF16 operand: float32 (rounded
// to bf16 while packed) or uint16 (bf16 bit patterns, as from BF16FromF32).
type BF16Operand interface{ float32 | uint16 }

// BF16FromF32 rounds x to bfloat16 (round to nearest even; NaN quieted,
// keeping sign and upper payload; denormals to signed zero), as
// VCVTNE2PS2BF16 does, returning its bit pattern.
func BF16FromF32(x float32) uint16 {
	u := math.Float32bits(x)
	switch {
	case u&0x7f800000 == 0: // zero or denormal
		return uint16(u>>16) & 0x8000
	case u&0x7fffffff > 0x7f800000: // NaN
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// BF16ToF32 widens a bf16 bit pattern to float32 (exact).
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// BF16Round sets dst[i] to bf16(src[i]) for i < len(src), as BF16FromF32
// (vectorized where the CPU has AVX512_BF16).
func BF16Round(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := cvtBF16Asm(dst, src)
	for i := n; i < len(src); i++ {
		dst[i] = BF16FromF32(src[i])
	}
}

// bf16DAZ is h with a denormal (exponent 0) flushed to signed zero, as
// VDPBF16PS reads its inputs.
func bf16DAZ(h uint16) uint16 {
	if h&0x7f80 == 0 {
		return h & 0x8000
	}
	return h
}

// bf16Step is one step of VDPBF16PS: fma(x·y + acc) in float32, round to
// nearest even, a tiny result flushed to signed zero, where tiny means
// below 2^-126 after rounding to 24 bits with unbounded exponent (Intel's
// underflow rule; TestBF16Semantics). x and y are bf16 values (not
// denormal), acc is not denormal. The product is exact in float64 and the
// float64 sum rounds to float32 as the exact sum would (53 ≥ 2·24+2 bits),
// and is exact where it matters below: a sum under 2^-126 rounds up to
// 2^-126 from 2^-126 - 2^-151 on (half an ulp of 24 bits, the tie going to
// the even 2^-126), else it is flushed. (Go's float32 conversion rounds to
// the denormal grid instead, which would keep 2^-126 from 2^-126 - 2^-150.)
func bf16Step(acc, x, y float32) float32 {
	s := float64(x)*float64(y) + float64(acc)
	const tiny = 0x1p-126
	if a := math.Abs(s); a < tiny {
		if a >= tiny-0x1p-151 {
			return float32(math.Copysign(tiny, s))
		}
		return float32(math.Copysign(0, s))
	}
	return float32(s)
}

// bf16Pair returns acc after the two steps of one bf16 pair lane each of a and b.
func bf16Pair(acc float32, a, b uint32) float32 {
	acc = bf16Step(acc, math.Float32frombits(a&0xffff0000), math.Float32frombits(b&0xffff0000))
	return bf16Step(acc, math.Float32frombits(a<<16), math.Float32frombits(b<<16))
}

// bf16KernGo is the portable micro-kernel: a 4×4 tile of packed strips a
// (kc2 pairs × 4 rows) and b (kc2 × 4 columns), c as the float32 kernels.
func bf16KernGo(kc2 int, a, b []uint32, c []float32, ldc int, alpha float32, acc bool) {
	var t [16]float32
	a, b = a[:kc2*4], b[:kc2*4]
	for q := 0; q < kc2; q++ {
		aq, bq := a[q*4:q*4+4:q*4+4], b[q*4:q*4+4:q*4+4]
		for r, av := range aq {
			tr := t[r*4 : r*4+4 : r*4+4]
			for j, bv := range bq {
				tr[j] = bf16Pair(tr[j], av, bv)
			}
		}
	}
	for r := 0; r < 4; r++ {
		row := c[r*ldc : r*ldc+4 : r*ldc+4]
		for j := range row {
			v := float32(alpha * t[r*4+j]) // rounded before the add, as the assembly
			if acc {
				row[j] += v
			} else {
				row[j] = v
			}
		}
	}
}

// bf16Kernel is a bf16 micro-kernel: fn computes the mr×nr tile of packed
// strips a (kc2 pairs × mr) and b (kc2 × nr) into c as microKernel.fn.
type bf16Kernel struct {
	mr, nr, mc, nc int
	fn             func(kc2 int, a, b []uint32, c []float32, ldc int, alpha float32, acc bool)
	name           string
	// kq: a block's pairs are padded with zero pairs to a multiple of kq.
	kq int
	// rowsA: A strips hold mr rows of kc2 pairs each (row r at r·kc2)
	// instead of kc2 groups of mr (pair q at q·mr).
	rowsA bool
	// exact: the kernel computes VDPBF16PS's definition (same bits as
	// bf16KernGo). AMX does not (see bf16amx).
	exact bool
	// fnTiles, when set, runs fn over ms×ns full strips of a tile at once
	// (same bits), A strips mr·kc2 lanes apart, B strips nr·kc2.
	fnTiles func(kc2 int, a []uint32, ms int, b []uint32, ns int, c []float32, ldc int, alpha float32, acc bool)
}

func newBF16Kernel(mr, nr int, fn func(int, []uint32, []uint32, []float32, int, float32, bool), name string) bf16Kernel {
	return bf16Kernel{mr: mr, nr: nr, mc: gemmMC / mr * mr, nc: gemmNC / nr * nr, fn: fn, name: name, kq: 1, exact: true}
}

// pairs is the number of packed pairs of a block of kc values.
func (kern bf16Kernel) pairs(kc int) int { return (bf16Pairs(kc) + kern.kq - 1) / kern.kq * kern.kq }

// packedPairs is the number of packed pairs of k values in blocks of bf16KC.
func (kern bf16Kernel) packedPairs(k int) int {
	last := (k - 1) / bf16KC * bf16KC
	return last/2 + kern.pairs(k-last)
}

// kernelBF16 is the bf16 kernel in use: the portable one, replaced by
// assembly where the CPU has it (gemm_bf16_amd64.go) at init, or at the
// first product for AMX (bf16Setup).
var (
	kernelBF16 = newBF16Kernel(4, 4, bf16KernGo, "go-4x4")
	bf16Once   sync.Once
)

// bf16Kern returns the kernel in use, after bf16Setup has run once.
func bf16Kern() bf16Kernel {
	bf16Once.Do(bf16Setup)
	return kernelBF16
}

// KernelNameBF16 reports the bf16 micro-kernel in use.
func KernelNameBF16() string { return bf16Kern().name }

// GemmBF16 is Gemm with operands rounded to bfloat16 and float32
// accumulation (see BF16Operand): C = alpha·op(A)·op(B) + beta·C.
func GemmBF16[SA, SB BF16Operand](transA, transB bool, m, n, k int, alpha float32, a []SA, lda int, b []SB, ldb int, beta float32, c []float32, ldc int) {
	zero := []int{0}
	GemmBatchBF16(transA, transB, m, n, k, alpha, a, zero, lda, b, zero, ldb, beta, c, zero, ldc)
}

// GemmBatchBF16 is GemmBatch with operands rounded to bfloat16 and float32
// accumulation: len(cOff) products
//
//	C[cOff[i]:] = alpha · op(A[aOff[i]:]) · op(B[bOff[i]:]) + beta · C[cOff[i]:]
//
// in one parallel loop. A float32 operand is rounded to bf16 while packed
// (BF16FromF32), a uint16 one holds bf16 bit patterns. Each product gives
// the bits GemmBF16 gives for it alone, on any number of threads and with
// every kernel. When beta is 0, C is only written.
func GemmBatchBF16[SA, SB BF16Operand](transA, transB bool, m, n, k int, alpha float32, a []SA, aOff []int, lda int, b []SB, bOff []int, ldb int, beta float32, c []float32, cOff []int, ldc int) {
	if gemmBatchTrivial("kernels.GemmBatchBF16", m, n, k, alpha == 0, aOff, bOff, beta, c, cOff, ldc) {
		return
	}
	batch := len(cOff)
	kern := bf16Kern()
	g := newGemmGrid(kern.mr, kern.nr, kern.mc, kern.nc, m, n, k, batch)
	mcT, ncT, mPad, nPad := g.mc, g.nc, g.mPad, g.nPad
	k2 := kern.packedPairs(k) // pairs of the packed operands
	// An operand that several tiles share is packed (converted) once.
	var preA, preB *[]uint32
	if g.tn > 1 {
		preA = prepackBF16(kern, packBF16A[SA], transA, a, aOff, lda, m, mPad, k, kern.mr)
		defer putPackBF16(preA)
	}
	if g.tm > 1 {
		preB = prepackBF16(kern, packBF16B[SB], transB, b, bOff, ldb, n, nPad, k, kern.nr)
		defer putPackBF16(preB)
	}
	kc2Max := bf16KC / 2
	ParallelFor(batch*g.tiles, Grain(batch*g.tiles, g.flops), func(lo, hi int) {
		buf := getPackBF16(mcT*kc2Max + kc2Max*ncT)
		pa := (*buf)[:mcT*kc2Max]
		pb := (*buf)[mcT*kc2Max:]
		tb := getPackBuf[float32](kern.mr * kern.nr) // scratch tile for edges
		t := *tb
		for task := lo; task < hi; task++ {
			bi, i0, j0, mc, nc := g.tile(task)
			var pre bf16Pre
			if preA != nil {
				pre.a, pre.aw = (*preA)[bi*k2*mPad:(bi+1)*k2*mPad], mPad
			}
			if preB != nil {
				pre.b, pre.bw = (*preB)[bi*k2*nPad:(bi+1)*k2*nPad], nPad
			}
			bf16Tile(kern, transA, transB, mc, nc, k, alpha, a[aOff[bi]:], lda, i0, b[bOff[bi]:], ldb, j0,
				beta, c[cOff[bi]+i0*ldc+j0:], ldc, pa, pb, t, pre)
		}
		putPackBF16(buf)
		putPackBuf(tb)
	})
}

// bf16Pairs is the number of packed pairs for k values.
func bf16Pairs(k int) int { return (k + 1) / 2 }

// bf16Pre points a tile at operands packed beforehand (prepackBF16).
type bf16Pre struct {
	a, b   []uint32
	aw, bw int
}

// prepackBF16 packs an operand of width w of every product whole: k blocks
// of bf16KC in order, block p0 at (p0/2)·pad holding all strips of r as a
// tile packs them. Per product bf16Pairs(k)·pad lanes.
func prepackBF16[S BF16Operand](kern bf16Kernel, pack func(bf16Kernel, bool, []S, int, int, int, int, int, []uint32), trans bool,
	src []S, off []int, ld, w, pad, k, r int) *[]uint32 {
	size := kern.packedPairs(k) * pad
	buf := getPackBF16(len(off) * size)
	dst := *buf
	g := newPackGrid(len(off), k, bf16KC, w, r)
	ParallelFor(g.units, Grain(g.units, 4*g.group*bf16KC), func(lo, hi int) {
		for u := lo; u < hi; u++ {
			bi, p0, kc, j0, cols := g.unit(u)
			pack(kern, trans, src[off[bi]:], ld, j0, cols, p0, kc, dst[bi*size+p0/2*pad+j0*kern.pairs(kc):])
		}
	})
	return buf
}

// bf16Tile computes the mc×nc tile of C at op(A) row i0, op(B) column j0
// (c starts there), as gemmTilePre does for float32.
func bf16Tile[SA, SB BF16Operand](kern bf16Kernel, transA, transB bool, mc, nc, k int, alpha float32,
	a []SA, lda, i0 int, b []SB, ldb, j0 int, beta float32, c []float32, ldc int, pa, pb []uint32, t []float32, pre bf16Pre) {
	mr, nr := kern.mr, kern.nr
	for p0 := 0; p0 < k; p0 += bf16KC {
		kc := min(bf16KC, k-p0)
		kc2 := kern.pairs(kc)
		if pre.a != nil {
			pa = pre.a[p0/2*pre.aw+i0*kc2:]
		} else {
			packBF16A(kern, transA, a, lda, i0, mc, p0, kc, pa)
		}
		if pre.b != nil {
			pb = pre.b[p0/2*pre.bw+j0*kc2:]
		} else {
			packBF16B(kern, transB, b, ldb, j0, nc, p0, kc, pb)
		}
		first := p0 == 0
		if first && beta != 0 && beta != 1 {
			scaleC(mc, nc, beta, c, ldc)
		}
		acc := !first || beta != 0
		ms, ns := mc/mr, nc/nr
		tiles := kern.fnTiles != nil && ms > 0 && ns > 0
		if tiles {
			kern.fnTiles(kc2, pa, ms, pb, ns, c, ldc, alpha, acc)
		}
		for jr := 0; jr < nc; jr += nr {
			nn := min(nr, nc-jr)
			bs := pb[jr*kc2 : jr*kc2+nr*kc2]
			for ir := 0; ir < mc; ir += mr {
				mm := min(mr, mc-ir)
				as := pa[ir*kc2 : ir*kc2+mr*kc2]
				if mm == mr && nn == nr {
					if !tiles {
						kern.fn(kc2, as, bs, c[ir*ldc+jr:], ldc, alpha, acc)
					}
					continue
				}
				kern.fn(kc2, as, bs, t, nr, alpha, false) // edge: through the scratch tile
				storeTile(c[ir*ldc+jr:], ldc, t, nr, mm, nn, acc)
			}
		}
	}
}

// packBF16A packs rows [i0, i0+mc) × columns [p0, p0+kc) of op(A) into
// strips of kern.mr rows of bf16 pairs, kp = kern.pairs(kc) pairs a row:
// strip s at dst[s*kp:], its row r, pair q (op(A)[i0+s+r][p0+2q] low,
// [p0+2q+1] high) at lane q*mr + r, or r*kp + q with kern.rowsA; zero past
// mc rows and kc values.
func packBF16A[S BF16Operand](kern bf16Kernel, trans bool, a []S, lda, i0, mc, p0, kc int, dst []uint32) {
	if trans { // op(A)[i][p] = a[p*lda+i]: rows of the stored A run along i
		packBF16Rows(a, lda, i0, mc, p0, kc, kern.mr, kern.pairs(kc), kern.rowsA, dst)
	} else {
		packBF16Lines(a, lda, i0, mc, p0, kc, kern.mr, kern.pairs(kc), kern.rowsA, dst)
	}
}

// packBF16B packs rows [p0, p0+kc) × columns [j0, j0+nc) of op(B) into
// strips of nr columns: lane q*nr + c of strip s holds op(B)[p0+2q][j0+s+c]
// (low) and op(B)[p0+2q+1][j0+s+c] (high).
func packBF16B[S BF16Operand](kern bf16Kernel, trans bool, b []S, ldb, j0, nc, p0, kc int, dst []uint32) {
	if trans { // op(B)[p][j] = b[j*ldb+p]: columns of op(B) run along k
		packBF16Lines(b, ldb, j0, nc, p0, kc, kern.nr, kern.pairs(kc), false, dst)
	} else {
		packBF16Rows(b, ldb, j0, nc, p0, kc, kern.nr, kern.pairs(kc), false, dst)
	}
}

// bf16Run sets dst[i] = bf16(src[i]): rounded from float32, or a bf16
// pattern with a denormal flushed (VDPBF16PS's DAZ, so that no kernel sees
// one).
func bf16Run[S BF16Operand](dst []uint16, src []S) {
	switch s := any(src).(type) {
	case []float32:
		BF16Round(dst, s)
	case []uint16:
		dst = dst[:len(s)]
		i := 0
		for ; i+4 <= len(s); i += 4 { // four at a time in a uint64
			x := uint64(s[i]) | uint64(s[i+1])<<16 | uint64(s[i+2])<<32 | uint64(s[i+3])<<48
			// bit 15 of a lane: its exponent is not zero (0x7f80 + 0x7f80 < 2^16)
			nz := (x&0x7f807f807f807f80 + 0x7f807f807f807f80) & 0x8000800080008000
			x &= 0x8000800080008000 | (nz>>15)*0x7fff
			d := dst[i : i+4 : i+4]
			d[0], d[1], d[2], d[3] = uint16(x), uint16(x>>16), uint16(x>>32), uint16(x>>48)
		}
		for ; i < len(s); i++ {
			dst[i] = bf16DAZ(s[i])
		}
	}
}

// packBF16Lines packs n lines that run along k in the source (line l at
// src[(l0+l)*ld + p0:], kc values) into strips of w lines of kp pairs:
// line r of strip s, pair q at dst[s*kp + q*w + r], or dst[(s+r)*kp + q]
// with rows.
func packBF16Lines[S BF16Operand](src []S, ld, l0, n, p0, kc, w, kp int, rows bool, dst []uint32) {
	kc2 := bf16Pairs(kc)
	if rows {
		for l := 0; l < (n+w-1)/w*w; l++ {
			d := dst[l*kp : (l+1)*kp]
			if l >= n {
				clear(d)
				continue
			}
			// the lanes as bf16 values, low half first: the line in order
			t := unsafe.Slice((*uint16)(unsafe.Pointer(&d[0])), 2*kp)
			if !littleEndian {
				t = make([]uint16, 2*kp)
			}
			bf16Run(t[:kc], src[(l0+l)*ld+p0:][:kc])
			clear(t[kc:])
			if !littleEndian {
				for q := range d {
					d[q] = uint32(t[2*q]) | uint32(t[2*q+1])<<16
				}
			}
		}
		return
	}
	tp := bf16TmpPool.Get().(*[8][bf16KC]uint16)
	defer bf16TmpPool.Put(tp)
	tmp := tp
	for s := 0; s < n; s += w {
		d := dst[s*kp : s*kp+w*kp]
		clear(d[kc2*w:])
		for r0 := 0; r0 < w; r0 += 8 {
			lines := min(8, w-r0, max(0, n-s-r0))
			for l := 0; l < lines; l++ {
				t := tmp[l][:kc2*2]
				bf16Run(t[:kc], src[(l0+s+r0+l)*ld+p0:][:kc])
				if kc%2 == 1 {
					t[kc] = 0
				}
			}
			for l := lines; l < min(8, w-r0); l++ {
				for q := 0; q < kc2; q++ {
					d[q*w+r0+l] = 0
				}
			}
			switch {
			case lines == 8:
				t0, t1, t2, t3 := tmp[0][:2*kc2], tmp[1][:2*kc2], tmp[2][:2*kc2], tmp[3][:2*kc2]
				t4, t5, t6, t7 := tmp[4][:2*kc2], tmp[5][:2*kc2], tmp[6][:2*kc2], tmp[7][:2*kc2]
				for q := 0; q < kc2; q++ {
					o := q*w + r0
					dq := d[o : o+8 : o+8]
					i := 2 * q
					dq[0] = uint32(t0[i]) | uint32(t0[i+1])<<16
					dq[1] = uint32(t1[i]) | uint32(t1[i+1])<<16
					dq[2] = uint32(t2[i]) | uint32(t2[i+1])<<16
					dq[3] = uint32(t3[i]) | uint32(t3[i+1])<<16
					dq[4] = uint32(t4[i]) | uint32(t4[i+1])<<16
					dq[5] = uint32(t5[i]) | uint32(t5[i+1])<<16
					dq[6] = uint32(t6[i]) | uint32(t6[i+1])<<16
					dq[7] = uint32(t7[i]) | uint32(t7[i+1])<<16
				}
			default:
				for l := 0; l < lines; l++ {
					t := tmp[l][:2*kc2]
					for q := 0; q < kc2; q++ {
						d[q*w+r0+l] = uint32(t[2*q]) | uint32(t[2*q+1])<<16
					}
				}
			}
		}
	}
}

// packBF16Rows packs a panel whose rows run along the strips' width: column
// c0+x of row p0+p at src[(p0+p)*ld + c0 + x], x < n, into strips of w of
// kp pairs: column x, pair q at dst[(x/w*w)*kp + q*w + x%w], or
// dst[x*kp + q] with rows.
func packBF16Rows[S BF16Operand](src []S, ld, c0, n, p0, kc, w, kp int, rows bool, dst []uint32) {
	kc2 := bf16Pairs(kc)
	nPad := (n + w - 1) / w * w
	const chunk = 512 // a multiple of every w
	var lo, hi [chunk]uint16
	f32, isF32 := any(src).([]float32)
	for x0 := 0; x0 < n; x0 += chunk {
		xn := min(chunk, n-x0)
		for q := 0; q < kc2; q++ {
			r0 := (p0+2*q)*ld + c0 + x0 // row p0+2q; p0+2q+1 follows ld on
			c := 0
			if isF32 && !rows && 2*q+1 < kc { // convert and interleave in one pass
				c = cvtPairsAsm(dst[x0*kp+q*w:], kp, w, f32[r0:][:xn], f32[r0+ld:][:xn])
			}
			if c == xn {
				continue
			}
			l, h := lo[c:xn], hi[c:xn]
			bf16Run(l, src[r0+c:][:xn-c])
			if 2*q+1 < kc {
				bf16Run(h, src[r0+ld+c:][:xn-c])
			} else {
				clear(h)
			}
			if rows {
				for i := range l {
					dst[(x0+c+i)*kp+q] = uint32(l[i]) | uint32(h[i])<<16
				}
				continue
			}
			for i := 0; i < len(l); {
				x := x0 + c + i
				s, r := x/w*w, x%w
				d := dst[s*kp+q*w+r : s*kp+q*w+w]
				e := min(len(d), len(l)-i)
				for j := range d[:e] {
					d[j] = uint32(l[i+j]) | uint32(h[i+j])<<16
				}
				i += e
			}
		}
	}
	// zero pairs past kc and columns past n
	if rows {
		for x := 0; x < nPad; x++ {
			if x < n {
				clear(dst[x*kp+kc2 : (x+1)*kp])
			} else {
				clear(dst[x*kp : (x+1)*kp])
			}
		}
		return
	}
	for s := 0; s < nPad; s += w {
		d := dst[s*kp : s*kp+w*kp]
		clear(d[kc2*w:])
		if e := n - s; e < w {
			for q := 0; q < kc2; q++ {
				clear(d[q*w+e : q*w+w])
			}
		}
	}
}

var packPoolBF16 sync.Pool

// bf16TmpPool holds the line buffers of packBF16Lines.
var bf16TmpPool = sync.Pool{New: func() any { return new([8][bf16KC]uint16) }}

// littleEndian: a uint32 lane holds its low uint16 first in memory.
var littleEndian = func() bool { x := uint32(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

func getPackBF16(n int) *[]uint32 {
	if v, ok := packPoolBF16.Get().(*[]uint32); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	s := make([]uint32, n)
	return &s
}

func putPackBF16(b *[]uint32) { packPoolBF16.Put(b) }

// noAMX is set by DisableAMX.
var noAMX atomic.Bool

// DisableAMX keeps bf16 products off AMX, on the kernels whose bits follow
// VDPBF16PS's definition on every CPU (slower where AMX exists). Call it
// before the first bf16 product: the kernel is chosen once.
func DisableAMX() { noAMX.Store(true) }
