//go:build !amd64 || purego

package kernels

// asmKernels: no assembly kernels on this platform or build.
func asmKernels() (k32 []microKernel[float32], k64 []microKernel[float64]) { return nil, nil }

func geluAsm(x, y []float32) int         { return 0 }
func geluGradAsm(x, g, dx []float32) int { return 0 }

func softmaxAsm(x, y []float32) bool { return false }

func softmaxGradAsm(y, g, dx []float32) bool { return false }
