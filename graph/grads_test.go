package graph

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ft/internal/stats"
	"ft/tensor"
)

type namesFile struct {
	Params []struct {
		ONNX       string `json:"onnx"`
		Torch      string `json:"torch"`
		Transposed bool   `json:"transposed"`
	} `json:"params"`
}

// lossSeed returns d loss / d output for the fixture's loss, derived by hand:
// mean softmax cross-entropy: (softmax(z) - onehot(y)) / (rows whose label is not -100);
// mean BCE on probabilities p: (p - y) / (p (1 - p)) / N.
func lossSeed(t *testing.T, out *tensor.Tensor, labels *tensor.Tensor) *tensor.Tensor {
	z := out.F32()
	g := make([]float32, len(z))
	switch labels.DType() {
	case tensor.Int64:
		// logits [..., C] against labels [...] (token classification: [B, S, C]
		// and [B, S]); labels -100 are ignored and the mean is over the rest,
		// as torch's ignore_index
		c := out.Shape[out.Rank()-1]
		rows := len(z) / c
		n := 0
		for _, y := range labels.I64() {
			if y != -100 {
				n++
			}
		}
		for i := 0; i < rows; i++ {
			if labels.I64()[i] == -100 {
				continue
			}
			for j, p := range stats.Softmax(z[i*c : (i+1)*c]) {
				if int64(j) == labels.I64()[i] {
					p--
				}
				g[i*c+j] = float32(p / float64(n))
			}
		}
	case tensor.Float32:
		y := labels.F32()
		for i, p := range z {
			g[i] = float32((float64(p) - float64(y[i])) / (float64(p) * (1 - float64(p))) / float64(len(z)))
		}
	default:
		t.Fatalf("labels of type %s", labels.DType())
	}
	return tensor.New(out.Shape, g)
}

// TestFixtureGradientsMatchPyTorch: for every fixture with grads/, the gradient
// of the fixture's loss with respect to every parameter matches PyTorch
// autograd: max|g_ft − g_torch| ≤ 1e-4 · max(1, max|g_torch|), parameters
// matched by their readable names (transposed MatMul weights included).
func TestFixtureGradientsMatchPyTorch(t *testing.T) {
	var report []string
	for _, dir := range fixtureDirs(t) {
		if _, err := os.Stat(filepath.Join(dir, "grads", "names.json")); err != nil {
			continue
		}
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			m, g := importFixture(t, dir)
			var nf namesFile
			b, err := os.ReadFile(filepath.Join(dir, "grads", "names.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &nf); err != nil {
				t.Fatal(err)
			}
			// Names: every torch parameter is found under its torch name.
			byName := map[string]*Param{}
			for _, p := range g.Params {
				byName[p.Name] = p
			}
			var params []*Param
			for _, e := range nf.Params {
				p := byName[e.Torch]
				if p == nil {
					var have []string
					for _, q := range g.Params {
						if q.Initializer == e.ONNX {
							have = append(have, q.Name)
						}
					}
					t.Errorf("parameter %s (initializer %s) not found by name; ft named it %v", e.Torch, e.ONNX, have)
					continue
				}
				if p.Initializer != e.ONNX || p.Transposed != e.Transposed {
					t.Errorf("parameter %s: ft maps it to %s transposed=%v, torch export has %s transposed=%v", e.Torch, p.Initializer, p.Transposed, e.ONNX, e.Transposed)
				}
				params = append(params, p)
			}
			if t.Failed() {
				return
			}
			feeds, _ := loadDataSet(t, m, dir)
			outName := g.OutputNames()[0]
			tr, err := g.Forward(feeds, []string{outName}, params)
			if err != nil {
				t.Fatal(err)
			}
			labels := readPB(t, filepath.Join(dir, "grads", "labels.pb"))
			seed := lossSeed(t, tr.Outputs[outName], labels)
			grads, err := tr.Backward(map[string]*tensor.Tensor{outName: seed})
			if err != nil {
				t.Fatal(err)
			}
			worstRel := 0.0
			worstName := ""
			for _, p := range params {
				want := readPB(t, filepath.Join(dir, "grads", p.Name+".pb"))
				got := grads[p]
				if p.Transposed {
					got = tensor.Transpose2D(got)
				}
				if !tensor.SameShape(got.Shape, want.Shape) {
					t.Errorf("%s: gradient shape %v, torch %v", p.Name, got.Shape, want.Shape)
					continue
				}
				scale := 1.0
				for _, v := range want.Float64s() {
					scale = math.Max(scale, math.Abs(v))
				}
				d := maxAbsDiff(got, want) / scale
				if d > worstRel {
					worstRel, worstName = d, p.Name
				}
				if d > 1e-4 {
					t.Errorf("%s: max|g_ft - g_torch| = %.3g (scale %.3g) > 1e-4", p.Name, d*scale, scale)
				}
			}
			report = append(report, fmt.Sprintf("%-12s %3d params, %3d of %3d nodes run backward, worst %.2g (%s)", name, len(params), tr.BackwardNodes, len(g.Nodes), worstRel, worstName))
		})
	}
	sort.Strings(report)
	t.Logf("gradients vs PyTorch autograd:\n%s", strings.Join(report, "\n"))
}

// TestBackwardStopsAtTrainableLayers: with only the last encoder layer and the
// head trainable, backward runs no node below that layer, and the gradients
// it gives are the same as with everything trainable.
func TestBackwardStopsAtTrainableLayers(t *testing.T) {
	dir := filepath.Join("..", "testmodels", "fixtures", "bert")
	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var top []*Param
	for _, p := range g.Params {
		if strings.Contains(p.Name, "encoder.layer.1.") || strings.HasPrefix(p.Name, "bert.pooler.") || strings.HasPrefix(p.Name, "classifier.") {
			top = append(top, p)
		}
	}
	feeds, _ := loadDataSet(t, g.Model, dir)
	labels := readPB(t, filepath.Join(dir, "grads", "labels.pb"))
	run := func(params []*Param) (*Trace, map[*Param]*tensor.Tensor) {
		tr, err := g.Forward(feeds, []string{"logits"}, params)
		if err != nil {
			t.Fatal(err)
		}
		grads, err := tr.Backward(map[string]*tensor.Tensor{"logits": lossSeed(t, tr.Outputs["logits"], labels)})
		if err != nil {
			t.Fatal(err)
		}
		return tr, grads
	}
	trTop, gTop := run(top)
	trAll, gAll := run(g.Params)
	for _, name := range trTop.BackwardRan {
		if strings.Contains(name, "/layer.0/") || strings.Contains(name, "/embeddings/") {
			t.Errorf("backward ran node %s below the trainable layer", name)
		}
	}
	if trTop.BackwardNodes >= trAll.BackwardNodes || trTop.BackwardNodes == 0 {
		t.Errorf("backward ran %d nodes for the top layer, %d for all", trTop.BackwardNodes, trAll.BackwardNodes)
	}
	for _, p := range top {
		if d := maxAbsDiff(gTop[p], gAll[p]); d != 0 {
			t.Errorf("%s: gradient differs by %g when lower layers are frozen", p.Name, d)
		}
	}
	t.Logf("backward ran %d nodes with layer.1 + head trainable, %d with everything", trTop.BackwardNodes, trAll.BackwardNodes)
}
