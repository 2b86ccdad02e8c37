package graph

import (
	"path/filepath"
	"testing"

	"ft/ops"
	"ft/tensor"
)

// wrongGrad plants a wrong backward: the true gradient scaled by 1.05.
type wrongGrad struct{ ops.Differentiable }

func (w wrongGrad) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g, err := w.Differentiable.Backward(in, out, dout, need)
	for _, x := range g {
		if x == nil {
			continue
		}
		switch d := x.Data.(type) {
		case []float32:
			for i := range d {
				d[i] *= 1.05
			}
		case []float64:
			for i := range d {
				d[i] *= 1.05
			}
		}
	}
	return g, err
}

func TestGradCheckFixtures(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			g, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := g.GradCheck(GradCheckOptions{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for _, p := range rep.Params {
				worst = max(worst, p.RelErr)
				if p.RelErr > 1e-3 {
					t.Errorf("parameter %s: relative error %.3g (analytic %.6g, numeric %.6g)", p.Name, p.RelErr, p.Analytic, p.Numeric)
				}
			}
			for _, o := range rep.OpType {
				worst = max(worst, o.RelErr)
				if o.RelErr > 1e-3 {
					t.Errorf("op %s: relative error %.3g at node %s", o.OpType, o.RelErr, o.Node)
				}
			}
			t.Logf("%s: %d params, %d op types, worst relative error %.2g", name, len(rep.Params), len(rep.OpType), worst)
		})
	}
}

func TestGradCheckCatchesPlantedBug(t *testing.T) {
	g, err := Load(filepath.Join("..", "testmodels", "fixtures", "bert"))
	if err != nil {
		t.Fatal(err)
	}
	planted, kind := "", ""
	for _, n := range g.Nodes {
		if n.OpType == "Softmax" || n.OpType == "FtMaskedSoftmax" { // fused with its mask Add (fuse_softmax.go)
			n.Op = wrongGrad{n.Op.(ops.Differentiable)}
			planted, kind = n.Name, n.OpType
			break
		}
	}
	rep, err := g.GradCheck(GradCheckOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	caught := false
	for _, o := range rep.OpType {
		if o.OpType == kind && o.RelErr > 1e-3 && o.Node == planted {
			caught = true
		}
	}
	bad := 0
	for _, p := range rep.Params {
		if p.RelErr > 1e-3 {
			bad++
		}
	}
	if !caught || bad == 0 {
		t.Fatalf("planted wrong Softmax backward at %s not caught: op errors %+v, %d parameters over 1e-3", planted, rep.OpType, bad)
	}
}
