// Package embed holds the sentence-embedding side of fine-tuning, with the
// definitions of sentence-transformers (ST): pooling of token embeddings into
// one vector per text, L2 normalisation, an optional Dense projection,
// Matryoshka truncation, the contrastive and similarity losses, the
// evaluators and the no-duplicates batch sampler.
//
// Everything here is a pure function over row-major float64 matrices
// ([batch][dim], see Matrix) with an analytic backward pass: each loss
// returns its value and d loss / d embedding for every input column, and each
// module (Pool, Normalize, Dense, Truncate) has a Backward that carries such a
// gradient one step further towards the encoder. A trainer runs the encoder
// forward, pools, computes the loss here, and seeds the encoder graph's
// backward pass with the gradient that PoolBackward returns.
//
// Computation is in float64 (FromFloat32, TokensFromFloat32 and
// Matrix.Float32 convert at the trainer's boundary). Against ST in float64 the
// losses and gradients agree within 1e-5 relative entry by entry; against ST
// training in float32, the loss within 1e-5 relative and each gradient entry
// within 1e-5 of its column's largest entry (measured: about 5e-7).
//
// Parity: each function is checked against sentence-transformers 5.1.2 on
// fixtures made by testmodels/embed_oracle.py (PyTorch autograd for the
// gradients) and by finite differences. Where ST's behaviour is not a
// definition but an accident of its implementation, this package says what it
// does instead:
//
//   - TripletLoss: ST 5.1.2's default TripletDistanceMetric.EUCLIDEAN returns
//     pairwise_euclidean_sim, which is the negative distance, so its default
//     loss is relu(|a-n| - |a-p| + margin), the reverse of its own docstring.
//     TripletLoss here uses the documented distance |a-p| (TripletEuclidean),
//     i.e. ST's loss with distance_metric=lambda x, y: -pairwise_euclidean_sim(x, y).
//   - InformationRetrievalEvaluator ranks exactly tied scores in the order
//     torch.topk(sorted=False) and a heap happen to leave them; here ties are
//     ranked by corpus id, larger first (the order of the (score, id) tuples
//     ST's heap compares).
//   - Pooling's include_prompt is read but ignored: ft does not prepend
//     prompts, so there are no prompt tokens to exclude.
//   - Pooling with both CLS and max on reads -1e9 for CLS where position 0 is
//     padding (left padding), as ST does: its CLS output is a view of the
//     token embeddings that max pooling overwrites in place. Kept for parity.
//   - MatryoshkaLoss's n_dims_per_step (random subsets of dimensions) is not
//     offered: every dimension is used at every step (ST's default, -1).
package embed
