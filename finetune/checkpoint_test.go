package finetune_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ft/dataset"
	"ft/finetune"
	"ft/tensor"
)

// firstRows keeps the first n rows of a source.
type firstRows struct {
	dataset.Source
	n int
}

func (f firstRows) Len() int { return f.n }

// resumeTrainer: 80 rows in batches of 16 with 2 micro-batches per step
// gives 3 optimizer steps per epoch (the last one of a single micro-batch);
// "3 epochs" are 3 × floor(5/2) = 6 steps as in the HF Trainer, so the run
// ends with the second epoch; an evaluation per epoch and a checkpoint
// every 2 steps.
func resumeTrainer(t *testing.T, dir string) *finetune.Trainer {
	t.Helper()
	args := finetune.Args{LearningRate: 2e-3, NumTrainEpochs: 3, PerDeviceTrainBatchSize: 16, GradientAccumulationSteps: 2,
		MaxGradNorm: 1, WarmupSteps: 2, WeightDecay: 0.01, Seed: 11, OutputDir: dir, SaveSteps: 2,
		MetricForBestModel: "accuracy"}
	tr := tinyTrainer(t, args)
	eval := tr.Train
	tr.Train = firstRows{tr.Train, 80}
	tr.Eval = firstRows{eval, 48}
	return tr
}

func sameBits(t *testing.T, what string, a, b [][]float32) {
	t.Helper()
	for i := range a {
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				t.Fatalf("%s: parameter %d element %d: %v, want %v", what, i, j, b[i][j], a[i][j])
			}
		}
	}
}

// TestResumeBitIdentical interrupts a run after every step in turn and
// resumes it from its run folder: the final weights, the losses and the
// best step are those of the run that was never interrupted.
func TestResumeBitIdentical(t *testing.T) {
	ref := resumeTrainer(t, t.TempDir())
	want, err := ref.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want.Steps != 6 {
		t.Fatalf("reference run: %d steps, want 6", want.Steps)
	}
	wantW := weights(ref.Trainable)
	for stopAt := 1; stopAt < want.Steps; stopAt++ {
		dir := t.TempDir()
		a := resumeTrainer(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		a.Events = func(e finetune.Event) {
			if e.Kind == finetune.EventStep && e.Step == stopAt {
				cancel()
			}
		}
		r, err := a.Fit(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !r.Interrupted || r.Steps != stopAt {
			t.Fatalf("stop at %d: interrupted %v after %d steps", stopAt, r.Interrupted, r.Steps)
		}
		b := resumeTrainer(t, dir)
		b.ResumeFrom = dir
		resumed := false
		b.Events = func(e finetune.Event) {
			if e.Kind == finetune.EventResumed {
				resumed = e.Step == stopAt
			}
		}
		got, err := b.Fit(context.Background())
		if err != nil {
			t.Fatalf("resume after step %d: %v", stopAt, err)
		}
		if !resumed {
			t.Fatalf("resume after step %d: no resumed event at that step", stopAt)
		}
		sameBits(t, "resumed after step "+string(rune('0'+stopAt)), wantW, weights(b.Trainable))
		if len(got.Losses) != len(want.Losses) {
			t.Fatalf("%d losses, want %d", len(got.Losses), len(want.Losses))
		}
		for i := range want.Losses {
			if got.Losses[i] != want.Losses[i] {
				t.Fatalf("stop at %d: loss %d = %v, want %v", stopAt, i, got.Losses[i], want.Losses[i])
			}
		}
		if got.BestStep != want.BestStep || got.BestMetric != want.BestMetric {
			t.Fatalf("stop at %d: best %v at %d, want %v at %d", stopAt, got.BestMetric, got.BestStep, want.BestMetric, want.BestStep)
		}
	}
}

// TestResumeAfterCancelledEvaluation cancels the context as each
// evaluation starts (per epoch: after steps 3 and 6; per 2 steps: after
// steps 2, 4 and 6): the run stops with a checkpoint of the last step
// instead of failing, and the resumed run evaluates again and ends with the
// weights, losses, best step and final metrics of the run that was never
// interrupted.
func TestResumeAfterCancelledEvaluation(t *testing.T) {
	for _, c := range []struct {
		name      string
		strategy  string
		evalSteps []int
	}{
		{"epoch", "epoch", []int{3, 6}},
		{"steps", "steps", []int{2, 4, 6}},
	} {
		t.Run(c.name, func(t *testing.T) {
			trainer := func(dir string) *finetune.Trainer {
				tr := resumeTrainer(t, dir)
				tr.Args.EvalStrategy, tr.Args.EvalSteps = c.strategy, 2
				return tr
			}
			ref := trainer(t.TempDir())
			want, err := ref.Fit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			wantW := weights(ref.Trainable)
			for k, step := range c.evalSteps {
				dir := t.TempDir()
				a := trainer(dir)
				ctx, cancel := context.WithCancel(context.Background())
				evals := 0
				a.Events = func(e finetune.Event) {
					if e.Kind == finetune.EventEvaluating {
						if evals == k {
							cancel()
						}
						evals++
					}
				}
				r, err := a.Fit(ctx)
				cancel()
				if err != nil {
					t.Fatalf("cancelled in the evaluation after step %d: %v", step, err)
				}
				if !r.Interrupted || r.Steps != step {
					t.Fatalf("cancelled in the evaluation after step %d: interrupted %v after %d steps", step, r.Interrupted, r.Steps)
				}
				if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("checkpoint-%d.ftckpt", step))); err != nil {
					t.Fatalf("no checkpoint of step %d: %v", step, err)
				}
				b := trainer(dir)
				b.ResumeFrom = dir
				evaluatedAt := -1
				b.Events = func(e finetune.Event) {
					if e.Kind == finetune.EventEval && evaluatedAt < 0 {
						evaluatedAt = e.Step
					}
				}
				got, err := b.Fit(context.Background())
				if err != nil {
					t.Fatalf("resume after the evaluation at step %d: %v", step, err)
				}
				if evaluatedAt != step {
					t.Fatalf("resumed run evaluated first at step %d, want %d (the cancelled evaluation again)", evaluatedAt, step)
				}
				sameBits(t, fmt.Sprintf("resumed in the evaluation at step %d", step), wantW, weights(b.Trainable))
				if !reflect.DeepEqual(got.Losses, want.Losses) || got.BestStep != want.BestStep || got.BestMetric != want.BestMetric ||
					!reflect.DeepEqual(got.Final, want.Final) {
					t.Fatalf("evaluation at step %d: resumed run: best %v at %d, final %v; want best %v at %d, final %v",
						step, got.BestMetric, got.BestStep, got.Final, want.BestMetric, want.BestStep, want.Final)
				}
			}
		})
	}
}

func TestSaveTotalLimitKeepsBest(t *testing.T) {
	dir := t.TempDir()
	tr := resumeTrainer(t, dir)
	tr.Args.SaveTotalLimit = 1
	res, err := tr.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := finetune.ListCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(dir, "checkpoint-6.ftckpt")
	want := map[string]bool{last: true, res.BestCheckpoint: true}
	if len(cs) != len(want) {
		t.Fatalf("checkpoints %v, want %v", cs, want)
	}
	for _, c := range cs {
		if !want[c] {
			t.Fatalf("checkpoints %v, want %v", cs, want)
		}
	}
	// the newest checkpoint holds the final weights; the best one the best
	m := tinyTrainer(t, finetune.Args{Seed: 11}).Model
	if _, _, err := m.LoadCheckpoint(last); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "checkpoint-6", weights(tr.Trainable), weights(m.Graph.Params))
}

func TestResumeRefusesBadCheckpoints(t *testing.T) {
	dir := t.TempDir()
	tr := resumeTrainer(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	tr.Events = func(e finetune.Event) {
		if e.Kind == finetune.EventStep && e.Step == 2 {
			cancel()
		}
	}
	if _, err := tr.Fit(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "checkpoint-2.ftckpt")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// a base model with one changed byte
	other := t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "model.onnx"} {
		b, err := os.ReadFile(filepath.Join(tinyBERT, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "model.onnx" {
			b[len(b)-100] ^= 1
		}
		os.WriteFile(filepath.Join(other, f), b, 0o644)
	}
	for _, tc := range []struct {
		name string
		data []byte
		edit func(*finetune.Trainer)
		want string
	}{
		{"truncated", good[:len(good)*2/3], nil, "corrupt checkpoint"},
		{"bit flip", flipByte(good, len(good)/2), nil, "corrupt checkpoint"},
		{"empty", nil, nil, "corrupt checkpoint: empty file"},
		{"other base", good, func(tr *finetune.Trainer) {
			m, err := finetune.LoadModel(other, tr.Model.Options)
			if err != nil {
				t.Fatal(err)
			}
			tr.Model, tr.Trainable = m, m.Graph.Params
		}, "give the base model it was trained from"},
		{"other settings", good, func(tr *finetune.Trainer) { tr.Args.PerDeviceTrainBatchSize = 8 }, "resume with the same data and settings"},
		{"other params", good, func(tr *finetune.Trainer) { tr.Trainable = tr.Trainable[1:] }, "resume with the settings of the run that wrote it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "checkpoint-2.ftckpt"), tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			b := resumeTrainer(t, d)
			before := weights(b.Trainable)
			if tc.edit != nil {
				tc.edit(b)
				before = weights(b.Trainable)
			}
			b.ResumeFrom = d
			_, err := b.Fit(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if tc.name != "other params" {
				// nothing was trained from garbage
				sameBits(t, "weights after a refused resume", before, weights(b.Trainable))
			}
		})
	}
	if _, err := finetune.FindCheckpoint(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no checkpoint") {
		t.Fatalf("empty folder: %v", err)
	}
}

func flipByte(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

// nanAt makes the loss of one step NaN.
type nanAt struct {
	inner     finetune.Loss
	calls, at int
}

func (l *nanAt) Loss(y, target *tensor.Tensor) (float64, *tensor.Tensor, error) {
	l.calls++
	v, g, err := l.inner.Loss(y, target)
	if l.calls == l.at {
		v = math.NaN()
	}
	return v, g, err
}

func TestNonFiniteLoss(t *testing.T) {
	for _, policy := range []string{"skip", "stop"} {
		t.Run(policy, func(t *testing.T) {
			tr := tinyTrainer(t, finetune.Args{LearningRate: 1e-3, MaxSteps: 4, PerDeviceTrainBatchSize: 16, Seed: 3, OnNonFinite: policy})
			tr.Loss = &nanAt{inner: finetune.NewCrossEntropyLoss(), at: 3}
			var before [][]float32
			var msgs []string
			tr.Events = func(e finetune.Event) {
				if e.Kind == finetune.EventStep && e.Step == 2 {
					before = weights(tr.Trainable)
				}
				if e.Kind == finetune.EventStep && e.Step == 3 {
					sameBits(t, "weights after the skipped step", before, weights(tr.Trainable))
				}
				if e.Kind == finetune.EventSkip {
					msgs = append(msgs, e.Message)
				}
			}
			res, err := tr.Fit(context.Background())
			if policy == "stop" {
				if err == nil || !strings.Contains(err.Error(), "step 3 (epoch 0, batch 2): non-finite loss NaN; stopping") {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Skipped != 1 || len(msgs) != 1 || !strings.Contains(msgs[0], "non-finite loss NaN; step skipped") || res.Steps != 4 {
				t.Fatalf("skipped %d, messages %q, steps %d", res.Skipped, msgs, res.Steps)
			}
		})
	}
}

func TestNoNonFiniteCheckpoint(t *testing.T) {
	dir := t.TempDir()
	tr := tinyTrainer(t, finetune.Args{LearningRate: 1e-3, MaxSteps: 2, PerDeviceTrainBatchSize: 16, Seed: 3, OutputDir: dir, SaveSteps: 1})
	tr.Events = func(e finetune.Event) {
		if e.Kind == finetune.EventStep && e.Step == 2 {
			tr.Trainable[0].Value.F32()[5] = float32(math.Inf(1))
		}
	}
	_, err := tr.Fit(context.Background())
	if err == nil || !strings.Contains(err.Error(), "holds +Inf at index 5: refusing to save non-finite weights") {
		t.Fatalf("got %v", err)
	}
	cs, _ := finetune.ListCheckpoints(dir)
	if len(cs) != 1 || filepath.Base(cs[0]) != "checkpoint-1.ftckpt" {
		t.Fatalf("checkpoints %v, want only checkpoint-1", cs)
	}
}

func (l *nanAt) Name() string { return l.inner.Name() }

// TestBestCheckpointKnowsItself: the checkpoint written at a new best
// evaluation names itself as the best (ft export --best reads it there).
func TestBestCheckpointKnowsItself(t *testing.T) {
	dir := t.TempDir()
	tr := resumeTrainer(t, dir)
	res, err := tr.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ci, err := finetune.ReadCheckpointInfo(res.BestCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	if ci.State.BestCheckpoint != res.BestCheckpoint || ci.State.BestStep != res.BestStep {
		t.Fatalf("best checkpoint %s says best is %q at step %d", res.BestCheckpoint, ci.State.BestCheckpoint, ci.State.BestStep)
	}
	last, _ := finetune.FindCheckpoint(dir)
	if cl, _ := finetune.ReadCheckpointInfo(last); cl.State.BestCheckpoint != res.BestCheckpoint {
		t.Fatalf("newest checkpoint names best %q, want %q", cl.State.BestCheckpoint, res.BestCheckpoint)
	}
}
