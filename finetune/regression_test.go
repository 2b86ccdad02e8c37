package finetune_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ft/dataset"
	"ft/finetune"
	"ft/tensor"
)

// TestRegressionHead: with ProblemType "regression" a text-classification
// export's 3-wide head is replaced by a one-wide one and a
// feature-extraction export gets one (transformers' num_labels=1); MSE
// training lowers the loss; the export's config.json says problem_type
// regression with one label, and loads back with its head kept.
func TestRegressionHead(t *testing.T) {
	for _, name := range []string{"bert", "bert-fe"} {
		t.Run(name, func(t *testing.T) {
			m, err := finetune.LoadModel(filepath.Join(fixtures, name), finetune.ModelOptions{ProblemType: "regression", Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Labels) != 1 || m.Config["problem_type"] != "regression" || !m.IsRegression() {
				t.Fatalf("labels %v, problem_type %v", m.Labels, m.Config["problem_type"])
			}
			feeds := fixtureFeeds(t, filepath.Join(fixtures, name))
			in := map[string]*tensor.Tensor{}
			for _, n := range m.Graph.InputNames() {
				in[n] = feeds[n]
			}
			out, err := m.Graph.Run(in, m.Output)
			if err != nil {
				t.Fatal(err)
			}
			y := out[m.Output]
			rows := in[m.Graph.InputNames()[0]].Shape[0]
			if !tensor.SameShape(y.Shape, []int{rows, 1}) {
				t.Fatalf("logits shape %v, want [%d 1]", y.Shape, rows)
			}
			target := make([]float32, rows)
			for i := range target {
				target[i] = float32(i%3) - 0.5
			}
			loss, err := finetune.LossFor(dataset.Regression)
			if err != nil {
				t.Fatal(err)
			}
			src := &dataset.TensorSource{Feeds: in, Target: tensor.New([]int{rows}, target)}
			tr := &finetune.Trainer{Model: m, Train: src, Eval: src, Trainable: m.Graph.Params, Loss: loss, Problem: dataset.Regression,
				Args: finetune.Args{MaxSteps: 30, LearningRate: 1e-2, PerDeviceTrainBatchSize: rows, NoShuffle: true, LRSchedulerType: "constant"}}
			res, err := tr.Fit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			first, last := res.Losses[0], res.Losses[len(res.Losses)-1]
			if !(last < first/2) {
				t.Fatalf("MSE went from %.4f to %.4f", first, last)
			}
			ev, err := tr.Evaluate(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"loss", "mse", "mae", "pearson", "spearmanr"} {
				if _, ok := ev[k]; !ok {
					t.Errorf("no %s in the eval metrics %v", k, ev)
				}
			}
			dir := t.TempDir()
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			var cfg map[string]any
			b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			if err := json.Unmarshal(b, &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg["problem_type"] != "regression" || cfg["num_labels"] != 1.0 {
				t.Fatalf("config.json: problem_type %v num_labels %v", cfg["problem_type"], cfg["num_labels"])
			}
			back, err := finetune.LoadModel(dir, finetune.ModelOptions{ProblemType: "regression"})
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Notes) != 0 {
				t.Fatalf("the regression export's head was replaced again: %v", back.Notes)
			}
			// a one-wide head without id2label is kept too
			for _, k := range []string{"id2label", "label2id", "num_labels"} {
				delete(cfg, k)
			}
			b, _ = json.Marshal(cfg)
			os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
			if bare, err := finetune.LoadModel(dir, finetune.ModelOptions{ProblemType: "regression"}); err != nil || len(bare.Notes) != 0 || len(bare.Labels) != 1 {
				t.Fatalf("one-wide head without id2label: %v, notes %v, labels %v", err, bare.Notes, bare.Labels)
			}
			got, err := back.Graph.Run(in, back.Output)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := m.Graph.Run(in, m.Output)
			for i, v := range want[m.Output].F32() {
				if got[back.Output].F32()[i] != v {
					t.Fatalf("reloaded output %d: %v, want %v", i, got[back.Output].F32()[i], v)
				}
			}
			if _, err := finetune.LoadModel(filepath.Join(fixtures, name), finetune.ModelOptions{ProblemType: "regression", Labels: []string{"a"}}); err == nil || !strings.Contains(err.Error(), "regression") {
				t.Errorf("labels with regression: %v", err)
			}
		})
	}
}
