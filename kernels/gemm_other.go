//go:build !amd64 || purego

package kernels

// asmKernels: no assembly kernels on this platform or build.
func asmKernels() (k32 []microKernel[float32], k64 []microKernel[float64]) { return nil, nil }
