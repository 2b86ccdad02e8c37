package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ft/npy"
)

// embedModel copies the bert-fe fixture and the embed-train tokenizer into
// a folder: a feature-extraction export with a tokenizer.
func embedModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for src, names := range map[string][]string{
		filepath.Join("..", "..", "testmodels", "fixtures", "bert-fe"):                  {"model.onnx", "config.json"},
		filepath.Join("..", "..", "testmodels", "fixtures", "embed-train", "tokenizer"): {"tokenizer.json", "tokenizer_config.json"},
	} {
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(src, n))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

const stsTSV = `sentence1	sentence2	score	source
a dog is running on the grass	a dog runs on grass	4.5	images
two people are sitting at a table	people sit near a table	3.5	images
a man is riding a bike down the street	the man rides a bike	4	images
a cat is sitting in the snow	a white cat in snow	3	images
a woman is eating	a boy is playing with a ball	0.25	images
three horses in a field	the horse is red	1.5	images
a girl on the beach	a young girl at the beach	4.25	images
a car on the street	water and snow	0	images
`

func runFT(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("ft %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

func readJSONLEmbeddings(t *testing.T, s string) [][]float64 {
	t.Helper()
	var rows [][]float64
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var r struct {
			Embedding []float64 `json:"embedding"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		rows = append(rows, r.Embedding)
	}
	return rows
}

// TestRunSentenceSimilarity: ft run finds the task and CoSENTLoss from the
// columns, chooses the best model on spearman_cosine and writes a
// sentence-transformers folder; ft eval, ft embed (JSON lines and .npy) and
// ft export of the best checkpoint agree with it.
func TestRunSentenceSimilarity(t *testing.T) {
	model := embedModel(t)
	work := t.TempDir()
	data := filepath.Join(work, "sts.tsv")
	if err := os.WriteFile(data, []byte(stsTSV), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "run")
	log := runFT(t, "run", "--model", model, "--train", data, "--eval", data, "--score-scale", "5", "--batch-size", "4",
		"--learning-rate", "1e-3", "--num-train-epochs", "2", "--normalize", "true", "--output-dir", out)
	for _, want := range []string{"loss   CoSENTLoss", "spearman_cosine", "sentence-transformers folder"} {
		if !strings.Contains(log, want) {
			t.Fatalf("ft run output lacks %q:\n%s", want, log)
		}
	}
	for _, f := range []string{"modules.json", "1_Pooling/config.json", "onnx/model.onnx", "model.safetensors", "tokenizer.json", "config_sentence_transformers.json", "sentence_bert_config.json"} {
		if _, err := os.Stat(filepath.Join(out, "model", f)); err != nil {
			t.Fatalf("model/%s: %v", f, err)
		}
	}
	ev := runFT(t, "eval", "--model", filepath.Join(out, "model"), "--eval", data, "--score-scale", "5")
	if !strings.Contains(ev, `"spearman_cosine"`) {
		t.Fatalf("ft eval: %s", ev)
	}
	texts := []string{"a dog runs on the beach", "two men"}
	emb := readJSONLEmbeddings(t, runFT(t, append([]string{"embed", filepath.Join(out, "model")}, texts...)...))
	if len(emb) != 2 || len(emb[0]) != 32 {
		t.Fatalf("ft embed gave %d rows", len(emb))
	}
	for _, r := range emb { // modules.json has Normalize
		n := 0.0
		for _, v := range r {
			n += v * v
		}
		if math.Abs(n-1) > 1e-5 {
			t.Fatalf("embedding norm² %g, want 1 (Normalize)", n)
		}
	}
	npyPath := filepath.Join(work, "e.npy")
	tf := filepath.Join(work, "texts.txt")
	os.WriteFile(tf, []byte(strings.Join(texts, "\n")+"\n"), 0o644)
	runFT(t, "embed", filepath.Join(out, "model"), "--file", tf, "--output", npyPath)
	x, err := npy.ReadFile(npyPath)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x.F32() {
		if float64(v) != float64(float32(emb[i/32][i%32])) {
			t.Fatalf(".npy [%d] = %g, JSON %g", i, v, emb[i/32][i%32])
		}
	}
	// the run's model/ holds the best weights: ft export --best gives them again
	exp := filepath.Join(work, "export")
	runFT(t, "export", "--checkpoint", out, "--best", "--output-dir", exp)
	emb2 := readJSONLEmbeddings(t, runFT(t, append([]string{"embed", exp}, texts...)...))
	for i := range emb {
		for j := range emb[i] {
			if emb[i][j] != emb2[i][j] {
				t.Fatalf("export [%d][%d] = %g, run's model/ %g", i, j, emb2[i][j], emb[i][j])
			}
		}
	}
}

// TestSweepSentenceSimilarity: ft sweep ranks sentence-similarity trials by
// spearman_cosine.
func TestSweepSentenceSimilarity(t *testing.T) {
	model := embedModel(t)
	work := t.TempDir()
	data := filepath.Join(work, "sts.tsv")
	if err := os.WriteFile(data, []byte(stsTSV), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runFT(t, "sweep", "--model", model, "--train", data, "--eval", data, "--score-scale", "5", "--batch-size", "4",
		"--num-train-epochs", "1", "--sweep-learning-rate", "1e-4,1e-3", "--output-dir", filepath.Join(work, "sweep"))
	if !strings.Contains(out, "| learning_rate | spearman_cosine |") || !strings.Contains(out, "best: trial") {
		t.Fatalf("ft sweep output:\n%s", out)
	}
}
