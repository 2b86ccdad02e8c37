package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ft/internal/testfixture"
)

// The token-classification fixture with a tokenizer
// (testmodels/make_tokcls_fixtures.py tiny) and a small CoNLL data set.
const (
	tokTiny  = "testmodels/fixtures/tokcls-tiny"
	tokTrain = "cmd/ft/testdata/ner/train.conll"
	tokDev   = "cmd/ft/testdata/ner/dev.conll"
)

var f1Re = regexp.MustCompile(`\bf1 ([0-9.]+)`)

// TestTokenRunEval: a .conll training file makes ft run a token-classification
// run (detected without --task), which evaluates with seqeval's figures,
// exports model/ with the tags as id2label; ft eval on that export gives the
// run's last figures and prints the per-type table.
func TestTokenRunEval(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runIn(t, "run", "--model", tokTiny, "--train", tokTrain, "--eval", tokDev,
		"--num-train-epochs", "3", "--learning-rate", "1e-3", "--batch-size", "8", "--output-dir", dir, "--export-model", "last")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	if !strings.Contains(out, "(token-classification,") || !strings.Contains(out, "5 tags") {
		t.Fatalf("not a token-classification run:\n%s", out)
	}
	m := f1Re.FindAllStringSubmatch(out, -1)
	if len(m) < 3 {
		t.Fatalf("no f1 in the evaluations:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ID2Label map[string]string `json:"id2label"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.ID2Label) != 5 || cfg.ID2Label["1"] != "B-PER" {
		t.Errorf("exported id2label %v: want the fixture's (its head kept)", cfg.ID2Label)
	}
	code, eout, errs := runIn(t, "eval", "--model", filepath.Join(dir, "model"), "--eval", tokDev)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	em := f1Re.FindStringSubmatch(eout)
	if em == nil || em[1] != m[len(m)-1][1] {
		t.Errorf("ft eval f1 %v, the run's last evaluation %v\n%s", em, m[len(m)-1], eout)
	}
	for _, want := range []string{"precision    recall  f1-score   support", "PER", "LOC", "micro avg", "weighted avg"} {
		if !strings.Contains(out, want) {
			t.Errorf("ft run output lacks %q:\n%s", want, out)
		}
		if !strings.Contains(eout, want) {
			t.Errorf("ft eval output lacks %q:\n%s", want, eout)
		}
	}
	// a sequence classifier cannot tag tokens
	code, _, errs = runIn(t, "run", "--model", "internal/bundled/tiny-bert", "--train", tokTrain, "--output-dir", t.TempDir())
	if code != 1 || !strings.Contains(errs, "sequence-classification export") {
		t.Errorf("token data on a sequence classifier: exit %d: %s", code, errs)
	}
	code, _, errs = runIn(t, "run", "--model", tokTiny, "--train", tokTrain, "--task", "ner", "--output-dir", t.TempDir())
	if code != 1 || !strings.Contains(errs, "--task") {
		t.Errorf("--task ner: exit %d: %s", code, errs)
	}
}

// TestTokenPredictMatchesPipeline: ft predict's entities equal transformers'
// token-classification pipeline on the same model (pipeline.json, made by
// make_tokcls_fixtures.py) for every aggregation strategy: labels, words and
// character offsets exactly, scores within 1e-5.
func TestTokenPredictMatchesPipeline(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", tokTiny, "pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	type ent struct {
		Entity      string  `json:"entity"`
		EntityGroup string  `json:"entity_group"`
		Score       float64 `json:"score"`
		Word        string  `json:"word"`
		Start       int     `json:"start"`
		End         int     `json:"end"`
		Index       *int    `json:"index"`
	}
	var oracle struct {
		Texts    []string           `json:"texts"`
		Entities map[string][][]ent `json:"entities"`
	}
	if err := json.Unmarshal(b, &oracle); err != nil {
		t.Fatal(err)
	}
	if len(oracle.Entities) != 5 {
		t.Fatalf("pipeline.json has %d strategies", len(oracle.Entities))
	}
	for strategy, want := range oracle.Entities {
		t.Run(strategy, func(t *testing.T) {
			code, out, errs := runIn(t, append([]string{"predict", "--model", tokTiny, "--aggregation-strategy", strategy}, oracle.Texts...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(want) {
				t.Fatalf("%d lines for %d texts", len(lines), len(want))
			}
			n := 0
			for i, l := range lines {
				var got struct {
					Text     string `json:"text"`
					Entities []ent  `json:"entities"`
				}
				if err := json.Unmarshal([]byte(l), &got); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				if got.Text != oracle.Texts[i] || len(got.Entities) != len(want[i]) {
					t.Errorf("text %d: %d entities, pipeline %d\nft:       %s\npipeline: %v", i, len(got.Entities), len(want[i]), l, want[i])
					continue
				}
				for k, g := range got.Entities {
					w := want[i][k]
					if g.Entity != w.Entity || g.EntityGroup != w.EntityGroup || g.Word != w.Word || g.Start != w.Start || g.End != w.End ||
						(w.Index == nil) != (g.Index == nil) || (w.Index != nil && *w.Index != *g.Index) || math.Abs(g.Score-w.Score) > 1e-5 {
						t.Errorf("text %d entity %d: ft %+v, pipeline %+v", i, k, g, w)
					}
					n++
				}
			}
			t.Logf("%s: %d entities equal the pipeline's", strategy, n)
		})
	}
}

// TestTokenResume: a token-classification run resumed from its first
// checkpoint ends with a model.onnx byte-identical to the uninterrupted
// run's.
func TestTokenResume(t *testing.T) {
	ref := t.TempDir()
	args := []string{"run", "--model", tokTiny, "--train", tokTrain, "--eval", tokDev, "--max-steps", "12", "--save-steps", "4",
		"--eval-strategy", "steps", "--eval-steps", "4", "--learning-rate", "1e-3", "--batch-size", "4", "--warmup-ratio", "0.2"}
	if code, out, errs := runIn(t, append(args, "--output-dir", ref)...); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	want, err := os.ReadFile(filepath.Join(ref, "model", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ck, err := os.ReadFile(filepath.Join(ref, "checkpoint-4.ftckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "checkpoint-4.ftckpt"), ck, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runIn(t, "run", "--resume", filepath.Join(dir, "checkpoint-4.ftckpt"))
	if code != 0 || !strings.Contains(out, "resumed from") {
		t.Fatalf("resume: exit %d: %s\n%s", code, errs, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "model", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("resumed at step 4: model.onnx differs from the uninterrupted run's")
	}
}

// TestTokenExportsLoadInTransformers (needs FT_PYTHON with torch,
// transformers, peft, onnxruntime): ft export --format safetensors loads
// with AutoModelForTokenClassification and gives the logits of ft's ONNX
// export; a LoRA run's PEFT adapter (task_type TOKEN_CLS) on the base model
// gives the logits of its merged ONNX export.
func TestTokenExportsLoadInTransformers(t *testing.T) {
	py := testfixture.Python(t, "torch", "transformers", "peft", "onnxruntime")
	full, lora, base := t.TempDir(), t.TempDir(), t.TempDir()
	common := []string{"--model", tokTiny, "--train", tokTrain, "--learning-rate", "1e-3", "--batch-size", "8"}
	if code, _, errs := runIn(t, append([]string{"run", "--max-steps", "5", "--output-dir", full}, common...)...); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	if code, _, errs := runIn(t, append([]string{"run", "--max-steps", "5", "--lora-r", "4", "--output-dir", lora}, common...)...); code != 0 {
		t.Fatalf("lora run: exit %d: %s", code, errs)
	}
	st := t.TempDir()
	if code, _, errs := runIn(t, "export", "--checkpoint", full, "--format", "safetensors", "--output-dir", st); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	// the base weights as a transformers folder: one step at learning rate
	// 1e-30, which leaves every weight as it is in float32 (0 would be the
	// default learning rate)
	if code, _, errs := runIn(t, append([]string{"run", "--max-steps", "1", "--output-dir", base}, append(common, "--learning-rate", "1e-30")...)...); code != 0 {
		t.Fatalf("base run: exit %d: %s", code, errs)
	}
	baseST := t.TempDir()
	if code, _, errs := runIn(t, "export", "--checkpoint", base, "--format", "safetensors", "--output-dir", baseST); code != 0 {
		t.Fatalf("base export: exit %d: %s", code, errs)
	}
	script := `
import json, sys
import numpy as np, onnxruntime as ort, torch, transformers as tf, peft
st, onnx_full, base, adapter, onnx_merged = sys.argv[1:6]
tok = tf.AutoTokenizer.from_pretrained(st)
enc = tok(["John Smith lives in New York .", "nothing happened"], padding=True, return_tensors="np")
feed = {k: v.astype(np.int64) for k, v in enc.items()}
def ortrun(p):
    s = ort.InferenceSession(p, providers=["CPUExecutionProvider"])
    return s.run(["logits"], {i.name: feed[i.name] for i in s.get_inputs()})[0]
m = tf.AutoModelForTokenClassification.from_pretrained(st).eval()
with torch.no_grad():
    a = m(**{k: torch.from_numpy(v) for k, v in feed.items()}).logits.numpy()
d1 = float(np.abs(a - ortrun(onnx_full)).max())
cfg = json.load(open(adapter + "/adapter_config.json"))
b = tf.AutoModelForTokenClassification.from_pretrained(base)
pm = peft.PeftModel.from_pretrained(b, adapter).eval()
with torch.no_grad():
    c = pm(**{k: torch.from_numpy(v) for k, v in feed.items()}).logits.numpy()
d2 = float(np.abs(c - ortrun(onnx_merged)).max())
print(json.dumps({"class": type(m).__name__, "safetensors": d1, "task_type": cfg["task_type"], "peft": d2}))
`
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	cmd := exec.Command(py, "-c", script, st, filepath.Join(full, "model", "model.onnx"), baseST, filepath.Join(lora, "peft-adapter"), filepath.Join(lora, "model", "model.onnx"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	var r struct {
		Class    string  `json:"class"`
		ST       float64 `json:"safetensors"`
		TaskType string  `json:"task_type"`
		PEFT     float64 `json:"peft"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("%+v", r)
	if r.Class != "BertForTokenClassification" || !(r.ST <= 1e-4) {
		t.Errorf("safetensors: %s, max |torch - ft ONNX| = %g", r.Class, r.ST)
	}
	if r.TaskType != "TOKEN_CLS" || !(r.PEFT <= 1e-4) {
		t.Errorf("PEFT: task_type %s, max |peft - merged ONNX| = %g", r.TaskType, r.PEFT)
	}
}

// TestTokenMetricNames: --metric-for-best-model takes the names run_ner.py's
// Trainer logs (eval_f1, or eval_overall_f1 with
// --return-entity-level-metrics) and the bare ones.
func TestTokenMetricNames(t *testing.T) {
	for _, c := range []struct {
		in          string
		entityLevel bool
		want        string
	}{
		{"f1", false, "f1"}, {"eval_f1", false, "f1"}, {"overall_f1", false, "f1"}, {"eval_overall_recall", false, "recall"},
		{"accuracy", false, "accuracy"}, {"loss", false, "loss"}, {"eval_loss", false, "loss"},
		{"f1", true, "overall_f1"}, {"eval_overall_f1", true, "overall_f1"}, {"eval_precision", true, "overall_precision"},
		{"PER_f1", true, "PER_f1"}, {"eval_LOC_recall", true, "LOC_recall"}, {"loss", true, "loss"},
	} {
		if got := tokenMetricName(c.in, c.entityLevel); got != c.want {
			t.Errorf("tokenMetricName(%q, %v) = %q, want %q", c.in, c.entityLevel, got, c.want)
		}
	}
	for _, args := range [][]string{
		{"--metric-for-best-model", "eval_overall_f1"},
		{"--metric-for-best-model", "eval_overall_f1", "--return-entity-level-metrics"},
		{"--metric-for-best-model", "eval_PER_f1", "--return-entity-level-metrics"},
	} {
		dir := t.TempDir()
		code, out, errs := runIn(t, append([]string{"run", "--model", tokTiny, "--train", tokTrain, "--eval", tokDev, "--max-steps", "4",
			"--eval-strategy", "steps", "--eval-steps", "2", "--batch-size", "8", "--learning-rate", "1e-3", "--load-best-model-at-end", "--output-dir", dir}, args...)...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s\n%s", args, code, errs, out)
		}
	}
	code, _, errs := runIn(t, "run", "--model", tokTiny, "--train", tokTrain, "--eval", tokDev, "--max-steps", "2", "--metric-for-best-model", "eval_bleu", "--output-dir", t.TempDir())
	if code != 1 || !strings.Contains(errs, "bleu") {
		t.Errorf("an unknown metric: exit %d: %s", code, errs)
	}
}

// TestTokenSweep: ft sweep runs token-classification trials (a regression
// test: it took every source for a text source and panicked) and ranks them
// by entity F1.
func TestTokenSweep(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runIn(t, "sweep", "--model", tokTiny, "--train", tokTrain, "--eval", tokDev, "--sweep-learning-rate", "1e-4,1e-3",
		"--num-train-epochs", "1", "--metric-for-best-model", "f1", "--output-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "| f1 |") || strings.Count(string(b), "\n| ") < 3 {
		t.Errorf("results.md:\n%s", b)
	}
}

// TestTokenDataFormats: JSON lines {"tokens", "tags"} and CoNLL-U (UPOS, or
// XPOS with --tag-column xpos) train too; tags other than the export's
// id2label replace its head (a note says so) and part-of-speech tags are
// scored by accuracy alone.
func TestTokenDataFormats(t *testing.T) {
	dir := t.TempDir()
	jl := filepath.Join(dir, "train.jsonl")
	if err := os.WriteFile(jl, []byte(`{"tokens": ["Mary", "lives", "in", "Paris"], "tags": ["B-PER", "O", "O", "B-LOC"]}
{"tokens": ["John", "Smith", "left"], "tags": ["B-PER", "I-PER", "O"]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cu := filepath.Join(dir, "train.conllu")
	if err := os.WriteFile(cu, []byte("# text = Mary lives here.\n1\tMary\tMary\tPROPN\tNNP\t_\t2\tnsubj\t_\t_\n2\tlives\tlive\tVERB\tVBZ\t_\t0\troot\t_\t_\n3\there\there\tADV\tRB\t_\t2\tadvmod\t_\tSpaceAfter=No\n4\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--train", jl, "--eval", jl}, []string{"jsonl, 2 sentences", "f1 "}},
		{[]string{"--train", cu, "--eval", cu}, []string{"4 tags (column upos)", "classifier is replaced by a new one for 4 labels [ADV PROPN PUNCT VERB]", "accuracy "}},
		{[]string{"--train", cu, "--eval", cu, "--tag-column", "xpos", "--label-all-tokens"}, []string{"4 tags (column xpos)", "[. NNP RB VBZ]"}},
	} {
		code, out, errs := runIn(t, append([]string{"run", "--model", tokTiny, "--max-steps", "2", "--output-dir", t.TempDir(), "--export-model", "none"}, c.args...)...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s\n%s", c.args, code, errs, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, out)
			}
		}
		if strings.Contains(c.args[1], "conllu") && strings.Contains(out, "f1 ") {
			t.Errorf("%v: part-of-speech tags scored with entity F1:\n%s", c.args, out)
		}
	}
}
