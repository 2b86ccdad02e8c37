package finetune_test

import (
	"context"
	"testing"

	"ft/finetune"
)

// BenchmarkTrainStep measures optimizer steps of the bundled tiny BERT
// (batch 32 of SST-2 rows, AdamW, clipping): forward, loss, backward, update.
// For the real-model comparison with PyTorch see testmodels/finetune_real.py.
func BenchmarkTrainStep(b *testing.B) {
	tr := tinyTrainer(b, finetune.Args{LearningRate: 1e-3, MaxSteps: b.N, PerDeviceTrainBatchSize: 32, MaxGradNorm: 1})
	b.ResetTimer()
	res, err := tr.Fit(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Steps*32)/b.Elapsed().Seconds(), "samples/s")
}
