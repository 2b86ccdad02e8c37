package main

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"ft/dataset"
)

// labelTypos finds labels that look like misspellings of another label:
// a rare label (at most a tenth of the rows of the other) that equals the
// other but for case (Negative, negative), or is within edit distance 2 of
// it (postive, positive) when both have 4 or more letters and no digits
// (label_1 and label_2 are different classes, not typos). counts[i] is the
// number of rows of names[i]. One warning a rare label, naming both.
func labelTypos(names []string, counts []int) []string {
	var out []string
	for r, rare := range names {
		best := -1
		for f, freq := range names {
			if f == r || counts[r]*10 > counts[f] {
				continue
			}
			similar := strings.EqualFold(rare, freq)
			if !similar && typoCandidate(rare) && typoCandidate(freq) {
				similar = editDistance(rare, freq) <= 2
			}
			if similar && (best < 0 || counts[f] > counts[best]) {
				best = f
			}
		}
		if best >= 0 {
			out = append(out, fmt.Sprintf("label %q (%d rows) looks like a typo of %q (%d rows): it is a class of its own; correct those rows if it is one",
				rare, counts[r], names[best], counts[best]))
		}
	}
	sort.Strings(out)
	return out
}

func typoCandidate(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 4
}

// datasetLabelTypos applies labelTypos to the class counts of d (nil for
// regression and unlabeled data).
func datasetLabelTypos(d *dataset.Dataset) []string {
	if d.Labels == nil {
		return nil
	}
	counts := make([]int, d.Labels.Len())
	for _, e := range d.Examples {
		if d.Problem == dataset.MultiLabel {
			for _, l := range e.Labels {
				counts[l]++
			}
		} else if e.Label >= 0 && e.Label < len(counts) {
			counts[e.Label]++
		}
	}
	return labelTypos(d.Labels.Names, counts)
}

// fileCheckLabelTypos applies labelTypos to ft data check's label counts.
func fileCheckLabelTypos(f *dataset.FileCheck) []string {
	var names []string
	var counts []int
	for _, l := range f.Labels {
		names = append(names, l.Label)
		counts = append(counts, l.Rows)
	}
	return labelTypos(names, counts)
}
