package main

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRunFlags parses ft run's command line (and a --config file) without
// training: no panic; an error is one line; what is accepted is within
// every flag's range (finite numbers, positive sizes).
func FuzzRunFlags(f *testing.F) {
	for _, s := range []struct {
		args   string
		config string
	}{
		{"--learning-rate\n1e-3\n--per-device-train-batch-size\n16", ""},
		{"--learning-rate=NaN", ""},
		{"--per-device-eval-batch-size\n-1", ""},
		{"--batch-size\n1000000000\n--max-steps\n5", ""},
		{"--weight-decay\nInf\n--adam-beta2\n1", ""},
		{"--seed\n18446744073709551615\n--greater-is-better\nmaybe", ""},
		{"--freeze\nembeddings,layer.0", "learning_rate: 1e-3\nmax_steps: 2\nfreeze: [embeddings]\n"},
		{"", `{"learning_rate": "NaN", "per_device_train_batch_size": -4}`},
		{"", "lora_r: -1\nlora_dropout: .nan\n"},
	} {
		f.Add(s.args, []byte(s.config), strings.HasPrefix(s.config, "{"))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, args string, config []byte, asJSON bool) {
		var argv []string
		for _, a := range strings.Split(args, "\n") {
			// files are the fuzzer's own: no --config or --resume of its
			// choosing (they name paths of this machine)
			if a == "" || strings.Contains(a, "config") || strings.Contains(a, "resume") {
				continue
			}
			argv = append(argv, a)
		}
		if len(config) > 0 {
			p := filepath.Join(dir, "c.yaml")
			if asJSON {
				p = filepath.Join(dir, "c.json")
			}
			if err := os.WriteFile(p, config, 0o644); err != nil {
				t.Fatal(err)
			}
			argv = append(argv, "--config", p)
		}
		rf := newRunFlags("run", io.Discard)
		err := rf.parse(argv)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		a := rf.args
		a.Defaults()
		for name, v := range map[string]float64{"learning_rate": a.LearningRate, "weight_decay": a.WeightDecay, "num_train_epochs": a.NumTrainEpochs,
			"warmup_ratio": a.WarmupRatio, "max_grad_norm": a.MaxGradNorm, "adam_epsilon": a.AdamEpsilon, "lora_alpha": rf.loraAlpha} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%s %v accepted", name, v)
			}
		}
		if a.PerDeviceTrainBatchSize < 1 || a.PerDeviceEvalBatchSize < 1 || a.GradientAccumulationSteps < 1 || rf.maxLength < 1 || a.LoggingSteps < 1 || a.SaveSteps < 1 {
			t.Fatalf("a size below 1 accepted: %+v, max length %d", a, rf.maxLength)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("parse accepted what Validate refuses: %v", err)
		}
	})
}
