//go:build !amd64 || purego

package kernels

func lnSumAsm(x []float32) (float32, bool)                              { return 0, false }
func lnSqDevAsm(x []float32, mean float32) (float32, bool)              { return 0, false }
func lnFwdAsm(x, w, b, y []float32, mean, rstd float32) bool            { return false }
func lnBwdDxAsm(x, g, w, dx []float32, mean, rstd, k1, k0 float32) bool { return false }
func lnBwdSumsAsm(x, g, w, dw, db []float32, mean, rstd float32) (sdn, sdnx float32, ok bool) {
	return 0, 0, false
}
