package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runIn runs the CLI from the repository root (where the bundled model lives).
func runIn(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(filepath.Join("..", "..")); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunHelpExplainsEveryFlag(t *testing.T) {
	code, _, help := runIn(t, "run", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	f := newRunFlags("run", &bytes.Buffer{})
	f.fs.VisitAll(func(fl *flag.Flag) {
		if !strings.Contains(help, "-"+fl.Name) || len(fl.Usage) < 10 {
			t.Errorf("flag --%s is not explained in ft run --help", fl.Name)
		}
	})
}

func TestRunBadInputOneLineErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	good := write("good.tsv", "sentence\tlabel\na fine film\t1\na dull film\t0\n")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"wrong column", []string{"--train", write("cols.tsv", "review\tlabel\ngood\t1\n"), "--text-column", "text"}, []string{"text", "review"}},
		{"empty file", []string{"--train", write("empty.tsv", "")}, []string{"empty"}},
		{"unknown label", []string{"--train", good, "--eval", write("eval.tsv", "sentence\tlabel\nok\t7\n")}, []string{"eval.tsv:2", "7"}},
		{"missing file", []string{"--train", filepath.Join(dir, "nope.tsv")}, []string{"nope.tsv"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"run", "--model", "internal/bundled/tiny-bert", "--output-dir", t.TempDir(), "--max-steps", "1"}, c.args...)
			code, _, stderr := runIn(t, args...)
			if code == 0 {
				t.Fatal("no error")
			}
			msg := strings.TrimSpace(stderr)
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("error is not one line:\n%s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestRunBundledDemoShort(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runIn(t, "run", "--max-steps", "3", "--output-dir", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "accuracy ") {
		t.Fatalf("no accuracy printed:\n%s", stdout)
	}
	for _, f := range []string{"metrics.jsonl", "curves.png", "model/model.onnx", "model/config.json", "model/tokenizer.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	// the saved model predicts
	code, pred, stderr := runIn(t, "predict", "--model", filepath.Join(out, "model"), "a fine film")
	if code != 0 {
		t.Fatalf("predict: %s", stderr)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(pred), &p); err != nil || (p["label"] != "negative" && p["label"] != "positive") {
		t.Fatalf("predict printed %q", pred)
	}
}

func TestInspectJSON(t *testing.T) {
	code, out, stderr := runIn(t, "inspect", "testmodels/fixtures/bert", "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var r struct {
		TotalParams int `json:"total_parameters"`
		Params      []struct {
			Name string `json:"name"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.TotalParams == 0 || len(r.Params) != 41 {
		t.Fatalf("%d params, total %d", len(r.Params), r.TotalParams)
	}
}

func TestGradcheckCommand(t *testing.T) {
	code, out, stderr := runIn(t, "gradcheck", "testmodels/fixtures/mlp")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestRunConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "train.yaml")
	os.WriteFile(cfg, []byte("learning_rate: 1e-3\nmax_steps: 2\nper_device_train_batch_size: 4\nlogging_steps: 1\nfreeze: [embeddings]\n"), 0o644)
	code, out, stderr := runIn(t, "run", "--config", cfg, "--output-dir", filepath.Join(dir, "run"), "--max-steps", "3")
	if code != 0 {
		t.Fatal(stderr)
	}
	// the flag overrides the file; the file's other settings apply
	if !strings.Contains(out, "step 3/3") || !strings.Contains(out, "lr ") {
		t.Fatalf("config not applied:\n%s", out)
	}
	if strings.Contains(out, "params 206338 of 206338") {
		t.Fatalf("freeze from the config file not applied:\n%s", out)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"learning_rat": 1}`), 0o644)
	if code, _, stderr := runIn(t, "run", "--config", bad); code == 0 || !strings.Contains(stderr, "learning_rat") || !strings.Contains(stderr, "did you mean learning_rate?") {
		t.Fatalf("unknown setting not reported: %s", stderr)
	}
}
