// Package explain says which tokens a text classifier's prediction rests
// on: New rewrites a finetune.Model's graph so that the word embeddings can
// be scaled and shifted, and Explainer.Explain scores each token of each
// text (Explanation: TokenScores by integrated gradients — the path from a
// baseline to the embedding, Options.Steps points — and by gradient ×
// input, for the predicted class or Options.Target), with Words joining
// word pieces into the words of the text. Token names come from the model
// folder's tokenizer.json (tokenize.TokenNames).
package explain
