package finetune_test

import (
	"context"
	"fmt"

	"ft/dataset"
	"ft/finetune"
	"ft/tokenclass"
	"ft/tokenize"
)

// Fine-tune a tiny token-classification export (BertForTokenClassification,
// tags O, B-PER, I-PER, B-LOC, I-LOC) on a CoNLL file as transformers'
// run_ner.py would, score it with seqeval's figures, and tag raw text as the
// token-classification pipeline would.
func Example_tokenClassification() {
	const dir = "../testmodels/fixtures/tokcls-tiny"
	id2label, err := finetune.ExportLabels(dir)
	if err != nil {
		panic(err)
	}
	train, err := dataset.ReadTagged("../cmd/ft/testdata/ner/train.conll", dataset.TaggedOptions{})
	if err != nil {
		panic(err)
	}
	// the export's head fits the data's tags: it is kept
	model, err := finetune.LoadModel(dir, finetune.ModelOptions{Labels: id2label, TokenClassification: true})
	if err != nil {
		panic(err)
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		panic(err)
	}
	src, err := finetune.NewTokenSource(train, tok, model.Graph.InputNames(), model.Labels, 64, false)
	if err != nil {
		panic(err)
	}
	scorer := &finetune.TokenScorer{Labels: model.Labels}
	tr := &finetune.Trainer{
		Model: model, Train: src, Trainable: model.Graph.Params,
		Loss:    finetune.NewCrossEntropyLoss(), // -100 positions ignored
		Metrics: scorer.Metrics,
		Args:    finetune.Args{LearningRate: 1e-3, MaxSteps: 10, PerDeviceTrainBatchSize: 8, MaxGradNorm: 1},
	}
	ctx := context.Background()
	if _, err := tr.Fit(ctx); err != nil {
		panic(err)
	}
	m, err := tr.Evaluate(ctx, src)
	if err != nil {
		panic(err)
	}
	names, err := tokenize.LoadTokenNames(dir)
	if err != nil {
		panic(err)
	}
	ents, err := model.PredictEntities(tok, names, []string{"Mary lives in Paris ."}, finetune.EntityOptions{Strategy: tokenclass.Simple})
	if err != nil {
		panic(err)
	}
	fmt.Println("task:", model.Task)
	fmt.Println("seqeval figures:", m["f1"] >= 0 && m["precision"] >= 0 && m["recall"] >= 0 && m["accuracy"] > 0)
	fmt.Println("entity types in the report:", len(scorer.Last.Types) > 0)
	fmt.Println("entities carry character offsets:", len(ents[0]) == 0 || ents[0][0].End > ents[0][0].Start)
	// Output:
	// task: token-classification
	// seqeval figures: true
	// entity types in the report: true
	// entities carry character offsets: true
}
