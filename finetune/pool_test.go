package finetune_test

import (
	"context"
	"math"
	"testing"

	"ft/finetune"
	"ft/graph"
	"ft/kernels"
)

// TestPoolSameBits: Fit (AdamW, warmup, clipping, gradient accumulation)
// with every float32 buffer of the training steps going through kernels'
// pool, poisoned with NaN when handed back, ends with the same losses and
// weights, bit for bit, as with the pool off: no buffer that
// the trainer, the optimizer or a later node could still read is recycled.
func TestPoolSameBits(t *testing.T) {
	args := finetune.Args{LearningRate: 1e-3, MaxSteps: 4, PerDeviceTrainBatchSize: 8, GradientAccumulationSteps: 2,
		MaxGradNorm: 1, WarmupSteps: 1, WeightDecay: 0.01, Seed: 7}
	fit := func(pool *kernels.Pool) ([]float64, [][]float32) {
		// Backward hands buffers back too (PoolBackward)
		tr := tinyTrainerWith(t, args, graph.Options{Pool: pool, PoolBackward: true})
		res, err := tr.Fit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res.Losses, weights(tr.Trainable)
	}
	lossOff, wOff := fit(&kernels.Pool{Off: true})
	pool := &kernels.Pool{MinLen: 1, Poison: true}
	lossOn, wOn := fit(pool)
	if pool.Puts() == 0 {
		t.Fatal("no buffer went back to the pool")
	}
	if len(lossOn) != len(lossOff) || len(lossOff) != args.MaxSteps {
		t.Fatalf("%d and %d losses, want %d", len(lossOn), len(lossOff), args.MaxSteps)
	}
	for i := range lossOff {
		if math.Float64bits(lossOn[i]) != math.Float64bits(lossOff[i]) {
			t.Fatalf("step %d: loss %v with the pool, %v without", i+1, lossOn[i], lossOff[i])
		}
	}
	for i := range wOff {
		for j := range wOff[i] {
			if math.Float32bits(wOn[i][j]) != math.Float32bits(wOff[i][j]) {
				t.Fatalf("parameter %d element %d: %v with the pool, %v without", i, j, wOn[i][j], wOff[i][j])
			}
		}
	}
	t.Logf("%d steps, %d buffers recycled, same losses and weights", len(lossOn), pool.Puts())
}
