package ops

import (
	"math"
	"math/rand"
	"reflect"
	"testing"

	"ft/tensor"
)

func castNode(to int64) Node {
	return Node{OpType: "Cast", Opset: 19, Attrs: map[string]Attr{"to": {Kind: AttrInt, I: to}}}
}

// ONNX TensorProto data types used below.
const (
	onnxFloat  = 1
	onnxUint8  = 2
	onnxInt8   = 3
	onnxInt32  = 6
	onnxInt64  = 7
	onnxBool   = 9
	onnxDouble = 11
)

func TestCastForward(t *testing.T) {
	nan := math.NaN()
	f := ewF64([]int{2, 3}, 1.7, -1.7, 2.5, -0.5, 0, 100.9)
	cases := []struct {
		name string
		in   *tensor.Tensor
		to   int64
		want any
	}{
		{"f64>i64", f, onnxInt64, []int64{1, -1, 2, 0, 0, 100}},
		{"f64>i32", f, onnxInt32, []int32{1, -1, 2, 0, 0, 100}},
		{"f64>i8", f, onnxInt8, []int8{1, -1, 2, 0, 0, 100}},
		{"f64>u8", f, onnxUint8, []uint8{1, 255, 2, 0, 0, 100}},
		{"f64>f32", f, onnxFloat, []float32{1.7, -1.7, 2.5, -0.5, 0, 100.9}},
		{"f64>f64", f, onnxDouble, []float64{1.7, -1.7, 2.5, -0.5, 0, 100.9}},
		{"f64>bool", ewF64([]int{2, 3}, 0, math.Copysign(0, -1), 0.1, nan, -3, 1e-300), onnxBool, []bool{false, false, true, true, true, true}},
		{"f32>i64", ewF32([]int{2, 3}, 1.7, -1.7, 2.5, -0.5, 0, 1e9), onnxInt64, []int64{1, -1, 2, 0, 0, 1e9}},
		{"f32>f64", ewF32([]int{2, 3}, 0.5, -1, 2, 3, 4, 5), onnxDouble, []float64{0.5, -1, 2, 3, 4, 5}},
		{"i64>f32", i64([]int{2, 3}, 0, 1, -1, 1<<40, 7, 9), onnxFloat, []float32{0, 1, -1, 1 << 40, 7, 9}},
		{"i64>i32", i64([]int{2, 3}, 0, 1, -1, 1<<32+5, 7, 9), onnxInt32, []int32{0, 1, -1, 5, 7, 9}},
		{"i64>bool", i64([]int{2, 3}, 0, 1, -1, 0, 7, 0), onnxBool, []bool{false, true, true, false, true, false}},
		{"i32>i8", tensor.New([]int{2, 3}, []int32{300, -129, 5, 0, 1, 2}), onnxInt8, []int8{44, 127, 5, 0, 1, 2}},
		{"u8>i64", tensor.New([]int{2, 3}, []uint8{255, 0, 5, 1, 2, 3}), onnxInt64, []int64{255, 0, 5, 1, 2, 3}},
		{"i8>f64", tensor.New([]int{2, 3}, []int8{-128, 0, 5, 1, 2, 3}), onnxDouble, []float64{-128, 0, 5, 1, 2, 3}},
		{"bool>f32", ewB([]int{2, 3}, true, false, true, true, false, false), onnxFloat, []float32{1, 0, 1, 1, 0, 0}},
		{"bool>i64", ewB([]int{2, 3}, true, false, true, true, false, false), onnxInt64, []int64{1, 0, 1, 1, 0, 0}},
		{"bool>u8", ewB([]int{2, 3}, true, false, true, true, false, false), onnxUint8, []uint8{1, 0, 1, 1, 0, 0}},
		{"bool>bool", ewB([]int{2, 3}, true, false, true, true, false, false), onnxBool, []bool{true, false, true, true, false, false}},
	}
	for _, c := range cases {
		out := ewRun(t, castNode(c.to), c.in)
		ewCheck(t, "Cast/"+c.name, out[0], []int{2, 3}, c.want, 0)
		if reflect.ValueOf(out[0].Data).Pointer() == reflect.ValueOf(c.in.Data).Pointer() {
			t.Errorf("Cast/%s: output aliases the input", c.name)
		}
		// CastLike: the target type from a second input.
		like := tensor.Zeros(out[0].DType(), 1)
		out = ewRun(t, Node{OpType: "CastLike", Opset: 15}, c.in, like)
		ewCheck(t, "CastLike/"+c.name, out[0], []int{2, 3}, c.want, 0)
	}
	for _, to := range []int64{8, 17, 22, 0, 99} {
		if _, err := Build(&Node{OpType: "Cast", Opset: 19, Attrs: map[string]Attr{"to": {Kind: AttrInt, I: to}}}); err == nil {
			t.Errorf("Cast to %d built", to)
		}
	}
	if _, err := Build(&Node{OpType: "Cast", Opset: 13}); err == nil {
		t.Error("Cast without to built")
	}
}

// TestCastWidened checks casts to the types ft holds in a wider one (as the
// onnx loader reads them): the values are those of the narrow type.
func TestCastWidened(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name string
		in   *tensor.Tensor
		to   int64
		want any
	}{
		// float16: 65519 rounds down to the largest half, 65520 overflows,
		// 3e-8 is half a subnormal step and more, a tie goes to even.
		{"f64>f16", ewF64([]int{10}, 1, 65504, 65519, 65520, 1e-8, 3e-8, 0.1, -2.0009765625, -7e-6, -inf), 10,
			[]float32{1, 65504, 65504, float32(inf), 0, 5.960464477539063e-08, 0.0999755859375, -2, -6.973743438720703e-06, float32(-inf)}},
		{"f32>f16", ewF32([]int{2}, 0.1, 1e5), 10, []float32{0.0999755859375, float32(inf)}},
		{"i64>f16", i64([]int{2}, 2049, 2051), 10, []float32{2048, 2052}},
		{"f32>bf16", ewF32([]int{6}, 1.00390625, 1.01171875, 3.4028235e38, 0.8191054463386536, -1e-40, 3e-39), 16,
			[]float32{1, 1.015625, float32(inf), 0.8203125, -9.183549615799121e-41, 3.03057137321371e-39}},
		{"i64>i16", i64([]int{3}, 40000, -40000, 5), 5, []int32{-25536, 25536, 5}},
		{"f64>i16", ewF64([]int{2}, 70000.7, -1.5), 5, []int32{4464, -1}},
		{"i64>u16", i64([]int{2}, -1, 65536+3), 4, []int32{65535, 3}},
		{"i64>u32", i64([]int{2}, -1, 1<<32+7), 12, []int64{4294967295, 7}},
		{"f32>u64", ewF32([]int{2}, 3.5, 7), 13, []int64{3, 7}},
	}
	for _, c := range cases {
		out := ewRun(t, castNode(c.to), c.in)
		ewCheck(t, "Cast/"+c.name, out[0], c.in.Shape, c.want, 0)
	}
	// the gradient passes straight through a float16 round trip
	n := castNode(10)
	n.Inputs, n.NumOutputs = []bool{true}, 1
	op, _ := Build(&n)
	x := ewF32([]int{2}, 0.1, 3)
	y, _ := op.Forward([]*tensor.Tensor{x})
	d, err := op.(Differentiable).Backward([]*tensor.Tensor{x}, y, []*tensor.Tensor{ewF32([]int{2}, 1, -2)}, []bool{true})
	if err != nil {
		t.Fatal(err)
	}
	ewCheck(t, "f16 grad", d[0], []int{2}, []float32{1, -2}, 0)
}

func TestCastLarge(t *testing.T) {
	x := make([]int64, 3*elemGrain+5)
	for i := range x {
		x[i] = int64(i % 3)
	}
	y := ewRun(t, castNode(onnxFloat), i64([]int{len(x)}, x...))[0].F32()
	for i, v := range x {
		if y[i] != float32(v) {
			t.Fatalf("Cast[%d] = %v, want %v", i, y[i], v)
		}
	}
}

func TestCastGrad(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	checkGrad(t, gradCase{name: "f64>f64", node: castNode(onnxDouble), in: []*tensor.Tensor{randT(r, -2, 2, 3, 4)}})

	back := func(to int64, x, g *tensor.Tensor) *tensor.Tensor {
		t.Helper()
		n := castNode(to)
		n.Inputs, n.NumOutputs = []bool{true}, 1
		op, err := Build(&n)
		if err != nil {
			t.Fatal(err)
		}
		y, err := op.Forward([]*tensor.Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		d, err := op.(Differentiable).Backward([]*tensor.Tensor{x}, y, []*tensor.Tensor{g}, []bool{x.DType().IsFloat()})
		if err != nil {
			t.Fatal(err)
		}
		return d[0]
	}
	// float32 -> float64: the gradient comes back as float32.
	d := back(onnxDouble, ewF32([]int{3}, 1, 2, 3), ewF64([]int{3}, 0.5, -1.25, 3))
	ewCheck(t, "f32>f64", d, []int{3}, []float32{0.5, -1.25, 3}, 0)
	// float64 -> float32: the gradient comes back as float64.
	d = back(onnxFloat, ewF64([]int{2}, 1, 2), ewF32([]int{2}, 0.5, -1))
	ewCheck(t, "f64>f32", d, []int{2}, []float64{0.5, -1}, 0)
	// float -> int: zero gradient.
	d = back(onnxInt64, ewF64([]int{2}, 1.5, 2), nil)
	ewCheck(t, "f64>i64", d, []int{2}, []float64{0, 0}, 0)
	// int -> float: no gradient.
	if d = back(onnxFloat, i64([]int{2}, 1, 2), ewF32([]int{2}, 1, 1)); d != nil {
		t.Errorf("i64>f32: gradient %v", d)
	}
}

func TestIdentity(t *testing.T) {
	x := ewF64([]int{2, 2}, 1, 2, 3, 4)
	y := ewRun(t, Node{OpType: "Identity", Opset: 16}, x)[0]
	ewCheck(t, "Identity", y, []int{2, 2}, []float64{1, 2, 3, 4}, 0)
	y.F64()[0] = 9
	if x.F64()[0] != 1 {
		t.Error("Identity output aliases its input")
	}
	b := ewRun(t, Node{OpType: "Identity"}, ewB([]int{1}, true))[0]
	ewCheck(t, "Identity/bool", b, []int{1}, []bool{true}, 0)
	r := rand.New(rand.NewSource(16))
	checkGrad(t, gradCase{name: "Identity", node: Node{OpType: "Identity"}, in: []*tensor.Tensor{randT(r, -1, 1, 3, 2)}})
}
