package finetune

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"ft/dataset"
	"ft/graph"
	"ft/onnx"
	"ft/optim"
	"ft/tensor"
)

// trainOracle is testmodels/fixtures/train/<name>/oracle.json, written by
// testmodels/train_oracle.py: PyTorch's loss at every optimizer step when it
// trains the fixture's model from the ONNX weights.
type trainOracle struct {
	Fixture       string    `json:"fixture"`
	Output        string    `json:"output"`
	Loss          string    `json:"loss"`
	Optimizer     string    `json:"optimizer"`
	LR            float64   `json:"lr"`
	Betas         []float64 `json:"betas"`
	Eps           float64   `json:"eps"`
	WeightDecay   float64   `json:"weight_decay"`
	NoDecay       []string  `json:"no_decay"`
	LRScheduler   string    `json:"lr_scheduler"`
	WarmupSteps   int       `json:"warmup_steps"`
	MaxGradNorm   float64   `json:"max_grad_norm"`
	Rows          int       `json:"rows"`
	BatchSize     int       `json:"batch_size"`
	Shuffle       bool      `json:"shuffle"`
	Steps         int       `json:"steps"`
	Feeds         []string  `json:"feeds"`
	Target        string    `json:"target"`
	Losses        []float64 `json:"losses"`
	LearningRates []float64 `json:"learning_rates"`
	GradNorms     []float64 `json:"grad_norms"`
}

const trainOracleHint = "make it with $FT_PYTHON testmodels/train_oracle.py"

func readTensorPB(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (%s)", err, trainOracleHint)
	}
	tp, err := onnx.ParseTensor(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	x, err := onnx.ToTensor(tp)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return x
}

// loadTrainParity reads a training oracle, its data as a dataset.TensorSource, and the
// fixture's graph; it checks that the graph's parameters are exactly the torch
// parameters the oracle trained (same names, by grads/names.json).
func loadTrainParity(t *testing.T, name string) (*trainOracle, *dataset.TensorSource, *graph.Graph) {
	t.Helper()
	dir := filepath.Join("..", "testmodels", "fixtures", "train", name)
	b, err := os.ReadFile(filepath.Join(dir, "oracle.json"))
	if err != nil {
		t.Fatalf("%v (%s)", err, trainOracleHint)
	}
	var o trainOracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("oracle.json: %v", err)
	}
	if len(o.Losses) != o.Steps || o.Steps == 0 {
		t.Fatalf("oracle.json: %d losses for %d steps", len(o.Losses), o.Steps)
	}
	src := &dataset.TensorSource{Feeds: map[string]*tensor.Tensor{}, Target: readTensorPB(t, filepath.Join(dir, o.Target+".pb"))}
	for _, f := range o.Feeds {
		src.Feeds[f] = readTensorPB(t, filepath.Join(dir, f+".pb"))
	}
	if err := src.Check(); err != nil {
		t.Fatal(err)
	}
	if src.Len() != o.Rows {
		t.Fatalf("%d rows of data, the oracle says %d", src.Len(), o.Rows)
	}
	fx := filepath.Join("..", "testmodels", "fixtures", o.Fixture)
	g, err := graph.Load(fx)
	if err != nil {
		t.Fatal(err)
	}
	var names struct {
		Params []struct {
			ONNX  string `json:"onnx"`
			Torch string `json:"torch"`
		} `json:"params"`
	}
	nb, err := os.ReadFile(filepath.Join(fx, "grads", "names.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(nb, &names); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, p := range names.Params {
		want[p.ONNX] = p.Torch
	}
	for _, p := range g.Params {
		if want[p.Initializer] != p.Name {
			t.Errorf("parameter %q (initializer %q): torch name %q", p.Name, p.Initializer, want[p.Initializer])
		}
		delete(want, p.Initializer)
	}
	if len(want) > 0 {
		t.Fatalf("torch parameters the graph does not train: %v", want)
	}
	return &o, src, g
}

// args turns the oracle's hyper-parameters into Trainer arguments.
func (o *trainOracle) args(t *testing.T) Args {
	t.Helper()
	a := Args{
		LearningRate:            o.LR,
		MaxSteps:                o.Steps,
		PerDeviceTrainBatchSize: o.BatchSize,
		NoShuffle:               !o.Shuffle,
		WeightDecay:             o.WeightDecay,
		AdamBeta1:               o.Betas[0],
		AdamBeta2:               o.Betas[1],
		AdamEpsilon:             o.Eps,
		MaxGradNorm:             o.MaxGradNorm, // 0: no clipping, as the oracle
		LRSchedulerType:         o.LRScheduler,
		WarmupSteps:             o.WarmupSteps,
	}
	switch o.Optimizer {
	case "Adam":
		a.Optim = "adam"
	case "AdamW":
		a.Optim = "adamw"
	default:
		t.Fatalf("oracle optimizer %q", o.Optimizer)
	}
	return a
}

// runParity trains with the oracle's settings and returns the per-step
// losses, learning rates and gradient norms.
func runParity(t *testing.T, o *trainOracle, src *dataset.TensorSource, g *graph.Graph, loss Loss) (losses, lrs, norms []float64) {
	t.Helper()
	tr := &Trainer{
		Model:     &Model{Graph: g, Output: o.Output},
		Args:      o.args(t),
		Loss:      loss,
		Train:     src,
		Trainable: g.Params,
		Events: func(e Event) {
			if e.Kind == EventStep {
				lrs = append(lrs, e.LearningRate)
				norms = append(norms, e.GradNorm)
			}
		},
	}
	res, err := tr.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != o.Steps || len(res.Losses) != o.Steps {
		t.Fatalf("trained %d steps (%d losses), want %d", res.Steps, len(res.Losses), o.Steps)
	}
	return res.Losses, lrs, norms
}

type deviation struct {
	step      int
	got, want float64
	abs, rel  float64
}

// deviations returns every step's deviation, worst (by key) first.
func deviations(got, want []float64, key func(deviation) float64) []deviation {
	var ds []deviation
	for i := range want {
		a := math.Abs(got[i] - want[i])
		ds = append(ds, deviation{step: i, got: got[i], want: want[i], abs: a, rel: a / math.Abs(want[i])})
	}
	sort.SliceStable(ds, func(i, j int) bool { return key(ds[i]) > key(ds[j]) || math.IsNaN(key(ds[i])) })
	return ds
}

func logWorst(t *testing.T, what string, ds []deviation) {
	t.Helper()
	for _, d := range ds[:min(5, len(ds))] {
		t.Logf("%s step %3d: ft %.9f torch %.9f |diff| %.3g rel %.3g", what, d.step, d.got, d.want, d.abs, d.rel)
	}
}

// TestTrainParityMLP is the seed's example network (fixtures/mlp) trained
// with BCE and Adam for 100 steps on fixed data: every step's loss matches
// PyTorch's (testmodels/train_oracle.py) within 1e-5 relative.
func TestTrainParityMLP(t *testing.T) {
	o, src, g := loadTrainParity(t, "mlp")
	if o.Loss != "BCELoss" {
		t.Fatalf("oracle loss %q", o.Loss)
	}
	losses, _, _ := runParity(t, o, src, g, &BCELoss{})
	ds := deviations(losses, o.Losses, func(d deviation) float64 { return d.rel })
	logWorst(t, "mlp", ds)
	t.Logf("mlp: loss %.6f -> %.6f over %d steps; worst relative deviation %.3g (step %d)", o.Losses[0], o.Losses[len(o.Losses)-1], o.Steps, ds[0].rel, ds[0].step)
	for _, d := range ds {
		if !(d.rel <= 1e-5) {
			t.Errorf("step %d: loss %.9g, torch %.9g: relative deviation %.3g > 1e-5", d.step, d.got, d.want, d.rel)
		}
	}
}

// TestTrainParityBERT is the tiny BERT fixture trained 50 AdamW steps with
// linear warmup, gradient clipping, fixed batch order and no dropout: every
// step's loss is within 1e-4 of PyTorch's from the same ONNX weights.
func TestTrainParityBERT(t *testing.T) {
	o, src, g := loadTrainParity(t, "bert")
	if o.Loss != "CrossEntropyLoss" {
		t.Fatalf("oracle loss %q", o.Loss)
	}
	// the parameter groups are the oracle's (Hugging Face's no-decay rule)
	checkNoDecay(t, g.Params, o.NoDecay)
	losses, lrs, norms := runParity(t, o, src, g, NewCrossEntropyLoss())
	for i, lr := range lrs {
		if math.Abs(lr-o.LearningRates[i]) > 1e-12*o.LR {
			t.Errorf("step %d: learning rate %g, torch %g", i, lr, o.LearningRates[i])
		}
	}
	nd := deviations(norms, o.GradNorms, func(d deviation) float64 { return d.rel })
	t.Logf("bert: worst grad-norm deviation %.3g relative (step %d: ft %.7g torch %.7g)", nd[0].rel, nd[0].step, nd[0].got, nd[0].want)
	ds := deviations(losses, o.Losses, func(d deviation) float64 { return d.abs })
	logWorst(t, "bert", ds)
	t.Logf("bert: loss %.6f -> %.6f over %d steps; worst absolute deviation %.3g (step %d)", o.Losses[0], o.Losses[len(o.Losses)-1], o.Steps, ds[0].abs, ds[0].step)
	for _, d := range ds {
		if !(d.abs <= 1e-4) {
			t.Errorf("step %d: loss %.9g, torch %.9g: deviation %.3g > 1e-4", d.step, d.got, d.want, d.abs)
		}
	}
}

func TestTensorSource(t *testing.T) {
	src := &dataset.TensorSource{
		Feeds: map[string]*tensor.Tensor{
			"input_ids":      tensor.New([]int{3, 2}, []int64{1, 2, 3, 4, 5, 6}),
			"attention_mask": tensor.New([]int{3, 2}, []int64{1, 1, 1, 0, 1, 1}),
		},
		Target: tensor.New([]int{3, 1}, []float32{0.5, 1, 0}),
	}
	if src.Len() != 3 {
		t.Fatalf("Len %d, want 3", src.Len())
	}
	b, err := src.Batch([]int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	if b.Size != 2 || !tensor.SameShape(b.Feeds["input_ids"].Shape, []int{2, 2}) || !tensor.SameShape(b.Target.Shape, []int{2, 1}) {
		t.Fatalf("batch shapes: size %d, ids %v, target %v", b.Size, b.Feeds["input_ids"].Shape, b.Target.Shape)
	}
	if got := b.Feeds["input_ids"].I64(); got[0] != 5 || got[1] != 6 || got[2] != 1 || got[3] != 2 {
		t.Errorf("input_ids rows [2 0]: %v", got)
	}
	if got := b.Target.F32(); got[0] != 0 || got[1] != 0.5 {
		t.Errorf("target rows [2 0]: %v", got)
	}
	b.Feeds["input_ids"].I64()[0] = 99 // a batch is a copy
	if src.Feeds["input_ids"].I64()[4] != 5 {
		t.Error("Batch shares memory with the source")
	}
	if _, err := src.Batch([]int{3}); err == nil {
		t.Error("row 3 of 3: no error")
	}
	src.Feeds["token_type_ids"] = tensor.New([]int{2, 2}, []int64{0, 0, 0, 0})
	if _, err := src.Batch([]int{0}); err == nil {
		t.Error("a feed with 2 rows of 3: no error")
	}
}

// checkNoDecay fails t unless the parameters optim.DefaultParamGroups keeps
// from weight decay are, sorted, the oracle's (Hugging Face's no-decay rule).
func checkNoDecay(t *testing.T, params []*graph.Param, want []string) {
	t.Helper()
	var got []string
	for _, gr := range optim.DefaultParamGroups(params) {
		if gr.NoWeightDecay {
			for _, p := range gr.Params {
				got = append(got, p.Name)
			}
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("no-decay parameters: ft %v, torch %v", got, want)
	}
}
