package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"ft/embed"
	"ft/finetune"
	"ft/graph"
	"ft/npy"
	"ft/tensor"
	"ft/tokenize"
)

// embedFlags are ft run's and ft eval's sentence-embedding settings.
type embedFlags struct {
	loss, normalize, columns string
	matryoshka               string
	scoreScale               float64
	miniBatch                int
	embeddingOutput          bool
}

// Task names for sentence embeddings (the Hugging Face Hub's task tag
// first).
var embedTasks = []string{"sentence-similarity", "embedding", "sentence-embedding"}

func addEmbedFlags(fs *flag.FlagSet, e *embedFlags) {
	fs.StringVar(&e.loss, "loss", "", "sentence-similarity loss, by sentence-transformers' class name: "+strings.Join(embed.LossNames, ", ")+" (default: CoSENTLoss for scored pairs, MultipleNegativesRankingLoss otherwise)")
	fs.StringVar(&e.normalize, "normalize", "", "true/false: L2-normalise the embeddings (default: as the folder's modules.json says, else false)")
	fs.StringVar(&e.matryoshka, "matryoshka-dims", "", "wrap the loss in MatryoshkaLoss with these dimensions, e.g. 384,256,128,64")
	fs.Float64Var(&e.scoreScale, "score-scale", 1, "divide the scores by this (5 for STS Benchmark's 0-5 scores)")
	fs.IntVar(&e.miniBatch, "mini-batch-size", 32, "CachedMultipleNegativesRankingLoss: texts per GradCache mini-batch")
	fs.BoolVar(&e.embeddingOutput, "sentence-embedding-output", false, "sentence-similarity: add pooling and normalisation to onnx/model.onnx as ONNX nodes with a sentence_embedding output (mean or CLS pooling)")
	fs.StringVar(&e.columns, "columns", "", "sentence-similarity text columns, comma-separated (default: sentence-transformers' names: anchor,positive[,negative], sentence1,sentence2, ...)")
}

// embedTask says whether the run trains sentence embeddings: --task, or
// sentence-transformers' column names in the training file.
func (f *runFlags) embedTask() (bool, error) {
	switch {
	case slices.Contains(embedTasks, f.task):
		return true, nil
	case f.task == "" && f.train != "":
		d, err := finetune.ReadEmbedData(f.train, f.embedReadOptions())
		if err != nil {
			return false, nil // not embedding data: the classifier's reader reports
		}
		cols := strings.Join(d.Columns, ",")
		return cols != "sentence1,sentence2" || d.LabelColumn == "score", nil
	case f.task == "" || f.task == "text-classification" || f.task == "token-classification":
		return false, nil
	}
	return false, taskError(f.task)
}

// taskFlagHelp is --task's help: the tasks ft run trains.
const taskFlagHelp = "text-classification, token-classification or sentence-similarity (alias embedding) (default: from the data and the export: " +
	"a .conll/.conllu file or a *ForTokenClassification export means token-classification; anchor/positive, query/positive or " +
	"sentence1/sentence2/score columns mean sentence-similarity)"

// taskError refuses an unknown --task.
func taskError(task string) error {
	return fmt.Errorf("--task %q: use text-classification, token-classification or sentence-similarity (or embedding)", task)
}

func (f *runFlags) embedReadOptions() finetune.EmbedReadOptions {
	o := finetune.EmbedReadOptions{LabelColumn: f.labelCol, ScoreScale: f.emb.scoreScale}
	if f.emb.columns != "" {
		o.Columns = strings.Split(f.emb.columns, ",")
	}
	return o
}

func (f *runFlags) loadEncoder(path string) (*finetune.SentenceEncoder, *tokenize.Tokenizer, error) {
	opt := finetune.EncoderOptions{Pooling: f.pooling, Graph: graph.OptionsFromEnv()}
	switch f.emb.normalize {
	case "":
	case "true", "false":
		v := f.emb.normalize == "true"
		opt.Normalize = &v
	default:
		return nil, nil, fmt.Errorf("--normalize takes true or false")
	}
	enc, err := finetune.LoadSentenceEncoder(path, opt)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenize.Load(enc.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%v (the export folder needs tokenizer.json)", err)
	}
	return enc, tok, nil
}

// embedLoss builds the loss the flags name for data d.
func (f *runFlags) embedLoss(d *finetune.EmbedData) (embed.Loss, error) {
	name := f.emb.loss
	if name == "" {
		name = "MultipleNegativesRankingLoss"
		if d.Labels != nil {
			name = "CoSENTLoss"
		}
	}
	l, err := embed.NewLoss(name)
	if err != nil {
		return nil, fmt.Errorf("--loss: %v", err)
	}
	if c, ok := l.(*embed.CachedMultipleNegativesRankingLoss); ok {
		c.MiniBatchSize = f.emb.miniBatch
	}
	if f.emb.matryoshka != "" {
		var dims []int
		for _, s := range strings.Split(f.emb.matryoshka, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v <= 0 {
				return nil, fmt.Errorf("--matryoshka-dims %q: want positive integers, comma-separated", f.emb.matryoshka)
			}
			dims = append(dims, v)
		}
		if _, ok := l.(*embed.CachedMultipleNegativesRankingLoss); ok {
			return nil, fmt.Errorf("--matryoshka-dims with CachedMultipleNegativesRankingLoss is not supported: use MultipleNegativesRankingLoss")
		}
		l = &embed.MatryoshkaLoss{Inner: l, Dims: dims}
	}
	return l, nil
}

// bestMetric is the evaluator's main metric for data like d, as
// sentence-transformers' evaluators name their primary_metric.
func bestMetric(d *finetune.EmbedData) string {
	switch {
	case len(d.Columns) >= 3:
		return "cosine_accuracy"
	case d.Labels != nil:
		return "spearman_cosine"
	}
	return "cosine_ndcg@10"
}

// prepareEmbedding is prepare for --task sentence-similarity.
func prepareEmbedding(f *runFlags, stdout io.Writer) (*job, *finetune.SentenceEncoder, error) {
	ro := f.embedReadOptions()
	train, err := finetune.ReadEmbedData(f.train, ro)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(stdout, "train  %s: %d rows, columns %v, label %q\n", f.train, len(train.Texts), train.Columns, train.LabelColumn)
	var eval *finetune.EmbedData
	if f.eval != "" {
		if eval, err = finetune.ReadEmbedData(f.eval, ro); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "eval   %s: %d rows, columns %v, label %q\n", f.eval, len(eval.Texts), eval.Columns, eval.LabelColumn)
	}
	enc, tok, err := f.loadEncoder(f.model)
	if err != nil {
		return nil, nil, err
	}
	m := enc.Model
	fmt.Fprintf(stdout, "model  %s (sentence embeddings: pooling %s, normalize %v, inputs %v)\n", f.model, poolingName(enc.Pooling), enc.Normalize, m.Graph.InputNames())
	for _, n := range m.Notes {
		fmt.Fprintf(stdout, "       %s\n", n)
	}
	lora := finetune.LoRAConfig{R: f.loraR, Alpha: f.loraAlpha, Dropout: f.loraDropout, Targets: f.loraTargets, Seed: f.args.Seed}
	adapters, err := applyLoRA(m, lora, f.topLayers)
	if err != nil {
		return nil, nil, err
	}
	sel := finetune.Selection{Train: f.trainParams, Freeze: f.freeze, TrainTopLayers: f.topLayers, FreezeEmbeddings: f.freezeEmb}
	encParams, err := enc.EncoderParams()
	if err != nil {
		return nil, nil, err
	}
	trainable, err := sel.Select(encParams)
	if adapters != nil {
		trainable, err = finetune.LoRATrainable(m, adapters, sel)
	}
	if err != nil {
		return nil, nil, err
	}
	if len(trainable) == 0 {
		return nil, nil, fmt.Errorf("no parameter trains: check --train-params / --freeze / --train-top-layers")
	}
	n, all := 0, 0
	for _, p := range m.Graph.Params {
		all += p.Value.Len()
	}
	for _, p := range trainable {
		n += p.Value.Len()
	}
	fmt.Fprintf(stdout, "params %d of %d trainable (%.1f%%)\n", n, all, 100*float64(n)/float64(max(1, all)))
	// checkpoints record the task, so that resume and export find it
	f.explicit["task"] = embedTasks[0]
	obj, err := f.embedLoss(train)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(stdout, "loss   %s\n", lossName(obj))
	inputs := m.Graph.InputNames()
	encode := finetune.TokenizerEncode(tok, inputs, f.maxLength)
	ts := &finetune.EmbedSource{Texts: train.Texts, Labels: train.Labels, Encode: encode, NoDuplicates: inBatchNegatives(obj)}
	tr := &finetune.Trainer{Model: m, Args: f.args, Loss: &finetune.EmbeddingLoss{Encoder: enc, Objective: obj}, Train: ts,
		Trainable: trainable, RunConfig: f.explicit, ResumeFrom: f.resumePath}
	tr.Args.OutputDir = f.outputDir
	if tr.Args.MetricForBestModel == "" {
		tr.Args.MetricForBestModel = "loss"
		if eval != nil {
			tr.Args.MetricForBestModel = bestMetric(eval)
		}
	}
	if eval != nil {
		es := &finetune.EmbedSource{Texts: eval.Texts, Labels: eval.Labels, Encode: encode}
		tr.Eval = es
		tr.Metrics = enc.EmbeddingMetrics(es)
	}
	j := &job{model: m, tok: tok, trainer: tr}
	j.save = func(dst string, stdout io.Writer) error {
		if finetune.HasLoRA(m) {
			if err := finetune.SavePEFT(m, filepath.Join(f.outputDir, "peft-adapter")); err != nil {
				return err
			}
		}
		if err := enc.SaveSentenceTransformerWith(dst, finetune.STSaveOptions{MaxSeqLength: f.maxLength, EmbeddingOutput: f.emb.embeddingOutput}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sentence-transformers folder: SentenceTransformer(%q) (backend=\"onnx\" reads onnx/model.onnx)\n", dst)
		return nil
	}
	return j, enc, nil
}

func lossName(l embed.Loss) string {
	if m, ok := l.(*embed.MatryoshkaLoss); ok {
		return fmt.Sprintf("MatryoshkaLoss(%s, dims %v)", m.Inner.Name(), m.Dims)
	}
	return l.Name()
}

// inBatchNegatives: the losses whose other rows are negatives get ST's
// no-duplicates batches.
func inBatchNegatives(l embed.Loss) bool {
	if m, ok := l.(*embed.MatryoshkaLoss); ok {
		l = m.Inner
	}
	return strings.Contains(l.Name(), "MultipleNegatives")
}

func poolingName(c embed.PoolingConfig) string {
	var on []string
	for _, m := range []struct {
		on   bool
		name string
	}{{c.CLSToken, "cls"}, {c.MaxTokens, "max"}, {c.MeanTokens, "mean"}, {c.MeanSqrtLenTokens, "mean_sqrt_len_tokens"},
		{c.WeightedMeanTokens, "weightedmean"}, {c.LastToken, "lasttoken"}} {
		if m.on {
			on = append(on, m.name)
		}
	}
	return strings.Join(on, "+")
}

// runEmbedEval is ft eval for sentence embeddings.
func runEmbedEval(f *runFlags, stdout io.Writer) error {
	d, err := finetune.ReadEmbedData(f.eval, f.embedReadOptions())
	if err != nil {
		return err
	}
	enc, tok, err := f.loadEncoder(f.model)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "eval   %s: %d rows, columns %v, label %q\n", f.eval, len(d.Texts), d.Columns, d.LabelColumn)
	obj, err := f.embedLoss(d)
	if err != nil {
		return err
	}
	src := &finetune.EmbedSource{Texts: d.Texts, Labels: d.Labels, Encode: finetune.TokenizerEncode(tok, enc.Graph.InputNames(), f.maxLength)}
	tr := &finetune.Trainer{Model: enc.Model, Args: f.args, Loss: &finetune.EmbeddingLoss{Encoder: enc, Objective: obj}, Metrics: enc.EmbeddingMetrics(src)}
	m, err := tr.Evaluate(context.Background(), src)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\n", lossName(obj), formatMetrics(m))
	b, _ := json.Marshal(m)
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}

// runEmbed is ft embed: embeddings of texts as JSON lines or .npy.
func runEmbed(args []string, stdout, stderr io.Writer) error {
	f := newRunFlags("embed", stderr)
	file := f.fs.String("file", "", "read texts from this file, one per line (- for stdin)")
	output := f.fs.String("output", "", "write the embeddings here: FILE.npy (float32 [texts, dim]) or FILE.jsonl (default: JSON lines on stdout)")
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: ft embed MODEL [TEXT...] [--file FILE] [--output FILE.npy|FILE.jsonl]

Writes the sentence embedding of each text (the arguments, the lines of
--file, or stdin's lines) with the model's pooling and normalisation
(1_Pooling/config.json and modules.json of a sentence-transformers folder;
mean pooling otherwise): JSON lines {"text": ..., "embedding": [...]} or a .npy
matrix. MODEL is an export folder with a last_hidden_state output, such as
OUTPUT-DIR/model of ft run --task sentence-similarity.

Flags:
`)
		f.fs.PrintDefaults()
	}
	var model string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		model, args = args[0], args[1:]
	}
	texts, rest := splitTextArgs(f.fs, args)
	if err := f.parse(rest); err != nil {
		return err
	}
	if model == "" {
		model = f.model
	}
	if model == "" {
		return fmt.Errorf("give the model: ft embed MODEL [TEXT...]")
	}
	texts, err := readEmbedTexts(*file, texts)
	if err != nil {
		return err
	}
	if len(texts) == 0 {
		return fmt.Errorf("no texts: give them as arguments, with --file FILE or on stdin")
	}
	enc, tok, err := f.loadEncoder(model)
	if err != nil {
		return err
	}
	bs := f.args.PerDeviceEvalBatchSize
	if bs <= 0 {
		bs = 32
	}
	x, err := enc.Embed(context.Background(), finetune.TokenizerEncode(tok, enc.Graph.InputNames(), f.maxLength), texts, bs)
	if err != nil {
		return err
	}
	return writeEmbeddings(*output, texts, x, stdout)
}

// splitTextArgs separates ft embed's texts (the arguments that are not
// flags) from its flags and their values.
func splitTextArgs(fs *flag.FlagSet, args []string) (texts, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			rest = append(rest, a)
			name := strings.TrimLeft(a, "-")
			if fl := fs.Lookup(name); fl != nil && !strings.Contains(name, "=") {
				if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
					if i+1 < len(args) {
						i++
						rest = append(rest, args[i])
					}
				}
			}
			continue
		}
		texts = append(texts, a)
	}
	return texts, rest
}

// readEmbedTexts appends to texts the non-blank lines of file (- for
// stdin), or of stdin when there is no file and no text argument.
func readEmbedTexts(file string, texts []string) ([]string, error) {
	switch {
	case file != "":
		more, err := scanTexts(file)
		return append(texts, more...), err
	case len(texts) == 0:
		return scanTexts("-")
	}
	return texts, nil
}

// writeEmbeddings writes the rows of x, one a text, to output: a .npy
// matrix, a .jsonl file, or JSON lines on stdout when output is empty.
func writeEmbeddings(output string, texts []string, x embed.Matrix, stdout io.Writer) error {
	all := x.Float32()
	switch {
	case strings.HasSuffix(output, ".npy"):
		b, err := npy.Encode(tensor.New([]int{x.Rows, x.Cols}, all))
		if err != nil {
			return err
		}
		return writeNew(output, b)
	case output == "" || strings.HasSuffix(output, ".jsonl"):
		var w io.Writer = stdout
		var buf *strings.Builder
		if output != "" {
			buf = &strings.Builder{}
			w = buf
		}
		for i, t := range texts {
			row := all[i*x.Cols : (i+1)*x.Cols]
			b, err := json.Marshal(map[string]any{"text": t, "embedding": row})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s\n", b)
		}
		if buf != nil {
			return writeNew(output, []byte(buf.String()))
		}
		return nil
	}
	return fmt.Errorf("--output %q: use FILE.npy or FILE.jsonl", output)
}

// writeNew writes a file atomically, refusing to replace one ft did not write.
func writeNew(path string, b []byte) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: give a new file name (ft does not overwrite files it did not write)", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// runEmbedding is ft run --task sentence-similarity.
func runEmbedding(f *runFlags, stdout, stderr io.Writer) error {
	if f.model == "" || f.train == "" {
		return fmt.Errorf("sentence-similarity: give --model DIR (a feature-extraction export) and --train FILE")
	}
	ctx, signalled, stop := notifyInterrupt()
	defer stop()
	j, _, err := prepareEmbedding(f, stdout)
	if err != nil {
		return err
	}
	if f.dryRun {
		return nil
	}
	return interruptedExit(j.fit(ctx, f, stdout, stderr), signalled)
}

// exportEmbedding is ft export for a checkpoint of ft run --task
// sentence-similarity: a sentence-transformers folder (--format onnx, the
// default, and safetensors write the same folder: model.safetensors and
// onnx/model.onnx) or, for a LoRA run, PEFT adapters.
func exportEmbedding(path, base, out, format string, stdout, stderr io.Writer) error {
	ci, err := finetune.ReadCheckpointInfo(path)
	if err != nil {
		return err
	}
	f, err := checkpointFlags(path, ci, stderr)
	if err != nil {
		return err
	}
	modelPath := base
	if modelPath == "" {
		modelPath = ci.ModelPath
		if err := checkBaseModel(path, ci); err != nil {
			return err
		}
	}
	enc, _, err := f.loadEncoder(modelPath)
	if err != nil {
		return err
	}
	lora := finetune.LoRAConfig{R: f.loraR, Alpha: f.loraAlpha, Dropout: f.loraDropout, Targets: f.loraTargets, Seed: ci.ModelOptions.Seed}
	if _, err := applyLoRA(enc.Model, lora, f.topLayers); err != nil {
		return err
	}
	if ci, _, err = enc.LoadCheckpoint(path); err != nil {
		return err
	}
	switch format {
	case "onnx", "safetensors":
		if err := enc.SaveSentenceTransformerWith(out, finetune.STSaveOptions{MaxSeqLength: f.maxLength, EmbeddingOutput: f.emb.embeddingOutput}); err != nil {
			return err
		}
	case "peft":
		if !finetune.HasLoRA(enc.Model) {
			return fmt.Errorf("%s is not from a LoRA run (--lora-r): use --format onnx", path)
		}
		if err := finetune.SavePEFT(enc.Model, out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "exported %s (step %d, sentence embeddings) as a sentence-transformers folder to %s\n", path, ci.State.Step, out)
	return nil
}

// prepareAny prepares a classification or a sentence-similarity run, as
// the flags and the data say (ft sweep).
func prepareAny(f *runFlags, stdout io.Writer) (*job, error) {
	emb, err := f.embedTask()
	if err != nil {
		return nil, err
	}
	if !emb {
		return prepare(f, stdout)
	}
	j, _, err := prepareEmbedding(f, stdout)
	return j, err
}

// embedSweepMetric is the metric trials of a sentence-similarity sweep are
// ranked by ("" for classification).
func embedSweepMetric(f *runFlags) string {
	if emb, err := f.embedTask(); err != nil || !emb {
		return ""
	}
	d, err := finetune.ReadEmbedData(f.eval, f.embedReadOptions())
	if err != nil {
		return ""
	}
	return bestMetric(d)
}
