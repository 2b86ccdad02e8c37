package finetune_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"ft/finetune"
)

// TestFitValidatesArgs: Fit refuses NaN, infinite and negative arguments
// with an *ArgError naming the argument, before training.
func TestFitValidatesArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*finetune.Args)
	}{
		{"learning_rate", func(a *finetune.Args) { a.LearningRate = math.NaN() }},
		{"weight_decay", func(a *finetune.Args) { a.WeightDecay = math.Inf(1) }},
		{"per_device_eval_batch_size", func(a *finetune.Args) { a.PerDeviceEvalBatchSize = -1 }},
		{"gradient_accumulation_steps", func(a *finetune.Args) { a.GradientAccumulationSteps = -1 }},
		{"adam_beta1", func(a *finetune.Args) { a.AdamBeta1 = 1 }},
		{"num_train_epochs", func(a *finetune.Args) { a.NumTrainEpochs = math.Inf(1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := finetune.Args{MaxSteps: 1}
			c.set(&args)
			tr := tinyTrainer(t, args)
			before := weights(tr.Trainable)
			_, err := tr.Fit(context.Background())
			var ae *finetune.ArgError
			if !errors.As(err, &ae) || ae.Name != c.name {
				t.Fatalf("got %v, want an ArgError for %s", err, c.name)
			}
			if after := weights(tr.Trainable); after[0][0] != before[0][0] {
				t.Fatal("the weights changed")
			}
		})
	}
	// Evaluate alone too
	tr := tinyTrainer(t, finetune.Args{PerDeviceEvalBatchSize: -1})
	if _, err := tr.Evaluate(context.Background(), tr.Train); err == nil {
		t.Fatal("Evaluate with batch size -1")
	}
}
