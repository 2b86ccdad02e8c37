package ops

import (
	"math"
	"testing"

	"ft/tensor"
)

func TestCompareForward(t *testing.T) {
	nan := math.NaN()
	a, b := ewF64([]int{2, 3}, 1, 2, 3, nan, 5, -1), ewF64([]int{3}, 2, 2, 2)
	want := map[string][]bool{
		"Equal":          {false, true, false, false, false, false},
		"Less":           {true, false, false, false, false, true},
		"LessOrEqual":    {true, true, false, false, false, true},
		"Greater":        {false, false, true, false, true, false},
		"GreaterOrEqual": {false, true, true, false, true, false},
	}
	for op, w := range want {
		out := ewRun(t, Node{OpType: op, Opset: 16}, a, b)
		ewCheck(t, op, out[0], []int{2, 3}, w, 0)
		// the same in every numeric type (NaN aside)
		for _, pair := range [][2]*tensor.Tensor{
			{ewF32([]int{3}, 1, 2, 3), ewF32([]int{}, 2)},
			{i64([]int{3}, 1, 2, 3), i64([]int{}, 2)},
			{tensor.New([]int{3}, []int32{1, 2, 3}), tensor.New([]int{1}, []int32{2})},
			{tensor.New([]int{3}, []uint8{1, 2, 3}), tensor.New([]int{}, []uint8{2})},
			{tensor.New([]int{3}, []int8{1, 2, 3}), tensor.New([]int{}, []int8{2})},
		} {
			out := ewRun(t, Node{OpType: op, Opset: 16}, pair[0], pair[1])
			ewCheck(t, op+"/"+pair[0].DType().String(), out[0], []int{3}, w[:3], 0)
		}
	}
	out := ewRun(t, Node{OpType: "Equal", Opset: 11}, ewB([]int{2, 2}, true, false, true, false), ewB([]int{2}, true, true))
	ewCheck(t, "Equal/bool", out[0], []int{2, 2}, []bool{true, false, true, false}, 0)
	if _, err := ewTry(Node{OpType: "Less"}, ewB([]int{1}, true), ewB([]int{1}, true)); err == nil {
		t.Error("Less accepted bool")
	}
	if _, err := ewTry(Node{OpType: "Equal"}, ewF64([]int{1}, 1), ewF32([]int{1}, 1)); err == nil {
		t.Error("Equal accepted mixed types")
	}
}

func TestLogicForward(t *testing.T) {
	a, b := ewB([]int{2, 2}, true, true, false, false), ewB([]int{2}, true, false)
	for op, w := range map[string][]bool{
		"And": {true, false, false, false},
		"Or":  {true, true, true, false},
		"Xor": {false, true, true, false},
	} {
		out := ewRun(t, Node{OpType: op}, a, b)
		ewCheck(t, op, out[0], []int{2, 2}, w, 0)
	}
	out := ewRun(t, Node{OpType: "Not"}, a)
	ewCheck(t, "Not", out[0], []int{2, 2}, []bool{false, false, true, true}, 0)
	if _, err := ewTry(Node{OpType: "And"}, i64([]int{1}, 1), i64([]int{1}, 1)); err == nil {
		t.Error("And accepted int64")
	}
	if _, err := ewTry(Node{OpType: "Or"}, a, ewB([]int{3}, true, true, true)); err == nil {
		t.Error("Or accepted shapes that do not broadcast")
	}
}

func TestIsNaNIsInf(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	x := ewF64([]int{6}, -1.7, nan, inf, -3.6, -inf, 0)
	x32 := ewF32([]int{6}, -1.7, float32(nan), float32(inf), -3.6, float32(-inf), 0)
	for _, in := range []*tensor.Tensor{x, x32} {
		ewCheck(t, "IsNaN", ewRun(t, Node{OpType: "IsNaN", Opset: 20}, in)[0], []int{6}, []bool{false, true, false, false, false, false}, 0)
		ewCheck(t, "IsInf", ewRun(t, Node{OpType: "IsInf", Opset: 20}, in)[0], []int{6}, []bool{false, false, true, false, true, false}, 0)
		pos := Node{OpType: "IsInf", Opset: 20, Attrs: map[string]Attr{"detect_negative": {Kind: AttrInt, I: 0}}}
		ewCheck(t, "IsInf/pos", ewRun(t, pos, in)[0], []int{6}, []bool{false, false, true, false, false, false}, 0)
		neg := Node{OpType: "IsInf", Opset: 20, Attrs: map[string]Attr{"detect_positive": {Kind: AttrInt, I: 0}}}
		ewCheck(t, "IsInf/neg", ewRun(t, neg, in)[0], []int{6}, []bool{false, false, false, false, true, false}, 0)
	}
	if _, err := ewTry(Node{OpType: "IsNaN"}, i64([]int{1}, 1)); err == nil {
		t.Error("IsNaN accepted int64")
	}
}

// TestElementwiseGradientKinds asserts, for the ops of the elementwise files,
// that exactly those in Trainable have a Backward and that the comparison,
// logic and step ops are ShapeOnly.
func TestElementwiseGradientKinds(t *testing.T) {
	trainable := map[string]bool{}
	for _, op := range Trainable() {
		trainable[op] = true
	}
	shapeOnly := map[string]bool{
		"Equal": true, "Less": true, "LessOrEqual": true, "Greater": true, "GreaterOrEqual": true,
		"Not": true, "And": true, "Or": true, "Xor": true, "IsNaN": true, "IsInf": true,
		"Sign": true, "Ceil": true, "Floor": true,
	}
	ops := []string{
		"Pow", "Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Gelu", "Neg", "Abs", "Sign", "Exp", "Log",
		"Ceil", "Floor", "Reciprocal", "Clip", "Sin", "Cos", "Min", "Max", "Where", "Equal", "Less",
		"LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
		"Cast", "CastLike", "Identity", "Dropout", "Softplus", "Mod",
	}
	for _, name := range ops {
		for _, opset := range []int{15, 17, 20, 22} {
			if name == "Gelu" && opset < 20 {
				continue
			}
			n := Node{OpType: name, Opset: opset, Attrs: map[string]Attr{"to": {Kind: AttrInt, I: 1}}, NumOutputs: 1}
			op, err := Build(&n)
			if err != nil {
				t.Fatalf("%s (opset %d): %v", name, opset, err)
			}
			_, diff := op.(Differentiable)
			_, so := op.(ShapeOnly)
			if diff != trainable[name] {
				t.Errorf("%s (opset %d): Differentiable = %v, in Trainable = %v", name, opset, diff, trainable[name])
			}
			if so != shapeOnly[name] {
				t.Errorf("%s (opset %d): ShapeOnly = %v, want %v", name, opset, so, shapeOnly[name])
			}
		}
	}
}
