package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

// layerNormRef normalises x over the trailing dims from axis.
func layerNormRef(x, w, b []float64, shape []int, axis int, eps float64) (y, mean, rstd []float64) {
	if axis < 0 {
		axis += len(shape)
	}
	rows, d := tensor.Size(shape[:axis]), tensor.Size(shape[axis:])
	y = make([]float64, len(x))
	for r := 0; r < rows; r++ {
		row := x[r*d : r*d+d]
		mu := 0.0
		for _, v := range row {
			mu += v
		}
		mu /= float64(d)
		va := 0.0
		for _, v := range row {
			va += (v - mu) * (v - mu)
		}
		rs := 1 / math.Sqrt(va/float64(d)+eps)
		mean, rstd = append(mean, mu), append(rstd, rs)
		for j, v := range row {
			y[r*d+j] = (v-mu)*rs*w[j%len(w)] + b[j%len(b)]
		}
	}
	return y, mean, rstd
}

func TestLayerNormForward(t *testing.T) {
	// Hand-derived: [1, 2, 3]: mean 2, variance 2/3, ε = 0: y = (x-2)·√1.5.
	s := math.Sqrt(1.5)
	out := laRun(t, Node{OpType: "LayerNormalization", Opset: 17, NumOutputs: 3, Attrs: map[string]Attr{"epsilon": {Kind: AttrFloat, F: 0}}},
		tensor.New([]int{1, 3}, []float64{1, 2, 3}), tensor.New([]int{3}, []float64{1, 1, 2}), tensor.New([]int{3}, []float64{0, 0, 1}))
	laClose(t, "hand", out[0], []int{1, 3}, []float64{-s, 0, 2*s + 1}, 1e-15)
	laClose(t, "hand-mean", out[1], []int{1, 1}, []float64{2}, 0)
	laClose(t, "hand-rstd", out[2], []int{1, 1}, []float64{s}, 1e-7)

	r := rand.New(rand.NewSource(13))
	for _, c := range []struct {
		shape []int
		axis  int
		eps   float64
		bias  bool
	}{
		{[]int{4, 5}, -1, 1e-5, true},
		{[]int{2, 3, 5}, -1, 1e-5, false},
		{[]int{2, 3, 5}, 1, 1e-2, true},
		{[]int{2, 3, 5}, 0, 1e-5, true},
		{[]int{2, 3, 5}, -2, 1e-5, true},
		{[]int{3, 384}, -1, 1e-12, true},
	} {
		x := randT(r, -2, 2, c.shape...)
		ax := c.axis
		if ax < 0 {
			ax += len(c.shape)
		}
		ns := c.shape[ax:]
		w, b := randT(r, -1, 1, ns...), randT(r, -1, 1, ns...)
		bd := []float64{0}
		in := []*tensor.Tensor{x, w}
		if c.bias {
			bd = b.F64()
			in = append(in, b)
		}
		wy, wm, wr := layerNormRef(x.F64(), w.F64(), bd, c.shape, c.axis, float64(float32(c.eps)))
		statShape := append([]int{}, c.shape[:ax]...)
		for range ns {
			statShape = append(statShape, 1)
		}
		name := fmt.Sprintf("%v/axis%d/bias%v", c.shape, c.axis, c.bias)
		n := laNode("LayerNormalization", 17, "axis", c.axis, "epsilon", c.eps)
		n.NumOutputs = 3
		out := laRun(t, n, in...)
		laClose(t, name, out[0], c.shape, wy, 1e-12)
		laClose(t, name+"/mean", out[1], statShape, wm, 1e-6) // float32 stash type
		laClose(t, name+"/rstd", out[2], statShape, wr, 1e-6)
		if out[1].DType() != tensor.Float32 {
			t.Errorf("%s: Mean is %s, want float32 (stash_type 1)", name, out[1].DType())
		}
		in32 := make([]*tensor.Tensor, len(in))
		for i, v := range in {
			in32[i] = laF32(v)
		}
		laClose(t, name+"/f32", laRun(t, n, in32...)[0], c.shape, wy, 1e-5)
	}
	// Broadcast scale ([1] and [1, D]) and a stash type of double.
	x := randT(r, -1, 1, 3, 4)
	w1, w2 := randT(r, 0, 1, 1), randT(r, 0, 1, 1, 4)
	wy, _, _ := layerNormRef(x.F64(), w1.F64(), []float64{0}, []int{3, 4}, -1, float64(float32(1e-5)))
	laClose(t, "scale[1]", laRun(t, laNode("LayerNormalization", 17), x, w1)[0], []int{3, 4}, wy, 1e-12)
	wy, _, _ = layerNormRef(x.F64(), w2.F64(), []float64{0}, []int{3, 4}, -1, float64(float32(1e-5)))
	n := laNode("LayerNormalization", 17, "stash_type", 11)
	n.NumOutputs = 2
	out = laRun(t, n, x, w2)
	laClose(t, "scale[1,4]", out[0], []int{3, 4}, wy, 1e-12)
	if len(out) != 2 || out[1].DType() != tensor.Float64 {
		t.Errorf("stash_type 11: %d outputs, Mean %v", len(out), out[1])
	}
	if err := laForwardErr(laNode("LayerNormalization", 17), x, randT(r, 0, 1, 3)); err == nil {
		t.Errorf("scale of the wrong size: no error")
	}
}

func TestLayerNormGrad(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	var cases []gradCase
	for _, c := range []struct {
		shape, ws []int
		axis      int
		bias      bool
		nOut      int
	}{
		{[]int{4, 5}, []int{5}, -1, true, 1},
		{[]int{2, 3, 5}, []int{5}, -1, false, 1},
		{[]int{2, 3, 5}, []int{3, 5}, 1, true, 1},
		{[]int{2, 3, 4}, []int{2, 3, 4}, 0, true, 1},
		{[]int{2, 3, 4}, []int{3, 4}, -2, true, 1},
		{[]int{3, 4}, []int{1}, -1, true, 1},       // broadcast scale
		{[]int{3, 4}, []int{4}, -1, true, 3},       // Mean and InvStdDev reach the loss
		{[]int{70, 6}, []int{6}, -1, true, 1},      // several row chunks
		{[]int{2, 2, 3}, []int{1, 3}, -1, true, 1}, // broadcast scale [1, D]
	} {
		in := []*tensor.Tensor{randT(r, -2, 2, c.shape...), randT(r, -1, 1, c.ws...)}
		if c.bias {
			in = append(in, randT(r, -1, 1, c.ws...))
		}
		n := laNode("LayerNormalization", 17, "axis", c.axis, "epsilon", 1e-3, "stash_type", 11)
		n.NumOutputs = c.nOut
		cases = append(cases, gradCase{name: fmt.Sprintf("%v/axis%d/scale%v/bias%v/outs%d", c.shape, c.axis, c.ws, c.bias, c.nOut), node: n, in: in})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

func BenchmarkLayerNormBackward(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	x, w, bias := laF32(randT(r, -1, 1, 8*128, 384)), laF32(randT(r, -1, 1, 384)), laF32(randT(r, -1, 1, 384))
	g := laF32(randT(r, -1, 1, 8*128, 384))
	op, _ := Build(&Node{OpType: "LayerNormalization", Opset: 17, Inputs: []bool{true, true, true}, NumOutputs: 1})
	in := []*tensor.Tensor{x, w, bias}
	out, _ := op.Forward(in)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op.(Differentiable).Backward(in, out, []*tensor.Tensor{g}, []bool{true, true, true})
	}
}
