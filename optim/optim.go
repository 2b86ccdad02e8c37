package optim

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"ft/graph"
	"ft/kernels"
	"ft/tensor"
)

// Optimizers update float32 parameters in place (graph.Param.Value) from
// gradients, replicating the float32 arithmetic of PyTorch's single-tensor
// CPU implementations operation by operation, so a trajectory matches
// torch.optim step for step: bit for bit for SGD and most Adam runs against
// torch with ATEN_CPU_CAPABILITY=default (no fused multiply-add). The rare
// last-bit differences come from torch's float32 sqrt, which goes through
// MKL's vsSqrt (up to 0.75 ulp off) where Go's is correctly rounded, and from
// the clipping norm, which Go sums in float64.
//
// Arithmetic below keeps every float32 product in an explicit float32(...)
// conversion: Go then rounds it before the addition, as torch does, and never
// fuses the two into one FMA.

// ParamGroup is a set of parameters that share settings (torch's
// param_groups).
type ParamGroup struct {
	Name   string
	Params []*graph.Param
	// NoWeightDecay exempts the group from weight decay and from penalties.
	NoWeightDecay bool
}

// noDecayPatterns are the Hugging Face Trainer's get_decay_parameter_names
// patterns (matched against the lower-cased name), plus GPT-style "ln_*"
// names that the Trainer catches by module type (nn.LayerNorm).
var noDecayPatterns = []*regexp.Regexp{
	regexp.MustCompile(`bias`),
	regexp.MustCompile(`layernorm`),
	regexp.MustCompile(`layer_norm`),
	regexp.MustCompile(`rmsnorm`),
	regexp.MustCompile(`(?:^|\.)norm(?:$|\.)`),
	regexp.MustCompile(`_norm(?:$|\.)`),
	regexp.MustCompile(`(?:^|\.)ln(?:_[a-z0-9]+)?(?:$|\.)`),
}

// NoDecay reports whether a parameter is exempt from weight decay by
// default: biases and normalization weights (LayerNorm, layer_norm, RMSNorm,
// norm, ln_f, ...), as the Hugging Face Trainer decides.
func NoDecay(name string) bool {
	n := strings.ToLower(name)
	for _, re := range noDecayPatterns {
		if re.MatchString(n) {
			return true
		}
	}
	return false
}

// DefaultParamGroups splits parameters as the Hugging Face Trainer does:
// "decay" (weights) and "no_decay" (see NoDecay). Empty groups are left out.
func DefaultParamGroups(params []*graph.Param) []ParamGroup {
	var dec, nodec []*graph.Param
	for _, p := range params {
		if NoDecay(p.Name) {
			nodec = append(nodec, p)
		} else {
			dec = append(dec, p)
		}
	}
	var g []ParamGroup
	if len(dec) > 0 {
		g = append(g, ParamGroup{Name: "decay", Params: dec})
	}
	if len(nodec) > 0 {
		g = append(g, ParamGroup{Name: "no_decay", Params: nodec, NoWeightDecay: true})
	}
	return g
}

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Name is the torch class name ("SGD", "Adam", "AdamW").
	Name() string
	// Step applies one update. A parameter without a gradient in grads is
	// left alone (torch skips a parameter whose .grad is None). grads are
	// not modified.
	Step(grads map[*graph.Param]*tensor.Tensor) error
	// LR is the learning rate of the next step; SetLR changes it (a schedule
	// calls it before every step).
	LR() float64
	SetLR(lr float64)
	// State exports what the optimizer carries between steps; LoadState
	// restores it (into an optimizer built over parameters of the same names
	// and shapes).
	State() *State
	LoadState(*State) error
}

// State is an optimizer's state, for checkpoints: the number of
// steps and named float32 slices "<parameter name>/<slot>" with torch's slot
// names (exp_avg, exp_avg_sq, max_exp_avg_sq, momentum_buffer).
type State struct {
	Optimizer string `json:"optimizer"`
	// Step counts Step calls.
	Step int64 `json:"step"`
	// ParamSteps lists the parameters whose own step count differs from
	// Step (they missed a gradient in some step); usually empty.
	ParamSteps map[string]int64 `json:"param_steps,omitempty"`
	// Slots maps "<parameter name>/<slot>" to the slot's values (row-major,
	// the parameter's shape).
	Slots map[string][]float32 `json:"slots"`
}

// SlotNames returns the state's slot keys in sorted order.
func (s *State) SlotNames() []string {
	k := make([]string, 0, len(s.Slots))
	for n := range s.Slots {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// paramSet is what every optimizer holds: its parameters with their
// settings, in a fixed order.
type paramSet struct {
	params []*graph.Param
	decay  []bool
	index  map[*graph.Param]int
	steps  []int64 // per-parameter step counts (torch's state["step"])
	step   int64
}

func newParamSet(opt string, groups []ParamGroup) (*paramSet, error) {
	s := &paramSet{index: map[*graph.Param]int{}}
	names := map[string]bool{}
	for _, g := range groups {
		for _, p := range g.Params {
			if p == nil || p.Value == nil {
				return nil, fmt.Errorf("%s: group %q holds a parameter without a value", opt, g.Name)
			}
			if p.Value.F32() == nil {
				return nil, fmt.Errorf("%s: parameter %q is %s; optimizers update float32 parameters", opt, p.Name, p.Value.DType())
			}
			if _, dup := s.index[p]; dup {
				return nil, fmt.Errorf("%s: parameter %q is in two groups", opt, p.Name)
			}
			if names[p.Name] {
				return nil, fmt.Errorf("%s: two parameters are named %q; state export needs distinct names", opt, p.Name)
			}
			names[p.Name] = true
			s.index[p] = len(s.params)
			s.params = append(s.params, p)
			s.decay = append(s.decay, !g.NoWeightDecay)
		}
	}
	if len(s.params) == 0 {
		return nil, fmt.Errorf("%s: no parameters to optimize", opt)
	}
	s.steps = make([]int64, len(s.params))
	return s, nil
}

// grad returns the float32 gradient of parameter i, nil if absent.
func (s *paramSet) grad(opt string, i int, grads map[*graph.Param]*tensor.Tensor) ([]float32, error) {
	p := s.params[i]
	g, ok := grads[p]
	if !ok || g == nil {
		return nil, nil
	}
	d := g.F32()
	if d == nil {
		return nil, fmt.Errorf("%s: the gradient of %q is %s, want float32", opt, p.Name, g.DType())
	}
	if len(d) != len(p.Value.F32()) {
		return nil, fmt.Errorf("%s: the gradient of %q has shape %v, the parameter %v", opt, p.Name, g.Shape, p.Value.Shape)
	}
	return d, nil
}

func (s *paramSet) exportSteps(st *State) {
	st.Step = s.step
	for i, p := range s.params {
		if s.steps[i] != s.step {
			if st.ParamSteps == nil {
				st.ParamSteps = map[string]int64{}
			}
			st.ParamSteps[p.Name] = s.steps[i]
		}
	}
}

// importState checks a state against the parameters and returns, per
// parameter, its slots by slot name.
func (s *paramSet) importState(opt string, st *State, slots []string) ([]map[string][]float32, error) {
	if st == nil {
		return nil, fmt.Errorf("%s: no state to load", opt)
	}
	if st.Optimizer != opt {
		return nil, fmt.Errorf("%s: the state was saved by %s", opt, st.Optimizer)
	}
	byName := map[string]int{}
	for i, p := range s.params {
		byName[p.Name] = i
	}
	per := make([]map[string][]float32, len(s.params))
	for key, v := range st.Slots {
		cut := strings.LastIndexByte(key, '/')
		if cut < 0 {
			return nil, fmt.Errorf("%s: state slot %q is not <parameter>/<slot>", opt, key)
		}
		name, slot := key[:cut], key[cut+1:]
		i, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("%s: the state has slot %q for a parameter %q that this optimizer does not hold", opt, key, name)
		}
		known := false
		for _, k := range slots {
			known = known || k == slot
		}
		if !known {
			return nil, fmt.Errorf("%s: unknown state slot %q (want %s)", opt, key, strings.Join(slots, ", "))
		}
		if n := len(s.params[i].Value.F32()); len(v) != n {
			return nil, fmt.Errorf("%s: state slot %q has %d values, the parameter %d", opt, key, len(v), n)
		}
		if per[i] == nil {
			per[i] = map[string][]float32{}
		}
		per[i][slot] = append([]float32(nil), v...)
	}
	for name := range st.ParamSteps {
		if _, ok := byName[name]; !ok {
			return nil, fmt.Errorf("%s: the state has a step count for unknown parameter %q", opt, name)
		}
	}
	s.step = st.Step
	for i, p := range s.params {
		s.steps[i] = st.Step
		if n, ok := st.ParamSteps[p.Name]; ok {
			s.steps[i] = n
		}
	}
	return per, nil
}

// SGDConfig are torch.optim.SGD's settings.
type SGDConfig struct {
	LR          float64
	Momentum    float64
	Dampening   float64
	WeightDecay float64
	Nesterov    bool
}

// DefaultSGDConfig returns torch.optim.SGD's defaults (lr 0.001, the rest 0).
func DefaultSGDConfig() SGDConfig { return SGDConfig{LR: 1e-3} }

// SGD is torch.optim.SGD (_single_tensor_sgd):
//
//	g = g + wd·p                          (weight_decay)
//	buf = g at the first step, else buf·momentum + (1 − dampening)·g
//	g = g + momentum·buf (nesterov) or buf
//	p = p − lr·g
type SGD struct {
	cfg SGDConfig
	ps  *paramSet
	buf [][]float32
}

// NewSGD makes an SGD optimizer; groups with NoWeightDecay get no weight decay.
func NewSGD(groups []ParamGroup, cfg SGDConfig) (*SGD, error) {
	if cfg.LR < 0 || cfg.Momentum < 0 || cfg.WeightDecay < 0 {
		return nil, fmt.Errorf("SGD: lr (%g), momentum (%g) and weight decay (%g) must not be negative", cfg.LR, cfg.Momentum, cfg.WeightDecay)
	}
	if cfg.Nesterov && (cfg.Momentum <= 0 || cfg.Dampening != 0) {
		return nil, fmt.Errorf("SGD: Nesterov momentum requires a momentum and zero dampening")
	}
	ps, err := newParamSet("SGD", groups)
	if err != nil {
		return nil, err
	}
	return &SGD{cfg: cfg, ps: ps, buf: make([][]float32, len(ps.params))}, nil
}

// Name implements Optimizer.
func (*SGD) Name() string { return "SGD" }

// LR implements Optimizer.
func (o *SGD) LR() float64 { return o.cfg.LR }

// SetLR implements Optimizer.
func (o *SGD) SetLR(lr float64) { o.cfg.LR = lr }

// Step implements Optimizer.
func (o *SGD) Step(grads map[*graph.Param]*tensor.Tensor) error {
	c := o.cfg
	lr := float32(-c.LR)
	mom := float32(c.Momentum)
	damp := float32(1 - c.Dampening)
	for i, p := range o.ps.params {
		g, err := o.ps.grad("SGD", i, grads)
		if err != nil {
			return err
		}
		if g == nil {
			continue
		}
		o.ps.steps[i]++
		w := p.Value.F32()
		wd := float32(0)
		if o.ps.decay[i] {
			wd = float32(c.WeightDecay)
		}
		buf := o.buf[i]
		first := buf == nil && c.Momentum != 0
		if first {
			buf = make([]float32, len(w))
			o.buf[i] = buf
		}
		for k := range w {
			gk := g[k]
			if wd != 0 {
				gk = gk + float32(wd*w[k])
			}
			if c.Momentum != 0 {
				if first {
					buf[k] = gk
				} else {
					buf[k] = float32(buf[k]*mom) + float32(damp*gk)
				}
				if c.Nesterov {
					gk = gk + float32(mom*buf[k])
				} else {
					gk = buf[k]
				}
			}
			w[k] = w[k] + float32(lr*gk)
		}
	}
	o.ps.step++
	return nil
}

// State implements Optimizer.
func (o *SGD) State() *State {
	st := &State{Optimizer: "SGD", Slots: map[string][]float32{}}
	o.ps.exportSteps(st)
	for i, p := range o.ps.params {
		if o.buf[i] != nil {
			st.Slots[p.Name+"/momentum_buffer"] = append([]float32(nil), o.buf[i]...)
		}
	}
	return st
}

// LoadState implements Optimizer.
func (o *SGD) LoadState(st *State) error {
	per, err := o.ps.importState("SGD", st, []string{"momentum_buffer"})
	if err != nil {
		return err
	}
	for i := range o.buf {
		o.buf[i] = per[i]["momentum_buffer"]
	}
	return nil
}

// AdamConfig are torch.optim.Adam's and AdamW's settings.
type AdamConfig struct {
	LR           float64
	Beta1, Beta2 float64
	Eps          float64
	WeightDecay  float64
	AMSGrad      bool
}

// DefaultAdamConfig returns torch.optim.Adam's defaults: lr 0.001, betas
// (0.9, 0.999), eps 1e-8, no weight decay.
func DefaultAdamConfig() AdamConfig {
	return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// DefaultAdamWConfig returns torch.optim.AdamW's defaults: Adam's with
// weight decay 0.01.
func DefaultAdamWConfig() AdamConfig {
	c := DefaultAdamConfig()
	c.WeightDecay = 1e-2
	return c
}

// Adam is torch.optim.Adam, or AdamW with decoupled weight decay
// (_single_tensor_adam), per element in float32:
//
//	p = p·(1 − lr·wd)                     (AdamW)   | g = g + wd·p   (Adam)
//	m = m.lerp(g, 1 − β1)
//	v = v·β2 + (1 − β2)·g·g
//	step_size = lr / (1 − β1^t)           (float64)
//	denom = sqrt(v) / sqrt(1 − β2^t) + eps   (max of v so far with amsgrad)
//	p = p + (−step_size·m) / denom
type Adam struct {
	cfg       AdamConfig
	decoupled bool
	ps        *paramSet
	m, v, mx  [][]float32
}

// NewAdam makes torch.optim.Adam (L2 weight decay added to the gradient).
func NewAdam(groups []ParamGroup, cfg AdamConfig) (*Adam, error) {
	return newAdam(groups, cfg, false)
}

// NewAdamW makes torch.optim.AdamW (decoupled weight decay).
func NewAdamW(groups []ParamGroup, cfg AdamConfig) (*Adam, error) {
	return newAdam(groups, cfg, true)
}

func newAdam(groups []ParamGroup, cfg AdamConfig, decoupled bool) (*Adam, error) {
	o := &Adam{cfg: cfg, decoupled: decoupled}
	name := o.Name()
	switch {
	case cfg.LR < 0:
		return nil, fmt.Errorf("%s: invalid learning rate %g", name, cfg.LR)
	case cfg.Eps < 0:
		return nil, fmt.Errorf("%s: invalid epsilon %g", name, cfg.Eps)
	case cfg.Beta1 < 0 || cfg.Beta1 >= 1:
		return nil, fmt.Errorf("%s: invalid beta1 %g (want 0 <= beta1 < 1)", name, cfg.Beta1)
	case cfg.Beta2 < 0 || cfg.Beta2 >= 1:
		return nil, fmt.Errorf("%s: invalid beta2 %g (want 0 <= beta2 < 1)", name, cfg.Beta2)
	case cfg.WeightDecay < 0:
		return nil, fmt.Errorf("%s: invalid weight decay %g", name, cfg.WeightDecay)
	}
	ps, err := newParamSet(name, groups)
	if err != nil {
		return nil, err
	}
	o.ps = ps
	n := len(ps.params)
	o.m, o.v = make([][]float32, n), make([][]float32, n)
	if cfg.AMSGrad {
		o.mx = make([][]float32, n)
	}
	for i, p := range ps.params {
		k := len(p.Value.F32())
		o.m[i], o.v[i] = make([]float32, k), make([]float32, k)
		if cfg.AMSGrad {
			o.mx[i] = make([]float32, k)
		}
	}
	return o, nil
}

// Name implements Optimizer.
func (o *Adam) Name() string {
	if o.decoupled {
		return "AdamW"
	}
	return "Adam"
}

// LR implements Optimizer.
func (o *Adam) LR() float64 { return o.cfg.LR }

// SetLR implements Optimizer.
func (o *Adam) SetLR(lr float64) { o.cfg.LR = lr }

// Step implements Optimizer.
func (o *Adam) Step(grads map[*graph.Param]*tensor.Tensor) error {
	c := o.cfg
	w1 := float32(1 - c.Beta1) // lerp weight
	b2 := float32(c.Beta2)
	c2 := float32(1 - c.Beta2)
	eps := float32(c.Eps)
	for i, p := range o.ps.params {
		g, err := o.ps.grad(o.Name(), i, grads)
		if err != nil {
			return err
		}
		if g == nil {
			continue
		}
		o.ps.steps[i]++
		t := float64(o.ps.steps[i])
		w := p.Value.F32()
		m, v := o.m[i], o.v[i]
		var wd float32
		decay := o.ps.decay[i] && c.WeightDecay != 0
		if decay {
			if o.decoupled {
				wd = float32(1 - c.LR*c.WeightDecay)
			} else {
				wd = float32(c.WeightDecay)
			}
		}
		bc1 := 1 - math.Pow(c.Beta1, t)
		bc2 := 1 - math.Pow(c.Beta2, t)
		stepSize := float32(-(c.LR / bc1))
		bc2sqrt := float32(math.Sqrt(bc2))
		var mx []float32
		if o.mx != nil {
			mx = o.mx[i]
		}
		decoupled := o.decoupled
		// element-wise: the same bits however the range is split
		kernels.ParallelFor(len(w), 1<<14, func(lo, hi int) {
			for k := lo; k < hi; k++ {
				gk := g[k]
				if decay {
					if decoupled {
						w[k] = float32(w[k] * wd)
					} else {
						gk = gk + float32(wd*w[k])
					}
				}
				m[k] = lerp32(m[k], gk, w1)
				v[k] = float32(v[k] * b2)
				v[k] = v[k] + float32(float32(c2*gk)*gk)
				vk := v[k]
				if mx != nil {
					if vk > mx[k] || math.IsNaN(float64(vk)) {
						mx[k] = vk
					}
					vk = mx[k]
				}
				denom := float32(sqrt32(vk)/bc2sqrt) + eps
				w[k] = w[k] + float32(float32(stepSize*m[k])/denom)
			}
		})
	}
	o.ps.step++
	return nil
}

// lerp32 is torch's lerp on float32: s + w·(e − s) for |w| < 0.5, else
// e − (e − s)·(1 − w).
func lerp32(s, e, w float32) float32 {
	if w < 0.5 && w > -0.5 {
		return s + float32(w*(e-s))
	}
	return e - float32((e-s)*(1-w))
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// State implements Optimizer.
func (o *Adam) State() *State {
	st := &State{Optimizer: o.Name(), Slots: map[string][]float32{}}
	o.ps.exportSteps(st)
	for i, p := range o.ps.params {
		st.Slots[p.Name+"/exp_avg"] = append([]float32(nil), o.m[i]...)
		st.Slots[p.Name+"/exp_avg_sq"] = append([]float32(nil), o.v[i]...)
		if o.mx != nil {
			st.Slots[p.Name+"/max_exp_avg_sq"] = append([]float32(nil), o.mx[i]...)
		}
	}
	return st
}

// LoadState implements Optimizer.
func (o *Adam) LoadState(st *State) error {
	slots := []string{"exp_avg", "exp_avg_sq"}
	if o.mx != nil {
		slots = append(slots, "max_exp_avg_sq")
	}
	per, err := o.ps.importState(o.Name(), st, slots)
	if err != nil {
		return err
	}
	for i := range o.ps.params {
		for _, s := range slots {
			dst := map[string][]float32{"exp_avg": o.m[i], "exp_avg_sq": o.v[i]}
			if o.mx != nil {
				dst["max_exp_avg_sq"] = o.mx[i]
			}
			if v, ok := per[i][s]; ok {
				copy(dst[s], v)
			} else {
				clear(dst[s])
			}
		}
	}
	return nil
}

// GradNorm returns the global L2 norm of the gradients (over all of them,
// as one vector), summed in a fixed order (by parameter name) so that the
// result does not depend on map iteration.
func GradNorm(grads map[*graph.Param]*tensor.Tensor) (float64, error) {
	ps := make([]*graph.Param, 0, len(grads))
	for p := range grads {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	sum := 0.0
	for _, p := range ps {
		g := grads[p]
		if g == nil {
			continue
		}
		switch d := g.Data.(type) {
		case []float32:
			for _, v := range d {
				sum += float64(v) * float64(v)
			}
		case []float64:
			for _, v := range d {
				sum += v * v
			}
		default:
			return 0, fmt.Errorf("clip: the gradient of %q is %s", p.Name, g.DType())
		}
	}
	return math.Sqrt(sum), nil
}

// ClipGradNorm scales the gradients in place so that their global L2 norm
// (GradNorm) is at most maxNorm, as torch.nn.utils.clip_grad_norm_:
// coef = min(maxNorm / (total + 1e-6), 1), every gradient multiplied by coef
// (float32). It returns the norm before clipping (what the Trainer logs as
// grad_norm).
func ClipGradNorm(grads map[*graph.Param]*tensor.Tensor, maxNorm float64) (float64, error) {
	norm, err := GradNorm(grads)
	if err != nil {
		return 0, err
	}
	total := float32(norm)
	// torch: max_norm / (total_norm + 1e-6) on a float32 tensor is
	// reciprocal(total + 1e-6) * max_norm.
	coef := float32(1/(total+float32(1e-6))) * float32(maxNorm)
	if coef > 1 {
		coef = 1
	}
	for _, g := range grads {
		if g == nil {
			continue
		}
		switch d := g.Data.(type) {
		case []float32:
			for i := range d {
				d[i] *= coef
			}
		case []float64:
			for i := range d {
				d[i] *= float64(coef)
			}
		}
	}
	return float64(total), nil
}

// Penalty adds L1 and L2 penalties on the parameters to the loss:
// L1·Σ|p| + L2·Σp² (Keras' convention), that is L1·sign(p) + 2·L2·p added to
// each gradient. Apply it before clipping, as if it were part of the loss.
type Penalty struct {
	L1, L2 float64
}

// Apply adds the penalty's gradient to grads for the parameters of groups
// that take weight decay (biases and norm weights are exempt by default) and
// returns the penalty's value. Parameters without a gradient in grads get one.
func (pen Penalty) Apply(groups []ParamGroup, grads map[*graph.Param]*tensor.Tensor) (float64, error) {
	if pen.L1 == 0 && pen.L2 == 0 {
		return 0, nil
	}
	if pen.L1 < 0 || pen.L2 < 0 {
		return 0, fmt.Errorf("penalty: L1 (%g) and L2 (%g) must not be negative", pen.L1, pen.L2)
	}
	value := 0.0
	for _, gr := range groups {
		if gr.NoWeightDecay {
			continue
		}
		for _, p := range gr.Params {
			w := p.Value.F32()
			if w == nil {
				return 0, fmt.Errorf("penalty: parameter %q is %s, want float32", p.Name, p.Value.DType())
			}
			g, ok := grads[p]
			if !ok || g == nil {
				g = tensor.Zeros(tensor.Float32, p.Value.Shape...)
				grads[p] = g
			}
			gd := g.F32()
			if len(gd) != len(w) {
				return 0, fmt.Errorf("penalty: the gradient of %q has shape %v, the parameter %v", p.Name, g.Shape, p.Value.Shape)
			}
			for k, x := range w {
				xd := float64(x)
				value += pen.L1*math.Abs(xd) + pen.L2*xd*xd
				d := 2 * pen.L2 * xd
				if x > 0 {
					d += pen.L1
				} else if x < 0 {
					d -= pen.L1
				}
				gd[k] += float32(d)
			}
		}
	}
	return value, nil
}
