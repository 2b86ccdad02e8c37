//go:build !amd64 || purego

package kernels

// No bf16 assembly on this platform or build: the portable kernel and
// conversion run.
func bf16AsmKernels() []bf16Kernel { return nil }

func cvtBF16Asm(dst []uint16, src []float32) int { return 0 }

func bf16Setup() {}

func cvtPairsAsm(dst []uint32, kp, w int, src0, src1 []float32) int { return 0 }
