package tokenclass

import (
	"reflect"
	"strings"
	"testing"
)

func TestBToI(t *testing.T) {
	tests := []struct {
		labels []string
		want   []int
	}{
		// WNUT-style label list, sorted as run_ner sorts string labels.
		{[]string{"B-LOC", "B-PER", "I-LOC", "I-PER", "O"}, []int{2, 3, 2, 3, 4}},
		// B- without its I- keeps its own id; non-BIO labels map to themselves.
		{[]string{"O", "B-MISC", "B-PER", "I-PER", "NOUN"}, []int{0, 1, 3, 3, 4}},
		// Python's str.replace changes every "B-": "B-B-X" looks for "I-I-X".
		{[]string{"B-B-X", "I-B-X", "I-I-X"}, []int{2, 1, 2}},
		{nil, []int{}},
	}
	for _, tc := range tests {
		if got := BToI(tc.labels); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("BToI(%v) = %v, want %v", tc.labels, got, tc.want)
		}
	}
}

func TestAlignLabels(t *testing.T) {
	// labels: 0 O, 1 B-PER, 2 I-PER, 3 B-LOC (no I-LOC)
	bToI := BToI([]string{"O", "B-PER", "I-PER", "B-LOC"})
	const X = IgnoreIndex
	tests := []struct {
		name    string
		wordIDs []int
		labels  []int
		all     bool
		want    []int
	}{
		// "[CLS] Jo ##hn lives in Ber ##lin [SEP]": John B-PER, lives O, in O, Berlin B-LOC
		{"first sub-token", []int{-1, 0, 0, 1, 2, 3, 3, -1}, []int{1, 0, 0, 3}, false, []int{X, 1, X, 0, 0, 3, X, X}},
		{"all sub-tokens, B- to I-", []int{-1, 0, 0, 1, 2, 3, 3, -1}, []int{1, 0, 0, 3}, true, []int{X, 1, 2, 0, 0, 3, 3, X}},
		{"I- stays I-", []int{-1, 0, 0, 0, -1}, []int{2}, true, []int{X, 2, 2, 2, X}},
		// A word id after a special token counts as a new word, as in run_ner
		// (previous_word_idx becomes None): pairs [CLS] a [SEP] a [SEP].
		{"after a special token", []int{-1, 0, -1, 0, 0, -1}, []int{1}, false, []int{X, 1, X, 1, X, X}},
		// Truncated: the last word is cut off.
		{"truncated", []int{-1, 0, 1, 1, -1}, []int{0, 1, 2}, true, []int{X, 0, 1, 2, X}},
		{"nothing", nil, nil, false, []int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AlignLabels(tc.wordIDs, tc.labels, AlignOptions{LabelAllTokens: tc.all, BToI: bToI})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAlignLabelsErrors(t *testing.T) {
	tests := []struct {
		name    string
		wordIDs []int
		labels  []int
		opt     AlignOptions
		want    string
	}{
		{"word id past the words", []int{-1, 2}, []int{0, 0}, AlignOptions{}, "sub-token 1: word id 2 outside the 2 words"},
		{"negative word id", []int{-2}, []int{0}, AlignOptions{}, "word id -2"},
		{"label outside the list", []int{0, 0}, []int{7}, AlignOptions{LabelAllTokens: true, BToI: []int{0}}, "label id 7 outside the 1 labels"},
		{"no map", []int{0}, []int{0}, AlignOptions{LabelAllTokens: true}, "needs the B- to I- label map"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := AlignLabels(tc.wordIDs, tc.labels, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestKeepLabelled(t *testing.T) {
	p, l, err := KeepLabelled([]int{4, 1, 2, 0, 3}, []int{IgnoreIndex, 1, IgnoreIndex, 0, IgnoreIndex})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, []int{1, 0}) || !reflect.DeepEqual(l, []int{1, 0}) {
		t.Errorf("got %v %v", p, l)
	}
	if _, _, err := KeepLabelled([]int{1}, nil); err == nil {
		t.Error("no error for unequal lengths")
	}
}
