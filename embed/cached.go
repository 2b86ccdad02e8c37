package embed

import "fmt"

// CachedMultipleNegativesRankingLoss is ST's CachedMultipleNegativesRankingLoss
// (GradCache): the same loss and the same gradients as
// MultipleNegativesRankingLoss, computed so that a batch far larger than fits
// in memory through the encoder can be trained. Its value here is that
// Compute takes the anchors MiniBatchSize rows at a time, as ST's
// calculate_loss does, so only MiniBatchSize × candidates scores exist at once;
// the memory saving in the encoder is the trainer's part:
//
//  1. For every column (anchors, positives, negatives), run the encoder
//     forward in mini-batches of MiniBatchSize rows (MiniBatches) without
//     keeping activations, and pool; this gives full Batch × Dim columns.
//     Remember each mini-batch's random state (dropout masks) so that step 3
//     can replay it: ST's RandContext does exactly this.
//  2. Call Compute on the full columns: it returns the loss and d loss / d
//     embedding for every row of every column (ST caches these as
//     loss_obj.cache).
//  3. For every column and every mini-batch again, rerun the encoder forward
//     with activations kept (same dropout masks), pool, and run the backward
//     pass seeded with that mini-batch's rows of the column's gradient
//     (SliceRows(grads[k], start, end)) through PoolBackward into the encoder;
//     parameter gradients accumulate over mini-batches. Then take one
//     optimiser step for the whole batch.
//
// The parameter gradients so obtained equal those of MNRL on the whole batch
// (up to rounding), at the price of a second forward pass.
type CachedMultipleNegativesRankingLoss struct {
	Scale         float64    // 20
	Similarity    Similarity // CosSim
	MiniBatchSize int        // 32
}

// NewCachedMultipleNegativesRankingLoss returns it with ST's defaults.
func NewCachedMultipleNegativesRankingLoss() *CachedMultipleNegativesRankingLoss {
	return &CachedMultipleNegativesRankingLoss{Scale: 20, Similarity: CosSim, MiniBatchSize: 32}
}

func (l *CachedMultipleNegativesRankingLoss) Name() string {
	return "CachedMultipleNegativesRankingLoss"
}

func (l *CachedMultipleNegativesRankingLoss) Compute(cols []Matrix, _ []float64) (float64, []Matrix, error) {
	if l.MiniBatchSize <= 0 {
		return 0, nil, fmt.Errorf("embed: %s: mini-batch size %d must be positive", l.Name(), l.MiniBatchSize)
	}
	return rankingLoss(l.Name(), cols, l.Scale, l.Similarity, false, l.MiniBatchSize)
}

// MiniBatches splits n rows into consecutive [start, end) ranges of at most
// size rows, as ST's embed_minibatch_iter does.
func MiniBatches(n, size int) [][2]int {
	if size <= 0 {
		size = n
	}
	var out [][2]int
	for b := 0; b < n; b += size {
		out = append(out, [2]int{b, min(b+size, n)})
	}
	return out
}

// SliceRows returns rows [start, end) of m (shared with m).
func SliceRows(m Matrix, start, end int) Matrix {
	return Matrix{Rows: end - start, Cols: m.Cols, Data: m.Data[start*m.Cols : end*m.Cols]}
}

// ConcatRows stacks matrices of equal width (the mini-batches of step 1).
func ConcatRows(parts []Matrix) (Matrix, error) {
	if len(parts) == 0 {
		return Matrix{}, nil
	}
	out := Matrix{Cols: parts[0].Cols}
	for i, p := range parts {
		if err := p.check("concat"); err != nil {
			return Matrix{}, err
		}
		if p.Cols != out.Cols {
			return Matrix{}, fmt.Errorf("embed: concat: part %d has %d columns, part 0 has %d", i, p.Cols, out.Cols)
		}
		out.Rows += p.Rows
		out.Data = append(out.Data, p.Data...)
	}
	return out, nil
}
