package tokenclass_test

import (
	"fmt"

	"ft/tokenclass"
)

// Entities of "Hi New York" from per-token logits of a BERT-style model.
func ExampleAggregate() {
	text := "Hi New York"
	tokens := []tokenclass.Token{
		{Text: "[CLS]", Special: true},
		{Text: "Hi", Start: 0, End: 2},
		{Text: "New", Start: 3, End: 6},
		{Text: "Yo", Start: 7, End: 9},
		{Text: "##rk", Start: 9, End: 11},
		{Text: "[SEP]", Special: true},
	}
	labels := []string{"O", "B-LOC", "I-LOC"}
	logits := [][]float32{
		{0, 0, 0}, {4, 0, 0}, {0, 3, 1}, {0, 1, 3}, {1, 0, 0}, {0, 0, 0},
	}
	for _, s := range []tokenclass.Strategy{tokenclass.Simple, tokenclass.First} {
		ents, err := tokenclass.Aggregate(text, tokens, logits, tokenclass.AggregateOptions{
			Strategy: s, Labels: labels, WordAware: true,
		})
		if err != nil {
			panic(err)
		}
		for _, e := range ents {
			fmt.Printf("%s: %s %q %d..%d %.3f\n", s, e.EntityGroup, e.Word, e.Start, e.End, e.Score)
		}
	}
	// Output:
	// simple: LOC "New Yo" 3..9 0.844
	// first: LOC "New York" 3..11 0.844
}
