//go:build amd64 && !purego

package kernels

import (
	"sync"

	"golang.org/x/sys/cpu"
)

//go:generate go run gemm_int8_gen.go amx_gen.go

// Assembly for the int8 GEMM (gemm_int8_amd64.s, written by
// gemm_int8_gen.go): a 32×32 tile in four 16×16 AMX tiles (TDPBUSD) where
// the CPU has AMX-INT8 and Linux gives the tile state, else a 12×32 tile
// with VPDPBUSD where the CPU has AVX512_VNNI, else the portable Go kernel
// (same results: all are exact).

//go:noescape
func i8dotAVX512(kq int, a, b *byte, c *int32, ldc int, rowU, rowZa, colB, colZb *int32)

//go:noescape
func i8amx(kq16 int, a *byte, aStride int, b *byte, c *int32, ldc int, rowU, rowZa, colB, colZb *int32, cfg *byte)

var hasVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI

func i8KernelVNNI(kq int, a, b []byte, c []int32, ldc int, rowU, rowZa, colB, colZb []int32) {
	// bounds of what the kernel touches
	_ = c[(12-1)*ldc+i8NR-1]
	_, _, _, _ = rowU[12-1], rowZa[12-1], colB[i8NR-1], colZb[i8NR-1]
	var pa, pb *byte
	if kq > 0 {
		_, _ = a[kq*4*12-1], b[kq*4*i8NR-1]
		pa, pb = &a[0], &b[0]
	}
	i8dotAVX512(kq, pa, pb, &c[0], ldc, &rowU[0], &rowZa[0], &colB[0], &colZb[0])
}

// i8KernelAMX computes a 32×32 tile: a holds 32 rows of kq quads, b kq
// quad rows of 32 columns, kq a multiple of 16.
func i8KernelAMX(kq int, a, b []byte, c []int32, ldc int, rowU, rowZa, colB, colZb []int32) {
	_ = c[31*ldc+31]
	_, _, _, _ = rowU[31], rowZa[31], colB[31], colZb[31]
	if kq%16 != 0 {
		panic("kernels: i8KernelAMX: quads not a multiple of 16")
	}
	var pa, pb *byte
	if kq > 0 {
		_, _ = a[kq*4*32-1], b[kq*4*32-1]
		pa, pb = &a[0], &b[0]
	}
	i8amx(kq/16, pa, kq*4, pb, &c[0], ldc, &rowU[0], &rowZa[0], &colB[0], &colZb[0], &amxConfig[0])
}

// i8amxOK reports whether AMX-INT8 can run: the CPU has it (and AVX-512 for
// the epilogue) and the OS gives this process the tile data state. (AMX is
// exact for int8: DisableAMX, which is about bf16 bits, does not apply.)
var i8amxOK = sync.OnceValue(func() bool {
	return hasVNNI && cpu.X86.HasAMXTile && cpu.X86.HasAMXInt8 && amxPermit()
})

var (
	kernVNNI = i8Kernel{12, false, i8KernelVNNI, "avx512vnni-12x32"}
	kernAMX  = i8Kernel{32, true, i8KernelAMX, "amx-32x32"}
)

// i8AsmKernels lists the int8 kernels this CPU can run, best last.
func i8AsmKernels() []i8Kernel {
	var ks []i8Kernel
	if hasVNNI {
		ks = append(ks, kernVNNI)
	}
	if i8amxOK() {
		ks = append(ks, kernAMX)
	}
	return ks
}

// i8Setup switches to AMX where it runs (asking for AMX only when an int8
// product is first computed).
func i8Setup() {
	if i8amxOK() {
		kernelI8 = kernAMX
	}
}

func init() {
	if hasVNNI {
		kernelI8 = kernVNNI
	}
}
