package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// regressionData writes a TSV of SST-2 sentences with fractional targets
// (0.2 for negative, 0.8 for positive): ft detects regression.
func regressionData(t *testing.T, dir string, rows int) string {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	f, err := os.Open(filepath.Join(root, "internal/bundled/sst2-sample/test.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	b.WriteString("sentence\tlabel\n")
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for n := 0; n < rows && sc.Scan(); n++ {
		text, label, _ := strings.Cut(sc.Text(), "\t")
		v := 0.2
		if label == "1" {
			v = 0.8
		}
		fmt.Fprintf(&b, "%s\t%g\n", text, v)
	}
	p := filepath.Join(dir, "reg.tsv")
	os.WriteFile(p, []byte(b.String()), 0o644)
	return p
}

// feFolder is the bert-fe fixture (a feature-extraction export, vocabulary
// 256) with the bundled tokenizer cut to its first 256 ids.
func feFolder(t *testing.T) string {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	dir := t.TempDir()
	for _, f := range []string{"model.onnx", "config.json"} {
		b, err := os.ReadFile(filepath.Join(root, "testmodels/fixtures/bert-fe", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	b, err := os.ReadFile(filepath.Join(root, "internal/bundled/tiny-bert/tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), b, 0o644)
	b, err = os.ReadFile(filepath.Join(root, "internal/bundled/tiny-bert/tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tj map[string]any
	if err := json.Unmarshal(b, &tj); err != nil {
		t.Fatal(err)
	}
	vocab := tj["model"].(map[string]any)["vocab"].(map[string]any)
	for k, v := range vocab {
		if v.(float64) >= 256 {
			delete(vocab, k)
		}
	}
	b, _ = json.Marshal(tj)
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644)
	return dir
}

// TestRunRegression: fractional labels train a regression model (one
// output, MSE) from a text-classification export (its 2-wide head is
// replaced) and from a feature-extraction export (a head is added): the
// loss goes down, evaluation reports mse and Spearman's rho, the export's
// config.json says problem_type regression, and ft predict prints the value.
func TestRunRegression(t *testing.T) {
	data := regressionData(t, t.TempDir(), 64)
	for _, c := range []struct{ name, model string }{
		{"text-classification", "internal/bundled/tiny-bert"},
		{"feature-extraction", feFolder(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			code, stdout, errs := runIn(t, "run", "--model", c.model, "--train", data, "--eval", data, "--max-steps", "24",
				"--per-device-train-batch-size", "16", "--learning-rate", "1e-3", "--logging-steps", "1", "--max-length", "32", "--output-dir", out)
			if code != 0 {
				t.Fatalf("exit %d: %s\n%s", code, errs, stdout)
			}
			if !strings.Contains(stdout, "regression") || !strings.Contains(stdout, "mse ") || !strings.Contains(stdout, "spearmanr ") {
				t.Fatalf("output:\n%s", stdout)
			}
			b, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			var losses []float64
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var r map[string]any
				json.Unmarshal([]byte(line), &r)
				if l, ok := r["loss"].(float64); ok {
					if _, eval := r["eval_loss"]; !eval {
						losses = append(losses, l)
					}
				}
			}
			if len(losses) < 20 {
				t.Fatalf("%d loss records", len(losses))
			}
			// the first steps against the last ones (a batch's loss is noisy)
			mean := func(l []float64) float64 {
				s := 0.0
				for _, v := range l {
					s += v
				}
				return s / float64(len(l))
			}
			if a, z := mean(losses[:4]), mean(losses[len(losses)-4:]); !(z < a) {
				t.Fatalf("MSE did not go down: first steps %.4f, last %.4f", a, z)
			}
			var cfg map[string]any
			b, _ = os.ReadFile(filepath.Join(out, "model", "config.json"))
			json.Unmarshal(b, &cfg)
			if cfg["problem_type"] != "regression" || cfg["num_labels"] != 1.0 {
				t.Fatalf("config.json: problem_type %v, num_labels %v", cfg["problem_type"], cfg["num_labels"])
			}
			code, pred, errs := runIn(t, "predict", "--model", filepath.Join(out, "model"), "a fine film")
			if code != 0 {
				t.Fatal(errs)
			}
			var p struct {
				Label string   `json:"label"`
				Score *float64 `json:"score"`
			}
			if err := json.Unmarshal([]byte(pred), &p); err != nil || p.Score == nil || p.Label != "LABEL_0" {
				t.Fatalf("predict: %s (%v)", pred, err)
			}
		})
	}
}
