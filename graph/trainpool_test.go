package graph

import (
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"ft/kernels"
	"ft/tensor"
)

// sgdRun runs steps training steps (Forward, Backward, w -= lr·g in place,
// ReleaseGradients) of the fixture in dir on its data set and returns the
// outputs of every step and the final parameters, cloned.
func sgdRun(t *testing.T, dir string, steps int, opt Options) (outs []*tensor.Tensor, params map[string]*tensor.Tensor) {
	t.Helper()
	g, err := LoadWith(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	feeds, _ := loadDataSet(t, g.Model, dir)
	keep := map[string]*tensor.Tensor{}
	for k, v := range feeds {
		keep[k] = v.Clone()
	}
	labels := readPB(t, filepath.Join(dir, "grads", "labels.pb"))
	name := g.OutputNames()[0]
	for s := 0; s < steps; s++ {
		tr, err := g.Forward(feeds, []string{name}, g.Params)
		if err != nil {
			t.Fatal(err)
		}
		out := tr.Outputs[name]
		seed := lossSeed(t, out, labels)
		seedKeep := seed.Clone()
		grads, err := tr.Backward(map[string]*tensor.Tensor{name: seed})
		if err != nil {
			t.Fatal(err)
		}
		// what the caller holds is untouched by Backward's recycling
		if maxAbsDiff(seed, seedKeep) != 0 {
			t.Fatalf("step %d: the seed changed during backward", s)
		}
		outs = append(outs, out.Clone())
		for _, p := range g.Params {
			gr, ok := grads[p]
			if !ok || gr.DType() != tensor.Float32 {
				continue
			}
			w, d := p.Value.F32(), gr.F32()
			for i := range w {
				if math.IsNaN(float64(d[i])) {
					t.Fatalf("step %d: gradient of %s holds NaN", s, p.Name)
				}
				w[i] -= 0.05 * d[i]
			}
		}
		g.ReleaseGradients(grads)
	}
	for k, v := range keep {
		if maxAbsDiff(feeds[k], v) != 0 {
			t.Fatalf("feed %q changed", k)
		}
	}
	params = map[string]*tensor.Tensor{}
	for _, p := range g.Params {
		params[p.Name] = p.Value.Clone()
	}
	return outs, params
}

func sameBits(a, b *tensor.Tensor) bool {
	if !tensor.SameShape(a.Shape, b.Shape) || a.DType() != b.DType() {
		return false
	}
	x, y := a.Float64s(), b.Float64s()
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return false
		}
	}
	return true
}

// TestTrainStepsReuseBuffersSafely: several SGD steps of every fixture with
// a loss oracle give bit for bit the same outputs (hence losses) and final
// weights with every float32 buffer going through the pool as with the pool
// off. Buffers handed back are poisoned with NaN, so a buffer recycled while
// anything could still read it (a saved activation, a gradient the caller
// holds, a view of either, a feed, a parameter) changes the bits or shows up
// as NaN.
func TestTrainStepsReuseBuffersSafely(t *testing.T) {
	const steps = 3
	dirs, _ := filepath.Glob(filepath.Join("..", "testmodels", "fixtures", "*", "grads", "labels.pb"))
	if len(dirs) == 0 {
		t.Fatal("no fixtures with grads/labels.pb")
	}
	for _, lp := range dirs {
		dir := filepath.Dir(filepath.Dir(lp))
		t.Run(filepath.Base(dir), func(t *testing.T) {
			refOuts, refParams := sgdRun(t, dir, steps, Options{Pool: &kernels.Pool{Off: true}})
			pool := &kernels.Pool{MinLen: 1, Poison: true}
			outs, params := sgdRun(t, dir, steps, Options{Pool: pool, PoolBackward: true})
			put := pool.Puts()
			if put == 0 {
				t.Fatal("no buffer went back to the pool: the test exercises nothing")
			}
			for s := range refOuts {
				if !sameBits(outs[s], refOuts[s]) {
					t.Fatalf("step %d: outputs differ with the pool on (max diff %g)", s, maxAbsDiff(outs[s], refOuts[s]))
				}
			}
			for name, w := range refParams {
				if !sameBits(params[name], w) {
					t.Fatalf("%s: final weights differ with the pool on (max diff %g)", name, maxAbsDiff(params[name], w))
				}
			}
			t.Logf("%d steps, %d buffers recycled, same bits", steps, put)
		})
	}
}

// TestTrainStepsReuseBuffersAliases: a graph built to share buffers in
// every way backward meets them (a value read twice by one node, Identity
// and Reshape views of saved activations, a requested output that is a view
// of a saved activation but gets no seed, fan-out gradients) trains three
// steps to the same bits with the pool on (poisoned) as off, and the output
// the caller holds survives Backward.
func TestTrainStepsReuseBuffersAliases(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	rnd := func(shape ...int) *tensor.Tensor {
		d := make([]float32, tensor.Size(shape))
		for i := range d {
			d[i] = float32(r.NormFloat64() * 0.5)
		}
		return tensor.New(shape, d)
	}
	nodes := []nd{
		{op: "MatMul", name: "mm", in: []string{"x", "W"}, out: []string{"h0"}},
		{op: "Add", name: "bias", in: []string{"h0", "b"}, out: []string{"h"}},
		{op: "Mul", name: "sq", in: []string{"h", "h"}, out: []string{"s"}},
		{op: "Identity", name: "id", in: []string{"s"}, out: []string{"si"}},
		{op: "Tanh", name: "th", in: []string{"si"}, out: []string{"th"}},
		{op: "Reshape", name: "rs", in: []string{"th", "shp"}, out: []string{"v"}},
		{op: "Softmax", name: "sm", in: []string{"v"}, out: []string{"p"}},
		{op: "Reshape", name: "rs2", in: []string{"p", "shp2"}, out: []string{"q"}},
		{op: "Add", name: "out", in: []string{"q", "h"}, out: []string{"y"}},
	}
	W0, b0, x, seed := rnd(8, 16), rnd(16), rnd(4, 8), rnd(4, 16)
	run := func(pool *kernels.Pool) (ys, vs []*tensor.Tensor, W, b *tensor.Tensor) {
		inits := map[string]*tensor.Tensor{"W": W0.Clone(), "b": b0.Clone(),
			"shp": tensor.New([]int{2}, []int64{2, 32}), "shp2": tensor.New([]int{2}, []int64{4, 16})}
		g, err := Import(buildModel(t, nodes, inits, []string{"x"}, []string{"y", "v"}), Options{Pool: pool, PoolBackward: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Params) != 2 {
			t.Fatalf("%d parameters, want W and b", len(g.Params))
		}
		for s := 0; s < 3; s++ {
			tr, err := g.Forward(map[string]*tensor.Tensor{"x": x}, []string{"y", "v"}, g.Params)
			if err != nil {
				t.Fatal(err)
			}
			vKeep := tr.Outputs["v"].Clone()
			grads, err := tr.Backward(map[string]*tensor.Tensor{"y": seed.Clone()})
			if err != nil {
				t.Fatal(err)
			}
			if !sameBits(tr.Outputs["v"], vKeep) {
				t.Fatalf("step %d: output v changed during backward", s)
			}
			ys, vs = append(ys, tr.Outputs["y"].Clone()), append(vs, vKeep)
			for _, p := range g.Params {
				w, d := p.Value.F32(), grads[p].F32()
				for i := range w {
					w[i] -= 0.1 * d[i]
				}
			}
			g.ReleaseGradients(grads)
		}
		byName := map[string]*tensor.Tensor{}
		for _, p := range g.Params {
			byName[p.Initializer] = p.Value.Clone()
		}
		return ys, vs, byName["W"], byName["b"]
	}
	ys0, vs0, W0f, b0f := run(&kernels.Pool{Off: true})
	pool := &kernels.Pool{MinLen: 1, Poison: true}
	ys1, vs1, W1f, b1f := run(pool)
	if pool.Puts() == 0 {
		t.Fatal("no buffer went back to the pool")
	}
	for s := range ys0 {
		if !sameBits(ys0[s], ys1[s]) || !sameBits(vs0[s], vs1[s]) {
			t.Fatalf("step %d: outputs differ with the pool on", s)
		}
	}
	if !sameBits(W0f, W1f) || !sameBits(b0f, b1f) {
		t.Fatal("final weights differ with the pool on")
	}
	if sameBits(W0f, W0) {
		t.Fatal("training did not change W")
	}
}
