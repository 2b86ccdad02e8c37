package embed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// PoolingConfig is sentence-transformers' Pooling module configuration, the
// content of 1_Pooling/config.json. Several modes may be on at once; their
// outputs are concatenated in the order CLS, max, mean, mean-sqrt-len,
// weighted mean, last token, as ST does.
type PoolingConfig struct {
	WordEmbeddingDimension int  `json:"word_embedding_dimension"`
	CLSToken               bool `json:"pooling_mode_cls_token"`
	MaxTokens              bool `json:"pooling_mode_max_tokens"`
	MeanTokens             bool `json:"pooling_mode_mean_tokens"`
	MeanSqrtLenTokens      bool `json:"pooling_mode_mean_sqrt_len_tokens"`
	WeightedMeanTokens     bool `json:"pooling_mode_weightedmean_tokens"`
	LastToken              bool `json:"pooling_mode_lasttoken"`
	// IncludePrompt is read for completeness and ignored: ft adds no prompts.
	IncludePrompt bool `json:"include_prompt"`
}

// DefaultPooling is ST's Pooling default: mean over the attended tokens.
func DefaultPooling(dim int) PoolingConfig {
	return PoolingConfig{WordEmbeddingDimension: dim, MeanTokens: true, IncludePrompt: true}
}

// PoolingModes lists the values Pooling's pooling_mode string accepts.
var PoolingModes = []string{"mean", "max", "cls", "weightedmean", "lasttoken", "mean_sqrt_len_tokens"}

// PoolingFromMode returns the configuration ST builds for Pooling(dim, pooling_mode=mode).
func PoolingFromMode(dim int, mode string) (PoolingConfig, error) {
	c := PoolingConfig{WordEmbeddingDimension: dim, IncludePrompt: true}
	switch mode {
	case "mean":
		c.MeanTokens = true
	case "max":
		c.MaxTokens = true
	case "cls":
		c.CLSToken = true
	case "weightedmean":
		c.WeightedMeanTokens = true
	case "lasttoken":
		c.LastToken = true
	case "mean_sqrt_len_tokens":
		c.MeanSqrtLenTokens = true
	default:
		return c, fmt.Errorf("embed: pooling mode %q: want one of %v", mode, PoolingModes)
	}
	return c, nil
}

// ReadPoolingConfig reads a 1_Pooling/config.json. Keys it omits take ST's
// defaults (mean pooling on, the others off), as ST's Pooling(**config) does.
func ReadPoolingConfig(path string) (PoolingConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return PoolingConfig{}, fmt.Errorf("embed: pooling config: %w", err)
	}
	return ParsePoolingConfig(data, path)
}

// ParsePoolingConfig parses the JSON of a 1_Pooling/config.json; name is used
// in errors.
func ParsePoolingConfig(data []byte, name string) (PoolingConfig, error) {
	var raw struct {
		PoolingConfig
		PoolingMode *string `json:"pooling_mode"`
	}
	raw.PoolingConfig = DefaultPooling(0)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return PoolingConfig{}, fmt.Errorf("embed: %s: %v (want the pooling_mode_* keys of sentence-transformers' Pooling)", name, err)
	}
	c := raw.PoolingConfig
	if raw.PoolingMode != nil {
		m, err := PoolingFromMode(c.WordEmbeddingDimension, *raw.PoolingMode)
		if err != nil {
			return PoolingConfig{}, fmt.Errorf("embed: %s: %v", name, err)
		}
		m.IncludePrompt = c.IncludePrompt
		c = m
	}
	if c.WordEmbeddingDimension <= 0 {
		return PoolingConfig{}, fmt.Errorf("embed: %s: word_embedding_dimension is %d; set it to the encoder's hidden size", name, c.WordEmbeddingDimension)
	}
	if c.modes() == 0 {
		return PoolingConfig{}, fmt.Errorf("embed: %s: every pooling_mode_* key is false; set one (pooling_mode_mean_tokens is ST's default)", name)
	}
	return c, nil
}

func (c PoolingConfig) modes() int {
	n := 0
	for _, on := range []bool{c.CLSToken, c.MaxTokens, c.MeanTokens, c.MeanSqrtLenTokens, c.WeightedMeanTokens, c.LastToken} {
		if on {
			n++
		}
	}
	return n
}

// OutputDim is the width of the pooled embedding for token embeddings of
// width hidden: hidden times the number of modes on.
func (c PoolingConfig) OutputDim(hidden int) int { return hidden * c.modes() }

// Tokens is a batch of token embeddings, [Batch][Seq][Dim] row-major, with
// the attention mask [Batch][Seq] (1 attended, 0 padding).
type Tokens struct {
	Batch, Seq, Dim int
	Data            []float64
	Mask            []int64
}

// TokensFromFloat32 copies float32 hidden states ([batch][seq][dim]) and
// their attention mask into Tokens.
func TokensFromFloat32(batch, seq, dim int, data []float32, mask []int64) (Tokens, error) {
	if batch < 0 || seq <= 0 || dim <= 0 || len(data) != batch*seq*dim {
		return Tokens{}, fmt.Errorf("embed: token embeddings of %d×%d×%d need %d values, got %d", batch, seq, dim, batch*seq*dim, len(data))
	}
	t := Tokens{Batch: batch, Seq: seq, Dim: dim, Data: make([]float64, len(data)), Mask: mask}
	for i, v := range data {
		t.Data[i] = float64(v)
	}
	return t, t.check()
}

func (t Tokens) check() error {
	if t.Batch < 0 || t.Seq <= 0 || t.Dim <= 0 || len(t.Data) != t.Batch*t.Seq*t.Dim {
		return fmt.Errorf("embed: token embeddings of %d×%d×%d hold %d values", t.Batch, t.Seq, t.Dim, len(t.Data))
	}
	if len(t.Mask) != t.Batch*t.Seq {
		return fmt.Errorf("embed: attention mask holds %d values, want batch×seq = %d", len(t.Mask), t.Batch*t.Seq)
	}
	for i, m := range t.Mask {
		if m != 0 && m != 1 {
			return fmt.Errorf("embed: attention mask [%d][%d] is %d; want 0 or 1", i/t.Seq, i%t.Seq, m)
		}
	}
	return nil
}

// maxPoolNeg is what ST writes into padded positions before taking the max.
const maxPoolNeg = -1e9

// Pool pools token embeddings into one row per text as ST's Pooling.forward.
func Pool(c PoolingConfig, t Tokens) (Matrix, error) {
	out, _, err := pool(c, t, nil)
	return out, err
}

// PoolBackward returns d loss / d token embeddings ([Batch][Seq][Dim]) given
// grad = d loss / d pooled embedding (Batch × OutputDim).
func PoolBackward(c PoolingConfig, t Tokens, grad Matrix) ([]float64, error) {
	_, dt, err := pool(c, t, &grad)
	return dt, err
}

// pool runs the forward pass, and the backward one when grad is not nil.
func pool(c PoolingConfig, t Tokens, grad *Matrix) (Matrix, []float64, error) {
	if err := t.check(); err != nil {
		return Matrix{}, nil, err
	}
	if c.modes() == 0 {
		return Matrix{}, nil, fmt.Errorf("embed: pooling configuration has no mode on")
	}
	B, H := t.Batch, t.Dim
	W := c.OutputDim(H)
	p := &pooler{t: t, grad: grad, out: NewMatrix(B, W)}
	if grad != nil {
		if err := grad.check("pooling gradient"); err != nil {
			return Matrix{}, nil, err
		}
		if grad.Rows != B || grad.Cols != W {
			return Matrix{}, nil, fmt.Errorf("embed: pooling gradient is %d×%d, want %d×%d", grad.Rows, grad.Cols, B, W)
		}
		p.dt = make([]float64, len(t.Data))
	}
	// the modes in ST's order of concatenation
	if c.CLSToken {
		p.cls(c.MaxTokens)
	}
	if c.MaxTokens {
		p.max()
	}
	if c.MeanTokens {
		p.weighted(p.mask, func(sum float64) float64 { return sum })
	}
	if c.MeanSqrtLenTokens {
		p.weighted(p.mask, math.Sqrt)
	}
	if c.WeightedMeanTokens {
		p.weighted(func(b, s int) float64 { return p.mask(b, s) * float64(s+1) }, func(sum float64) float64 { return sum })
	}
	if c.LastToken {
		p.last()
	}
	return p.out, p.dt, nil
}

// pooler holds one pooling pass: each mode writes its H columns of out at
// off (and, with grad, adds its gradient to dt) and moves off on.
type pooler struct {
	t    Tokens
	grad *Matrix   // nil: forward only
	out  Matrix    // Batch × OutputDim
	dt   []float64 // d loss / d token embeddings, when grad is set
	off  int
}

func (p *pooler) tok(b, s int) []float64 {
	S, H := p.t.Seq, p.t.Dim
	return p.t.Data[(b*S+s)*H : (b*S+s+1)*H]
}

func (p *pooler) dtok(b, s int) []float64 {
	S, H := p.t.Seq, p.t.Dim
	return p.dt[(b*S+s)*H : (b*S+s+1)*H]
}

func (p *pooler) mask(b, s int) float64 { return float64(p.t.Mask[b*p.t.Seq+s]) }

// weighted adds sum_s w(b,s) tok / den(b) and its backward.
func (p *pooler) weighted(w func(b, s int) float64, den func(sum float64) float64) {
	B, S, H := p.t.Batch, p.t.Seq, p.t.Dim
	off := p.off
	for b := 0; b < B; b++ {
		sum := 0.0
		for s := 0; s < S; s++ {
			sum += w(b, s)
		}
		d := den(math.Max(sum, 1e-9))
		o := p.out.Row(b)[off : off+H]
		for s := 0; s < S; s++ {
			ws := w(b, s)
			if ws == 0 {
				continue
			}
			x := p.tok(b, s)
			for h := range o {
				o[h] += x[h] * ws
			}
		}
		for h := range o {
			o[h] /= d
		}
		if p.grad != nil {
			g := p.grad.Row(b)[off : off+H]
			for s := 0; s < S; s++ {
				ws := w(b, s)
				if ws == 0 {
					continue
				}
				dx := p.dtok(b, s)
				for h := range g {
					dx[h] += g[h] * ws / d
				}
			}
		}
	}
	p.off += H
}

// copyToken copies token s of text b into its pooled row and passes the
// gradient back to it.
func (p *pooler) copyToken(b, s int) {
	H := p.t.Dim
	copy(p.out.Row(b)[p.off:p.off+H], p.tok(b, s))
	if p.grad != nil {
		dx := p.dtok(b, s)
		g := p.grad.Row(b)[p.off : p.off+H]
		for h := range g {
			dx[h] += g[h]
		}
	}
}

// cls is CLS-token pooling; maxOn says max pooling is on as well.
func (p *pooler) cls(maxOn bool) {
	B, S, H := p.t.Batch, p.t.Seq, p.t.Dim
	for b := 0; b < B; b++ {
		if maxOn && p.t.Mask[b*S] == 0 {
			// ST's CLS output is a view of the token embeddings that its
			// max pooling then overwrites in place at padded positions:
			// with left padding and max on, CLS reads -1e9 (no gradient).
			o := p.out.Row(b)[p.off : p.off+H]
			for h := range o {
				o[h] = maxPoolNeg
			}
			continue
		}
		p.copyToken(b, 0)
	}
	p.off += H
}

// max is max pooling over the unmasked tokens.
func (p *pooler) max() {
	B, S, H := p.t.Batch, p.t.Seq, p.t.Dim
	off := p.off
	for b := 0; b < B; b++ {
		o := p.out.Row(b)[off : off+H]
		for h := 0; h < H; h++ {
			best, arg := math.Inf(-1), 0
			for s := 0; s < S; s++ {
				v := maxPoolNeg
				if p.t.Mask[b*S+s] != 0 {
					v = p.tok(b, s)[h]
				}
				if v > best { // first maximum wins, as torch.max
					best, arg = v, s
				}
			}
			o[h] = best
			if p.grad != nil && p.t.Mask[b*S+arg] != 0 {
				p.dtok(b, arg)[h] += p.grad.Row(b)[off+h]
			}
		}
	}
	p.off += H
}

// last is last-token pooling: the last unmasked token of each text.
func (p *pooler) last() {
	B, S, H := p.t.Batch, p.t.Seq, p.t.Dim
	for b := 0; b < B; b++ {
		last := -1
		for s := S - 1; s >= 0; s-- {
			if p.t.Mask[b*S+s] != 0 {
				last = s
				break
			}
		}
		if last < 0 {
			continue // ST gathers position 0 times its mask 0: a zero row
		}
		p.copyToken(b, last)
	}
	p.off += H
}
