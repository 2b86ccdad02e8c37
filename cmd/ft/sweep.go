package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"ft/dataset"
	"ft/finetune"
	"ft/onnx"
	"ft/sweep"
)

// sweepParams are the hyper-parameters ft sweep searches: the flag, the
// TrainingArguments name (also the ft run setting) and how to set it.
var sweepParams = []struct {
	flag, name string
	set        func(a *finetune.Args, v float64)
}{
	{"sweep-learning-rate", "learning_rate", func(a *finetune.Args, v float64) { a.LearningRate = v }},
	{"sweep-batch-size", "per_device_train_batch_size", func(a *finetune.Args, v float64) { a.PerDeviceTrainBatchSize = int(v) }},
	{"sweep-num-train-epochs", "num_train_epochs", func(a *finetune.Args, v float64) { a.NumTrainEpochs = v }},
	{"sweep-warmup-ratio", "warmup_ratio", func(a *finetune.Args, v float64) { a.WarmupRatio = v }},
	{"sweep-weight-decay", "weight_decay", func(a *finetune.Args, v float64) { a.WeightDecay = v }},
}

type sweepFlags struct {
	specs      map[string]*string // flag name -> value specification
	method     string
	maxTrials  int
	maxMinutes float64
	seed       uint64
	saveModels bool
}

func addSweepFlags(fs *flag.FlagSet) *sweepFlags {
	s := &sweepFlags{specs: map[string]*string{}}
	for _, p := range sweepParams {
		s.specs[p.flag] = new(string)
	}
	fs.StringVar(s.specs["sweep-learning-rate"], "sweep-learning-rate", "", "learning rates to try: a list (1e-5,3e-5,1e-4), a range for random search (log:1e-5:1e-3), or N log-spaced values (log:1e-5:1e-3:4)")
	fs.StringVar(s.specs["sweep-batch-size"], "sweep-batch-size", "", "training batch sizes to try (8,16,32; or uniform:8:64 / log:8:64 for random search)")
	fs.StringVar(s.specs["sweep-num-train-epochs"], "sweep-num-train-epochs", "", "epochs to try (1,2,3; or uniform:1:4)")
	fs.StringVar(s.specs["sweep-warmup-ratio"], "sweep-warmup-ratio", "", "warmup ratios to try (0,0.06,0.1; or uniform:0:0.2)")
	fs.StringVar(s.specs["sweep-weight-decay"], "sweep-weight-decay", "", "weight decays to try (0,0.01,0.1; or uniform:0:0.1)")
	fs.StringVar(&s.method, "method", "grid", "grid (every combination of the listed values) or random (draws from lists and ranges)")
	fs.IntVar(&s.maxTrials, "max-trials", 0, "at most this many trials in the sweep, earlier runs' included (default: the whole grid; 10 for random search)")
	fs.Float64Var(&s.maxMinutes, "max-minutes", 0, "start no new trial after this many minutes (the running one finishes; 0: no limit)")
	fs.Uint64Var(&s.seed, "sweep-seed", 0, "seed of random search's draws (default: --seed)")
	fs.BoolVar(&s.saveModels, "save-trial-models", false, "also save each trial's model to OUTPUT-DIR/trial-N/model (off: trials write only metrics.jsonl)")
	return s
}

// sweepSectionKeys map the keys of a config file's sweep: section to flags.
var sweepSectionKeys = map[string]string{
	"learning-rate": "sweep-learning-rate", "batch-size": "sweep-batch-size",
	"per-device-train-batch-size": "sweep-batch-size", "num-train-epochs": "sweep-num-train-epochs",
	"warmup-ratio": "sweep-warmup-ratio", "weight-decay": "sweep-weight-decay",
	"method": "method", "max-trials": "max-trials", "max-minutes": "max-minutes",
	"seed": "sweep-seed", "save-trial-models": "save-trial-models",
}

// fromConfig applies the config file's sweep: section to the flags not
// given on the command line.
func (s *sweepFlags) fromConfig(f *runFlags) error {
	sec := f.sections["sweep"]
	if sec == nil {
		return nil
	}
	m, ok := sec.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: sweep: is a %T; it should hold settings such as learning_rate: [1e-5, 3e-5] and method: grid", f.config, sec)
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, ok := sweepSectionKeys[strings.ReplaceAll(k, "_", "-")]
		if !ok {
			var known []string
			for k := range sweepSectionKeys {
				known = append(known, strings.ReplaceAll(k, "-", "_"))
			}
			sort.Strings(known)
			return fmt.Errorf("%s: unknown sweep setting %q (known: %s)", f.config, k, strings.Join(known, ", "))
		}
		if set[name] {
			continue
		}
		var v string
		switch x := m[k].(type) {
		case []any:
			var parts []string
			for _, e := range x {
				parts = append(parts, fmt.Sprint(e))
			}
			v = strings.Join(parts, ",")
		case map[string]any:
			return fmt.Errorf("%s: sweep.%s: give a list ([1e-5, 3e-5]) or a range (log:1e-5:1e-3)", f.config, k)
		default:
			v = fmt.Sprint(x)
		}
		if err := f.fs.Set(name, v); err != nil {
			return fmt.Errorf("%s: sweep.%s: %w", f.config, k, err)
		}
	}
	return nil
}

// sweepUsage is ft sweep's help text (the flags follow it).
const sweepUsage = `Usage: ft sweep --model DIR --train FILE --eval FILE --sweep-learning-rate 1e-5,3e-5,1e-4 [flags]

Searches hyper-parameters: each trial is a short ft run (every ft run flag sets
the base configuration) with one combination of the swept values, evaluated on
--eval. Grid search tries every combination of the listed values; random
search (--method random) draws from lists and ranges. The texts are tokenized
once for all trials, each trial starts from the model as loaded from disk, and
trials save no model unless --save-trial-models.

OUTPUT-DIR (default runs/ft-sweep) gets sweep.jsonl (one line per finished
trial: parameters, metrics, seconds), results.md (the trials, best first by
--metric-for-best-model), lr.png (the metric against the learning rate), and
best.yaml: the base configuration with the best trial's values, which
ft run --config OUTPUT-DIR/best.yaml trains again to the same score.
Ctrl-C stops after the current step; the same command then resumes the sweep,
skipping the trials sweep.jsonl holds.

In a --config file the sweep settings go under a sweep: key:
  sweep:
    learning_rate: [1e-5, 3e-5, 1e-4]    # or "log:1e-5:1e-3"
    per_device_train_batch_size: [16, 32]
    method: grid                         # max_trials, max_minutes, seed too

Flags:
`

func runSweep(args []string, stdout, stderr io.Writer) error {
	f, sw, err := parseSweepFlags(args, stderr)
	if err != nil {
		return err
	}
	r := &sweepRun{f: f, sw: sw, stdout: stdout, stderr: stderr, tty: isTerminal(stderr)}
	if err := r.makePlan(); err != nil {
		return err
	}
	if f.dryRun {
		return r.dryRun()
	}
	r.out = f.outputDir
	release, err := claimOutputDir(r.out, sweepOutput, outputOptions{flag: "--output-dir", overwrite: f.overwrite,
		resume: true, bases: []string{modelFolder(f.model)}}, stderr)
	if err != nil {
		return err
	}
	defer release()
	if err := checkSweepBase(filepath.Join(r.out, "base.json"), r.base); err != nil {
		return err
	}
	r.s.Log = filepath.Join(r.out, "sweep.jsonl")
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50) // as ft run
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := r.tokenizeOnce(); err != nil {
		return err
	}
	r.s.Events = r.events()
	results, runErr := r.s.Run(ctx, r.objective)
	if r.skipped > 0 {
		fmt.Fprintf(stdout, "all %d trials are already in %s: nothing to train\n", r.skipped, r.s.Log)
	}
	interrupted := errors.Is(runErr, context.Canceled)
	if runErr != nil && !interrupted {
		return runErr
	}
	if interrupted {
		fmt.Fprintf(stdout, "\ninterrupted: %d trials are in %s; run the same command again to resume\n", len(results), r.s.Log)
	}
	return sweepReport(results, r.names, r.metric, r.greater, r.base, f, stdout, stderr)
}

// parseSweepFlags reads ft sweep's command line (and --config) and checks
// what a sweep needs.
func parseSweepFlags(args []string, stderr io.Writer) (*runFlags, *sweepFlags, error) {
	f := newRunFlags("sweep", stderr)
	f.groups.section("Sweep")
	sw := addSweepFlags(f.fs)
	f.sections = map[string]any{"sweep": nil}
	// what ft run defaults to and ft sweep does not: the bundled model and
	// data (a sweep needs them named), runs/ft-run
	for name, usage := range map[string]string{
		"model": "Hugging Face ONNX export folder (model.onnx, config.json, tokenizer.json) or .onnx file (required)",
		"train": "training file: .csv, .tsv or .jsonl (required)",
		"eval":  "evaluation file, same format (required: trials are ranked by its metric)",
	} {
		f.fs.Lookup(name).Usage = usage
	}
	od := f.fs.Lookup("output-dir")
	od.DefValue = "runs/ft-sweep"
	od.Usage = "where sweep.jsonl, results.md, lr.png, best.yaml and trial-N/ go"
	f.fs.Usage = func() {
		fmt.Fprint(stderr, sweepUsage)
		f.groups.print(stderr, nil)
	}
	if err := f.parse(args); err != nil {
		return nil, nil, err
	}
	if err := sw.fromConfig(f); err != nil {
		return nil, nil, err
	}
	setDefault(f.fs, "output-dir", "runs/ft-sweep")
	for _, name := range []string{"resume", "resume-from-checkpoint"} {
		if fl := f.fs.Lookup(name); fl != nil && fl.Value.String() != "" {
			return nil, nil, fmt.Errorf("--%s is for ft run: ft sweep resumes by itself when run again with the same --output-dir", name)
		}
	}
	switch {
	case f.model == "":
		return nil, nil, fmt.Errorf("give the model with --model DIR (a Hugging Face ONNX export folder)")
	case f.train == "":
		return nil, nil, fmt.Errorf("give the training file with --train FILE (.csv, .tsv or .jsonl)")
	case f.eval == "":
		return nil, nil, fmt.Errorf("give an evaluation file with --eval FILE: trials are ranked by its metric")
	}
	if err := checkFloat("--max-minutes", sw.maxMinutes, 0, 1e6, false, "a number of minutes from 0 (no limit) to 1e6"); err != nil {
		return nil, nil, err
	}
	if err := checkInt("--max-trials", sw.maxTrials, 0, sweep.MaxTrials, "0: the whole grid, 10 for random search"); err != nil {
		return nil, nil, err
	}
	if f.args.MetricForBestModel == "" {
		f.args.MetricForBestModel = "accuracy"
		if m := embedSweepMetric(f); m != "" {
			f.args.MetricForBestModel = m
		}
	}
	return f, sw, nil
}

// sweepRun is one ft sweep: its settings, the search and the data that all
// trials share.
type sweepRun struct {
	f              *runFlags
	sw             *sweepFlags
	stdout, stderr io.Writer
	tty            bool

	s       *sweep.Sweep
	names   []string // the swept parameters, in flag order
	setters map[string]func(*finetune.Args, float64)
	metric  string
	greater bool
	base    []setting // the base configuration (best.yaml without the swept values)
	trials  []sweep.Trial
	total   int

	out               string
	trainSrc, evalSrc dataset.Source // tokenized once
	skipped           int            // trials found in the log, not yet reported
	nextNumber        int            // the number of the next trial (sweep.TrialResult.Number)
}

// makePlan builds the search from the flags.
func (r *sweepRun) makePlan() error {
	f, sw := r.f, r.sw
	r.metric = f.args.MetricForBestModel
	r.greater = r.metric != "loss"
	if f.args.GreaterIsBetter != nil {
		r.greater = *f.args.GreaterIsBetter
	}
	r.s = &sweep.Sweep{Method: sw.method, MaxTrials: sw.maxTrials, Seed: f.args.Seed,
		MaxDuration: time.Duration(sw.maxMinutes * float64(time.Minute))}
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "sweep-seed" {
			r.s.Seed = sw.seed
		}
	})
	r.setters = map[string]func(*finetune.Args, float64){}
	for _, p := range sweepParams {
		spec := *sw.specs[p.flag]
		if spec == "" {
			continue
		}
		sp, err := sweep.ParseParam(p.name, spec)
		if err != nil {
			return fmt.Errorf("--%s: %w", p.flag, err)
		}
		if p.name == "num_train_epochs" && f.args.MaxSteps > 0 {
			return fmt.Errorf("--%s has no effect with --max-steps %d (steps override epochs): drop one of them", p.flag, f.args.MaxSteps)
		}
		r.s.Params = append(r.s.Params, sp)
		r.names = append(r.names, p.name)
		r.setters[p.name] = p.set
	}
	if len(r.s.Params) == 0 {
		return fmt.Errorf("nothing to sweep: give the values to try, e.g. --sweep-learning-rate 1e-5,3e-5,1e-4 (or --sweep-batch-size, --sweep-num-train-epochs, --sweep-warmup-ratio, --sweep-weight-decay, or a sweep: section in --config)")
	}
	var err error
	if r.trials, r.total, err = r.s.Plan(); err != nil {
		return err
	}
	r.base, err = sweepBase(f, r.names)
	return err
}

// dryRun checks the data and the model and shows the plan.
func (r *sweepRun) dryRun() error {
	if _, err := prepareAny(r.f, r.stdout); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "\n%s search, %s:\n", r.s.Method, planSize(r.total))
	for i, t := range r.trials {
		if i == 20 {
			fmt.Fprintf(r.stdout, "  ...\n")
			break
		}
		fmt.Fprintf(r.stdout, "  %s\n", formatParams(r.names, t.Params))
	}
	return nil
}

// tokenizeOnce reads and tokenizes the data once for all trials.
func (r *sweepRun) tokenizeOnce() error {
	first, err := prepareAny(r.f, r.stdout)
	if err != nil {
		return err
	}
	if _, ok := first.trainer.Train.(*finetune.EmbedSource); ok {
		// sentence embeddings tokenize per batch
		r.trainSrc, r.evalSrc = first.trainer.Train, first.trainer.Eval
		return nil
	}
	t0 := time.Now()
	train, eval := first.trainer.Train, first.trainer.Eval
	if ts, ok := train.(*dataset.TextSource); ok {
		if train, err = ts.Cached(); err != nil {
			return err
		}
	}
	if es, ok := eval.(*dataset.TextSource); ok {
		if eval, err = es.Cached(); err != nil {
			return err
		}
	}
	// (a token-classification source tokenizes each batch: it is cheap next to a trial)
	r.trainSrc, r.evalSrc = train, eval
	fmt.Fprintf(r.stdout, "tokenized %d training and %d evaluation rows once for all trials (max length %d) in %s\n\n",
		train.Len(), eval.Len(), r.f.maxLength, time.Since(t0).Round(time.Millisecond))
	return nil
}

// events prints the sweep's progress.
func (r *sweepRun) events() func(sweep.Event) {
	return func(e sweep.Event) {
		of := strconv.Itoa(e.Total)
		if e.Total < 0 {
			of = "?"
		}
		switch e.Kind {
		case sweep.EventSkip:
			r.skipped++
			r.nextNumber++
		case sweep.EventStart:
			if r.skipped > 0 {
				fmt.Fprintf(r.stdout, "resuming: %d trials already in %s\n", r.skipped, r.s.Log)
				r.skipped = 0
			}
			// numbered as in results.md, sweep.jsonl and trial-N/ (from 0)
			fmt.Fprintf(r.stdout, "trial %d (%d/%s)  %s\n", r.nextNumber, e.Index+1, of, formatParams(r.names, e.Trial.Params))
		case sweep.EventDone, sweep.EventFailed:
			r.nextNumber = e.Result.Number + 1
		}
		switch e.Kind {
		case sweep.EventDone:
			fmt.Fprintf(r.stdout, "  %s %.4f, loss %.4f (%.1f s)\n", r.metric, e.Result.Metrics[r.metric], e.Result.Metrics["loss"], e.Result.Seconds)
		case sweep.EventFailed:
			fmt.Fprintf(r.stdout, "  failed: %s\n", e.Result.Error)
		case sweep.EventBudget:
			fmt.Fprintf(r.stdout, "time budget of %g minutes used: no new trial\n", r.sw.maxMinutes)
		}
	}
}

// objective trains and evaluates one trial: a fresh model from disk (no
// weights leak between trials) on the shared tokenized data.
func (r *sweepRun) objective(ctx context.Context, number int, t sweep.Trial) (map[string]float64, error) {
	tf := *r.f
	for name, v := range t.Params {
		r.setters[name](&tf.args, v)
	}
	j, err := prepareAny(&tf, io.Discard)
	if err != nil {
		return nil, err
	}
	tr := j.trainer
	tr.Train, tr.Eval = r.trainSrc, r.evalSrc
	// trials are short: no checkpoints (and nothing to resume from)
	tr.Args.OutputDir, tr.ResumeFrom = "", ""
	dir := filepath.Join(r.out, fmt.Sprintf("trial-%03d", number))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "metrics.jsonl")
	os.Remove(logPath)
	ml, err := finetune.OpenMetricsLog(logPath)
	if err != nil {
		return nil, err
	}
	defer ml.Close()
	tr.MetricsLog = ml
	if r.tty {
		tr.Events = r.trialProgress()
	}
	res, err := tr.Fit(ctx)
	if err != nil {
		return nil, flagNames(tf.fs, err) // the trial's error is shown as is
	}
	if res.Interrupted {
		return nil, context.Canceled
	}
	// the score ft run prints: the last evaluation
	m := res.Final
	if m == nil {
		if m, err = tr.Evaluate(ctx, tr.Eval); err != nil {
			return nil, err
		}
	}
	if r.sw.saveModels {
		save := func(dst string, _ io.Writer) error { return j.model.Save(dst) }
		if j.save != nil {
			save = j.save
		}
		if err := save(filepath.Join(dir, "model"), io.Discard); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// trialProgress draws a trial's progress on the terminal: ft run's
// progress line (fitted to the width), cleared when the trial ends.
func (r *sweepRun) trialProgress() func(finetune.Event) {
	bar := newProgressBar(r.stderr)
	return func(e finetune.Event) {
		switch e.Kind {
		case finetune.EventStep:
			bar.step(e)
		case finetune.EventDone, finetune.EventInterrupted:
			bar.clear()
		}
	}
}

func planSize(total int) string {
	if total < 0 {
		return "trials until the time budget ends"
	}
	return fmt.Sprintf("%d trials", total)
}

func formatParams(names []string, p map[string]float64) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+strconv.FormatFloat(p[n], 'g', -1, 64))
	}
	return strings.Join(parts, " ")
}

// sweepReport writes results.md, lr.png and best.yaml and prints the table.
func sweepReport(results []sweep.TrialResult, names []string, metric string, greater bool, base []setting, f *runFlags, stdout, stderr io.Writer) error {
	out := f.outputDir
	if len(results) == 0 {
		fmt.Fprintln(stdout, "no trial finished")
		return nil
	}
	sorted := append([]sweep.TrialResult(nil), results...)
	sweep.SortResults(sorted, metric, greater)
	dir := "higher is better"
	if !greater {
		dir = "lower is better"
	}
	table := sweep.Table(sorted, names, metric)
	fmt.Fprintf(stdout, "\n%d trials, best first by eval %s (%s):\n\n%s", len(results), metric, dir, table)
	md := fmt.Sprintf("# ft sweep\n\n%d trials, best first by eval %s (%s). The best configuration is best.yaml\n(`ft run --config best.yaml`); every trial's metrics.jsonl is in trial-N/.\n\n%s", len(results), metric, dir, table)
	if err := onnx.WriteFileAtomic(filepath.Join(out, "results.md"), []byte(md)); err != nil {
		return err
	}
	// lr.png: a trial without a swept learning rate ran at the base one
	withLR := make([]sweep.TrialResult, len(results))
	for i, r := range results {
		r.Params = copyParams(r.Params)
		if _, ok := r.Params["learning_rate"]; !ok {
			r.Params["learning_rate"] = f.args.LearningRate
		}
		withLR[i] = r
	}
	pngPath := filepath.Join(out, "lr.png")
	if err := plotSweep(withLR, "learning_rate", metric, greater, pngPath); err != nil {
		fmt.Fprintf(stderr, "warning: no lr.png: %v\n", err)
	}
	best, ok := sweep.BestTrial(results, metric, greater)
	if !ok {
		fmt.Fprintf(stdout, "\nno trial has a finite %s: no best.yaml\n", metric)
		return nil
	}
	bestPath := filepath.Join(out, "best.yaml")
	if err := writeBestConfig(bestPath, base, names, best, metric, out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nbest: trial %d, %s, eval %s %.4f\nwrote %s, %s, %s; ft run --config %s trains it again\n",
		best.Number, formatParams(names, best.Params), metric, best.Metrics[metric],
		filepath.Join(out, "results.md"), pngPath, bestPath, bestPath)
	return nil
}

func copyParams(m map[string]float64) map[string]float64 {
	c := make(map[string]float64, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// setting is one ft run setting of the sweep's base configuration.
type setting struct {
	key   string // the config key (flag name with underscores)
	value any    // bool, int, uint64, float64, string or []string
	text  string // the flag's value as text
}

// sweepBase returns the ft run settings every trial shares: the model and
// data files (as absolute paths) and every ft run flag that differs from its
// default, except the swept ones, the output folder and --config, whose
// settings are included.
func sweepBase(f *runFlags, swept []string) ([]setting, error) {
	runNames := map[string]bool{}
	newRunFlags("run", io.Discard).fs.VisitAll(func(fl *flag.Flag) { runNames[fl.Name] = true })
	skip := map[string]bool{"config": true, "dry-run": true, "output-dir": true, "batch-size": true, "resume": true, "resume-from-checkpoint": true}
	for _, n := range swept {
		skip[strings.ReplaceAll(n, "_", "-")] = true
	}
	var out []setting
	var err error
	f.fs.VisitAll(func(fl *flag.Flag) {
		if err != nil || !runNames[fl.Name] || skip[fl.Name] {
			return
		}
		path := fl.Name == "model" || fl.Name == "train" || fl.Name == "eval"
		text := fl.Value.String()
		if !path && text == fl.DefValue {
			return
		}
		st := setting{key: strings.ReplaceAll(fl.Name, "-", "_"), text: text}
		switch v := fl.Value.(type) {
		case *multiFlag:
			st.value = []string(*v)
		case flag.Getter:
			st.value = v.Get()
		default:
			st.value = text
		}
		if path {
			var abs string
			if abs, err = filepath.Abs(text); err != nil {
				return
			}
			st.value, st.text = abs, abs
		}
		out = append(out, st)
	})
	first := map[string]int{"model": 0, "train": 1, "eval": 2}
	rank := func(k string) int {
		if r, ok := first[k]; ok {
			return r
		}
		return len(first)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].key) < rank(out[j].key) })
	return out, err
}

// checkSweepBase records the base configuration in a new sweep folder, and
// refuses to resume a sweep that was started with another one.
func checkSweepBase(path string, base []setting) error {
	cur := map[string]string{}
	for _, s := range base {
		cur[s.key] = s.text
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		js, _ := json.MarshalIndent(cur, "", "  ")
		return onnx.WriteFileAtomic(path, append(js, '\n'))
	}
	if err != nil {
		return err
	}
	var old map[string]string
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	var diffs []string
	for k, v := range cur {
		if o, ok := old[k]; !ok || o != v {
			diffs = append(diffs, fmt.Sprintf("%s %q (was %q)", k, v, old[k]))
		}
	}
	for k, o := range old {
		if _, ok := cur[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s default (was %q)", k, o))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return fmt.Errorf("the sweep in %s was started with other settings (%s): its trials would not compare; give another --output-dir, or the same settings to resume", filepath.Dir(path), strings.Join(diffs, "; "))
	}
	return nil
}

// writeBestConfig writes an ft run config: the base settings and the best
// trial's values, training into OUT/best.
func writeBestConfig(path string, base []setting, names []string, best sweep.TrialResult, metric, out string) error {
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	doc := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, value any) {
		k := &yaml.Node{Kind: yaml.ScalarNode, Value: key}
		var v *yaml.Node
		switch x := value.(type) {
		case []string:
			v = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, s := range x {
				v.Content = append(v.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle})
			}
		case string:
			v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x, Style: yaml.DoubleQuotedStyle}
		case float64:
			v = &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatFloat(x, 'g', -1, 64)}
		default:
			v = &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(x)}
		}
		doc.Content = append(doc.Content, k, v)
	}
	for _, s := range base {
		add(s.key, s.value)
	}
	add("output_dir", filepath.Join(absOut, "best"))
	for _, n := range names {
		v := best.Params[n]
		if n == "per_device_train_batch_size" {
			add(n, int(v))
		} else {
			add(n, v)
		}
	}
	if len(doc.Content) > 0 {
		doc.Content[0].HeadComment = fmt.Sprintf("ft sweep's best trial (%d): eval %s %s.\nft run --config %s trains it again to the same score.",
			best.Number, metric, strconv.FormatFloat(best.Metrics[metric], 'g', -1, 64), path)
	}
	b, err := yaml.Marshal(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}})
	if err != nil {
		return err
	}
	return onnx.WriteFileAtomic(path, b)
}
