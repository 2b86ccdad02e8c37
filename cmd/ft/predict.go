package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"ft/finetune"
	"ft/tokenize"
)

func runEval(args []string, stdout, stderr io.Writer) error {
	f := newRunFlags("eval", stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ft eval --model DIR --eval FILE [flags]\n\nEvaluates a fine-tuned export (e.g. OUTPUT-DIR/model from ft run) on a labelled file and prints\nloss, accuracy, precision, recall, F1 (macro and per class) and the confusion matrix.\n\nFlags (the data and batch flags of ft run apply):\n")
		f.fs.PrintDefaults()
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if f.model == "" || f.eval == "" {
		return fmt.Errorf("give --model DIR and --eval FILE")
	}
	tok, err := tokenize.Load(f.model)
	if err != nil {
		return err
	}
	labels, err := readConfigLabels(f.model)
	if err != nil {
		return err
	}
	ro := finetune.ReadOptions{TextColumn: f.textCol, TextPairColumn: f.pairCol, LabelColumn: f.labelCol, ID2Label: labels}
	d, err := finetune.ReadDataset(f.eval, ro)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "eval   %s\n", d.Summary())
	m, err := finetune.LoadModel(f.model, finetune.ModelOptions{})
	if err != nil {
		return err
	}
	src, err := finetune.NewTextSource(d, tok, m, f.maxLength)
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
	return nil
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "fine-tuned export folder (e.g. OUTPUT-DIR/model from ft run)")
	file := fs.String("file", "", "read texts from this file, one per line (default: the arguments, else standard input)")
	maxLength := fs.Int("max-length", 128, "truncate texts to this many tokens")
	batch := fs.Int("batch-size", 32, "texts per batch")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ft predict --model DIR [TEXT ...]\n\nClassifies texts (arguments, --file, or standard input: one per line) and prints one JSON\nline per text: {\"text\", \"label\", \"score\", \"probabilities\"}.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(reorder(fs, args)); err != nil {
		return err
	}
	if *model == "" {
		return fmt.Errorf("give --model DIR")
	}
	texts := fs.Args()
	if len(texts) == 0 {
		var r io.Reader = os.Stdin
		if *file != "" {
			fh, err := os.Open(*file)
			if err != nil {
				return err
			}
			defer fh.Close()
			r = fh
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			if t := strings.TrimRight(sc.Text(), "\r"); t != "" {
				texts = append(texts, t)
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	tok, err := tokenize.Load(*model)
	if err != nil {
		return err
	}
	m, err := finetune.LoadModel(*model, finetune.ModelOptions{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for lo := 0; lo < len(texts); lo += *batch {
		chunk := texts[lo:min(lo+*batch, len(texts))]
		e, err := tok.EncodeBatch(chunk, nil, tokenize.Options{MaxLength: *maxLength})
		if err != nil {
			return err
		}
		feeds, err := e.Tensors(m.Graph.InputNames()...)
		if err != nil {
			return err
		}
		out, err := m.Graph.Run(feeds, m.Output)
		if err != nil {
			return err
		}
		y := out[m.Output].F32()
		c := len(y) / len(chunk)
		for i, t := range chunk {
			row := y[i*c : (i+1)*c]
			probs := softmax(row)
			best := 0
			for j := range probs {
				if probs[j] > probs[best] {
					best = j
				}
			}
			pm := map[string]float64{}
			for j, p := range probs {
				pm[labelName(m.Labels, j)] = p
			}
			if err := enc.Encode(map[string]any{"text": t, "label": labelName(m.Labels, best), "score": probs[best], "probabilities": pm}); err != nil {
				return err
			}
		}
	}
	return nil
}

func labelName(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return fmt.Sprintf("LABEL_%d", i)
}

func softmax(z []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	s := 0.0
	p := make([]float64, len(z))
	for i, v := range z {
		p[i] = math.Exp(float64(v) - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}
