package ops

import (
	"math"
	"reflect"
	"testing"

	"ft/tensor"
)

// ewRun builds the op of node n (opset 17 and one output unless set, inputs
// present where non-nil) and runs Forward.
func ewRun(t *testing.T, n Node, in ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	out, err := ewTry(n, in...)
	if err != nil {
		t.Fatalf("%s: %v", n.OpType, err)
	}
	return out
}

func ewTry(n Node, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	if n.Opset == 0 {
		n.Opset = 17
	}
	if n.NumOutputs == 0 {
		n.NumOutputs = 1
	}
	if n.Inputs == nil {
		for _, x := range in {
			n.Inputs = append(n.Inputs, x != nil)
		}
	}
	op, err := Build(&n)
	if err != nil {
		return nil, err
	}
	return op.Forward(in)
}

// ewF64 / ewF32 make tensors from literals.
func ewF64(shape []int, v ...float64) *tensor.Tensor { return tensor.New(shape, v) }
func ewF32(shape []int, v ...float32) *tensor.Tensor { return tensor.New(shape, v) }
func ewB(shape []int, v ...bool) *tensor.Tensor      { return tensor.New(shape, v) }

// ewCheck compares a tensor with the wanted shape and values (NaN equals
// NaN; floats within a relative tol, others exactly).
func ewCheck(t *testing.T, name string, got *tensor.Tensor, shape []int, want any, tol float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape, shape) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape, shape)
		return
	}
	if reflect.TypeOf(got.Data) != reflect.TypeOf(want) {
		t.Errorf("%s: data %T, want %T", name, got.Data, want)
		return
	}
	switch w := want.(type) {
	case []float64:
		ewClose(t, name, got.F64(), w, tol)
	case []float32:
		g := got.F32()
		gw := make([]float64, len(g))
		ww := make([]float64, len(w))
		for i := range g {
			gw[i], ww[i] = float64(g[i]), float64(w[i])
		}
		ewClose(t, name, gw, ww, tol)
	default:
		if !reflect.DeepEqual(got.Data, want) {
			t.Errorf("%s: got %v, want %v", name, got.Data, want)
		}
	}
}

func ewClose(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if g == w {
			if g == 0 && math.Signbit(g) != math.Signbit(w) {
				t.Errorf("%s[%d]: got %v, want %v (sign of zero)", name, i, g, w)
			}
			continue
		}
		if math.IsInf(w, 0) || math.IsNaN(w) || math.IsNaN(g) || math.Abs(g-w) > tol*math.Max(1, math.Abs(w)) {
			t.Errorf("%s[%d]: got %.9g, want %.9g", name, i, g, w)
		}
	}
}
