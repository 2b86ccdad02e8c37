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
	B, S, H := t.Batch, t.Seq, t.Dim
	W := c.OutputDim(H)
	out := NewMatrix(B, W)
	var dt []float64
	if grad != nil {
		if err := grad.check("pooling gradient"); err != nil {
			return Matrix{}, nil, err
		}
		if grad.Rows != B || grad.Cols != W {
			return Matrix{}, nil, fmt.Errorf("embed: pooling gradient is %d×%d, want %d×%d", grad.Rows, grad.Cols, B, W)
		}
		dt = make([]float64, len(t.Data))
	}
	tok := func(b, s int) []float64 { return t.Data[(b*S+s)*H : (b*S+s+1)*H] }
	dtok := func(b, s int) []float64 { return dt[(b*S+s)*H : (b*S+s+1)*H] }
	mask := func(b, s int) float64 { return float64(t.Mask[b*S+s]) }
	off := 0
	// weighted adds sum_s w(b,s) tok / den(b) and its backward.
	weighted := func(w func(b, s int) float64, den func(sum float64) float64) {
		for b := 0; b < B; b++ {
			sum := 0.0
			for s := 0; s < S; s++ {
				sum += w(b, s)
			}
			d := den(math.Max(sum, 1e-9))
			o := out.Row(b)[off : off+H]
			for s := 0; s < S; s++ {
				ws := w(b, s)
				if ws == 0 {
					continue
				}
				x := tok(b, s)
				for h := range o {
					o[h] += x[h] * ws
				}
			}
			for h := range o {
				o[h] /= d
			}
			if grad != nil {
				g := grad.Row(b)[off : off+H]
				for s := 0; s < S; s++ {
					ws := w(b, s)
					if ws == 0 {
						continue
					}
					dx := dtok(b, s)
					for h := range g {
						dx[h] += g[h] * ws / d
					}
				}
			}
		}
		off += H
	}
	if c.CLSToken {
		for b := 0; b < B; b++ {
			if c.MaxTokens && t.Mask[b*S] == 0 {
				// ST's CLS output is a view of the token embeddings that its
				// max pooling then overwrites in place at padded positions:
				// with left padding and max on, CLS reads -1e9 (no gradient).
				o := out.Row(b)[off : off+H]
				for h := range o {
					o[h] = maxPoolNeg
				}
				continue
			}
			copy(out.Row(b)[off:off+H], tok(b, 0))
			if grad != nil {
				dx := dtok(b, 0)
				g := grad.Row(b)[off : off+H]
				for h := range g {
					dx[h] += g[h]
				}
			}
		}
		off += H
	}
	if c.MaxTokens {
		for b := 0; b < B; b++ {
			o := out.Row(b)[off : off+H]
			for h := 0; h < H; h++ {
				best, arg := math.Inf(-1), 0
				for s := 0; s < S; s++ {
					v := maxPoolNeg
					if t.Mask[b*S+s] != 0 {
						v = tok(b, s)[h]
					}
					if v > best { // first maximum wins, as torch.max
						best, arg = v, s
					}
				}
				o[h] = best
				if grad != nil && t.Mask[b*S+arg] != 0 {
					dtok(b, arg)[h] += grad.Row(b)[off+h]
				}
			}
		}
		off += H
	}
	if c.MeanTokens {
		weighted(mask, func(sum float64) float64 { return sum })
	}
	if c.MeanSqrtLenTokens {
		weighted(mask, math.Sqrt)
	}
	if c.WeightedMeanTokens {
		weighted(func(b, s int) float64 { return mask(b, s) * float64(s+1) }, func(sum float64) float64 { return sum })
	}
	if c.LastToken {
		for b := 0; b < B; b++ {
			last := -1
			for s := S - 1; s >= 0; s-- {
				if t.Mask[b*S+s] != 0 {
					last = s
					break
				}
			}
			if last < 0 {
				continue // ST gathers position 0 times its mask 0: a zero row
			}
			copy(out.Row(b)[off:off+H], tok(b, last))
			if grad != nil {
				dx := dtok(b, last)
				g := grad.Row(b)[off : off+H]
				for h := range g {
					dx[h] += g[h]
				}
			}
		}
		off += H
	}
	return out, dt, nil
}
