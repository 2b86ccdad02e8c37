package graph

import (
	"fmt"
	"math"
	"testing"
	"time"

	"ft/kernels"
	"ft/onnx"
	"ft/tensor"
)

// chainModel is X -> Neg -> Neg -> ... (n nodes) -> Y.
func chainModel(t *testing.T, n int, pool *kernels.Pool) *Graph {
	t.Helper()
	nodes := make([]*onnx.NodeProto, n)
	prev := "X"
	for i := range nodes {
		out := fmt.Sprintf("v%d", i)
		if i == n-1 {
			out = "Y"
		}
		nodes[i] = onnx.NewNode("Neg", fmt.Sprintf("neg%d", i), []string{prev}, []string{out})
		prev = out
	}
	m := limitModel(t, nodes, nil, nil, map[string][]any{"X": {4}}, "Y")
	g, err := Import(m, Options{NoFold: true, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRunTimeLinearInNodes: freeing dead values used to scan every value
// and constant for each one (O(values²): 18 s a run at 100k nodes, with
// the pool off too). A run of a 100k-node chain now takes about ten times
// a 10k-node one, not a hundred, with the pool on and off; and gives the
// right answer.
func TestRunTimeLinearInNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a 100k-node graph")
	}
	x := tensor.New([]int{4}, []float32{1, -2, 3, -4})
	best := func(g *Graph) time.Duration {
		d := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			out, err := g.Run(map[string]*tensor.Tensor{"X": x})
			if err != nil {
				t.Fatal(err)
			}
			d = min(d, time.Since(start))
			if y := out["Y"].F32(); y[0] != 1 || y[1] != -2 { // an even number of negations
				t.Fatalf("Y = %v", y)
			}
		}
		return d
	}
	for _, pool := range []struct {
		name string
		pool *kernels.Pool
	}{{"pool on, every buffer", &kernels.Pool{MinLen: 1}}, {"pool off", &kernels.Pool{Off: true}}} {
		ts, tl := best(chainModel(t, 10_000, pool.pool)), best(chainModel(t, 100_000, pool.pool))
		t.Logf("%s: 10k nodes %v, 100k nodes %v (%.1fx)", pool.name, ts, tl, float64(tl)/float64(ts))
		// linear: 10x; quadratic: 100x. Allow for noise on a shared machine.
		if tl > 30*ts && tl > time.Second {
			t.Errorf("%s: a 100k-node run takes %v, %.0fx a 10k-node run (%v): not linear", pool.name, tl, float64(tl)/float64(ts), ts)
		}
	}
}
