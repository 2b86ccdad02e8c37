//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

//go:generate go run gemm_int8_gen.go

// Assembly for the int8 GEMM (gemm_int8_amd64.s, written by
// gemm_int8_gen.go): a 12×32 tile with VPDPBUSD where the CPU has
// AVX512_VNNI, else the portable Go kernel (same results).

//go:noescape
func i8dotAVX512(kq int, a, b *byte, c *int32, ldc int, rowU, rowZa, colB, colZb *int32)

var hasVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI

func i8KernelVNNI(kq int, a, b []byte, c []int32, ldc int, rowU, rowZa, colB, colZb []int32) {
	// bounds of what the kernel touches
	_ = c[(i8MR-1)*ldc+i8NR-1]
	_, _, _, _ = rowU[i8MR-1], rowZa[i8MR-1], colB[i8NR-1], colZb[i8NR-1]
	var pa, pb *byte
	if kq > 0 {
		_, _ = a[kq*4*i8MR-1], b[kq*4*i8NR-1]
		pa, pb = &a[0], &b[0]
	}
	i8dotAVX512(kq, pa, pb, &c[0], ldc, &rowU[0], &rowZa[0], &colB[0], &colZb[0])
}

// i8AsmKernels lists the int8 kernels this CPU can run, best last.
func i8AsmKernels() []i8Kernel {
	if hasVNNI {
		return []i8Kernel{{i8KernelVNNI, "avx512vnni-12x32"}}
	}
	return nil
}

func init() {
	if hasVNNI {
		kernelI8 = i8Kernel{i8KernelVNNI, "avx512vnni-12x32"}
	}
}
