package graph

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

// geluChains are the two orders in which PyTorch exports the erf GELU
// x·½·(1 + erf(x/√2)) after a Linear layer (W, b trainable), with one graph
// output y.
func geluChains() map[string][]nd {
	lin := []nd{{op: "MatMul", name: "mm", in: []string{"x", "W"}, out: []string{"h0"}}, {op: "Add", name: "bias", in: []string{"h0", "b"}, out: []string{"h"}}}
	return map[string][]nd{
		"mul-x-then-half": append(append([]nd{}, lin...),
			nd{op: "Div", name: "div", in: []string{"h", "sqrt2"}, out: []string{"d"}},
			nd{op: "Erf", name: "erf", in: []string{"d"}, out: []string{"e"}},
			nd{op: "Add", name: "add", in: []string{"e", "one"}, out: []string{"a"}},
			nd{op: "Mul", name: "mul", in: []string{"h", "a"}, out: []string{"m"}},
			nd{op: "Mul", name: "half", in: []string{"m", "half"}, out: []string{"y"}}),
		"half-first": append(append([]nd{}, lin...),
			nd{op: "Mul", name: "div", in: []string{"h", "isqrt2"}, out: []string{"d"}},
			nd{op: "Erf", name: "erf", in: []string{"d"}, out: []string{"e"}},
			nd{op: "Add", name: "add", in: []string{"one", "e"}, out: []string{"a"}},
			nd{op: "Mul", name: "half", in: []string{"half", "h"}, out: []string{"hh"}},
			nd{op: "Mul", name: "mul", in: []string{"a", "hh"}, out: []string{"y"}}),
	}
}

// TestFuseGelu: the chains become one Gelu node whose outputs and
// parameter gradients agree with the exported nodes run one by one
// (Options.DisableFusion), and a chain whose intermediate is also a graph output is
// left alone.
func TestFuseGelu(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	rnd := func(shape ...int) *tensor.Tensor {
		d := make([]float32, tensor.Size(shape))
		for i := range d {
			d[i] = float32(r.NormFloat64() * 2)
		}
		return tensor.New(shape, d)
	}
	inits := map[string]*tensor.Tensor{
		"W": rnd(8, 16), "b": rnd(16),
		"sqrt2": tensor.Scalar(float32(math.Sqrt2)), "isqrt2": tensor.Scalar(float32(1 / math.Sqrt2)),
		"one": tensor.Scalar(float32(1)), "half": tensor.Scalar(float32(0.5)),
	}
	x := rnd(3, 8)
	seed := rnd(3, 16)
	run := func(t *testing.T, chain []nd, outputs []string, fuse bool) (*Graph, *tensor.Tensor, map[string]*tensor.Tensor) {
		g, err := Import(buildModel(t, chain, inits, []string{"x"}, outputs), Options{DisableFusion: !fuse})
		if err != nil {
			t.Fatal(err)
		}
		tr, byName := forwardBackward(t, g, x, []string{"y"}, seed)
		return g, tr.Outputs["y"], byName
	}
	for name, chain := range geluChains() {
		t.Run(name, func(t *testing.T) {
			g, y, grads := run(t, chain, []string{"y"}, true)
			var types []string
			for _, n := range g.Nodes {
				types = append(types, n.OpType)
			}
			if len(g.Nodes) != 3 || g.Nodes[2].OpType != "Gelu" {
				t.Fatalf("fused graph runs %v, want [MatMul Add Gelu]", types)
			}
			_, y0, grads0 := run(t, chain, []string{"y"}, false)
			if d := maxAbsDiff(y, y0); d > 1e-5 {
				t.Errorf("fused output differs from the exported nodes by %g", d)
			}
			for _, p := range []string{"W", "b"} {
				if grads[p] == nil || grads0[p] == nil {
					t.Fatalf("no gradient for %s", p)
				}
				if d := maxAbsDiff(grads[p], grads0[p]); d > 1e-4 {
					t.Errorf("gradient of %s: fused differs from the exported nodes by %g", p, d)
				}
			}
			// an intermediate that is also an output keeps the chain as it is
			g, _, _ = run(t, chain, []string{"y", "e"}, true)
			if len(g.Nodes) != 7 {
				t.Errorf("chain with output e: %d nodes, want all 7", len(g.Nodes))
			}
		})
	}
}

// forwardBackward runs g on input x, keeping outputs, and back from output
// y with gradient seed; it returns the trace and the gradients of the
// parameters by initializer name.
func forwardBackward(t *testing.T, g *Graph, x *tensor.Tensor, outputs []string, seed *tensor.Tensor) (*Trace, map[string]*tensor.Tensor) {
	t.Helper()
	tr, err := g.Forward(map[string]*tensor.Tensor{"x": x}, outputs, g.Params)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := tr.Backward(map[string]*tensor.Tensor{"y": seed})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*tensor.Tensor{}
	for p, gr := range grads {
		byName[p.Initializer] = gr
	}
	return tr, byName
}
