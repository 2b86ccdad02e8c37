package finetune

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"ft/dataset"
	"ft/graph"
	"ft/onnx"
	"ft/tensor"
)

// loraOracle is testmodels/fixtures/lora/oracle.json (testmodels/lora_oracle.py:
// PEFT + PyTorch on the tiny BERT fixture).
type loraOracle struct {
	R           int              `json:"r"`
	Alpha       float64          `json:"lora_alpha"`
	Targets     []string         `json:"target_modules"`
	Trainable   []string         `json:"trainable"`
	NoDecay     []string         `json:"no_decay"`
	GradRows    []int            `json:"grad_rows"`
	GradLoss    float64          `json:"grad_loss"`
	LR          float64          `json:"lr"`
	Betas       []float64        `json:"betas"`
	Eps         float64          `json:"eps"`
	WeightDecay float64          `json:"weight_decay"`
	WarmupSteps int              `json:"warmup_steps"`
	MaxGradNorm float64          `json:"max_grad_norm"`
	BatchSize   int              `json:"batch_size"`
	Steps       int              `json:"steps"`
	Losses      []float64        `json:"losses"`
	GradNorms   []float64        `json:"grad_norms"`
	PEFTKeys    map[string][]int `json:"peft_keys"`
	PEFTConfig  map[string]any   `json:"peft_config"`
	Feeds       []string         `json:"feeds"`
}

const loraHint = "make it with $FT_PYTHON testmodels/lora_oracle.py"

var loraDir = filepath.Join("..", "testmodels", "fixtures", "lora")

func readLoRAOracle(t *testing.T) *loraOracle {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(loraDir, "oracle.json"))
	if err != nil {
		t.Fatalf("%v (%s)", err, loraHint)
	}
	var o loraOracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Losses) != o.Steps || o.Steps == 0 {
		t.Fatalf("oracle.json: %d losses for %d steps", len(o.Losses), o.Steps)
	}
	return &o
}

// loraModel loads the tiny BERT fixture, applies LoRA as the oracle did and
// copies the oracle's initial A matrices (PEFT orientation [r, in]) into ft's
// adapters. It returns the model, the adapters and what trains.
func loraModel(t *testing.T, o *loraOracle) (*Model, []*graph.Param, []*graph.Param) {
	t.Helper()
	m, err := LoadModel(filepath.Join("..", "testmodels", "fixtures", "bert"), ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	adapters, err := ApplyLoRA(m, LoRAConfig{R: o.R, Alpha: o.Alpha, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	trainable, err := LoRATrainable(m, adapters, Selection{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range trainable {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	want := append([]string(nil), o.Trainable...)
	sort.Strings(want)
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("trainable parameters:\n ft   %v\n peft %v", names, o.Trainable)
	}
	for _, p := range adapters {
		if strings.HasSuffix(p.Name, ".lora_A.weight") {
			setTorch(t, p, readTensorPB(t, filepath.Join(loraDir, "init", p.Name+".pb")))
		} else {
			for _, v := range p.Value.F32() {
				if v != 0 {
					t.Fatalf("%s: B is not initialised to zero", p.Name)
				}
			}
		}
	}
	return m, adapters, trainable
}

// setTorch sets a parameter from a value in torch's orientation.
func setTorch(t *testing.T, p *graph.Param, v *tensor.Tensor) {
	t.Helper()
	if p.Transposed {
		v = tensor.Transpose2D(v)
	}
	if !tensor.SameShape(v.Shape, p.Value.Shape) {
		t.Fatalf("%s: shape %v, oracle gives %v", p.Name, p.Value.Shape, v.Shape)
	}
	copy(p.Value.F32(), v.F32())
}

// torchValue returns a parameter (or gradient) in torch's orientation.
func torchValue(p *graph.Param, v *tensor.Tensor) *tensor.Tensor {
	if p.Transposed {
		return tensor.Transpose2D(v)
	}
	return v
}

func maxDiff(a, b *tensor.Tensor) float64 {
	if !tensor.SameShape(a.Shape, b.Shape) {
		return math.Inf(1)
	}
	d := 0.0
	x, y := a.F32(), b.F32()
	for i := range x {
		d = max(d, math.Abs(float64(x[i])-float64(y[i])))
	}
	return d
}

func loraSource(t *testing.T, o *loraOracle) *dataset.TensorSource {
	t.Helper()
	dir := filepath.Join("..", "testmodels", "fixtures", "train", "bert")
	src := &dataset.TensorSource{Feeds: map[string]*tensor.Tensor{}, Target: readTensorPB(t, filepath.Join(dir, "target.pb"))}
	for _, f := range o.Feeds {
		src.Feeds[f] = readTensorPB(t, filepath.Join(dir, f+".pb"))
	}
	if err := src.Check(); err != nil {
		t.Fatal(err)
	}
	return src
}

// TestLoRAGradients: with the oracle's A and a non-zero B, ft's gradients of
// the adapters and the head equal PEFT + PyTorch autograd's within 1e-4, and
// backward runs no node that only the frozen weights need.
func TestLoRAGradients(t *testing.T) {
	o := readLoRAOracle(t)
	m, adapters, trainable := loraModel(t, o)
	for _, p := range adapters {
		if strings.HasSuffix(p.Name, ".lora_B.weight") {
			setTorch(t, p, readTensorPB(t, filepath.Join(loraDir, "grad_B", p.Name+".pb")))
		}
	}
	src := loraSource(t, o)
	var rows []int
	for i := o.GradRows[0]; i < o.GradRows[1]; i++ {
		rows = append(rows, i)
	}
	b, err := src.Batch(rows)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := m.Graph.Forward(b.Feeds, []string{"logits"}, trainable)
	if err != nil {
		t.Fatal(err)
	}
	loss, dout, err := NewCrossEntropyLoss().Loss(tr.Outputs["logits"], b.Target)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(loss - o.GradLoss); d > 1e-5 {
		t.Errorf("loss %.7f, PEFT %.7f", loss, o.GradLoss)
	}
	grads, err := tr.Backward(map[string]*tensor.Tensor{"logits": dout})
	if err != nil {
		t.Fatal(err)
	}
	if len(grads) != len(trainable) {
		t.Errorf("%d gradients for %d trainable parameters", len(grads), len(trainable))
	}
	worst := 0.0
	for _, p := range trainable {
		want := readTensorPB(t, filepath.Join(loraDir, "grads", p.Name+".pb"))
		d := maxDiff(torchValue(p, grads[p]), want)
		worst = max(worst, d)
		if !(d <= 1e-4) {
			t.Errorf("%s: gradient differs from PEFT's by %.3g", p.Name, d)
		}
	}
	t.Logf("loss %.7f (PEFT %.7f); worst gradient difference %.3g over %d tensors", loss, o.GradLoss, worst, len(trainable))
	// backward stays between the adapters / head and the loss: no embedding
	// node, no base projection of layer 0 (its inputs are all frozen), no key
	// projection of layer 0
	for _, name := range tr.BackwardRan {
		if strings.Contains(name, "/embeddings/") || strings.HasPrefix(name, "/bert/encoder/layer.0/attention/self/query/MatMul") ||
			strings.HasPrefix(name, "/bert/encoder/layer.0/attention/self/key/") || strings.HasPrefix(name, "/bert/encoder/layer.0/attention/self/value/MatMul") {
			t.Errorf("backward ran node %s, which only frozen weights need", name)
		}
	}
	ran := strings.Join(tr.BackwardRan, " ")
	for _, want := range []string{"/bert/encoder/layer.0/attention/self/query/lora_A/MatMul", "/bert/encoder/layer.1/attention/self/value/lora_B/MatMul"} {
		if !strings.Contains(ran, want) {
			t.Errorf("backward did not run %s", want)
		}
	}
}

// TestLoRATrainParity: 20 AdamW steps from the same initial adapters give
// PEFT + PyTorch's losses and final adapters and head within 1e-4.
func TestLoRATrainParity(t *testing.T) {
	o := readLoRAOracle(t)
	m, _, trainable := loraModel(t, o)
	checkNoDecay(t, trainable, o.NoDecay)
	var norms []float64
	tr := &Trainer{
		Model: m,
		Args: Args{LearningRate: o.LR, MaxSteps: o.Steps, PerDeviceTrainBatchSize: o.BatchSize, NoShuffle: true,
			WeightDecay: o.WeightDecay, AdamBeta1: o.Betas[0], AdamBeta2: o.Betas[1], AdamEpsilon: o.Eps,
			MaxGradNorm: o.MaxGradNorm, LRSchedulerType: "linear", WarmupSteps: o.WarmupSteps, Optim: "adamw"},
		Loss:      NewCrossEntropyLoss(),
		Train:     loraSource(t, o),
		Trainable: trainable,
		Events: func(e Event) {
			if e.Kind == EventStep {
				norms = append(norms, e.GradNorm)
			}
		},
	}
	res, err := tr.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Losses) != o.Steps {
		t.Fatalf("%d steps, want %d", len(res.Losses), o.Steps)
	}
	worstLoss := 0.0
	for i, l := range res.Losses {
		d := math.Abs(l - o.Losses[i])
		worstLoss = max(worstLoss, d)
		if !(d <= 1e-4) {
			t.Errorf("step %d: loss %.7f, PEFT %.7f", i, l, o.Losses[i])
		}
		if r := math.Abs(norms[i]-o.GradNorms[i]) / o.GradNorms[i]; !(r <= 1e-3) {
			t.Errorf("step %d: grad norm %.6g, PEFT %.6g", i, norms[i], o.GradNorms[i])
		}
	}
	worst := 0.0
	for _, p := range trainable {
		d := maxDiff(torchValue(p, p.Value), readTensorPB(t, filepath.Join(loraDir, "final", p.Name+".pb")))
		worst = max(worst, d)
		if !(d <= 1e-4) {
			t.Errorf("%s after %d steps: differs from PEFT's by %.3g", p.Name, o.Steps, d)
		}
	}
	t.Logf("loss %.6f -> %.6f; worst loss difference %.3g, worst weight difference %.3g after %d steps", res.Losses[0], res.Losses[len(res.Losses)-1], worstLoss, worst, o.Steps)

	// the trained model merges into a plain graph with the same logits
	checkMerge(t, m)
	// and its PEFT export has the keys and shapes PEFT writes
	checkPEFT(t, m, o)
}

func opHistogram(gp *onnx.GraphProto) map[string]int {
	h := map[string]int{}
	for _, n := range gp.Node {
		h[n.GetOpType()]++
	}
	return h
}

func checkMerge(t *testing.T, m *Model) {
	t.Helper()
	feeds := fixtureFeeds(t, m)
	before, err := m.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	mm, err := MergeLoRA(m)
	if err != nil {
		t.Fatal(err)
	}
	if HasLoRA(mm) || !HasLoRA(m) {
		t.Fatalf("after merging: merged has LoRA %v, original %v", HasLoRA(mm), HasLoRA(m))
	}
	after, err := mm.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	d := maxDiff(before["logits"], after["logits"])
	if !(d <= 1e-5) {
		t.Errorf("merged logits differ from the adapted model's by %.3g", d)
	}
	// the original still runs as before (MergeLoRA copies)
	again, err := m.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(before["logits"], again["logits"]) != 0 {
		t.Error("MergeLoRA changed the model it merged")
	}
	base, err := onnx.Load(filepath.Join("..", "testmodels", "fixtures", "bert"))
	if err != nil {
		t.Fatal(err)
	}
	if hb, hm := opHistogram(base.Proto.Graph), opHistogram(mm.Graph.Model.Proto.Graph); !reflect.DeepEqual(hb, hm) {
		t.Errorf("merged op histogram %v, base %v", hm, hb)
	}
	var bi, mi []string
	for _, in := range base.Proto.Graph.Initializer {
		bi = append(bi, in.GetName())
	}
	for _, in := range mm.Graph.Model.Proto.Graph.Initializer {
		mi = append(mi, in.GetName())
	}
	if !reflect.DeepEqual(bi, mi) {
		t.Errorf("merged initializers %v, base %v", mi, bi)
	}
	// the merged weights moved: the adapters were trained
	bg, err := graph.Import(base, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := "bert.encoder.layer.1.attention.self.query.weight"
	if d := maxDiff(bg.Param(q).Value, mm.Graph.Param(q).Value); d == 0 {
		t.Errorf("%s: merged weight equals the base weight", q)
	}
	t.Logf("merged: logits within %.3g of the adapted model's, %d nodes as the base export", d, len(mm.Graph.Model.Proto.Graph.Node))
}

func fixtureFeeds(t *testing.T, m *Model) map[string]*tensor.Tensor {
	t.Helper()
	dir := filepath.Join("..", "testmodels", "fixtures", "bert", "test_data_set_0")
	feeds := map[string]*tensor.Tensor{}
	for j, name := range m.Graph.InputNames() {
		feeds[name] = readTensorPB(t, filepath.Join(dir, "input_"+string(rune('0'+j))+".pb"))
	}
	return feeds
}

// readSafetensors reads a safetensors file of float32 tensors
// (decodeSafetensors, which checks the header against the file).
func readSafetensors(t *testing.T, path string) map[string]*tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeSafetensors(path, b)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func checkPEFT(t *testing.T, m *Model, o *loraOracle) {
	t.Helper()
	dir := t.TempDir()
	if err := SavePEFT(m, dir); err != nil {
		t.Fatal(err)
	}
	st := readSafetensors(t, filepath.Join(dir, PEFTWeightsFile))
	got := map[string][]int{}
	for k, v := range st {
		got[k] = v.Shape
	}
	if !reflect.DeepEqual(got, o.PEFTKeys) {
		t.Errorf("adapter_model.safetensors keys/shapes:\n ft   %v\n peft %v", got, o.PEFTKeys)
	}
	// values: the trained parameters, in torch's orientation
	for _, p := range m.Graph.Params {
		if v, ok := st["base_model.model."+p.Name]; ok {
			if d := maxDiff(v, torchValue(p, p.Value)); d != 0 {
				t.Errorf("%s: written value differs by %g", p.Name, d)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, PEFTConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	for k, want := range o.PEFTConfig {
		if !reflect.DeepEqual(cfg[k], want) {
			t.Errorf("adapter_config.json %s = %v, PEFT writes %v", k, cfg[k], want)
		}
	}
	var mods []string
	for _, v := range cfg["target_modules"].([]any) {
		s := v.(string)
		mods = append(mods, s[strings.LastIndex(s, ".")+1:])
	}
	sort.Strings(mods)
	mods = compactStrings(mods)
	if !reflect.DeepEqual(mods, o.Targets) {
		t.Errorf("target_modules end in %v, PEFT's are %v", mods, o.Targets)
	}
}

func compactStrings(s []string) []string {
	var r []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			r = append(r, v)
		}
	}
	return r
}

// TestLoRAInit: adapters are seeded (same config and seed, same graph and
// values; resuming depends on it), A is PEFT's kaiming_uniform(a=√5) =
// U(−1/√in, 1/√in) and B is zero, so the adapted model computes the base
// model's logits.
func TestLoRAInit(t *testing.T) {
	load := func() *Model {
		m, err := LoadModel(filepath.Join("..", "testmodels", "fixtures", "bert"), ModelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	base := load()
	feeds := fixtureFeeds(t, base)
	want, err := base.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	cfg := LoRAConfig{R: 8, Seed: 3}
	m1, m2, m3 := load(), load(), load()
	// a model adapted after some training keeps its values
	m3.Graph.Param("classifier.bias").Value.F32()[1] = 0.25
	a1, err := ApplyLoRA(m1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := ApplyLoRA(m2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a3, err := ApplyLoRA(m3, LoRAConfig{R: 8, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(a1) != 8 {
		t.Fatalf("%d adapters, want 8 (query and value of 2 layers, A and B)", len(a1))
	}
	if got := m3.Graph.Param("classifier.bias").Value.F32()[1]; got != 0.25 {
		t.Errorf("classifier.bias[1] = %g after ApplyLoRA, was set to 0.25", got)
	}
	// same config and seed, same graph (resuming a checkpoint relies on it)
	n1, n2 := m1.Graph.Model.Proto.Graph.Node, m2.Graph.Model.Proto.Graph.Node
	if len(n1) != len(n2) {
		t.Fatalf("%d and %d nodes from the same config", len(n1), len(n2))
	}
	for i := range n1 {
		if n1[i].GetName() != n2[i].GetName() || !reflect.DeepEqual(n1[i].Input, n2[i].Input) || !reflect.DeepEqual(n1[i].Output, n2[i].Output) {
			t.Fatalf("node %d: %s %v -> %v and %s %v -> %v", i, n1[i].GetName(), n1[i].Input, n1[i].Output, n2[i].GetName(), n2[i].Input, n2[i].Output)
		}
	}
	var all []float64
	for i, p := range a1 {
		q := a2[i]
		if p.Name != q.Name || maxDiff(p.Value, q.Value) != 0 {
			t.Errorf("%s: not reproduced by the same seed", p.Name)
		}
		switch {
		case strings.HasSuffix(p.Name, ".lora_A.weight"):
			if !p.Transposed || !tensor.SameShape(p.Value.Shape, []int{32, 8}) {
				t.Errorf("%s: shape %v transposed %v, want [32 8] (PEFT's [8 32] transposed)", p.Name, p.Value.Shape, p.Transposed)
			}
			if maxDiff(p.Value, a3[i].Value) == 0 {
				t.Errorf("%s: seed 4 gives the same A as seed 3", p.Name)
			}
			for _, v := range p.Value.F32() {
				all = append(all, float64(v))
			}
		default:
			if !tensor.SameShape(p.Value.Shape, []int{8, 32}) || maxDiff(p.Value, tensor.Zeros(tensor.Float32, 8, 32)) != 0 {
				t.Errorf("%s: want zeros [8 32], got %v", p.Name, p.Value.Shape)
			}
		}
	}
	// U(-b, b) with b = 1/√32: all inside, mean 0, variance b²/3
	bound := 1 / math.Sqrt(32)
	mean, sq := 0.0, 0.0
	for _, v := range all {
		if math.Abs(v) > bound {
			t.Fatalf("A value %g outside ±%g", v, bound)
		}
		mean += v
		sq += v * v
	}
	n := float64(len(all))
	mean /= n
	variance := sq/n - mean*mean
	if math.Abs(mean) > 4*bound/math.Sqrt(3*n) || math.Abs(variance/(bound*bound/3)-1) > 0.1 {
		t.Errorf("A: mean %g variance %g over %d values, want 0 and %g", mean, variance, len(all), bound*bound/3)
	}
	got, err := m1.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(got["logits"], want["logits"]); d != 0 {
		t.Errorf("with B = 0 the logits moved by %g", d)
	}
	h1, h2 := opHistogram(m1.Graph.Model.Proto.Graph), opHistogram(base.Graph.Model.Proto.Graph)
	if h1["MatMul"] != h2["MatMul"]+8 || h1["Mul"] != h2["Mul"]+4 || h1["Add"] != h2["Add"]+4 {
		t.Errorf("adapted graph: MatMul %d Mul %d Add %d, base %d %d %d: want 8, 4, 4 more", h1["MatMul"], h1["Mul"], h1["Add"], h2["MatMul"], h2["Mul"], h2["Add"])
	}
	// the frozen base weights are unchanged and the checkpointable set is
	// adapters + head only
	tr, err := LoRATrainable(m1, a1, Selection{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 10 {
		t.Errorf("%d trainable tensors, want 8 adapters + classifier weight and bias", len(tr))
	}
	tr, err = LoRATrainable(m1, a1, Selection{Train: []string{"*.LayerNorm.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 10+10 {
		t.Errorf("with --train-params *.LayerNorm.*: %d trainable tensors, want 20", len(tr))
	}
}

// TestLoRAMergeGemm: adapters on every dense layer, MatMul with a [in, out]
// weight (3-D input) and the pooler's Gemm with transB (2-D input), with
// random B: merging gives the same logits and the base graph.
func TestLoRAMergeGemm(t *testing.T) {
	m, err := LoadModel(filepath.Join("..", "testmodels", "fixtures", "bert"), ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	feeds := fixtureFeeds(t, m)
	base, err := m.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	ad, err := ApplyLoRA(m, LoRAConfig{R: 3, Alpha: 5, Targets: []string{"dense"}, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	gemm := false
	for i, p := range ad {
		if strings.HasPrefix(p.Name, "bert.pooler.dense.") {
			gemm = true
		}
		if strings.HasSuffix(p.Name, ".lora_B.weight") {
			d := p.Value.F32()
			for j := range d {
				d[j] = float32(math.Sin(float64(7*i+j))) * 0.3
			}
		}
	}
	if !gemm {
		t.Fatal("the pooler's Gemm got no adapter")
	}
	before, err := m.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(before["logits"], base["logits"]) < 1e-3 {
		t.Fatal("non-zero B did not change the logits")
	}
	mm, err := MergeLoRA(m)
	if err != nil {
		t.Fatal(err)
	}
	after, err := mm.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(before["logits"], after["logits"]); !(d <= 1e-5) {
		t.Errorf("merged logits differ by %.3g", d)
	}
	b, err := onnx.Load(filepath.Join("..", "testmodels", "fixtures", "bert"))
	if err != nil {
		t.Fatal(err)
	}
	if hb, hm := opHistogram(b.Proto.Graph), opHistogram(mm.Graph.Model.Proto.Graph); !reflect.DeepEqual(hb, hm) {
		t.Errorf("merged op histogram %v, base %v", hm, hb)
	}
}

func TestLoRAErrors(t *testing.T) {
	load := func() *Model {
		m, err := LoadModel(filepath.Join("..", "testmodels", "fixtures", "bert"), ModelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, c := range []struct {
		name string
		cfg  LoRAConfig
		want string
	}{
		{"dropout", LoRAConfig{Dropout: 0.1}, "without dropout"},
		{"no match", LoRAConfig{Targets: []string{"q_proj"}}, `"q_proj" matches no linear layer`},
		{"bad glob", LoRAConfig{Targets: []string{"[query"}}, "bad LoRAConfig.Targets pattern"},
		{"head", LoRAConfig{Targets: []string{"classifier"}}, "classification head"},
		{"negative rank", LoRAConfig{R: -1}, "positive LoRAConfig.R"},
	} {
		_, err := ApplyLoRA(load(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	m := load()
	if _, err := ApplyLoRA(m, LoRAConfig{Targets: []string{"*.layer.1.*.key", "dense"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range m.Graph.Params {
		if strings.HasSuffix(p.Name, ".lora_A.weight") {
			got = append(got, strings.TrimSuffix(p.Name, ".lora_A.weight"))
		}
	}
	want := []string{"bert.encoder.layer.0.attention.output.dense", "bert.encoder.layer.0.intermediate.dense", "bert.encoder.layer.0.output.dense",
		"bert.encoder.layer.1.attention.self.key", "bert.encoder.layer.1.attention.output.dense", "bert.encoder.layer.1.intermediate.dense", "bert.encoder.layer.1.output.dense",
		"bert.pooler.dense"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets *.layer.1.*.key, dense:\n got  %v\n want %v", got, want)
	}
	if _, err := ApplyLoRA(m, LoRAConfig{}); err == nil || !strings.Contains(err.Error(), "already has LoRA") {
		t.Errorf("applying twice: %v", err)
	}
	if err := SavePEFT(load(), t.TempDir()); err == nil {
		t.Error("SavePEFT without adapters: no error")
	}
}

// TestLoRAExportForOracle writes what testmodels/check_lora_export.py checks
// with ONNX Runtime and peft: run it through that script.
func TestLoRAExportForOracle(t *testing.T) {
	out := os.Getenv("FT_LORA_EXPORT_DIR")
	if out == "" {
		t.Skip("set FT_LORA_EXPORT_DIR, or run $FT_PYTHON testmodels/check_lora_export.py")
	}
	o := readLoRAOracle(t)
	m, _, trainable := loraModel(t, o)
	tr := &Trainer{Model: m, Args: Args{LearningRate: 1e-2, MaxSteps: 10, PerDeviceTrainBatchSize: 4, NoShuffle: true, LRSchedulerType: "constant"},
		Train: loraSource(t, o), Trainable: trainable}
	if _, err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	feeds := fixtureFeeds(t, m)
	res, err := m.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	p, err := onnx.FromTensor("logits", res["logits"])
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "ft_logits.pb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	mm, err := MergeLoRA(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := mm.Save(filepath.Join(out, "merged")); err != nil {
		t.Fatal(err)
	}
	if err := SavePEFT(m, filepath.Join(out, "peft")); err != nil {
		t.Fatal(err)
	}

	// a feature-extraction export (bert-fe: bert's encoder) with ft's mean
	// pooling + linear head
	fe, err := LoadModel(filepath.Join("..", "testmodels", "fixtures", "bert-fe"), ModelOptions{Labels: []string{"negative", "neutral", "positive"}, Pooling: "mean", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ad, err := ApplyLoRA(fe, LoRAConfig{R: 4, Alpha: 8, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	tfe, err := LoRATrainable(fe, ad, Selection{})
	if err != nil {
		t.Fatal(err)
	}
	tr = &Trainer{Model: fe, Args: Args{LearningRate: 1e-2, MaxSteps: 10, PerDeviceTrainBatchSize: 4, NoShuffle: true, LRSchedulerType: "constant"},
		Train: loraSource(t, o), Trainable: tfe}
	if _, err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err = fe.Graph.Run(feeds, "logits", "last_hidden_state")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"logits", "last_hidden_state"} {
		p, err := onnx.FromTensor(name, res[name])
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "fe_"+name+".pb"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mfe, err := MergeLoRA(fe)
	if err != nil {
		t.Fatal(err)
	}
	if err := mfe.Save(filepath.Join(out, "fe_merged")); err != nil {
		t.Fatal(err)
	}
	if err := SavePEFT(fe, filepath.Join(out, "fe_peft")); err != nil {
		t.Fatal(err)
	}
}
