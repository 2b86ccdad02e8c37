package dataset_test

import (
	"fmt"

	"ft/dataset"
)

// Check the bundled SST-2 sample before training: its 4,000 training
// phrases against the 872 test sentences.
func ExampleCheckData() {
	r, err := dataset.CheckData("../internal/bundled/sst2-sample/train.tsv", "../internal/bundled/sst2-sample/test.tsv", dataset.CheckOptions{Examples: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("train rows:", r.Train.Rows, "duplicates:", r.Train.Duplicates.Rows, "conflicting texts:", r.Train.Conflicts.Texts)
	fmt.Println("same text in both:", r.Overlap.Exact.Texts)
	c := r.Overlap.TrainInEval
	fmt.Printf("%d training rows sit inside %d test sentences, e.g. %q inside %q\n", c.InnerRows, c.OuterRows, c.Examples[0].Inner.Text, c.Examples[0].Outer.Text)
	// Output:
	// train rows: 4000 duplicates: 0 conflicting texts: 0
	// same text in both: 0
	// 110 training rows sit inside 218 test sentences, e.g. "one of the year 's best films " inside "` easily my choice for one of the year 's best films . ' "
}
