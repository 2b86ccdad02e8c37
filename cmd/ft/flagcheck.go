package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"

	"ft/finetune"
	"ft/optim"
)

// maxCount bounds count and size flags that have no bound of their own:
// what fits an int everywhere. Nothing is allocated in proportion to such a
// flag before the data bounds it (a batch larger than the data is cut to
// the data, as in transformers).
const maxCount = math.MaxInt32

// checkInt returns a one-line error naming the flag and its range when v
// is outside [lo, hi].
func checkInt(flag string, v, lo, hi int, what string) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %d: an integer from %d to %d (%s)", flag, v, lo, hi, what)
	}
	return nil
}

// checkFloat returns a one-line error naming the flag when v is not a
// finite number in [lo, hi] (hiOpen: below hi).
func checkFloat(flag string, v, lo, hi float64, hiOpen bool, what string) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi || hiOpen && v == hi {
		return fmt.Errorf("%s %v: %s", flag, v, what)
	}
	return nil
}

// validate checks every numeric flag of ft run (also of sweep, eval):
// the training arguments by finetune.Args.Validate, the others here.
func (f *runFlags) validate() error {
	for _, c := range []struct {
		flag      string
		v, lo, hi int
		what      string
	}{
		{"--max-length", f.maxLength, 1, maxCount, "tokens a text, special tokens included"},
		{"--batch-size", f.batchSize, batchMin(f, "batch-size"), maxCount, "alias of --per-device-train-batch-size"},
		{"--per-device-train-batch-size", f.args.PerDeviceTrainBatchSize, batchMin(f, "per-device-train-batch-size"), maxCount, "rows a micro-batch"},
		{"--train-top-layers", f.topLayers, 0, maxCount, "0: every layer"},
		{"--lora-r", f.loraR, 0, maxCount, "0: no LoRA"},
	} {
		if err := checkInt(c.flag, c.v, c.lo, c.hi, c.what); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		flag, v string
		choices []string
	}{
		{"--eval-strategy", f.args.EvalStrategy, []string{"no", "steps", "epoch"}},
		{"--save-strategy", f.args.SaveStrategy, []string{"no", "steps", "epoch"}},
		{"--lr-scheduler-type", f.args.LRSchedulerType, optim.ScheduleNames},
		{"--optim", f.args.Optim, []string{"adamw", "adam", "sgd", "adamw_torch", "adamw_hf"}},
		{"--on-non-finite", f.args.OnNonFinite, []string{"skip", "stop"}},
		{"--export-model", f.exportModel, []string{"best", "last", "none"}},
	} {
		if err := checkChoice(c.flag, c.v, true, c.choices...); err != nil {
			return err
		}
	}
	a := f.args
	a.Defaults()
	if err := a.Validate(); err != nil {
		var ae *finetune.ArgError
		if errors.As(err, &ae) {
			return fmt.Errorf("--%s %v: %s", strings.ReplaceAll(ae.Name, "_", "-"), ae.Value, ae.Allowed)
		}
		return err
	}
	if err := checkFloat("--lora-alpha", f.loraAlpha, 0, math.MaxFloat64, false, "a finite number >= 0"); err != nil {
		return err
	}
	return checkFloat("--lora-dropout", f.loraDropout, 0, 1, true, "a number in [0, 1)")
}

// batchMin is the least value of a batch-size flag: 1 when given (0 and
// negative sizes are refused), 0 (the default) when not.
func batchMin(f *runFlags, name string) int {
	if f.given[name] || f.explicit[name] != "" {
		return 1
	}
	return 0
}

// oneLine joins the lines of a message (yaml's errors have several).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, ":\n", ": ")), " ")
}

// modelPathError reports a --model that cannot be read: a folder that does
// not exist is said to be missing (not its tokenizer.json).
func modelPathError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--model %s: no such folder or file (give a Hugging Face ONNX export folder with model.onnx, config.json and tokenizer.json, or a .onnx file)", path)
	}
	return fmt.Errorf("--model %s: %v", path, err)
}

// checkModelPath returns modelPathError when path cannot be read.
func checkModelPath(path string) error {
	if _, err := os.Stat(path); err != nil {
		return modelPathError(path, err)
	}
	return nil
}
