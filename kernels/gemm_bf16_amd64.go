//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

//go:generate go run gemm_bf16_gen.go

// Assembly for the bf16 GEMM (gemm_bf16_amd64.s, written by
// gemm_bf16_gen.go), chosen at init:
//
//	AVX512_BF16  8×32 tile, one VDPBF16PS per pair of k and 16 columns;
//	             float32 → bf16 with VCVTNE2PS2BF16
//	AVX-512F     8×32 tile, VDPBF16PS emulated with two FMAs under MXCSR.FTZ
//	             (same bits); float32 → bf16 in Go
//
// Without AVX-512F the portable Go kernel runs (same bits).

//go:noescape
func bf16dotAVX512(kc2 int, a, b *uint32, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func bf16fmaAVX512(kc2 int, a, b *uint32, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func cvtBF16AVX512(dst *uint16, src *float32, n int)

var hasBF16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16

func bf16KernelDot(kc2 int, a, b []uint32, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[kc2*8-1], b[kc2*32-1], c[7*ldc+31] // bounds of what the kernel touches
	bf16dotAVX512(kc2, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

func bf16KernelFMA(kc2 int, a, b []uint32, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[kc2*8-1], b[kc2*32-1], c[7*ldc+31]
	bf16fmaAVX512(kc2, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

// bf16AsmKernels lists the bf16 kernels this CPU can run, best last.
func bf16AsmKernels() []bf16Kernel {
	var ks []bf16Kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, newBF16Kernel(8, 32, bf16KernelFMA, "avx512f-8x32"))
	}
	if hasBF16 {
		ks = append(ks, newBF16Kernel(8, 32, bf16KernelDot, "avx512bf16-8x32"))
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
	if ks := bf16AsmKernels(); len(ks) > 0 {
		kernelBF16 = ks[len(ks)-1]
	}
}
