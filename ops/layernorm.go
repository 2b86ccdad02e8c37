package ops

// LayerNormalization (opset 17).
//
//	X [rows..., D...] with the normalised dimensions X.shape[axis:] (axis
//	default -1), flattened to [R, D]; Scale and optional B broadcast to the
//	normalised shape. epsilon default 1e-5.
//
//	mean_r = Σ_j x_rj / D
//	rstd_r = 1 / sqrt(Σ_j (x_rj - mean_r)² / D + ε)
//	xhat   = (x - mean) · rstd
//	Y      = xhat · Scale + B                                     [R, D]
//	Mean, InvStdDev (optional outputs) = mean, rstd with shape
//	X.shape[:axis] + [1]*(rank-axis), of the stash type (float32 unless
//	stash_type = 11). Statistics are accumulated in float64.
//
//	backward (llm.c's layernorm_backward; mean and rstd are recomputed from X,
//	which is O(R·D) and bit-identical to forward):
//	dnorm  = dY · Scale
//	dX     = rstd · (dnorm - mean_j(dnorm) - xhat · mean_j(dnorm · xhat))
//	         + dMean / D - dInvStdDev · rstd² · xhat / D
//	dScale = Σ_r dY · xhat,  dB = Σ_r dY   (per fixed chunk of rows, then
//	         chunks summed in order: the same bits on any number of threads)
//
//	float32 with D a multiple of 16 runs on kernels' LayerNorm row kernels
//	(AVX-512 where the CPU has it): statistics and sums accumulate in float32
//	(16 partial sums on the vector path, as ONNX Runtime accumulates in
//	float32), forward and backward share kernels.LayerNormStatsF32, so the
//	backward sees the forward's mean and rstd bit for bit. Other types and
//	sizes keep the float64 accumulation below.

import (
	"fmt"
	"math"

	"ft/kernels"
	"ft/tensor"
)

type opLayerNorm struct {
	axis    int
	eps     float64
	stash64 bool
	nOut    int
}

func init() {
	Register("", "LayerNormalization", 17, func(n *Node) (Op, error) {
		return &opLayerNorm{
			axis:    int(n.Int("axis", -1)),
			eps:     float64(n.Float("epsilon", 1e-5)),
			stash64: n.Int("stash_type", 1) == 11,
			nOut:    max(n.NumOutputs, 1),
		}, nil
	})
}

// lnShapes returns the rows, the normalised size and the normalised shape.
func (o *opLayerNorm) shapes(x, scale, bias *tensor.Tensor) (axis, rows, d int, norm []int, err error) {
	axis, err = normAxis(o.axis, x.Rank())
	if err != nil {
		return 0, 0, 0, nil, err
	}
	norm = x.Shape[axis:]
	rows, d = tensor.Size(x.Shape[:axis]), tensor.Size(norm)
	for _, p := range []*tensor.Tensor{scale, bias} {
		if p == nil || p.Len() == d {
			continue
		}
		if bs, e := tensor.BroadcastShape(p.Shape, norm); e != nil || !tensor.SameShape(bs, norm) {
			return 0, 0, 0, nil, fmt.Errorf("LayerNormalization: parameter of shape %v does not broadcast to the normalised shape %v", p.Shape, norm)
		}
	}
	return axis, rows, d, norm, nil
}

// lnParam returns a parameter as a [D] slice (expanded when broadcast).
func lnParam[T laFloat](p *tensor.Tensor, norm []int) []T {
	if p == nil {
		return nil
	}
	if p.Len() == tensor.Size(norm) {
		return tensor.Data[T](p)
	}
	return laBroadcastTo(tensor.Data[T](p), p.Shape, norm)
}

func (o *opLayerNorm) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, scale := in[0], in[1]
	var bias *tensor.Tensor
	if len(in) > 2 {
		bias = in[2]
	}
	dt, err := laFloatInputs("LayerNormalization", x, scale, bias)
	if err != nil {
		return nil, err
	}
	axis, rows, d, norm, err := o.shapes(x, scale, bias)
	if err != nil {
		return nil, err
	}
	mean := make([]float64, rows)
	rstd := make([]float64, rows)
	var y *tensor.Tensor
	if dt == tensor.Float32 {
		var yd []float32
		if d > 0 {
			yd = kernels.GetF32(x.Len()) // rows written whole
		} else {
			yd = make([]float32, x.Len())
		}
		if d > 0 && d%16 == 0 {
			lnForward32(x.F32(), lnParam[float32](scale, norm), lnParam[float32](bias, norm), yd, mean, rstd, rows, d, o.eps)
		} else {
			lnForward(x.F32(), lnParam[float32](scale, norm), lnParam[float32](bias, norm), yd, mean, rstd, rows, d, o.eps)
		}
		y = tensor.New(x.Shape, yd)
	} else {
		yd := make([]float64, x.Len())
		lnForward(x.F64(), lnParam[float64](scale, norm), lnParam[float64](bias, norm), yd, mean, rstd, rows, d, o.eps)
		y = tensor.New(x.Shape, yd)
	}
	outs := []*tensor.Tensor{y}
	if o.nOut > 1 {
		statShape := append([]int{}, x.Shape[:axis]...)
		for range x.Shape[axis:] {
			statShape = append(statShape, 1)
		}
		outs = append(outs, o.stat(mean, statShape))
		if o.nOut > 2 {
			outs = append(outs, o.stat(rstd, statShape))
		}
	}
	return outs, nil
}

func (o *opLayerNorm) stat(v []float64, shape []int) *tensor.Tensor {
	if o.stash64 {
		return tensor.New(shape, v)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(shape, f)
}

// lnStats computes one row's mean and rstd in float64 (two passes).
func lnStats[T laFloat](xr []T, eps float64) (mean, rstd float64) {
	var s float64
	for _, v := range xr {
		s += float64(v)
	}
	mean = s / float64(len(xr))
	var q float64
	for _, v := range xr {
		dv := float64(v) - mean
		q += dv * dv
	}
	return mean, 1 / math.Sqrt(q/float64(len(xr))+eps)
}

func lnForward[T laFloat](x, w, b, y []T, mean, rstd []float64, rows, d int, eps float64) {
	if d == 0 {
		return
	}
	laRows(rows, 8*d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*d:r*d+d], y[r*d:r*d+d]
			mu, rs := lnStats(xr, eps)
			mean[r], rstd[r] = mu, rs
			m, s := T(mu), T(rs)
			switch {
			case w != nil && b != nil:
				w, b := w[:d], b[:d]
				for j, v := range xr {
					yr[j] = (v-m)*s*w[j] + b[j]
				}
			case w != nil:
				w := w[:d]
				for j, v := range xr {
					yr[j] = (v - m) * s * w[j]
				}
			default:
				for j, v := range xr {
					yr[j] = (v - m) * s
				}
			}
		}
	})
}

func (o *opLayerNorm) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	x, scale := in[0], in[1]
	var bias *tensor.Tensor
	if len(in) > 2 {
		bias = in[2]
	}
	dt, err := laFloatInputs("LayerNormalization backward", x, scale, bias)
	if err != nil {
		return nil, err
	}
	_, rows, d, norm, err := o.shapes(x, scale, bias)
	if err != nil {
		return nil, err
	}
	// Gradients of the optional Mean / InvStdDev outputs, if they reach the loss.
	var dMean, dRstd []float64
	if len(dout) > 1 && dout[1] != nil {
		dMean = dout[1].Float64s()
	}
	if len(dout) > 2 && dout[2] != nil {
		dRstd = dout[2].Float64s()
	}
	res := make([]*tensor.Tensor, len(in))
	needB := len(in) > 2 && bias != nil && len(need) > 2 && need[2]
	if dt == tensor.Float32 && d > 0 && d%16 == 0 {
		lnBackward32(x, scale, bias, dout[0], norm, rows, d, o.eps, dMean, dRstd, need[0], need[1], needB, res)
	} else if dt == tensor.Float32 {
		lnBackward[float32](x, scale, bias, dout[0], norm, rows, d, o.eps, dMean, dRstd, need[0], need[1], needB, res)
	} else {
		lnBackward[float64](x, scale, bias, dout[0], norm, rows, d, o.eps, dMean, dRstd, need[0], need[1], needB, res)
	}
	return res, nil
}

// Saves: X and Scale (the statistics are recomputed).
func (o *opLayerNorm) Saves(need []bool) (ins, outs []int) { return []int{0, 1}, nil }

func lnBackward[T laFloat](x, scale, bias, dy *tensor.Tensor, norm []int, rows, d int, eps float64,
	dMean, dRstd []float64, needX, needW, needB bool, res []*tensor.Tensor) {
	xd := tensor.Data[T](x)
	w := lnParam[T](scale, norm)
	var g []T
	if dy != nil {
		g = tensor.Data[T](dy)
	} else {
		g = make([]T, len(xd))
	}
	var dx []T
	if needX {
		dx = make([]T, len(xd))
	}
	// Rows in fixed chunks (at most ~32 of them) with per-chunk dScale / dB.
	grain := max(kernels.Grain(rows, 12*d), (rows+31)/32, 1)
	chunks := (rows + grain - 1) / grain
	var pw, pb []float64
	if needW {
		pw = make([]float64, chunks*d)
	}
	if needB {
		pb = make([]float64, chunks*d)
	}
	if d > 0 && rows > 0 {
		kernels.ParallelFor(rows, grain, func(lo, hi int) {
			ch := lo / grain
			var cw, cb []float64
			if needW {
				cw = pw[ch*d : ch*d+d]
			}
			if needB {
				cb = pb[ch*d : ch*d+d]
			}
			inv := 1 / float64(d)
			for r := lo; r < hi; r++ {
				xr, gr := xd[r*d:r*d+d], g[r*d:r*d+d]
				mu, rs := lnStats(xr, eps)
				// Σ dnorm and Σ dnorm·xhat, and the parameter gradients.
				sdn, sdnx := kernels.LayerNormGradSums(xr, gr, w, cw, cb, mu, rs)
				if dx == nil {
					continue
				}
				mdn, mdnx := sdn*inv, sdnx*inv
				extra := 0.0 // dMean / D
				ext2 := 0.0  // dInvStdDev · rstd² / D
				if dMean != nil {
					extra = dMean[r] * inv
				}
				if dRstd != nil {
					ext2 = dRstd[r] * rs * rs * inv
				}
				dr := dx[r*d : r*d+d]
				for j, v := range xr {
					xh := (float64(v) - mu) * rs
					dn := float64(gr[j])
					if w != nil {
						dn *= float64(w[j])
					}
					dr[j] = T(rs*(dn-mdn-xh*mdnx) + extra - ext2*xh)
				}
			}
		})
	}
	if needX {
		res[0] = tensor.New(x.Shape, dx)
	}
	if needW {
		res[1] = lnSumChunks[T](pw, chunks, d, norm, scale)
	}
	if needB {
		res[2] = lnSumChunks[T](pb, chunks, d, norm, bias)
	}
}

// lnSumChunks adds the per-chunk parameter gradients p ([chunks, D]) in
// chunk order in float64 and shapes the sum like the parameter.
func lnSumChunks[T, P laFloat](p []P, chunks, d int, norm []int, like *tensor.Tensor) *tensor.Tensor {
	s64 := make([]float64, d)
	for c := 0; c < chunks; c++ {
		for j, v := range p[c*d : c*d+d] {
			s64[j] += float64(v)
		}
	}
	s := make([]T, d)
	for j, v := range s64 {
		s[j] = T(v)
	}
	t := tensor.New(norm, s)
	if like.Len() != d {
		return SumToShape(t, like.Shape)
	}
	return t.Reshaped(like.Shape)
}

// lnForward32 is lnForward for float32 rows of D = 16k on kernels' row
// kernels (float32 statistics).
func lnForward32(x, w, b, y []float32, mean, rstd []float64, rows, d int, eps float64) {
	e := float32(eps)
	laRows(rows, 4*d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*d:r*d+d], y[r*d:r*d+d]
			mu, rs := kernels.LayerNormStatsF32(xr, e)
			mean[r], rstd[r] = float64(mu), float64(rs)
			kernels.LayerNormF32(xr, w, b, yr, mu, rs)
		}
	})
}

// lnBackward32 is lnBackward for float32 rows of D = 16k on kernels' row
// kernels: the same chunks of rows, per-chunk dScale / dB in float32 (always
// kept, so the vector kernel runs even for frozen parameters), chunks summed
// in order.
func lnBackward32(x, scale, bias, dy *tensor.Tensor, norm []int, rows, d int, eps float64,
	dMean, dRstd []float64, needX, needW, needB bool, res []*tensor.Tensor) {
	xd := x.F32()
	w := lnParam[float32](scale, norm)
	var g []float32
	if dy != nil {
		g = dy.F32()
	} else {
		g = make([]float32, len(xd))
	}
	var dx []float32
	if needX {
		dx = make([]float32, len(xd))
	}
	grain := max(kernels.Grain(rows, 12*d), (rows+31)/32, 1)
	chunks := (rows + grain - 1) / grain
	pw, pb := make([]float32, chunks*d), make([]float32, chunks*d)
	e, inv := float32(eps), 1/float32(d)
	if d > 0 && rows > 0 {
		kernels.ParallelFor(rows, grain, func(lo, hi int) {
			ch := lo / grain
			cw, cb := pw[ch*d:ch*d+d], pb[ch*d:ch*d+d]
			for r := lo; r < hi; r++ {
				xr, gr := xd[r*d:r*d+d], g[r*d:r*d+d]
				mu, rs := kernels.LayerNormStatsF32(xr, e)
				sdn, sdnx := kernels.LayerNormGradSumsF32(xr, gr, w, cw, cb, mu, rs)
				if dx == nil {
					continue
				}
				// dx = rstd·dn + k1·xhat + k0
				k1, k0 := -rs*(sdnx*inv), -rs*(sdn*inv)
				if dMean != nil {
					k0 += float32(dMean[r]) * inv
				}
				if dRstd != nil {
					k1 -= float32(dRstd[r]) * rs * rs * inv
				}
				kernels.LayerNormGradF32(xr, gr, w, dx[r*d:r*d+d], mu, rs, k1, k0)
			}
		})
	}
	if needX {
		res[0] = tensor.New(x.Shape, dx)
	}
	if needW {
		res[1] = lnSumChunks[float32](pw, chunks, d, norm, scale)
	}
	if needB {
		res[2] = lnSumChunks[float32](pb, chunks, d, norm, bias)
	}
}
