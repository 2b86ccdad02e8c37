package embed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Finite differences in float64: each analytic backward against central
// differences of its own forward, which catches errors a fixture could share.

func randMatrix(r *rand.Rand, rows, cols int) Matrix {
	m := NewMatrix(rows, cols)
	for i := range m.Data {
		m.Data[i] = r.NormFloat64()
	}
	return m
}

// checkFD compares grad with the central difference of f at x (x is
// perturbed in place and restored).
func checkFD(t *testing.T, what string, x []float64, grad []float64, f func() float64) {
	t.Helper()
	const h = 1e-6
	bad := 0
	for i := range x {
		orig := x[i]
		x[i] = orig + h
		fp := f()
		x[i] = orig - h
		fm := f()
		x[i] = orig
		fd := (fp - fm) / (2 * h)
		if math.Abs(fd-grad[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
			if bad < 3 {
				t.Errorf("%s[%d]: analytic %.10g, finite difference %.10g", what, i, grad[i], fd)
			}
			bad++
		}
	}
}

func TestLossGradientsFiniteDifference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	labels := func(n int, levels int) []float64 {
		l := make([]float64, n)
		for i := range l {
			l[i] = float64(r.IntN(levels)) / float64(levels-1)
		}
		return l
	}
	cases := []struct {
		loss   Loss
		ncols  int
		labels []float64
	}{
		{NewMultipleNegativesRankingLoss(), 3, nil},
		{&MultipleNegativesRankingLoss{Scale: 1, Similarity: DotScore}, 2, nil},
		{NewMultipleNegativesSymmetricRankingLoss(), 3, nil},
		{&CachedMultipleNegativesRankingLoss{Scale: 20, Similarity: CosSim, MiniBatchSize: 2}, 3, nil},
		{NewCoSENTLoss(), 2, labels(5, 4)},
		{NewAnglELoss(), 2, labels(5, 4)},
		{CosineSimilarityLoss{}, 2, labels(5, 6)},
		{&ContrastiveLoss{Margin: 1.2, SizeAverage: true}, 2, labels(5, 2)},
		{&TripletLoss{Metric: TripletEuclidean, Margin: 2}, 3, nil},
		{&TripletLoss{Metric: TripletCosine, Margin: 0.5}, 3, nil},
		{&MatryoshkaLoss{Inner: NewCoSENTLoss(), Dims: []int{2, 8, 4}, Weights: []float64{1, 0.5, 2}}, 2, labels(5, 4)},
		{&MatryoshkaLoss{Inner: NewMultipleNegativesRankingLoss(), Dims: []int{8, 4}}, 3, nil},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_%d", c.loss.Name(), c.ncols), func(t *testing.T) {
			cols := make([]Matrix, c.ncols)
			for k := range cols {
				cols[k] = randMatrix(r, 5, 8)
			}
			_, grads, err := c.loss.Compute(cols, c.labels)
			if err != nil {
				t.Fatal(err)
			}
			for k := range cols {
				checkFD(t, fmt.Sprintf("col %d", k), cols[k].Data, grads[k].Data, func() float64 {
					v, _, err := c.loss.Compute(cols, c.labels)
					if err != nil {
						t.Fatal(err)
					}
					return v
				})
			}
		})
	}
}

// weightedSum is sum(m ⊙ w), the scalar the module checks differentiate.
func weightedSum(m, w []float64) float64 { return dot(m, w) }

func TestModuleGradientsFiniteDifference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	B, S, H := 3, 5, 4
	masks := map[string][]int64{
		"right":  {1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
		"left":   {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
		"allpad": {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0},
	}
	for _, mode := range PoolingModes {
		for mname, mask := range masks {
			t.Run("pool_"+mode+"_"+mname, func(t *testing.T) {
				cfg, err := PoolingFromMode(H, mode)
				if err != nil {
					t.Fatal(err)
				}
				tok := Tokens{Batch: B, Seq: S, Dim: H, Data: randMatrix(r, B*S, H).Data, Mask: mask}
				w := randMatrix(r, B, cfg.OutputDim(H))
				dt, err := PoolBackward(cfg, tok, w)
				if err != nil {
					t.Fatal(err)
				}
				checkFD(t, "tokens", tok.Data, dt, func() float64 {
					out, _ := Pool(cfg, tok)
					s := 0.0
					for i, v := range out.Data {
						if v != maxPoolNeg { // a constant: -1e9 would drown the differences
							s += v * w.Data[i]
						}
					}
					return s
				})
			})
		}
	}
	t.Run("normalize", func(t *testing.T) {
		x := randMatrix(r, 3, 5)
		w := randMatrix(r, 3, 5)
		dx, err := NormalizeBackward(x, w)
		if err != nil {
			t.Fatal(err)
		}
		checkFD(t, "x", x.Data, dx.Data, func() float64 { return weightedSum(Normalize(x).Data, w.Data) })
	})
	t.Run("truncate", func(t *testing.T) {
		x := randMatrix(r, 3, 6)
		w := randMatrix(r, 3, 4)
		dx, err := TruncateBackward(w, 6)
		if err != nil {
			t.Fatal(err)
		}
		checkFD(t, "x", x.Data, dx.Data, func() float64 {
			y, _ := Truncate(x, 4)
			return weightedSum(y.Data, w.Data)
		})
	})
	for _, act := range []string{ActivationTanh, ActivationIdentity} {
		t.Run("dense_"+act, func(t *testing.T) {
			d := &Dense{In: 5, Out: 3, Weight: randMatrix(r, 3, 5).Data, Bias: randMatrix(r, 1, 3).Data, Activation: act}
			x := randMatrix(r, 4, 5)
			w := randMatrix(r, 4, 3)
			y, err := d.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			dx, dW, dB, err := d.Backward(x, y, w)
			if err != nil {
				t.Fatal(err)
			}
			f := func() float64 {
				y, _ := d.Forward(x)
				return weightedSum(y.Data, w.Data)
			}
			checkFD(t, "x", x.Data, dx.Data, f)
			checkFD(t, "W", d.Weight, dW, f)
			checkFD(t, "b", d.Bias, dB, f)
		})
	}
}

// TestGradCacheProtocol runs the trainer's side of CachedMNRL as its doc
// describes, with a linear "encoder" e = x Pᵀ and mean pooling, and checks the
// parameter gradient equals that of plain MNRL on the whole batch.
func TestGradCacheProtocol(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const B, S, In, H = 7, 3, 5, 4
	P := randMatrix(r, H, In) // encoder parameter [H][In]
	cfg := DefaultPooling(H)
	mask := make([]int64, B*S)
	for i := range mask {
		mask[i] = 1
	}
	mask[2], mask[S+2] = 0, 0
	inputs := []Matrix{randMatrix(r, B*S, In), randMatrix(r, B*S, In)} // anchors, positives: tokens × In
	// encode runs the encoder on rows [b0, b1) and pools.
	encode := func(x Matrix, b0, b1 int) (Matrix, Tokens) {
		tok := Tokens{Batch: b1 - b0, Seq: S, Dim: H, Data: make([]float64, (b1-b0)*S*H), Mask: mask[b0*S : b1*S]}
		for i := 0; i < (b1-b0)*S; i++ {
			xi := x.Row(b0*S + i)
			for h := 0; h < H; h++ {
				tok.Data[i*H+h] = dot(xi, P.Row(h))
			}
		}
		e, err := Pool(cfg, tok)
		if err != nil {
			t.Fatal(err)
		}
		return e, tok
	}
	// backward accumulates dP from the pooled gradient g of rows [b0, b1).
	backward := func(x Matrix, b0, b1 int, g Matrix, dP []float64) {
		_, tok := encode(x, b0, b1)
		dt, err := PoolBackward(cfg, tok, g)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < (b1-b0)*S; i++ {
			xi := x.Row(b0*S + i)
			for h := 0; h < H; h++ {
				for j := 0; j < In; j++ {
					dP[h*In+j] += dt[i*H+h] * xi[j]
				}
			}
		}
	}
	// Reference: whole batch, plain MNRL.
	full := make([]Matrix, 2)
	for k := range full {
		full[k], _ = encode(inputs[k], 0, B)
	}
	want, grads, err := NewMultipleNegativesRankingLoss().Compute(full, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantP := make([]float64, H*In)
	for k := range full {
		backward(inputs[k], 0, B, grads[k], wantP)
	}
	// GradCache: 1. embed by mini-batch, 2. loss and embedding grads, 3. recompute
	// each mini-batch and seed its backward with its rows of the gradient.
	loss := &CachedMultipleNegativesRankingLoss{Scale: 20, Similarity: CosSim, MiniBatchSize: 3}
	cols := make([]Matrix, 2)
	for k := range cols {
		var parts []Matrix
		for _, mb := range MiniBatches(B, loss.MiniBatchSize) {
			e, _ := encode(inputs[k], mb[0], mb[1])
			parts = append(parts, e)
		}
		cols[k], err = ConcatRows(parts)
		if err != nil {
			t.Fatal(err)
		}
	}
	got, cgrads, err := loss.Compute(cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	gotP := make([]float64, H*In)
	for k := range cols {
		for _, mb := range MiniBatches(B, loss.MiniBatchSize) {
			backward(inputs[k], mb[0], mb[1], SliceRows(cgrads[k], mb[0], mb[1]), gotP)
		}
	}
	if math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Errorf("cached loss %.15g, MNRL %.15g", got, want)
	}
	for i := range gotP {
		if math.Abs(gotP[i]-wantP[i]) > 1e-10*math.Max(1, math.Abs(wantP[i])) {
			t.Errorf("dP[%d] = %.12g by GradCache, %.12g by MNRL", i, gotP[i], wantP[i])
		}
	}
	if len(MiniBatches(B, 3)) != 3 {
		t.Errorf("MiniBatches(7, 3) = %v", MiniBatches(B, 3))
	}
}
