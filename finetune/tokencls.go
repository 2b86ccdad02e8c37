package finetune

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"ft/dataset"
	"ft/onnx"
	"ft/tensor"
	"ft/tokenclass"
	"ft/tokenize"
)

// Token classification (named entities, part-of-speech tags) plugs into the
// Trainer through its task seam:
//
//   - Model: LoadModel with ModelOptions.TokenClassification gives logits
//     [batch, sequence, labels]. A token-classification export
//     (*ForTokenClassification) keeps its head when its id2label equals the
//     data's tags, else the classifier gets new weights for them; a
//     feature-extraction export gets a per-token linear head as ONNX nodes
//     (logits = last_hidden_state · classifier.weight + classifier.bias,
//     weight [hidden, labels] initialised N(0, initializer_range), bias 0),
//     which is the head of transformers' *ForTokenClassification.
//   - Train and Eval: a TokenSource (tagged sentences → sub-tokens and one
//     label per sub-token, as run_ner.py).
//   - Loss: NewCrossEntropyLoss over every position whose label is not -100
//     (torch's ignore_index, the mean over the labelled positions).
//   - Metrics: a TokenScorer's Metrics (seqeval entity scores and token
//     accuracy for entity tags, accuracy for other tags).

// TaskTokenClassification is Model.Task for a model that tags tokens.
const TaskTokenClassification = "token-classification"

// logitsRank is the rank the export declares for its logits output (0 when
// it declares none).
func logitsRank(m *onnx.Model) int {
	for _, o := range m.Proto.Graph.Output {
		if o.GetName() == "logits" {
			return len(o.GetType().GetTensorType().GetShape().GetDim())
		}
	}
	return 0
}

// checkTokenLogits marks an export whose logits are per token as a
// token-classification model, and refuses to tag tokens with a
// sequence classifier.
func checkTokenLogits(m *onnx.Model, mod *Model, opt ModelOptions) error {
	switch r := logitsRank(m); {
	case r == 3:
		mod.Task = TaskTokenClassification
		mod.Options.TokenClassification = true
	case opt.TokenClassification:
		return fmt.Errorf("%s is a sequence-classification export (logits of rank %d, not [batch, sequence, labels]): to tag tokens, export with optimum-cli export onnx --task token-classification or --task feature-extraction", m.Path, r)
	}
	return nil
}

// addTokenHead gives a feature-extraction export a per-token linear head for
// opt.Labels, as ONNX nodes: logits = last_hidden_state · W + b.
func addTokenHead(m *onnx.Model, mod *Model, opt ModelOptions, std float64, r *rand.Rand) error {
	mod.Task, mod.Output = TaskTokenClassification, "logits"
	if len(opt.Labels) == 0 {
		return fmt.Errorf("%s is a feature-extraction export: say which tags to train (the training data gives them)", m.Path)
	}
	gp := m.Proto.Graph
	hidden := 0
	for _, o := range gp.Output {
		if o.GetName() == "last_hidden_state" {
			if dims := o.GetType().GetTensorType().GetShape().GetDim(); len(dims) == 3 {
				hidden = int(dims[2].GetDimValue())
			}
		}
	}
	if hidden <= 0 {
		return fmt.Errorf("%s: last_hidden_state has no fixed hidden size in the export's output shape", m.Path)
	}
	n := len(opt.Labels)
	if err := m.SetInitializer("classifier.weight", normalInit(r, std, hidden, n)); err != nil {
		return err
	}
	if err := m.SetInitializer("classifier.bias", tensor.Zeros(tensor.Float32, n)); err != nil {
		return err
	}
	gp.Node = append(gp.Node,
		onnx.NewNode("MatMul", "/classifier/MatMul", []string{"last_hidden_state", "classifier.weight"}, []string{"/classifier/MatMul_output_0"}),
		onnx.NewNode("Add", "/classifier/Add", []string{"/classifier/MatMul_output_0", "classifier.bias"}, []string{"logits"}))
	gp.Output = append(gp.Output, onnx.TensorValueInfo("logits", onnx.TensorProto_FLOAT, "batch_size", "sequence_length", n))
	mod.Notes = append(mod.Notes, fmt.Sprintf("feature-extraction export: added a per-token linear head for %d tags %v (initialised N(0, %g), bias 0)", n, opt.Labels, std))
	mod.Labels = opt.Labels
	return nil
}

// TokenSource makes token-classification batches from tagged sentences as
// transformers' run_ner.py does: the words of each sentence are tokenized
// as pre-split words (tokenize.EncodeWords, HF's is_split_into_words),
// truncated to MaxLength and padded to the longest row of the batch; the
// target [batch, sequence] int64 holds each word's tag id on its first
// sub-token and -100 on the other sub-tokens (or, with LabelAllTokens, the
// tag mapped by tokenclass.BToI), on special tokens and on padding.
type TokenSource struct {
	Data      *dataset.TaggedData
	Tokenizer *tokenize.Tokenizer
	Inputs    []string // the model's input names
	MaxLength int      // 0: the tokenizer's model_max_length
	Labels    []string // tag names, index = label id
	// LabelAllTokens labels every sub-token (run_ner.py --label_all_tokens).
	LabelAllTokens bool

	ids     [][]int // the tag id of every word
	btoi    []int
	lengths dataset.LengthCache
}

// NewTokenSource checks that the tokenizer gives every model input and that
// every tag of the data is one of labels; the error names the file and line
// of the first sentence with a tag that is not.
func NewTokenSource(d *dataset.TaggedData, tok *tokenize.Tokenizer, inputs, labels []string, maxLength int, labelAll bool) (*TokenSource, error) {
	for _, in := range inputs {
		switch in {
		case tokenize.InputIDs, tokenize.AttentionMask, tokenize.TokenTypeIDs:
		default:
			return nil, fmt.Errorf("the model takes an input %q that a tokenizer does not make (it makes input_ids, attention_mask, token_type_ids)", in)
		}
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("%s: no labels to tag with", d.Path)
	}
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		if _, dup := index[l]; dup {
			return nil, fmt.Errorf("label %q appears twice in the label list %v", l, labels)
		}
		index[l] = i
	}
	s := &TokenSource{Data: d, Tokenizer: tok, Inputs: inputs, MaxLength: maxLength, Labels: labels, LabelAllTokens: labelAll, btoi: tokenclass.BToI(labels)}
	s.ids = make([][]int, len(d.Sentences))
	for i, sent := range d.Sentences {
		if len(sent.Tokens) == 0 || len(sent.Tokens) != len(sent.Tags) {
			return nil, fmt.Errorf("%s:%d: a sentence with %d tokens and %d tags", d.Path, sent.Line, len(sent.Tokens), len(sent.Tags))
		}
		ids := make([]int, len(sent.Tags))
		for j, t := range sent.Tags {
			k, ok := index[t]
			if !ok {
				return nil, fmt.Errorf("%s:%d: tag %q (token %d of the sentence) is not one of the model's %d labels %v: train with labels that include it", d.Path, sent.Line, t, j+1, len(labels), labels)
			}
			ids[j] = k
		}
		s.ids[i] = ids
	}
	return s, nil
}

// Len implements dataset.Source.
func (s *TokenSource) Len() int { return len(s.Data.Sentences) }

func (s *TokenSource) words(rows []int) [][]string {
	w := make([][]string, len(rows))
	for i, r := range rows {
		w[i] = s.Data.Sentences[r].Tokens
	}
	return w
}

// Lengths implements dataset.LengthSource: every sentence's length in
// sub-tokens (special tokens included, truncated to MaxLength).
func (s *TokenSource) Lengths() ([]int, error) {
	return s.lengths.Lengths(s.Len(), func(rows []int) (*tokenize.Encoding, error) {
		return s.Tokenizer.EncodeWords(s.words(rows), nil, tokenize.Options{MaxLength: s.MaxLength, Padding: tokenize.DoNotPad})
	})
}

// Batch implements dataset.Source.
func (s *TokenSource) Batch(rows []int) (*dataset.Batch, error) {
	for _, r := range rows {
		if r < 0 || r >= s.Len() {
			return nil, fmt.Errorf("token source: row %d is outside [0, %d)", r, s.Len())
		}
	}
	enc, err := s.Tokenizer.EncodeWords(s.words(rows), nil, tokenize.Options{MaxLength: s.MaxLength})
	if err != nil {
		return nil, err
	}
	feeds, err := enc.Tensors(s.Inputs...)
	if err != nil {
		return nil, err
	}
	seq := 0
	if len(enc.InputIDs) > 0 {
		seq = len(enc.InputIDs[0])
	}
	target := make([]int64, 0, len(rows)*seq)
	opt := tokenclass.AlignOptions{LabelAllTokens: s.LabelAllTokens, BToI: s.btoi}
	for i, r := range rows {
		lab, err := tokenclass.AlignLabels(enc.WordIDs[i], s.ids[r], opt)
		if err != nil {
			sent := s.Data.Sentences[r]
			return nil, fmt.Errorf("%s:%d: %w", s.Data.Path, sent.Line, err)
		}
		for _, l := range lab {
			target = append(target, int64(l))
		}
	}
	return &dataset.Batch{Feeds: feeds, Target: tensor.New([]int{len(rows), seq}, target), Size: len(rows)}, nil
}

// IsEntityTagSet reports whether labels are entity tags that seqeval can
// score (every label "O" or with a chunk prefix B-, I-, E-, S-, L- or U-,
// and at least one such): then TokenScorer reports entity precision, recall
// and F1; otherwise (part-of-speech tags) only accuracy.
func IsEntityTagSet(labels []string) bool {
	n := 0
	for _, l := range labels {
		if l == "O" {
			continue
		}
		if len(l) < 3 || l[1] != '-' || !strings.ContainsRune("BIESLU", rune(l[0])) {
			return false
		}
		n++
	}
	return n > 0
}

// TokenScorer scores token-classification evaluations as run_ner.py's
// compute_metrics does: the positions whose label is -100 are dropped, the
// argmax of the logits elsewhere is the predicted tag, and for entity tags
// (IsEntityTagSet) the figures are seqeval's through
// tokenclass.RunNERMetrics (precision, recall, f1 micro-averaged, token
// accuracy; with EntityLevel evaluate's overall_* and per-type keys). For
// other tags (part of speech) the one figure is accuracy.
type TokenScorer struct {
	Labels  []string
	Options tokenclass.MetricOptions
	// EntityLevel reports evaluate's flattened keys (overall_f1, PER_f1, ...)
	// as run_ner.py --return_entity_level_metrics.
	EntityLevel bool
	// Last is the seqeval report of the last evaluation (nil for tags that
	// are not entity tags).
	Last *tokenclass.Report
}

// Sequences turns a Trainer's evaluation outputs (one flattened
// [sequence, labels] row per example) and targets ([batch, sequence]
// label ids per batch) into tag sequences, gold and predicted, without the
// positions labelled -100.
func (s *TokenScorer) Sequences(outs [][]float32, targets []*tensor.Tensor) (gold, pred [][]string, err error) {
	c := len(s.Labels)
	k := 0
	for _, tg := range targets {
		if tg.Rank() != 2 {
			return nil, nil, fmt.Errorf("token-classification targets must be [batch, sequence], got %v", tg.Shape)
		}
		y, err := tg.Ints()
		if err != nil {
			return nil, nil, err
		}
		b, seq := tg.Shape[0], tg.Shape[1]
		for i := 0; i < b; i++ {
			if k >= len(outs) {
				return nil, nil, fmt.Errorf("%d outputs for more targets", len(outs))
			}
			o := outs[k]
			k++
			if len(o) != seq*c {
				return nil, nil, fmt.Errorf("output row %d has %d values, want %d positions × %d labels", k-1, len(o), seq, c)
			}
			p, l, err := tokenclass.KeepLabelled(ArgmaxRows(o, c), y[i*seq:(i+1)*seq])
			if err != nil {
				return nil, nil, err
			}
			g := make([]string, len(l))
			q := make([]string, len(p))
			for j := range l {
				if l[j] < 0 || l[j] >= c {
					return nil, nil, fmt.Errorf("label id %d outside the %d labels", l[j], c)
				}
				g[j], q[j] = s.Labels[l[j]], s.Labels[p[j]]
			}
			gold, pred = append(gold, g), append(pred, q)
		}
	}
	if k != len(outs) {
		return nil, nil, fmt.Errorf("%d outputs for %d targets", len(outs), k)
	}
	return gold, pred, nil
}

// Metrics is the Trainer's Metrics hook.
func (s *TokenScorer) Metrics(outs [][]float32, targets []*tensor.Tensor) (map[string]float64, error) {
	gold, pred, err := s.Sequences(outs, targets)
	if err != nil {
		return nil, err
	}
	s.Last = nil
	acc, err := tokenclass.Accuracy(gold, pred)
	if err != nil {
		return nil, err
	}
	if !IsEntityTagSet(s.Labels) {
		return map[string]float64{"accuracy": acc}, nil
	}
	rep, err := tokenclass.Evaluate(gold, pred, s.Options)
	if err != nil {
		return nil, err
	}
	s.Last = rep
	return tokenclass.RunNERMetrics(rep, acc, s.EntityLevel), nil
}

// EntityOptions configures PredictEntities.
type EntityOptions struct {
	// Strategy is the pipeline's aggregation_strategy (default none, as
	// transformers' token-classification pipeline).
	Strategy tokenclass.Strategy
	// MaxLength truncates each text (0: the tokenizer's model_max_length,
	// as the pipeline truncates).
	MaxLength int
	// IgnoreLabels as tokenclass.AggregateOptions (nil: {"O"}).
	IgnoreLabels []string
}

// PredictEntities tags each text and groups the tags into entities as
// transformers' token-classification pipeline does (tokenclass.Aggregate):
// offsets are character (code point) offsets into the text; the words are
// joined by the decoder of the tokenizer's kind (WordPiece, byte-level BPE or
// Metaspace). names gives the token strings (tokenize.LoadTokenNames of the
// export folder).
func (m *Model) PredictEntities(tok *tokenize.Tokenizer, names *tokenize.TokenNames, texts []string, opt EntityOptions) ([][]tokenclass.Entity, error) {
	if m.Task != TaskTokenClassification {
		return nil, fmt.Errorf("%s is a %s model: entities need a token-classification model", m.Path, m.Task)
	}
	ao := tokenclass.AggregateOptions{Strategy: opt.Strategy, Labels: m.Labels, IgnoreLabels: opt.IgnoreLabels}
	switch names.Scheme() {
	case "wordpiece":
		ao.WordAware = names.ContinuingPrefix() != ""
		ao.Decode = tokenclass.WordPieceDecode
	case "bytelevel":
		ao.Decode = tokenclass.ByteLevelDecode
	case "metaspace":
		ao.Decode = tokenclass.MetaspaceDecoder('▁', true)
	}
	out := make([][]tokenclass.Entity, len(texts))
	const batch = 8
	for lo := 0; lo < len(texts); lo += batch {
		part := texts[lo:min(lo+batch, len(texts))]
		enc, err := tok.EncodeBatch(part, nil, tokenize.Options{MaxLength: opt.MaxLength, ReturnOffsets: true})
		if err != nil {
			return nil, err
		}
		feeds, err := enc.Tensors(m.Graph.InputNames()...)
		if err != nil {
			return nil, err
		}
		res, err := m.Graph.Run(feeds, m.Output)
		if err != nil {
			return nil, err
		}
		y := res[m.Output]
		c := len(m.Labels)
		if y.Rank() != 3 || y.Shape[2] != c {
			return nil, fmt.Errorf("the model's %s is %v, want [batch, sequence, %d]", m.Output, y.Shape, c)
		}
		seq := y.Shape[1]
		d := y.F32()
		for i, text := range part {
			// byte offsets to code points
			cp := make([]int, len(text)+1)
			n := 0
			for b := 0; b < len(text); n++ {
				_, size := utf8.DecodeRuneInString(text[b:])
				for j := 0; j < size; j++ {
					cp[b+j] = n
				}
				b += size
			}
			cp[len(text)] = n
			var toks []tokenclass.Token
			var logits [][]float32
			for k, id := range enc.InputIDs[i] {
				if enc.AttentionMask[i][k] == 0 {
					continue
				}
				off := enc.Offsets[i][k]
				special := enc.SequenceIDs[i][k] < 0
				toks = append(toks, tokenclass.Token{Text: names.Name(id), Start: cp[off[0]], End: cp[off[1]], Special: special, Unknown: names.IsUnknown(id)})
				logits = append(logits, d[(i*seq+k)*c:(i*seq+k+1)*c])
			}
			ents, err := tokenclass.Aggregate(text, toks, logits, ao)
			if err != nil {
				return nil, fmt.Errorf("text %d: %w", lo+i+1, err)
			}
			out[lo+i] = ents
		}
	}
	return out, nil
}

// basePrefixes are transformers' base_model_prefix by model_type: the
// attribute that holds the encoder in a *ForTokenClassification model.
var basePrefixes = map[string]string{
	"bert": "bert", "roberta": "roberta", "xlm-roberta": "roberta", "camembert": "roberta",
	"deberta": "deberta", "deberta-v2": "deberta", "distilbert": "distilbert", "electra": "electra",
	"albert": "albert", "mpnet": "mpnet", "modernbert": "model",
}

// baseModelPrefix returns how SaveSafetensors names a parameter: as is, or,
// for the per-token head ft added to a feature-extraction export (whose
// encoder parameters have no prefix), with the encoder's parameters under
// transformers' base_model_prefix ("bert.embeddings...") beside
// "classifier.*", the layout *ForTokenClassification loads.
func baseModelPrefix(m *Model) (func(string) string, error) {
	same := func(n string) string { return n }
	if m.Task != TaskTokenClassification {
		return same, nil
	}
	mt, _ := m.Config["model_type"].(string)
	prefix, ok := basePrefixes[mt]
	bare := false
	for _, p := range m.Graph.Params {
		if !strings.HasPrefix(p.Name, "classifier.") && !(ok && strings.HasPrefix(p.Name, prefix+".")) {
			bare = true
		}
	}
	if !bare {
		return same, nil
	}
	if !ok {
		return nil, fmt.Errorf("the safetensors export of a %q encoder with ft's per-token head needs the encoder's transformers prefix, which ft does not know for this model type: export ONNX instead", mt)
	}
	return func(n string) string {
		if strings.HasPrefix(n, "classifier.") {
			return n
		}
		return prefix + "." + n
	}, nil
}
