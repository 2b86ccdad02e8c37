package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"os/exec"

	"ft/embed"
	"ft/graph"
	"ft/internal/testfixture"
	"ft/tensor"
	"ft/tokenize"
)

// embedTrainOracle is testmodels/fixtures/embed-train/oracle.json, written
// by testmodels/embed_train_oracle.py with sentence-transformers 5.1.2.
type embedTrainOracle struct {
	Cases []struct {
		Name      string               `json:"name"`
		LossName  string               `json:"loss_name"`
		Pooling   string               `json:"pooling"`
		Normalize bool                 `json:"normalize"`
		Dense     bool                 `json:"dense"`
		Columns   [][][]int64          `json:"columns"`
		Labels    []float64            `json:"labels"`
		Loss      float64              `json:"loss"`
		Grads     map[string][]float64 `json:"grads"`
		GradNorm  float64              `json:"grad_norm"`
	} `json:"cases"`
	Train []struct {
		Name        string      `json:"name"`
		LossName    string      `json:"loss_name"`
		Columns     [][][]int64 `json:"columns"`
		Labels      []float64   `json:"labels"`
		Steps       int         `json:"steps"`
		BatchSize   int         `json:"batch_size"`
		LR          float64     `json:"lr"`
		WeightDecay float64     `json:"weight_decay"`
		WarmupSteps int         `json:"warmup_steps"`
		MaxGradNorm float64     `json:"max_grad_norm"`
		Losses      []float64   `json:"losses"`
	} `json:"train"`
}

const embedTrainHint = "make it with $FT_PYTHON testmodels/embed_train_oracle.py"

func readEmbedTrainOracle(t *testing.T) *embedTrainOracle {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testmodels", "fixtures", "embed-train", "oracle.json"))
	if err != nil {
		t.Fatalf("%v (%s)", err, embedTrainHint)
	}
	var o embedTrainOracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return &o
}

// idRows turns the oracle's columns ([column][row][ids]) into EmbedSource
// texts ("2 17 3") and an Encode that parses them back.
func idRows(cols [][][]int64) [][]string {
	rows := make([][]string, len(cols[0]))
	for _, col := range cols {
		for r, ids := range col {
			s := make([]string, len(ids))
			for i, id := range ids {
				s[i] = strconv.FormatInt(id, 10)
			}
			rows[r] = append(rows[r], strings.Join(s, " "))
		}
	}
	return rows
}

func idEncode(texts []string) (map[string]*tensor.Tensor, error) {
	var rows [][]int64
	S := 0
	for _, t := range texts {
		var ids []int64
		for _, f := range strings.Fields(t) {
			v, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return nil, err
			}
			ids = append(ids, v)
		}
		rows = append(rows, ids)
		S = max(S, len(ids))
	}
	n := len(rows)
	ids, mask := make([]int64, n*S), make([]int64, n*S)
	for i, r := range rows {
		copy(ids[i*S:], r)
		for j := range r {
			mask[i*S+j] = 1
		}
	}
	return map[string]*tensor.Tensor{
		"input_ids":      tensor.New([]int{n, S}, ids),
		"attention_mask": tensor.New([]int{n, S}, mask),
		"token_type_ids": tensor.New([]int{n, S}, make([]int64, n*S)),
	}, nil
}

func oracleLoss(t *testing.T, name string) embed.Loss {
	t.Helper()
	if name == "MatryoshkaLoss" {
		return &embed.MatryoshkaLoss{Inner: embed.NewMultipleNegativesRankingLoss(), Dims: []int{32, 16, 8}}
	}
	l, err := embed.NewLoss(name)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := l.(*embed.CachedMultipleNegativesRankingLoss); ok {
		c.MiniBatchSize = 3
	}
	if tl, ok := l.(*embed.TripletLoss); ok {
		tl.Metric = embed.TripletEuclidean
	}
	return l
}

const bertFE = "../testmodels/fixtures/bert-fe"

// torchGrad returns a parameter's gradient in torch's layout.
func torchGrad(p *graph.Param, g *tensor.Tensor) []float64 {
	v := g.Float64s()
	if !p.Transposed || g.Rank() != 2 {
		return v
	}
	r, c := g.Shape[0], g.Shape[1]
	out := make([]float64, len(v))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = v[i*c+j]
		}
	}
	return out
}

// TestEmbeddingLossMatchesST: each loss's value and the encoder's parameter
// gradients equal sentence-transformers' on one batch (1e-5 relative; each
// gradient entry within 1e-5 of its tensor's largest entry, the norm of the
// whole gradient within 1e-5 relative). CachedMNRL's GradCache steps give
// MNRL's gradients.
func TestEmbeddingLossMatchesST(t *testing.T) {
	o := readEmbedTrainOracle(t)
	byName := map[string]map[string][]float64{}
	for _, c := range o.Cases {
		t.Run(c.Name, func(t *testing.T) {
			norm := c.Normalize
			model := bertFE
			if c.Dense {
				model = denseFixture(t, c.Normalize)
			}
			enc, err := LoadSentenceEncoder(model, EncoderOptions{Pooling: c.Pooling, Normalize: &norm})
			if err != nil {
				t.Fatal(err)
			}
			src := &EmbedSource{Texts: idRows(c.Columns), Labels: c.Labels, Encode: idEncode}
			rows := make([]int, src.Len())
			for i := range rows {
				rows[i] = i
			}
			b, err := src.Batch(rows)
			if err != nil {
				t.Fatal(err)
			}
			l := &EmbeddingLoss{Encoder: enc, Objective: oracleLoss(t, c.LossName)}
			loss, grads, err := l.Step(enc.Model, b, enc.Graph.Params, 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(loss - c.Loss); d > 1e-5*math.Abs(c.Loss) {
				t.Errorf("loss %.8g, ST %.8g (rel %.2g)", loss, c.Loss, d/math.Abs(c.Loss))
			}
			sq := 0.0
			got := map[string][]float64{}
			for _, p := range enc.Graph.Params {
				g := grads[p]
				if g == nil {
					continue
				}
				v := torchGrad(p, g)
				got[p.Name] = v
				for _, x := range v {
					sq += x * x
				}
			}
			byName[c.Name] = got
			if d := math.Abs(math.Sqrt(sq) - c.GradNorm); d > 1e-5*c.GradNorm {
				t.Errorf("gradient norm %.8g, ST %.8g (rel %.2g)", math.Sqrt(sq), c.GradNorm, d/c.GradNorm)
			}
			worst, where := 0.0, ""
			for name, want := range c.Grads {
				have := got[name]
				if len(have) != len(want) {
					t.Fatalf("%s: %d gradient values, ST %d", name, len(have), len(want))
				}
				big := 0.0
				for _, w := range want {
					big = math.Max(big, math.Abs(w))
				}
				if big < 1e-6*c.GradNorm {
					// A gradient that is zero by symmetry (attention key
					// biases: softmax ignores a constant added to a row;
					// the last LayerNorm bias under a translation-invariant
					// loss such as TripletLoss): both sides must be
					// rounding noise.
					for i := range want {
						if math.Abs(have[i]) > 1e-6*c.GradNorm {
							t.Errorf("%s[%d] = %g, ST %g: want rounding noise around 0 (below %g)", name, i, have[i], want[i], 1e-6*c.GradNorm)
						}
					}
					continue
				}
				for i := range want {
					if r := math.Abs(have[i]-want[i]) / math.Max(big, 1e-30); r > worst {
						worst, where = r, fmt.Sprintf("%s[%d]: %.8g, ST %.8g", name, i, have[i], want[i])
					}
				}
			}
			if worst > 1e-5 {
				t.Errorf("gradient off by %.2g of its tensor's largest entry at %s", worst, where)
			}
			t.Logf("loss %.8g (ST %.8g); worst gradient entry %.2g of its tensor's largest", loss, c.Loss, worst)
		})
	}
	// GradCache gives MNRL's gradients on the same batch.
	if a, b := byName["mnrl"], byName["cached-mnrl"]; a != nil && b != nil {
		for name, va := range a {
			for i := range va {
				if d := math.Abs(va[i] - b[name][i]); d > 1e-6*(1+math.Abs(va[i])) {
					t.Fatalf("cached MNRL %s[%d] = %g, MNRL %g", name, i, b[name][i], va[i])
				}
			}
		}
	}
}

// TestEmbeddingTrainingMatchesST: 20 AdamW steps of the Trainer with an
// EmbeddingLoss give sentence-transformers/PyTorch's losses within 1e-4.
func TestEmbeddingTrainingMatchesST(t *testing.T) {
	o := readEmbedTrainOracle(t)
	for _, r := range o.Train {
		t.Run(r.Name, func(t *testing.T) {
			enc, err := LoadSentenceEncoder(bertFE, EncoderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tr := &Trainer{
				Model: enc.Model,
				Args: Args{LearningRate: r.LR, WeightDecay: r.WeightDecay, WarmupSteps: r.WarmupSteps, MaxSteps: r.Steps,
					PerDeviceTrainBatchSize: r.BatchSize, MaxGradNorm: r.MaxGradNorm, NoShuffle: true, SaveStrategy: "no",
					LRSchedulerType: "linear"},
				Loss:      &EmbeddingLoss{Encoder: enc, Objective: oracleLoss(t, r.LossName)},
				Train:     &EmbedSource{Texts: idRows(r.Columns), Labels: r.Labels, Encode: idEncode},
				Trainable: enc.Graph.Params,
			}
			res, err := tr.Fit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Losses) != len(r.Losses) {
				t.Fatalf("%d steps, ST %d", len(res.Losses), len(r.Losses))
			}
			worst := 0.0
			for i := range r.Losses {
				d := math.Abs(res.Losses[i] - r.Losses[i])
				worst = math.Max(worst, d)
				if d > 1e-4 {
					t.Errorf("step %d: loss %.7g, ST %.7g", i+1, res.Losses[i], r.Losses[i])
				}
			}
			t.Logf("loss %.6f -> %.6f; worst step difference %.2g", res.Losses[0], res.Losses[len(res.Losses)-1], worst)
		})
	}
}

// embedFixture copies bert-fe and the oracle's tokenizer into a folder.
func embedFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"model.onnx", "config.json"} {
		b, err := os.ReadFile(filepath.Join(bertFE, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testmodels", "fixtures", "embed-train", "tokenizer", f))
		if err != nil {
			t.Fatalf("%v (%s)", err, embedTrainHint)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestSentenceTransformerExport: after a few training steps, the folder
// SaveSentenceTransformer writes loads in sentence-transformers, plain and
// with the ONNX backend, and gives ft's embeddings (cosine ≥ 0.99999, each
// value within 1e-5); with EmbeddingOutput, ONNX Runtime's
// sentence_embedding output gives them too. Skips without FT_PYTHON.
func TestSentenceTransformerExport(t *testing.T) {
	py := testfixture.Python(t, "torch", "sentence_transformers", "onnxruntime")
	for _, v := range []struct {
		norm, dense, classifier bool
		modules                 int
	}{{false, false, false, 2}, {true, false, false, 3}, {true, true, false, 4}, {false, false, true, 2}} {
		norm := v.norm
		t.Run(fmt.Sprintf("normalize=%v,dense=%v,classifier=%v", v.norm, v.dense, v.classifier), func(t *testing.T) {
			dir := embedFixture(t)
			if v.dense {
				dir = denseFixture(t, true)
			}
			if v.classifier {
				// a text-classification export: its encoder's last hidden state
				for _, f := range []string{"model.onnx", "config.json"} {
					b, err := os.ReadFile(filepath.Join("..", "testmodels", "fixtures", "bert", f))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			enc, err := LoadSentenceEncoder(dir, EncoderOptions{Normalize: &norm})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := tokenize.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			encode := TokenizerEncode(tok, enc.Graph.InputNames(), 64)
			texts := [][]string{
				{"a dog is running on the grass", "a dog runs on grass"},
				{"two people are sitting at a table", "people sit near a table"},
				{"a man is riding a bike down the street", "the man rides a bike"},
				{"a cat is sitting in the snow", "a white cat in snow"},
			}
			tr := &Trainer{Model: enc.Model, Args: Args{LearningRate: 1e-3, MaxSteps: 3, PerDeviceTrainBatchSize: 2, SaveStrategy: "no"},
				Loss:  &EmbeddingLoss{Encoder: enc, Objective: embed.NewMultipleNegativesRankingLoss()},
				Train: &EmbedSource{Texts: texts, Encode: encode}, Trainable: enc.Graph.Params}
			if _, err := tr.Fit(context.Background()); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "st")
			// with normalisation, also pooling and Normalize as ONNX nodes
			if err := enc.SaveSentenceTransformerWith(out, STSaveOptions{MaxSeqLength: 64, EmbeddingOutput: norm && !v.dense}); err != nil {
				t.Fatal(err)
			}
			probe := []string{"a dog is running on the grass", "two people", "the man rides a red bike down the street near the beach", "snow"}
			x, err := enc.Embed(context.Background(), encode, probe, 2)
			if err != nil {
				t.Fatal(err)
			}
			rows := make([][]float64, x.Rows)
			for i := range rows {
				rows[i] = x.Row(i)
			}
			b, _ := json.Marshal(map[string]any{"texts": probe, "embeddings": rows})
			jp := filepath.Join(t.TempDir(), "emb.json")
			if err := os.WriteFile(jp, b, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, filepath.Join("..", "testmodels", "check_st_export.py"), out, jp)
			res, err := cmd.Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("check_st_export.py: %v\n%s", err, stderr)
			}
			n := 0
			for _, line := range strings.Split(strings.TrimSpace(string(res)), "\n") {
				var r struct {
					Backend string   `json:"backend"`
					MaxAbs  float64  `json:"max_abs"`
					MinCos  float64  `json:"min_cos"`
					Modules []string `json:"modules"`
				}
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				n++
				t.Logf("%s: max |diff| %.2g, min cosine %.8f, modules %v", r.Backend, r.MaxAbs, r.MinCos, r.Modules)
				if r.MaxAbs > 1e-5 || r.MinCos < 0.99999 {
					t.Errorf("%s backend: max |diff| %g, min cosine %.8f", r.Backend, r.MaxAbs, r.MinCos)
				}
				if want := v.modules; len(r.Modules) != want {
					t.Errorf("%s backend: modules %v, want %d", r.Backend, r.Modules, want)
				}
			}
			if want := 2 + map[bool]int{true: 1}[norm && !v.dense]; n != want {
				t.Fatalf("want %d backends, got %q", want, res)
			}
		})
	}
}

// denseFixture is bert-fe as a sentence-transformers folder with the
// oracle's Dense module (and Normalize) in modules.json.
func denseFixture(t *testing.T, normalize bool) string {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("%v (%s)", err, embedTrainHint)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"model.onnx", "config.json"} {
		copyFile(filepath.Join(bertFE, f), filepath.Join(dir, f))
	}
	for _, f := range []string{"config.json", "model.safetensors"} {
		copyFile(filepath.Join("..", "testmodels", "fixtures", "embed-train", "dense", f), filepath.Join(dir, "2_Dense", f))
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		copyFile(filepath.Join("..", "testmodels", "fixtures", "embed-train", "tokenizer", f), filepath.Join(dir, f))
	}
	mods := `[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
 {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}`
	if normalize {
		mods += `,
 {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"}`
	}
	if err := os.WriteFile(filepath.Join(dir, "modules.json"), []byte(mods+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
