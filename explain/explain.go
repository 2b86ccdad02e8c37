package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"ft/finetune"
	"ft/graph"
	"ft/onnx"
	"ft/tensor"
	"ft/tokenize"
)

// MaxSteps bounds the integrated-gradients steps: each is a forward
// and backward pass (the error of the trapezoid rule falls as 1/steps²;
// Captum's default is 50).
const MaxSteps = 100000

// Explaining a prediction: a score per token from gradients of one class's
// logit (the target: the predicted class unless Options.Target names
// another) with respect to the word embeddings, the output of the model's
// word-embedding lookup Gather(word_embeddings.weight, input_ids) — before
// position and token-type embeddings are added.
//
// The model is rewritten, as ONNX nodes, so that the lookup's output e feeds
//
//	e' = e ⊙ ft_explain.scale + ft_explain.shift      scale [B,S,1], shift [B,S,H]
//
// instead of e; shift is a parameter, so ∂logit/∂shift = ∂logit/∂e' is the
// gradient with respect to the embeddings at whatever point scale and shift
// select, and the graph's own reverse mode computes it (nothing in graph/
// knows about explanations).
//
// Scores, with f the target logit, e_i ∈ R^H the word embedding of token i,
// b_i its baseline and g(x) = ∂f/∂e_i at embeddings x:
//
//	gradient × input:      GI_i = Σ_h g(e)_{i,h} · e_{i,h}
//	                       (= d/dt f(e_i → (1+t)·e_i) at t = 0)
//	gradient norm:         GN_i = ‖g(e)_i‖₂
//	integrated gradients:  IG_i = Σ_h (e−b)_{i,h} · ∫₀¹ g(b + α(e−b))_{i,h} dα
//
// The integral is the trapezoid rule on α_k = k/m, k = 0..m (m = Steps), all
// rows of one text batched together; completeness Σ_i IG_i ≈ f(e) − f(b)
// holds up to the quadrature error, which Explanation reports.
//
// Baselines: "pad" (default) replaces the embedding of every ordinary token
// by that of the tokenizer's pad token; "zero" by the zero vector. Special
// tokens ([CLS], [SEP], <s>, ...; not [UNK]) keep their own embedding in the baseline,
// so their IG is 0 and the attribution is spread over the text's tokens.
// Position and token-type embeddings and the attention mask are those of
// the input in every step.

// Options control Explain.
type Options struct {
	// Target is the label whose logit is explained; "" = the predicted one.
	Target string
	// Steps of the integrated-gradients quadrature (0 = 50; at most
	// MaxSteps).
	Steps int
	// Baseline is "pad" (default) or "zero".
	Baseline string
	// MaxLength truncates texts (0 = the tokenizer's model max length).
	MaxLength int
	// BatchSize bounds the rows of one forward/backward pass (0 = 16).
	BatchSize int
}

// TokenScore is one token's attribution.
type TokenScore struct {
	// Token is the vocabulary entry ("##ing", "Ġgood", "▁the"); Text is
	// how it reads in the text ("ing", " good", " the").
	Token string `json:"token"`
	Text  string `json:"text"`
	ID    int64  `json:"id"`
	// Special marks [CLS], [SEP], <s>, ... (kept at their embedding in the
	// baseline): the special added tokens but the unknown token, which stands
	// for a piece of the text.
	Special bool `json:"special,omitempty"`
	// Continues marks a word piece that continues the previous token's word.
	Continues bool `json:"continues,omitempty"`
	// GradInput is gradient × input; GradNorm the L2 norm of the gradient;
	// IG the integrated gradients score.
	GradInput float64 `json:"grad_x_input"`
	GradNorm  float64 `json:"grad_norm"`
	IG        float64 `json:"integrated_gradients"`
}

// Explanation is the prediction for one text and its token scores.
type Explanation struct {
	Text          string             `json:"text"`
	Label         string             `json:"label"`
	Score         float64            `json:"score"`
	Probabilities map[string]float64 `json:"probabilities"`
	// Target is the explained label; Logit f(x) its logit at the input and
	// BaselineLogit f(b) at the baseline.
	Target        string  `json:"target"`
	Logit         float64 `json:"logit"`
	BaselineLogit float64 `json:"baseline_logit"`
	Baseline      string  `json:"baseline"`
	Steps         int     `json:"steps"`
	// IGSum is Σ_i IG_i; completeness says it equals Logit − BaselineLogit.
	// CompletenessError is |IGSum − (Logit − BaselineLogit)| / |Logit − BaselineLogit|.
	IGSum             float64      `json:"ig_sum"`
	CompletenessError float64      `json:"completeness_error"`
	Tokens            []TokenScore `json:"tokens"`
}

// Word is a run of tokens read as one word, with their summed scores.
type Word struct {
	Text                string
	First, Last         int // token indices, inclusive
	Special             bool
	GradInput, IG, Norm float64
}

// Words merges word pieces ("play", "##ing") into words, summing their
// scores (GradNorm is combined as the root of the sum of squares).
func (e *Explanation) Words() []Word {
	var ws []Word
	for i, t := range e.Tokens {
		if t.Continues && len(ws) > 0 && !ws[len(ws)-1].Special {
			w := &ws[len(ws)-1]
			w.Text += t.Text
			w.Last = i
			w.GradInput += t.GradInput
			w.IG += t.IG
			w.Norm = math.Hypot(w.Norm, t.GradNorm)
			continue
		}
		ws = append(ws, Word{Text: t.Text, First: i, Last: i, Special: t.Special, GradInput: t.GradInput, IG: t.IG, Norm: t.GradNorm})
	}
	return ws
}

// Explainer computes explanations for one model. It is safe for concurrent
// use (calls are serialised).
type Explainer struct {
	model *finetune.Model
	tok   *tokenize.Tokenizer
	names *tokenize.TokenNames
	g     *graph.Graph
	scale *graph.Param
	shift *graph.Param
	table *tensor.Tensor // word embeddings [vocab, hidden]
	// Lookup names the word-embedding Gather node that was found.
	Lookup string
	mu     sync.Mutex
}

const (
	explainScale = "ft_explain.scale"
	explainShift = "ft_explain.shift"
)

// New prepares m for explanations with its tokenizer (the token
// names are read from m.Dir's tokenizer.json). The explainer shares m's
// parameter values (their memory): it explains the model as it is, fine-tuned
// in memory or loaded from a folder.
func New(m *finetune.Model, tok *tokenize.Tokenizer) (*Explainer, error) {
	x, err := newExplainer(m)
	if err != nil {
		return nil, err
	}
	x.tok = tok
	if x.names, err = tokenize.LoadTokenNames(m.Dir); err != nil {
		return nil, err
	}
	return x, nil
}

// newExplainer rewrites and re-imports m's graph (no tokenizer needed).
func newExplainer(m *finetune.Model) (*Explainer, error) {
	src := m.Graph.Model
	where := src.Path
	if where == "" {
		where = m.Dir
	}
	gp := src.Proto.Graph
	// Find the lookup: Gather(data = a rank-2 float initializer, indices = input_ids).
	inits := onnx.Initializers(gp)
	var lookup *onnx.NodeProto
	for _, nd := range gp.Node {
		if nd.GetOpType() != "Gather" || len(nd.Input) < 2 || len(nd.Output) < 1 || nd.Input[1] != tokenize.InputIDs {
			continue
		}
		t := inits[nd.Input[0]]
		if t == nil || len(t.Dims) != 2 || onnx.DTypeOf(t.GetDataType()) != tensor.Float32 {
			continue
		}
		if lookup == nil || strings.Contains(nd.Input[0], "word_embeddings") || strings.Contains(nd.Input[0], "tok_embeddings") {
			lookup = nd
		}
	}
	if lookup == nil {
		return nil, fmt.Errorf("%s: no word-embedding lookup found (a Gather node reading input_ids from a float32 [vocab, hidden] initializer such as *.embeddings.word_embeddings.weight); ft explain needs the embeddings of the tokens", where)
	}
	hidden := int(inits[lookup.Input[0]].Dims[1])
	emb := lookup.Output[0]
	for _, o := range gp.Output {
		if o.GetName() == emb {
			return nil, fmt.Errorf("%s: the word embeddings %q are a graph output; ft explain cannot rewrite them", where, emb)
		}
	}

	// Copy the model without copying the weights: shallow copies of the model
	// and graph messages, new node and initializer lists, and a deep copy of
	// only the nodes that change.
	mp := onnx.ShallowCopy(src.Proto)
	graphCopy := onnx.ShallowCopy(gp)
	mp.Graph = graphCopy
	graphCopy.Initializer = slices.Clone(gp.Initializer)
	graphCopy.Node = nil
	const pre = "/ft_explain/"
	out := pre + "embeddings"
	for _, nd := range gp.Node {
		if slices.Contains(nd.Input, emb) {
			nd = proto.Clone(nd).(*onnx.NodeProto)
			for k, in := range nd.Input {
				if in == emb {
					nd.Input[k] = out
				}
			}
		}
		graphCopy.Node = append(graphCopy.Node, nd)
		if nd == lookup {
			// right after the lookup: keeps the file topologically ordered
			graphCopy.Node = append(graphCopy.Node,
				onnx.NewNode("Mul", pre+"scale", []string{emb, explainScale}, []string{pre + "scaled"}),
				onnx.NewNode("Add", pre+"shift", []string{pre + "scaled", explainShift}, []string{out}))
		}
	}
	mod := &onnx.Model{Proto: mp, Path: src.Path, Dir: src.Dir}
	if err := mod.SetInitializer(explainScale, tensor.New([]int{1, 1, 1}, []float32{1})); err != nil {
		return nil, err
	}
	if err := mod.SetInitializer(explainShift, tensor.Zeros(tensor.Float32, 1, 1, hidden)); err != nil {
		return nil, err
	}
	g, err := graph.Import(mod, m.Graph.Options())
	if err != nil {
		return nil, fmt.Errorf("%s: the model rewritten for explanations does not import: %w", where, err)
	}
	// share the model's current parameter values
	own := map[string]*graph.Param{}
	for _, p := range m.Graph.Params {
		own[p.Initializer] = p
	}
	x := &Explainer{model: m, g: g, Lookup: lookup.GetName()}
	for _, p := range g.Params {
		switch p.Initializer {
		case explainScale:
			x.scale = p
		case explainShift:
			x.shift = p
		default:
			if q := own[p.Initializer]; q != nil && slices.Equal(q.Value.Shape, p.Value.Shape) && q.Value.DType() == p.Value.DType() {
				*p.Value = *q.Value
			}
		}
	}
	if x.scale == nil || x.shift == nil {
		return nil, fmt.Errorf("%s: internal error: the explanation parameters were not imported as parameters", where)
	}
	id, ok := g.ValueID(lookup.Input[0])
	if !ok || g.Values[id].Const == nil {
		return nil, fmt.Errorf("%s: the word-embedding table %q has no value", where, lookup.Input[0])
	}
	x.table = g.Values[id].Const
	return x, nil
}

// Explain tokenizes each text alone (no padding) and explains it.
func (x *Explainer) Explain(ctx context.Context, texts []string, opt Options) ([]Explanation, error) {
	if x.tok == nil {
		return nil, fmt.Errorf("explain: the explainer has no tokenizer (use explain.New)")
	}
	var res []Explanation
	for _, t := range texts {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		enc, err := x.tok.EncodeBatch([]string{t}, nil, tokenize.Options{MaxLength: opt.MaxLength})
		if err != nil {
			return res, err
		}
		feeds, err := enc.Tensors(x.g.InputNames()...)
		if err != nil {
			return res, err
		}
		ids := enc.InputIDs[0]
		special := make([]bool, len(ids))
		for i, id := range ids {
			special[i] = x.names.IsSpecial(id)
		}
		e, err := x.explainRow(ctx, feeds, special, x.tok.PadID(), opt)
		if err != nil {
			return res, fmt.Errorf("explain %q: %w", t, err)
		}
		e.Text = t
		describe(x.names, e.Tokens)
		res = append(res, *e)
	}
	return res, nil
}

// explainRow explains one tokenized row: feeds are the model inputs [1, S],
// special marks the tokens kept in the baseline, padID is the baseline
// token for Baseline "pad".
func (x *Explainer) explainRow(ctx context.Context, feeds map[string]*tensor.Tensor, special []bool, padID int64, opt Options) (*Explanation, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	idsT, ok := feeds[tokenize.InputIDs]
	if !ok || idsT.DType() != tensor.Int64 || idsT.Rank() != 2 || idsT.Shape[0] != 1 {
		return nil, fmt.Errorf("input_ids must be an int64 tensor [1, sequence]")
	}
	ids := idsT.I64()
	S, H := len(ids), x.table.Shape[1]
	if len(special) != S {
		return nil, fmt.Errorf("special has %d entries for %d tokens", len(special), S)
	}
	steps := opt.Steps
	if steps == 0 {
		steps = 50
	}
	if steps < 1 || steps > MaxSteps {
		return nil, fmt.Errorf("steps must be ≥ 1 and at most %d, got %d", MaxSteps, steps)
	}
	base := opt.Baseline
	if base == "" {
		base = "pad"
	}
	e, b, err := x.embeddings(ids, special, padID, base)
	if err != nil {
		return nil, err
	}
	// The prediction at the input.
	logits, _, err := x.eval(feeds, []float64{1}, nil, special, -1, S, H)
	if err != nil {
		return nil, err
	}
	probs := finetune.Softmax(logits)
	best, target, err := x.target(probs, opt.Target)
	if err != nil {
		return nil, err
	}
	ig, err := x.integrate(ctx, feeds, b, special, target, steps, opt.BatchSize, len(logits))
	if err != nil {
		return nil, err
	}
	pm := map[string]float64{}
	for j, p := range probs {
		pm[x.model.LabelName(j)] = p
	}
	ex := &Explanation{Label: x.model.LabelName(best), Score: probs[best], Probabilities: pm, Target: x.model.LabelName(target),
		Logit: ig.fx, BaselineLogit: ig.fb, Baseline: base, Steps: steps}
	for i := range S {
		var gi, gn, sc float64
		for h := range H {
			j := i*H + h
			gi += float64(ig.gx[j]) * float64(e[j])
			gn += float64(ig.gx[j]) * float64(ig.gx[j])
			sc += float64(e[j]-b[j]) * ig.acc[j] / float64(steps)
		}
		ex.IGSum += sc
		ex.Tokens = append(ex.Tokens, TokenScore{ID: ids[i], Special: special[i], GradInput: gi, GradNorm: math.Sqrt(gn), IG: sc})
	}
	if d := ig.fx - ig.fb; d != 0 {
		ex.CompletenessError = math.Abs(ex.IGSum-d) / math.Abs(d)
	} else {
		ex.CompletenessError = math.Abs(ex.IGSum)
	}
	return ex, nil
}

// embeddings returns the row's word embeddings e and the baseline b (the
// pad token's embedding, or zero, at every ordinary token; special tokens
// keep theirs), each [S·H].
func (x *Explainer) embeddings(ids []int64, special []bool, padID int64, base string) (e, b []float32, err error) {
	S, H, vocab := len(ids), x.table.Shape[1], x.table.Shape[0]
	table := x.table.F32()
	e = make([]float32, S*H)
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return nil, nil, fmt.Errorf("token id %d at position %d is outside the embedding table's %d rows", id, i, vocab)
		}
		copy(e[i*H:(i+1)*H], table[int(id)*H:(int(id)+1)*H])
	}
	b = make([]float32, S*H)
	switch base {
	case "pad":
		if padID < 0 || int(padID) >= vocab {
			return nil, nil, fmt.Errorf("baseline pad: the tokenizer has no pad token (id %d); use the zero baseline", padID)
		}
		for i := range S {
			copy(b[i*H:(i+1)*H], table[int(padID)*H:(int(padID)+1)*H])
		}
	case "zero":
	default:
		return nil, nil, fmt.Errorf("unknown baseline %q (use pad or zero)", base)
	}
	for i := range S {
		if special[i] {
			copy(b[i*H:(i+1)*H], e[i*H:(i+1)*H])
		}
	}
	return e, b, nil
}

// target returns the predicted class and the one to explain: the label
// named (when not ""), else the predicted one.
func (x *Explainer) target(probs []float64, label string) (best, target int, err error) {
	for j, p := range probs {
		if p > probs[best] {
			best = j
		}
	}
	if label == "" {
		return best, best, nil
	}
	all := make([]string, len(probs))
	for j := range all {
		if all[j] = x.model.LabelName(j); all[j] == label {
			return best, j, nil
		}
	}
	return 0, 0, fmt.Errorf("unknown target label %q: the model's labels are %s", label, strings.Join(all, ", "))
}

// integral is what integrate gathers along the path from the baseline to
// the input.
type integral struct {
	acc    []float64 // Σ_k w_k g_k, [S·H]
	fb, fx float64   // the target's logit at the baseline and at the input
	gx     []float32 // the gradient at the input, [S·H]
}

// integrate runs the integrated-gradients quadrature on α_k = k/steps
// (trapezoid) in batches of batch rows (0: 16); k = steps is the input,
// whose gradient also gives gradient × input. C is the number of classes.
func (x *Explainer) integrate(ctx context.Context, feeds map[string]*tensor.Tensor, b []float32, special []bool, target, steps, batch, C int) (*integral, error) {
	if batch <= 0 {
		batch = 16
	}
	S, H := len(special), x.table.Shape[1]
	alphas := make([]float64, steps+1)
	for k := range alphas {
		alphas[k] = float64(k) / float64(steps)
	}
	ig := &integral{acc: make([]float64, S*H), gx: make([]float32, S*H)}
	for lo := 0; lo < len(alphas); lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, len(alphas))
		lg, gr, err := x.eval(feeds, alphas[lo:hi], b, special, target, S, H)
		if err != nil {
			return nil, err
		}
		for r := range hi - lo {
			k := lo + r
			w := 1.0
			if k == 0 || k == steps {
				w = 0.5
			}
			row := gr[r*S*H : (r+1)*S*H]
			for j, v := range row {
				ig.acc[j] += w * float64(v)
			}
			if k == 0 {
				ig.fb = float64(lg[r*C+target])
			}
			if k == steps {
				ig.fx = float64(lg[r*C+target])
				copy(ig.gx, row)
			}
		}
	}
	return ig, nil
}

// eval runs len(alphas) copies of the row at embeddings b + α(e − b)
// (special tokens at e). With target ≥ 0 it also returns ∂logit_target/∂e'
// for each row, [rows, S, H]. Logits are [rows, classes].
func (x *Explainer) eval(feeds map[string]*tensor.Tensor, alphas []float64, b []float32, special []bool, target, S, H int) ([]float32, []float32, error) {
	n := len(alphas)
	scale := make([]float32, n*S)
	shift := make([]float32, n*S*H)
	for r, a := range alphas {
		for i := range S {
			if special[i] || b == nil {
				scale[r*S+i] = 1
				continue
			}
			scale[r*S+i] = float32(a)
			sh := shift[(r*S+i)*H : (r*S+i+1)*H]
			for h := range sh {
				sh[h] = float32(1-a) * b[i*H+h]
			}
		}
	}
	return x.evalAt(feeds, n, scale, shift, target, S, H)
}

// evalAt runs the model with e' = scale ⊙ e + shift (scale [n,S,1], shift
// [n,S,H]) on n copies of the row in feeds.
func (x *Explainer) evalAt(feeds map[string]*tensor.Tensor, n int, scale, shift []float32, target, S, H int) ([]float32, []float32, error) {
	tiled := make(map[string]*tensor.Tensor, len(feeds))
	for k, t := range feeds {
		tt, err := tileRows(t, n)
		if err != nil {
			return nil, nil, fmt.Errorf("input %q: %w", k, err)
		}
		tiled[k] = tt
	}
	*x.scale.Value = tensor.Tensor{Shape: []int{n, S, 1}, Data: scale}
	*x.shift.Value = tensor.Tensor{Shape: []int{n, S, H}, Data: shift}
	out := x.model.Output
	if target < 0 {
		res, err := x.g.Run(tiled, out)
		if err != nil {
			return nil, nil, err
		}
		return slices.Clone(res[out].F32()), nil, nil
	}
	tr, err := x.g.Forward(tiled, []string{out}, []*graph.Param{x.shift})
	if err != nil {
		return nil, nil, err
	}
	y := tr.Outputs[out]
	if y.Rank() != 2 || y.Shape[0] != n {
		return nil, nil, fmt.Errorf("output %q has shape %v, want [%d, classes]", out, y.Shape, n)
	}
	C := y.Shape[1]
	if target >= C {
		return nil, nil, fmt.Errorf("target class %d but the model has %d", target, C)
	}
	logits := slices.Clone(y.F32())
	seed := make([]float32, n*C)
	for r := range n {
		seed[r*C+target] = 1
	}
	gr, err := tr.Backward(map[string]*tensor.Tensor{out: tensor.New([]int{n, C}, seed)})
	if err != nil {
		return nil, nil, err
	}
	g := gr[x.shift]
	if g == nil || g.Len() != n*S*H {
		return nil, nil, fmt.Errorf("no gradient of the right size for the embeddings")
	}
	return logits, slices.Clone(g.F32()), nil
}

func tileRows(t *tensor.Tensor, n int) (*tensor.Tensor, error) {
	if t.Rank() < 1 || t.Shape[0] != 1 {
		return nil, fmt.Errorf("want one row, got shape %v", t.Shape)
	}
	shape := append([]int{n}, t.Shape[1:]...)
	switch d := t.Data.(type) {
	case []int64:
		return tensor.New(shape, repeat(d, n)), nil
	case []int32:
		return tensor.New(shape, repeat(d, n)), nil
	case []float32:
		return tensor.New(shape, repeat(d, n)), nil
	case []bool:
		return tensor.New(shape, repeat(d, n)), nil
	}
	return nil, fmt.Errorf("unsupported input type %s", t.DType())
}

func repeat[T any](d []T, n int) []T {
	out := make([]T, 0, len(d)*n)
	for range n {
		out = append(out, d...)
	}
	return out
}

// describe fills Token, Text and Continues.
func describe(tn *tokenize.TokenNames, ts []TokenScore) {
	for i := range ts {
		t := &ts[i]
		t.Token = tn.Name(t.ID)
		t.Text = t.Token
		if t.Special {
			continue
		}
		t.Text, t.Continues = tn.Piece(t.Token, i > 0 && !ts[i-1].Special)
	}
}
