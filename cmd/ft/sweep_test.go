package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"ft/finetune"

	"ft/sweep"
)

// sweepData writes small SST-2 samples (the first rows of the bundled ones).
func sweepData(t *testing.T, dir string, nTrain, nEval int) (train, eval string) {
	t.Helper()
	head := func(src, dst string, n int) {
		b, err := os.ReadFile(filepath.Join("..", "..", "internal", "bundled", "sst2-sample", src))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(b), "\n")
		if err := os.WriteFile(dst, []byte(strings.Join(lines[:n+1], "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	train, eval = filepath.Join(dir, "train.tsv"), filepath.Join(dir, "eval.tsv")
	head("train.tsv", train, nTrain)
	head("test.tsv", eval, nEval)
	return train, eval
}

// lastEval returns the last evaluation of a metrics.jsonl (eval_ prefix
// dropped).
func lastEval(t *testing.T, path string) map[string]float64 {
	t.Helper()
	recs, err := finetune.ReadMetricsLog(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if _, ok := recs[i].Values["eval_loss"]; ok {
			m := map[string]float64{}
			for k, v := range recs[i].Values {
				m[strings.TrimPrefix(k, "eval_")] = v
			}
			return m
		}
	}
	t.Fatalf("%s has no evaluation", path)
	return nil
}

// TestSweepFourLearningRates is the acceptance check: ft sweep over 4
// learning rates on the tiny BERT with an SST-2 sample, stopped after two
// trials (--max-trials 2) and resumed, writes the results table, lr.png and
// best.yaml; ft run --config best.yaml reproduces the best trial's eval
// metrics exactly (training is deterministic, and the sweep's once-tokenized
// batches equal ft run's). A trial run alone gives the same metrics as the
// same trial run after three others: no weights leak between trials.
func TestSweepFourLearningRates(t *testing.T) {
	dir := t.TempDir()
	train, eval := sweepData(t, dir, 320, 160)
	out := filepath.Join(dir, "sweep")
	base := []string{"sweep", "--model", "internal/bundled/tiny-bert", "--train", train, "--eval", eval,
		"--num-train-epochs", "1", "--batch-size", "16", "--max-length", "32", "--warmup-ratio", "0.1",
		"--eval-strategy", "steps", "--eval-steps", "10", // ft run logs the last evaluation in full precision
		"--freeze", "embeddings", "--seed", "7", "--metric-for-best-model", "loss",
		"--sweep-learning-rate", "1e-4,1e-3,3e-3,1e-2", "--output-dir", out}
	stdout, results := sweepStopAndResume(t, base, out)
	checkSweepFiles(t, out, results)
	checkSweepTable(t, out, stdout)
	checkBestYAMLReproduces(t, out, results)
	checkTrialAlone(t, filepath.Join(dir, "alone"), base, results)

	// resuming with another base configuration is refused
	code, _, stderr := runIn(t, append(base, "--max-length", "64")...)
	if code == 0 || !strings.Contains(stderr, "max_length") || !strings.Contains(stderr, "--output-dir") {
		t.Errorf("resume with another --max-length: exit %d, %s", code, stderr)
	}
}

// sweepStopAndResume runs the sweep stopped after two trials, then resumes
// it; it returns the second run's stdout and the four trials' results.
func sweepStopAndResume(t *testing.T, base []string, out string) (string, []sweep.TrialResult) {
	t.Helper()
	code, stdout, stderr := runIn(t, append(base, "--max-trials", "2")...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	logPath := filepath.Join(out, "sweep.jsonl")
	firstRun, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(firstRun), "\n"); n != 2 {
		t.Fatalf("after --max-trials 2: %d trials in sweep.jsonl", n)
	}
	code, stdout, stderr = runIn(t, base...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	if !strings.Contains(stdout, "resuming: 2 trials") || strings.Count(stdout, "\ntrial ") != 2 {
		t.Errorf("the second run did not resume after the 2 finished trials:\n%s", stdout)
	}
	all, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(all), string(firstRun)) {
		t.Error("resuming rewrote the finished trials")
	}
	results, err := sweep.ReadLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 4 {
		t.Fatalf("%d trials, want 4", len(results))
	}
	return stdout, results
}

// checkSweepFiles checks that every trial succeeded with its own learning
// rate and that trials wrote their metrics only: no model, no checkpoint.
func checkSweepFiles(t *testing.T, out string, results []sweep.TrialResult) {
	t.Helper()
	lrs := map[float64]bool{}
	for _, r := range results {
		if r.Error != "" {
			t.Fatalf("trial %d failed: %s", r.Number, r.Error)
		}
		lrs[r.Params["learning_rate"]] = true
	}
	// trials write their metrics only: no model, no checkpoint
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch rel, _ := filepath.Rel(out, path); {
		case d.IsDir() && (rel == "." || strings.HasPrefix(rel, "trial-")):
		case !d.IsDir() && (rel == "sweep.jsonl" || rel == "base.json" || rel == "results.md" || rel == "lr.png" || rel == "best.yaml" || rel == finetune.OutputMarker):
		case !d.IsDir() && strings.HasPrefix(rel, "trial-") && filepath.Base(rel) == "metrics.jsonl":
		default:
			t.Errorf("the sweep wrote %s", rel)
		}
		return nil
	})
	if len(lrs) != 4 {
		t.Errorf("learning rates tried: %v", lrs)
	}
}

// checkSweepTable checks results.md (best first by eval loss, as printed)
// and lr.png.
func checkSweepTable(t *testing.T, out, stdout string) {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	for _, line := range strings.Split(string(md), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) == 5 && cells[0] != "rank" && !strings.HasPrefix(cells[0], "---") {
			var v float64
			if err := json.Unmarshal([]byte(cells[3]), &v); err != nil {
				t.Fatalf("results.md row %q: %v", line, err)
			}
			losses = append(losses, v)
		}
	}
	if len(losses) != 4 || !(losses[0] <= losses[1] && losses[1] <= losses[2] && losses[2] <= losses[3]) {
		t.Errorf("results.md is not 4 trials sorted by loss:\n%s", md)
	}
	if !strings.Contains(stdout, string(md[strings.Index(string(md), "| rank"):])) {
		t.Error("the printed table differs from results.md")
	}
	fh, err := os.Open(filepath.Join(out, "lr.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bufio.NewReader(fh))
	fh.Close()
	if err != nil || img.Bounds().Dx() < 400 {
		t.Fatalf("lr.png: %v", err)
	}
}

// checkBestYAMLReproduces checks that best.yaml is an ft run config that
// reproduces the best trial's eval metrics exactly.
func checkBestYAMLReproduces(t *testing.T, out string, results []sweep.TrialResult) {
	t.Helper()
	best, ok := sweep.BestTrial(results, "loss", false)
	if !ok {
		t.Fatal("no best trial")
	}
	bestPath := filepath.Join(out, "best.yaml")
	b, err := os.ReadFile(bestPath)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("best.yaml: %v\n%s", err, b)
	}
	if cfg["learning_rate"] != best.Params["learning_rate"] || cfg["max_length"] != 32 || cfg["seed"] != 7 {
		t.Errorf("best.yaml does not hold the best trial's settings (lr %v):\n%s", best.Params["learning_rate"], b)
	}
	code, stdout, stderr := runIn(t, "run", "--config", bestPath)
	if code != 0 {
		t.Fatalf("ft run --config best.yaml: exit %d: %s\n%s", code, stderr, stdout)
	}
	again := lastEval(t, filepath.Join(out, "best", "metrics.jsonl"))
	for _, k := range []string{"loss", "accuracy", "f1_macro"} {
		if again[k] != best.Metrics[k] {
			t.Errorf("ft run --config best.yaml: eval %s %v, the sweep's trial %d had %v", k, again[k], best.Number, best.Metrics[k])
		}
	}
	if trialEval := lastEval(t, filepath.Join(out, "trial-00"+string(rune('0'+best.Number)), "metrics.jsonl")); trialEval["loss"] != best.Metrics["loss"] {
		t.Errorf("trial metrics.jsonl eval loss %v, sweep.jsonl %v", trialEval["loss"], best.Metrics["loss"])
	}
}

// checkTrialAlone checks that trial 3, which ran after three others,
// scores the same run alone (in folder alone): no weights leak between
// trials.
func checkTrialAlone(t *testing.T, alone string, base []string, results []sweep.TrialResult) {
	t.Helper()
	var last sweep.TrialResult
	for _, r := range results {
		if r.Number == 3 {
			last = r
		}
	}
	args := append([]string(nil), base...)
	for i := range args {
		if args[i] == "--sweep-learning-rate" {
			args[i+1] = jsonNumber(last.Params["learning_rate"])
		}
		if args[i] == "--output-dir" {
			args[i+1] = alone
		}
	}
	if code, stdout, stderr := runIn(t, args...); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	solo, err := sweep.ReadLog(filepath.Join(alone, "sweep.jsonl"))
	if err != nil || len(solo) != 1 {
		t.Fatalf("%v, %d trials", err, len(solo))
	}
	if solo[0].Metrics["loss"] != last.Metrics["loss"] || solo[0].Metrics["accuracy"] != last.Metrics["accuracy"] {
		t.Errorf("learning rate %v: eval loss %v after three other trials, %v alone: weights leak between trials",
			last.Params["learning_rate"], last.Metrics["loss"], solo[0].Metrics["loss"])
	}
}

func jsonNumber(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSweepConfigSection: the sweep settings can come from a sweep: section
// of the --config file (flags override it); --dry-run prints the plan.
func TestSweepConfigSection(t *testing.T) {
	dir := t.TempDir()
	train, eval := sweepData(t, dir, 40, 20)
	cfg := filepath.Join(dir, "sweep.yaml")
	os.WriteFile(cfg, []byte("model: internal/bundled/tiny-bert\ntrain: "+train+"\neval: "+eval+"\nmax_steps: 2\n"+
		"sweep:\n  learning_rate: [1e-4, 1e-3]\n  per_device_train_batch_size: [8, 16]\n  method: grid\n  max_trials: 3\n"), 0o644)
	code, stdout, stderr := runIn(t, "sweep", "--config", cfg, "--dry-run", "--output-dir", filepath.Join(dir, "out"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "grid search, 3 trials:\n" +
		"  learning_rate=0.0001 per_device_train_batch_size=8\n" +
		"  learning_rate=0.0001 per_device_train_batch_size=16\n" +
		"  learning_rate=0.001 per_device_train_batch_size=8\n"
	if !strings.Contains(stdout, want) {
		t.Errorf("plan not printed as\n%s\ngot:\n%s", want, stdout)
	}
	code, stdout, stderr = runIn(t, "sweep", "--config", cfg, "--dry-run", "--method", "random", "--max-trials", "5", "--sweep-learning-rate", "log:1e-5:1e-3")
	if code != 0 || !strings.Contains(stdout, "random search, 5 trials:") {
		t.Errorf("flags over the config: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("--dry-run wrote the output folder")
	}
}

// TestSweepRandomSavesModels: a random search draws its learning rates
// from the range, and --save-trial-models keeps each trial's export.
func TestSweepRandomSavesModels(t *testing.T) {
	dir := t.TempDir()
	train, eval := sweepData(t, dir, 40, 20)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runIn(t, "sweep", "--model", "internal/bundled/tiny-bert", "--train", train, "--eval", eval,
		"--max-steps", "2", "--batch-size", "8", "--method", "random", "--max-trials", "2",
		"--sweep-learning-rate", "log:1e-4:1e-2", "--save-trial-models", "--output-dir", out)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	results, err := sweep.ReadLog(filepath.Join(out, "sweep.jsonl"))
	if err != nil || len(results) != 2 {
		t.Fatalf("%v, %d trials", err, len(results))
	}
	a, b := results[0].Params["learning_rate"], results[1].Params["learning_rate"]
	if a == b || a < 1e-4 || a > 1e-2 || b < 1e-4 || b > 1e-2 {
		t.Errorf("drawn learning rates %v, %v", a, b)
	}
	for _, n := range []string{"trial-000", "trial-001"} {
		if _, err := os.Stat(filepath.Join(out, n, "model", "model.onnx")); err != nil {
			t.Errorf("--save-trial-models: %v", err)
		}
	}
	// progress numbers the trials as results.md and trial-N/ (issue 22, 9)
	for i, r := range results {
		if !strings.Contains(stdout, fmt.Sprintf("trial %d (%d/2)", r.Number, i+1)) {
			t.Errorf("progress does not name trial %d as the results do:\n%s", r.Number, stdout)
		}
	}
	if !strings.Contains(stdout, fmt.Sprintf("best: trial %d,", results[0].Number)) && !strings.Contains(stdout, fmt.Sprintf("best: trial %d,", results[1].Number)) {
		t.Errorf("no best trial:\n%s", stdout)
	}
}

func TestSweepBadInput(t *testing.T) {
	dir := t.TempDir()
	train, eval := sweepData(t, dir, 40, 20)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	m := []string{"--model", "internal/bundled/tiny-bert", "--train", train, "--eval", eval, "--output-dir", filepath.Join(dir, "out")}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"nothing swept", m, []string{"nothing to sweep", "--sweep-learning-rate"}},
		{"no eval", []string{"--model", "internal/bundled/tiny-bert", "--train", train, "--sweep-learning-rate", "1e-3"}, []string{"--eval"}},
		{"range in a grid", append(m, "--sweep-learning-rate", "log:1e-5:1e-3"), []string{"learning_rate is a range", "random"}},
		{"bad list", append(m, "--sweep-learning-rate", "1e-5,fast"), []string{"--sweep-learning-rate", `"fast"`}},
		{"fractional batch", append(m, "--sweep-batch-size", "8,12.5"), []string{"--sweep-batch-size", "integers"}},
		{"epochs with max steps", append(m, "--max-steps", "5", "--sweep-num-train-epochs", "1,2"), []string{"--sweep-num-train-epochs", "--max-steps"}},
		{"unknown method", append(m, "--sweep-learning-rate", "1e-3", "--method", "bayes"), []string{"bayes", "grid or random"}},
		{"unknown sweep key", append(m, "--config", write("bad.yaml", "sweep:\n  learning_rat: [1e-3]\n")), []string{"bad.yaml", "learning_rat", "learning_rate"}},
		{"sweep not a map", append(m, "--config", write("bad2.yaml", "sweep: 1e-3\n")), []string{"bad2.yaml", "sweep:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runIn(t, append([]string{"sweep"}, c.args...)...)
			msg := strings.TrimSpace(stderr)
			if code == 0 || strings.Contains(msg, "\n") {
				t.Fatalf("exit %d, want a one-line error: %s", code, msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a refused sweep wrote its output folder")
	}
}
