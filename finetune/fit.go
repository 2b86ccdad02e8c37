package finetune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"ft/dataset"
	"ft/graph"
	"ft/optim"
	"ft/tensor"
)

// Fit trains until the epochs or max steps are done, ctx is cancelled (the
// current step finishes first), or early stopping triggers.
//
// With Args.OutputDir set and Args.SaveStrategy not "no", it writes
// checkpoints there (checkpoint-<step>.ftckpt: the trainable parameters,
// the optimizer state and the position in the data) every SaveSteps steps
// or every epoch, when an evaluation finds a new best model, when ctx is
// cancelled (also during an evaluation: the checkpoint of the last step
// then records the evaluation as still to do) and at the end. With
// ResumeFrom set it continues the run that wrote that checkpoint: the final
// weights are those of a run that was never interrupted, bit for bit.
func (t *Trainer) Fit(ctx context.Context) (*Result, error) {
	f, err := t.newFit(ctx)
	if err != nil {
		return nil, err
	}
	if f.st.PendingEval != "" {
		if res, err := f.pendingEvaluation(); res != nil || err != nil {
			return res, err
		}
	}
	for f.st.Step < f.total {
		if res, err := f.epoch(); res != nil || err != nil {
			return res, err
		}
	}
	return f.end()
}

// fit is one call of Fit: the run's settings and its moving state. Its
// steps return a non-nil Result or error when the run ends there.
type fit struct {
	t   *Trainer
	ctx context.Context
	a   Args

	opt           optim.Optimizer
	sched         *optim.Schedule
	lengths       []int // every training row's length (GroupByLength)
	total         int   // optimizer steps of the run
	evalStrategy  string
	greater       bool // a larger MetricForBestModel is better
	saving        bool
	base          map[string]*tensor.Tensor // starting values: checkpoints store their XOR with them
	accum         map[*graph.Param]*tensor.Tensor
	groups        []optim.ParamGroup // the optimizer's, also the penalties'
	st            *TrainState
	res           *Result
	best          map[*graph.Param][]float32
	start         time.Time
	startStep     int
	startSamples  int
	stepsPerEpoch int
}

// The evaluations a checkpoint can record as still to do
// (TrainState.PendingEval).
const (
	pendingStepsEval = "steps" // the evaluation after step Step
	pendingEpochEval = "epoch" // the evaluation at the end of epoch Epoch-1
)

// errEvalCancelled is what evaluate returns when ctx was cancelled during
// the evaluation.
var errEvalCancelled = errors.New("evaluation cancelled")

// newFit checks the trainer, builds the optimizer and the schedule, and
// loads ResumeFrom.
func (t *Trainer) newFit(ctx context.Context) (*fit, error) {
	t.Args.Defaults()
	a := t.Args
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if t.Train == nil || t.Train.Len() == 0 {
		return nil, fmt.Errorf("no training rows")
	}
	if len(t.Trainable) == 0 {
		return nil, fmt.Errorf("no trainable parameters: Trainer.Trainable is empty")
	}
	if t.Loss == nil {
		t.Loss = NewCrossEntropyLoss()
	}
	f := &fit{t: t, ctx: ctx, a: a, saving: a.OutputDir != "" && a.SaveStrategy != "no",
		accum: map[*graph.Param]*tensor.Tensor{}, res: &Result{BestMetric: math.NaN()}}
	f.groups = optim.DefaultParamGroups(t.Trainable)
	var err error
	if f.opt, err = t.newOptimizer(f.groups); err != nil {
		return nil, err
	}
	t.opt = f.opt
	n := t.Train.Len()
	if a.GroupByLength {
		if f.lengths, err = rowLengths(t.Train); err != nil {
			return nil, err
		}
	}
	f.stepsPerEpoch = dataset.StepsPerEpoch(n, a.PerDeviceTrainBatchSize, a.GradientAccumulationSteps, false)
	f.total = a.MaxSteps
	if f.total <= 0 {
		f.total = int(math.Ceil(a.NumTrainEpochs * float64(f.stepsPerEpoch)))
	}
	warmup := optim.WarmupSteps(a.WarmupSteps, a.WarmupRatio, f.total)
	if f.sched, err = optim.NewSchedule(a.LRSchedulerType, warmup, f.total); err != nil {
		return nil, err
	}
	f.evalStrategy = a.EvalStrategy
	if f.evalStrategy == "" {
		f.evalStrategy = "no"
		if t.Eval != nil {
			f.evalStrategy = "epoch"
		}
	}
	f.greater = a.MetricForBestModel != "loss"
	if a.GreaterIsBetter != nil {
		f.greater = *a.GreaterIsBetter
	}
	if f.saving || t.ResumeFrom != "" {
		f.base = map[string]*tensor.Tensor{}
		for _, p := range t.Trainable {
			f.base[p.Name] = p.Value.Clone()
		}
	}
	f.st = &TrainState{Total: f.total, StepsPerEpoch: f.stepsPerEpoch, Rows: n, Seed: a.Seed, BF16: t.usePrecision()}
	if _, layers := t.Model.Graph.Layers(); a.GradientCheckpointing && layers == 0 {
		t.emit(Event{Kind: EventWarning, Message: "gradient checkpointing: no encoder layer found in the node names (scopes like /encoder/layer.0/); every activation is kept"})
	}
	if t.ResumeFrom != "" {
		if err := f.resume(); err != nil {
			return nil, err
		}
	}
	f.start, f.startStep, f.startSamples = time.Now(), f.st.Step, f.st.Samples
	return f, nil
}

// newOptimizer builds the optimizer the arguments name over groups.
func (t *Trainer) newOptimizer(groups []optim.ParamGroup) (optim.Optimizer, error) {
	a := t.Args
	adam := optim.AdamConfig{LR: a.LearningRate, Beta1: a.AdamBeta1, Beta2: a.AdamBeta2, Eps: a.AdamEpsilon, WeightDecay: a.WeightDecay}
	switch a.Optim {
	case "adamw", "adamw_torch", "adamw_hf":
		return optim.NewAdamW(groups, adam)
	case "adam":
		return optim.NewAdam(groups, adam)
	case "sgd":
		return optim.NewSGD(groups, optim.SGDConfig{LR: a.LearningRate, Momentum: a.Momentum, Nesterov: a.Nesterov, WeightDecay: a.WeightDecay})
	}
	return nil, fmt.Errorf("Args.Optim %q: use adamw, adam or sgd", a.Optim)
}

// rowLengths returns every row's length for GroupByLength.
func rowLengths(src dataset.Source) ([]int, error) {
	ls, ok := src.(dataset.LengthSource)
	if !ok {
		return nil, fmt.Errorf("Args.GroupByLength needs a training source that knows its rows' lengths (a dataset.TextSource)")
	}
	lengths, err := ls.Lengths()
	if err != nil {
		return nil, err
	}
	if len(lengths) != src.Len() {
		return nil, fmt.Errorf("Args.GroupByLength: %d lengths for %d rows", len(lengths), src.Len())
	}
	return lengths, nil
}

// resume loads ResumeFrom into the parameters, the optimizer and the state.
func (f *fit) resume() error {
	var err error
	if f.best, err = f.t.resume(f.st, f.base); err != nil {
		return err
	}
	if bf := f.t.Model.Graph.Options().BF16; f.st.BF16 != bf {
		// the precision the run started with: the same steps, bit for bit
		f.t.Model.Graph.SetBF16(f.st.BF16)
		f.a.BF16, f.t.Args.BF16 = f.st.BF16, f.st.BF16
		f.t.emit(Event{Kind: EventWarning, Message: fmt.Sprintf("the checkpoint was written by a run with bf16 %v; the resumed run keeps it (this one asked for bf16 %v)", f.st.BF16, bf)})
	}
	f.res.Losses = append(f.res.Losses, f.st.Losses...)
	if f.st.BestMetric != nil {
		f.res.BestMetric, f.res.BestStep = *f.st.BestMetric, f.st.BestStep
	}
	f.t.emit(Event{Kind: EventResumed, Step: f.st.Step, Total: f.total, Epoch: float64(f.st.Epoch) + float64(f.st.Batch)/float64(max(1, f.stepsPerEpoch))})
	return nil
}

// epochBatches returns the batches of rows of an epoch.
func (f *fit) epochBatches(epoch int) ([][]int, error) {
	a := f.a
	if bs, ok := f.t.Train.(BatchSampler); ok {
		return bs.EpochBatches(a.PerDeviceTrainBatchSize, !a.NoShuffle, a.Seed, epoch)
	}
	if a.GroupByLength {
		return dataset.LengthGroupedBatches(f.lengths, a.PerDeviceTrainBatchSize, a.Seed, epoch, false)
	}
	return dataset.EpochBatches(f.t.Train.Len(), a.PerDeviceTrainBatchSize, !a.NoShuffle, a.Seed, epoch, false)
}

// epoch trains the rest of the current epoch, one optimizer step after the
// other, then evaluates and saves as the arguments say.
func (f *fit) epoch() (*Result, error) {
	epoch := f.st.Epoch
	batches, err := f.epochBatches(epoch)
	if err != nil {
		return nil, err
	}
	for bi := f.st.Batch; bi < len(batches); {
		last, loss, finite, err := f.accumulate(batches, bi)
		if err != nil {
			return nil, err
		}
		if err := f.update(epoch, last, len(batches), loss, finite); err != nil {
			return nil, err
		}
		if res, err := f.afterStep(epoch, last, len(batches)); res != nil || err != nil {
			return res, err
		}
		bi = last + 1
	}
	f.st.Epoch, f.st.Batch = epoch+1, 0
	return f.afterEpoch()
}

// accumulate runs forward and backward on the batches of one optimizer
// step (GradientAccumulationSteps of them, fewer at the end of the epoch),
// from batches[first], summing the gradients into f.accum. It returns the
// last batch used and the step's mean loss; after a non-finite loss the
// step's other batches are read but not run (finite is false).
func (f *fit) accumulate(batches [][]int, first int) (last int, loss float64, finite bool, err error) {
	gas := f.a.GradientAccumulationSteps
	finite = true
	for bi := first; ; bi++ {
		b, err := f.t.Train.Batch(batches[bi])
		if err != nil {
			return 0, 0, false, err
		}
		if finite {
			l, err := f.forwardBackward(b)
			if err != nil {
				return 0, 0, false, err
			}
			if isFinite(l) {
				loss += l / float64(gas)
			} else {
				finite, loss = false, l
			}
		}
		f.st.Samples += b.Size
		if bi-first+1 >= gas || bi == len(batches)-1 {
			return bi, loss, finite, nil
		}
	}
}

// forwardBackward runs one batch and adds its gradients (scaled for
// accumulation) to f.accum; a non-finite loss is returned without a
// backward pass.
func (f *fit) forwardBackward(b *dataset.Batch) (float64, error) {
	t, out := f.t, f.t.Model.Output
	if sl, ok := t.Loss.(StepLoss); ok {
		loss, grads, err := sl.Step(t.Model, b, t.Trainable, 1/float64(f.a.GradientAccumulationSteps))
		if err != nil || !isFinite(loss) {
			return loss, err
		}
		return loss, addGrads(f.accum, grads)
	}
	tr, err := t.Model.Graph.Forward(b.Feeds, []string{out}, t.Trainable)
	if err != nil {
		return 0, err
	}
	loss, dout, err := t.Loss.Loss(tr.Outputs[out], b.Target)
	if err != nil || !isFinite(loss) {
		return loss, err
	}
	if gas := f.a.GradientAccumulationSteps; gas > 1 {
		scaleInPlace(dout, 1/float64(gas))
	}
	grads, err := tr.Backward(map[string]*tensor.Tensor{out: dout})
	if err != nil {
		return 0, err
	}
	// Backward's gradients are fresh tensors that nothing else holds once
	// the trace is gone: addGrads takes them over.
	return loss, addGrads(f.accum, grads)
}

// update ends optimizer step st.Step+1, whose last batch is bi of nb: it
// applies the penalties, clips and steps the optimizer (or skips the step
// when the loss or the gradient is not finite), then records the step.
func (f *fit) update(epoch, bi, nb int, loss float64, finite bool) error {
	a, st := f.a, f.st
	if finite && (a.L1 != 0 || a.L2 != 0) {
		pen, err := optim.Penalty{L1: a.L1, L2: a.L2}.Apply(f.groups, f.accum)
		if err != nil {
			return err
		}
		loss += pen
	}
	norm := math.NaN()
	if finite {
		var err error
		if a.MaxGradNorm > 0 {
			norm, err = optim.ClipGradNorm(f.accum, a.MaxGradNorm)
		} else {
			norm, err = optim.GradNorm(f.accum)
		}
		if err != nil {
			return err
		}
		finite = isFinite(norm)
	}
	lr := f.sched.LR(a.LearningRate, st.Step)
	if finite {
		f.opt.SetLR(lr)
		if err := f.opt.Step(f.accum); err != nil {
			return err
		}
	} else if err := f.skip(epoch, bi, loss, norm); err != nil {
		return err
	}
	clear(f.accum)
	st.Step++
	st.Batch = bi + 1
	return f.record(float64(epoch)+float64(bi+1)/float64(nb), loss, lr, norm)
}

// skip reports a step with a non-finite loss or gradient norm, or stops the
// run (OnNonFinite "stop").
func (f *fit) skip(epoch, bi int, loss, norm float64) error {
	what := fmt.Sprintf("loss %v", loss)
	if isFinite(loss) {
		what = fmt.Sprintf("gradient norm %v", norm)
	}
	step := f.st.Step + 1
	if f.a.OnNonFinite == "stop" {
		return fmt.Errorf("step %d (epoch %d, batch %d): non-finite %s; stopping (Args.OnNonFinite stop); the last checkpoint holds the weights before it", step, epoch, bi, what)
	}
	f.st.Skipped++
	f.t.emit(Event{Kind: EventSkip, Step: step, Total: f.total, Message: fmt.Sprintf("step %d (epoch %d, batch %d): non-finite %s; step skipped, weights unchanged", step, epoch, bi, what)})
	return nil
}

// record keeps the step's loss, reports the step and writes the metrics
// log at logging steps.
func (f *fit) record(epoch, loss, lr, norm float64) error {
	st, res := f.st, f.res
	res.Losses = append(res.Losses, loss)
	if isFinite(loss) {
		st.LogLoss += loss
		st.LogCount++
	}
	el := time.Since(f.start)
	ev := Event{Kind: EventStep, Step: st.Step, Total: f.total, Epoch: epoch, Loss: loss, LearningRate: lr, GradNorm: norm,
		SamplesPerSec: float64(st.Samples-f.startSamples) / el.Seconds()}
	if done := st.Step - f.startStep; done > 0 {
		ev.ETA = time.Duration(float64(el) / float64(done) * float64(f.total-st.Step))
	}
	f.t.emit(ev)
	if f.t.MetricsLog != nil && (st.Step%f.a.LoggingSteps == 0 || st.Step == f.total) {
		vals := map[string]float64{"loss": st.LogLoss / float64(max(1, st.LogCount)), "learning_rate": lr, "grad_norm": norm}
		if err := f.t.MetricsLog.Write(Record{Step: st.Step, Epoch: epoch, Values: vals}); err != nil {
			return err
		}
		st.LogLoss, st.LogCount = 0, 0
	}
	return nil
}

// afterStep follows the optimizer step whose last batch was bi of nb:
// evaluation at evaluation steps, the end of the run (last step, early
// stopping or ctx cancelled) and checkpoints at save steps.
func (f *fit) afterStep(epoch, bi, nb int) (*Result, error) {
	st, a := f.st, f.a
	stop := false
	if f.t.Eval != nil && f.evalStrategy == "steps" && a.EvalSteps > 0 && st.Step%a.EvalSteps == 0 {
		var err error
		if stop, err = f.evaluate(float64(epoch) + float64(bi+1)/float64(nb)); err != nil {
			return f.evalFailed(err, pendingStepsEval)
		}
	}
	if f.ctx.Err() != nil {
		f.res.Interrupted = true
		stop = true
	}
	endOfEpoch := bi == nb-1
	if stop || st.Step >= f.total {
		// (an interrupted run at the end of an epoch resumes with that
		// epoch's evaluation)
		if endOfEpoch && !f.res.Interrupted {
			st.Epoch, st.Batch = epoch+1, 0
			if st.Step >= f.total {
				return f.lastEvaluation()
			}
		}
		return f.end()
	}
	// at the end of an epoch the checkpoint comes after its evaluation
	if !endOfEpoch && a.SaveStrategy == "steps" && a.SaveSteps > 0 && st.Step%a.SaveSteps == 0 {
		return nil, f.saveUnlessDone()
	}
	return nil, nil
}

// afterEpoch follows the end of epoch st.Epoch-1 before the run's last
// step: the epoch's evaluation, then its checkpoint.
func (f *fit) afterEpoch() (*Result, error) {
	a := f.a
	saveNow := a.SaveStrategy == "epoch" || (a.SaveStrategy == "steps" && a.SaveSteps > 0 && f.st.Step%a.SaveSteps == 0)
	stop := false
	if f.t.Eval != nil && f.evalStrategy == "epoch" {
		var err error
		if stop, err = f.evaluate(float64(f.st.Epoch)); err != nil {
			return f.evalFailed(err, pendingEpochEval)
		}
	}
	if saveNow {
		if err := f.saveUnlessDone(); err != nil {
			return nil, err
		}
	}
	if stop {
		return f.end()
	}
	return nil, nil
}

// lastEvaluation ends a run whose last step ended an epoch: that epoch's
// evaluation, the last checkpoint.
func (f *fit) lastEvaluation() (*Result, error) {
	if f.t.Eval != nil && f.evalStrategy == "epoch" {
		if _, err := f.evaluate(float64(f.st.Epoch)); err != nil {
			return f.evalFailed(err, pendingEpochEval)
		}
	}
	return f.end()
}

// pendingEvaluation does the evaluation that the resumed checkpoint
// records as cut short, and what followed it.
func (f *fit) pendingEvaluation() (*Result, error) {
	kind := f.st.PendingEval
	f.st.PendingEval = ""
	switch kind {
	case pendingStepsEval:
		batches, err := f.epochBatches(f.st.Epoch)
		if err != nil {
			return nil, err
		}
		return f.afterStep(f.st.Epoch, f.st.Batch-1, len(batches))
	case pendingEpochEval:
		if f.st.Step >= f.total {
			return f.lastEvaluation()
		}
		return f.afterEpoch()
	}
	return nil, fmt.Errorf("checkpoint in %s: unknown pending_evaluation %q in its state (want %q or %q)", f.t.ResumeFrom, kind, pendingStepsEval, pendingEpochEval)
}

// evalFailed ends the run after an evaluation error: when ctx was
// cancelled during the evaluation, with a checkpoint of the last step that
// records the evaluation (kind) as still to do, so that the resumed run
// does it again.
func (f *fit) evalFailed(err error, kind string) (*Result, error) {
	if !errors.Is(err, errEvalCancelled) {
		return nil, err
	}
	f.res.Interrupted = true
	f.st.PendingEval = kind
	err = f.save(false)
	f.st.PendingEval = ""
	if err != nil {
		return nil, err
	}
	f.res.Steps = f.st.Step
	return f.t.finish(f.res, f.best, f.st)
}

// evaluate runs an evaluation, logs it and keeps the best weights; stop
// says early stopping ends the run.
func (f *fit) evaluate(epoch float64) (stop bool, err error) {
	t, st, a := f.t, f.st, f.a
	t.emit(Event{Kind: EventEvaluating, Step: st.Step, Total: f.total, Epoch: epoch})
	m, err := t.Evaluate(f.ctx, t.Eval)
	if err != nil {
		if f.ctx.Err() != nil {
			return false, errEvalCancelled
		}
		return false, err
	}
	f.res.Final = m
	t.emit(Event{Kind: EventEval, Step: st.Step, Total: f.total, Epoch: epoch, Metrics: m})
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
		return false, fmt.Errorf("Args.MetricForBestModel %q is not among the eval metrics %v", a.MetricForBestModel, mapKeys(m))
	}
	if st.BestMetric == nil || (f.greater && v > *st.BestMetric) || (!f.greater && v < *st.BestMetric) {
		st.BestMetric, st.BestStep = &v, st.Step
		f.res.BestMetric, f.res.BestStep = v, st.Step
		st.Patience = 0
		f.best = snapshot(t.Trainable)
		// the best weights go to a checkpoint now, so that a resumed run
		// still knows them
		return false, f.save(true)
	}
	st.Patience++
	return a.EarlyStoppingPatience > 0 && st.Patience >= a.EarlyStoppingPatience, nil
}

// save writes a checkpoint of the current state (when saving).
func (f *fit) save(isBest bool) error {
	if !f.saving {
		return nil
	}
	st, dir := f.st, f.a.OutputDir
	st.Losses = f.res.Losses
	prevBest := st.BestCheckpoint
	if isBest {
		// the checkpoint knows it is the best one
		st.BestCheckpoint = checkpointPath(dir, st.Step)
	}
	path, err := f.t.writeCheckpoint(dir, st, f.base)
	if err != nil {
		st.BestCheckpoint = prevBest
		return err
	}
	f.t.emit(Event{Kind: EventSave, Step: st.Step, Total: f.total, Path: path})
	return pruneCheckpoints(dir, f.a.SaveTotalLimit, st.BestCheckpoint)
}

// saveUnlessDone saves, unless the checkpoint of this step was just written
// as the best one.
func (f *fit) saveUnlessDone() error {
	if f.st.BestCheckpoint != "" && f.st.BestStep == f.st.Step {
		return nil
	}
	return f.save(false)
}

// end saves the last checkpoint and ends the run.
func (f *fit) end() (*Result, error) {
	f.res.Steps = f.st.Step
	if err := f.saveUnlessDone(); err != nil {
		return nil, err
	}
	return f.t.finish(f.res, f.best, f.st)
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
