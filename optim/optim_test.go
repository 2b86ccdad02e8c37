package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"ft/graph"
	"ft/internal/testfixture"
	"ft/tensor"
)

type optimFixture struct {
	Names  []string               `json:"names"`
	Shapes map[string][]int       `json:"shapes"`
	Init   map[string][]float32   `json:"init"`
	Grads  []map[string][]float32 `json:"grads"`
	Runs   []struct {
		Name   string `json:"name"`
		Config struct {
			Optimizer   string   `json:"optimizer"`
			LR          float64  `json:"lr"`
			Momentum    float64  `json:"momentum"`
			Dampening   float64  `json:"dampening"`
			Nesterov    bool     `json:"nesterov"`
			WeightDecay float64  `json:"weight_decay"`
			Beta1       *float64 `json:"beta1"`
			Beta2       *float64 `json:"beta2"`
			Eps         *float64 `json:"eps"`
			AMSGrad     bool     `json:"amsgrad"`
			HFGroups    bool     `json:"hf_groups"`
			MaxGradNorm float64  `json:"max_grad_norm"`
			Warmup      int      `json:"warmup"`
			Total       int      `json:"total"`
		} `json:"config"`
		Trajectory     []map[string][]float32 `json:"trajectory"`
		ClipTotalNorms []float64              `json:"clip_total_norms"`
		LRs            []float64              `json:"lrs"`
		FinalState     map[string]any         `json:"final_state"`
	} `json:"runs"`
}

func loadOptimFixture(t *testing.T) *optimFixture {
	var fx optimFixture
	testfixture.JSON(t, "optim.json", &fx)
	return &fx
}

func (fx *optimFixture) params() []*graph.Param {
	var ps []*graph.Param
	for _, n := range fx.Names {
		v := append([]float32(nil), fx.Init[n]...)
		ps = append(ps, &graph.Param{Name: n, Value: tensor.New(fx.Shapes[n], v)})
	}
	return ps
}

func (fx *optimFixture) grads(ps []*graph.Param, step int) map[*graph.Param]*tensor.Tensor {
	g := map[*graph.Param]*tensor.Tensor{}
	for _, p := range ps {
		g[p] = tensor.New(p.Value.Shape, append([]float32(nil), fx.Grads[step][p.Name]...))
	}
	return g
}

// newRunOptimizer builds the optimizer a fixture run describes.
func newRunOptimizer(t *testing.T, fx *optimFixture, run int, ps []*graph.Param) (Optimizer, *Schedule) {
	t.Helper()
	c := fx.Runs[run].Config
	groups := []ParamGroup{{Name: "all", Params: ps}}
	if c.HFGroups {
		groups = DefaultParamGroups(ps)
	}
	var sched *Schedule
	if c.Total > 0 {
		sched = LinearScheduleWithWarmup(c.Warmup, c.Total)
	}
	var opt Optimizer
	var err error
	switch c.Optimizer {
	case "sgd":
		opt, err = NewSGD(groups, SGDConfig{LR: c.LR, Momentum: c.Momentum, Dampening: c.Dampening, Nesterov: c.Nesterov, WeightDecay: c.WeightDecay})
	case "adam", "adamw":
		a := DefaultAdamConfig()
		a.LR, a.WeightDecay, a.AMSGrad = c.LR, c.WeightDecay, c.AMSGrad
		if c.Beta1 != nil {
			a.Beta1 = *c.Beta1
		}
		if c.Beta2 != nil {
			a.Beta2 = *c.Beta2
		}
		if c.Eps != nil {
			a.Eps = *c.Eps
		}
		if c.Optimizer == "adam" {
			opt, err = NewAdam(groups, a)
		} else {
			opt, err = NewAdamW(groups, a)
		}
	default:
		t.Fatalf("unknown optimizer %q", c.Optimizer)
	}
	if err != nil {
		t.Fatal(err)
	}
	return opt, sched
}

// step runs one training step of a fixture run: clip, schedule, update.
func fixtureStep(t *testing.T, fx *optimFixture, run int, opt Optimizer, sched *Schedule, ps []*graph.Param, s int) (norm, lr float64) {
	t.Helper()
	c := fx.Runs[run].Config
	g := fx.grads(ps, s)
	if c.MaxGradNorm > 0 {
		var err error
		if norm, err = ClipGradNorm(g, c.MaxGradNorm); err != nil {
			t.Fatal(err)
		}
	}
	if sched != nil {
		opt.SetLR(sched.LR(c.LR, s))
	}
	lr = opt.LR()
	if err := opt.Step(g); err != nil {
		t.Fatal(err)
	}
	return norm, lr
}

// TestOptimizersMatchTorch runs each optimizer for 20 steps on the fixture's
// gradients and compares every parameter after every step with torch.optim
// (run with ATEN_CPU_CAPABILITY=default, so that torch does not fuse
// multiply-adds): within 1e-6 relative.
func TestOptimizersMatchTorch(t *testing.T) {
	fx := loadOptimFixture(t)
	if len(fx.Runs) < 10 {
		t.Fatalf("fixture has %d runs", len(fx.Runs))
	}
	for run, r := range fx.Runs {
		t.Run(r.Name, func(t *testing.T) {
			ps := fx.params()
			opt, sched := newRunOptimizer(t, fx, run, ps)
			worst := 0.0
			for s := range fx.Grads {
				norm, lr := fixtureStep(t, fx, run, opt, sched, ps, s)
				if len(r.ClipTotalNorms) > 0 && !testfixture.Close(norm, r.ClipTotalNorms[s], 1e-6, 0) {
					t.Errorf("step %d: total norm %.9g, torch %.9g", s, norm, r.ClipTotalNorms[s])
				}
				if !testfixture.Close(lr, r.LRs[s], 1e-15, 0) {
					t.Errorf("step %d: lr %.17g, torch %.17g", s, lr, r.LRs[s])
				}
				for _, p := range ps {
					want := r.Trajectory[s][p.Name]
					for k, v := range p.Value.F32() {
						d := math.Abs(float64(v)-float64(want[k])) / math.Max(math.Abs(float64(want[k])), 1e-3)
						worst = math.Max(worst, d)
						if d > 1e-6 {
							t.Fatalf("step %d %s[%d] = %.9g, torch %.9g (relative %.2g)", s, p.Name, k, v, want[k], d)
						}
					}
				}
			}
			t.Logf("largest relative difference from torch over 20 steps: %.3g", worst)
			// The final state matches torch's optimizer state.
			st := opt.State()
			for key, v := range r.FinalState {
				if key == "step" {
					if float64(st.Step) != v.(float64) {
						t.Errorf("step %d, torch %v", st.Step, v)
					}
					continue
				}
				got, ok := st.Slots[key]
				if !ok {
					t.Errorf("no state slot %q (have %v)", key, st.SlotNames())
					continue
				}
				for k, w := range v.([]any) {
					if !testfixture.Close(float64(got[k]), w.(float64), 1e-5, 1e-12) {
						t.Errorf("%s[%d] = %.9g, torch %.9g", key, k, got[k], w)
					}
				}
			}
			if len(st.Slots) != len(r.FinalState)-boolInt(r.FinalState["step"] != nil) {
				t.Errorf("state slots %v, torch has %d entries", st.SlotNames(), len(r.FinalState))
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestOptimizerStateRoundTrip stops each fixture run after 10 steps, saves
// the state through JSON, loads it into a new optimizer over fresh
// parameters and finishes the run: the result is bit-identical to the
// uninterrupted run.
func TestOptimizerStateRoundTrip(t *testing.T) {
	fx := loadOptimFixture(t)
	for run, r := range fx.Runs {
		t.Run(r.Name, func(t *testing.T) {
			ps := fx.params()
			opt, sched := newRunOptimizer(t, fx, run, ps)
			for s := range fx.Grads {
				fixtureStep(t, fx, run, opt, sched, ps, s)
			}
			ps2 := fx.params()
			opt2, sched2 := newRunOptimizer(t, fx, run, ps2)
			for s := 0; s < 10; s++ {
				fixtureStep(t, fx, run, opt2, sched2, ps2, s)
			}
			b, err := json.Marshal(opt2.State())
			if err != nil {
				t.Fatal(err)
			}
			var st State
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			ps3 := fx.params()
			for i, p := range ps3 {
				copy(p.Value.F32(), ps2[i].Value.F32())
			}
			opt3, sched3 := newRunOptimizer(t, fx, run, ps3)
			if err := opt3.LoadState(&st); err != nil {
				t.Fatal(err)
			}
			for s := 10; s < len(fx.Grads); s++ {
				fixtureStep(t, fx, run, opt3, sched3, ps3, s)
			}
			for i, p := range ps3 {
				if !reflect.DeepEqual(p.Value.F32(), ps[i].Value.F32()) {
					t.Errorf("%s after resume %v, uninterrupted %v", p.Name, p.Value.F32(), ps[i].Value.F32())
				}
			}
		})
	}
}

func TestOptimizerStateErrors(t *testing.T) {
	fx := loadOptimFixture(t)
	ps := fx.params()
	adam, _ := NewAdam([]ParamGroup{{Params: ps}}, DefaultAdamConfig())
	sgd, _ := NewSGD([]ParamGroup{{Params: ps}}, SGDConfig{LR: 0.1, Momentum: 0.9})
	good := adam.State()
	tests := []struct {
		name   string
		opt    Optimizer
		st     *State
		substr string
	}{
		{"other optimizer", sgd, good, "saved by Adam"},
		{"unknown parameter", adam, &State{Optimizer: "Adam", Slots: map[string][]float32{"nope/exp_avg": {1}}}, `parameter "nope"`},
		{"unknown slot", adam, &State{Optimizer: "Adam", Slots: map[string][]float32{ps[1].Name + "/momentum_buffer": {1, 2, 3}}}, "unknown state slot"},
		{"wrong length", adam, &State{Optimizer: "Adam", Slots: map[string][]float32{ps[1].Name + "/exp_avg": {1}}}, "1 values, the parameter 3"},
		{"nil", adam, nil, "no state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opt.LoadState(tc.st)
			if err == nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %v, want one containing %q", err, tc.substr)
			}
		})
	}
}

func TestOptimizerConstructionErrors(t *testing.T) {
	fx := loadOptimFixture(t)
	ps := fx.params()
	i64 := &graph.Param{Name: "ids", Value: tensor.New([]int{1}, []int64{1})}
	dup := &graph.Param{Name: ps[0].Name, Value: tensor.Zeros(tensor.Float32, 1)}
	bad := func(c AdamConfig, f func(*AdamConfig)) AdamConfig { f(&c); return c }
	tests := []struct {
		name   string
		make   func() error
		substr string
	}{
		{"no params", func() error { _, err := NewAdamW(nil, DefaultAdamWConfig()); return err }, "no parameters"},
		{"int param", func() error {
			_, err := NewSGD([]ParamGroup{{Params: []*graph.Param{i64}}}, DefaultSGDConfig())
			return err
		}, "float32"},
		{"param twice", func() error {
			_, err := NewSGD([]ParamGroup{{Params: ps}, {Params: ps[:1]}}, DefaultSGDConfig())
			return err
		}, "two groups"},
		{"same name", func() error {
			_, err := NewSGD([]ParamGroup{{Params: append([]*graph.Param{dup}, ps...)}}, DefaultSGDConfig())
			return err
		}, "two parameters are named"},
		{"nesterov without momentum", func() error {
			_, err := NewSGD([]ParamGroup{{Params: ps}}, SGDConfig{LR: 1, Nesterov: true})
			return err
		}, "Nesterov"},
		{"beta1", func() error {
			_, err := NewAdam([]ParamGroup{{Params: ps}}, bad(DefaultAdamConfig(), func(c *AdamConfig) { c.Beta1 = 1 }))
			return err
		}, "beta1"},
		{"eps", func() error {
			_, err := NewAdam([]ParamGroup{{Params: ps}}, bad(DefaultAdamConfig(), func(c *AdamConfig) { c.Eps = -1 }))
			return err
		}, "epsilon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.make()
			if err == nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %v, want one containing %q", err, tc.substr)
			}
		})
	}
	// A gradient of the wrong shape or type is an error, a missing one is skipped.
	opt, _ := NewAdamW([]ParamGroup{{Params: ps}}, DefaultAdamWConfig())
	before := append([]float32(nil), ps[1].Value.F32()...)
	if err := opt.Step(map[*graph.Param]*tensor.Tensor{ps[0]: tensor.Zeros(tensor.Float32, 2, 3)}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, ps[1].Value.F32()) {
		t.Error("a parameter without a gradient changed")
	}
	if st := opt.State(); st.ParamSteps[ps[1].Name] != 0 || st.Step != 1 {
		t.Errorf("step counts %d %v", st.Step, st.ParamSteps)
	}
	if err := opt.Step(map[*graph.Param]*tensor.Tensor{ps[0]: tensor.Zeros(tensor.Float32, 5)}); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong-shape gradient: %v", err)
	}
	if err := opt.Step(map[*graph.Param]*tensor.Tensor{ps[0]: tensor.Zeros(tensor.Float64, 2, 3)}); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Errorf("float64 gradient: %v", err)
	}
}

// TestNoDecay checks the default weight-decay exemptions on the parameter
// names of the families in testmodels (Hugging Face Trainer rules).
func TestNoDecay(t *testing.T) {
	tests := []struct {
		name    string
		noDecay bool
	}{
		{"bert.encoder.layer.0.attention.self.query.weight", false},
		{"bert.encoder.layer.0.attention.self.query.bias", true},
		{"bert.embeddings.LayerNorm.weight", true},
		{"bert.embeddings.word_embeddings.weight", false},
		{"distilbert.transformer.layer.0.sa_layer_norm.weight", true},
		{"distilbert.transformer.layer.0.output_layer_norm.weight", true},
		{"albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight", true},
		{"deberta.encoder.rel_embeddings.weight", false},
		{"deberta.encoder.LayerNorm.weight", true},
		{"model.norm.weight", true},
		{"model.layers.0.input_layernorm.weight", true},
		{"model.layers.0.post_attention_layernorm.weight", true},
		{"transformer.ln_f.weight", true},
		{"transformer.h.0.ln_1.weight", true},
		{"classifier.weight", false},
		{"classifier.out_proj.weight", false},
		{"pre_classifier.weight", false},
		{"normalizer.weight", false},
		{"kernel.weight", false},
	}
	for _, tc := range tests {
		if got := NoDecay(tc.name); got != tc.noDecay {
			t.Errorf("NoDecay(%q) = %v, want %v", tc.name, got, tc.noDecay)
		}
	}
	ps := []*graph.Param{
		{Name: "a.weight", Value: tensor.Zeros(tensor.Float32, 1)},
		{Name: "a.bias", Value: tensor.Zeros(tensor.Float32, 1)},
	}
	g := DefaultParamGroups(ps)
	if len(g) != 2 || g[0].Name != "decay" || g[0].NoWeightDecay || g[1].Name != "no_decay" || !g[1].NoWeightDecay ||
		g[0].Params[0] != ps[0] || g[1].Params[0] != ps[1] {
		t.Errorf("groups %+v", g)
	}
}

func TestClipGradNorm(t *testing.T) {
	p1 := &graph.Param{Name: "a", Value: tensor.Zeros(tensor.Float32, 2)}
	p2 := &graph.Param{Name: "b", Value: tensor.Zeros(tensor.Float32, 1)}
	tests := []struct {
		name    string
		g1, g2  []float32
		max     float64
		norm    float64
		w1, w2  []float32
		clipped bool
	}{
		// |(3, 4, 12)| = 13
		{"clipped", []float32{3, 4}, []float32{12}, 6.5, 13, []float32{1.5, 2}, []float32{6}, true},
		{"below max", []float32{3, 4}, []float32{12}, 20, 13, []float32{3, 4}, []float32{12}, false},
		{"zero", []float32{0, 0}, []float32{0}, 1, 0, []float32{0, 0}, []float32{0}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := map[*graph.Param]*tensor.Tensor{p1: tensor.New([]int{2}, tc.g1), p2: tensor.New([]int{1}, tc.g2)}
			n, err := ClipGradNorm(g, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.norm {
				t.Errorf("norm %v, want %v", n, tc.norm)
			}
			for i, w := range [][]float32{tc.w1, tc.w2} {
				got := g[[]*graph.Param{p1, p2}[i]].F32()
				for k := range w {
					if !testfixture.Close(float64(got[k]), float64(w[k]), 1e-6, 0) {
						t.Errorf("grad %d = %v, want %v", i, got, w)
					}
				}
			}
		})
	}
}

// TestPenalty checks L1/L2 penalties: the value is L1·Σ|p| + L2·Σp² over
// the decayed groups and the gradient added is its derivative.
func TestPenalty(t *testing.T) {
	w := &graph.Param{Name: "dense.weight", Value: tensor.New([]int{3}, []float32{0.5, -2, 0})}
	b := &graph.Param{Name: "dense.bias", Value: tensor.New([]int{1}, []float32{3})}
	groups := DefaultParamGroups([]*graph.Param{w, b})
	tests := []struct {
		pen   Penalty
		value float64
		grad  []float32
	}{
		{Penalty{}, 0, []float32{1, 1, 1}},
		{Penalty{L1: 0.1}, 0.1 * 2.5, []float32{1.1, 0.9, 1}},
		{Penalty{L2: 0.5}, 0.5 * 4.25, []float32{1.5, -1, 1}},
		{Penalty{L1: 0.1, L2: 0.5}, 0.25 + 2.125, []float32{1.6, -1.1, 1}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc.pen), func(t *testing.T) {
			g := map[*graph.Param]*tensor.Tensor{w: tensor.New([]int{3}, []float32{1, 1, 1})}
			v, err := tc.pen.Apply(groups, g)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(v-tc.value) > 1e-12 {
				t.Errorf("value %v, want %v", v, tc.value)
			}
			for k, x := range g[w].F32() {
				if math.Abs(float64(x-tc.grad[k])) > 1e-6 {
					t.Errorf("grad %v, want %v", g[w].F32(), tc.grad)
				}
			}
			if _, ok := g[b]; ok && tc.pen != (Penalty{}) {
				t.Error("the bias (no decay) got a penalty gradient")
			}
		})
	}
	if _, err := (Penalty{L1: -1}).Apply(groups, nil); err == nil {
		t.Error("negative penalty accepted")
	}
}
