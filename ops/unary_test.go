package ops

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestUnaryForward(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	e := math.E
	cases := []struct {
		op   string
		in   *tensor.Tensor
		want any
	}{
		{"Sqrt", ewF64([]int{4}, 0, 1, 4, 2.25), []float64{0, 1, 2, 1.5}},
		{"Sqrt", ewF64([]int{}, -1), []float64{nan}},
		{"Erf", ewF64([]int{5}, 0, 0.5, 1, -2, 5), []float64{0, 0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0.9999999999984626}},
		{"Erf", ewF32([]int{5}, 0, 0.5, 1, -2, 5), []float32{0, 0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 1}},
		{"Tanh", ewF64([]int{4}, 0, 1, -0.5, 30), []float64{0, 0.7615941559557649, -0.46211715726000974, 1}},
		{"Relu", ewF64([]int{2, 2}, -1, 0, 2.5, -1e-9), []float64{0, 0, 2.5, 0}},
		{"Relu", ewF32([]int{3}, -1, 3, 0.25), []float32{0, 3, 0.25}},
		{"Relu", i64([]int{3}, -3, 0, 4), []int64{0, 0, 4}},
		{"Relu", tensor.New([]int{2}, []int32{-3, 4}), []int32{0, 4}},
		{"Relu", tensor.New([]int{2}, []int8{-128, 127}), []int8{0, 127}},
		{"Sigmoid", ewF64([]int{5}, 0, 1, -1, -800, 800), []float64{0.5, 0.7310585786300049, 0.2689414213699951, 0, 1}},
		{"Sigmoid", ewF32([]int{3}, 0, 1, -100), []float32{0.5, 0.7310585786300049, 3.720075976020836e-44}},
		{"Neg", ewF64([]int{3}, 1.5, -2, inf), []float64{-1.5, 2, -inf}},
		{"Neg", tensor.New([]int{2}, []int32{3, -4}), []int32{-3, 4}},
		{"Neg", tensor.New([]int{2}, []int8{3, -4}), []int8{-3, 4}},
		{"Neg", i64([]int{1}, 9), []int64{-9}},
		{"Abs", ewF64([]int{3}, -1.5, 2, -inf), []float64{1.5, 2, inf}},
		{"Abs", tensor.New([]int{3}, []int8{-3, 3, 0}), []int8{3, 3, 0}},
		{"Abs", tensor.New([]int{2}, []uint8{5, 255}), []uint8{5, 255}},
		{"Abs", i64([]int{2}, -7, 7), []int64{7, 7}},
		{"Exp", ewF64([]int{3}, 0, 1, -1), []float64{1, e, 0.36787944117144233}},
		{"Exp", ewF32([]int{2}, 0, 1), []float32{1, float32(e)}},
		{"Log", ewF64([]int{4}, 1, e, 0.5, 0), []float64{0, 1, -0.6931471805599453, -inf}},
		{"Sin", ewF64([]int{3}, 0, math.Pi/2, 1), []float64{0, 1, 0.8414709848078965}},
		{"Cos", ewF64([]int{3}, 0, 1, math.Pi), []float64{1, 0.5403023058681398, -1}},
		{"Sign", ewF64([]int{4}, -2, 0, 3.5, nan), []float64{-1, 0, 1, nan}},
		{"Sign", tensor.New([]int{3}, []int32{-5, 0, 7}), []int32{-1, 0, 1}},
		{"Sign", tensor.New([]int{2}, []uint8{0, 9}), []uint8{0, 1}},
		{"Sign", i64([]int{2}, -5, 5), []int64{-1, 1}},
		{"Ceil", ewF64([]int{3}, -1.5, 1.2, 2), []float64{-1, 2, 2}},
		{"Ceil", ewF32([]int{2}, 0.1, -2.9), []float32{1, -2}},
		{"Floor", ewF64([]int{3}, -1.5, 1.2, 2), []float64{-2, 1, 2}},
		{"Reciprocal", ewF64([]int{3}, 2, -0.5, 4), []float64{0.5, -2, 0.25}},
		{"Reciprocal", ewF32([]int{1}, 8), []float32{0.125}},
		{"Softplus", ewF64([]int{5}, 0, 1, -1, 100, -100), []float64{0.6931471805599453, 1.3132616875182228, 0.31326168751822286, 100, 3.720075976020836e-44}},
	}
	for _, c := range cases {
		out := ewRun(t, Node{OpType: c.op}, c.in)
		ewCheck(t, c.op+"/"+c.in.String(), out[0], c.in.Shape, c.want, 1e-7)
	}
}

func TestUnaryRejects(t *testing.T) {
	for _, c := range []struct {
		op string
		in *tensor.Tensor
	}{
		{"Sqrt", i64([]int{1}, 4)},
		{"Relu", tensor.New([]int{1}, []uint8{1})},
		{"Neg", tensor.New([]int{1}, []bool{true})},
		{"Exp", tensor.New([]int{1}, []int32{1})},
	} {
		if _, err := ewTry(Node{OpType: c.op}, c.in); err == nil {
			t.Errorf("%s accepted %s", c.op, c.in.DType())
		}
	}
}

// TestUnaryFloat32 checks every float op in float32 against float64.
func TestUnaryFloat32(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, op := range []string{"Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Neg", "Abs", "Exp", "Log", "Sin", "Cos", "Sign", "Ceil", "Floor", "Reciprocal", "Softplus", "Gelu"} {
		x64 := randT(r, 0.01, 4, 3, 7, 11)
		if op != "Sqrt" && op != "Log" {
			x64 = randT(r, -4, 4, 3, 7, 11)
		}
		x32 := tensor.New(x64.Shape, make([]float32, x64.Len()))
		for i, v := range x64.F64() {
			x32.F32()[i] = float32(v)
			x64.F64()[i] = float64(x32.F32()[i])
		}
		y64 := ewRun(t, Node{OpType: op, Opset: 20}, x64)[0].F64()
		y32 := ewRun(t, Node{OpType: op, Opset: 20}, x32)[0].F32()
		for i := range y64 {
			if d := math.Abs(float64(y32[i]) - y64[i]); d > 1e-6*math.Max(1, math.Abs(y64[i])) {
				t.Errorf("%s(%g): float32 %g, float64 %g", op, x64.F64()[i], y32[i], y64[i])
				break
			}
		}
	}
}

func TestErf32(t *testing.T) {
	worst := 0.0
	for x := -6.0; x <= 6; x += 1e-4 {
		v := float32(x)
		d := math.Abs(float64(erf32(v)) - math.Erf(float64(v)))
		worst = math.Max(worst, d)
	}
	if worst > 5e-7 {
		t.Errorf("erf32: max error %g", worst)
	}
	if erf32(float32(math.Inf(1))) != 1 || erf32(float32(math.Inf(-1))) != -1 || !math.IsNaN(float64(erf32(float32(math.NaN())))) {
		t.Errorf("erf32 special values: %v %v %v", erf32(float32(math.Inf(1))), erf32(float32(math.Inf(-1))), erf32(float32(math.NaN())))
	}
	if v := erf32(0); v != 0 || math.Signbit(float64(v)) {
		t.Errorf("erf32(0) = %v", v)
	}
}

// awayFromZero returns values of magnitude in [0.2, 2] with random signs
// (inputs of Abs/Relu away from their kink).
func awayFromZero(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := randT(r, 0.2, 2, shape...)
	for i := range x.F64() {
		if r.Intn(2) == 0 {
			x.F64()[i] = -x.F64()[i]
		}
	}
	return x
}

func TestUnaryGrad(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	var cases []gradCase
	for _, op := range []string{"Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Neg", "Abs", "Exp", "Log", "Sin", "Cos"} {
		for _, shape := range [][]int{{}, {5}, {2, 3}, {2, 1, 4}} {
			var x *tensor.Tensor
			switch op {
			case "Sqrt", "Log":
				x = randT(r, 0.3, 3, shape...)
			case "Relu", "Abs":
				x = awayFromZero(r, shape...)
			default:
				x = randT(r, -2.5, 2.5, shape...)
			}
			cases = append(cases, gradCase{name: op + "/" + x.String(), node: Node{OpType: op}, in: []*tensor.Tensor{x}})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

func TestUnaryGradFloat32(t *testing.T) {
	// float32 backward agrees with float64 backward.
	r := rand.New(rand.NewSource(5))
	for _, op := range []string{"Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Neg", "Abs", "Exp", "Log", "Sin", "Cos", "Gelu"} {
		x64 := awayFromZero(r, 4, 5)
		if op == "Sqrt" || op == "Log" {
			x64 = randT(r, 0.3, 3, 4, 5)
		}
		g64 := randT(r, -1, 1, 4, 5)
		x32, g32 := tensor.New(x64.Shape, make([]float32, 20)), tensor.New(x64.Shape, make([]float32, 20))
		for i := range x64.F64() {
			x32.F32()[i], g32.F32()[i] = float32(x64.F64()[i]), float32(g64.F64()[i])
			x64.F64()[i], g64.F64()[i] = float64(x32.F32()[i]), float64(g32.F32()[i])
		}
		grad := func(x, g *tensor.Tensor) *tensor.Tensor {
			n := Node{OpType: op, Opset: 20, Inputs: []bool{true}, NumOutputs: 1}
			o, err := Build(&n)
			if err != nil {
				t.Fatal(err)
			}
			y, err := o.Forward([]*tensor.Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			d, err := o.(Differentiable).Backward([]*tensor.Tensor{x}, y, []*tensor.Tensor{g}, []bool{true})
			if err != nil {
				t.Fatal(err)
			}
			return d[0]
		}
		d64, d32 := grad(x64, g64).F64(), grad(x32, g32).F32()
		for i := range d64 {
			if math.Abs(float64(d32[i])-d64[i]) > 1e-5*math.Max(1, math.Abs(d64[i])) {
				t.Errorf("%s: float32 grad %g, float64 %g", op, d32[i], d64[i])
				break
			}
		}
	}
}

func TestGeluForward(t *testing.T) {
	// y = 0.5x(1+erf(x/√2)); tanh: 0.5x(1+tanh(√(2/π)(x+0.044715x³))).
	x := []float64{-1, 0, 1, 2.5, -3}
	none := []float64{-0.15865525393145702, 0, 0.841344746068543, 2.4844758366855597, -0.00404969409489031}
	tanhv := []float64{-0.15880800939172324, 0, 0.8411919906082768, 2.484915733910001, -0.0036373920817729943}
	for _, c := range []struct {
		approx string
		want   []float64
	}{{"", none}, {"none", none}, {"tanh", tanhv}} {
		n := Node{OpType: "Gelu", Opset: 20, Attrs: map[string]Attr{}}
		if c.approx != "" {
			n.Attrs["approximate"] = Attr{Kind: AttrString, S: c.approx}
		}
		got := ewRun(t, n, ewF64([]int{5}, x...))[0]
		ewCheck(t, "Gelu/"+c.approx, got, []int{5}, c.want, 1e-9)
		x32 := ewF32([]int{5}, -1, 0, 1, 2.5, -3)
		g32 := ewRun(t, n, x32)[0]
		w32 := make([]float32, 5)
		for i, v := range c.want {
			w32[i] = float32(v)
		}
		ewCheck(t, "Gelu32/"+c.approx, g32, []int{5}, w32, 2e-6)
	}
	if _, err := ewTry(Node{OpType: "Gelu", Opset: 20, Attrs: map[string]Attr{"approximate": {Kind: AttrString, S: "fast"}}}, ewF64([]int{1}, 1)); err == nil {
		t.Error("Gelu accepted approximate=fast")
	}
	if _, err := ewTry(Node{OpType: "Gelu", Opset: 19}, ewF64([]int{1}, 1)); err == nil {
		t.Error("Gelu built at opset 19")
	}
}

func TestGeluGrad(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, approx := range []string{"none", "tanh"} {
		for _, shape := range [][]int{{}, {7}, {3, 4}} {
			c := gradCase{
				name: "Gelu/" + approx,
				node: Node{OpType: "Gelu", Opset: 20, Attrs: map[string]Attr{"approximate": {Kind: AttrString, S: approx}}},
				in:   []*tensor.Tensor{randT(r, -3.5, 3.5, shape...)},
			}
			t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
		}
	}
}

// TestUnaryLarge runs the chunked parallel path and checks it against the
// element formula.
func TestUnaryLarge(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	x := randT(r, -3, 3, 5, elemGrain+17)
	y := ewRun(t, Node{OpType: "Tanh"}, x)[0].F64()
	for i, v := range x.F64() {
		if y[i] != math.Tanh(v) {
			t.Fatalf("Tanh[%d] = %g, want %g", i, y[i], math.Tanh(v))
		}
	}
}
