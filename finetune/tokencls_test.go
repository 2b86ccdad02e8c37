package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ft/dataset"
	"ft/graph"
	"ft/internal/testfixture"
	"ft/onnx"
	"ft/tensor"
	"ft/tokenize"
)

// The token-classification fixtures of testmodels/make_tokcls_fixtures.py.
var tokclsFixtures = []string{"tokcls-bert", "tokcls-roberta", "tokcls-deberta-v2"}

const tokclsHint = "make them with $FT_PYTHON testmodels/make_tokcls_fixtures.py"

func tokclsDir(name string) string { return filepath.Join("..", "testmodels", "fixtures", name) }

// tokclsDataSet reads test_data_set_0: the inputs by graph input name and
// ONNX Runtime's logits.
func tokclsDataSet(t *testing.T, m *Model) (map[string]*tensor.Tensor, *tensor.Tensor) {
	t.Helper()
	d := filepath.Join(m.Dir, "test_data_set_0")
	feeds := map[string]*tensor.Tensor{}
	for j, name := range m.Graph.InputNames() {
		x := readTensorPB(t, filepath.Join(d, fmt.Sprintf("input_%d.pb", j)))
		feeds[name] = x
	}
	return feeds, readTensorPB(t, filepath.Join(d, "output_0.pb"))
}

func maxAbs(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestTokenClassLogitsMatchORT: a token-classification export loads as one
// (Task, labels from id2label, head kept) and its logits [3, 10, 5] equal
// ONNX Runtime's within 1e-4.
func TestTokenClassLogitsMatchORT(t *testing.T) {
	for _, name := range tokclsFixtures {
		t.Run(name, func(t *testing.T) {
			m, err := LoadModel(tokclsDir(name), ModelOptions{Labels: []string{"O", "B-PER", "I-PER", "B-LOC", "I-LOC"}})
			if err != nil {
				t.Fatalf("%v (%s)", err, tokclsHint)
			}
			if m.Task != TaskTokenClassification || !m.Options.TokenClassification || len(m.Notes) != 0 {
				t.Fatalf("task %q, options %+v, notes %v: want the export's token-classification head kept", m.Task, m.Options, m.Notes)
			}
			feeds, want := tokclsDataSet(t, m)
			out, err := m.Graph.Run(feeds, "logits")
			if err != nil {
				t.Fatal(err)
			}
			got := out["logits"]
			if !tensor.SameShape(got.Shape, want.Shape) || !tensor.SameShape(got.Shape, []int{3, 10, 5}) {
				t.Fatalf("logits %v, ORT %v", got.Shape, want.Shape)
			}
			d := maxAbs(got.Float64s(), want.Float64s())
			t.Logf("%s: max |ft - ORT| = %.3g", name, d)
			if d > 1e-4 {
				t.Errorf("max |ft - ORT| = %.3g > 1e-4", d)
			}
		})
	}
}

// TestTokenClassGradientsMatchPyTorch: the -100-masked cross-entropy of
// NewCrossEntropyLoss, back-propagated through the graph, gives every
// parameter (by state_dict name) the gradient PyTorch autograd gives it,
// within 1e-4.
func TestTokenClassGradientsMatchPyTorch(t *testing.T) {
	for _, name := range tokclsFixtures {
		t.Run(name, func(t *testing.T) {
			m, err := LoadModel(tokclsDir(name), ModelOptions{})
			if err != nil {
				t.Fatalf("%v (%s)", err, tokclsHint)
			}
			feeds, _ := tokclsDataSet(t, m)
			labels := readTensorPB(t, filepath.Join(m.Dir, "grads", "labels.pb"))
			var lj struct {
				Loss float64 `json:"loss"`
			}
			b, err := os.ReadFile(filepath.Join(m.Dir, "grads", "loss.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &lj); err != nil {
				t.Fatal(err)
			}
			ignored := 0
			for _, v := range labels.I64() {
				if v == -100 {
					ignored++
				}
			}
			if ignored == 0 || ignored == labels.Len() {
				t.Fatalf("labels %v: the oracle must ignore some positions and not all", labels.I64())
			}
			tr, err := m.Graph.Forward(feeds, []string{"logits"}, m.Graph.Params)
			if err != nil {
				t.Fatal(err)
			}
			loss, dout, err := NewCrossEntropyLoss().Loss(tr.Outputs["logits"], labels)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(loss-lj.Loss) > 1e-5 {
				t.Errorf("loss %.8f, torch %.8f", loss, lj.Loss)
			}
			grads, err := tr.Backward(map[string]*tensor.Tensor{"logits": dout})
			if err != nil {
				t.Fatal(err)
			}
			var names struct {
				Params []struct {
					Torch string `json:"torch"`
				} `json:"params"`
			}
			nb, err := os.ReadFile(filepath.Join(m.Dir, "grads", "names.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(nb, &names); err != nil {
				t.Fatal(err)
			}
			byName := map[string]*graph.Param{}
			for _, p := range m.Graph.Params {
				byName[p.Name] = p
			}
			worst, worstName := 0.0, ""
			for _, e := range names.Params {
				p := byName[e.Torch]
				if p == nil {
					t.Errorf("torch parameter %s is no graph parameter", e.Torch)
					continue
				}
				g := grads[p]
				if p.Transposed {
					g = tensor.Transpose2D(g)
				}
				want := readTensorPB(t, filepath.Join(m.Dir, "grads", e.Torch+".pb"))
				if !tensor.SameShape(g.Shape, want.Shape) {
					t.Errorf("%s: gradient %v, torch %v", e.Torch, g.Shape, want.Shape)
					continue
				}
				d := maxAbs(g.Float64s(), want.Float64s())
				if d > worst {
					worst, worstName = d, e.Torch
				}
				if d > 1e-4 {
					t.Errorf("%s: max |g_ft - g_torch| = %.3g > 1e-4", e.Torch, d)
				}
			}
			if len(names.Params) != len(m.Graph.Params) {
				t.Errorf("%d torch parameters, %d graph parameters", len(names.Params), len(m.Graph.Params))
			}
			t.Logf("%s: loss %.6f (torch %.6f), %d parameters, worst gradient deviation %.3g (%s)", name, loss, lj.Loss, len(names.Params), worst, worstName)
		})
	}
}

// TestTokenClassTrainParity: 20 AdamW steps (warmup, clipping, weight decay
// with HF's groups) of each fixture on fixed batches with -100 labels: every
// step's loss is within 1e-4 of PyTorch's.
func TestTokenClassTrainParity(t *testing.T) {
	for _, name := range tokclsFixtures {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(tokclsDir(name), "train")
			b, err := os.ReadFile(filepath.Join(dir, "oracle.json"))
			if err != nil {
				t.Fatalf("%v (%s)", err, tokclsHint)
			}
			var o trainOracle
			if err := json.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			src := &dataset.TensorSource{Feeds: map[string]*tensor.Tensor{}, Target: readTensorPB(t, filepath.Join(dir, o.Target+".pb"))}
			for _, f := range o.Feeds {
				src.Feeds[f] = readTensorPB(t, filepath.Join(dir, f+".pb"))
			}
			if err := src.Check(); err != nil {
				t.Fatal(err)
			}
			m, err := LoadModel(tokclsDir(name), ModelOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkNoDecay(t, m.Graph.Params, o.NoDecay)
			tr := &Trainer{Model: m, Args: o.args(t), Loss: NewCrossEntropyLoss(), Train: src, Trainable: m.Graph.Params}
			res, err := tr.Fit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Losses) != o.Steps {
				t.Fatalf("%d losses, want %d", len(res.Losses), o.Steps)
			}
			ds := deviations(res.Losses, o.Losses, func(d deviation) float64 { return d.abs })
			t.Logf("%s: loss %.6f -> %.6f over %d steps; worst deviation %.3g (step %d)", name, o.Losses[0], o.Losses[len(o.Losses)-1], o.Steps, ds[0].abs, ds[0].step)
			for _, d := range ds {
				if !(d.abs <= 1e-4) {
					t.Errorf("step %d: loss %.9g, torch %.9g: deviation %.3g > 1e-4", d.step, d.got, d.want, d.abs)
				}
			}
		})
	}
}

// TestTokenClassHeads: a token-classification export whose id2label does not
// fit the data gets a new classifier of the data's width; a
// feature-extraction export gets a per-token head whose logits are
// last_hidden_state · W + b (checked against ONNX Runtime's
// last_hidden_state of bert-fe); a sequence classifier is refused.
func TestTokenClassHeads(t *testing.T) {
	tags := []string{"O", "B-MISC", "I-MISC"}
	m, err := LoadModel(tokclsDir("tokcls-bert"), ModelOptions{Labels: tags, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Notes) != 1 || !slices.Equal(m.Labels, tags) {
		t.Fatalf("notes %v labels %v: want the classifier replaced for %v", m.Notes, m.Labels, tags)
	}
	feeds, _ := tokclsDataSet(t, m)
	out, err := m.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(out["logits"].Shape, []int{3, 10, 3}) {
		t.Fatalf("replaced head: logits %v, want [3 10 3]", out["logits"].Shape)
	}

	fe := filepath.Join("..", "testmodels", "fixtures", "bert-fe")
	m, err = LoadModel(fe, ModelOptions{Labels: tags, Seed: 7, TokenClassification: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Task != TaskTokenClassification || len(m.Notes) != 1 {
		t.Fatalf("task %q notes %v", m.Task, m.Notes)
	}
	om, err := onnx.Load(fe)
	if err != nil {
		t.Fatal(err)
	}
	feeds = map[string]*tensor.Tensor{}
	for j, in := range om.Proto.Graph.Input {
		feeds[in.GetName()] = readTensorPB(t, filepath.Join(fe, "test_data_set_0", fmt.Sprintf("input_%d.pb", j)))
	}
	h := readTensorPB(t, filepath.Join(fe, "test_data_set_0", "output_0.pb")) // last_hidden_state
	out, err = m.Graph.Run(feeds, "logits")
	if err != nil {
		t.Fatal(err)
	}
	var w, bias *tensor.Tensor
	for _, p := range m.Graph.Params {
		switch p.Initializer {
		case "classifier.weight":
			w = p.Value
		case "classifier.bias":
			bias = p.Value
		}
	}
	if w == nil || bias == nil || !tensor.SameShape(w.Shape, []int{32, 3}) {
		t.Fatalf("head parameters: weight %v bias %v", w, bias)
	}
	// logits by hand, in float64
	hs, ws, bs := h.Float64s(), w.Float64s(), bias.Float64s()
	rows, hid := h.Len()/32, 32
	want := make([]float64, rows*3)
	for r := 0; r < rows; r++ {
		for k := 0; k < 3; k++ {
			s := bs[k]
			for j := 0; j < hid; j++ {
				s += hs[r*hid+j] * ws[j*3+k]
			}
			want[r*3+k] = s
		}
	}
	if !tensor.SameShape(out["logits"].Shape, []int{3, 10, 3}) {
		t.Fatalf("per-token head: logits %v", out["logits"].Shape)
	}
	if d := maxAbs(out["logits"].Float64s(), want); d > 1e-4 {
		t.Errorf("per-token head: max |logits - h·W - b| = %.3g", d)
	}

	if _, err := LoadModel(filepath.Join("..", "testmodels", "fixtures", "bert"), ModelOptions{Labels: tags, TokenClassification: true}); err == nil {
		t.Error("a sequence-classification export loaded for token classification")
	}
}

// TestTokenSource: sentences become sub-tokens with each word's tag on its
// first sub-token and -100 elsewhere (or B- turned I- on the later
// sub-tokens with LabelAllTokens), padded to the longest row, truncated to
// MaxLength. The expected ids are derived by hand from the tokenizer's
// word_ids (which equal HF's, tokenize's goldens).
func TestTokenSource(t *testing.T) {
	tok, err := tokenize.Load(filepath.Join("..", "testmodels", "tokenizers", "bert-cased-wordpiece"))
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{"B-LOC", "B-PER", "I-LOC", "I-PER", "O"}
	d := &dataset.TaggedData{Path: "x.conll", Sentences: []dataset.TaggedSentence{
		{Tokens: []string{"Johannesburg", "is", "big"}, Tags: []string{"B-LOC", "O", "O"}, Line: 1},
		{Tokens: []string{"Ann"}, Tags: []string{"B-PER"}, Line: 5},
	}}
	enc, err := tok.EncodeWords([][]string{d.Sentences[0].Tokens}, nil, tokenize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wid := enc.WordIDs[0]
	if len(wid) < 6 || wid[1] != 0 || wid[2] != 0 {
		t.Fatalf("word ids %v: the test needs a word split into sub-tokens", wid)
	}
	for _, all := range []bool{false, true} {
		s, err := NewTokenSource(d, tok, []string{"input_ids", "attention_mask"}, labels, 0, all)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Batch([]int{0, 1})
		if err != nil {
			t.Fatal(err)
		}
		seq := len(wid)
		if !tensor.SameShape(b.Target.Shape, []int{2, seq}) || !tensor.SameShape(b.Feeds["input_ids"].Shape, []int{2, seq}) {
			t.Fatalf("target %v, ids %v, want [2 %d]", b.Target.Shape, b.Feeds["input_ids"].Shape, seq)
		}
		want := make([]int64, 2*seq)
		prev := -1
		for k, w := range wid {
			switch {
			case w < 0:
				want[k] = -100
			case w != prev:
				want[k] = int64([]int{0, 4, 4}[w])
			case all:
				want[k] = int64([]int{2, 4, 4}[w]) // B-LOC -> I-LOC
			default:
				want[k] = -100
			}
			prev = w
		}
		for k := range seq {
			want[seq+k] = -100
		}
		want[seq+1] = 1 // [CLS] Ann [SEP] pad...
		if got := b.Target.I64(); !slices.Equal(got, want) {
			t.Errorf("label all %v: target %v, want %v (word ids %v)", all, got, want, wid)
		}
	}
	s, err := NewTokenSource(d, tok, []string{"input_ids"}, labels, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Batch([]int{0})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Target.I64(); !slices.Equal(got, []int64{-100, 0, -100}) {
		t.Errorf("max length 3: target %v, want [-100 0 -100]", got)
	}
	if _, err := NewTokenSource(d, tok, []string{"input_ids"}, []string{"O", "B-LOC"}, 0, false); err == nil || !strings.Contains(err.Error(), "x.conll:5") {
		t.Errorf("a tag outside the labels: error %v, want one naming x.conll:5", err)
	}
}

// TestTokenScorer: predictions from logits, -100 positions dropped, scored
// as seqeval does (figures derived by hand), and POS tags get accuracy only.
func TestTokenScorer(t *testing.T) {
	labels := []string{"O", "B-PER", "I-PER"}
	// one batch of 2 rows, 3 positions, 3 labels; targets with -100
	onehot := func(ids ...int) []float32 {
		v := make([]float32, 0, 3*len(ids))
		for _, k := range ids {
			r := []float32{0, 0, 0}
			r[k] = 1
			v = append(v, r...)
		}
		return v
	}
	outs := [][]float32{onehot(0, 1, 2), onehot(1, 0, 0)}
	targets := []*tensor.Tensor{tensor.New([]int{2, 3}, []int64{-100, 1, 2, -100, 1, 1})}
	s := &TokenScorer{Labels: labels}
	m, err := s.Metrics(outs, targets)
	if err != nil {
		t.Fatal(err)
	}
	// gold [B-PER I-PER] [B-PER B-PER]: 3 entities; pred [B-PER I-PER] [O O]:
	// 1 entity, correct. P 1, R 1/3, F1 0.5; accuracy 2/4.
	want := map[string]float64{"precision": 1, "recall": 1.0 / 3, "f1": 0.5, "accuracy": 0.5}
	for k, v := range want {
		if math.Abs(m[k]-v) > 1e-12 {
			t.Errorf("%s = %g, want %g", k, m[k], v)
		}
	}
	if s.Last == nil || len(s.Last.Types) != 1 || s.Last.Types[0].Type != "PER" {
		t.Errorf("report %+v", s.Last)
	}
	pos := &TokenScorer{Labels: []string{"NOUN", "VERB", "DET"}}
	m, err = pos.Metrics(outs, targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || math.Abs(m["accuracy"]-0.5) > 1e-12 {
		t.Errorf("POS metrics %v, want accuracy 0.5 only", m)
	}
	for _, c := range []struct {
		labels []string
		want   bool
	}{{labels, true}, {[]string{"O", "S-LOC", "E-X"}, true}, {[]string{"NOUN", "-LRB-"}, false}, {[]string{"O"}, false}, {[]string{"B-X", "ADJ"}, false}} {
		if got := IsEntityTagSet(c.labels); got != c.want {
			t.Errorf("IsEntityTagSet(%v) = %v", c.labels, got)
		}
	}
}

// TestTokenClassFESafetensors: the per-token head added to a
// feature-extraction export is saved in *ForTokenClassification's layout
// (encoder under its base_model_prefix, classifier.* beside it); with
// FT_PYTHON set, transformers' AutoModelForTokenClassification loads it
// (no newly initialised weights) and gives the logits of ft's ONNX save
// under ONNX Runtime within 1e-4.
func TestTokenClassFESafetensors(t *testing.T) {
	m, err := LoadModel(filepath.Join("..", "testmodels", "fixtures", "bert-fe"), ModelOptions{Labels: []string{"O", "B-X", "I-X"}, TokenClassification: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	st, ox := t.TempDir(), t.TempDir()
	if err := m.SaveSafetensors(st); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(ox); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(st, SafetensorsFile))
	if err != nil {
		t.Fatal(err)
	}
	n := int(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	for k := range header {
		if k != "__metadata__" && !strings.HasPrefix(k, "bert.") && !strings.HasPrefix(k, "classifier.") {
			t.Errorf("safetensors key %q: want bert.* or classifier.*", k)
		}
	}
	if header["classifier.weight"] == nil || header["bert.embeddings.word_embeddings.weight"] == nil {
		t.Fatalf("keys %v", len(header))
	}
	py := testfixture.Python(t, "torch", "transformers", "onnx", "onnxruntime")
	script := `
import sys, warnings
import numpy as np, onnx, onnxruntime as ort, torch, transformers as tf
from onnx import numpy_helper
from transformers.utils import logging
logging.set_verbosity_error()
st, ox, ds = sys.argv[1:4]
m, info = tf.AutoModelForTokenClassification.from_pretrained(st, output_loading_info=True)
m.eval()
sess = ort.InferenceSession(ox + "/model.onnx", providers=["CPUExecutionProvider"])
feed = {i.name: numpy_helper.to_array(onnx.load_tensor(f"{ds}/input_{j}.pb")) for j, i in enumerate(sess.get_inputs())}
b = sess.run(["logits"], feed)[0]
with torch.no_grad():
    a = m(**{k: torch.from_numpy(v) for k, v in feed.items()}).logits.numpy()
print(type(m).__name__, len(info["missing_keys"]), len(info["unexpected_keys"]), float(np.abs(a - b).max()))
`
	ds, _ := filepath.Abs(filepath.Join("..", "testmodels", "fixtures", "bert-fe", "test_data_set_0"))
	out, err := exec.Command(py, "-c", script, st, ox, ds).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var class string
	var missing, unexpected int
	var diff float64
	if _, err := fmt.Sscan(lines[len(lines)-1], &class, &missing, &unexpected, &diff); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("%s: %d missing, %d unexpected keys, max |torch - ORT| = %.3g", class, missing, unexpected, diff)
	if class != "BertForTokenClassification" || missing != 0 || unexpected != 0 || !(diff <= 1e-4) {
		t.Errorf("transformers loads %s with %d missing and %d unexpected keys, logits off by %g", class, missing, unexpected, diff)
	}
}
