package dataset_test

import (
	"fmt"

	"ft/dataset"
)

func ExampleParse() {
	data := []byte("sentence\tlabel\na charming journey\tpos\nbleak and desperate\tneg\n")
	d, err := dataset.Parse("train.tsv", data, dataset.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Summary())
	fmt.Println(d.Examples[0].Text, "->", d.Examples[0].Label)
	// Output:
	// train.tsv: 2 rows (tsv, header), text="sentence" label="label", single_label_classification, 2 labels from the training file: neg, pos
	// a charming journey -> 1
}
