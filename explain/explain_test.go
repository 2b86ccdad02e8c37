package explain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ft/finetune"
	"ft/onnx"
	"ft/tensor"
	"ft/tokenize"
)

const tinyBert = "../internal/bundled/tiny-bert"

var explainTexts = []string{
	"a gripping, beautifully acted film",
	"two hours I will never get back",
	"the plot is thin but the cast is wonderful and the music unforgettable",
	"meh",
}

func loadTinyExplainer(t *testing.T) (*finetune.Model, *tokenize.Tokenizer, *Explainer) {
	t.Helper()
	m, err := finetune.LoadModel(tinyBert, finetune.ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.Load(tinyBert)
	if err != nil {
		t.Fatal(err)
	}
	x, err := New(m, tok)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok, x
}

// fdGradInput estimates, for each token i, d/dt f(e_i → (1+t)·e_i) at t = 0
// by the five-point central difference (forward passes only: scale = 1 ± h,
// 1 ± 2h on row i): [8(f(h) − f(−h)) − (f(2h) − f(−2h))] / 12h, error O(h⁴)
// plus float32 rounding of the forward pass / h.
func fdGradInput(t *testing.T, x *Explainer, feeds map[string]*tensor.Tensor, target int, h float64) []float64 {
	t.Helper()
	S := feeds[tokenize.InputIDs].Shape[1]
	H := x.table.Shape[1]
	offs := []float64{h, -h, 2 * h, -2 * h}
	n := len(offs) * S
	scale := make([]float32, n*S)
	for i := range scale {
		scale[i] = 1
	}
	for i := range S {
		for k, o := range offs {
			scale[(len(offs)*i+k)*S+i] = float32(1 + o)
		}
	}
	y, _, err := x.evalAt(feeds, n, scale, make([]float32, n*S*H), -1, S, H)
	if err != nil {
		t.Fatal(err)
	}
	C := len(y) / n
	fd := make([]float64, S)
	for i := range S {
		f := func(k int) float64 { return float64(y[(len(offs)*i+k)*C+target]) }
		fd[i] = (8*(f(0)-f(1)) - (f(2) - f(3))) / (12 * h)
	}
	return fd
}

// fdDirection estimates the derivative of the target logit along a
// direction d of all the embeddings by central differences, the step scaled
// to the embeddings' size (h·rms(e)/rms(d)); an is ∇f·d from backward.
func fdDirection(t *testing.T, x *Explainer, feeds map[string]*tensor.Tensor, target int, r *rand.Rand) (an, fd float64) {
	t.Helper()
	ids := feeds[tokenize.InputIDs].I64()
	S, H := len(ids), x.table.Shape[1]
	one := make([]float32, 2*S)
	for i := range one {
		one[i] = 1
	}
	_, g, err := x.evalAt(feeds, 1, one[:S], make([]float32, S*H), target, S, H)
	if err != nil {
		t.Fatal(err)
	}
	table := x.table.F32()
	var ee, dd float64
	d := make([]float64, S*H)
	for i, id := range ids {
		for h := range H {
			v := float64(table[int(id)*H+h])
			ee += v * v
			d[i*H+h] = r.NormFloat64()
			dd += d[i*H+h] * d[i*H+h]
		}
	}
	step := 1e-2 * math.Sqrt(ee/dd)
	shift := make([]float32, 2*S*H)
	for j := range d {
		an += float64(g[j]) * d[j]
		shift[j] = float32(step * d[j])
		shift[S*H+j] = float32(-step * d[j])
	}
	y, _, err := x.evalAt(feeds, 2, one, shift, -1, S, H)
	if err != nil {
		t.Fatal(err)
	}
	C := len(y) / 2
	return an, (float64(y[target]) - float64(y[C+target])) / (2 * step)
}

type fixtureRow struct {
	feeds   map[string]*tensor.Tensor
	special []bool
}

var explainFamilies = []string{"bert", "bert-dynamo", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "deberta-v2", "mpnet", "modernbert"}

// scaleInvariant families normalise the word embedding alone, before
// anything is added to it (DeBERTa-v2 without position_biased_input,
// ModernBERT): the logit does not change when a token's embedding is scaled.
var scaleInvariant = map[string]bool{"deberta-v2": true, "modernbert": true}

// loadFixtureExplainer loads a text-classification fixture and its three
// input rows, each cut to its real tokens (cls … sep).
func loadFixtureExplainer(t *testing.T, name string) (*finetune.Model, *Explainer, []fixtureRow, []float32, int64) {
	t.Helper()
	dir := filepath.Join("..", "testmodels", "fixtures", name)
	m, err := finetune.LoadModel(dir, finetune.ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := newExplainer(m)
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]*tensor.Tensor{}
	for k, in := range x.g.InputNames() {
		full[in] = readFixtureTensor(t, filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
	}
	mask := full[tokenize.AttentionMask]
	B, S := mask.Shape[0], mask.Shape[1]
	var rows []fixtureRow
	for b := range B {
		n := 0
		for _, v := range mask.I64()[b*S : (b+1)*S] {
			n += int(v)
		}
		row := fixtureRow{feeds: map[string]*tensor.Tensor{}, special: make([]bool, n)}
		for k, v := range full {
			row.feeds[k] = tensor.New([]int{1, n}, v.I64()[b*S:b*S+n])
		}
		row.special[0], row.special[n-1] = true, true
		rows = append(rows, row)
	}
	golden := readFixtureTensor(t, filepath.Join(dir, "test_data_set_0", "output_0.pb")).F32()
	pad := int64(0)
	if v, ok := m.Config["pad_token_id"].(float64); ok {
		pad = int64(v)
	}
	return m, x, rows, golden, pad
}

// TestExplainGradInputMatchesFiniteDifferences: on every fixture family,
// every row and every class, gradient × input of each token equals the
// derivative of the logit along that token's own embedding,
// d/dt f(e_i → (1+t)e_i) at t = 0, estimated by central differences; and the
// whole embedding gradient (what IG integrates) matches central differences
// along random directions.
func TestExplainGradInputMatchesFiniteDifferences(t *testing.T) {
	for _, name := range explainFamilies {
		t.Run(name, func(t *testing.T) {
			m, x, rows, _, pad := loadFixtureExplainer(t, name)
			r := rand.New(rand.NewPCG(7, 8))
			worst, worstDir, biggest, biggestDir := 0.0, 0.0, 0.0, 0.0
			for k, row := range rows {
				for ti, target := range m.Labels {
					e, err := x.explainRow(context.Background(), row.feeds, row.special, pad, Options{Target: target, Steps: 2})
					if err != nil {
						t.Fatal(err)
					}
					fd := fdGradInput(t, x, row.feeds, ti, 1e-2)
					for i, ts := range e.Tokens {
						d := math.Abs(ts.GradInput - fd[i])
						worst, biggest = math.Max(worst, d), math.Max(biggest, math.Abs(fd[i]))
						if d > 1e-3 {
							t.Errorf("row %d %s token %d: grad×input %.6f, finite difference %.6f (|diff| %.2g > 1e-3)", k, target, i, ts.GradInput, fd[i], d)
						}
					}
					an, fdd := fdDirection(t, x, row.feeds, ti, r)
					worstDir, biggestDir = math.Max(worstDir, math.Abs(an-fdd)), math.Max(biggestDir, math.Abs(fdd))
					if math.Abs(an-fdd) > 1e-3*math.Max(1, math.Abs(fdd)) {
						t.Errorf("row %d %s: ∇f·d = %.6f, finite difference %.6f", k, target, an, fdd)
					}
				}
			}
			t.Logf("worst |grad×input − FD| = %.2g (largest |FD| %.3f); worst |∇f·d − FD| = %.2g (largest |∇f·d| %.3f)", worst, biggest, worstDir, biggestDir)
			if scaleInvariant[name] {
				// LayerNorm(word embedding) comes first: f(e_i·(1+t)) is flat in t,
				// so gradient × input is 0 by construction (hand-derived).
				// (LayerNorm's eps breaks the invariance by ≈ eps/var(e) ≈ 5e-4)
				if biggest > 1e-3 {
					t.Errorf("largest |grad×input| %.2g; the embeddings are normalised alone, want ≈ 0", biggest)
				}
			} else if biggest < 1e-2 {
				t.Errorf("largest derivative %.2g: the fixture is too flat for a 1e-3 check to mean anything", biggest)
			}
			if biggestDir < 1e-2 {
				t.Errorf("largest |∇f·d| %.2g: too flat for a 1e-3 check to mean anything", biggestDir)
			}
		})
	}
}

// TestExplainCompleteness: on every fixture family, every row and every
// class, Σ IG = f(x) − f(baseline) within 1 % (both baselines) at 200 steps,
// and the explained logit is ONNX Runtime's (golden) for the unpadded row 0.
// DistilBERT gets 400 steps: its head has a ReLU, whose kinks along the path
// make the trapezoid rule first order; at 50 steps its worst error is ≈ 3 %,
// at 200 ≈ 1.6 %, on its small differences (|f(x) − f(b)| ≈ 0.02–0.03).
// The zero baseline is not checked on the scale-invariant families: on the
// path α·e the normalised embedding jumps from 0 to LayerNorm(e) within
// α ≈ √eps/std(e) ≈ 1e-3, far finer than any practical step count.
func TestExplainCompleteness(t *testing.T) {
	for _, name := range explainFamilies {
		t.Run(name, func(t *testing.T) {
			m, x, rows, golden, pad := loadFixtureExplainer(t, name)
			worst, n, all := 0.0, 0, 0
			steps := 200
			if name == "distilbert" {
				steps = 400
			}
			for _, base := range []string{"pad", "zero"} {
				if base == "zero" && scaleInvariant[name] {
					continue
				}
				for k, row := range rows {
					for j, target := range m.Labels {
						e, err := x.explainRow(context.Background(), row.feeds, row.special, pad, Options{Target: target, Baseline: base, Steps: steps})
						if err != nil {
							t.Fatal(err)
						}
						all++
						if k == 0 {
							if d := math.Abs(e.Logit - float64(golden[j])); d > 1e-4 {
								t.Errorf("%s logit %.6f, ONNX Runtime %.6f", target, e.Logit, golden[j])
							}
						}
						for _, ts := range e.Tokens {
							if ts.Special && ts.IG != 0 {
								t.Errorf("special token %d kept at its embedding has IG %g, want 0", ts.ID, ts.IG)
							}
						}
						delta := e.Logit - e.BaselineLogit
						if math.Abs(delta) < 1e-2 {
							continue // too small a difference for a relative check
						}
						n++
						worst = math.Max(worst, e.CompletenessError)
						if e.CompletenessError > 0.01 {
							t.Errorf("%s row %d %s: Σ IG %.5f vs f(x) − f(b) %.5f (relative error %.3g > 1 %%)", base, k, target, e.IGSum, delta, e.CompletenessError)
						}
					}
				}
			}
			t.Logf("%d explanations with |f(x) − f(b)| ≥ 0.01 (%d steps): worst completeness error %.2g", n, steps, worst)
			if n < all/2 {
				t.Errorf("only %d of %d explanations had |f(x) − f(b)| ≥ 0.01", n, all)
			}
		})
	}
}

// TestExplainIGConvergesSecondOrder: on smooth models the completeness
// error of the trapezoid rule falls 4× when the steps double (25 → 50 → 100).
func TestExplainIGConvergesSecondOrder(t *testing.T) {
	for _, name := range []string{"bert", "roberta", "mpnet"} {
		m, x, rows, _, pad := loadFixtureExplainer(t, name)
		errs := make([]float64, 3)
		for s, steps := range []int{25, 50, 100} {
			for _, row := range rows {
				for _, target := range m.Labels {
					e, err := x.explainRow(context.Background(), row.feeds, row.special, pad, Options{Target: target, Steps: steps})
					if err != nil {
						t.Fatal(err)
					}
					errs[s] += math.Abs(e.IGSum - (e.Logit - e.BaselineLogit))
				}
			}
		}
		r1, r2 := errs[0]/errs[1], errs[1]/errs[2]
		t.Logf("%s: Σ|Σ IG − Δf| at 25/50/100 steps = %.3g / %.3g / %.3g (ratios %.2f, %.2f)", name, errs[0], errs[1], errs[2], r1, r2)
		if r1 < 3 || r1 > 5 || r2 < 3 || r2 > 5 {
			t.Errorf("%s: error ratios %.2f, %.2f when doubling the steps, want ≈ 4 (trapezoid, second order)", name, r1, r2)
		}
	}
}

func readFixtureTensor(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := onnx.ParseTensor(b)
	if err != nil {
		t.Fatal(err)
	}
	x, err := onnx.ToTensor(tp)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestExplainAgreesWithPredict: the rewritten graph predicts what the model
// predicts, and explaining leaves the model untouched.
func TestExplainAgreesWithPredict(t *testing.T) {
	m, tok, x := loadTinyExplainer(t)
	ex, err := x.Explain(context.Background(), explainTexts, Options{Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := m.Predict(context.Background(), tok, explainTexts, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ex {
		if ex[i].Label != pr[i].Label {
			t.Errorf("%q: explain says %s, predict says %s", explainTexts[i], ex[i].Label, pr[i].Label)
		}
		for l, p := range pr[i].Probabilities {
			if math.Abs(ex[i].Probabilities[l]-p) > 1e-5 {
				t.Errorf("%q: P(%s) explain %.6f, predict %.6f", explainTexts[i], l, ex[i].Probabilities[l], p)
			}
		}
		if ex[i].Target != ex[i].Label {
			t.Errorf("default target %q is not the predicted label %q", ex[i].Target, ex[i].Label)
		}
	}
}

// TestExplainSharesParameters: the explainer explains the model as it is in
// memory (fine-tuned or not), and leaves the model's own graph untouched.
func TestExplainSharesParameters(t *testing.T) {
	m, _, x := loadTinyExplainer(t)
	for _, nd := range m.Graph.Model.Proto.Graph.Node {
		if strings.HasPrefix(nd.GetName(), "/ft_explain/") {
			t.Errorf("the model's own graph got node %q", nd.GetName())
		}
	}
	for _, p := range m.Graph.Params {
		if strings.HasPrefix(p.Name, "ft_explain") {
			t.Errorf("the model's own graph got parameter %q", p.Name)
		}
	}
	before, err := x.Explain(context.Background(), []string{"fine"}, Options{Steps: 1, Target: "positive"})
	if err != nil {
		t.Fatal(err)
	}
	bias := m.Graph.Param("classifier.bias")
	if bias == nil {
		t.Fatal("no classifier.bias")
	}
	bias.Value.F32()[1] += 1 // as an optimizer step would, in place
	defer func() { bias.Value.F32()[1] -= 1 }()
	after, err := x.Explain(context.Background(), []string{"fine"}, Options{Steps: 1, Target: "positive"})
	if err != nil {
		t.Fatal(err)
	}
	if d := after[0].Logit - before[0].Logit; math.Abs(d-1) > 1e-5 {
		t.Errorf("raising the positive bias by 1 moved the explained logit by %g", d)
	}
}

func TestExplainErrors(t *testing.T) {
	_, _, x := loadTinyExplainer(t)
	cases := []struct {
		opt  Options
		want []string
	}{
		{Options{Target: "neutral"}, []string{`unknown target label "neutral"`, "negative, positive"}},
		{Options{Baseline: "mean"}, []string{`unknown baseline "mean"`, "pad or zero"}},
		{Options{Steps: -3}, []string{"steps must be ≥ 1"}},
	}
	for _, c := range cases {
		_, err := x.Explain(context.Background(), []string{"fine"}, c.opt)
		if err == nil {
			t.Errorf("%+v: no error", c.opt)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q does not say %q", c.opt, err, w)
			}
		}
	}
}

func TestExplainWordsAndTokenNames(t *testing.T) {
	_, _, x := loadTinyExplainer(t)
	ex, err := x.Explain(context.Background(), []string{"unforgettable"}, Options{Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	e := ex[0]
	if e.Tokens[0].Token != "[CLS]" || !e.Tokens[0].Special || e.Tokens[len(e.Tokens)-1].Token != "[SEP]" {
		t.Fatalf("tokens %+v: want [CLS] … [SEP] marked special", e.Tokens)
	}
	ws := e.Words()
	if len(ws) != 3 || ws[1].Text != "unforgettable" {
		var s []string
		for _, tk := range e.Tokens {
			s = append(s, tk.Token)
		}
		t.Fatalf("words %+v from tokens %v: want [CLS] unforgettable [SEP]", ws, s)
	}
	sum := 0.0
	for i := ws[1].First; i <= ws[1].Last; i++ {
		sum += e.Tokens[i].IG
	}
	if ws[1].IG != sum {
		t.Errorf("word IG %g, sum of its pieces %g", ws[1].IG, sum)
	}
}

func ExampleExplainer() {
	m, _ := finetune.LoadModel("../internal/bundled/tiny-bert", finetune.ModelOptions{})
	tok, _ := tokenize.Load("../internal/bundled/tiny-bert")
	x, err := New(m, tok)
	if err != nil {
		fmt.Println(err)
		return
	}
	ex, err := x.Explain(context.Background(), []string{"a gripping film"}, Options{Target: "positive", Steps: 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	e := ex[0]
	var words []string
	for _, w := range e.Words() {
		words = append(words, w.Text)
	}
	fmt.Println(strings.Join(words, " "))
	fmt.Printf("target %s, completeness within 1 %%: %v\n", e.Target, e.CompletenessError < 0.01)
	// Output:
	// [CLS] a gripping film [SEP]
	// target positive, completeness within 1 %: true
}

// TestExplainRealModel checks a real pretrained encoder (a feature-extraction
// export such as all-MiniLM-L6-v2, given a new 2-label head whose weights are
// scaled up so the logits move by O(1)): gradient × input against central
// differences and IG completeness. Run it with
//
//	FT_EXPLAIN_MODEL=$PWD/testmodels/real/minilm go test ./explain -run TestExplainRealModel -v
func TestExplainRealModel(t *testing.T) {
	dir := os.Getenv("FT_EXPLAIN_MODEL")
	if dir == "" {
		t.Skip("set FT_EXPLAIN_MODEL to an export folder with a tokenizer (e.g. $PWD/testmodels/real/minilm) to run")
	}
	m, err := finetune.LoadModel(dir, finetune.ModelOptions{Labels: []string{"neg", "pos"}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	w := m.Graph.Param("classifier.weight").Value.F32()
	for i := range w {
		w[i] *= 100
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	x, err := New(m, tok)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"a gripping, beautifully acted film", "two hours I will never get back"}
	ex, err := x.Explain(context.Background(), texts, Options{Target: "pos"})
	if err != nil {
		t.Fatal(err)
	}
	for k, e := range ex {
		d := e.Logit - e.BaselineLogit
		t.Logf("%q: f(x) %.4f, f(b) %.4f, Σ IG %.4f, completeness error %.2g", e.Text, e.Logit, e.BaselineLogit, e.IGSum, e.CompletenessError)
		if e.CompletenessError > 0.01 || math.Abs(d) < 0.05 {
			t.Errorf("%q: Σ IG %.5f vs f(x) − f(b) %.5f (relative error %.3g)", e.Text, e.IGSum, d, e.CompletenessError)
		}
		enc, err := tok.EncodeBatch([]string{texts[k]}, nil, tokenize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		feeds, err := enc.Tensors(x.g.InputNames()...)
		if err != nil {
			t.Fatal(err)
		}
		fd := fdGradInput(t, x, feeds, 1, 5e-2)
		worst, biggest := 0.0, 0.0
		for i, ts := range e.Tokens {
			worst, biggest = math.Max(worst, math.Abs(ts.GradInput-fd[i])), math.Max(biggest, math.Abs(fd[i]))
			if math.Abs(ts.GradInput-fd[i]) > 1e-3 {
				t.Errorf("%q token %q: grad×input %.6f, finite difference %.6f", e.Text, ts.Token, ts.GradInput, fd[i])
			}
		}
		t.Logf("%q: worst |grad×input − FD| %.2g, largest |FD| %.3f", e.Text, worst, biggest)
	}
}
