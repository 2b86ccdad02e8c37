package embed_test

import (
	"fmt"

	"ft/embed"
)

// Pool token embeddings as all-MiniLM-L6-v2 does (mean over attended tokens,
// then L2 normalisation), score a batch of (anchor, positive) pairs with
// MultipleNegativesRankingLoss, and carry its gradient back to the token
// embeddings, where a trainer would seed the encoder's backward pass.
func Example() {
	pool := embed.DefaultPooling(3)
	// Two texts per column, 2 tokens each, hidden size 3; the second text of
	// each column has one padding token.
	anchors := embed.Tokens{Batch: 2, Seq: 2, Dim: 3, Mask: []int64{1, 1, 1, 0},
		Data: []float64{1, 0, 0, 0.8, 0.2, 0, 0.5, 0.6, 0, 9, 9, 9}}
	positives := embed.Tokens{Batch: 2, Seq: 2, Dim: 3, Mask: []int64{1, 1, 1, 0},
		Data: []float64{0.9, 0.3, 0, 1, 0, 0.1, 0.4, 0.9, 0.1, 9, 9, 9}}

	var cols, pooled []embed.Matrix
	for _, tok := range []embed.Tokens{anchors, positives} {
		p, err := embed.Pool(pool, tok)
		if err != nil {
			panic(err)
		}
		pooled = append(pooled, p)
		cols = append(cols, embed.Normalize(p))
	}
	loss, grads, err := embed.NewMultipleNegativesRankingLoss().Compute(cols, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("MNRL loss %.6f\n", loss)

	// Backward: normalisation, then pooling, for the anchors.
	g, _ := embed.NormalizeBackward(pooled[0], grads[0])
	dTokens, _ := embed.PoolBackward(pool, anchors, g)
	fmt.Printf("d loss / d padding token: %v\n", dTokens[9:12])

	sts, _ := embed.EvaluateSimilarity(cols[0], cols[1], []float64{5, 0})
	fmt.Printf("spearman_cosine %.1f\n", sts["spearman_cosine"])
	// Output:
	// MNRL loss 0.008091
	// d loss / d padding token: [0 0 0]
	// spearman_cosine 1.0
}
