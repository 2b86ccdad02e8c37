package tokenclass_test

import (
	"fmt"

	"ft/tokenclass"
)

// The example of seqeval's classification_report docstring.
func ExampleEvaluate() {
	gold := [][]string{{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}}
	pred := [][]string{{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}}
	rep, err := tokenclass.Evaluate(gold, pred, tokenclass.MetricOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Print(rep.Format(2))
	acc, _ := tokenclass.Accuracy(gold, pred)
	fmt.Printf("accuracy %.2f\n", acc)
	// Output:
	//               precision    recall  f1-score   support
	//
	//         MISC       0.00      0.00      0.00         1
	//          PER       1.00      1.00      1.00         1
	//
	//    micro avg       0.50      0.50      0.50         2
	//    macro avg       0.50      0.50      0.50         2
	// weighted avg       0.50      0.50      0.50         2
	// accuracy 0.80
}
