package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"ft/finetune"
)

const (
	tinyBERT = "internal/bundled/tiny-bert"
	sst2Test = "internal/bundled/sst2-sample/test.tsv"
)

// ftExec runs this test binary as the ft command (TestMain) in dir, with
// stdout and stderr not a terminal.
func ftExec(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FT_TEST_AS_FT=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// TestFlagErrorsShort: an unknown flag, in every command, is at most 3
// lines (the error, a did-you-mean, where the help is), exit status 2,
// never the whole usage (issue 22, 5).
func TestFlagErrorsShort(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--learnin-rate", "1e-3"}, "unknown flag --learnin-rate (did you mean --learning-rate?)"},
		{[]string{"run", "--bad-flag"}, "unknown flag --bad-flag"},
		{[]string{"sweep", "--sweep-learning-rat", "1e-3"}, "did you mean --sweep-learning-rate?"},
		{[]string{"eval", "--modle", "x"}, "did you mean --model?"},
		{[]string{"eval", "--model", "x", "--learning-rate", "1"}, "ft eval does not use --learning-rate"},
		{[]string{"predict", "--bad-flag"}, "unknown flag --bad-flag"},
		{[]string{"explain", "--bad-flag"}, "unknown flag --bad-flag"},
		{[]string{"export", "--bad-flag"}, "unknown flag --bad-flag"},
		{[]string{"exec", "--bad-flag"}, "unknown flag --bad-flag"},
		{[]string{"gradcheck", "--bad-flag"}, "unknown flag --bad-flag"},
		{[]string{"inspect", "--jsn"}, "did you mean --json?"},
		{[]string{"data", "check", "--bad-flag"}, "unknown flag --bad-flag"},
		{[]string{"data", "check", sst2Test, "--fail-on", "leaks"}, `--fail-on "leaks": use leak, conflicts, duplicates or label-typos (did you mean leak?)`},
		{[]string{"run", "--max-steps", "x"}, `invalid value "x" for flag --max-steps`},
		{[]string{"rnu"}, `unknown command "rnu" (did you mean run?)`},
		{[]string{"completion", "bsh"}, "did you mean bash?"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runIn(t, c.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			msg := strings.TrimSpace(stderr)
			if n := strings.Count(msg, "\n") + 1; n > 3 || stdout != "" {
				t.Errorf("%d lines (want at most 3), stdout %q:\n%s", n, stdout, msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("stderr %q lacks %q", msg, c.want)
			}
			if !strings.Contains(msg, "--help") {
				t.Errorf("stderr %q does not say where the help is", msg)
			}
		})
	}
}

// TestEnumFlagsChecked: a value outside a flag's choices is a one-line
// error listing them, with a did-you-mean (issue 22, 1).
func TestEnumFlagsChecked(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--eval-strategy", "epochs"}, `--eval-strategy "epochs": use no, steps or epoch (did you mean epoch?)`},
		{[]string{"--eval-strategy", "bogus"}, `--eval-strategy "bogus": use no, steps or epoch`},
		{[]string{"--save-strategy", "step"}, `(did you mean steps?)`},
		{[]string{"--lr-scheduler-type", "cosin"}, "did you mean cosine?"},
		{[]string{"--optim", "adamw_torh"}, "did you mean adamw_torch?"},
		{[]string{"--export-model", "bets"}, "did you mean best?"},
		{[]string{"--on-non-finite", "skp"}, "did you mean skip?"},
	} {
		args := append([]string{"run", "--model", tinyBERT, "--train", sst2Test, "--output-dir", t.TempDir()}, c.args...)
		code, _, errs := runIn(t, args...)
		msg := strings.TrimSpace(errs)
		if code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) {
			t.Errorf("%v: exit %d, %q; want one line with %q", c.args, code, msg, c.want)
		}
	}
}

// TestUnderscoreAliases: HF's spellings (--learning_rate, =value form,
// --model_name_or_path) set the same flags (issue 22, 5).
func TestUnderscoreAliases(t *testing.T) {
	f := newRunFlags("run", io.Discard)
	err := f.parse([]string{"--learning_rate", "2e-3", "--per_device_train_batch_size=4", "--model_name_or_path", "m", "--lora_r", "2", "--eval_strategy", "steps"})
	if err != nil {
		t.Fatal(err)
	}
	if f.args.LearningRate != 2e-3 || f.args.PerDeviceTrainBatchSize != 4 || f.model != "m" || f.loraR != 2 || f.args.EvalStrategy != "steps" {
		t.Fatalf("aliases not applied: lr %v batch %d model %q lora %d eval %q", f.args.LearningRate, f.args.PerDeviceTrainBatchSize, f.model, f.loraR, f.args.EvalStrategy)
	}
	// every flag of every command takes its underscore spelling
	for _, c := range completionCommands() {
		for _, fl := range c.flags {
			if !strings.Contains(fl.Name, "-") {
				continue
			}
			alt := "--" + strings.ReplaceAll(fl.Name, "-", "_")
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			fs.Var(fl.Value, fl.Name, fl.Usage)
			got := normalizeFlags(fs, []string{alt})
			if got[0] != "--"+fl.Name {
				t.Errorf("ft %s %s: read as %s", c.name, alt, got[0])
			}
		}
	}
}

// TestHelpTwoDashesAndGroups: help writes --flag as the README does, and
// ft run --help has the groups in order (issue 22, 5 and "beyond").
func TestHelpTwoDashesAndGroups(t *testing.T) {
	single := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	for _, cmd := range [][]string{{"run"}, {"sweep"}, {"eval"}, {"predict"}, {"explain"}, {"export"}, {"exec"}, {"gradcheck"}, {"inspect"}, {"data", "check"}} {
		code, _, help := runIn(t, append(cmd, "--help")...)
		if code != 0 {
			t.Fatalf("%v --help: exit %d", cmd, code)
		}
		if m := single.FindString(help); m != "" {
			t.Errorf("ft %v --help prints a flag with one dash: %q", cmd, m)
		}
		if !strings.Contains(help, "\n  --") {
			t.Errorf("ft %v --help lists no --flag", cmd)
		}
	}
	_, _, help := runIn(t, "run", "--help")
	last := -1
	for _, g := range []string{"Model:", "Data:", "Training:", "Evaluation:", "Checkpoints:", "LoRA:", "Output:"} {
		i := strings.Index(help, "\n"+g+"\n")
		if i < 0 || i < last {
			t.Fatalf("group %s missing or out of order in ft run --help", g)
		}
		last = i
	}
	for _, c := range []struct{ flag, group string }{{"--learning-rate", "Training:"}, {"--eval-strategy", "Evaluation:"}, {"--lora-r", "LoRA:"}, {"--save-steps", "Checkpoints:"}, {"--train", "Data:"}, {"--output-dir", "Output:"}} {
		gi, fi := strings.Index(help, "\n"+c.group+"\n"), strings.Index(help, "\n  "+c.flag+" ")
		end := strings.Index(help[gi:], "\n\n")
		if fi < gi || end >= 0 && fi > gi+end {
			t.Errorf("%s is not under %s", c.flag, c.group)
		}
	}
}

// TestFlagGroupsOneLine: a flag defined inside a section is in its group,
// as a new flag added to newRunFlags would be.
func TestFlagGroupsOneLine(t *testing.T) {
	f := newRunFlags("run", io.Discard)
	want := map[string]string{"model": "Model", "train": "Data", "learning-rate": "Training", "eval-strategy": "Evaluation",
		"save-steps": "Checkpoints", "lora-r": "LoRA", "output-dir": "Output", "batch-size": "Training", "seed": "Training"}
	for name, g := range want {
		if i := f.groups.groupOf(name); i < 0 || f.groups.names[i] != g {
			t.Errorf("--%s is in group %d, want %s", name, i, g)
		}
	}
	var buf bytes.Buffer
	f.groups.print(&buf, nil)
	for _, name := range flagNamesOf(f.fs) {
		if !strings.Contains(buf.String(), "  --"+name+"\n") && !strings.Contains(buf.String(), "  --"+name+" ") {
			t.Errorf("--%s missing from the grouped help", name)
		}
	}
}

// TestEvalStepsFallsBackToLoggingSteps: --eval-strategy steps without
// --eval-steps evaluates every --logging-steps, as transformers (issue 22, 1).
func TestEvalStepsFallsBackToLoggingSteps(t *testing.T) {
	code, out, errs := runIn(t, "run", "--model", tinyBERT, "--train", sst2Test, "--eval", sst2Test, "--max-steps", "4",
		"--eval-strategy", "steps", "--logging-steps", "2", "--save-strategy", "no", "--output-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range []int{2, 4} {
		if !strings.Contains(out, "eval at step "+strconv.Itoa(s)+" ") {
			t.Errorf("no evaluation at step %d:\n%s", s, out)
		}
	}
	if strings.Contains(out, "eval at step 1 ") || strings.Contains(out, "eval at step 3 ") {
		t.Errorf("evaluated off the logging steps:\n%s", out)
	}
}

// TestModelFolderMissing: a --model that does not exist is reported as
// such, by every command that loads one (issue 22, 6).
func TestModelFolderMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-model")
	for _, args := range [][]string{
		{"run", "--model", missing, "--train", sst2Test},
		{"eval", "--model", missing, "--eval", sst2Test},
		{"predict", "--model", missing, "a film"},
		{"explain", "--model", missing, "a film"},
		{"inspect", missing},
	} {
		code, _, errs := runIn(t, args...)
		if code == 0 || !strings.Contains(errs, missing+": no such folder or file") || strings.Contains(errs, "tokenizer.json:") {
			t.Errorf("ft %s: exit %d: %s", args[0], code, errs)
		}
	}
}

// TestSettingsSummary: ft run says what will run before training, and
// its total equals the steps the trainer then takes (issue 22, 7).
func TestSettingsSummary(t *testing.T) {
	// 872 rows, batch 16, accumulation 2: ceil(872/16) = 55 micro-batches,
	// ceil(55/2) = 28 steps an epoch; 0.1 epochs: ceil(2.8) = 3 steps
	code, out, errs := runIn(t, "run", "--model", tinyBERT, "--train", sst2Test, "--num-train-epochs", "0.1", "--batch-size", "16",
		"--gradient-accumulation-steps", "2", "--learning-rate", "3e-4", "--lr-scheduler-type", "cosine", "--train-top-layers", "1",
		"--save-strategy", "no", "--output-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"***** Running training *****", "Num examples                 = 872", "Num epochs                   = 0.1",
		"Per-device batch size        = 16", "Gradient accumulation steps  = 2", "Total batch size             = 32",
		"Total optimization steps     = 3", "Learning rate                = 0.0003, cosine schedule, 0 warmup steps", "step 3/3 "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	m := regexp.MustCompile(`params (\d+) of (\d+) trainable`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "Trainable parameters         = "+m[1]+" of "+m[2]) || m[1] == m[2] {
		t.Errorf("trainable parameters not in the summary (%v):\n%s", m, out)
	}
}

// TestDemoSelectsOnValidation: the bundled demo evaluates on rows held
// out of the training sample and scores the test set once, labelled
// (issue 22, 3 and 7).
func TestDemoSelectsOnValidation(t *testing.T) {
	code, out, errs := runIn(t, "run", "--max-steps", "3", "--eval-strategy", "steps", "--eval-steps", "3", "--output-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"demo settings (not --help's defaults; flags override them): --learning-rate 0.001 --num-train-epochs 4 --per-device-train-batch-size 32 --warmup-ratio 0.1",
		"3600 rows train, 400 rows held out for validation",
		"Num examples                 = 3600",
		"Evaluation                   = 400 rows, every 3 steps",
		"eval validation (held-out rows): ",
		"test internal/bundled/sst2-sample/test.tsv (scored once, not used to choose the model): ",
		"test accuracy ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Count(out, "test accuracy") != 1 || strings.Count(out, "test.tsv") != 3 {
		t.Errorf("the test set is used more than once:\n%s", out)
	}
}

// TestProgressLineFits: the progress line is never wider than the
// terminal (less one column) and keeps the step count (issue 22, 4).
func TestProgressLineFits(t *testing.T) {
	e := finetune.Event{Kind: finetune.EventStep, Step: 1234, Total: 45678, Epoch: 12.34, Loss: 0.123456, LearningRate: 1.23e-4,
		SamplesPerSec: 12345, ETA: 3*time.Hour + 25*time.Minute + 7*time.Second}
	for _, w := range []int{20, 40, 60, 80, 120, 160, 300} {
		line := progressLine(e, w)
		if len(line) > w-1 || strings.Contains(line, "\n") {
			t.Errorf("width %d: %d characters: %q", w, len(line), line)
		}
		if w >= 40 && !strings.Contains(line, "1234/45678") {
			t.Errorf("width %d: no step count: %q", w, line)
		}
	}
	if l := progressLine(e, 160); !strings.Contains(l, "samples/s") || !strings.Contains(l, "ETA 3h25m7s") || !strings.HasPrefix(l, "[") {
		t.Errorf("width 160 drops fields: %q", l)
	}
	if l := progressLine(e, 80); !strings.HasPrefix(l, "[") || !strings.Contains(l, "loss 0.1235") {
		t.Errorf("width 80: %q", l)
	}
}

// TestProgressPlainWhenNotTerminal: without a terminal, progress is plain
// lines (no carriage returns or escape sequences).
func TestProgressPlainWhenNotTerminal(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	code, out, errs := ftExec(t, root, "run", "--model", tinyBERT, "--train", sst2Test, "--max-steps", "2", "--logging-steps", "1", "--output-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.ContainsAny(out+errs, "\r\x1b") || !strings.Contains(out, "step 1/2 ") || !strings.Contains(out, "step 2/2 ") {
		t.Fatalf("not plain lines:\n%q\n%q", out, errs)
	}
}

// TestLabelTypos: rare labels one typo or a case away from a frequent one
// are warned about; distinct classes are not (issue 22, 8).
func TestLabelTypos(t *testing.T) {
	got := labelTypos([]string{"positive", "negative", "postive", "Negative", "label_1", "label_2", "pos", "neg"}, []int{500, 400, 2, 3, 100, 5, 90, 3})
	want := []string{
		`label "Negative" (3 rows) looks like a typo of "negative" (400 rows): it is a class of its own; correct those rows if it is one`,
		`label "postive" (2 rows) looks like a typo of "positive" (500 rows): it is a class of its own; correct those rows if it is one`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// not rare enough: no warning
	if w := labelTypos([]string{"positive", "postive"}, []int{50, 10}); w != nil {
		t.Fatalf("warned for a label with a fifth of the rows: %v", w)
	}

	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("text\tlabel\n")
	for i := range 30 {
		b.WriteString("good film number " + strconv.Itoa(i) + "\tpositive\n")
		b.WriteString("bad film number " + strconv.Itoa(i) + "\tnegative\n")
	}
	b.WriteString("a nice film\tpostive\nanother nice film\tpostive\nsome bad film\tNegative\n")
	path := filepath.Join(dir, "typos.tsv")
	os.WriteFile(path, []byte(b.String()), 0o644)
	code, out, errs := runIn(t, "run", "--model", tinyBERT, "--train", path, "--dry-run", "--output-dir", filepath.Join(dir, "run"))
	if code != 0 || !strings.Contains(out, `warning: label "postive" (2 rows) looks like a typo of "positive" (30 rows)`) ||
		!strings.Contains(out, `warning: label "Negative" (1 rows) looks like a typo of "negative" (30 rows)`) {
		t.Errorf("ft run: exit %d: %s\n%s", code, errs, out)
	}
	code, out, errs = runIn(t, "data", "check", path)
	if code != 0 || !strings.Contains(out, `warning       label "postive" (2 rows) looks like a typo of "positive"`) || !strings.Contains(out, "verdict    1 problem(s): label-typos: 2 labels") {
		t.Errorf("ft data check: exit %d: %s\n%s", code, errs, out)
	}
	if code, _, errs = runIn(t, "data", "check", path, "--fail-on", "label-typos"); code != 1 || !strings.Contains(errs, "label-typos") {
		t.Errorf("--fail-on label-typos: exit %d: %s", code, errs)
	}
}

// TestDataCheckFailOn: a verdict line, and --fail-on exits 1 when a listed
// problem is found, 0 when only other ones are (issue 22, 10).
func TestDataCheckFailOn(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.tsv")
	eval := filepath.Join(dir, "eval.tsv")
	os.WriteFile(train, []byte("text\tlabel\na fine film\t1\na fine film\t1\na dull film\t0\na dull film\t1\nthe end\t0\n"), 0o644)
	os.WriteFile(eval, []byte("text\tlabel\nthe end\t0\nsomething else\t1\n"), 0o644)
	code, out, errs := runIn(t, "data", "check", train, "--eval", eval)
	if code != 0 || !strings.Contains(out, "verdict    3 problem(s): leak: 1 texts in both files; conflicts: 1 texts with more than one label; duplicates: 1 repeated rows") {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for _, c := range []struct {
		failOn string
		code   int
	}{{"leak", 1}, {"conflicts", 1}, {"duplicates", 1}, {"label-typos", 0}, {"leak,duplicates", 1}} {
		code, _, errs := runIn(t, "data", "check", train, "--eval", eval, "--fail-on", c.failOn)
		if code != c.code {
			t.Errorf("--fail-on %s: exit %d, want %d: %s", c.failOn, code, c.code, errs)
		}
	}
	clean := filepath.Join(dir, "clean.tsv")
	os.WriteFile(clean, []byte("text\tlabel\na fine film\t1\na dull film\t0\n"), 0o644)
	code, out, _ = runIn(t, "data", "check", clean, "--fail-on", "leak,conflicts,duplicates")
	if code != 0 || !strings.Contains(out, "verdict    ok") {
		t.Errorf("clean file: exit %d:\n%s", code, out)
	}
}

// TestHelpConsistency: ft sweep --help claims no default it does not use;
// ft eval --help lists only what eval uses (issue 22, 9).
func TestHelpConsistency(t *testing.T) {
	_, _, help := runIn(t, "sweep", "--help")
	if strings.Contains(help, "bundled") || strings.Contains(help, "runs/ft-run") || !strings.Contains(help, `(default "runs/ft-sweep")`) {
		t.Errorf("ft sweep --help claims defaults it does not use:\n%s", help)
	}
	_, _, help = runIn(t, "eval", "--help")
	for _, no := range []string{"--learning-rate", "--lora-r", "--save-steps", "--num-train-epochs", "--output-dir"} {
		if strings.Contains(help, no) {
			t.Errorf("ft eval --help lists %s", no)
		}
	}
	for _, yes := range []string{"--model", "--eval", "--text-column", "--max-length", "--per-device-eval-batch-size"} {
		if !strings.Contains(help, yes) {
			t.Errorf("ft eval --help lacks %s", yes)
		}
	}
}

// TestInspectOutsideRepository: ft inspect with no argument inspects the
// bundled model from any folder.
func TestInspectOutsideRepository(t *testing.T) {
	code, out, errs := ftExec(t, t.TempDir(), "inspect")
	if code != 0 || !strings.Contains(out, "all ops supported") || !strings.Contains(errs, "bundled tiny BERT") {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
}

// TestVersion: ft version names the Go version, the CPU features and the
// kernels.
func TestVersion(t *testing.T) {
	code, out, _ := runIn(t, "version")
	if code != 0 || !strings.Contains(out, runtime.Version()) || !strings.Contains(out, "revision") || !strings.Contains(out, "cpu ") || !strings.Contains(out, "gemm ") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if runtime.GOARCH == "amd64" && !regexp.MustCompile(`cpu +-?avx2 -?fma -?avx512f`).MatchString(out) {
		t.Errorf("no CPU features:\n%s", out)
	}
}

// TestCompletionBash: the bash script parses (bash -n) and offers the
// commands and ft run's flags.
func TestCompletionBash(t *testing.T) {
	code, script, errs := runIn(t, "completion", "bash")
	if code != 0 {
		t.Fatal(errs)
	}
	for _, c := range commands {
		if !strings.Contains(script, " "+c.name+" ") && !strings.Contains(script, `"`+c.name+" ") && !strings.Contains(script, " "+c.name+`"`) {
			t.Errorf("command %s missing", c.name)
		}
	}
	f := newRunFlags("run", io.Discard)
	for _, n := range flagNamesOf(f.fs) {
		if !strings.Contains(script, "--"+n+" ") {
			t.Errorf("ft run flag --%s missing", n)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	p := filepath.Join(t.TempDir(), "ft.bash")
	os.WriteFile(p, []byte(script), 0o644)
	if out, err := exec.Command(bash, "-n", p).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	// and it completes: ft ru<TAB>, ft run --learning-r<TAB>
	probe := ". " + p + `; COMP_WORDS=(ft ru); COMP_CWORD=1; _ft; echo "${COMPREPLY[*]}"; COMP_WORDS=(ft run --learning-r); COMP_CWORD=2; _ft; echo "${COMPREPLY[*]}"`
	out, err := exec.Command(bash, "-c", probe).CombinedOutput()
	if err != nil || string(out) != "run\n--learning-rate\n" {
		t.Fatalf("completion: %v %q", err, out)
	}
	for _, sh := range []string{"zsh", "fish"} {
		code, script, errs := runIn(t, "completion", sh)
		if code != 0 || !strings.Contains(script, "learning-rate") || !strings.Contains(script, "sweep") {
			t.Errorf("%s: exit %d: %s", sh, code, errs)
		}
		if bin, err := exec.LookPath(sh); err == nil {
			p := filepath.Join(t.TempDir(), "ft."+sh)
			os.WriteFile(p, []byte(script), 0o644)
			if out, err := exec.Command(bin, "-n", p).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, out)
			}
			if sh == "fish" {
				out, err := exec.Command(bin, "-c", "source "+p+"; complete -C 'ft ru'; complete -C 'ft run --learning-r'").CombinedOutput()
				if err != nil || !strings.HasPrefix(string(out), "run\t") || !strings.Contains(string(out), "\n--learning-rate\tpeak learning rate") {
					t.Errorf("fish completion: %v %q", err, out)
				}
			}
		}
	}
}
