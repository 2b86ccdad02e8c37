package graph

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"ft/tensor"
)

func attnCountOps(g *Graph) map[string]int {
	c := map[string]int{}
	for _, n := range g.Nodes {
		c[n.OpType]++
	}
	return c
}

// TestFuseAttentionFixtures: on the exported BERT-style fixtures (and the
// bundled tiny BERT) every layer's scores and context products fuse, four
// Transposes and two Muls fewer per layer; Options.DisableFusion keeps them. (That
// the fused graphs still match ONNX Runtime and PyTorch is
// TestFixturesMatchONNXRuntime / TestFixtureGradientsMatchPyTorch.)
func TestFuseAttentionFixtures(t *testing.T) {
	for _, dir := range []string{"bert", "bert-op14", "bert-op17", "bert-fe", "../../internal/bundled/tiny-bert"} {
		path := filepath.Join("..", "testmodels", "fixtures", dir, "model.onnx")
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		load := func(nofuse bool) map[string]int {
			g, err := LoadWith(path, Options{DisableFusion: nofuse})
			if err != nil {
				t.Fatal(err)
			}
			c := attnCountOps(g)
			for _, n := range g.Nodes { // the scalar Muls of the transposed q and k
				for _, v := range n.In {
					if p := g.Values[v].Producer; n.OpType == "MatMul" && v >= 0 && p >= 0 && g.Nodes[p].OpType == "Mul" {
						for _, w := range g.Nodes[p].In {
							if q := g.Values[w].Producer; q >= 0 && g.Nodes[q].OpType == "Transpose" {
								c["MulIntoMatMul"]++
							}
						}
					}
				}
			}
			return c
		}
		plain, fused := load(true), load(false)
		layers := plain["Softmax"]
		if layers == 0 {
			t.Fatalf("%s: no attention in the unfused graph: %v", dir, plain)
		}
		if fused["FtAttentionScores"] != layers || fused["FtAttentionContext"] != layers {
			t.Errorf("%s: %d layers, fused %d scores and %d context products", dir, layers, fused["FtAttentionScores"], fused["FtAttentionContext"])
		}
		if plain["Transpose"]-fused["Transpose"] != 4*layers || plain["MulIntoMatMul"] != 2*layers || fused["MulIntoMatMul"] != 0 || plain["MatMul"]-fused["MatMul"] != 2*layers {
			t.Errorf("%s: Transpose %d→%d, Mul into MatMul %d→%d, MatMul %d→%d for %d layers", dir, plain["Transpose"], fused["Transpose"], plain["MulIntoMatMul"], fused["MulIntoMatMul"], plain["MatMul"], fused["MatMul"], layers)
		}
		if plain["FtAttentionScores"] != 0 {
			t.Errorf("%s: DisableFusion fused", dir)
		}
		t.Logf("%s: %d layers; Transpose %d→%d, Mul into MatMul %d→%d, Shape users rewritten: %d", dir, layers, plain["Transpose"], fused["Transpose"], plain["MulIntoMatMul"], fused["MulIntoMatMul"], fused["FtTransposedShape"])
	}
}

// attnNodes is one attention head block over trainable projections
// q, k, v [b, s, h, d] (x plus trainable biases): scores with both scales, softmax, context; the
// query Transpose also feeds a Shape (as in the exports).
func attnNodes() []nd {
	return []nd{
		{op: "Add", name: "pq", in: []string{"x", "bq"}, out: []string{"q"}},
		{op: "Add", name: "pk", in: []string{"x", "bk"}, out: []string{"k"}},
		{op: "Add", name: "pv", in: []string{"bv", "x"}, out: []string{"v"}},
		{op: "Transpose", name: "tq", in: []string{"q"}, out: []string{"qt"}},
		{op: "Shape", name: "shq", in: []string{"qt"}, out: []string{"qshape"}},
		{op: "Transpose", name: "tk", in: []string{"k"}, out: []string{"kt"}},
		{op: "Mul", name: "mq", in: []string{"qt", "c"}, out: []string{"qs"}},
		{op: "Mul", name: "mk", in: []string{"c", "kt"}, out: []string{"ks"}},
		{op: "MatMul", name: "scores", in: []string{"qs", "ks"}, out: []string{"s"}},
		{op: "Softmax", name: "sm", in: []string{"s"}, out: []string{"p"}},
		{op: "Transpose", name: "tv", in: []string{"v"}, out: []string{"vt"}},
		{op: "MatMul", name: "ctx", in: []string{"p", "vt"}, out: []string{"o"}},
		{op: "Transpose", name: "to", in: []string{"o"}, out: []string{"ob"}},
		{op: "Reshape", name: "re", in: []string{"ob", "qshape"}, out: []string{"y"}},
	}
}

var attnPerms = map[string][]int64{"tq": {0, 2, 1, 3}, "tk": {0, 2, 3, 1}, "tv": {0, 2, 1, 3}, "to": {0, 2, 1, 3}}

// TestFuseAttention: the block becomes FtTransposedShape, FtAttentionScores,
// Softmax, FtAttentionContext, Reshape with the same outputs and gradients (the
// scale c trainable too) as the exported nodes; an intermediate that is
// also a graph output keeps its product unfused.
func TestFuseAttention(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	rnd := func(shape ...int) *tensor.Tensor {
		d := make([]float32, tensor.Size(shape))
		for i := range d {
			d[i] = float32(r.NormFloat64())
		}
		return tensor.New(shape, d)
	}
	inits := map[string]*tensor.Tensor{"bq": rnd(4), "bk": rnd(4), "bv": rnd(4), "c": tensor.New([]int{1}, []float32{0.7})}
	x := rnd(2, 5, 3, 4)
	seed := rnd(2, 3, 5, 4)
	run := func(t *testing.T, outputs []string, fuse bool) (*Graph, map[string]*tensor.Tensor, map[string]*tensor.Tensor) {
		m := buildModel(t, attnNodes(), inits, []string{"x"}, outputs)
		for _, n := range m.Proto.GetGraph().GetNode() {
			if p, ok := attnPerms[n.GetName()]; ok {
				n.Attribute = append(n.Attribute, attrInts("perm", p))
			}
		}
		g, err := Import(m, Options{DisableFusion: !fuse})
		if err != nil {
			t.Fatal(err)
		}
		tr, byName := forwardBackward(t, g, x, outputs, seed)
		return g, tr.Outputs, byName
	}
	for _, c := range []struct {
		name    string
		outputs []string
		want    map[string]int
	}{
		{"all", []string{"y"}, map[string]int{"Reshape": 1, "Add": 3, "FtTransposedShape": 1, "FtAttentionScores": 1, "FtAttentionContext": 1, "Softmax": 1}},
		{"qs-output", []string{"y", "qs"}, map[string]int{"Reshape": 1, "Add": 3, "Transpose": 2, "Shape": 1, "Mul": 2, "MatMul": 1, "Softmax": 1, "FtAttentionContext": 1}},
		{"vt-output", []string{"y", "vt"}, map[string]int{"Reshape": 1, "Add": 3, "FtTransposedShape": 1, "FtAttentionScores": 1, "Softmax": 1, "Transpose": 2, "MatMul": 1}},
		{"o-output", []string{"y", "o"}, map[string]int{"Reshape": 1, "Add": 3, "FtTransposedShape": 1, "FtAttentionScores": 1, "Softmax": 1, "Transpose": 2, "MatMul": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, out, grads := run(t, c.outputs, true)
			got := attnCountOps(g)
			if len(got) != len(c.want) {
				t.Errorf("fused graph runs %v, want %v", got, c.want)
			}
			for op, k := range c.want {
				if got[op] != k {
					t.Errorf("fused graph runs %v, want %v", got, c.want)
				}
			}
			_, out0, grads0 := run(t, c.outputs, false)
			for _, o := range c.outputs {
				if out[o].DType() == tensor.Int64 {
					a, b := out[o].Data.([]int64), out0[o].Data.([]int64)
					for i := range b {
						if a[i] != b[i] {
							t.Errorf("%s: %v, unfused %v", o, a, b)
						}
					}
					continue
				}
				if d := maxAbsDiff(out[o], out0[o]); d > 1e-5 {
					t.Errorf("output %s: fused differs from the exported nodes by %g", o, d)
				}
			}
			if (grads["c"] == nil) != (grads0["c"] == nil) {
				t.Errorf("gradient of the scale: fused %v, unfused %v", grads["c"] != nil, grads0["c"] != nil)
			}
			for _, p := range []string{"bq", "bk", "bv"} {
				if grads[p] == nil || grads0[p] == nil {
					t.Fatalf("no gradient for %s", p)
				}
				if d := maxAbsDiff(grads[p], grads0[p]); d > 1e-4 {
					t.Errorf("gradient of %s: fused differs from the exported nodes by %g", p, d)
				}
			}
		})
	}
}
