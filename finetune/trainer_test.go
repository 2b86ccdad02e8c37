package finetune_test

import (
	"context"
	"math"
	"testing"

	"ft/dataset"
	"ft/finetune"
	"ft/graph"
	"ft/tensor"
	"ft/tokenize"
)

const tinyBERT = "../internal/bundled/tiny-bert"

func tinyTrainer(t testing.TB, args finetune.Args) *finetune.Trainer {
	t.Helper()
	return tinyTrainerWith(t, args, graph.Options{})
}

// tinyTrainerWith is tinyTrainer with the model's graph imported with opt.
func tinyTrainerWith(t testing.TB, args finetune.Args, opt graph.Options) *finetune.Trainer {
	t.Helper()
	id2label, err := finetune.ExportLabels(tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Read("../internal/bundled/sst2-sample/test.tsv", dataset.ReadOptions{ID2Label: id2label})
	if err != nil {
		t.Fatal(err)
	}
	m, err := finetune.LoadModel(tinyBERT, finetune.ModelOptions{Labels: d.Labels.Names, Seed: args.Seed, Graph: opt})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.Load(tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.NewTextSource(d, tok, m.Graph.InputNames(), 64)
	if err != nil {
		t.Fatal(err)
	}
	return &finetune.Trainer{Model: m, Train: src, Trainable: m.Graph.Params, Args: args}
}

func weights(ps []*graph.Param) [][]float32 {
	var r [][]float32
	for _, p := range ps {
		r = append(r, append([]float32(nil), p.Value.F32()...))
	}
	return r
}

// TestSameSeedSameBits: two runs with the same seed (shuffled batches,
// AdamW, warmup, clipping) end with bit-identical weights; another seed
// does not.
func TestSameSeedSameBits(t *testing.T) {
	args := finetune.Args{LearningRate: 1e-3, MaxSteps: 6, PerDeviceTrainBatchSize: 16, MaxGradNorm: 1, WarmupSteps: 2, WeightDecay: 0.01, Seed: 7}
	var runs [][][]float32
	for _, seed := range []uint64{7, 7, 8} {
		a := args
		a.Seed = seed
		tr := tinyTrainer(t, a)
		if _, err := tr.Fit(context.Background()); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, weights(tr.Trainable))
	}
	same := func(x, y [][]float32) bool {
		for i := range x {
			for j := range x[i] {
				if math.Float32bits(x[i][j]) != math.Float32bits(y[i][j]) {
					return false
				}
			}
		}
		return true
	}
	if !same(runs[0], runs[1]) {
		t.Fatal("the same seed gave different weights")
	}
	if same(runs[0], runs[2]) {
		t.Fatal("another seed gave the same weights")
	}
}

// TestCancelStopsAfterStep: cancelling the context (Ctrl-C in the CLI) lets
// the current step finish and stops.
func TestCancelStopsAfterStep(t *testing.T) {
	tr := tinyTrainer(t, finetune.Args{LearningRate: 1e-3, MaxSteps: 50, PerDeviceTrainBatchSize: 8})
	ctx, cancel := context.WithCancel(context.Background())
	tr.Events = func(e finetune.Event) {
		if e.Kind == finetune.EventStep && e.Step == 3 {
			cancel()
		}
	}
	res, err := tr.Fit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Steps != 3 || len(res.Losses) != 3 {
		t.Fatalf("interrupted=%v after %d steps", res.Interrupted, res.Steps)
	}
}

// TestEarlyStopping: with patience 1 and a learning rate too small to move
// any float32 weight, the metric never improves, so training stops at the
// second evaluation.
func TestEarlyStopping(t *testing.T) {
	tr := tinyTrainer(t, finetune.Args{LearningRate: 1e-30, Optim: "sgd", MaxSteps: 40, PerDeviceTrainBatchSize: 16, EvalStrategy: "steps", EvalSteps: 5,
		EarlyStoppingPatience: 1, MetricForBestModel: "loss"})
	tr.Eval = tr.Train
	tr.Args.PerDeviceEvalBatchSize = 64
	res, err := tr.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 10 {
		t.Fatalf("stopped after %d steps, want 10 (second evaluation without improvement)", res.Steps)
	}
}

// TestGradientAccumulation: two micro-batches of 4 rows with accumulation 2
// make the same step as one batch of 8 (up to float32 rounding).
func TestGradientAccumulation(t *testing.T) {
	run := func(bs, acc int) [][]float32 {
		tr := tinyTrainer(t, finetune.Args{LearningRate: 1e-3, MaxSteps: 2, PerDeviceTrainBatchSize: bs, GradientAccumulationSteps: acc, NoShuffle: true, Optim: "sgd"})
		if _, err := tr.Fit(context.Background()); err != nil {
			t.Fatal(err)
		}
		return weights(tr.Trainable)
	}
	a, b := run(8, 1), run(4, 2)
	worst := 0.0
	for i := range a {
		for j := range a[i] {
			worst = math.Max(worst, math.Abs(float64(a[i][j]-b[i][j])))
		}
	}
	if worst > 1e-6 {
		t.Fatalf("accumulated step differs by %g", worst)
	}
}

// TestGroupByLengthPadsLess: on the SST-2 sample, length-grouped batches
// carry far fewer padded positions than shuffled ones, and training with
// them runs.
func TestGroupByLengthPadsLess(t *testing.T) {
	tr := tinyTrainer(t, finetune.Args{LearningRate: 1e-3, MaxSteps: 3, PerDeviceTrainBatchSize: 16, Seed: 1, GroupByLength: true})
	ls := tr.Train.(dataset.LengthSource)
	lengths, err := ls.Lengths()
	if err != nil {
		t.Fatal(err)
	}
	padded := func(b [][]int) (pad int) {
		for _, x := range b {
			m := 0
			for _, r := range x {
				m = max(m, lengths[r])
			}
			for _, r := range x {
				pad += m - lengths[r]
			}
		}
		return pad
	}
	g, _ := dataset.LengthGroupedBatches(lengths, 16, 1, 0, false)
	s, _ := dataset.EpochBatches(len(lengths), 16, true, 1, 0, false)
	pg, ps := padded(g), padded(s)
	if pg*4 > ps {
		t.Fatalf("grouped batches pad %d positions, shuffled %d: want at least 4x fewer", pg, ps)
	}
	t.Logf("padded positions per epoch: grouped %d, shuffled %d", pg, ps)
	if _, err := tr.Fit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestTrainerMetricsHook: a task's own Metrics replace the problem type's:
// Evaluate reports them beside the loss (computed from the same outputs
// Predictions gives), Fit can pick the best model by them, and no
// classification report is kept.
func TestTrainerMetricsHook(t *testing.T) {
	tr := tinyTrainer(t, finetune.Args{LearningRate: 1e-3, MaxSteps: 2, PerDeviceTrainBatchSize: 8,
		EvalStrategy: "steps", EvalSteps: 1, MetricForBestModel: "mean_logit_0", GreaterIsBetter: new(bool)})
	tr.Eval = firstRows{tr.Train, 20}
	var gotRows int
	tr.Metrics = func(outs [][]float32, targets []*tensor.Tensor) (map[string]float64, error) {
		gotRows = 0
		for _, tg := range targets {
			gotRows += tg.Shape[0]
		}
		s := 0.0
		for _, o := range outs {
			s += float64(o[0])
		}
		return map[string]float64{"mean_logit_0": s / float64(len(outs))}, nil
	}
	res, err := tr.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.BestStep == 0 || math.IsNaN(res.BestMetric) {
		t.Fatalf("best %v at step %d: the hook's metric did not choose the best model", res.BestMetric, res.BestStep)
	}
	outs, _, err := tr.Predictions(context.Background(), tr.Eval)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for _, o := range outs {
		want += float64(o[0])
	}
	want /= float64(len(outs))
	m, err := tr.Evaluate(context.Background(), tr.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["mean_logit_0"] != want || math.IsNaN(m["loss"]) || gotRows != 20 || tr.LastReport != nil {
		t.Fatalf("metrics %v (want mean_logit_0 %v and loss), %d target rows (want 20), report %v", m, want, gotRows, tr.LastReport)
	}
}
