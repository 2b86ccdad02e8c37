package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"ft/dataset"
	"ft/finetune"
	"ft/graph"
	"ft/tokenclass"
	"ft/tokenize"
)

// The token-classification task of ft run, ft eval and ft predict.

// tokenFlags are the flags of token classification.
type tokenFlags struct {
	tagCol, mode, scheme  string
	labelAll, entityLevel bool
}

func addTokenFlags(f *runFlags) {
	fs, t := f.fs, &f.tok
	fs.StringVar(&t.tagCol, "tag-column", "", "token classification: the tag column (CoNLL: a field number from 0, default the last; CoNLL-U: upos (default) or xpos; JSON lines: the key, default tags, ner_tags or pos_tags)")
	fs.BoolVar(&t.labelAll, "label-all-tokens", false, "token classification: tag every sub-token of a word, not only the first (run_ner.py --label_all_tokens)")
	fs.StringVar(&t.mode, "seqeval-mode", "default", "token classification: entity metrics in seqeval's default (conlleval) or strict mode")
	fs.StringVar(&t.scheme, "seqeval-scheme", "auto", "token classification, strict mode: the tagging scheme IOB1, IOB2, IOE1, IOE2, IOBES, BILOU (auto: from the true tags)")
	fs.BoolVar(&t.entityLevel, "return-entity-level-metrics", false, "token classification: report evaluate's keys (overall_f1, PER_f1, ...) as run_ner.py --return_entity_level_metrics")
}

// isTokenTask says whether the run tags tokens: --task says so, or the data
// file is CoNLL/CoNLL-U, or the export is a *ForTokenClassification.
func (f *runFlags) isTokenTask(modelDir string) (bool, error) {
	switch {
	case f.task == "token-classification":
		return true, nil
	case f.task == "text-classification" || slices.Contains(embedTasks, f.task):
		return false, nil
	case f.task != "":
		return false, taskError(f.task)
	}
	for _, p := range []string{f.train, f.eval} {
		switch strings.ToLower(filepath.Ext(p)) {
		case ".conll", ".conllu":
			return true, nil
		}
	}
	modelDir = modelFolder(modelDir)
	if b, err := os.ReadFile(filepath.Join(modelDir, "config.json")); err == nil {
		var c struct {
			Architectures []string `json:"architectures"`
		}
		if json.Unmarshal(b, &c) == nil {
			for _, a := range c.Architectures {
				if strings.HasSuffix(a, "ForTokenClassification") {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

func (f *runFlags) taggedOptions(id2label []string) dataset.TaggedOptions {
	return dataset.TaggedOptions{TagColumn: f.tok.tagCol, Labels: id2label}
}

func taggedSummary(d *dataset.TaggedData) string {
	return fmt.Sprintf("%s: %s, %d sentences, %d tokens, %d tags (column %s)", d.Path, d.Format, len(d.Sentences), d.Tokens(), len(d.TagList()), d.TagColumn)
}

// tokenLabels is the label list as run_ner.py makes it: the export's
// id2label (its order) when it holds exactly the data's tags, else the
// sorted tags. The data's tags are the training file's and the evaluation
// file's (a Hugging Face dataset's ClassLabel names them all; run_ner.py
// with plain files would fail on a tag that only the evaluation file has).
func tokenLabels(train, eval *dataset.TaggedData, id2label []string) []string {
	tags := train.TagList()
	if eval != nil {
		for _, t := range eval.TagList() {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		slices.Sort(tags)
	}
	have := slices.Clone(id2label)
	slices.Sort(have)
	if slices.Equal(have, tags) {
		return id2label
	}
	return tags
}

// scorer reads the seqeval flags.
func (f *runFlags) scorer(labels []string) (*finetune.TokenScorer, error) {
	s := &finetune.TokenScorer{Labels: labels, EntityLevel: f.tok.entityLevel}
	switch f.tok.mode {
	case "default":
	case "strict":
		s.Options.Mode = tokenclass.Strict
		sc, err := tokenclass.ParseScheme(f.tok.scheme)
		if err != nil {
			return nil, fmt.Errorf("--seqeval-scheme: %w", err)
		}
		s.Options.Scheme = sc
	default:
		return nil, fmt.Errorf("--seqeval-mode %q: use default or strict", f.tok.mode)
	}
	return s, nil
}

// tokenMetricName maps --metric-for-best-model as run_ner.py's Trainer
// names the figures (eval_f1, eval_overall_f1, ...) to the evaluation's key.
func tokenMetricName(name string, entityLevel bool) string {
	name = strings.TrimPrefix(name, "eval_")
	if !entityLevel {
		name = strings.TrimPrefix(name, "overall_")
	} else if slices.Contains([]string{"precision", "recall", "f1", "accuracy"}, name) {
		name = "overall_" + name
	}
	return name
}

// tokenMetricKeys are the keys of a token-classification evaluation
// (finetune.TokenScorer) for these labels, and loss.
func tokenMetricKeys(labels []string, entityLevel bool) []string {
	if !finetune.IsEntityTagSet(labels) {
		return []string{"loss", "accuracy"}
	}
	if !entityLevel {
		return []string{"loss", "precision", "recall", "f1", "accuracy"}
	}
	keys := []string{"loss", "overall_precision", "overall_recall", "overall_f1", "overall_accuracy"}
	var types []string
	for _, l := range labels {
		if l != "O" && !slices.Contains(types, l[2:]) {
			types = append(types, l[2:])
		}
	}
	slices.Sort(types)
	for _, t := range types {
		keys = append(keys, t+"_precision", t+"_recall", t+"_f1", t+"_number")
	}
	return keys
}

// prepareTokens is prepare for token classification.
func prepareTokens(f *runFlags, dir string, tok *tokenize.Tokenizer, stdout io.Writer) (*job, error) {
	id2label, err := finetune.ExportLabels(dir)
	if err != nil {
		return nil, err
	}
	train, err := dataset.ReadTagged(f.train, f.taggedOptions(id2label))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "train  %s\n", taggedSummary(train))
	var eval *dataset.TaggedData
	if f.eval != "" {
		if eval, err = dataset.ReadTagged(f.eval, f.taggedOptions(id2label)); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "eval   %s\n", taggedSummary(eval))
	}
	labels := tokenLabels(train, eval, id2label)
	m, err := finetune.LoadModel(f.model, finetune.ModelOptions{Labels: labels, Seed: f.args.Seed, TokenClassification: true, Graph: graph.OptionsFromEnv()})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "model  %s (%s, inputs %v)\n", f.model, m.Task, m.Graph.InputNames())
	j := &job{model: m, tok: tok}
	trainable, err := j.selectTrainable(f, stdout)
	if err != nil {
		return nil, err
	}
	ts, err := finetune.NewTokenSource(train, tok, m.Graph.InputNames(), m.Labels, f.maxLength, f.tok.labelAll)
	if err != nil {
		return nil, err
	}
	sc, err := f.scorer(m.Labels)
	if err != nil {
		return nil, err
	}
	a := f.args
	if _, set := f.explicit["metric-for-best-model"]; !set && finetune.IsEntityTagSet(m.Labels) {
		a.MetricForBestModel = "f1" // entity F1 (ft run's default, accuracy, for other tags)
	}
	a.MetricForBestModel = tokenMetricName(a.MetricForBestModel, f.tok.entityLevel)
	if keys := tokenMetricKeys(m.Labels, f.tok.entityLevel); !slices.Contains(keys, a.MetricForBestModel) {
		return nil, fmt.Errorf("--metric-for-best-model %q: a token-classification evaluation reports %s (with or without run_ner's eval_ prefix)", f.args.MetricForBestModel, strings.Join(keys, ", "))
	}
	tr := &finetune.Trainer{Model: m, Args: a, Loss: finetune.NewCrossEntropyLoss(), Train: ts, Trainable: trainable,
		Metrics: sc.Metrics, RunConfig: f.explicit, ResumeFrom: f.resumePath}
	tr.Args.OutputDir = f.outputDir
	if eval != nil {
		es, err := finetune.NewTokenSource(eval, tok, m.Graph.InputNames(), m.Labels, f.maxLength, f.tok.labelAll)
		if err != nil {
			return nil, err
		}
		tr.Eval = es
	}
	j.trainer = tr
	j.report = func() string {
		if sc.Last == nil {
			return ""
		}
		return sc.Last.Format(4)
	}
	return j, nil
}

// evalTokens is ft eval for token classification: the figures, then
// seqeval's per-type table.
func evalTokens(f *runFlags, stdout io.Writer) error {
	tok, err := tokenize.Load(f.model)
	if err != nil {
		return err
	}
	id2label, err := finetune.ExportLabels(f.model)
	if err != nil {
		return err
	}
	d, err := dataset.ReadTagged(f.eval, f.taggedOptions(id2label))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "eval   %s\n", taggedSummary(d))
	m, err := finetune.LoadModel(f.model, finetune.ModelOptions{TokenClassification: true, Graph: graph.OptionsFromEnv()})
	if err != nil {
		return err
	}
	src, err := finetune.NewTokenSource(d, tok, m.Graph.InputNames(), m.Labels, f.maxLength, f.tok.labelAll)
	if err != nil {
		return err
	}
	sc, err := f.scorer(m.Labels)
	if err != nil {
		return err
	}
	tr := &finetune.Trainer{Model: m, Args: f.args, Loss: finetune.NewCrossEntropyLoss(), Metrics: sc.Metrics}
	res, err := tr.Evaluate(context.Background(), src)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", formatMetrics(res))
	if sc.Last != nil {
		fmt.Fprintf(stdout, "\n%s", sc.Last.Format(4))
	}
	return nil
}

// predictTokens is ft predict for a token-classification model: one JSON
// line per text, {"text", "entities": [...]}, the entities as transformers'
// token-classification pipeline gives them.
func predictTokens(m *finetune.Model, tok *tokenize.Tokenizer, dir string, texts []string, strategy string, maxLength int, stdout io.Writer) error {
	s, err := tokenclass.ParseStrategy(strategy)
	if err != nil {
		return fmt.Errorf("--aggregation-strategy: %w", err)
	}
	names, err := tokenize.LoadTokenNames(dir)
	if err != nil {
		return err
	}
	ents, err := m.PredictEntities(tok, names, texts, finetune.EntityOptions{Strategy: s, MaxLength: maxLength})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for i, e := range ents {
		if e == nil {
			e = []tokenclass.Entity{}
		}
		if err := enc.Encode(struct {
			Text     string              `json:"text"`
			Entities []tokenclass.Entity `json:"entities"`
		}{texts[i], e}); err != nil {
			return err
		}
	}
	return nil
}
