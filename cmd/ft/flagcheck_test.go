package main

import (
	"strings"
	"testing"
)

// TestNumericFlagsRefused: flags that used to panic, run out of memory or
// be accepted as NaN end with a one-line error naming the flag and its
// range, before anything is allocated in proportion to them.
func TestNumericFlagsRefused(t *testing.T) {
	model, train := "internal/bundled/tiny-bert", "internal/bundled/sst2-sample/test.tsv"
	run := func(extra ...string) []string {
		return append([]string{"run", "--model", model, "--train", train, "--eval", train, "--max-steps", "1", "--output-dir", t.TempDir()}, extra...)
	}
	sweep := func(extra ...string) []string {
		return append([]string{"sweep", "--model", model, "--train", train, "--eval", train, "--max-steps", "1", "--output-dir", t.TempDir()}, extra...)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"eval batch -1", run("--per-device-eval-batch-size", "-1"), "--per-device-eval-batch-size -1: an integer from 1"},
		{"train batch -3", run("--per-device-train-batch-size", "-3"), "--per-device-train-batch-size -3: an integer from 1"},
		{"batch alias -1", run("--batch-size", "-1"), "--batch-size -1: an integer from 1"},
		{"batch alias -8", run("--batch-size", "-8"), "--batch-size -8: an integer from 1"},
		{"batch alias 0", run("--batch-size", "0"), "--batch-size 0: an integer from 1"},
		{"train batch 0", run("--per-device-train-batch-size", "0"), "--per-device-train-batch-size 0: an integer from 1"},
		{"batch 1e10", run("--batch-size", "10000000000"), "--batch-size 10000000000: an integer from 1 to 2147483647"},
		{"accumulation 0", run("--gradient-accumulation-steps", "-2"), "--gradient-accumulation-steps -2"},
		{"lr NaN", run("--learning-rate", "NaN"), "--learning-rate NaN: a finite number"},
		{"lr Inf", run("--learning-rate", "Inf"), "--learning-rate +Inf: a finite number"},
		{"lr negative", run("--learning-rate", "-1e-3"), "--learning-rate -0.001"},
		{"weight decay NaN", run("--weight-decay", "NaN"), "--weight-decay NaN: a finite number"},
		{"weight decay Inf", run("--weight-decay", "Inf"), "--weight-decay +Inf"},
		{"beta2 1", run("--adam-beta2", "1"), "--adam-beta2 1: a number in [0, 1)"},
		{"warmup ratio 2", run("--warmup-ratio", "2"), "--warmup-ratio 2: a number in [0, 1]"},
		{"max grad norm NaN", run("--max-grad-norm", "NaN"), "--max-grad-norm NaN"},
		{"epochs Inf", []string{"run", "--model", model, "--train", train, "--num-train-epochs", "Inf", "--output-dir", t.TempDir()}, "--num-train-epochs +Inf"},
		{"save steps -1", run("--save-steps", "-1"), "--save-steps -1"},
		{"logging steps -1", run("--logging-steps", "-1"), "--logging-steps -1"},
		{"max length 0", run("--max-length", "0"), "--max-length 0: an integer from 1"},
		{"lora dropout NaN", run("--lora-dropout", "NaN"), "--lora-dropout NaN"},
		{"explain steps 1e9", []string{"explain", "--model", model, "--steps", "1000000000", "a film"}, "--steps 1000000000: an integer from 1 to 100000"},
		{"explain batch -1", []string{"explain", "--model", model, "--batch-size", "-1", "a film"}, "--batch-size -1: an integer from 1"},
		{"exec threads 100000", []string{"exec", model, "--random", "--dim", "batch_size=1", "--dim", "sequence_length=8", "--threads", "100000"}, "--threads 100000: an integer from 0 to"},
		{"exec bench 1e9", []string{"exec", model, "--random", "--bench", "1000000000"}, "--bench 1000000000: an integer from 0 to 1000000"},
		{"exec huge dim", []string{"exec", model, "--random", "--dim", "batch_size=100000000000", "--dim", "sequence_length=8"}, `input "input_ids" of shape [100000000000 8] (from --dim): a int64 tensor`},
		{"sweep 1e9 points", sweep("--sweep-learning-rate", "log:1e-5:1e-3:1000000000"), `the count "1000000000" must be an integer of at least 2 and at most 1000`},
		{"sweep max trials 1e9", sweep("--sweep-learning-rate", "log:1e-5:1e-3", "--method", "random", "--max-trials", "1000000000"), "--max-trials 1000000000: an integer from 0 to 100000"},
		{"sweep max minutes NaN", sweep("--sweep-learning-rate", "1e-5,1e-4", "--max-minutes", "NaN"), "--max-minutes NaN"},
		{"predict max length -1", []string{"predict", "--model", model, "--max-length", "-1", "a film"}, "--max-length -1: an integer from 1"},
		{"gradcheck batch 0", []string{"gradcheck", "--batch-size", "0", "testmodels/fixtures/mlp"}, "--batch-size 0: an integer from 1"},
		{"gradcheck eps NaN", []string{"gradcheck", "--eps", "NaN", "testmodels/fixtures/mlp"}, "--eps NaN"},
		{"data max length 0", []string{"data", "check", train, "--max-length", "0"}, "--max-length must be positive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runIn(t, c.args...)
			msg := strings.TrimSpace(stderr)
			if code == 0 || !strings.Contains(msg, c.want) {
				t.Fatalf("exit %d, stderr %q; want an error with %q", code, msg, c.want)
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "panic") {
				t.Fatalf("not a one-line error: %q", msg)
			}
		})
	}
}

// TestHugeBatchRuns: a batch larger than the data is the data (as in
// transformers), for training and evaluation, and allocates nothing in
// proportion to the flag.
func TestHugeBatchRuns(t *testing.T) {
	train := "internal/bundled/sst2-sample/test.tsv"
	code, out, errs := runIn(t, "run", "--model", "internal/bundled/tiny-bert", "--train", train, "--eval", train, "--max-steps", "1",
		"--batch-size", "1000000000", "--per-device-eval-batch-size", "2147483647", "--output-dir", t.TempDir())
	if code != 0 || !strings.Contains(out, "accuracy ") {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
}
