package ops

// Test helpers shared by the linear-algebra, normalisation and reduction
// tests (names start with "la").

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"ft/tensor"
)

// laNode makes a node from name/value attribute pairs: int, float64,
// []int64 and string values.
func laNode(op string, opset int, kv ...any) Node {
	n := Node{Name: "t", OpType: op, Opset: opset, Attrs: map[string]Attr{}}
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		switch v := kv[i+1].(type) {
		case int:
			n.Attrs[name] = Attr{Kind: AttrInt, I: int64(v)}
		case float64:
			n.Attrs[name] = Attr{Kind: AttrFloat, F: float32(v)}
		case []int64:
			n.Attrs[name] = Attr{Kind: AttrInts, Ints: v}
		case string:
			n.Attrs[name] = Attr{Kind: AttrString, S: v}
		default:
			panic(fmt.Sprintf("laNode: attribute %s of type %T", name, v))
		}
	}
	return n
}

// laRun builds the node and runs forward.
func laRun(t *testing.T, n Node, in ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	if n.Inputs == nil {
		for _, x := range in {
			n.Inputs = append(n.Inputs, x != nil)
		}
	}
	if n.NumOutputs == 0 {
		n.NumOutputs = 1
	}
	op, err := Build(&n)
	if err != nil {
		t.Fatalf("build %s: %v", n.OpType, err)
	}
	out, err := op.Forward(in)
	if err != nil {
		t.Fatalf("%s forward: %v", n.OpType, err)
	}
	return out
}

// laForwardErr builds and runs the node and returns the error, if any.
func laForwardErr(n Node, in ...*tensor.Tensor) error {
	for _, x := range in {
		n.Inputs = append(n.Inputs, x != nil)
	}
	n.NumOutputs = max(n.NumOutputs, 1)
	op, err := Build(&n)
	if err != nil {
		return err
	}
	_, err = op.Forward(in)
	return err
}

// laClose checks a tensor's shape and values (relative tolerance).
func laClose(t *testing.T, name string, got *tensor.Tensor, shape []int, want []float64, tol float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", name, got.Shape, shape)
	}
	g := got.Float64s()
	if len(g) != len(want) {
		t.Fatalf("%s: %d elements, want %d", name, len(g), len(want))
	}
	for i := range want {
		w := want[i]
		if math.IsNaN(w) && math.IsNaN(g[i]) || w == g[i] {
			continue
		}
		if math.IsNaN(g[i]) || math.Abs(g[i]-w) > tol*math.Max(1, math.Abs(w)) {
			t.Fatalf("%s: element %d = %v, want %v", name, i, g[i], w)
		}
	}
}

// laF32 converts a float64 tensor to float32.
func laF32(x *tensor.Tensor) *tensor.Tensor {
	d := x.F64()
	f := make([]float32, len(d))
	for i, v := range d {
		f[i] = float32(v)
	}
	return tensor.New(x.Shape, f)
}

// laNaiveEinsum is the reference: for explicit equations of letters only, it
// loops over every assignment of every label (size-1 dimensions broadcast).
func laNaiveEinsum(eq string, in ...*tensor.Tensor) ([]float64, []int) {
	lhs, rhs, _ := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	size := map[byte]int{}
	var labels []byte
	for i, term := range terms {
		for p := 0; p < len(term); p++ {
			l := term[p]
			d := in[i].Shape[p]
			if s, ok := size[l]; !ok || s == 1 {
				if !ok {
					labels = append(labels, l)
				}
				size[l] = d
			}
		}
	}
	var outShape []int
	for p := 0; p < len(rhs); p++ {
		outShape = append(outShape, size[rhs[p]])
	}
	out := make([]float64, tensor.Size(outShape))
	val := map[byte]int{}
	data := make([][]float64, len(in))
	for i, x := range in {
		data[i] = x.Float64s()
	}
	var rec func(li int)
	rec = func(li int) {
		if li == len(labels) {
			prod := 1.0
			for i, term := range terms {
				off := 0
				for p := 0; p < len(term); p++ {
					d := in[i].Shape[p]
					v := val[term[p]]
					if d == 1 {
						v = 0
					}
					off = off*d + v
				}
				prod *= data[i][off]
			}
			o := 0
			for p := 0; p < len(rhs); p++ {
				o = o*outShape[p] + val[rhs[p]]
			}
			out[o] += prod
			return
		}
		for v := 0; v < size[labels[li]]; v++ {
			val[labels[li]] = v
			rec(li + 1)
		}
	}
	rec(0)
	return out, outShape
}
