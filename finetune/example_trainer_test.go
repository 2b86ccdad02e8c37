package finetune_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"ft/dataset"
	"ft/finetune"
	"ft/tokenize"
)

// Fine-tune the bundled tiny BERT for a few steps on the bundled SST-2
// sample with checkpoints and an evaluation, restore the best weights, write
// them as an ONNX export folder and a transformers folder, and classify a
// sentence. The README's library section is this program without its
// error checks.
func Example() {
	const dir = "../internal/bundled/tiny-bert" // an export folder: model.onnx, config.json, tokenizer.json
	id2label, err := finetune.ExportLabels(dir) // the export's config.json labels, if any: ["negative", "positive"]
	if err != nil {
		panic(err)
	}
	train, err := dataset.Read("../internal/bundled/sst2-sample/train.tsv", dataset.ReadOptions{ID2Label: id2label})
	if err != nil {
		panic(err)
	}
	eval, err := dataset.Read("../internal/bundled/sst2-sample/test.tsv", dataset.ReadOptions{ID2Label: id2label})
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
	evalSrc, err := dataset.NewTextSource(eval, tok, model.Graph.InputNames(), 64)
	if err != nil {
		panic(err)
	}
	run, err := os.MkdirTemp("", "ft-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(run)
	steps := 0
	tr := &finetune.Trainer{
		Model: model, Train: src, Eval: evalSrc, Trainable: model.Graph.Params,
		Args: finetune.Args{LearningRate: 1e-3, MaxSteps: 5, PerDeviceTrainBatchSize: 16, MaxGradNorm: 1,
			EvalStrategy: "steps", EvalSteps: 5},
		Events: func(e finetune.Event) {
			if e.Kind == finetune.EventStep {
				steps++
			}
		},
	}
	tr.Args.OutputDir = run // checkpoints (Args.SaveSteps, SaveTotalLimit)
	ctx := context.Background()
	res, err := tr.Fit(ctx) // ctx cancels after the current step or during an evaluation (and saves)
	if err != nil {
		panic(err)
	}
	// later, a fresh Trainer built the same way with ResumeFrom = run continues bit for bit
	metrics, err := tr.Evaluate(ctx, evalSrc) // loss, accuracy, precision/recall/F1
	if err != nil {
		panic(err)
	}
	restored := res.RestoreBest()                                   // the best evaluated weights
	if err := model.Save(filepath.Join(run, "model")); err != nil { // an ONNX export folder
		panic(err)
	}
	if err := model.SaveSafetensors(filepath.Join(run, "hf")); err != nil { // a transformers folder
		panic(err)
	}
	preds, err := model.Predict(ctx, tok, []string{"a moving and beautiful film"}, 64)
	if err != nil {
		panic(err)
	}
	ckpts, _ := finetune.ListCheckpoints(run)
	_, errONNX := os.Stat(filepath.Join(run, "model", "model.onnx"))
	_, errST := os.Stat(filepath.Join(run, "hf", finetune.SafetensorsFile))
	fmt.Println(res.Steps, "steps,", steps, "step events,", len(ckpts), "checkpoint, best restored:", restored)
	fmt.Println("accuracy in [0, 1]:", metrics["accuracy"] >= 0 && metrics["accuracy"] <= 1)
	fmt.Println("exports written:", errONNX == nil, errST == nil)
	fmt.Println("labels:", model.Labels, "prediction is one of them:", preds[0].Label == "negative" || preds[0].Label == "positive")
	// Output:
	// 5 steps, 5 step events, 1 checkpoint, best restored: true
	// accuracy in [0, 1]: true
	// exports written: true true
	// labels: [negative positive] prediction is one of them: true
}
