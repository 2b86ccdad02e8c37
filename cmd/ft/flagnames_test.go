package main

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestFlagNames(t *testing.T) {
	f := newRunFlags("run", io.Discard)
	base := errors.New("base")
	for _, c := range []struct{ in, want string }{
		{"Args.SaveStrategy \"x\": use no, steps or epoch", "--save-strategy \"x\": use no, steps or epoch"},
		{"Args.LRSchedulerType \"x\": use one of linear", "--lr-scheduler-type \"x\": use one of linear"},
		{"Args.PerDeviceTrainBatchSize and Args.AdamBeta1", "--per-device-train-batch-size and --adam-beta1"},
		{"no trainable parameters: Trainer.Trainable is empty", "no trainable parameters: check --train-params, --freeze, --train-top-layers and --lora-r"},
		{"Args.OutputDir is not there", "--output-dir is not there"},
		{"bad LoRAConfig.Targets pattern; give a positive LoRAConfig.R", "bad --lora-targets pattern; give a positive --lora-r"},
		{"choose one with ReadOptions.TextColumn", "choose one with --text-column"},
		{"Model.Output: no field of Args", "Model.Output: no field of Args"},
	} {
		err := flagNames(f.fs, fmt.Errorf("%s: %w", c.in, base))
		if got := err.Error(); got != c.want+": base" {
			t.Errorf("%q became %q, want %q", c.in, got, c.want+": base")
		}
		if !errors.Is(err, base) {
			t.Errorf("%q: the rewritten error lost its cause", c.in)
		}
	}
}
