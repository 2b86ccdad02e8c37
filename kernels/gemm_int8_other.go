//go:build !amd64 || purego

package kernels

// No int8 assembly on this platform or build: the portable kernel runs.
func i8AsmKernels() []i8Kernel { return nil }

func i8Setup() {}
