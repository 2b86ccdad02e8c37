package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"ft/dataset"
	"ft/finetune"
	"ft/graph"
	"ft/internal/bundled"
	"ft/optim"
	"ft/tokenize"
)

type runFlags struct {
	fs                                    *flag.FlagSet
	model, train, eval, outputDir, config string
	textCol, pairCol, labelCol, problem   string
	pooling                               string
	trainParams, freeze                   multiFlag
	topLayers                             int
	freezeEmb, dryRun, overwrite          bool
	maxLength                             int
	args                                  finetune.Args
	batchSize                             int
	greater                               string
	loraR                                 int
	loraAlpha, loraDropout                float64
	loraTargets                           multiFlag
	// resume is --resume as given, resumePath the checkpoint it names;
	// exportModel is --export-model; explicit holds the flags set on the
	// command line or by --config (name -> value), stored in checkpoints.
	resume, resumePath, exportModel string
	explicit                        map[string]string
	// sections are config keys whose value a command reads itself (ft
	// sweep's "sweep"); parse stores their values here.
	sections map[string]any
	// tok holds the flags of token classification (tokencls.go).
	tok tokenFlags
	// groups are the sections of --help; only, when set, the flags a
	// command (ft eval) uses: its help lists those, its command line
	// takes no other.
	groups *flagGroups
	only   map[string]bool
	// given holds the flags given on the command line (not by --config).
	given map[string]bool
	// test is a file scored once after training (the demo's test set);
	// holdOut: the evaluation data is every holdOutEvery-th training row
	// (the demo's validation split), not a file.
	test    string
	holdOut bool
	// task is --task (empty: from the data and the export).
	task string
	// emb holds the sentence-embedding flags (embed.go).
	emb embedFlags
}

// holdOutEvery: the demo holds out every 10th training row for validation.
const holdOutEvery = 10

// demoSettings lists the demo's training settings as flags.
func demoSettings(f *runFlags) string {
	var parts []string
	for _, n := range []string{"learning-rate", "num-train-epochs", "per-device-train-batch-size", "warmup-ratio"} {
		parts = append(parts, "--"+n+" "+f.fs.Lookup(n).Value.String())
	}
	return strings.Join(parts, " ")
}

// splitHoldOut moves every k-th example of d (from the k-th) into a
// validation set and returns it; d keeps the others.
func splitHoldOut(d *dataset.Dataset, k int) *dataset.Dataset {
	v := *d
	v.Path = fmt.Sprintf("%s (every %dth row, held out)", d.Path, k)
	v.Examples, v.Warnings = nil, nil
	var keep []dataset.Example
	for i, e := range d.Examples {
		if (i+1)%k == 0 {
			v.Examples = append(v.Examples, e)
		} else {
			keep = append(keep, e)
		}
	}
	d.Examples = keep
	d.Path = fmt.Sprintf("%s (without the held-out rows)", d.Path)
	return &v
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, strings.Split(s, ",")...); return nil }

func newRunFlags(name string, stderr io.Writer) *runFlags {
	f := &runFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs := f.fs
	f.groups = newFlagGroups(fs)
	fs.SetOutput(stderr)
	a := &f.args
	// The groups of ft run --help, in order; a flag is in the group of the
	// section above it (flagGroups), so a new flag goes into its block.
	sec := f.groups.section

	sec("Model")
	fs.StringVar(&f.model, "model", "", "Hugging Face ONNX export folder (model.onnx, config.json, tokenizer.json) or .onnx file (default: the bundled tiny BERT)")
	fs.StringVar(&f.pooling, "pooling", "", "pooling for a feature-extraction export: mean or cls (default: as sentence-transformers would, mean)")
	fs.Var(&f.trainParams, "train-params", "train only parameters matching these globs or substrings (repeatable, comma-separated)")
	fs.Var(&f.freeze, "freeze", "freeze parameters matching these globs or substrings (repeatable, comma-separated)")
	fs.IntVar(&f.topLayers, "train-top-layers", 0, "train only the top N encoder layers and the head")
	fs.BoolVar(&f.freezeEmb, "freeze-embeddings", false, "freeze the embeddings")

	sec("Data")
	fs.StringVar(&f.train, "train", "", "training file: .csv, .tsv or .jsonl (default: the bundled SST-2 sample)")
	fs.StringVar(&f.eval, "eval", "", "evaluation file, same format (default with the bundled model: a validation split held out of the bundled training sample)")
	fs.StringVar(&f.textCol, "text-column", "", "text column (default: text, else sentence, else sentence1; column 0 without a header)")
	fs.StringVar(&f.pairCol, "text-pair-column", "", "second text column for sentence pairs (default: text_pair or sentence2 when present)")
	fs.StringVar(&f.labelCol, "label-column", "", "label column (default: label, else labels; the last column without a header)")
	fs.StringVar(&f.problem, "problem-type", "", "single_label_classification, multi_label_classification or regression (default: from the labels)")
	fs.IntVar(&f.maxLength, "max-length", 128, "truncate texts to this many tokens (special tokens included)")
	fs.BoolVar(&a.NoShuffle, "no-shuffle", false, "keep the training rows in file order")
	fs.BoolVar(&a.GroupByLength, "group-by-length", false, "batch rows of similar length together (less padding, faster; HF group_by_length): shuffled, then sorted by length within groups of 50 batches")

	sec("Training")
	fs.Float64Var(&a.LearningRate, "learning-rate", 5e-5, "peak learning rate")
	fs.Float64Var(&a.NumTrainEpochs, "num-train-epochs", 3, "passes over the training data (fractions allowed)")
	fs.IntVar(&a.MaxSteps, "max-steps", -1, "stop after this many optimizer steps (overrides epochs when > 0)")
	fs.IntVar(&a.PerDeviceTrainBatchSize, "per-device-train-batch-size", 8, "training batch size")
	fs.IntVar(&f.batchSize, "batch-size", 0, "alias of --per-device-train-batch-size")
	fs.IntVar(&a.GradientAccumulationSteps, "gradient-accumulation-steps", 1, "micro-batches per optimizer step")
	fs.Float64Var(&a.WeightDecay, "weight-decay", 0, "decoupled weight decay (AdamW); none on biases and LayerNorm weights")
	fs.Float64Var(&a.WarmupRatio, "warmup-ratio", 0, "fraction of the steps spent warming up the learning rate")
	fs.IntVar(&a.WarmupSteps, "warmup-steps", 0, "warmup steps (overrides --warmup-ratio)")
	fs.StringVar(&a.LRSchedulerType, "lr-scheduler-type", "linear", "linear, cosine, constant or constant_with_warmup")
	fs.StringVar(&a.Optim, "optim", "adamw", "adamw, adam or sgd")
	fs.Float64Var(&a.AdamBeta1, "adam-beta1", 0.9, "Adam beta1")
	fs.Float64Var(&a.AdamBeta2, "adam-beta2", 0.999, "Adam beta2")
	fs.Float64Var(&a.AdamEpsilon, "adam-epsilon", 1e-8, "Adam epsilon")
	fs.Float64Var(&a.Momentum, "momentum", 0, "SGD momentum")
	fs.BoolVar(&a.Nesterov, "nesterov", false, "SGD with Nesterov momentum")
	fs.Float64Var(&a.MaxGradNorm, "max-grad-norm", 1.0, "clip the global gradient norm (0: off)")
	fs.Float64Var(&a.L1, "l1", 0, "L1 penalty on the trainable weights")
	fs.Float64Var(&a.L2, "l2", 0, "L2 penalty on the trainable weights")
	var seed uint64 = 42
	fs.Uint64Var(&seed, "seed", 42, "seed for shuffling and new heads (same seed, same bits)")
	a.Seed = seed
	fs.StringVar(&a.OnNonFinite, "on-non-finite", "skip", "a step whose loss or gradient is NaN or infinite: skip (weights unchanged, a warning) or stop (the run ends with an error)")

	fs.BoolVar(&a.BF16, "bf16", false, "matrix products in bfloat16 with float32 accumulation (PyTorch's CPU autocast): faster where the CPU has AMX or AVX512_BF16; weights, optimizer and other ops stay float32")
	fs.BoolVar(&a.GradientCheckpointing, "gradient-checkpointing", false, "keep only each encoder layer's input during training and recompute the layer in backward: less memory, the same gradients, a slower step")

	sec("Evaluation")
	fs.StringVar(&a.EvalStrategy, "eval-strategy", "", "no, steps or epoch (default: epoch when there is evaluation data)")
	fs.IntVar(&a.EvalSteps, "eval-steps", 0, "evaluate every N steps (with --eval-strategy steps; default: --logging-steps, as transformers)")
	fs.IntVar(&a.PerDeviceEvalBatchSize, "per-device-eval-batch-size", 0, "evaluation batch size (default: the training batch size)")
	fs.StringVar(&a.MetricForBestModel, "metric-for-best-model", "", "eval metric for best-model tracking and early stopping (accuracy, f1_macro, loss, ...; default accuracy)")
	fs.StringVar(&f.greater, "greater-is-better", "", "true/false (default: false for loss, true otherwise)")
	fs.IntVar(&a.EarlyStoppingPatience, "early-stopping-patience", 0, "stop after N evaluations without improvement (0: off)")
	fs.BoolVar(&a.LoadBestModelAtEnd, "load-best-model-at-end", false, "restore the best evaluated weights before saving")

	sec("Checkpoints")
	fs.StringVar(&a.SaveStrategy, "save-strategy", "steps", "when to write a checkpoint (OUTPUT-DIR/checkpoint-<step>.ftckpt): steps (every --save-steps), epoch or no; also at each new best evaluation, on Ctrl-C/SIGTERM and at the end")
	fs.IntVar(&a.SaveSteps, "save-steps", 500, "write a checkpoint every N optimizer steps (with --save-strategy steps)")
	fs.IntVar(&a.SaveTotalLimit, "save-total-limit", 0, "keep only the newest N checkpoints, and the best (0: keep all)")
	fs.StringVar(&f.resume, "resume", "", "continue an interrupted run from its OUTPUT-DIR (its newest checkpoint) or a checkpoint file, with the settings stored in the checkpoint (flags given here override them)")
	fs.StringVar(&f.resume, "resume-from-checkpoint", "", "alias of --resume")

	sec("LoRA")
	fs.IntVar(&f.loraR, "lora-r", 0, "train LoRA adapters of this rank beside the frozen weights, plus the head (0: off; PEFT's default rank is 8); model/ gets them merged")
	fs.Float64Var(&f.loraAlpha, "lora-alpha", 8, "LoRA alpha: the adapters' update is scaled by alpha/r")
	fs.Float64Var(&f.loraDropout, "lora-dropout", 0, "LoRA dropout (only 0: ft trains without dropout)")
	fs.Var(&f.loraTargets, "lora-targets", "linear layers that get LoRA adapters: module names as PEFT's target_modules (query) or globs over parameter names (*.layer.1*.value) (default: query,value for BERT-like models)")

	sec("Output")
	fs.StringVar(&f.outputDir, "output-dir", "runs/ft-run", "where metrics.jsonl, curves.png and model/ (the fine-tuned export) go")
	fs.BoolVar(&f.overwrite, "overwrite-output-dir", false, "start over in an OUTPUT-DIR that holds an earlier run: its checkpoints, metrics.jsonl, curves.png and model/ are removed (files ft did not write are kept)")
	fs.StringVar(&f.exportModel, "export-model", "best", "what OUTPUT-DIR/model/ holds at the end: best (the best evaluated weights; the last ones without evaluation), last, or none")
	fs.IntVar(&a.LoggingSteps, "logging-steps", 10, "write the mean loss to metrics.jsonl every N steps")
	fs.StringVar(&f.config, "config", "", "YAML or JSON file of these settings (keys as flags or with underscores, e.g. learning_rate); flags override it")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the parameter table (what trains) and the data summary, then stop")
	sec("Task")
	fs.StringVar(&f.task, "task", "", taskFlagHelp)
	sec("Token classification")
	addTokenFlags(f)
	sec("Sentence embeddings")
	addEmbedFlags(fs, &f.emb)
	return f
}

// parse reads the flags, then the config file for the flags not given.
func (f *runFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return flagError{f.fs.Name(), fmt.Sprintf("unexpected argument %q (flags only)", f.fs.Arg(0))}
	}
	if f.only != nil {
		var unused string
		f.fs.Visit(func(fl *flag.Flag) {
			if !f.only[fl.Name] && unused == "" {
				unused = fl.Name
			}
		})
		if unused != "" {
			return flagError{f.fs.Name(), fmt.Sprintf("ft %s does not use --%s (it is a training flag of ft run)", f.fs.Name(), unused)}
		}
	}
	f.given = map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	if f.config != "" {
		set := map[string]bool{}
		f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
		b, err := os.ReadFile(f.config)
		if err != nil {
			return err
		}
		var m map[string]any
		if strings.HasSuffix(f.config, ".json") {
			err = json.Unmarshal(b, &m)
		} else {
			err = yaml.Unmarshal(b, &m)
		}
		if err != nil {
			return fmt.Errorf("%s: %s", f.config, oneLine(err.Error()))
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := f.sections[k]; ok {
				f.sections[k] = m[k]
				continue
			}
			name := strings.ReplaceAll(k, "_", "-")
			if name == "model-name-or-path" {
				name = "model"
			}
			if f.fs.Lookup(name) == nil {
				msg := fmt.Sprintf("%s: unknown setting %q (settings are the flags of ft run --help", f.config, k)
				if d := didYouMean(name, flagNamesOf(f.fs)); d != "" {
					msg += fmt.Sprintf("; did you mean %s?", strings.ReplaceAll(d, "-", "_"))
				}
				return errors.New(msg + ")")
			}
			if set[name] {
				continue
			}
			v := m[k]
			var s string
			switch x := v.(type) {
			case []any:
				var parts []string
				for _, e := range x {
					parts = append(parts, fmt.Sprint(e))
				}
				s = strings.Join(parts, ",")
			default:
				s = fmt.Sprint(x)
			}
			if err := f.fs.Set(name, s); err != nil {
				return fmt.Errorf("%s: %s: %w", f.config, k, err)
			}
		}
	}
	f.explicit = map[string]string{}
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "resume", "resume-from-checkpoint", "config", "dry-run", "overwrite-output-dir":
			return
		}
		f.explicit[fl.Name] = fl.Value.String()
	})
	if f.resume != "" {
		if err := f.applyResume(); err != nil {
			return err
		}
	}
	if f.batchSize > 0 {
		f.args.PerDeviceTrainBatchSize = f.batchSize
	}
	if sd := f.fs.Lookup("seed"); sd != nil {
		fmt.Sscan(sd.Value.String(), &f.args.Seed)
	}
	switch f.greater {
	case "":
	case "true", "false":
		g := f.greater == "true"
		f.args.GreaterIsBetter = &g
	default:
		return fmt.Errorf("--greater-is-better takes true or false")
	}
	return f.validate()
}

func runRun(args []string, stdout, stderr io.Writer) error {
	f := newRunFlags("run", stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: ft run [flags]

Fine-tunes a Hugging Face ONNX export on a labelled CSV/TSV/JSONL file, evaluates
it, and writes OUTPUT-DIR/model/ (an export folder of the same layout),
metrics.jsonl and curves.png. With no flags it fine-tunes the bundled tiny BERT
on a sample of SST-2 and prints its accuracy. Names and defaults follow the
Hugging Face Trainer. Ctrl-C stops after the current step and saves.

Flags (HF's underscore spellings work too: --learning_rate):

`)
		f.groups.print(stderr, nil)
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if emb, err := f.embedTask(); err != nil || emb {
		if err != nil {
			return err
		}
		return runEmbedding(f, stdout, stderr)
	}
	demo := f.model == ""
	if demo {
		dir, cleanup, err := bundled.Open("ft-demo-")
		if err != nil {
			return err
		}
		defer cleanup()
		f.model = filepath.Join(dir, bundled.Model)
		if f.train == "" {
			// select on a validation split held out of the training
			// sample; the test set is scored once, at the end
			f.train, f.test = filepath.Join(dir, bundled.Train), filepath.Join(dir, bundled.Eval)
			f.holdOut = f.eval == ""
		}
		// settings for a small random-weight model; flags still override
		setDefault(f.fs, "learning-rate", "1e-3")
		setDefault(f.fs, "num-train-epochs", "4")
		setDefault(f.fs, "per-device-train-batch-size", "32")
		setDefault(f.fs, "warmup-ratio", "0.1")
		if f.args.PerDeviceTrainBatchSize == 8 {
			f.args.PerDeviceTrainBatchSize = 32
		}
		fmt.Fprintf(stdout, "ft run with built-in defaults: fine-tuning the bundled tiny BERT (random weights, 2 layers, hidden 64)\n")
		fmt.Fprintf(stdout, "demo settings (not --help's defaults; flags override them): %s\n", demoSettings(f))
		switch {
		case f.holdOut:
			fmt.Fprintf(stdout, "training on %s, selecting the best model on every %dth row of it (held out), scoring it once on %s\n\n", f.train, holdOutEvery, f.test)
		case f.test != "":
			fmt.Fprintf(stdout, "training on %s, evaluating on %s, scoring once on %s\n\n", f.train, f.eval, f.test)
		}
	}
	if f.train == "" {
		return fmt.Errorf("give the training file with --train FILE (.csv, .tsv or .jsonl)")
	}
	if f.args.MetricForBestModel == "" {
		f.args.MetricForBestModel = "accuracy"
	}
	if os.Getenv("GOGC") == "" {
		// A training step allocates large short-lived tensors; collecting at
		// 50% heap growth instead of 100% cuts peak memory by about a
		// quarter at no measurable cost in speed (MiniLM on AG News).
		debug.SetGCPercent(50)
	}
	ctx, signalled, stop := notifyInterrupt()
	defer stop()
	job, err := prepare(f, stdout)
	if err != nil {
		return err
	}
	if f.dryRun {
		return nil
	}
	resuming := false
	if f.resumePath != "" {
		if f.overwrite {
			return fmt.Errorf("--overwrite-output-dir would remove the checkpoints --resume continues from: give one of them")
		}
		// continuing in the checkpoint's own folder (else the folder must be
		// free, as for a new run)
		r, err := finetune.PathRelation(f.outputDir, filepath.Dir(f.resumePath))
		if err != nil {
			return err
		}
		resuming = r == "same"
	}
	release, err := claimOutputDir(f.outputDir, runOutput, outputOptions{flag: "--output-dir", overwrite: f.overwrite,
		resume: resuming, bases: []string{job.model.Dir}}, stderr)
	if err != nil {
		return err
	}
	defer release()
	return interruptedExit(job.fit(ctx, f, stdout, stderr), signalled)
}

// errInterrupted is what fit returns after a signal stopped the run (and a
// checkpoint was saved).
var errInterrupted = errors.New("interrupted")

// interruptedExit turns fit's errInterrupted into the exit status of the
// signal that stopped the run; other errors pass through.
func interruptedExit(err error, signalled func() os.Signal) error {
	if errors.Is(err, errInterrupted) {
		return exitError{signalExitCode(signalled())}
	}
	return err
}

// signalExitCode is the shell's exit status for a process ended by s:
// 143 (128+15) for SIGTERM, else 130 (128+2, SIGINT).
func signalExitCode(s os.Signal) int {
	if s == syscall.SIGTERM {
		return 143
	}
	return 130
}

// exitError ends ft with an exit status and no further message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// notifyInterrupt returns a context cancelled by SIGINT or SIGTERM (the
// current step finishes and a checkpoint is saved) and the signal received;
// a second signal ends the process at once.
func notifyInterrupt() (context.Context, func() os.Signal, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var mu sync.Mutex
	var got os.Signal
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			mu.Lock()
			got = s
			mu.Unlock()
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-ch:
			code := signalExitCode(s)
			fmt.Fprintf(os.Stderr, "\nft: second %v: quitting without saving\n", s)
			runExitHooks()
			os.Exit(code)
		case <-done:
		}
	}()
	return ctx, func() os.Signal {
			mu.Lock()
			defer mu.Unlock()
			return got
		}, func() {
			signal.Stop(ch)
			close(done)
			cancel()
		}
}

// applyResume takes the settings stored in the checkpoint named by
// --resume for every flag not given on this command line.
func (f *runFlags) applyResume() error {
	path, err := finetune.FindCheckpoint(f.resume)
	if err != nil {
		return err
	}
	ci, err := finetune.ReadCheckpointInfo(path)
	if err != nil {
		return err
	}
	f.resumePath = path
	names := make([]string, 0, len(ci.Config))
	for k := range ci.Config {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, given := f.explicit[k]; given {
			continue
		}
		if f.fs.Lookup(k) == nil {
			return fmt.Errorf("checkpoint %s: stored setting %q is not an ft run flag", path, k)
		}
		if err := f.fs.Set(k, ci.Config[k]); err != nil {
			return fmt.Errorf("checkpoint %s: stored setting %s=%q: %w", path, k, ci.Config[k], err)
		}
		f.explicit[k] = ci.Config[k]
	}
	if _, given := f.explicit["output-dir"]; !given || ci.Config["output-dir"] == f.explicit["output-dir"] {
		// the run continues in the folder of its checkpoint
		f.outputDir = filepath.Dir(path)
	}
	return nil
}

func setDefault(fs *flag.FlagSet, name, value string) {
	set := false
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			set = true
		}
	})
	if !set {
		fs.Set(name, value)
	}
}

type job struct {
	model     *finetune.Model
	tok       *tokenize.Tokenizer
	train     *dataset.Dataset
	eval      *dataset.Dataset
	trainable []*paramRow
	trainer   *finetune.Trainer
	// report, when set, is printed after the final evaluation (token
	// classification: seqeval's per-type table).
	report func() string
	// test is scored once after training (nil: none); nTrain of nAll
	// parameters train.
	test         dataset.Source
	nTrain, nAll int
	// save, when set, writes the model instead of saveModel (embed.go).
	save func(dst string, stdout io.Writer) error
}

type paramRow struct {
	name  string
	shape []int
	count int
	train bool
}

func prepare(f *runFlags, stdout io.Writer) (*job, error) {
	if err := checkModelPath(f.model); err != nil {
		return nil, err
	}
	dir := modelFolder(f.model)
	tok, err := tokenize.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("%v (the export folder needs tokenizer.json)", err)
	}
	if tokens, err := f.isTokenTask(dir); err != nil {
		return nil, err
	} else if tokens {
		return prepareTokens(f, dir, tok, stdout)
	}
	cfg, err := finetune.ExportLabels(dir)
	if err != nil {
		return nil, err
	}
	ro := dataset.ReadOptions{TextColumn: f.textCol, TextPairColumn: f.pairCol, LabelColumn: f.labelCol, ID2Label: cfg}
	if f.problem != "" {
		p, err := dataset.ParseProblemType(f.problem)
		if err != nil {
			return nil, err
		}
		ro.Problem = p
	}
	train, err := dataset.Read(f.train, ro)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "train  %s\n", train.Summary())
	for _, w := range append(train.Warnings, datasetLabelTypos(train)...) {
		fmt.Fprintf(stdout, "       warning: %s\n", w)
	}
	var labels []string
	if train.Labels != nil {
		labels = train.Labels.Names
	}
	var eval, test *dataset.Dataset
	if f.holdOut {
		eval = splitHoldOut(train, holdOutEvery)
		fmt.Fprintf(stdout, "       %d rows train, %d rows held out for validation\n", train.Len(), eval.Len())
	}
	if f.test != "" {
		to := ro
		to.Labels, to.Problem = train.Labels, train.Problem
		if test, err = dataset.Read(f.test, to); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "test   %s\n", test.Summary())
	}
	if f.eval != "" {
		eo := ro
		eo.Labels = train.Labels
		eo.Problem = train.Problem
		if eval, err = dataset.Read(f.eval, eo); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "eval   %s\n", eval.Summary())
		for _, w := range eval.Warnings {
			fmt.Fprintf(stdout, "       warning: %s\n", w)
		}
	}
	mo := finetune.ModelOptions{Labels: labels, Pooling: f.pooling, Seed: f.args.Seed, Graph: graph.OptionsFromEnv()}
	if train.Problem == dataset.Regression {
		// one output, as transformers' num_labels=1
		mo.ProblemType = "regression"
		if _, given := f.explicit["metric-for-best-model"]; !given && f.args.MetricForBestModel == "accuracy" {
			f.args.MetricForBestModel = "loss" // transformers' default
		}
	}
	m, err := finetune.LoadModel(f.model, mo)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "model  %s (%s, inputs %v)\n", f.model, m.Task, m.Graph.InputNames())
	j := &job{model: m, tok: tok, train: train, eval: eval}
	trainable, err := j.selectTrainable(f, stdout)
	if err != nil {
		return nil, err
	}
	loss, err := finetune.LossFor(train.Problem)
	if err != nil {
		return nil, err
	}
	ts, err := dataset.NewTextSource(train, tok, m.Graph.InputNames(), f.maxLength)
	if err != nil {
		return nil, err
	}
	tr := &finetune.Trainer{Model: m, Args: f.args, Loss: loss, Train: ts, Trainable: trainable, Problem: train.Problem,
		RunConfig: f.explicit, ResumeFrom: f.resumePath}
	tr.Args.OutputDir = f.outputDir
	if eval != nil {
		es, err := dataset.NewTextSource(eval, tok, m.Graph.InputNames(), f.maxLength)
		if err != nil {
			return nil, err
		}
		tr.Eval = es
	}
	if test != nil {
		if j.test, err = dataset.NewTextSource(test, tok, m.Graph.InputNames(), f.maxLength); err != nil {
			return nil, err
		}
	}
	j.trainer = tr
	return j, nil
}

// selectTrainable adds LoRA adapters as the flags say, picks the parameters
// that train and prints them (the table with --dry-run).
func (j *job) selectTrainable(f *runFlags, stdout io.Writer) ([]*graph.Param, error) {
	m := j.model
	lora := finetune.LoRAConfig{R: f.loraR, Alpha: f.loraAlpha, Dropout: f.loraDropout, Targets: f.loraTargets, Seed: f.args.Seed}
	adapters, err := applyLoRA(m, lora, f.topLayers)
	if err != nil {
		return nil, err
	}
	for _, n := range m.Notes {
		fmt.Fprintf(stdout, "       %s\n", n)
	}
	sel := finetune.Selection{Train: f.trainParams, Freeze: f.freeze, TrainTopLayers: f.topLayers, FreezeEmbeddings: f.freezeEmb}
	trainable, err := sel.Select(m.Graph.Params)
	if adapters != nil {
		// LoRA: the adapters, the head and what --train-params also unfreezes
		trainable, err = finetune.LoRATrainable(m, adapters, sel)
	}
	if err != nil {
		return nil, err
	}
	on := map[string]bool{}
	for _, p := range trainable {
		on[p.Name] = true
	}
	nTrain, nAll := 0, 0
	for _, p := range m.Graph.Params {
		r := &paramRow{name: p.Name, shape: p.Value.Shape, count: p.Value.Len(), train: on[p.Name]}
		j.trainable = append(j.trainable, r)
		nAll += r.count
		if r.train {
			nTrain += r.count
		}
	}
	j.nTrain, j.nAll = nTrain, nAll
	if f.dryRun {
		w := 10
		for _, r := range j.trainable {
			w = max(w, len(r.name))
		}
		fmt.Fprintf(stdout, "\n  %-*s %-14s %10s  %s\n", w, "parameter", "shape", "count", "trains")
		for _, r := range j.trainable {
			t := "no"
			if r.train {
				t = "yes"
			}
			fmt.Fprintf(stdout, "  %-*s %-14s %10d  %s\n", w, r.name, fmt.Sprint(r.shape), r.count, t)
		}
	}
	fmt.Fprintf(stdout, "params %d of %d trainable (%.1f%%)\n", nTrain, nAll, 100*float64(nTrain)/float64(max(1, nAll)))
	if len(trainable) == 0 {
		return nil, fmt.Errorf("no parameter trains: check --train-params / --freeze / --train-top-layers")
	}
	return trainable, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (j *job) fit(ctx context.Context, f *runFlags, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(f.outputDir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(f.outputDir, "metrics.jsonl")
	if f.resumePath != "" {
		ci, err := finetune.ReadCheckpointInfo(f.resumePath)
		if err != nil {
			return err
		}
		// keep the records up to the checkpoint's step
		if err := finetune.TruncateMetricsLog(logPath, ci.State.Step); err != nil {
			return err
		}
	} else {
		os.Remove(logPath)
	}
	ml, err := finetune.OpenMetricsLog(logPath)
	if err != nil {
		return err
	}
	defer ml.Close()
	j.trainer.MetricsLog = ml
	lastCheckpoint := ""
	j.trainer.Events = j.printEvents(f, stdout, stderr, &lastCheckpoint)
	printSettings(stdout, j, f)
	start := time.Now()
	res, err := j.trainer.Fit(ctx)
	if err != nil {
		return err
	}
	if res.Interrupted {
		if lastCheckpoint == "" {
			fmt.Fprintf(stdout, "no checkpoint written (--save-strategy no)\n")
		} else {
			fmt.Fprintf(stdout, "checkpoint saved: %s\ncontinue with: ft run --resume %s\n", lastCheckpoint, f.outputDir)
		}
		return errInterrupted
	}
	dst, err := j.exportTrained(f, res, stdout)
	if err != nil {
		return err
	}
	bestStep := 0
	if j.trainer.Eval != nil && !math.IsNaN(res.BestMetric) {
		bestStep = res.BestStep
	}
	if err := plotMetricsFile(logPath, filepath.Join(f.outputDir, "curves.png"), bestStep, j.trainer.Args.MetricForBestModel); err != nil {
		fmt.Fprintf(stderr, "warning: no curves.png: %v\n", err)
	}
	fmt.Fprintf(stdout, "\ntrained %d steps in %s; model saved to %s (metrics.jsonl, curves.png beside it)\n", res.Steps, time.Since(start).Round(time.Second), dst)
	return j.printFinalScores(f, res, stdout)
}

// printEvents returns the trainer's event handler of ft run: a progress bar
// on a terminal, log lines otherwise. It records the last checkpoint
// written in *lastCheckpoint.
func (j *job) printEvents(f *runFlags, stdout, stderr io.Writer, lastCheckpoint *string) func(finetune.Event) {
	tty := isTerminal(stderr)
	bar := newProgressBar(stderr)
	return func(e finetune.Event) {
		switch e.Kind {
		case finetune.EventStep:
			if tty {
				bar.step(e)
			} else if e.Step%j.trainer.Args.LoggingSteps == 0 || e.Step == e.Total {
				fmt.Fprintf(stdout, "step %d/%d epoch %.2f loss %.4f lr %.3g %.0f samples/s ETA %s\n", e.Step, e.Total, e.Epoch, e.Loss, e.LearningRate, e.SamplesPerSec, e.ETA.Round(time.Second))
			}
		case finetune.EventEval:
			bar.clear()
			fmt.Fprintf(stdout, "eval at step %d (epoch %.2f): %s\n", e.Step, e.Epoch, formatMetrics(e.Metrics))
		case finetune.EventSkip, finetune.EventWarning:
			bar.clear()
			fmt.Fprintf(stderr, "warning: %s\n", e.Message)
		case finetune.EventResumed:
			fmt.Fprintf(stdout, "resumed from %s at step %d/%d (epoch %.2f)\n", f.resumePath, e.Step, e.Total, e.Epoch)
		case finetune.EventSave:
			*lastCheckpoint = e.Path
			if !tty {
				fmt.Fprintf(stdout, "checkpoint %s\n", e.Path)
			}
		case finetune.EventInterrupted:
			bar.done()
			fmt.Fprintf(stdout, "interrupted after step %d\n", e.Step)
		case finetune.EventDone:
			bar.done()
		}
	}
}

// exportTrained writes model/ as --export-model asks (restoring the best
// weights first for "best") and returns where it went, for the summary.
func (j *job) exportTrained(f *runFlags, res *finetune.Result, stdout io.Writer) (string, error) {
	dst := filepath.Join(f.outputDir, "model")
	restored := false
	switch f.exportModel {
	case "best":
		if restored = res.RestoreBest(); restored && res.BestStep != res.Steps {
			fmt.Fprintf(stdout, "model/ gets the best weights: step %d, %s %.4f\n", res.BestStep, j.trainer.Args.MetricForBestModel, res.BestMetric)
			res.Final = nil // evaluate what is exported
		}
	case "last", "none":
	default:
		return "", fmt.Errorf("--export-model %q: use best, last or none", f.exportModel)
	}
	if f.exportModel != "none" {
		// (every writer refuses non-finite weights)
		save := func(dst string, stdout io.Writer) error {
			return saveModel(j.model, dst, filepath.Join(f.outputDir, "peft-adapter"), stdout)
		}
		if j.save != nil {
			save = j.save
		}
		if err := save(dst, stdout); err != nil {
			return "", err
		}
	} else {
		dst = "(not exported: --export-model none)"
	}
	return dst, nil
}

// printFinalScores prints the final validation scores (evaluating the
// exported weights where the fit did not) and scores --test once.
func (j *job) printFinalScores(f *runFlags, res *finetune.Result, stdout io.Writer) error {
	var err error
	if j.trainer.Eval != nil {
		m := res.Final
		if m == nil {
			if m, err = j.trainer.Evaluate(context.Background(), j.trainer.Eval); err != nil {
				return err
			}
		}
		name := f.eval
		if f.holdOut {
			name = "validation (held-out rows)"
		}
		fmt.Fprintf(stdout, "eval %s: %s\n", name, formatMetrics(m))
		if acc, ok := m["accuracy"]; ok && j.test == nil {
			fmt.Fprintf(stdout, "accuracy %.4f\n", acc)
		}
		if j.report != nil {
			fmt.Fprintf(stdout, "\n%s", j.report())
		}
	}
	if j.test != nil {
		// scored once, after the model was chosen on the validation data
		m, err := j.trainer.Evaluate(context.Background(), j.test)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "test %s (scored once, not used to choose the model): %s\n", f.test, formatMetrics(m))
		if acc, ok := m["accuracy"]; ok {
			fmt.Fprintf(stdout, "test accuracy %.4f\n", acc)
		}
	}
	return nil
}

// printSettings says what will run, as transformers' "***** Running
// training *****" block.
func printSettings(w io.Writer, j *job, f *runFlags) {
	a := j.trainer.Args
	a.Defaults()
	n := j.trainer.Train.Len()
	perEpoch := dataset.StepsPerEpoch(n, a.PerDeviceTrainBatchSize, a.GradientAccumulationSteps, false)
	total := a.MaxSteps
	epochs := fmt.Sprint(a.NumTrainEpochs)
	if total <= 0 {
		total = int(math.Ceil(a.NumTrainEpochs * float64(perEpoch)))
	} else {
		epochs = fmt.Sprintf("%.2f (--max-steps %d)", float64(total)/float64(max(1, perEpoch)), total)
	}
	warmup := optim.WarmupSteps(a.WarmupSteps, a.WarmupRatio, total)
	evalWhat := "none (no evaluation data)"
	if j.trainer.Eval != nil {
		strategy := a.EvalStrategy
		if strategy == "" {
			strategy = "epoch"
		}
		evalWhat = fmt.Sprintf("%d rows, every %s", j.trainer.Eval.Len(), strategy)
		if strategy == "steps" {
			evalWhat = fmt.Sprintf("%d rows, every %d steps", j.trainer.Eval.Len(), a.EvalSteps)
		} else if strategy == "no" {
			evalWhat = fmt.Sprintf("%d rows, at the end only (--eval-strategy no)", j.trainer.Eval.Len())
		}
		evalWhat += fmt.Sprintf("; best model by %s", a.MetricForBestModel)
	}
	rows := [][2]string{
		{"Num examples", fmt.Sprint(n)},
		{"Num epochs", epochs},
		{"Per-device batch size", fmt.Sprint(a.PerDeviceTrainBatchSize)},
		{"Gradient accumulation steps", fmt.Sprint(a.GradientAccumulationSteps)},
		{"Total batch size", fmt.Sprint(a.PerDeviceTrainBatchSize * a.GradientAccumulationSteps)},
		{"Total optimization steps", fmt.Sprint(total)},
		{"Learning rate", fmt.Sprintf("%g, %s schedule, %d warmup steps", a.LearningRate, a.LRSchedulerType, warmup)},
		{"Optimizer", fmt.Sprintf("%s, weight decay %g", a.Optim, a.WeightDecay)},
		{"Trainable parameters", fmt.Sprintf("%d of %d (%.1f%%)", j.nTrain, j.nAll, 100*float64(j.nTrain)/float64(max(1, j.nAll)))},
		{"Evaluation", evalWhat},
		{"Output", f.outputDir},
	}
	fmt.Fprintf(w, "\n***** Running training *****\n")
	for _, r := range rows {
		fmt.Fprintf(w, "  %-28s = %s\n", r[0], r[1])
	}
	fmt.Fprintln(w)
}

func formatMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if strings.Contains(k, "/") || strings.HasPrefix(k, "support") {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.4f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// applyLoRA adds LoRA adapters when --lora-r > 0 (nil adapters otherwise).
func applyLoRA(m *finetune.Model, cfg finetune.LoRAConfig, topLayers int) ([]*graph.Param, error) {
	if cfg.R <= 0 {
		if cfg.R < 0 || len(cfg.Targets) > 0 || cfg.Dropout != 0 {
			return nil, fmt.Errorf("--lora-targets and --lora-dropout need --lora-r > 0 (the adapters' rank)")
		}
		return nil, nil
	}
	if topLayers > 0 {
		return nil, fmt.Errorf("--train-top-layers does not combine with --lora-r: choose the adapted layers with --lora-targets")
	}
	return finetune.ApplyLoRA(m, cfg)
}

// saveModel writes the export folder, with LoRA adapters merged into the
// weights (a plain ONNX model), and the adapters in PEFT's format beside it.
func saveModel(m *finetune.Model, dst, peftDir string, stdout io.Writer) error {
	if !finetune.HasLoRA(m) {
		return m.Save(dst)
	}
	if err := finetune.SavePEFT(m, peftDir); err != nil {
		return err
	}
	mm, err := finetune.MergeLoRA(m)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "LoRA adapters merged into %s; PEFT adapter (peft.PeftModel.from_pretrained) in %s\n", dst, peftDir)
	return mm.Save(dst)
}
