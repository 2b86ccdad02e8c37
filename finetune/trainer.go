package finetune

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ft/checkpoint"
	"ft/dataset"
	"ft/graph"
	"ft/optim"
	"ft/tensor"
)

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
	GroupByLength             bool    // batches of rows of similar length (HF group_by_length; the Source must be a dataset.LengthSource)
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
	// BF16 runs the matrix products in bfloat16 with float32 accumulation
	// (transformers' bf16, PyTorch's CPU autocast; graph.Options.BF16),
	// in training and evaluation; weights, optimizer state and every
	// other op stay float32. A model loaded with ModelOptions.Graph.BF16
	// runs so whatever this says. Checkpoints record it and a resumed run
	// keeps it.
	BF16 bool
	// GradientCheckpointing recomputes each encoder layer's forward during
	// backward instead of keeping its activations (transformers'
	// gradient_checkpointing; graph.Options.GradientCheckpointing): less
	// memory, the same gradients bit for bit, one more forward of the layers.
	GradientCheckpointing bool
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
	if a.EvalStrategy == "steps" && a.EvalSteps == 0 {
		a.EvalSteps = a.LoggingSteps // as transformers: eval_steps defaults to logging_steps
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

// Validate checks the arguments (run it after Defaults): numbers in their
// ranges (an *ArgError naming the TrainingArguments name, learning_rate),
// then the fields that name a choice. Its errors name the Go fields (Args.SaveStrategy, ...); a front
// end with other names for them translates.
func (a *Args) Validate() error {
	if err := a.validateRanges(); err != nil {
		return err
	}
	switch a.Optim {
	case "adamw", "adamw_torch", "adamw_hf", "adam", "sgd":
	default:
		return fmt.Errorf("Args.Optim %q: use adamw, adam or sgd", a.Optim)
	}
	if !slices.Contains(optim.ScheduleNames, a.LRSchedulerType) {
		return fmt.Errorf("Args.LRSchedulerType %q: use one of %s", a.LRSchedulerType, strings.Join(optim.ScheduleNames, ", "))
	}
	switch a.EvalStrategy {
	case "", "no", "steps", "epoch":
	default:
		return fmt.Errorf("Args.EvalStrategy %q: use no, steps or epoch", a.EvalStrategy)
	}
	switch a.SaveStrategy {
	case "no", "steps", "epoch":
	default:
		return fmt.Errorf("Args.SaveStrategy %q: use no, steps or epoch", a.SaveStrategy)
	}
	switch a.OnNonFinite {
	case "skip", "stop":
	default:
		return fmt.Errorf("Args.OnNonFinite %q: use skip or stop", a.OnNonFinite)
	}
	return nil
}

// EventKind says what an Event reports.
type EventKind string

// The kinds of Event, in the order a run meets them.
const (
	EventResumed     EventKind = "resumed"     // ResumeFrom was loaded (Step, Total, Epoch)
	EventStep        EventKind = "step"        // an optimizer step (Loss, LearningRate, GradNorm, SamplesPerSec, ETA)
	EventSkip        EventKind = "skip"        // a step skipped for a non-finite loss or gradient (Message)
	EventEvaluating  EventKind = "evaluating"  // an evaluation starts (Step, Epoch)
	EventEval        EventKind = "eval"        // an evaluation ended (Metrics)
	EventSave        EventKind = "save"        // a checkpoint was written (Path)
	EventWarning     EventKind = "warning"     // something the user should know (Message)
	EventInterrupted EventKind = "interrupted" // ctx was cancelled; the run stopped after a checkpoint
	EventDone        EventKind = "done"        // the run ended
)

// Event reports training progress to a callback.
type Event struct {
	Kind          EventKind
	Step, Total   int
	Epoch         float64
	Loss          float64 // mean training loss since the last step event
	LearningRate  float64
	GradNorm      float64
	SamplesPerSec float64
	ETA           time.Duration
	Metrics       map[string]float64 // eval metrics (EventEval)
	Path          string             // the checkpoint written (EventSave)
	Message       string             // EventSkip and EventWarning
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
//
// A task plugs into the same training loop through four fields, so that
// text classification, token classification or sentence embeddings share
// it: Train and Eval (a dataset.Source: its batches' Feeds are the model's
// inputs and Target what the loss compares the output with), Model (the
// graph and its Output: the task's head), Loss (the output's loss and
// gradient) and Metrics (what an evaluation reports; by default those of
// Problem). Everything else — optimizer, schedule, accumulation, clipping,
// evaluation and checkpoint timing, resuming — is the loop's.
type Trainer struct {
	Model     *Model
	Args      Args
	Loss      Loss
	Train     dataset.Source
	Eval      dataset.Source
	Trainable []*graph.Param
	// Problem decides the metrics when Metrics is nil (single-label by
	// default).
	Problem dataset.ProblemType
	// Metrics, when set, scores an evaluation instead of Problem's metrics:
	// outs holds the model's output for every example (one flattened row
	// each), targets the evaluation batches' targets in order. The result
	// must not hold "loss" (Evaluate adds it).
	Metrics func(outs [][]float32, targets []*tensor.Tensor) (map[string]float64, error)
	// Events receives progress (may be nil).
	Events func(Event)
	// MetricsLog, when set, gets one record per logging step and evaluation.
	MetricsLog *MetricsLog

	// LastReport is the classification report of the last Evaluate
	// (per-class scores, confusion matrix); nil for other problem types
	// and with Metrics set.
	LastReport *ClassificationReport
	// RunConfig is stored in checkpoints as is (ft run keeps its flags
	// there, to resume and export with the same settings).
	RunConfig map[string]string
	// ResumeFrom is a checkpoint file or a run folder (its newest
	// checkpoint) to continue from.
	ResumeFrom string

	opt     optim.Optimizer
	baseSHA string
}

// usePrecision turns bf16 mixed precision and gradient checkpointing on in
// the model's graph when Args ask for them, and returns whether the graph
// runs in bf16.
func (t *Trainer) usePrecision() bool {
	if t.Args.BF16 {
		t.Model.Graph.SetBF16(true)
	}
	if t.Args.GradientCheckpointing {
		t.Model.Graph.SetGradientCheckpointing(true)
	}
	return t.Model.Graph.Options().BF16
}

func (t *Trainer) emit(e Event) {
	if t.Events != nil {
		t.Events(e)
	}
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
		t.emit(Event{Kind: EventWarning, Message: fmt.Sprintf("removed %d unfinished checkpoint file(s) of an interrupted save", len(stale))})
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
			t.emit(Event{Kind: EventWarning, Message: fmt.Sprintf("the best checkpoint %s cannot be read (%v); the best weights so far are lost", bp, err)})
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

func (t *Trainer) finish(res *Result, best map[*graph.Param][]float32, st *TrainState) (*Result, error) {
	res.Skipped = st.Skipped
	res.BestCheckpoint = st.BestCheckpoint
	res.best = best
	if best != nil && t.Args.LoadBestModelAtEnd {
		for p, v := range best {
			copy(p.Value.F32(), v)
		}
	}
	kind := EventDone
	if res.Interrupted {
		kind = EventInterrupted
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
