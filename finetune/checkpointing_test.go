package finetune_test

import (
	"context"
	"math"
	"runtime"
	"testing"

	"ft/finetune"
	"ft/graph"
	"ft/tensor"
)

// TestGradientCheckpointing: tiny BERT's gradients with gradient
// checkpointing are those without it, bit for bit (float32, and bf16), and
// the training trace holds less memory: the heap after Forward (collected,
// the trace alive) is measured with runtime.MemStats at batch 64.
func TestGradientCheckpointing(t *testing.T) {
	tr := tinyTrainer(t, finetune.Args{Seed: 3})
	m := tr.Model
	g := m.Graph
	if _, n := g.Layers(); n < 2 {
		t.Fatalf("tiny BERT: %d layers found from the node names", n)
	}
	rows := make([]int, 64)
	for i := range rows {
		rows[i] = i % tr.Train.Len()
	}
	b, err := tr.Train.Batch(rows)
	if err != nil {
		t.Fatal(err)
	}
	loss := finetune.NewCrossEntropyLoss()
	step := func(ckpt, bf16 bool) (map[string][]float32, uint64) {
		g.SetGradientCheckpointing(ckpt)
		g.SetBF16(bf16)
		defer g.SetGradientCheckpointing(false)
		defer g.SetBF16(false)
		trace, err := g.Forward(b.Feeds, []string{m.Output}, g.Params)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_, dout, err := loss.Loss(trace.Outputs[m.Output], b.Target)
		if err != nil {
			t.Fatal(err)
		}
		grads, err := trace.Backward(map[string]*tensor.Tensor{m.Output: dout})
		if err != nil {
			t.Fatal(err)
		}
		r := map[string][]float32{}
		for p, gr := range grads {
			r[p.Name] = append([]float32(nil), gr.F32()...)
		}
		return r, ms.HeapAlloc
	}
	for _, bf16 := range []bool{false, true} {
		step(false, bf16) // warm the pool
		plain, heapPlain := step(false, bf16)
		ck, heapCk := step(true, bf16)
		t.Logf("bf16 %v: heap after forward %.1f MiB without checkpointing, %.1f MiB with", bf16, float64(heapPlain)/(1<<20), float64(heapCk)/(1<<20))
		nonzero := 0
		for name, w := range plain {
			c := ck[name]
			for i := range w {
				if math.Float32bits(w[i]) != math.Float32bits(c[i]) {
					t.Fatalf("bf16 %v: %s[%d]: %v with checkpointing, %v without", bf16, name, i, c[i], w[i])
				}
				if w[i] != 0 {
					nonzero++
				}
			}
		}
		if nonzero == 0 {
			t.Fatalf("bf16 %v: every gradient is zero", bf16)
		}
		if heapCk >= heapPlain {
			t.Errorf("bf16 %v: checkpointing holds %d bytes after forward, not fewer than %d", bf16, heapCk, heapPlain)
		}
	}
}

// TestGradientCheckpointingFit: Args.GradientCheckpointing trains to the
// same weights, bit for bit, also when Backward hands buffers back to the
// pool (Options.PoolBackward).
func TestGradientCheckpointingFit(t *testing.T) {
	var digests []string
	for i, ck := range []bool{false, true, true} {
		a := bf16Args
		a.MaxSteps, a.GradientCheckpointing = 4, ck
		tr := tinyTrainerWith(t, a, graph.Options{PoolBackward: i == 2})
		if _, err := tr.Fit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if tr.Model.Graph.Options().GradientCheckpointing != ck {
			t.Fatalf("Args.GradientCheckpointing %v not set on the graph", ck)
		}
		digests = append(digests, weightsDigest(tr))
	}
	if digests[0] != digests[1] || digests[0] != digests[2] {
		t.Errorf("gradient checkpointing changed the trained weights (pool off, backward pool on): %v", digests)
	}
}
