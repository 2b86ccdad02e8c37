package finetune_test

import (
	"context"
	"fmt"

	"ft/dataset"
	"ft/finetune"
	"ft/tokenize"
)

// Fine-tune the bundled tiny BERT for a few steps on the bundled SST-2 sample,
// evaluate it and classify a sentence.
func Example() {
	const dir = "../internal/bundled/tiny-bert"
	id2label, err := finetune.ExportLabels(dir) // ["negative", "positive"]
	if err != nil {
		panic(err)
	}
	train, err := dataset.Read("../internal/bundled/sst2-sample/train.tsv", dataset.ReadOptions{ID2Label: id2label})
	if err != nil {
		panic(err)
	}
	model, err := finetune.LoadModel(dir, finetune.ModelOptions{Labels: train.Labels.Names})
	if err != nil {
		panic(err)
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		panic(err)
	}
	src, err := dataset.NewTextSource(train, tok, model.Graph.InputNames(), 64)
	if err != nil {
		panic(err)
	}
	steps := 0
	tr := &finetune.Trainer{
		Model: model, Train: src, Trainable: model.Graph.Params,
		Args:   finetune.Args{LearningRate: 1e-3, MaxSteps: 5, PerDeviceTrainBatchSize: 16, MaxGradNorm: 1},
		Events: func(e finetune.Event) { steps += map[bool]int{true: 1}[e.Kind == "step"] },
	}
	ctx := context.Background()
	res, err := tr.Fit(ctx)
	if err != nil {
		panic(err)
	}
	m, err := tr.Evaluate(ctx, src)
	if err != nil {
		panic(err)
	}
	preds, err := model.Predict(ctx, tok, []string{"a moving and beautiful film"}, 64)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Steps, "steps,", steps, "step events")
	fmt.Println("metrics include accuracy:", m["accuracy"] >= 0 && m["accuracy"] <= 1)
	fmt.Println("labels:", model.Labels, "prediction is one of them:", preds[0].Label == "negative" || preds[0].Label == "positive")
	// Output:
	// 5 steps, 5 step events
	// metrics include accuracy: true
	// labels: [negative positive] prediction is one of them: true
}
