package tokenclass

import (
	"fmt"
	"strings"
)

// IgnoreIndex is the label of sub-tokens the loss ignores (PyTorch's
// cross_entropy ignore_index, transformers' -100).
const IgnoreIndex = -100

// NoWord is the word id of a special token ([CLS], [SEP], padding), where
// Hugging Face's word_ids() has None.
const NoWord = -1

// BToI maps each label id to the id that sub-tokens after a word's first one
// get when every sub-token is labelled: a "B-X" label whose "I-X" exists in
// labels maps to it, every other label to itself. It is run_ner.py's
// b_to_i_label, including its use of Python's str.replace (every "B-" in
// the name becomes "I-").
func BToI(labels []string) []int {
	index := make(map[string]int, len(labels))
	for i := len(labels) - 1; i >= 0; i-- {
		index[labels[i]] = i // the first occurrence wins, as list.index
	}
	out := make([]int, len(labels))
	for i, l := range labels {
		out[i] = i
		if strings.HasPrefix(l, "B-") {
			if j, ok := index[strings.ReplaceAll(l, "B-", "I-")]; ok {
				out[i] = j
			}
		}
	}
	return out
}

// AlignOptions configures AlignLabels.
type AlignOptions struct {
	// LabelAllTokens labels every sub-token of a word, not only the first
	// (run_ner.py --label_all_tokens); the others get BToI of the label.
	LabelAllTokens bool
	// BToI is BToI(label list); needed with LabelAllTokens.
	BToI []int
}

// AlignLabels gives each sub-token its training label as run_ner.py's
// tokenize_and_align_labels does. wordIDs holds the word index of every
// sub-token (NoWord for special tokens), wordLabels the label id of every
// word. A special token gets IgnoreIndex; the first sub-token of a word (a
// sub-token whose word id differs from the previous sub-token's) gets the
// word's label; the others get IgnoreIndex, or with LabelAllTokens the
// word's label mapped by BToI.
func AlignLabels(wordIDs, wordLabels []int, opt AlignOptions) ([]int, error) {
	if opt.LabelAllTokens && opt.BToI == nil {
		return nil, fmt.Errorf("labelling all sub-tokens needs the B- to I- label map (BToI of the label list)")
	}
	out := make([]int, len(wordIDs))
	prev := NoWord
	for i, w := range wordIDs {
		switch {
		case w == NoWord:
			out[i] = IgnoreIndex
		case w < 0 || w >= len(wordLabels):
			return nil, fmt.Errorf("sub-token %d: word id %d outside the %d words", i, w, len(wordLabels))
		case w != prev:
			out[i] = wordLabels[w]
		case opt.LabelAllTokens:
			l := wordLabels[w]
			if l < 0 || l >= len(opt.BToI) {
				return nil, fmt.Errorf("word %d: label id %d outside the %d labels", w, l, len(opt.BToI))
			}
			out[i] = opt.BToI[l]
		default:
			out[i] = IgnoreIndex
		}
		prev = w
	}
	return out, nil
}

// KeepLabelled drops the positions whose label is IgnoreIndex from a
// sequence of predicted ids and its labels, as run_ner.py's compute_metrics
// does before scoring, and returns what is left of both.
func KeepLabelled(pred, labels []int) (p, l []int, err error) {
	if len(pred) != len(labels) {
		return nil, nil, fmt.Errorf("%d predictions but %d labels", len(pred), len(labels))
	}
	for i, lab := range labels {
		if lab != IgnoreIndex {
			p = append(p, pred[i])
			l = append(l, lab)
		}
	}
	return p, l, nil
}
