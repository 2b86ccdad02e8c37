package finetune

import (
	"fmt"
	"math"
)

// ArgError is an argument outside its allowed range.
type ArgError struct {
	// Name is the TrainingArguments name (learning_rate).
	Name string
	// Value as given, and Allowed: the range, in words.
	Value   any
	Allowed string
}

func (e *ArgError) Error() string {
	return fmt.Sprintf("%s %v: %s", e.Name, e.Value, e.Allowed)
}

// maxCount bounds the counts and sizes of Args (batch sizes, steps): what
// fits an int on every platform and in products of two of them. A batch
// larger than the data is fine (it is cut to the data).
const maxCount = math.MaxInt32

// validateRanges returns an *ArgError for the first argument outside its range:
// NaN and infinities nowhere, no negative rate, size or count, betas in
// [0, 1). Zero values mean the defaults (see Defaults).
func (a *Args) validateRanges() error {
	floats := []struct {
		name    string
		v       float64
		lo, hi  float64
		loOpen  bool
		hiOpen  bool
		allowed string
	}{
		{"learning_rate", a.LearningRate, 0, math.Inf(1), false, false, "a finite number >= 0 (0: the default 5e-5)"},
		{"num_train_epochs", a.NumTrainEpochs, 0, 1e9, false, false, "a finite number from 0 to 1e9"},
		{"weight_decay", a.WeightDecay, 0, math.Inf(1), false, false, "a finite number >= 0"},
		{"adam_beta1", a.AdamBeta1, 0, 1, false, true, "a number in [0, 1)"},
		{"adam_beta2", a.AdamBeta2, 0, 1, false, true, "a number in [0, 1)"},
		{"adam_epsilon", a.AdamEpsilon, 0, math.Inf(1), false, false, "a finite number >= 0 (0: the default 1e-8)"},
		{"max_grad_norm", a.MaxGradNorm, 0, math.Inf(1), false, false, "a finite number >= 0 (0: no clipping)"},
		{"momentum", a.Momentum, 0, math.Inf(1), false, false, "a finite number >= 0"},
		{"warmup_ratio", a.WarmupRatio, 0, 1, false, false, "a number in [0, 1]"},
		{"l1", a.L1, 0, math.Inf(1), false, false, "a finite number >= 0"},
		{"l2", a.L2, 0, math.Inf(1), false, false, "a finite number >= 0"},
	}
	for _, f := range floats {
		v := f.v
		if math.IsNaN(v) || math.IsInf(v, 0) || v < f.lo || v > f.hi || f.hiOpen && v == f.hi || f.loOpen && v == f.lo {
			return &ArgError{f.name, v, f.allowed}
		}
	}
	ints := []struct {
		name    string
		v, lo   int
		allowed string
	}{
		{"max_steps", a.MaxSteps, math.MinInt, "an integer up to 2147483647 (<= 0: train --num-train-epochs)"},
		{"per_device_train_batch_size", a.PerDeviceTrainBatchSize, 0, "an integer from 1 to 2147483647 (0: the default 8)"},
		{"per_device_eval_batch_size", a.PerDeviceEvalBatchSize, 0, "an integer from 1 to 2147483647 (0: the training batch size)"},
		{"gradient_accumulation_steps", a.GradientAccumulationSteps, 0, "an integer from 1 to 2147483647"},
		{"warmup_steps", a.WarmupSteps, 0, "an integer from 0 to 2147483647"},
		{"eval_steps", a.EvalSteps, 0, "an integer from 0 to 2147483647"},
		{"logging_steps", a.LoggingSteps, 0, "an integer from 1 to 2147483647 (0: the default 10)"},
		{"early_stopping_patience", a.EarlyStoppingPatience, 0, "an integer from 0 to 2147483647 (0: off)"},
		{"save_steps", a.SaveSteps, 0, "an integer from 1 to 2147483647 (0: the default 500)"},
		{"save_total_limit", a.SaveTotalLimit, 0, "an integer from 0 to 2147483647 (0: keep all)"},
	}
	for _, f := range ints {
		if f.v < f.lo || f.v > maxCount {
			return &ArgError{f.name, f.v, f.allowed}
		}
	}
	return nil
}
