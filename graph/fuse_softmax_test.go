package graph

import (
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"ft/onnx"
	"ft/tensor"
)

func countOps(g *Graph) map[string]int {
	c := map[string]int{}
	for _, n := range g.Nodes {
		c[n.OpType]++
	}
	return c
}

func sameBitsT(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got == nil || want == nil || !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	g, w := got.Float64s(), want.Float64s()
	for i := range g {
		if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
			t.Fatalf("%s: element %d is %v fused, %v unfused", what, i, g[i], w[i])
		}
	}
}

// TestFuseSoftmaxBert: on the BERT fixture every attention Add(scores,
// mask) → Softmax becomes one FtMaskedSoftmax, and the outputs and every
// parameter gradient are bit for bit those of the exported nodes.
func TestFuseSoftmaxBert(t *testing.T) {
	dir := filepath.Join("..", "testmodels", "fixtures", "bert")
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	feeds, _ := loadDataSet(t, m, dir)
	// Both graphs are imported unfused (DisableFusion, which also keeps the
	// GELU chains); one then gets this fusion alone.
	run := func(fuse bool) (*Graph, map[string]*tensor.Tensor, map[string]*tensor.Tensor) {
		g, err := Import(m, Options{DisableFusion: true})
		if err != nil {
			t.Fatal(err)
		}
		if fuse {
			g.fuseSoftmax()
		}
		outs := g.OutputNames()
		tr, err := g.Forward(feeds, outs, g.Params)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewSource(1))
		seeds := map[string]*tensor.Tensor{}
		for _, o := range outs {
			y := tr.Outputs[o]
			d := make([]float32, y.Len())
			for i := range d {
				d[i] = float32(r.NormFloat64())
			}
			seeds[o] = tensor.New(y.Shape, d)
		}
		grads, err := tr.Backward(seeds)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*tensor.Tensor{}
		for p, gr := range grads {
			byName[p.Name] = gr
		}
		return g, tr.Outputs, byName
	}
	g0, y0, gr0 := run(false)
	g1, y1, gr1 := run(true)
	c0, c1 := countOps(g0), countOps(g1)
	if c0["Softmax"] == 0 || c1["FtMaskedSoftmax"] != c0["Softmax"] || c1["Softmax"] != 0 {
		t.Fatalf("fused ops %v from exported %v: want every Softmax and its mask Add fused", c1, c0)
	}
	t.Logf("%d Add→Softmax chains fused", c1["FtMaskedSoftmax"])
	if g, err := Import(m, Options{}); err != nil || countOps(g)["FtMaskedSoftmax"] != c0["Softmax"] {
		t.Fatalf("with every fusion on: %v (%v)", countOps(g), err)
	}
	for name, y := range y0 {
		sameBitsT(t, "output "+name, y1[name], y)
	}
	if len(gr0) == 0 || len(gr1) != len(gr0) {
		t.Fatalf("%d gradients fused, %d unfused", len(gr1), len(gr0))
	}
	for name, g := range gr0 {
		sameBitsT(t, "gradient of "+name, gr1[name], g)
	}
}

// TestFuseSoftmaxWhen: the chain is fused in either Add operand order, and
// left alone when the sum has another user, is a graph output, or the
// Softmax is not along the last axis.
func TestFuseSoftmaxWhen(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	rnd := func(shape ...int) *tensor.Tensor {
		d := make([]float32, tensor.Size(shape))
		for i := range d {
			d[i] = float32(r.NormFloat64() * 3)
		}
		return tensor.New(shape, d)
	}
	feeds := map[string]*tensor.Tensor{"x": rnd(2, 3, 4, 5), "m": rnd(2, 1, 1, 5)}
	cases := []struct {
		name    string
		nodes   []nd
		outputs []string
		axis    *int64
		fused   bool
	}{
		{"scores+mask", []nd{{op: "Add", name: "add", in: []string{"x", "m"}, out: []string{"s"}},
			{op: "Softmax", name: "sm", in: []string{"s"}, out: []string{"y"}}}, []string{"y"}, nil, true},
		{"mask+scores", []nd{{op: "Add", name: "add", in: []string{"m", "x"}, out: []string{"s"}},
			{op: "Softmax", name: "sm", in: []string{"s"}, out: []string{"y"}}}, []string{"y"}, nil, true},
		{"axis -1", []nd{{op: "Add", name: "add", in: []string{"x", "m"}, out: []string{"s"}},
			{op: "Softmax", name: "sm", in: []string{"s"}, out: []string{"y"}}}, []string{"y"}, new(int64(-1)), true},
		{"sum has another user", []nd{{op: "Add", name: "add", in: []string{"x", "m"}, out: []string{"s"}},
			{op: "Softmax", name: "sm", in: []string{"s"}, out: []string{"y"}},
			{op: "Mul", name: "mul", in: []string{"s", "y"}, out: []string{"z"}}}, []string{"z"}, nil, false},
		{"sum is an output", []nd{{op: "Add", name: "add", in: []string{"x", "m"}, out: []string{"s"}},
			{op: "Softmax", name: "sm", in: []string{"s"}, out: []string{"y"}}}, []string{"y", "s"}, nil, false},
		{"axis 1", []nd{{op: "Add", name: "add", in: []string{"x", "m"}, out: []string{"s"}},
			{op: "Softmax", name: "sm", in: []string{"s"}, out: []string{"y"}}}, []string{"y"}, new(int64(1)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := map[bool]map[string]*tensor.Tensor{}
			for _, nofuse := range []bool{true, false} {
				m := buildModel(t, c.nodes, nil, []string{"x", "m"}, c.outputs)
				if c.axis != nil {
					at := onnx.AttributeProto_INT
					m.Proto.Graph.Node[1].Attribute = []*onnx.AttributeProto{{Name: sp("axis"), Type: &at, I: c.axis}}
				}
				g, err := Import(m, Options{DisableFusion: nofuse})
				if err != nil {
					t.Fatal(err)
				}
				n := countOps(g)["FtMaskedSoftmax"]
				switch {
				case nofuse && n != 0:
					t.Fatalf("DisableFusion fused %d", n)
				case !nofuse && c.fused && (n != 1 || len(g.Nodes) != len(c.nodes)-1):
					t.Fatalf("not fused: %v", countOps(g))
				case !nofuse && !c.fused && n != 0:
					t.Fatalf("fused: %v", countOps(g))
				}
				out, err := g.Run(feeds, c.outputs...)
				if err != nil {
					t.Fatal(err)
				}
				res[nofuse] = out
			}
			for _, o := range c.outputs {
				sameBitsT(t, o, res[false][o], res[true][o])
			}
		})
	}
}
