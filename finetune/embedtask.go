package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"ft/dataset"
	"ft/embed"
	"ft/graph"
	"ft/internal/fileio"
	"ft/onnx"
	"ft/tensor"
	"ft/tokenize"
)

// SentenceEncoder is an encoder export made ready to train sentence
// embeddings as sentence-transformers (ST) does: the graph's
// last_hidden_state, pooled (embed.Pool), optionally projected by Dense
// modules and normalised. Model.Output is "last_hidden_state". The Dense
// modules (read from the folder's modules.json) are applied and carry the
// gradient to the encoder, but are not trained (ST trains them).
type SentenceEncoder struct {
	*Model
	Pooling   embed.PoolingConfig
	Dense     []*embed.Dense
	Normalize bool
}

// EncoderOptions control LoadSentenceEncoder.
type EncoderOptions struct {
	// Pooling is an ST pooling mode (embed.PoolingModes); "" takes the
	// folder's 1_Pooling/config.json, else mean pooling (ST's default).
	Pooling string
	// Normalize, when set, overrides whether the embeddings are
	// L2-normalised; nil: as the folder's modules.json says (a Normalize
	// module), else not.
	Normalize *bool
	// Graph: how the model is imported and run.
	Graph graph.Options `json:"-"`
}

// HiddenOutput is the graph output a SentenceEncoder pools.
const HiddenOutput = "last_hidden_state"

// stModule is one entry of ST's modules.json.
type stModule struct {
	Idx  int    `json:"idx"`
	Name string `json:"name"`
	Path string `json:"path"`
	Type string `json:"type"`
}

// readModules reads dir/modules.json (nil when absent).
func readModules(dir string) ([]stModule, error) {
	b, err := fileio.ReadFile(filepath.Join(dir, "modules.json"), 0)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ms []stModule
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("%s: %v (want sentence-transformers' list of {idx, name, path, type})", filepath.Join(dir, "modules.json"), err)
	}
	return ms, nil
}

// LoadSentenceEncoder loads a feature-extraction export (one with a
// last_hidden_state output) with the pooling and normalisation of its
// sentence-transformers files (1_Pooling/config.json, modules.json) or
// opt's.
//
// A sentence-transformers folder keeps its ONNX export in onnx/model.onnx
// (SaveSentenceTransformer writes one): path may name such a folder.
func LoadSentenceEncoder(path string, opt EncoderOptions) (*SentenceEncoder, error) {
	top := ""
	if st, err := os.Stat(path); err == nil && st.IsDir() && !fileExists(filepath.Join(path, onnx.DefaultFile)) &&
		fileExists(filepath.Join(path, "onnx", onnx.DefaultFile)) {
		top, path = path, filepath.Join(path, "onnx", onnx.DefaultFile)
	} else if d := filepath.Dir(path); filepath.Base(d) == "onnx" && fileExists(filepath.Join(filepath.Dir(d), "modules.json")) {
		top = filepath.Dir(d) // DIR/onnx/model.onnx of a sentence-transformers folder
	}
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	dir := m.Dir
	if top != "" {
		dir = top
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	outs := map[string]bool{}
	for _, o := range m.Proto.Graph.Output {
		outs[o.GetName()] = true
	}
	var g *graph.Graph
	var notes []string
	task := "feature-extraction"
	if outs[HiddenOutput] {
		if g, err = graph.Import(m, opt.Graph); err != nil {
			return nil, err
		}
	} else {
		if g, err = exposeHidden(m, opt.Graph); err != nil {
			return nil, fmt.Errorf("%s has no %s output (it has %v) and %v: export the encoder with --task feature-extraction (optimum-cli export onnx --task feature-extraction)", m.Path, HiddenOutput, keys(outs), err)
		}
		task = "text-classification"
		notes = append(notes, "the export's last hidden state is the output of its last LayerNormalization over the tokens; the classification head is not used")
	}
	mod := &Model{Dir: dir, Graph: g, Config: cfg, Task: task, Output: HiddenOutput, Path: m.Path,
		Options: ModelOptions{Pooling: opt.Pooling}, Notes: notes}
	hidden := 0
	if v, ok := cfg["hidden_size"].(float64); ok {
		hidden = int(v)
	}
	e := &SentenceEncoder{Model: mod}
	pc := filepath.Join(dir, "1_Pooling", "config.json")
	switch {
	case opt.Pooling != "":
		if e.Pooling, err = embed.PoolingFromMode(hidden, opt.Pooling); err != nil {
			return nil, err
		}
	case fileExists(pc):
		if e.Pooling, err = embed.ReadPoolingConfig(pc); err != nil {
			return nil, err
		}
		mod.Notes = append(mod.Notes, "pooling from "+pc)
	default:
		e.Pooling = embed.DefaultPooling(hidden)
	}
	mods, err := readModules(dir)
	if err != nil {
		return nil, err
	}
	for _, sm := range mods {
		switch {
		case strings.HasSuffix(sm.Type, ".Normalize"):
			e.Normalize = true
		case strings.HasSuffix(sm.Type, ".Dense"):
			d, err := readDense(filepath.Join(dir, sm.Path))
			if err != nil {
				return nil, err
			}
			e.Dense = append(e.Dense, d)
			mod.Notes = append(mod.Notes, fmt.Sprintf("Dense module %s (%d→%d) from %s: applied, not trained", sm.Name, d.In, d.Out, sm.Path))
		case strings.HasSuffix(sm.Type, ".Transformer"), strings.HasSuffix(sm.Type, ".Pooling"):
		default:
			return nil, fmt.Errorf("%s: module %s (%s) is not one ft runs (Transformer, Pooling, Dense, Normalize)", filepath.Join(dir, "modules.json"), sm.Name, sm.Type)
		}
	}
	if opt.Normalize != nil {
		e.Normalize = *opt.Normalize
	}
	return e, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// headCache keeps what headBackward needs.
type headCache struct {
	tok   embed.Tokens
	dense [][2]embed.Matrix // each Dense module's input and output
	pre   embed.Matrix      // before Normalize
}

// head pools the hidden states [N, S, H] with their attention mask and
// applies the Dense modules and normalisation: one embedding per row.
func (e *SentenceEncoder) head(hidden *tensor.Tensor, mask []int64) (embed.Matrix, *headCache, error) {
	if hidden.Rank() != 3 {
		return embed.Matrix{}, nil, fmt.Errorf("%s has shape %v, want [batch, sequence, hidden]", HiddenOutput, hidden.Shape)
	}
	n, s, h := hidden.Shape[0], hidden.Shape[1], hidden.Shape[2]
	tok, err := embed.TokensFromFloat32(n, s, h, hidden.F32(), mask)
	if err != nil {
		return embed.Matrix{}, nil, err
	}
	c := &headCache{tok: tok}
	x, err := embed.Pool(e.Pooling, tok)
	if err != nil {
		return embed.Matrix{}, nil, err
	}
	for _, d := range e.Dense {
		y, err := d.Forward(x)
		if err != nil {
			return embed.Matrix{}, nil, err
		}
		c.dense = append(c.dense, [2]embed.Matrix{x, y})
		x = y
	}
	c.pre = x
	if e.Normalize {
		x = embed.Normalize(x)
	}
	return x, c, nil
}

// headBackward carries d loss / d embedding back to d loss / d hidden
// states (float32, [N, S, H]), times scale.
func (e *SentenceEncoder) headBackward(c *headCache, g embed.Matrix, scale float64) (*tensor.Tensor, error) {
	var err error
	if e.Normalize {
		if g, err = embed.NormalizeBackward(c.pre, g); err != nil {
			return nil, err
		}
	}
	for i := len(e.Dense) - 1; i >= 0; i-- {
		if g, _, _, err = e.Dense[i].Backward(c.dense[i][0], c.dense[i][1], g); err != nil {
			return nil, err
		}
	}
	dt, err := embed.PoolBackward(e.Pooling, c.tok, g)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(dt))
	for i, v := range dt {
		out[i] = float32(v * scale)
	}
	return tensor.New([]int{c.tok.Batch, c.tok.Seq, c.tok.Dim}, out), nil
}

// Encode returns the embeddings of a padded batch (the feeds of
// EmbedSource.Encode or a tokenizer: input_ids, attention_mask, ...).
func (e *SentenceEncoder) Encode(feeds map[string]*tensor.Tensor) (embed.Matrix, error) {
	mask, err := feedMask(feeds)
	if err != nil {
		return embed.Matrix{}, err
	}
	res, err := e.Graph.Run(feeds, HiddenOutput)
	if err != nil {
		return embed.Matrix{}, err
	}
	x, _, err := e.head(res[HiddenOutput], mask)
	return x, err
}

func feedMask(feeds map[string]*tensor.Tensor) ([]int64, error) {
	m := feeds["attention_mask"]
	if m == nil {
		return nil, fmt.Errorf("sentence embeddings need the attention_mask of the batch to pool: the feeds have none")
	}
	v, err := m.Ints()
	if err != nil {
		return nil, fmt.Errorf("attention_mask: %w", err)
	}
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out, nil
}

// EmbedSource is a dataset.Source of rows of texts (anchor, positive,
// negatives..., or sentence1, sentence2) with optional scores. A batch of B
// rows of K columns feeds the model B·K texts, row-major (text k of row b
// at b·K+k), padded together; its Target is a float64 [B, K, S+1] tensor:
// per text the attention mask of its S positions, then the row's label
// (NaN without labels). EmbeddingLoss and EmbeddingMetrics read it.
type EmbedSource struct {
	Texts  [][]string // [row][column]
	Labels []float64  // one per row, or nil
	// Encode tokenizes texts into a padded batch of the model's inputs
	// (TokenizerEncode makes one from a tokenizer); it must give an
	// attention_mask.
	Encode func(texts []string) (map[string]*tensor.Tensor, error)
	// NoDuplicates batches training rows as ST's NoDuplicatesBatchSampler
	// (for the in-batch-negative losses).
	NoDuplicates bool
}

// Len implements dataset.Source.
func (s *EmbedSource) Len() int { return len(s.Texts) }

// Columns is the number of texts per row.
func (s *EmbedSource) Columns() int {
	if len(s.Texts) == 0 {
		return 0
	}
	return len(s.Texts[0])
}

// Batch implements dataset.Source.
func (s *EmbedSource) Batch(rows []int) (*dataset.Batch, error) {
	k := s.Columns()
	texts := make([]string, 0, len(rows)*k)
	for _, r := range rows {
		if len(s.Texts[r]) != k {
			return nil, fmt.Errorf("row %d has %d texts, row 0 has %d", r, len(s.Texts[r]), k)
		}
		texts = append(texts, s.Texts[r]...)
	}
	feeds, err := s.Encode(texts)
	if err != nil {
		return nil, err
	}
	mask, err := feedMask(feeds)
	if err != nil {
		return nil, err
	}
	n := len(texts)
	if n == 0 || len(mask)%n != 0 {
		return nil, fmt.Errorf("attention_mask of %d values for %d texts", len(mask), n)
	}
	S := len(mask) / n
	tg := make([]float64, 0, n*(S+1))
	for i := 0; i < n; i++ {
		for _, v := range mask[i*S : (i+1)*S] {
			tg = append(tg, float64(v))
		}
		lab := math.NaN()
		if s.Labels != nil {
			lab = s.Labels[rows[i/k]]
		}
		tg = append(tg, lab)
	}
	return &dataset.Batch{Feeds: feeds, Target: tensor.New([]int{len(rows), k, S + 1}, tg), Size: len(rows)}, nil
}

// BatchSampler is a training Source that chooses its own batches for an
// epoch (Trainer uses them instead of a shuffle of all rows); the number
// of optimizer steps still counts ceil(rows / batch size) batches per
// epoch, as ST's samplers' len() does.
type BatchSampler interface {
	EpochBatches(batchSize int, shuffle bool, seed uint64, epoch int) ([][]int, error)
}

// EpochBatches implements BatchSampler: the seeded shuffle of
// dataset.Permutation (file order without shuffle), then, with NoDuplicates, ST's
// NoDuplicatesBatchSampler (no text twice in a batch: in-batch negatives
// would otherwise hold false negatives).
func (s *EmbedSource) EpochBatches(batchSize int, shuffle bool, seed uint64, epoch int) ([][]int, error) {
	order := dataset.Permutation(len(s.Texts), seed, epoch)
	if !shuffle {
		for i := range order {
			order[i] = i
		}
	}
	if s.NoDuplicates {
		return embed.NoDuplicatesBatches(order, s.Texts, batchSize, false)
	}
	return dataset.Batches(order, batchSize, false)
}

// batchInfo reads an EmbedSource target: rows B, columns K, length S, the
// attention mask [B·K·S] and the labels (nil when they are NaN).
func batchInfo(target *tensor.Tensor) (B, K, S int, mask []int64, labels []float64, err error) {
	if target == nil || target.Rank() != 3 || target.Shape[2] < 2 {
		return 0, 0, 0, nil, nil, fmt.Errorf("sentence-embedding loss: the batch target must be EmbedSource's [rows, columns, seq+1] tensor")
	}
	B, K, S = target.Shape[0], target.Shape[1], target.Shape[2]-1
	v := target.Float64s()
	mask = make([]int64, 0, B*K*S)
	for i := 0; i < B*K; i++ {
		for _, x := range v[i*(S+1) : i*(S+1)+S] {
			mask = append(mask, int64(x))
		}
	}
	for b := 0; b < B; b++ {
		l := v[b*K*(S+1)+S]
		if l != l { // NaN: no labels
			labels = nil
			break
		}
		labels = append(labels, l)
	}
	return B, K, S, mask, labels, nil
}

// splitColumns splits N = B·K row-major embeddings into K columns of B rows.
func splitColumns(x embed.Matrix, B, K int) []embed.Matrix {
	cols := make([]embed.Matrix, K)
	for k := range cols {
		cols[k] = embed.NewMatrix(B, x.Cols)
		for b := 0; b < B; b++ {
			copy(cols[k].Row(b), x.Row(b*K+k))
		}
	}
	return cols
}

// joinColumns is splitColumns' inverse.
func joinColumns(cols []embed.Matrix) embed.Matrix {
	K, B := len(cols), cols[0].Rows
	x := embed.NewMatrix(B*K, cols[0].Cols)
	for k, c := range cols {
		for b := 0; b < B; b++ {
			copy(x.Row(b*K+k), c.Row(b))
		}
	}
	return x
}

// EmbeddingLoss trains a SentenceEncoder with a sentence-transformers loss
// (package embed). It is a finetune Loss whose output is the encoder's
// last_hidden_state over an EmbedSource batch, and a StepLoss that runs the
// model itself: one forward pass over all the batch's texts, or, for
// CachedMultipleNegativesRankingLoss, GradCache's mini-batches.
type EmbeddingLoss struct {
	Encoder   *SentenceEncoder
	Objective embed.Loss
}

// Name implements Loss.
func (l *EmbeddingLoss) Name() string { return l.Objective.Name() }

// Loss implements Loss: output is last_hidden_state [B·K, S, H], target the
// EmbedSource target; the gradient is d loss / d last_hidden_state.
func (l *EmbeddingLoss) Loss(output, target *tensor.Tensor) (float64, *tensor.Tensor, error) {
	return l.lossScaled(output, target, 1)
}

func (l *EmbeddingLoss) lossScaled(output, target *tensor.Tensor, scale float64) (float64, *tensor.Tensor, error) {
	B, K, _, mask, labels, err := batchInfo(target)
	if err != nil {
		return 0, nil, err
	}
	x, c, err := l.Encoder.head(output, mask)
	if err != nil {
		return 0, nil, err
	}
	loss, grads, err := l.Objective.Compute(splitColumns(x, B, K), labels)
	if err != nil {
		return 0, nil, err
	}
	d, err := l.Encoder.headBackward(c, joinColumns(grads), scale)
	return loss, d, err
}

// StepLoss is a Loss that runs the model's forward and backward passes
// itself (Trainer calls it instead of one Forward, Loss and Backward):
// it returns the batch's loss and the trainable parameters' gradients,
// scaled by scale (1/GradientAccumulationSteps). A non-finite loss is
// returned without gradients.
type StepLoss interface {
	Loss
	Step(m *Model, b *dataset.Batch, trainable []*graph.Param, scale float64) (float64, map[*graph.Param]*tensor.Tensor, error)
}

// Step implements StepLoss.
func (l *EmbeddingLoss) Step(m *Model, b *dataset.Batch, trainable []*graph.Param, scale float64) (float64, map[*graph.Param]*tensor.Tensor, error) {
	if c, ok := l.Objective.(*embed.CachedMultipleNegativesRankingLoss); ok {
		return l.gradCache(m, b, trainable, scale, c.MiniBatchSize)
	}
	tr, err := m.Graph.Forward(b.Feeds, []string{HiddenOutput}, trainable)
	if err != nil {
		return 0, nil, err
	}
	loss, d, err := l.lossScaled(tr.Outputs[HiddenOutput], b.Target, scale)
	if err != nil || !isFinite(loss) {
		return loss, nil, err
	}
	grads, err := tr.Backward(map[string]*tensor.Tensor{HiddenOutput: d})
	return loss, grads, err
}

// gradCache is ST's CachedMultipleNegativesRankingLoss training step (see
// embed.CachedMultipleNegativesRankingLoss): embeddings of every column in
// mini-batches without a trace, the loss and its embedding gradients on
// the whole batch, then per mini-batch a forward pass with a trace and a
// backward pass seeded with those gradients.
func (l *EmbeddingLoss) gradCache(m *Model, b *dataset.Batch, trainable []*graph.Param, scale float64, mbs int) (float64, map[*graph.Param]*tensor.Tensor, error) {
	B, K, S, _, labels, err := batchInfo(b.Target)
	if err != nil {
		return 0, nil, err
	}
	mbs = max(mbs, 1)
	full, err := feedMask(b.Feeds)
	if err != nil {
		return 0, nil, err
	}
	type part struct {
		feeds map[string]*tensor.Tensor
		mask  []int64
	}
	var parts [][]part // [column][mini-batch]
	cols := make([]embed.Matrix, K)
	for k := 0; k < K; k++ {
		var ps []part
		var embs []embed.Matrix
		for _, r := range embed.MiniBatches(B, mbs) {
			var rows []int
			for bi := r[0]; bi < r[1]; bi++ {
				rows = append(rows, bi*K+k)
			}
			feeds, mask, err := sliceFeeds(b.Feeds, full, rows, S)
			if err != nil {
				return 0, nil, err
			}
			res, err := m.Graph.Run(feeds, HiddenOutput)
			if err != nil {
				return 0, nil, err
			}
			x, _, err := l.Encoder.head(res[HiddenOutput], mask)
			if err != nil {
				return 0, nil, err
			}
			ps = append(ps, part{feeds, mask})
			embs = append(embs, x)
		}
		parts = append(parts, ps)
		if cols[k], err = embed.ConcatRows(embs); err != nil {
			return 0, nil, err
		}
	}
	loss, grads, err := l.Objective.Compute(cols, labels)
	if err != nil || !isFinite(loss) {
		return loss, nil, err
	}
	total := map[*graph.Param]*tensor.Tensor{}
	for k := 0; k < K; k++ {
		for i, r := range embed.MiniBatches(B, mbs) {
			p := parts[k][i]
			tr, err := m.Graph.Forward(p.feeds, []string{HiddenOutput}, trainable)
			if err != nil {
				return 0, nil, err
			}
			_, c, err := l.Encoder.head(tr.Outputs[HiddenOutput], p.mask)
			if err != nil {
				return 0, nil, err
			}
			d, err := l.Encoder.headBackward(c, embed.SliceRows(grads[k], r[0], r[1]), scale)
			if err != nil {
				return 0, nil, err
			}
			g, err := tr.Backward(map[string]*tensor.Tensor{HiddenOutput: d})
			if err != nil {
				return 0, nil, err
			}
			if err := addGrads(total, g); err != nil {
				return 0, nil, err
			}
		}
	}
	return loss, total, nil
}

// addGrads adds g into acc, taking g's tensors over where acc has none.
func addGrads(acc, g map[*graph.Param]*tensor.Tensor) error {
	for p, t := range g {
		if a := acc[p]; a != nil {
			if err := tensor.AddInto(a, t); err != nil {
				return err
			}
		} else {
			acc[p] = t
		}
	}
	return nil
}

// sliceFeeds takes rows of [N, S] feeds and trims the padding every row
// shares (as ST pads each mini-batch's texts to their longest); full is
// the feeds' attention mask (feedMask), read once per batch by the caller.
func sliceFeeds(feeds map[string]*tensor.Tensor, full []int64, rows []int, S int) (map[string]*tensor.Tensor, []int64, error) {
	L := 0
	for _, r := range rows {
		for s := S - 1; s >= L; s-- {
			if full[r*S+s] != 0 {
				L = s + 1
				break
			}
		}
	}
	L = max(L, 1)
	out := map[string]*tensor.Tensor{}
	for name, t := range feeds {
		if t.Rank() != 2 || t.Shape[1] != S {
			return nil, nil, fmt.Errorf("input %s has shape %v, want [texts, %d]", name, t.Shape, S)
		}
		switch v := t.Data.(type) {
		case []int64:
			d := make([]int64, 0, len(rows)*L)
			for _, r := range rows {
				d = append(d, v[r*S:r*S+L]...)
			}
			out[name] = tensor.New([]int{len(rows), L}, d)
		case []int32:
			d := make([]int32, 0, len(rows)*L)
			for _, r := range rows {
				d = append(d, v[r*S:r*S+L]...)
			}
			out[name] = tensor.New([]int{len(rows), L}, d)
		default:
			return nil, nil, fmt.Errorf("input %s is %s, want int64 or int32", name, t.DType())
		}
	}
	mask := make([]int64, 0, len(rows)*L)
	for _, r := range rows {
		mask = append(mask, full[r*S:r*S+L]...)
	}
	return out, mask, nil
}

// TokenizerEncode returns an EmbedSource.Encode that tokenizes texts with
// tok (padding to the longest, truncation to maxLength as ST's
// max_seq_length) into the model's inputs.
func TokenizerEncode(tok *tokenize.Tokenizer, inputs []string, maxLength int) func([]string) (map[string]*tensor.Tensor, error) {
	return func(texts []string) (map[string]*tensor.Tensor, error) {
		enc, err := tok.EncodeBatch(texts, nil, tokenize.Options{MaxLength: maxLength})
		if err != nil {
			return nil, err
		}
		return enc.Tensors(inputs...)
	}
}

// Embed returns the embeddings of texts, batchSize at a time.
func (e *SentenceEncoder) Embed(ctx context.Context, encode func([]string) (map[string]*tensor.Tensor, error), texts []string, batchSize int) (embed.Matrix, error) {
	var parts []embed.Matrix
	batchSize = max(batchSize, 1)
	for lo := 0; lo < len(texts); lo += batchSize {
		if err := ctx.Err(); err != nil {
			return embed.Matrix{}, err
		}
		feeds, err := encode(texts[lo:min(lo+batchSize, len(texts))])
		if err != nil {
			return embed.Matrix{}, err
		}
		x, err := e.Encode(feeds)
		if err != nil {
			return embed.Matrix{}, err
		}
		parts = append(parts, x)
	}
	return embed.ConcatRows(parts)
}

// EmbeddingMetrics returns a Trainer.Metrics for an evaluation EmbedSource
// (its rows in order), with sentence-transformers' evaluators and key
// names: scored pairs get EmbeddingSimilarityEvaluator's
// pearson_/spearman_ cosine, euclidean, manhattan and dot; pairs without
// scores InformationRetrievalEvaluator's cosine_mrr@10, cosine_ndcg@10,
// cosine_recall@k, cosine_map@100... with the first column's distinct texts
// as queries, the second's as the corpus and each row a relevance
// judgement; three or more columns TripletEvaluator's cosine_accuracy.
func (e *SentenceEncoder) EmbeddingMetrics(src *EmbedSource) func(outs [][]float32, targets []*tensor.Tensor) (map[string]float64, error) {
	return func(outs [][]float32, targets []*tensor.Tensor) (map[string]float64, error) {
		var cols []embed.Matrix
		var labels []float64
		next := 0
		for _, tg := range targets {
			B, K, S, mask, lab, err := batchInfo(tg)
			if err != nil {
				return nil, err
			}
			if next+B > len(outs) {
				return nil, fmt.Errorf("evaluation: %d outputs for more targets", len(outs))
			}
			var data []float32
			for _, o := range outs[next : next+B] {
				data = append(data, o...)
			}
			next += B
			if len(data)%(B*K*S) != 0 {
				return nil, fmt.Errorf("evaluation: %d hidden values for %d×%d texts of %d tokens", len(data), B, K, S)
			}
			h := len(data) / (B * K * S)
			x, _, err := e.head(tensor.New([]int{B * K, S, h}, data), mask)
			if err != nil {
				return nil, err
			}
			part := splitColumns(x, B, K)
			if cols == nil {
				cols = part
			} else {
				for k := range cols {
					if cols[k], err = embed.ConcatRows([]embed.Matrix{cols[k], part[k]}); err != nil {
						return nil, err
					}
				}
			}
			labels = append(labels, lab...)
		}
		return scoreEmbeddings(src, cols, labels)
	}
}

func scoreEmbeddings(src *EmbedSource, cols []embed.Matrix, labels []float64) (map[string]float64, error) {
	switch {
	case len(cols) == 2 && len(labels) == cols[0].Rows:
		return embed.EvaluateSimilarity(cols[0], cols[1], labels)
	case len(cols) == 2:
		return retrievalFromPairs(src, cols[0], cols[1])
	case len(cols) >= 3:
		return embed.EvaluateTriplets(cols[0], cols[1], cols[2])
	}
	return nil, fmt.Errorf("evaluation needs at least two text columns, got %d", len(cols))
}

// retrievalFromPairs builds ST's IR evaluation from (query, document)
// rows: distinct queries, distinct documents, each row a judgement.
func retrievalFromPairs(src *EmbedSource, q, d embed.Matrix) (map[string]float64, error) {
	if src == nil || len(src.Texts) != q.Rows {
		return nil, fmt.Errorf("retrieval evaluation: the source's rows do not match the %d embeddings", q.Rows)
	}
	qid, did := map[string]string{}, map[string]string{}
	var qIDs, dIDs []string
	var qRows, dRows []int
	rel := map[string][]string{}
	for i, t := range src.Texts {
		if _, ok := qid[t[0]]; !ok {
			qid[t[0]] = fmt.Sprintf("q%d", len(qIDs))
			qIDs, qRows = append(qIDs, qid[t[0]]), append(qRows, i)
		}
		if _, ok := did[t[1]]; !ok {
			did[t[1]] = fmt.Sprintf("d%d", len(dIDs))
			dIDs, dRows = append(dIDs, did[t[1]]), append(dRows, i)
		}
		if !slices.Contains(rel[qid[t[0]]], did[t[1]]) {
			rel[qid[t[0]]] = append(rel[qid[t[0]]], did[t[1]])
		}
	}
	pick := func(m embed.Matrix, rows []int) embed.Matrix {
		out := embed.NewMatrix(len(rows), m.Cols)
		for i, r := range rows {
			copy(out.Row(i), m.Row(r))
		}
		return out
	}
	return embed.EvaluateRetrieval(embed.DefaultRetrievalConfig(), qIDs, pick(q, qRows), dIDs, pick(d, dRows), rel)
}

// exposeHidden makes the encoder's last hidden state of an export without a
// last_hidden_state output (a text-classification export) an output of
// that name: the output of the last LayerNormalization node that gives one
// vector per token ([batch, seq, hidden] on probe inputs). It returns the
// imported graph.
func exposeHidden(m *onnx.Model, opt graph.Options) (*graph.Graph, error) {
	gp := m.Proto.Graph
	var lns []string
	for _, n := range gp.Node {
		if n.GetOpType() == "LayerNormalization" && len(n.Output) > 0 {
			lns = append(lns, n.Output[0])
		}
	}
	if len(lns) == 0 {
		return nil, fmt.Errorf("it has no LayerNormalization node to take the hidden states from")
	}
	nodes, outputs := len(gp.Node), len(gp.Output)
	for i := len(lns) - 1; i >= 0 && i >= len(lns)-3; i-- {
		gp.Node = append(gp.Node[:nodes], onnx.NewNode("Identity", "/ft/last_hidden_state", []string{lns[i]}, []string{HiddenOutput}))
		gp.Output = append(gp.Output[:outputs], onnx.TensorValueInfo(HiddenOutput, onnx.TensorProto_FLOAT, "batch_size", "sequence_length", "hidden_size"))
		g, err := graph.Import(m, opt)
		if err != nil {
			return nil, err
		}
		const seq = 5
		feeds, err := g.RandomFeeds(2, seq, 1)
		if err != nil {
			return nil, err
		}
		res, err := g.Run(feeds, HiddenOutput)
		if err != nil {
			return nil, err
		}
		if h := res[HiddenOutput]; h.Rank() == 3 && h.Shape[0] == 2 && h.Shape[1] == seq {
			return g, nil
		}
	}
	gp.Node, gp.Output = gp.Node[:nodes], gp.Output[:outputs]
	return nil, fmt.Errorf("none of its last LayerNormalization nodes gives one vector per token")
}

// EncoderParams are the parameters that the sentence embedding depends on
// (a text-classification export's head is left out): those whose ONNX
// initializer is an ancestor of last_hidden_state.
func (e *SentenceEncoder) EncoderParams() ([]*graph.Param, error) {
	if e.Task != "text-classification" {
		return e.Graph.Params, nil
	}
	gp := e.Graph.Model.Proto.Graph
	producer := map[string]*onnx.NodeProto{}
	for _, n := range gp.Node {
		for _, o := range n.Output {
			producer[o] = n
		}
	}
	seen := map[string]bool{}
	stack := []string{HiddenOutput}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] {
			continue
		}
		seen[v] = true
		if n := producer[v]; n != nil {
			stack = append(stack, n.Input...)
		}
	}
	var ps []*graph.Param
	for _, p := range e.Graph.Params {
		if seen[p.Initializer] {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("no parameter of %s feeds its last hidden state", e.Path)
	}
	return ps, nil
}
