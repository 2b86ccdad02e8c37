package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"ft/dataset"
	"ft/finetune"
	"ft/graph"
	"ft/tokenize"
)

func runEval(args []string, stdout, stderr io.Writer) error {
	f := newRunFlags("eval", stderr)
	// the flags of ft run that evaluation uses; its help lists these only
	f.only = map[string]bool{}
	for _, n := range []string{"model", "eval", "config", "text-column", "text-pair-column", "label-column", "max-length", "per-device-eval-batch-size",
		"task", "tag-column", "label-all-tokens", "seqeval-mode", "seqeval-scheme", "return-entity-level-metrics", // token classification
		"score-scale", "columns", "normalize", "loss", "pooling", // sentence embeddings
		"bf16",
	} {
		f.only[n] = true
	}
	f.fs.Lookup("model").Usage = "the fine-tuned export folder, e.g. OUTPUT-DIR/model of ft run (required)"
	f.fs.Lookup("eval").Usage = "labelled file to evaluate on: .csv, .tsv or .jsonl (required)"
	f.fs.Lookup("per-device-eval-batch-size").Usage = "evaluation batch size (default 8)"
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ft eval --model DIR --eval FILE [flags]\n\nEvaluates a fine-tuned export (e.g. OUTPUT-DIR/model from ft run) on a labelled file and prints\nloss, accuracy, precision, recall, F1 (macro and per class) and the confusion matrix.\n\nFlags:\n\n")
		f.groups.print(stderr, func(name string) bool { return f.only[name] })
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if f.model == "" || f.eval == "" {
		return fmt.Errorf("give --model DIR and --eval FILE")
	}
	if err := checkModelPath(f.model); err != nil {
		return err
	}
	if f.train == "" {
		f.train = f.eval // embedTask looks at the data's columns
	}
	if emb, err := f.embedTask(); err != nil || emb {
		if err != nil {
			return err
		}
		return runEmbedEval(f, stdout)
	}
	if tokens, err := f.isTokenTask(f.model); err != nil {
		return err
	} else if tokens {
		return evalTokens(f, stdout)
	}
	tok, err := tokenize.Load(f.model)
	if err != nil {
		return err
	}
	labels, err := finetune.ExportLabels(f.model)
	if err != nil {
		return err
	}
	ro := dataset.ReadOptions{TextColumn: f.textCol, TextPairColumn: f.pairCol, LabelColumn: f.labelCol, ID2Label: labels}
	d, err := dataset.Read(f.eval, ro)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "eval   %s\n", d.Summary())
	m, err := finetune.LoadModel(f.model, finetune.ModelOptions{Graph: graph.OptionsFromEnv()})
	if err != nil {
		return err
	}
	src, err := dataset.NewTextSource(d, tok, m.Graph.InputNames(), f.maxLength)
	if err != nil {
		return err
	}
	loss, err := finetune.LossFor(d.Problem)
	if err != nil {
		return err
	}
	tr := &finetune.Trainer{Model: m, Args: f.args, Loss: loss, Problem: d.Problem}
	res, err := tr.Evaluate(context.Background(), src)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", formatMetrics(res))
	if r := tr.LastReport; r != nil {
		fmt.Fprintf(stdout, "\n  %-16s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support")
		for i := range r.F1 {
			fmt.Fprintf(stdout, "  %-16s %9.4f %9.4f %9.4f %8d\n", labelOf(m.Labels, i), r.Precision[i], r.Recall[i], r.F1[i], r.Support[i])
		}
		if r.Classes <= maxConfusionClasses {
			fmt.Fprintf(stdout, "\nconfusion matrix (rows: true, columns: predicted)\n%s", finetune.FormatConfusion(r.Confusion.Dense(r.Classes), m.Labels))
		} else {
			fmt.Fprintf(stdout, "\n(no confusion matrix for %d classes: over %d; the table above has each class's scores)\n", r.Classes, maxConfusionClasses)
		}
	}
	return nil
}

// maxConfusionClasses is the most classes ft eval prints a confusion
// matrix for (a wider one is unreadable in a terminal).
const maxConfusionClasses = 50

func labelOf(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return fmt.Sprint(i)
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "fine-tuned export folder (e.g. OUTPUT-DIR/model from ft run)")
	file := fs.String("file", "", "read texts from this file, one per line (default: the arguments, else standard input)")
	maxLength := fs.Int("max-length", 128, "truncate texts to this many tokens (token classification: default the tokenizer's model_max_length, as transformers' pipeline)")
	strategy := fs.String("aggregation-strategy", "none", "token classification: group tokens into entities as transformers' pipeline: none, simple, first, average or max")
	bf16 := fs.Bool("bf16", false, "matrix products in bfloat16 with float32 accumulation (as ft run --bf16)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ft predict --model DIR [TEXT ...]\n\nClassifies texts (arguments, --file, or standard input: one per line) and prints one JSON\nline per text: {\"text\", \"label\", \"score\", \"probabilities\"}.\n\n")
		printFlags(fs.Output(), fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return fmt.Errorf("give --model DIR")
	}
	if err := checkInt("--max-length", *maxLength, 1, maxCount, "tokens a text"); err != nil {
		return err
	}
	texts, err := readTexts(fs.Args(), *file)
	if err != nil {
		return err
	}
	if err := checkModelPath(*model); err != nil {
		return err
	}
	tok, err := tokenize.Load(*model)
	if err != nil {
		return err
	}
	gopt := graph.OptionsFromEnv()
	gopt.BF16 = *bf16
	m, err := finetune.LoadModel(*model, finetune.ModelOptions{Graph: gopt})
	if err != nil {
		return err
	}
	if m.Task == finetune.TaskTokenClassification {
		ml := 0
		fs.Visit(func(fl *flag.Flag) {
			if fl.Name == "max-length" {
				ml = *maxLength
			}
		})
		return predictTokens(m, tok, *model, texts, *strategy, ml, stdout)
	}
	preds, err := m.Predict(context.Background(), tok, texts, *maxLength)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, p := range preds {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}

// readTexts returns the texts to classify: the command's arguments, else
// the non-empty lines of file, else of standard input.
func readTexts(args []string, file string) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	return scanTexts(file)
}

// scanTexts reads one text a line from file ("" or "-": standard input),
// skipping blank lines.
func scanTexts(file string) ([]string, error) {
	var r io.Reader = os.Stdin
	if file != "" && file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	var texts []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if t := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(t) != "" {
			texts = append(texts, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return texts, nil
}
