package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

// softmaxRef normalises x (of shape) in groups: rows of the 2-D coercion at
// axis (coerce) or along axis alone.
func softmaxRef(x []float64, shape []int, axis int, coerce, log bool) []float64 {
	if axis < 0 {
		axis += len(shape)
	}
	outer, n, inner := laSplit(shape, axis)
	if coerce {
		n, inner = n*inner, 1
	}
	y := make([]float64, len(x))
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			at := func(j int) int { return (o*n+j)*inner + i }
			mx := math.Inf(-1)
			for j := 0; j < n; j++ {
				mx = math.Max(mx, x[at(j)])
			}
			s := 0.0
			for j := 0; j < n; j++ {
				s += math.Exp(x[at(j)] - mx)
			}
			for j := 0; j < n; j++ {
				if log {
					y[at(j)] = x[at(j)] - mx - math.Log(s)
				} else {
					y[at(j)] = math.Exp(x[at(j)]-mx) / s
				}
			}
		}
	}
	return y
}

var softmaxCases = []struct {
	shape []int
	axis  *int // nil: the opset's default
	opset int
}{
	{[]int{3, 4}, nil, 13},
	{[]int{2, 3, 4}, nil, 13},
	{[]int{2, 3, 4}, laIntPtr(1), 13},
	{[]int{2, 3, 4}, laIntPtr(0), 13},
	{[]int{2, 3, 4}, laIntPtr(-2), 13},
	{[]int{2, 3, 4}, nil, 11}, // coerced at axis 1: rows of 12
	{[]int{2, 3, 4}, laIntPtr(2), 11},
	{[]int{2, 3, 4}, laIntPtr(0), 1},
	{[]int{2, 3, 4}, laIntPtr(-1), 11},
	{[]int{5}, nil, 13},
	{[]int{4, 1}, nil, 13},
	{[]int{3, 70}, nil, 13},
}

func laIntPtr(v int) *int { return &v }

func softmaxNode(op string, opset int, axis *int) Node {
	if axis == nil {
		return laNode(op, opset)
	}
	return laNode(op, opset, "axis", *axis)
}

func TestSoftmaxForward(t *testing.T) {
	// Hand-derived: softmax([0, ln 3]) = [1/4, 3/4]; large inputs do not overflow.
	laClose(t, "hand", laRun(t, laNode("Softmax", 13), tensor.New([]int{2}, []float32{0, float32(math.Log(3))}))[0],
		[]int{2}, []float64{0.25, 0.75}, 1e-6)
	laClose(t, "large", laRun(t, laNode("Softmax", 13), tensor.New([]int{1, 2}, []float64{1000, 1000}))[0],
		[]int{1, 2}, []float64{0.5, 0.5}, 0)
	laClose(t, "log-large", laRun(t, laNode("LogSoftmax", 13), tensor.New([]int{1, 2}, []float64{1000, 1000}))[0],
		[]int{1, 2}, []float64{-math.Ln2, -math.Ln2}, 1e-15)
	// A masked position (-inf) gets probability 0.
	laClose(t, "masked", laRun(t, laNode("Softmax", 13), tensor.New([]int{3}, []float32{1, float32(math.Inf(-1)), 1}))[0],
		[]int{3}, []float64{0.5, 0, 0.5}, 1e-7)

	r := rand.New(rand.NewSource(11))
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		for _, c := range softmaxCases {
			x := randT(r, -3, 3, c.shape...)
			axis := -1
			if c.opset < 13 {
				axis = 1
			}
			if c.axis != nil {
				axis = *c.axis
			}
			want := softmaxRef(x.F64(), c.shape, axis, c.opset < 13, op == "LogSoftmax")
			name := fmt.Sprintf("%s/%v/axis%v/opset%d", op, c.shape, axis, c.opset)
			laClose(t, name, laRun(t, softmaxNode(op, c.opset, c.axis), x)[0], c.shape, want, 1e-14)
			laClose(t, name+"/f32", laRun(t, softmaxNode(op, c.opset, c.axis), laF32(x))[0], c.shape, want, 1e-6)
		}
	}
	if err := laForwardErr(laNode("Softmax", 13, "axis", 3), randT(r, 0, 1, 2, 3)); err == nil {
		t.Errorf("axis out of range: no error")
	}
}

func TestSoftmaxGrad(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		for _, c := range softmaxCases {
			gc := gradCase{
				name: fmt.Sprintf("%s/%v/axis%v/opset%d", op, c.shape, c.axis, c.opset),
				node: softmaxNode(op, c.opset, c.axis),
				in:   []*tensor.Tensor{randT(r, -2, 2, c.shape...)},
			}
			if c.axis != nil {
				gc.name = fmt.Sprintf("%s/%v/axis%d/opset%d", op, c.shape, *c.axis, c.opset)
			}
			t.Run(gc.name, func(t *testing.T) { checkGrad(t, gc) })
		}
	}
}

func BenchmarkSoftmaxAttention(b *testing.B) {
	// Attention probabilities [8, 12, 128, 128] along the last axis.
	r := rand.New(rand.NewSource(1))
	x := laF32(randT(r, -4, 4, 8, 12, 128, 128))
	op, _ := Build(&Node{OpType: "Softmax", Opset: 13, Inputs: []bool{true}, NumOutputs: 1})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op.Forward([]*tensor.Tensor{x})
	}
}
