package graph

import (
	"path/filepath"
	"testing"

	"ft/kernels"
	"ft/onnx"
	"ft/tensor"
)

// TestRunRecyclesSafely: with every float32 buffer going through the pool,
// running each fixture model three times gives the same bits each time,
// leaves the feeds and the outputs of earlier runs untouched, and matches
// a run without recycling (a training forward, which never recycles).
func TestRunRecyclesSafely(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, err := onnx.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			pool := &kernels.Pool{MinLen: 1}
			g, err := Import(m, Options{Pool: pool})
			if err != nil {
				t.Fatal(err)
			}
			feeds, _ := loadDataSet(t, m, dir)
			keep := map[string]*tensor.Tensor{}
			for k, v := range feeds {
				keep[k] = v.Clone()
			}
			tr, err := g.Forward(feeds, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ref := map[string]*tensor.Tensor{}
			for k, v := range tr.Outputs {
				ref[k] = v.Clone()
			}
			var runs []map[string]*tensor.Tensor
			for i := 0; i < 3; i++ {
				got, err := g.Run(feeds)
				if err != nil {
					t.Fatal(err)
				}
				runs = append(runs, got)
			}
			for i, got := range runs {
				for k, w := range ref {
					if maxAbsDiff(got[k], w) != 0 {
						t.Fatalf("run %d: output %q differs from a forward without recycling", i, k)
					}
				}
			}
			for k, v := range keep {
				if maxAbsDiff(feeds[k], v) != 0 {
					t.Fatalf("feed %q changed", k)
				}
			}
		})
	}
}
