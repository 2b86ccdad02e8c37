package finetune

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"ft/checkpoint"
	"ft/graph"
	"ft/tensor"
)

// Batch is one batch ready for the model: its inputs and targets.
type Batch struct {
	Feeds  map[string]*tensor.Tensor
	Target *tensor.Tensor
	Size   int
}

// Source turns rows into batches (tokenizing text, or slicing fixed tensors).
type Source interface {
	Len() int
	Batch(rows []int) (*Batch, error)
}

// Args are the training arguments, named and defaulted as in Hugging Face
// TrainingArguments.
type Args struct {
	OutputDir                 string
	LearningRate              float64 // 5e-5
	NumTrainEpochs            float64 // 3
	MaxSteps                  int     // > 0 overrides NumTrainEpochs
	PerDeviceTrainBatchSize   int     // 8
	PerDeviceEvalBatchSize    int     // 8
	GradientAccumulationSteps int     // 1
	WeightDecay               float64 // 0
	AdamBeta1, AdamBeta2      float64 // 0.9, 0.999
	AdamEpsilon               float64 // 1e-8
	MaxGradNorm               float64 // 1.0 (0: no clipping)
	Optim                     string  // "adamw" (default), "adam", "sgd"
	Momentum                  float64 // SGD
	Nesterov                  bool    // SGD
	LRSchedulerType           string  // "linear" (default), "constant", "constant_with_warmup", "cosine"
	WarmupRatio               float64
	WarmupSteps               int
	L1, L2                    float64 // penalties added to the loss
	Seed                      uint64  // 42
	NoShuffle                 bool    // keep the training rows in file order
	GroupByLength             bool    // batches of rows of similar length (HF group_by_length; the Source must be a LengthSource)
	EvalStrategy              string  // "no", "steps", "epoch" (default "epoch" when there is eval data)
	EvalSteps                 int
	LoggingSteps              int    // 10
	MetricForBestModel        string // "accuracy" / "f1" / "loss" ...; default "loss"
	GreaterIsBetter           *bool  // default: false for loss, true otherwise
	EarlyStoppingPatience     int    // 0: off
	LoadBestModelAtEnd        bool
	// Checkpoints (written only with OutputDir set): SaveStrategy "steps"
	// (default: every SaveSteps, 500), "epoch" or "no"; SaveTotalLimit keeps
	// the newest N checkpoints and the best (0: all).
	SaveStrategy   string
	SaveSteps      int
	SaveTotalLimit int
	// OnNonFinite is what a step with a NaN or infinite loss or gradient
	// does: "skip" (default: the weights stay, a "skip" event warns) or
	// "stop" (Fit returns an error).
	OnNonFinite string
}

// Defaults fills unset arguments with Hugging Face's defaults.
func (a *Args) Defaults() {
	if a.LearningRate == 0 {
		a.LearningRate = 5e-5
	}
	if a.NumTrainEpochs == 0 && a.MaxSteps <= 0 {
		a.NumTrainEpochs = 3
	}
	if a.PerDeviceTrainBatchSize == 0 {
		a.PerDeviceTrainBatchSize = 8
	}
	if a.PerDeviceEvalBatchSize == 0 {
		a.PerDeviceEvalBatchSize = a.PerDeviceTrainBatchSize
	}
	if a.GradientAccumulationSteps == 0 {
		a.GradientAccumulationSteps = 1
	}
	if a.AdamBeta1 == 0 {
		a.AdamBeta1 = 0.9
	}
	if a.AdamBeta2 == 0 {
		a.AdamBeta2 = 0.999
	}
	if a.AdamEpsilon == 0 {
		a.AdamEpsilon = 1e-8
	}
	if a.Optim == "" {
		a.Optim = "adamw"
	}
	if a.LRSchedulerType == "" {
		a.LRSchedulerType = "linear"
	}
	if a.LoggingSteps == 0 {
		a.LoggingSteps = 10
	}
	if a.MetricForBestModel == "" {
		a.MetricForBestModel = "loss"
	}
	if a.SaveStrategy == "" {
		a.SaveStrategy = "steps"
	}
	if a.SaveSteps == 0 {
		a.SaveSteps = 500
	}
	if a.OnNonFinite == "" {
		a.OnNonFinite = "skip"
	}
}

// Event reports training progress to a callback.
type Event struct {
	Kind          string // "step", "eval", "save", "skip", "warning", "resumed", "done", "interrupted"
	Step, Total   int
	Epoch         float64
	Loss          float64 // mean training loss since the last step event
	LearningRate  float64
	GradNorm      float64
	SamplesPerSec float64
	ETA           time.Duration
	Metrics       map[string]float64 // eval metrics (Kind "eval")
	Path          string             // the checkpoint written (Kind "save")
	Message       string             // Kind "skip" and "warning"
}

// Result summarises a training run.
type Result struct {
	Steps       int
	Losses      []float64 // the loss of every optimizer step
	BestMetric  float64
	BestStep    int
	Interrupted bool
	Final       map[string]float64 // last evaluation, if any
	// Skipped counts steps skipped for a non-finite loss or gradient.
	Skipped int
	// BestCheckpoint is the checkpoint holding the best evaluated weights.
	BestCheckpoint string

	best map[*graph.Param][]float32
}

// Trainer fine-tunes a model's trainable parameters.
type Trainer struct {
	Model     *Model
	Args      Args
	Loss      Loss
	Train     Source
	Eval      Source
	Trainable []*graph.Param
	// Problem decides the metrics (single-label by default).
	Problem ProblemType
	// Events receives progress (may be nil).
	Events func(Event)
	// MetricsLog, when set, gets one record per logging step and evaluation.
	MetricsLog *MetricsLog

	// LastReport is the classification report of the last Evaluate
	// (per-class scores, confusion matrix); nil for other problem types.
	LastReport *ClassificationReport
	// RunConfig is stored in checkpoints as is (ft run keeps its flags
	// there, to resume and export with the same settings).
	RunConfig map[string]string
	// ResumeFrom is a checkpoint file or a run folder (its newest
	// checkpoint) to continue from.
	ResumeFrom string

	opt     Optimizer
	baseSHA string
}

func (t *Trainer) emit(e Event) {
	if t.Events != nil {
		t.Events(e)
	}
}

// newOptimizer builds the optimizer the arguments name.
func (t *Trainer) newOptimizer() (Optimizer, error) {
	groups := DefaultParamGroups(t.Trainable)
	a := t.Args
	switch a.Optim {
	case "adamw", "adamw_torch", "adamw_hf":
		return NewAdamW(groups, AdamConfig{LR: a.LearningRate, Beta1: a.AdamBeta1, Beta2: a.AdamBeta2, Eps: a.AdamEpsilon, WeightDecay: a.WeightDecay})
	case "adam":
		return NewAdam(groups, AdamConfig{LR: a.LearningRate, Beta1: a.AdamBeta1, Beta2: a.AdamBeta2, Eps: a.AdamEpsilon, WeightDecay: a.WeightDecay})
	case "sgd":
		return NewSGD(groups, SGDConfig{LR: a.LearningRate, Momentum: a.Momentum, Nesterov: a.Nesterov, WeightDecay: a.WeightDecay})
	}
	return nil, fmt.Errorf("unknown optimizer %q (use adamw, adam or sgd)", a.Optim)
}

// Fit trains until the epochs or max steps are done, ctx is cancelled (the
// current step finishes first), or early stopping triggers.
//
// With Args.OutputDir set and Args.SaveStrategy not "no", it writes
// checkpoints there (checkpoint-<step>.ftckpt: the trainable parameters,
// the optimizer state and the position in the data) every SaveSteps steps
// or every epoch, when an evaluation finds a new best model, when ctx is
// cancelled and at the end. With ResumeFrom set it continues the run that
// wrote that checkpoint: the final weights are those of a run that was
// never interrupted, bit for bit.
func (t *Trainer) Fit(ctx context.Context) (*Result, error) {
	t.Args.Defaults()
	if err := t.Args.Validate(); err != nil {
		return nil, err
	}
	a := t.Args
	if t.Train == nil || t.Train.Len() == 0 {
		return nil, fmt.Errorf("no training rows")
	}
	if len(t.Trainable) == 0 {
		return nil, fmt.Errorf("no trainable parameters: check --train / --freeze patterns")
	}
	if t.Loss == nil {
		t.Loss = NewCrossEntropyLoss()
	}
	switch a.OnNonFinite {
	case "skip", "stop":
	default:
		return nil, fmt.Errorf("on_non_finite %q: use skip or stop", a.OnNonFinite)
	}
	saving := a.OutputDir != "" && a.SaveStrategy != "no"
	switch a.SaveStrategy {
	case "no", "steps", "epoch":
	default:
		return nil, fmt.Errorf("save_strategy %q: use no, steps or epoch", a.SaveStrategy)
	}
	opt, err := t.newOptimizer()
	if err != nil {
		return nil, err
	}
	t.opt = opt
	n := t.Train.Len()
	var lengths []int
	if a.GroupByLength {
		ls, ok := t.Train.(LengthSource)
		if !ok {
			return nil, fmt.Errorf("group_by_length needs a training source that knows its rows' lengths (a TextSource)")
		}
		if lengths, err = ls.Lengths(); err != nil {
			return nil, err
		}
		if len(lengths) != n {
			return nil, fmt.Errorf("group_by_length: %d lengths for %d rows", len(lengths), n)
		}
	}
	stepsPerEpoch := StepsPerEpoch(n, a.PerDeviceTrainBatchSize, a.GradientAccumulationSteps, false)
	total := a.MaxSteps
	if total <= 0 {
		total = int(math.Ceil(a.NumTrainEpochs * float64(stepsPerEpoch)))
	}
	warmup := WarmupSteps(a.WarmupSteps, a.WarmupRatio, total)
	sched, err := NewSchedule(a.LRSchedulerType, warmup, total)
	if err != nil {
		return nil, err
	}
	evalStrategy := a.EvalStrategy
	if evalStrategy == "" {
		evalStrategy = "no"
		if t.Eval != nil {
			evalStrategy = "epoch"
		}
	}
	greater := a.MetricForBestModel != "loss"
	if a.GreaterIsBetter != nil {
		greater = *a.GreaterIsBetter
	}
	// the parameters' starting values: checkpoints store their XOR with them
	var base map[string]*tensor.Tensor
	if saving || t.ResumeFrom != "" {
		base = map[string]*tensor.Tensor{}
		for _, p := range t.Trainable {
			base[p.Name] = p.Value.Clone()
		}
	}
	st := &TrainState{Total: total, StepsPerEpoch: stepsPerEpoch, Rows: n, Seed: a.Seed}
	res := &Result{BestMetric: math.NaN()}
	var best map[*graph.Param][]float32
	if t.ResumeFrom != "" {
		if best, err = t.resume(st, base); err != nil {
			return nil, err
		}
		res.Losses = append(res.Losses, st.Losses...)
		if st.BestMetric != nil {
			res.BestMetric, res.BestStep = *st.BestMetric, st.BestStep
		}
		t.emit(Event{Kind: "resumed", Step: st.Step, Total: total, Epoch: float64(st.Epoch) + float64(st.Batch)/float64(max(1, stepsPerEpoch))})
	}
	out := t.Model.Output
	start := time.Now()
	startStep, startSamples := st.Step, st.Samples
	save := func(isBest bool) error {
		if !saving {
			return nil
		}
		st.Losses = res.Losses
		prevBest := st.BestCheckpoint
		if isBest {
			// the checkpoint knows it is the best one
			st.BestCheckpoint = checkpointPath(a.OutputDir, st.Step)
		}
		path, err := t.writeCheckpoint(a.OutputDir, st, base)
		if err != nil {
			st.BestCheckpoint = prevBest
			return err
		}
		t.emit(Event{Kind: "save", Step: st.Step, Total: total, Path: path})
		return pruneCheckpoints(a.OutputDir, a.SaveTotalLimit, st.BestCheckpoint)
	}
	// saveUnlessDone saves, unless the checkpoint of this step was just
	// written as the best one
	saveUnlessDone := func() error {
		if st.BestCheckpoint != "" && st.BestStep == st.Step {
			return nil
		}
		return save(false)
	}
	evaluate := func(epoch float64) (stop bool, err error) {
		m, err := t.Evaluate(ctx, t.Eval)
		if err != nil {
			return false, err
		}
		res.Final = m
		t.emit(Event{Kind: "eval", Step: st.Step, Total: total, Epoch: epoch, Metrics: m})
		if t.MetricsLog != nil {
			vals := map[string]float64{}
			for k, v := range m {
				vals["eval_"+k] = v
			}
			if err := t.MetricsLog.Write(Record{Step: st.Step, Epoch: epoch, Values: vals}); err != nil {
				return false, err
			}
		}
		v, ok := m[a.MetricForBestModel]
		if !ok {
			return false, fmt.Errorf("metric_for_best_model %q is not among the eval metrics %v", a.MetricForBestModel, mapKeys(m))
		}
		if st.BestMetric == nil || (greater && v > *st.BestMetric) || (!greater && v < *st.BestMetric) {
			st.BestMetric, st.BestStep = &v, st.Step
			res.BestMetric, res.BestStep = v, st.Step
			st.Patience = 0
			best = snapshot(t.Trainable)
			// the best weights go to a checkpoint now, so that a resumed
			// run still knows them
			if err := save(true); err != nil {
				return false, err
			}
		} else {
			st.Patience++
			if a.EarlyStoppingPatience > 0 && st.Patience >= a.EarlyStoppingPatience {
				return true, nil
			}
		}
		return false, nil
	}
	accum := map[*graph.Param]*tensor.Tensor{}
	for st.Step < total {
		epoch := st.Epoch
		var batches [][]int
		if a.GroupByLength {
			batches, err = LengthGroupedBatches(lengths, a.PerDeviceTrainBatchSize, a.Seed, epoch, false)
		} else {
			batches, err = EpochBatches(n, a.PerDeviceTrainBatchSize, !a.NoShuffle, a.Seed, epoch, false)
		}
		if err != nil {
			return nil, err
		}
		micro := 0
		stepLoss := 0.0
		finite := true
		for bi := st.Batch; bi < len(batches); bi++ {
			rows := batches[bi]
			b, err := t.Train.Batch(rows)
			if err != nil {
				return nil, err
			}
			if finite {
				tr, err := t.Model.Graph.Forward(b.Feeds, []string{out}, t.Trainable)
				if err != nil {
					return nil, err
				}
				loss, dout, err := t.Loss.Loss(tr.Outputs[out], b.Target)
				if err != nil {
					return nil, err
				}
				if math.IsNaN(loss) || math.IsInf(loss, 0) {
					finite = false
					stepLoss = loss
				} else {
					if a.GradientAccumulationSteps > 1 {
						scaleInPlace(dout, 1/float64(a.GradientAccumulationSteps))
					}
					grads, err := tr.Backward(map[string]*tensor.Tensor{out: dout})
					if err != nil {
						return nil, err
					}
					for p, g := range grads {
						if acc := accum[p]; acc != nil {
							if err := tensor.AddInto(acc, g); err != nil {
								return nil, err
							}
						} else {
							// Backward's gradients are fresh tensors that nothing
							// else holds once the trace is gone: take them over.
							accum[p] = g
						}
					}
					stepLoss += loss / float64(a.GradientAccumulationSteps)
				}
			}
			st.Samples += b.Size
			micro++
			if micro < a.GradientAccumulationSteps && bi != len(batches)-1 {
				continue
			}
			// one optimizer step
			if finite && (a.L1 != 0 || a.L2 != 0) {
				pen, err := Penalty{L1: a.L1, L2: a.L2}.Apply(DefaultParamGroups(t.Trainable), accum)
				if err != nil {
					return nil, err
				}
				stepLoss += pen
			}
			norm := math.NaN()
			if finite {
				if a.MaxGradNorm > 0 {
					if norm, err = ClipGradNorm(accum, a.MaxGradNorm); err != nil {
						return nil, err
					}
				} else {
					norm = gradNorm(accum)
				}
				finite = !math.IsNaN(norm) && !math.IsInf(norm, 0)
			}
			lr := sched.LR(a.LearningRate, st.Step)
			if finite {
				opt.SetLR(lr)
				if err := opt.Step(accum); err != nil {
					return nil, err
				}
			} else {
				what := fmt.Sprintf("loss %v", stepLoss)
				if !math.IsNaN(stepLoss) && !math.IsInf(stepLoss, 0) {
					what = fmt.Sprintf("gradient norm %v", norm)
				}
				if a.OnNonFinite == "stop" {
					return nil, fmt.Errorf("step %d (epoch %d, batch %d): non-finite %s; stopping (on_non_finite stop); the last checkpoint holds the weights before it", st.Step+1, epoch, bi, what)
				}
				st.Skipped++
				t.emit(Event{Kind: "skip", Step: st.Step + 1, Total: total, Message: fmt.Sprintf("step %d (epoch %d, batch %d): non-finite %s; step skipped, weights unchanged", st.Step+1, epoch, bi, what)})
			}
			clear(accum)
			st.Step++
			st.Batch = bi + 1
			micro = 0
			res.Losses = append(res.Losses, stepLoss)
			if !math.IsNaN(stepLoss) && !math.IsInf(stepLoss, 0) {
				st.LogLoss += stepLoss
				st.LogCount++
			}
			stepLoss = 0
			finite = true
			el := time.Since(start)
			ev := Event{Kind: "step", Step: st.Step, Total: total, Epoch: float64(epoch) + float64(bi+1)/float64(len(batches)),
				Loss: res.Losses[len(res.Losses)-1], LearningRate: lr, GradNorm: norm,
				SamplesPerSec: float64(st.Samples-startSamples) / el.Seconds()}
			if done := st.Step - startStep; done > 0 {
				ev.ETA = time.Duration(float64(el) / float64(done) * float64(total-st.Step))
			}
			t.emit(ev)
			if t.MetricsLog != nil && (st.Step%a.LoggingSteps == 0 || st.Step == total) {
				if err := t.MetricsLog.Write(Record{Step: st.Step, Epoch: ev.Epoch, Values: map[string]float64{"loss": st.LogLoss / float64(max(1, st.LogCount)), "learning_rate": lr, "grad_norm": norm}}); err != nil {
					return nil, err
				}
				st.LogLoss, st.LogCount = 0, 0
			}
			stop := false
			if t.Eval != nil && evalStrategy == "steps" && a.EvalSteps > 0 && st.Step%a.EvalSteps == 0 {
				if stop, err = evaluate(ev.Epoch); err != nil {
					return nil, err
				}
			}
			if ctx.Err() != nil {
				res.Interrupted = true
				stop = true
			}
			endOfEpoch := bi == len(batches)-1
			if stop || st.Step >= total {
				if endOfEpoch && !res.Interrupted {
					st.Epoch, st.Batch = epoch+1, 0
					if st.Step >= total && t.Eval != nil && evalStrategy == "epoch" {
						// the last epoch's evaluation
						if _, err := evaluate(float64(epoch + 1)); err != nil {
							return nil, err
						}
					}
				}
				// (an interrupted run at the end of an epoch resumes with
				// that epoch's evaluation)
				if err := saveUnlessDone(); err != nil {
					return nil, err
				}
				res.Steps = st.Step
				return t.finish(res, best, st)
			}
			// at the end of an epoch the checkpoint comes after its evaluation
			if !endOfEpoch && a.SaveStrategy == "steps" && a.SaveSteps > 0 && st.Step%a.SaveSteps == 0 {
				if err := saveUnlessDone(); err != nil {
					return nil, err
				}
			}
		}
		// end of the epoch: evaluate, then checkpoint at the next epoch's start
		saveNow := a.SaveStrategy == "epoch" || (a.SaveStrategy == "steps" && a.SaveSteps > 0 && st.Step%a.SaveSteps == 0)
		st.Epoch, st.Batch = epoch+1, 0
		stop := false
		if t.Eval != nil && evalStrategy == "epoch" {
			if stop, err = evaluate(float64(epoch + 1)); err != nil {
				return nil, err
			}
		}
		if saveNow {
			if err := saveUnlessDone(); err != nil {
				return nil, err
			}
		}
		if stop {
			break
		}
	}
	res.Steps = st.Step
	if err := saveUnlessDone(); err != nil {
		return nil, err
	}
	return t.finish(res, best, st)
}

// resume loads ResumeFrom (a checkpoint file or a run folder) into the
// parameters, the optimizer and st; it returns the best weights if the
// best checkpoint is still there.
func (t *Trainer) resume(st *TrainState, base map[string]*tensor.Tensor) (map[*graph.Param][]float32, error) {
	path, err := FindCheckpoint(t.ResumeFrom)
	if err != nil {
		return nil, err
	}
	// temporary files of saves that a crash cut short
	if stale, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".checkpoint-*"+CheckpointExt+".tmp*")); len(stale) > 0 {
		for _, f := range stale {
			os.Remove(f)
		}
		t.emit(Event{Kind: "warning", Message: fmt.Sprintf("removed %d unfinished checkpoint file(s) of an interrupted save", len(stale))})
	}
	ci, err := ReadCheckpointInfo(path)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range ci.Trainable {
		have[n] = true
	}
	for _, p := range t.Trainable {
		if !have[p.Name] {
			return nil, fmt.Errorf("checkpoint %s does not hold trainable parameter %s: resume with the settings of the run that wrote it", path, p.Name)
		}
	}
	if len(ci.Trainable) != len(t.Trainable) {
		return nil, fmt.Errorf("checkpoint %s holds %d parameters, this run trains %d: resume with the settings of the run that wrote it", path, len(ci.Trainable), len(t.Trainable))
	}
	if cs := ci.State; cs.Rows != st.Rows || cs.StepsPerEpoch != st.StepsPerEpoch || cs.Total != st.Total || cs.Seed != st.Seed {
		return nil, fmt.Errorf("checkpoint %s was written by a run with %d training rows, %d steps per epoch, %d steps, seed %d; this one has %d, %d, %d, %d: resume with the same data and settings", path, cs.Rows, cs.StepsPerEpoch, cs.Total, cs.Seed, st.Rows, st.StepsPerEpoch, st.Total, st.Seed)
	}
	ci, f, err := t.Model.LoadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	cs := ci.State
	ost, err := optimizerState(ci, f)
	if err != nil {
		return nil, err
	}
	if err := t.opt.LoadState(ost); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	*st = cs
	st.Optimizer = nil
	var best map[*graph.Param][]float32
	if st.BestCheckpoint != "" {
		bp := st.BestCheckpoint
		if filepath.Clean(bp) == filepath.Clean(path) {
			best = snapshot(t.Trainable)
		} else if bf, err := readParams(bp, base); err != nil {
			t.emit(Event{Kind: "warning", Message: fmt.Sprintf("the best checkpoint %s cannot be read (%v); the best weights so far are lost", bp, err)})
			st.BestCheckpoint = ""
		} else {
			best = map[*graph.Param][]float32{}
			for _, p := range t.Trainable {
				v := bf.Lookup(p.Name)
				if v == nil || v.Len() != p.Value.Len() {
					return nil, fmt.Errorf("best checkpoint %s does not hold %s", bp, p.Name)
				}
				best[p] = v.F32()
			}
		}
	}
	return best, nil
}

// readParams reads a checkpoint's tensors with the run's starting values as
// the XOR base.
func readParams(path string, base map[string]*tensor.Tensor) (*checkpoint.File, error) {
	return checkpoint.Read(path, checkpoint.ReadOptions{Base: func(n string) *tensor.Tensor { return base[n] }})
}

// gradNorm is the global L2 norm of the gradients.
func gradNorm(grads map[*graph.Param]*tensor.Tensor) float64 {
	s := 0.0
	for _, g := range grads {
		for _, v := range g.F32() {
			s += float64(v) * float64(v)
		}
	}
	return math.Sqrt(s)
}

func (t *Trainer) finish(res *Result, best map[*graph.Param][]float32, st *TrainState) (*Result, error) {
	res.Skipped = st.Skipped
	res.BestCheckpoint = st.BestCheckpoint
	res.best = best
	if best != nil && t.Args.LoadBestModelAtEnd {
		for p, v := range best {
			copy(p.Value.F32(), v)
		}
	}
	kind := "done"
	if res.Interrupted {
		kind = "interrupted"
	}
	t.emit(Event{Kind: kind, Step: res.Steps})
	return res, nil
}

// RestoreBest sets the trainable parameters to the best evaluated weights
// of the run (no-op when there was no evaluation). It reports whether it
// changed them.
func (r *Result) RestoreBest() bool {
	if r.best == nil {
		return false
	}
	for p, v := range r.best {
		copy(p.Value.F32(), v)
	}
	return true
}

func snapshot(ps []*graph.Param) map[*graph.Param][]float32 {
	m := map[*graph.Param][]float32{}
	for _, p := range ps {
		m[p] = append([]float32(nil), p.Value.F32()...)
	}
	return m
}

func mapKeys(m map[string]float64) []string {
	var r []string
	for k := range m {
		r = append(r, k)
	}
	return r
}

func scaleInPlace(t *tensor.Tensor, s float64) {
	switch d := t.Data.(type) {
	case []float32:
		for i := range d {
			d[i] *= float32(s)
		}
	case []float64:
		for i := range d {
			d[i] *= s
		}
	}
}

// Predictions runs the model on every row of src and returns the outputs
// (one row per example) and the targets.
func (t *Trainer) Predictions(ctx context.Context, src Source) (outs [][]float32, targets []*tensor.Tensor, err error) {
	outs, targets, _, err = t.predict(ctx, src, false)
	return outs, targets, err
}

// predict runs src in evaluation batches; with withLoss it also returns the
// loss over all rows (the per-batch mean losses weighted by batch size),
// computed on each batch's output as it comes.
func (t *Trainer) predict(ctx context.Context, src Source, withLoss bool) (outs [][]float32, targets []*tensor.Tensor, loss float64, err error) {
	t.Args.Defaults()
	bs := t.Args.PerDeviceEvalBatchSize
	if bs <= 0 {
		return nil, nil, 0, &ArgError{"per_device_eval_batch_size", bs, "an integer from 1 to 2147483647 (0: the training batch size)"}
	}
	lossSum := 0.0
	for lo := 0; lo < src.Len(); lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		rows := make([]int, 0, min(bs, src.Len()-lo)) // not the flag's size: the batch may exceed the data
		for i := lo; i < min(lo+bs, src.Len()); i++ {
			rows = append(rows, i)
		}
		b, err := src.Batch(rows)
		if err != nil {
			return nil, nil, 0, err
		}
		res, err := t.Model.Graph.Run(b.Feeds, t.Model.Output)
		if err != nil {
			return nil, nil, 0, err
		}
		y := res[t.Model.Output]
		if withLoss {
			l, _, err := t.Loss.Loss(y, b.Target)
			if err != nil {
				return nil, nil, 0, err
			}
			lossSum += l * float64(b.Size)
		}
		c := y.Len() / max(1, b.Size)
		d := y.F32()
		for i := 0; i < b.Size; i++ {
			outs = append(outs, append([]float32(nil), d[i*c:(i+1)*c]...))
		}
		targets = append(targets, b.Target)
	}
	return outs, targets, lossSum / float64(max(1, len(outs))), nil
}

// Evaluate returns the loss and the metrics of the problem type on src.
func (t *Trainer) Evaluate(ctx context.Context, src Source) (map[string]float64, error) {
	if t.Loss == nil {
		t.Loss = NewCrossEntropyLoss()
	}
	t.LastReport = nil
	outs, targets, loss, err := t.predict(ctx, src, true)
	if err != nil {
		return nil, err
	}
	m := map[string]float64{"loss": loss}
	switch t.Problem {
	case Regression:
		var yt, yp []float64
		for _, tg := range targets {
			yt = append(yt, tg.Float64s()...)
		}
		for _, o := range outs {
			yp = append(yp, float64(o[0]))
		}
		rep, err := RegressionMetrics(yt, yp)
		if err != nil {
			return nil, err
		}
		for k, v := range rep.Metrics() {
			m[k] = v
		}
		return m, nil
	case MultiLabel:
		var yt, yp [][]bool
		for _, tg := range targets {
			c := tg.Shape[len(tg.Shape)-1]
			yt = append(yt, ThresholdRows(tg.F32(), c, 0.5)...)
		}
		for _, o := range outs {
			// sigmoid(z) > 0.5  ⇔  z > 0
			yp = append(yp, ThresholdRows(o, len(o), 0)...)
		}
		rep, err := MultiLabelMetrics(yt, yp)
		if err != nil {
			return nil, err
		}
		for k, v := range rep.Metrics() {
			m[k] = v
		}
		return m, nil
	}
	var yTrue, yPred []int
	for _, tg := range targets {
		for _, v := range tg.I64() {
			yTrue = append(yTrue, int(v))
		}
	}
	for _, o := range outs {
		best := 0
		for j, v := range o {
			if v > o[best] {
				best = j
			}
		}
		yPred = append(yPred, best)
	}
	k := len(t.Model.Labels)
	if k == 0 && len(outs) > 0 {
		k = len(outs[0])
	}
	rep, err := ClassificationMetrics(yTrue, yPred, k)
	if err != nil {
		return nil, err
	}
	for name, v := range rep.Metrics() {
		m[name] = v
	}
	t.LastReport = rep
	return m, nil
}
