package sweep_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"ft/sweep"
)

// A grid search over the learning rate. The objective would train and
// evaluate a model (see ExampleTrainer); here a made-up score peaks at 1e-3.
// Running the same sweep again skips the trials sweep.jsonl already holds.
func ExampleSweep() {
	dir, _ := os.MkdirTemp("", "sweep")
	defer os.RemoveAll(dir)
	lr, err := sweep.ParseParam("learning_rate", "log:1e-5:1e-1:5")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := sweep.Sweep{Params: []sweep.Param{lr}, Log: filepath.Join(dir, "sweep.jsonl")}
	objective := func(ctx context.Context, number int, t sweep.Trial) (map[string]float64, error) {
		d := math.Log10(t.Params["learning_rate"]) + 3
		return map[string]float64{"accuracy": 0.9 - 0.05*d*d}, nil
	}
	results, err := s.Run(context.Background(), objective)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range results {
		results[i].Seconds = 0 // for a stable output
	}
	sweep.SortResults(results, "accuracy", true)
	fmt.Print(sweep.Table(results, []string{"learning_rate"}, "accuracy"))
	// Output:
	// | rank | trial | learning_rate | accuracy | loss | seconds |
	// |---|---|---|---|---|---|
	// | 1 | 2 | 0.001 | 0.9000 | - | 0.0 |
	// | 2 | 1 | 0.0001 | 0.8500 | - | 0.0 |
	// | 3 | 3 | 0.01 | 0.8500 | - | 0.0 |
	// | 4 | 0 | 1e-05 | 0.7000 | - | 0.0 |
	// | 5 | 4 | 0.1 | 0.7000 | - | 0.0 |
}
