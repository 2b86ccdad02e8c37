package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"ft/dataset"
	"ft/finetune"
	"ft/internal/bundled"
	"ft/tokenize"
)

// runData dispatches `ft data <subcommand>`.
func runData(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: ft data check TRAIN [--eval EVAL] [flags]\n\nSubcommands:\n  check      row and label counts, class balance, token lengths, empty, duplicate and\n             conflicting rows, and the overlap between a training and an evaluation file\n")
		if len(args) == 0 {
			return fmt.Errorf("missing subcommand (check)")
		}
		return nil
	}
	switch args[0] {
	case "check":
		return runDataCheck(args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown subcommand %q (want: ft data check TRAIN [--eval EVAL])", args[0])
}

func runDataCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("data check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		train, eval, model                  string
		textCol, pairCol, labelCol, problem string
		maxLength, examples                 int
		asJSON                              bool
	)
	fs.StringVar(&train, "train", "", "training file (or give it as the argument): .csv, .tsv or .jsonl")
	fs.StringVar(&eval, "eval", "", "evaluation file, same format: also report its overlap with the training file")
	fs.StringVar(&model, "model", "", "export folder whose tokenizer.json counts tokens, and whose config.json id2label names the labels (default: the bundled tiny BERT's tokenizer)")
	fs.StringVar(&textCol, "text-column", "", "text column (default: text, else sentence, else sentence1; column 0 without a header)")
	fs.StringVar(&pairCol, "text-pair-column", "", "second text column for sentence pairs (default: text_pair or sentence2 when present)")
	fs.StringVar(&labelCol, "label-column", "", "label column (default: label, else labels; the last column without a header)")
	fs.StringVar(&problem, "problem-type", "", "single_label_classification, multi_label_classification or regression (default: from the labels)")
	fs.IntVar(&maxLength, "max-length", 128, "count the rows longer than this many tokens (special tokens included), which ft run --max-length would truncate")
	fs.IntVar(&examples, "examples", 3, "examples shown per finding (0: none)")
	var failOn string
	fs.StringVar(&failOn, "fail-on", "", "exit with status 1 when one of these comma-separated problems is found (for CI): leak (a text in both files), conflicts, duplicates, label-typos")
	fs.BoolVar(&asJSON, "json", false, "print the report as one JSON object (schema "+dataset.DataCheckSchema+", see README)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: ft data check TRAIN [--eval EVAL] [flags]

Checks a labelled CSV/TSV/JSONL file (and an evaluation file) before training:
rows and labels, class balance, token lengths and how many rows --max-length
truncates, empty rows, duplicate rows (same text and label), conflicting
labels (same text, different labels), and the overlap between the two files:
texts in both, training texts inside evaluation texts and the reverse.
Rows are named file:line. Columns are chosen as ft run chooses them.

How texts are compared: %s

Flags:
`, dataset.ComparisonRule)
		printFlags(fs.Output(), fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkInt("--examples", examples, 0, maxCount, "examples a finding"); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 1:
		return fmt.Errorf("unexpected argument %q: give one training file (and the evaluation file with --eval)", fs.Arg(1))
	case fs.NArg() == 1 && train != "":
		return fmt.Errorf("give the training file either as the argument or with --train, not both")
	case fs.NArg() == 1:
		train = fs.Arg(0)
	case train == "":
		fs.Usage()
		return fmt.Errorf("give the training file: ft data check TRAIN [--eval EVAL]")
	}
	fail, err := parseFailOn(failOn)
	if err != nil {
		return err
	}
	if maxLength <= 0 {
		return fmt.Errorf("--max-length must be positive, got %d", maxLength)
	}
	if examples == 0 {
		examples = -1 // CheckOptions: negative means none
	}
	opt := dataset.CheckOptions{
		Read:      dataset.ReadOptions{TextColumn: textCol, TextPairColumn: pairCol, LabelColumn: labelCol},
		MaxLength: maxLength,
		Examples:  examples,
	}
	if problem != "" {
		p, err := dataset.ParseProblemType(problem)
		if err != nil {
			return err
		}
		opt.Read.Problem = p
	}
	cleanup, err := dataCheckTokenizer(model, &opt)
	if err != nil {
		return err
	}
	defer cleanup()
	rep, err := dataset.CheckData(train, eval, opt)
	if err != nil {
		return err
	}
	found := dataFindings(rep)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printDataCheck(stdout, rep)
		fmt.Fprintf(stdout, "\n%s\n", verdict(found))
	}
	var failed []string
	for _, p := range dataProblems {
		if fail[p] && found[p] != "" {
			failed = append(failed, found[p])
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "ft data check: failed (--fail-on %s): %s\n", failOn, strings.Join(failed, "; "))
		return exitError{1}
	}
	return nil
}

// parseFailOn reads --fail-on: comma-separated names of dataProblems.
func parseFailOn(failOn string) (map[string]bool, error) {
	fail := map[string]bool{}
	if failOn != "" {
		for _, p := range strings.Split(failOn, ",") {
			p = strings.TrimSpace(p)
			if err := checkChoice("--fail-on", p, false, dataProblems...); err != nil {
				return nil, flagError{"data check", err.Error()}
			}
			fail[p] = true
		}
	}
	return fail, nil
}

// dataCheckTokenizer sets opt's tokenizer (and the labels of config.json)
// from the export folder model, or from the bundled tiny BERT when model is
// empty; cleanup removes what it unpacked.
func dataCheckTokenizer(model string, opt *dataset.CheckOptions) (cleanup func(), err error) {
	cleanup = func() {}
	dir := model
	if dir == "" {
		bdir, bclean, err := bundled.Open("ft-data-check-")
		if err != nil {
			return cleanup, err
		}
		cleanup = bclean
		dir = filepath.Join(bdir, bundled.Model)
		opt.TokenizerName = "the bundled tiny BERT's (internal/bundled/tiny-bert/tokenizer.json; pass --model DIR to count with your model's)"
	} else {
		dir = modelFolder(dir)
		opt.TokenizerName = filepath.Join(dir, "tokenizer.json")
		id2label, err := finetune.ExportLabels(dir)
		if err != nil {
			return cleanup, err
		}
		opt.Read.ID2Label = id2label
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		cleanup()
		return func() {}, fmt.Errorf("%v (--model needs an export folder with tokenizer.json)", err)
	}
	opt.Tokenizer = tok
	return cleanup, nil
}

// dataProblems are what --fail-on names, in the order of the verdict.
var dataProblems = []string{"leak", "conflicts", "duplicates", "label-typos"}

// dataFindings says, for each of dataProblems found in the report, what
// was found ("" when not).
func dataFindings(r *dataset.DataCheck) map[string]string {
	f := map[string]string{}
	files := []*dataset.FileCheck{r.Train}
	if r.Eval != nil {
		files = append(files, r.Eval)
	}
	var conflicts, dups, typos int
	for _, fc := range files {
		conflicts += fc.Conflicts.Texts
		dups += fc.Duplicates.Rows
		typos += len(fileCheckLabelTypos(fc))
	}
	if o := r.Overlap; o != nil && o.Exact.Texts > 0 {
		f["leak"] = fmt.Sprintf("leak: %d texts in both files", o.Exact.Texts)
	}
	if o := r.Overlap; o != nil {
		n := 0
		for _, c := range []*dataset.Containment{o.TrainInEval, o.EvalInTrain} {
			if c != nil {
				n += c.InnerTexts
			}
		}
		if n > 0 {
			f["containment"] = fmt.Sprintf("%d texts inside longer texts of the other file (see overlap; not a --fail-on problem)", n)
		}
	}
	if conflicts > 0 {
		f["conflicts"] = fmt.Sprintf("conflicts: %d texts with more than one label", conflicts)
	}
	if dups > 0 {
		f["duplicates"] = fmt.Sprintf("duplicates: %d repeated rows", dups)
	}
	if typos > 0 {
		f["label-typos"] = fmt.Sprintf("label-typos: %d labels that look like typos", typos)
	}
	return f
}

// verdict is the last line of ft data check.
func verdict(found map[string]string) string {
	var parts []string
	for _, p := range dataProblems {
		if found[p] != "" {
			parts = append(parts, found[p])
		}
	}
	note := ""
	if c := found["containment"]; c != "" {
		note = "; note: " + c
	}
	if len(parts) == 0 {
		return "verdict    ok: no leak, conflicts, duplicates or label typos" + note
	}
	return fmt.Sprintf("verdict    %d problem(s): %s (--fail-on %s makes this an error)%s", len(parts), strings.Join(parts, "; "), strings.Join(dataProblems, ","), note)
}

func printDataCheck(w io.Writer, r *dataset.DataCheck) {
	fmt.Fprintf(w, "tokenizer  %s\n", r.Tokenizer)
	fmt.Fprintf(w, "compared   lower-cased, white space collapsed (\"byte-exact\": as written); \"inside\": part of a longer text, whole words only\n")
	printFileCheck(w, "train", r.Train)
	if r.Eval != nil {
		printFileCheck(w, "eval", r.Eval)
	}
	if o := r.Overlap; o != nil {
		fmt.Fprintf(w, "\noverlap between %s and %s\n", r.Train.Path, r.Eval.Path)
		e := o.Exact
		fmt.Fprintf(w, "  same text     %d texts in both files (%d byte-exact): %d train rows, %d eval rows; %d with other labels in train than in eval\n",
			e.Texts, e.TextsByteExact, e.TrainRows, e.EvalRows, e.LabelDisagree)
		for _, g := range e.Examples {
			printGroup(w, g)
		}
		printContainment(w, "train in eval", "train", "eval", o.TrainInEval)
		printContainment(w, "eval in train", "eval", "train", o.EvalInTrain)
		if o.ContainmentSkipped != "" {
			fmt.Fprintf(w, "  containment   not checked: %s\n", o.ContainmentSkipped)
		}
	}
}

func printFileCheck(w io.Writer, role string, f *dataset.FileCheck) {
	header := ""
	if f.Format != "jsonl" {
		header = ", no header"
		if f.Header {
			header = ", header"
		}
	}
	fmt.Fprintf(w, "\n%-5s %s: %d rows (%s%s), text=%q", role, f.Path, f.Rows, f.Format, header, f.TextColumn)
	if f.TextPairColumn != "" {
		fmt.Fprintf(w, " text_pair=%q", f.TextPairColumn)
	}
	fmt.Fprintf(w, " label=%q, %s\n", f.LabelColumn, f.Problem)
	if f.CheckedRows != f.Rows {
		fmt.Fprintf(w, "  checked       %d rows (the others have an empty text or label)\n", f.CheckedRows)
	}
	if len(f.Labels) > 0 {
		var parts []string
		for _, l := range f.Labels {
			parts = append(parts, fmt.Sprintf("%s %d (%.1f%%)", l.Label, l.Rows, 100*l.Fraction))
		}
		if f.NoLabelRows > 0 {
			parts = append(parts, fmt.Sprintf("no label %d", f.NoLabelRows))
		}
		fmt.Fprintf(w, "  labels        %s\n", strings.Join(parts, ", "))
		for _, t := range fileCheckLabelTypos(f) {
			fmt.Fprintf(w, "  warning       %s\n", t)
		}
	}
	if len(f.LabelsNotInTrain) > 0 {
		var parts []string
		for _, l := range f.LabelsNotInTrain {
			parts = append(parts, fmt.Sprintf("%s (%d rows)", l.Label, l.Rows))
		}
		fmt.Fprintf(w, "  not in train  %s: a model trained on the training file cannot predict them\n", strings.Join(parts, ", "))
	}
	if t := f.Targets; t != nil {
		fmt.Fprintf(w, "  targets       min %g, median %g, mean %g, max %g\n", t.Min, t.Median, t.Mean, t.Max)
	}
	if l := f.Lengths; l != nil {
		fmt.Fprintf(w, "  tokens        min %d, median %d, p90 %d, p95 %d, p99 %d, max %d, mean %.1f; %d rows longer than --max-length %d (truncated)\n",
			l.Min, l.P50, l.P90, l.P95, l.P99, l.Max, l.Mean, l.Truncated, l.MaxLength)
		for _, r := range l.Longest {
			fmt.Fprintf(w, "                %s  %d tokens  %s\n", r, r.Tokens, clipText(r.Text))
		}
	}
	fmt.Fprintf(w, "  empty text    %d rows\n", f.EmptyText.Rows)
	for _, r := range f.EmptyText.Examples {
		fmt.Fprintf(w, "                %s\n", r)
	}
	if f.EmptyLabel.Rows > 0 {
		fmt.Fprintf(w, "  empty label   %d rows\n", f.EmptyLabel.Rows)
		for _, r := range f.EmptyLabel.Examples {
			fmt.Fprintf(w, "                %s  %s\n", r, clipText(r.Text))
		}
	}
	d := f.Duplicates
	fmt.Fprintf(w, "  duplicates    %d rows repeat an earlier row (same text and label) in %d groups; %d byte-exact\n", d.Rows, d.Groups, d.RowsByteExact)
	for _, g := range d.Examples {
		printGroup(w, g)
	}
	c := f.Conflicts
	fmt.Fprintf(w, "  conflicts     %d texts have more than one label (%d rows); %d byte-exact\n", c.Texts, c.Rows, c.TextsByteExact)
	for _, g := range c.Examples {
		printGroup(w, g)
	}
}

func printGroup(w io.Writer, g dataset.Group) {
	var parts []string
	for _, r := range g.Rows {
		parts = append(parts, fmt.Sprintf("%s (%s)", r, r.Label))
	}
	fmt.Fprintf(w, "                %s  %s\n", clipText(g.Text), strings.Join(parts, ", "))
}

func printContainment(w io.Writer, title, inner, outer string, c *dataset.Containment) {
	if c == nil {
		return
	}
	fmt.Fprintf(w, "  %-13s %d %s texts (%d rows) appear inside longer %s texts (%d %s rows contain one)\n",
		title, c.InnerTexts, inner, c.InnerRows, outer, c.OuterRows, outer)
	for _, e := range c.Examples {
		fmt.Fprintf(w, "                %s %s\n                  inside %s %s\n", e.Inner, clipText(e.Inner.Text), e.Outer, markInside(e.Outer.Text, e.Inner.Text))
	}
}

// markInside shows outer (normalised) with the part that is inner in
// brackets, or [...] standing for a long inner text.
func markInside(outer, inner string) string {
	i := dataset.ContainedAt(outer, inner)
	if i < 0 {
		return clipText(outer)
	}
	o, in := dataset.NormalizeText(outer), dataset.NormalizeText(inner)
	mid := "[" + in + "]"
	if len(in) > 40 {
		mid = "[...]"
	}
	return clipText(o[:i] + mid + o[i+len(in):])
}

// clipText quotes a text for one line of output, cut to 100 bytes.
func clipText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		cut := 97
		for cut > 0 && s[cut]&0xc0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "..."
	}
	return fmt.Sprintf("%q", s)
}
