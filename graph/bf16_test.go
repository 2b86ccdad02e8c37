package graph

import (
	"path/filepath"
	"testing"

	"ft/kernels"
	"ft/tensor"
)

// traceBytes is the memory a trace holds for backward: the distinct float
// buffers of its saved inputs and outputs and its bf16 copies.
func traceBytes(tr *Trace) int {
	seen := map[addrRange]bool{}
	n := 0
	for _, ts := range append(append([][]*tensor.Tensor(nil), tr.ins...), tr.outs...) {
		for _, x := range ts {
			if s, ok := spanOfT(x); ok && !seen[s] {
				seen[s] = true
				n += int(s.hi - s.lo)
			}
		}
	}
	for _, h := range tr.held {
		n += 2 * len(h)
	}
	if tr.ckpt != nil {
		for _, x := range tr.ckpt.keep {
			if s, ok := spanOfT(x); ok && !seen[s] {
				seen[s] = true
				n += int(s.hi - s.lo)
			}
		}
	}
	return n
}

// TestBF16TrainingSameBits: SGD steps of every fixture with a loss oracle
// in bf16 give the same outputs and weights, bit for bit, whether the
// trace keeps the products' inputs in float32 or as bf16 copies, with the
// pool off or poisoned (buffers recycled in forward and backward), and with
// gradient checkpointing; bf16 copies and checkpointing hold less memory
// after forward (traceBytes).
func TestBF16TrainingSameBits(t *testing.T) {
	const steps = 2
	dirs, _ := filepath.Glob(filepath.Join("..", "testmodels", "fixtures", "*", "grads", "labels.pb"))
	if len(dirs) == 0 {
		t.Fatal("no fixtures with grads/labels.pb")
	}
	defer func() { holdBF16 = true }()
	for _, lp := range dirs {
		dir := filepath.Dir(filepath.Dir(lp))
		t.Run(filepath.Base(dir), func(t *testing.T) {
			holdBF16 = false
			off := &kernels.Pool{Off: true}
			refOuts, refParams := sgdRun(t, dir, steps, Options{BF16: true, Pool: off})
			f32Outs, _ := sgdRun(t, dir, steps, Options{Pool: off})
			if sameBits(f32Outs[0], refOuts[0]) {
				t.Fatalf("bf16 and float32 give the same outputs: the products did not run in bf16")
			}
			holdBF16 = true
			for _, c := range []struct {
				name string
				opt  Options
			}{
				{"held", Options{BF16: true, Pool: off}},
				{"held-pool", Options{BF16: true, Pool: &kernels.Pool{MinLen: 1, Poison: true}, PoolBackward: true}},
				{"held-checkpointing", Options{BF16: true, Pool: &kernels.Pool{MinLen: 1, Poison: true}, PoolBackward: true, GradientCheckpointing: true}},
			} {
				outs, params := sgdRun(t, dir, steps, c.opt)
				for s := range refOuts {
					if !sameBits(outs[s], refOuts[s]) {
						t.Fatalf("%s: step %d: outputs differ (max diff %g)", c.name, s, maxAbsDiff(outs[s], refOuts[s]))
					}
				}
				for name, w := range refParams {
					if !sameBits(params[name], w) {
						t.Fatalf("%s: %s: final weights differ (max diff %g)", c.name, name, maxAbsDiff(params[name], w))
					}
				}
			}
			// memory held after forward
			bytes := map[string]int{}
			for _, c := range []struct {
				name string
				hold bool
				opt  Options
			}{
				{"float32 copies", false, Options{BF16: true}},
				{"bf16 copies", true, Options{BF16: true}},
				{"checkpointing", true, Options{BF16: true, GradientCheckpointing: true}},
			} {
				holdBF16 = c.hold
				g, err := LoadWith(dir, c.opt)
				if err != nil {
					t.Fatal(err)
				}
				feeds, _ := loadDataSet(t, g.Model, dir)
				tr, err := g.Forward(feeds, g.OutputNames()[:1], g.Params)
				if err != nil {
					t.Fatal(err)
				}
				bytes[c.name] = traceBytes(tr)
				if c.opt.GradientCheckpointing {
					_, n := g.Layers()
					t.Logf("%d layers", n)
				}
			}
			t.Logf("bytes held after forward: %v", bytes)
			if bytes["bf16 copies"] >= bytes["float32 copies"] {
				t.Errorf("bf16 copies hold %d bytes, float32 %d", bytes["bf16 copies"], bytes["float32 copies"])
			}
		})
	}
}
