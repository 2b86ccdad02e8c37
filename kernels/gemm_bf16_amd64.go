//go:build amd64 && !purego

package kernels

import (
	"sync"

	"golang.org/x/sys/cpu"
)

//go:generate go run gemm_bf16_gen.go amx_gen.go

// Assembly for the bf16 GEMM (gemm_bf16_amd64.s, written by
// gemm_bf16_gen.go), chosen at init:
//
//	AMX-BF16     32×32 tile in four 16×16 AMX tiles, TDPBF16PS; float32 →
//	             bf16 with VCVTNE2PS2BF16. Not VDPBF16PS's bits (see bf16amx).
//	AVX512_BF16  8×32 tile, one VDPBF16PS per pair of k and 16 columns;
//	             float32 → bf16 with VCVTNE2PS2BF16
//	AVX-512F     8×32 tile, VDPBF16PS emulated with two FMAs under MXCSR.FTZ
//	             (same bits); float32 → bf16 in Go
//	AVX2, FMA    4×16 tile, the same emulation
//
// Otherwise the portable Go kernel runs (same bits).

//go:noescape
func bf16dotAVX512(kc2 int, a, b *uint32, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func bf16fmaAVX512(kc2 int, a, b *uint32, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func bf16fmaAVX2(kc2 int, a, b *uint32, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func cvtBF16AVX512(dst *uint16, src *float32, n int)

//go:noescape
func bf16amx(kq int, a *uint32, aStride int, b *uint32, c *float32, ldc int, alpha float32, acc bool, cfg *byte)

//go:noescape
func bf16amxTile(kq int, a *uint32, aStride, mStrips int, b *uint32, nStrips int, c *float32, ldc int, alpha float32, acc, direct bool, cfg *byte)

//go:noescape
func cvtPairsAVX512(dst *uint32, src0, src1 *float32, blocks, w16, stride int)

// cvtPairsAsm sets the lanes of strips of w pairs (w a multiple of 16),
// strip after strip kp·w lanes apart, to bf16(src0[c]) | bf16(src1[c])<<16
// for c < len(src0), in multiples of 16, returning how many it did.
func cvtPairsAsm(dst []uint32, kp, w int, src0, src1 []float32) int {
	n := len(src0) &^ 15
	if !useCvtAsm || n == 0 || w%16 != 0 {
		return 0
	}
	_, _ = src1[n-1], dst[(n-1)/w*kp*w+(n-1)%w]
	cvtPairsAVX512(&dst[0], &src0[0], &src1[0], n/16, w/16, kp*w*4)
	return n
}

// amxConfig is the tile configuration of bf16amx: palette 1, tiles 0..7
// of 16 rows of 64 bytes.
var amxConfig = func() (c [64]byte) {
	c[0] = 1
	for i := 0; i < 8; i++ {
		c[16+2*i] = 64
		c[48+i] = 16
	}
	return c
}()

// bf16KernelAMX computes a 32×32 tile: a holds 32 rows of kc2 pairs
// (rowsA), b kc2 pair rows of 32 columns, kc2 a multiple of 16.
func bf16KernelAMX(kc2 int, a, b []uint32, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[kc2*32-1], b[kc2*32-1], c[31*ldc+31]
	bf16amx(kc2/16, &a[0], kc2*4, &b[0], &c[0], ldc, alpha, acc, &amxConfig[0])
}

// bf16TileAMX computes ms×ns full 32×32 tiles with one tile configuration.
func bf16TileAMX(kc2 int, a []uint32, ms int, b []uint32, ns int, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[ms*32*kc2-1], b[ns*32*kc2-1], c[(32*ms-1)*ldc+32*ns-1]
	bf16amxTile(kc2/16, &a[0], kc2*4, ms, &b[0], ns, &c[0], ldc, alpha, acc, alpha == 1 && !acc, &amxConfig[0])
}

// newAMXKernel is the AMX kernel's description: 32×32 tiles, A in rows,
// pairs in multiples of 16 (one tile row of 64 bytes).
func newAMXKernel() bf16Kernel {
	k := newBF16Kernel(32, 32, bf16KernelAMX, "amx-32x32")
	k.kq, k.rowsA, k.exact = 16, true, false
	k.fnTiles = bf16TileAMX
	return k
}

// amxOK reports whether AMX-BF16 can run: the CPU has it and the OS gives
// this process the tile data state (amxPermit). DisableAMX keeps AMX off
// (the bits of VDPBF16PS on every CPU).
var amxOK = sync.OnceValue(func() bool {
	if !hasBF16 || !cpu.X86.HasAMXTile || !cpu.X86.HasAMXBF16 || noAMX.Load() {
		return false
	}
	return amxPermit()
})

// bf16Setup switches to AMX where it runs (asking for AMX only when a bf16
// product is first computed).
func bf16Setup() {
	if amxOK() {
		kernelBF16 = newAMXKernel()
	}
}

var hasBF16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16

func bf16KernelDot(kc2 int, a, b []uint32, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[kc2*8-1], b[kc2*32-1], c[7*ldc+31] // bounds of what the kernel touches
	bf16dotAVX512(kc2, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

func bf16KernelAVX2(kc2 int, a, b []uint32, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[kc2*4-1], b[kc2*16-1], c[3*ldc+15]
	bf16fmaAVX2(kc2, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

func bf16KernelFMA(kc2 int, a, b []uint32, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[kc2*8-1], b[kc2*32-1], c[7*ldc+31]
	bf16fmaAVX512(kc2, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

// bf16AsmKernels lists the bf16 kernels this CPU can run, best last.
func bf16AsmKernels() []bf16Kernel {
	var ks []bf16Kernel
	if cpuLevel() >= 1 {
		ks = append(ks, newBF16Kernel(4, 16, bf16KernelAVX2, "avx2-4x16"))
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, newBF16Kernel(8, 32, bf16KernelFMA, "avx512f-8x32"))
	}
	if hasBF16 {
		ks = append(ks, newBF16Kernel(8, 32, bf16KernelDot, "avx512bf16-8x32"))
	}
	if amxOK() {
		ks = append(ks, newAMXKernel())
	}
	return ks
}

// useCvtAsm turns the VCVTNE2PS2BF16 conversion on (tests turn it off).
var useCvtAsm = hasBF16

// cvtBF16Asm rounds the longest multiple of 32 elements of src into dst
// with VCVTNE2PS2BF16, returning how many (0 without AVX512_BF16).
func cvtBF16Asm(dst []uint16, src []float32) int {
	n := len(src) &^ 31
	if !useCvtAsm || n == 0 {
		return 0
	}
	_ = dst[n-1]
	cvtBF16AVX512(&dst[0], &src[0], n)
	return n
}

func init() {
	if cpuLevel() >= 1 {
		kernelBF16 = newBF16Kernel(4, 16, bf16KernelAVX2, "avx2-4x16")
	}
	if cpu.X86.HasAVX512F {
		kernelBF16 = newBF16Kernel(8, 32, bf16KernelFMA, "avx512f-8x32")
	}
	if hasBF16 {
		kernelBF16 = newBF16Kernel(8, 32, bf16KernelDot, "avx512bf16-8x32")
	}
}
