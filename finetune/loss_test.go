package finetune

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"ft/dataset"
	"ft/internal/testfixture"
	"ft/tensor"
)

type lossCase struct {
	Name    string          `json:"name"`
	Kind    string          `json:"kind"`
	Input   json.RawMessage `json:"input"`
	Target  json.RawMessage `json:"target"`
	Options struct {
		Weight         []float64 `json:"weight"`
		PosWeight      []float64 `json:"pos_weight"`
		LabelSmoothing float64   `json:"label_smoothing"`
		IgnoreIndex    int       `json:"ignore_index"`
	} `json:"options"`
	Loss *float64        `json:"loss"` // null: NaN
	Grad json.RawMessage `json:"grad"`
}

// flatten reads a nested JSON list of numbers into its shape and values.
func flatten(t *testing.T, raw json.RawMessage) ([]int, []float64) {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var shape []int
	for x := v; ; {
		l, ok := x.([]any)
		if !ok {
			break
		}
		shape = append(shape, len(l))
		if len(l) == 0 {
			break
		}
		x = l[0]
	}
	var vals []float64
	var walk func(any)
	walk = func(x any) {
		switch y := x.(type) {
		case []any:
			for _, e := range y {
				walk(e)
			}
		case float64:
			vals = append(vals, y)
		default:
			t.Fatalf("unexpected %T in fixture", x)
		}
	}
	walk(v)
	return shape, vals
}

func (c *lossCase) loss(t *testing.T) Loss {
	switch c.Kind {
	case "cross_entropy":
		return &CrossEntropyLoss{Weight: c.Options.Weight, IgnoreIndex: c.Options.IgnoreIndex, LabelSmoothing: c.Options.LabelSmoothing}
	case "bce_with_logits":
		return &BCEWithLogitsLoss{Weight: c.Options.Weight, PosWeight: c.Options.PosWeight}
	case "bce":
		return &BCELoss{Weight: c.Options.Weight}
	case "mse":
		return MSELoss{}
	}
	t.Fatalf("unknown kind %q", c.Kind)
	return nil
}

// TestLossesMatchTorch compares values and gradients with PyTorch autograd
// (fixture losses.json, float32).
func TestLossesMatchTorch(t *testing.T) {
	var fx struct {
		Cases []lossCase `json:"cases"`
	}
	testfixture.JSON(t, "losses.json", &fx)
	if len(fx.Cases) < 19 {
		t.Fatalf("fixture has %d cases", len(fx.Cases))
	}
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			shape, in := flatten(t, c.Input)
			x := make([]float32, len(in))
			for i, v := range in {
				x[i] = float32(v)
			}
			tshape, tv := flatten(t, c.Target)
			var target *tensor.Tensor
			if c.Kind == "cross_entropy" {
				ids := make([]int64, len(tv))
				for i, v := range tv {
					ids[i] = int64(v)
				}
				target = tensor.New(tshape, ids)
			} else {
				f := make([]float32, len(tv))
				for i, v := range tv {
					f[i] = float32(v)
				}
				target = tensor.New(tshape, f)
			}
			got, grad, err := c.loss(t).Loss(tensor.New(shape, x), target)
			if err != nil {
				t.Fatal(err)
			}
			want := math.NaN()
			if c.Loss != nil {
				want = *c.Loss
			}
			if !testfixture.Close(got, want, 2e-6, 1e-7) {
				t.Errorf("loss %.9g, torch %.9g", got, want)
			}
			gshape, gw := flatten(t, c.Grad)
			if !tensor.SameShape(grad.Shape, gshape) || grad.DType() != tensor.Float32 {
				t.Fatalf("gradient %v %s, want %v float32", grad.Shape, grad.DType(), gshape)
			}
			for i, g := range grad.F32() {
				if !testfixture.Close(float64(g), gw[i], 2e-6, 1e-8) {
					t.Errorf("grad[%d] = %.9g, torch %.9g", i, g, gw[i])
				}
			}
		})
	}
}

// TestLossGradientsFiniteDifference checks every loss's hand-written
// gradient against central differences in float64.
func TestLossGradientsFiniteDifference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const B, C = 5, 4
	randn := func(n int, scale float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64() * scale
		}
		return v
	}
	logits := randn(B*C, 2)
	ids := tensor.New([]int{B}, []int64{0, 3, 1, 2, 3})
	ignored := tensor.New([]int{B}, []int64{0, -100, 1, -100, 3})
	ignored7 := tensor.New([]int{B}, []int64{7, 2, 1, 7, 3})
	soft := make([]float64, B*C)
	for i := range soft {
		soft[i] = r.Float64()
	}
	soft[0], soft[1] = 0, 1
	probs := make([]float64, B*C)
	for i := range probs {
		probs[i] = 0.05 + 0.9*r.Float64()
	}
	w := []float64{0.5, 2, 1, 3}
	pw := []float64{1, 2, 0.5, 3}
	soft64 := tensor.New([]int{B, C}, soft)
	tests := []struct {
		name   string
		loss   Loss
		x      []float64
		shape  []int
		target *tensor.Tensor
	}{
		{"ce", NewCrossEntropyLoss(), logits, []int{B, C}, ids},
		{"ce weight", &CrossEntropyLoss{Weight: w, IgnoreIndex: -100}, logits, []int{B, C}, ids},
		{"ce smoothing", &CrossEntropyLoss{IgnoreIndex: -100, LabelSmoothing: 0.1}, logits, []int{B, C}, ids},
		{"ce weight smoothing", &CrossEntropyLoss{Weight: w, IgnoreIndex: -100, LabelSmoothing: 0.3}, logits, []int{B, C}, ids},
		{"ce ignore", NewCrossEntropyLoss(), logits, []int{B, C}, ignored},
		{"ce ignore weight smoothing", &CrossEntropyLoss{Weight: w, IgnoreIndex: -100, LabelSmoothing: 0.2}, logits, []int{B, C}, ignored},
		{"ce ignore index 7", &CrossEntropyLoss{IgnoreIndex: 7}, logits, []int{B, C}, ignored7},
		{"ce sequence [B, T, C]", NewCrossEntropyLoss(), logits[:2*2*C], []int{2, 2, C}, tensor.New([]int{2, 2}, []int64{1, -100, 0, 3})},
		{"bce logits", &BCEWithLogitsLoss{}, logits, []int{B, C}, soft64},
		{"bce logits pos_weight", &BCEWithLogitsLoss{PosWeight: pw}, logits, []int{B, C}, soft64},
		{"bce logits weight", &BCEWithLogitsLoss{Weight: w}, logits, []int{B, C}, soft64},
		{"bce logits both", &BCEWithLogitsLoss{Weight: w, PosWeight: pw}, logits, []int{B, C}, soft64},
		{"bce probs", &BCELoss{}, probs, []int{B, C}, soft64},
		{"bce probs weight", &BCELoss{Weight: w}, probs, []int{B, C}, soft64},
		{"mse", MSELoss{}, logits, []int{B, C}, tensor.New([]int{B, C}, randn(B*C, 1))},
		{"mse [B,1] vs [B]", MSELoss{}, logits[:B], []int{B, 1}, tensor.New([]int{B}, randn(B, 1))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := append([]float64(nil), tc.x...)
			_, grad, err := tc.loss.Loss(tensor.New(tc.shape, x), tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if grad.DType() != tensor.Float64 {
				t.Fatalf("gradient is %s for float64 input", grad.DType())
			}
			g := grad.F64()
			const h = 1e-6
			for i := range x {
				orig := x[i]
				x[i] = orig + h
				lp, _, _ := tc.loss.Loss(tensor.New(tc.shape, x), tc.target)
				x[i] = orig - h
				lm, _, _ := tc.loss.Loss(tensor.New(tc.shape, x), tc.target)
				x[i] = orig
				fd := (lp - lm) / (2 * h)
				if math.Abs(fd-g[i]) > 1e-7+1e-6*math.Abs(fd) {
					t.Errorf("d/dx[%d]: analytic %.10g, finite difference %.10g", i, g[i], fd)
				}
			}
		})
	}
}

func TestLossErrors(t *testing.T) {
	f := func(shape []int, v ...float32) *tensor.Tensor { return tensor.New(shape, v) }
	i64 := func(v ...int64) *tensor.Tensor { return tensor.New([]int{len(v)}, v) }
	tests := []struct {
		name   string
		loss   Loss
		x, y   *tensor.Tensor
		substr string
	}{
		{"ce target out of range", NewCrossEntropyLoss(), f([]int{1, 2}, 0, 1), i64(2), "not a class id"},
		{"ce target count", NewCrossEntropyLoss(), f([]int{2, 2}, 0, 1, 2, 3), i64(1), "1 targets"},
		{"ce float targets", NewCrossEntropyLoss(), f([]int{1, 2}, 0, 1), f([]int{1}, 1), "class ids"},
		{"ce weight length", &CrossEntropyLoss{Weight: []float64{1}}, f([]int{1, 2}, 0, 1), i64(0), "1 class weights for 2"},
		{"ce rank 1", NewCrossEntropyLoss(), f([]int{2}, 0, 1), i64(0), "[batch, classes]"},
		{"ce int logits", NewCrossEntropyLoss(), i64(1, 2), i64(0), "float32 or float64"},
		{"bce out of [0,1]", &BCELoss{}, f([]int{1, 2}, 0.5, 1.5), f([]int{1, 2}, 0, 1), "probability"},
		{"bce shape", &BCEWithLogitsLoss{}, f([]int{1, 2}, 0.5, 1.5), f([]int{2, 1}, 0, 1), "does not match"},
		{"bce int target", &BCEWithLogitsLoss{}, f([]int{1}, 0.5), i64(1), "float"},
		{"bce pos_weight length", &BCEWithLogitsLoss{PosWeight: []float64{1, 2, 3}}, f([]int{1, 2}, 0, 1), f([]int{1, 2}, 0, 1), "length 3"},
		{"mse count", MSELoss{}, f([]int{2, 1}, 0, 1), f([]int{3}, 0, 1, 2), "does not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tc.loss.Loss(tc.x, tc.y)
			if err == nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %v, want one containing %q", err, tc.substr)
			}
		})
	}
}

func TestLossFor(t *testing.T) {
	for _, tc := range []struct {
		p    dataset.ProblemType
		name string
	}{{dataset.SingleLabel, "CrossEntropyLoss"}, {dataset.MultiLabel, "BCEWithLogitsLoss"}, {dataset.Regression, "MSELoss"}} {
		l, err := LossFor(tc.p)
		if err != nil || l.Name() != tc.name {
			t.Errorf("LossFor(%v) = %v, %v; want %s", tc.p, l, err, tc.name)
		}
	}
	if ce := NewCrossEntropyLoss(); ce.IgnoreIndex != -100 {
		t.Errorf("default ignore index %d", ce.IgnoreIndex)
	}
	if _, err := LossFor(dataset.ProblemAuto); err == nil {
		t.Error("LossFor(auto) gave a loss")
	}
}
