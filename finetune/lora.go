package finetune

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"ft/graph"
	"ft/internal/fileio"
	"ft/onnx"
	"ft/tensor"
)

// LoRAConfig configures low-rank adapters (Hu et al., 2021), named and
// defaulted as in PEFT's LoraConfig (peft 0.21: r 8, lora_alpha 8,
// lora_dropout 0, init_lora_weights True).
type LoRAConfig struct {
	// R is the rank of the adapters (0: 8).
	R int
	// Alpha scales the update by Alpha/R (0: 8).
	Alpha float64
	// Dropout on the adapter input. ft trains without dropout: only 0 is
	// accepted.
	Dropout float64
	// Targets select the linear layers that get adapters. A pattern without
	// glob characters matches as PEFT's target_modules do: the module name
	// (the weight's name without ".weight") equals it or ends with "."+it
	// ("query" matches bert.encoder.layer.0.attention.self.query). A glob
	// (path.Match) matches the module name or the weight name
	// ("*.layer.1.*.value"). Default: PEFT's default for the config's
	// model_type (query and value for BERT-like models).
	Targets []string
	// Seed for the A matrices.
	Seed uint64
}

// LoRA naming: the adapters of a linear layer whose weight is MODULE.weight
// are the initializers MODULE.lora_A.weight (stored [in, r], the transpose
// of PEFT's [r, in], read by MatMul) and MODULE.lora_B.weight ([r, out]; PEFT
// [out, r]); the scale alpha/r is the scalar MODULE.lora_scaling.
const (
	loraA     = ".lora_A.weight"
	loraB     = ".lora_B.weight"
	loraScale = ".lora_scaling"
)

// loraDefaultTargets is PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING
// for the encoder families ft trains (peft 0.21), plus distilbert, which PEFT
// has no default for (its attention projections are q_lin / v_lin).
var loraDefaultTargets = map[string][]string{
	"bert":        {"query", "value"},
	"roberta":     {"query", "value"},
	"xlm-roberta": {"query", "value"},
	"electra":     {"query", "value"},
	"layoutlm":    {"query", "value"},
	"deberta-v2":  {"query_proj", "value_proj"},
	"distilbert":  {"q_lin", "v_lin"},
}

// DefaultLoRATargets returns the default target patterns for a config.json
// model_type (query and value when the type is not known).
func DefaultLoRATargets(modelType string) []string {
	if t, ok := loraDefaultTargets[modelType]; ok {
		return append([]string(nil), t...)
	}
	return []string{"query", "value"}
}

func (c LoRAConfig) withDefaults(m *Model) (LoRAConfig, error) {
	if c.R == 0 {
		c.R = 8
	}
	if c.Alpha == 0 {
		c.Alpha = 8
	}
	if c.R < 0 {
		return c, fmt.Errorf("LoRA rank %d: give a positive LoRAConfig.R", c.R)
	}
	if c.Dropout != 0 {
		return c, fmt.Errorf("LoRAConfig.Dropout %g: ft trains without dropout (the graph has no training mode), so LoRA dropout is not supported; use 0", c.Dropout)
	}
	if len(c.Targets) == 0 {
		mt, _ := m.Config["model_type"].(string)
		c.Targets = DefaultLoRATargets(mt)
	}
	return c, nil
}

// moduleOf is a weight's module name: "x.query.weight" → "x.query".
func moduleOf(weight string) string { return strings.TrimSuffix(weight, ".weight") }

// loraMatch reports whether a target pattern selects a linear layer.
func loraMatch(pat, module string) (bool, error) {
	if !isGlob(pat) {
		return module == pat || strings.HasSuffix(module, "."+pat), nil
	}
	return globMatch("LoRAConfig.Targets pattern", pat, module, module+".weight")
}

// IsHeadParam reports whether a parameter belongs to the classification head
// as PEFT sees it for task_type SEQ_CLS (modules_to_save "classifier" and
// "score": a module path component of that name).
func IsHeadParam(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if part == "classifier" || part == "score" {
			return true
		}
	}
	return false
}

// linearUse is a targeted linear layer: the node that multiplies by the
// weight and how the weight is stored.
type linearUse struct {
	node   *onnx.NodeProto
	weight *graph.Param
	in     int  // input features
	out    int  // output features
	transB bool // Gemm with transB=1: the weight is stored [out, in]
}

// ApplyLoRA adds low-rank adapters beside the targeted linear layers of m's
// graph and returns them (A and B of every layer, in graph order) as
// parameters to train; the caller freezes the rest except the head (see
// LoRATrainable). Each targeted y = x·W (+ b), a MatMul with W stored
// [in, out] or a Gemm, becomes
//
//	y = x·W + scale·((x·Aᵀ)·Bᵀ) (+ b),   scale = alpha/r
//
// as ONNX nodes (MatMul, MatMul, Mul, Add) beside the frozen weight, so
// W + scale·BA is never formed during training and backward reaches W only
// if W itself is trained. A (PEFT [r, in]) is initialised as PEFT does,
// kaiming_uniform(a=√5) = U(−1/√in, 1/√in), from an RNG seeded by
// cfg.Seed; B is zero, so the model computes what it did before. The same
// model, config and seed give the same graph and the same values.
func ApplyLoRA(m *Model, cfg LoRAConfig) ([]*graph.Param, error) {
	cfg, err := cfg.withDefaults(m)
	if err != nil {
		return nil, err
	}
	g := m.Graph
	om := g.Model
	gp := om.Proto.Graph
	for _, in := range gp.Initializer {
		if strings.HasSuffix(in.GetName(), loraA) {
			return nil, fmt.Errorf("the model already has LoRA adapters (%s); merge them first", in.GetName())
		}
	}
	byInit := map[string]*graph.Param{}
	for _, p := range g.Params {
		byInit[p.Initializer] = p
	}
	targets, err := loraTargets(gp, byInit, cfg)
	if err != nil {
		return nil, err
	}
	scale := float32(cfg.Alpha / float64(cfg.R))
	if err := insertAdapters(om, targets, cfg, scale); err != nil {
		return nil, err
	}
	ng, err := graph.Import(om, g.Options())
	if err != nil {
		return nil, fmt.Errorf("re-importing the graph with LoRA adapters: %w", err)
	}
	// the parameters keep their current values (a model may be adapted
	// after some training)
	if err := copyParamValues(g, ng, nil); err != nil {
		return nil, err
	}
	m.Graph = ng
	var adapters []*graph.Param
	for _, p := range ng.Params {
		if strings.HasSuffix(p.Initializer, loraA) || strings.HasSuffix(p.Initializer, loraB) {
			adapters = append(adapters, p)
		}
	}
	if len(adapters) != 2*len(targets) {
		return nil, fmt.Errorf("LoRA: %d adapter parameters in the re-imported graph, want %d", len(adapters), 2*len(targets))
	}
	names := make([]string, len(targets))
	for i, u := range targets {
		names[i] = moduleOf(u.weight.Name)
	}
	m.Notes = append(m.Notes, fmt.Sprintf("LoRA r=%d alpha=%g (scale %g) on %d linear layers (%s); their weights are frozen", cfg.R, cfg.Alpha, scale, len(targets), abbreviate(names, 4)))
	return adapters, nil
}

// loraTargets finds the linear layers (MatMul or Gemm nodes with a rank-2
// weight) that cfg.Targets select.
func loraTargets(gp *onnx.GraphProto, byInit map[string]*graph.Param, cfg LoRAConfig) ([]linearUse, error) {
	uses := map[string]int{}
	for _, nd := range gp.Node {
		for _, in := range nd.Input {
			uses[in]++
		}
	}
	var targets []linearUse
	hit := make([]bool, len(cfg.Targets))
	for _, nd := range gp.Node {
		if (nd.GetOpType() != "MatMul" && nd.GetOpType() != "Gemm") || len(nd.Input) < 2 || len(nd.Output) != 1 {
			continue
		}
		p := byInit[nd.Input[1]]
		if p == nil || p.Value.Rank() != 2 || !strings.HasSuffix(p.Name, ".weight") {
			continue
		}
		module := moduleOf(p.Name)
		match := false
		for i, pat := range cfg.Targets {
			ok, err := loraMatch(pat, module)
			if err != nil {
				return nil, err
			}
			if ok {
				hit[i], match = true, true
			}
		}
		if !match {
			continue
		}
		if IsHeadParam(p.Name) {
			return nil, fmt.Errorf("LoRAConfig.Targets selects %s, a layer of the classification head, which trains in full: narrow the pattern", module)
		}
		if uses[nd.Input[1]] != 1 {
			return nil, fmt.Errorf("LoRA target %s: its weight %q is shared by %d nodes; adapters on shared weights are not supported (choose other LoRAConfig.Targets)", module, nd.Input[1], uses[nd.Input[1]])
		}
		u, err := newLinearUse(nd, p, module)
		if err != nil {
			return nil, err
		}
		targets = append(targets, u)
	}
	for i, pat := range cfg.Targets {
		if !hit[i] {
			return nil, fmt.Errorf("LoRAConfig.Targets pattern %q matches no linear layer; the linear layers are: %s", pat, strings.Join(linearModules(gp, byInit), ", "))
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no linear layer to put LoRA adapters on")
	}
	return targets, nil
}

// newLinearUse describes the linear layer nd computes with weight p.
func newLinearUse(nd *onnx.NodeProto, p *graph.Param, module string) (linearUse, error) {
	u := linearUse{node: nd, weight: p, in: p.Value.Shape[0], out: p.Value.Shape[1]}
	if nd.GetOpType() == "Gemm" {
		for _, a := range nd.Attribute {
			switch a.GetName() {
			case "transA":
				if a.GetI() != 0 {
					return u, fmt.Errorf("LoRA target %s: node %q is a Gemm with transA=1, not supported", module, nd.GetName())
				}
			case "transB":
				u.transB = a.GetI() != 0
			case "alpha":
				if a.GetF() != 1 {
					return u, fmt.Errorf("LoRA target %s: node %q is a Gemm with alpha=%g, not supported (only alpha 1)", module, nd.GetName(), a.GetF())
				}
			}
		}
		if u.transB {
			u.in, u.out = u.out, u.in
		}
	}
	return u, nil
}

// insertAdapters adds to the graph, after each target, the adapter
// x·A·B·scale (A drawn as PEFT does, B zero) added to its output.
func insertAdapters(om *onnx.Model, targets []linearUse, cfg LoRAConfig, scale float32) error {
	gp := om.Proto.Graph
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f7261)) // "lora"
	var nodes []*onnx.NodeProto
	targetOf := map[*onnx.NodeProto]*linearUse{}
	for i := range targets {
		targetOf[targets[i].node] = &targets[i]
	}
	for _, nd := range gp.Node {
		u := targetOf[nd]
		nodes = append(nodes, nd)
		if u == nil {
			continue
		}
		module := moduleOf(u.weight.Name)
		bound := 1 / math.Sqrt(float64(u.in))
		// PEFT's A is [r, in], drawn row by row; stored transposed [in, r]
		at := make([]float32, u.in*cfg.R)
		for k := 0; k < cfg.R; k++ {
			for j := 0; j < u.in; j++ {
				at[j*cfg.R+k] = float32((2*r.Float64() - 1) * bound)
			}
		}
		if err := om.SetInitializer(module+loraA, tensor.New([]int{u.in, cfg.R}, at)); err != nil {
			return err
		}
		if err := om.SetInitializer(module+loraB, tensor.Zeros(tensor.Float32, cfg.R, u.out)); err != nil {
			return err
		}
		if err := om.SetInitializer(module+loraScale, tensor.Scalar(scale)); err != nil {
			return err
		}
		scope := loraScope(nd, module)
		x, y := nd.Input[0], nd.Output[0]
		base := scope + "/base_output"
		nd.Output[0] = base
		nodes = append(nodes,
			onnx.NewNode("MatMul", scope+"/lora_A/MatMul", []string{x, module + loraA}, []string{scope + "/lora_A/MatMul_output_0"}),
			onnx.NewNode("MatMul", scope+"/lora_B/MatMul", []string{scope + "/lora_A/MatMul_output_0", module + loraB}, []string{scope + "/lora_B/MatMul_output_0"}),
			onnx.NewNode("Mul", scope+"/lora_scaling/Mul", []string{scope + "/lora_B/MatMul_output_0", module + loraScale}, []string{scope + "/lora_scaling/Mul_output_0"}),
			onnx.NewNode("Add", scope+"/lora/Add", []string{base, scope + "/lora_scaling/Mul_output_0"}, []string{y}),
		)
	}
	gp.Node = nodes
	return nil
}

// copyParamValues copies the current values of from's parameters into the
// parameters of the same initializer in to (re-importing reads the
// initializers, which may be older than the values), except skip.
func copyParamValues(from, to *graph.Graph, skip map[string]bool) error {
	cur := map[string]*graph.Param{}
	for _, p := range from.Params {
		cur[p.Initializer] = p
	}
	for _, p := range to.Params {
		q := cur[p.Initializer]
		if q == nil || skip[p.Initializer] {
			continue
		}
		if !tensor.SameShape(p.Value.Shape, q.Value.Shape) || p.Value.DType() != q.Value.DType() {
			return fmt.Errorf("parameter %s: %v %v after re-import, %v %v before", p.Name, p.Value.DType(), p.Value.Shape, q.Value.DType(), q.Value.Shape)
		}
		switch d := p.Value.Data.(type) {
		case []float32:
			copy(d, q.Value.F32())
		case []float64:
			copy(d, q.Value.F64())
		}
	}
	return nil
}

// loraScope names the adapter nodes after the base node's scope, so that
// they read as part of the layer (/bert/encoder/layer.0/attention/self/query).
func loraScope(nd *onnx.NodeProto, module string) string {
	n := nd.GetName()
	if i := strings.LastIndex(n, "/"); strings.HasPrefix(n, "/") && i > 0 {
		return n[:i]
	}
	return "/" + strings.ReplaceAll(module, ".", "/")
}

func linearModules(gp *onnx.GraphProto, byInit map[string]*graph.Param) []string {
	var r []string
	for _, nd := range gp.Node {
		if (nd.GetOpType() == "MatMul" || nd.GetOpType() == "Gemm") && len(nd.Input) > 1 {
			if p := byInit[nd.Input[1]]; p != nil && p.Value.Rank() == 2 {
				r = append(r, moduleOf(p.Name))
			}
		}
	}
	return r
}

func abbreviate(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(", ... %d more", len(s)-n)
}

// LoRATrainable returns what trains with LoRA, in graph order: the adapters,
// the classification head (IsHeadParam), and the parameters the user also
// unfreezes with also.Train patterns (none when also is empty).
func LoRATrainable(m *Model, adapters []*graph.Param, also Selection) ([]*graph.Param, error) {
	on := map[*graph.Param]bool{}
	for _, p := range adapters {
		on[p] = true
	}
	for _, p := range m.Graph.Params {
		if IsHeadParam(p.Name) {
			on[p] = true
		}
	}
	if len(also.Train) > 0 {
		extra, err := also.Select(m.Graph.Params)
		if err != nil {
			return nil, err
		}
		for _, p := range extra {
			on[p] = true
		}
	}
	if len(also.Freeze) > 0 {
		for _, p := range m.Graph.Params {
			if ok, err := matchAny(p.Name, also.Freeze); err != nil {
				return nil, err
			} else if ok {
				delete(on, p)
			}
		}
	}
	var r []*graph.Param
	for _, p := range m.Graph.Params {
		if on[p] {
			r = append(r, p)
		}
	}
	return r, nil
}

// loraLayer is one adapted linear layer found in a graph.
type loraLayer struct {
	module          string
	a, b            *tensor.Tensor // [in, r], [r, out]
	scale           float32
	base            *onnx.NodeProto // the MatMul / Gemm of the frozen weight
	weight          string          // its initializer
	transB          bool
	nodes           map[*onnx.NodeProto]bool // the 4 adapter nodes
	output, baseOut string
}

// findLoRA finds the adapters ApplyLoRA added, with their current values.
func findLoRA(g *graph.Graph) ([]*loraLayer, error) {
	gp := g.Model.Proto.Graph
	val := func(name string) (*tensor.Tensor, error) {
		id, ok := g.ValueID(name)
		if !ok || g.Values[id].Const == nil {
			return nil, fmt.Errorf("LoRA: initializer %q is missing", name)
		}
		return g.Values[id].Const, nil
	}
	cons := map[string][]*onnx.NodeProto{}
	prod := map[string]*onnx.NodeProto{}
	for _, nd := range gp.Node {
		for _, in := range nd.Input {
			cons[in] = append(cons[in], nd)
		}
		for _, o := range nd.Output {
			prod[o] = nd
		}
	}
	one := func(v, op string) (*onnx.NodeProto, error) {
		c := cons[v]
		if len(c) != 1 || c[0].GetOpType() != op {
			return nil, fmt.Errorf("LoRA: %q should feed exactly one %s node", v, op)
		}
		return c[0], nil
	}
	var layers []*loraLayer
	for _, in := range gp.Initializer {
		name := in.GetName()
		if !strings.HasSuffix(name, loraA) {
			continue
		}
		module := strings.TrimSuffix(name, loraA)
		l := &loraLayer{module: module, nodes: map[*onnx.NodeProto]bool{}}
		var err error
		if l.a, err = val(name); err != nil {
			return nil, err
		}
		if l.b, err = val(module + loraB); err != nil {
			return nil, err
		}
		s, err := val(module + loraScale)
		if err != nil {
			return nil, err
		}
		l.scale = s.F32()[0]
		ma, err := one(name, "MatMul")
		if err != nil {
			return nil, err
		}
		mb, err := one(ma.Output[0], "MatMul")
		if err != nil {
			return nil, err
		}
		mul, err := one(mb.Output[0], "Mul")
		if err != nil {
			return nil, err
		}
		add, err := one(mul.Output[0], "Add")
		if err != nil {
			return nil, err
		}
		for _, nd := range []*onnx.NodeProto{ma, mb, mul, add} {
			l.nodes[nd] = true
		}
		l.output = add.Output[0]
		l.baseOut = add.Input[0]
		l.base = prod[l.baseOut]
		if l.base == nil || len(l.base.Input) < 2 {
			return nil, fmt.Errorf("LoRA %s: no base linear node computes %q", module, l.baseOut)
		}
		l.weight = l.base.Input[1]
		for _, a := range l.base.Attribute {
			if l.base.GetOpType() == "Gemm" && a.GetName() == "transB" {
				l.transB = a.GetI() != 0
			}
		}
		layers = append(layers, l)
	}
	return layers, nil
}

// delta returns scale·Aᵀ·Bᵀ in the graph's orientation of W ([in, out], or
// [out, in] for a Gemm with transB).
func (l *loraLayer) delta() []float32 {
	in, r, out := l.a.Shape[0], l.a.Shape[1], l.b.Shape[1]
	a, b := l.a.F32(), l.b.F32()
	d := make([]float32, in*out)
	for i := 0; i < in; i++ {
		for j := 0; j < out; j++ {
			var s float64
			for k := 0; k < r; k++ {
				s += float64(a[i*r+k]) * float64(b[k*out+j])
			}
			if l.transB {
				d[j*in+i] = float32(float64(l.scale) * s)
			} else {
				d[i*out+j] = float32(float64(l.scale) * s)
			}
		}
	}
	return d
}

// HasLoRA reports whether m's graph has LoRA adapters.
func HasLoRA(m *Model) bool {
	for _, in := range m.Graph.Model.Proto.Graph.Initializer {
		if strings.HasSuffix(in.GetName(), loraA) {
			return true
		}
	}
	return false
}

// MergeLoRA returns a copy of m whose graph has the adapters folded into the
// weights, W ← W + scale·BA (in W's stored orientation), and the adapter
// nodes and initializers removed: the same nodes and initializers as the
// base export, ready to Save as a plain ONNX model. The parameters take
// their current (trained) values. m itself is left as it was. A model
// without adapters is returned as it is.
func MergeLoRA(m *Model) (*Model, error) {
	layers, err := findLoRA(m.Graph)
	if err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return m, nil
	}
	om := m.Graph.Model
	gp := om.Proto.Graph
	// clone everything but the initializers (shared, and replaced where they change)
	inits := gp.Initializer
	gp.Initializer = nil
	cp := proto.Clone(om.Proto).(*onnx.ModelProto)
	gp.Initializer = inits
	nm := &onnx.Model{Proto: cp, Dir: om.Dir}
	drop := map[string]bool{}
	newVal := map[string]*tensor.Tensor{} // the merged weights
	skip := map[string]bool{}             // node names to drop
	rename := map[string]string{}
	for _, l := range layers {
		drop[l.module+loraA], drop[l.module+loraB], drop[l.module+loraScale] = true, true, true
		for nd := range l.nodes {
			skip[nd.GetName()] = true
		}
		rename[l.base.GetName()+"\x00"+l.baseOut] = l.output
		id, ok := m.Graph.ValueID(l.weight)
		if !ok || m.Graph.Values[id].Const == nil {
			return nil, fmt.Errorf("LoRA %s: base weight %q is not an initializer", l.module, l.weight)
		}
		w := m.Graph.Values[id].Const
		if w.Len() != l.a.Shape[0]*l.b.Shape[1] || w.DType() != tensor.Float32 {
			return nil, fmt.Errorf("LoRA %s: base weight %q is %v, adapters give [%d, %d]", l.module, l.weight, w.Shape, l.a.Shape[0], l.b.Shape[1])
		}
		d := l.delta()
		merged := make([]float32, len(d))
		for i, v := range w.F32() {
			merged[i] = v + d[i]
		}
		newVal[l.weight] = tensor.New(append([]int(nil), w.Shape...), merged)
	}
	var nodes []*onnx.NodeProto
	for _, nd := range cp.Graph.Node {
		if skip[nd.GetName()] {
			continue
		}
		if len(nd.Output) == 1 {
			if o, ok := rename[nd.GetName()+"\x00"+nd.Output[0]]; ok {
				nd.Output[0] = o
			}
		}
		nodes = append(nodes, nd)
	}
	cp.Graph.Node = nodes
	for _, in := range inits {
		name := in.GetName()
		if drop[name] {
			continue
		}
		if v, ok := newVal[name]; ok {
			t, err := onnx.FromTensor(name, v)
			if err != nil {
				return nil, err
			}
			cp.Graph.Initializer = append(cp.Graph.Initializer, t)
			continue
		}
		cp.Graph.Initializer = append(cp.Graph.Initializer, in)
	}
	ng, err := graph.Import(nm, m.Graph.Options())
	if err != nil {
		return nil, fmt.Errorf("re-importing the merged graph: %w", err)
	}
	merged := map[string]bool{}
	for k := range newVal {
		merged[k] = true
	}
	if err := copyParamValues(m.Graph, ng, merged); err != nil {
		return nil, err
	}
	out := *m
	out.Graph = ng
	out.Notes = append(append([]string(nil), m.Notes...), fmt.Sprintf("LoRA adapters of %d layers merged into their weights", len(layers)))
	return &out, nil
}

// PEFTFiles are the names SavePEFT writes.
const (
	PEFTWeightsFile = "adapter_model.safetensors"
	PEFTConfigFile  = "adapter_config.json"
	PEFTHeadFile    = "ft_head.safetensors"
)

// SavePEFT writes m's adapters as a PEFT LoRA adapter folder that
// peft.PeftModel.from_pretrained loads onto the base transformers model:
// adapter_model.safetensors (keys base_model.model.MODULE.lora_A.weight
// [r, in] and .lora_B.weight [out, r], and the classification head as PEFT
// saves modules_to_save: base_model.model.classifier.weight ...) and
// adapter_config.json (r, lora_alpha, target_modules, task_type SEQ_CLS for a
// text-classification export, FEATURE_EXTRACTION otherwise). r and alpha
// are read from the graph. The head ft added to a feature-extraction export
// (pooling + linear, which no transformers class has) goes to
// PEFTHeadFile instead: classifier.weight [labels, hidden] and
// classifier.bias, torch orientation. Files are written atomically.
func SavePEFT(m *Model, dir string) error {
	if err := m.CheckFinite(); err != nil {
		return err
	}
	layers, err := findLoRA(m.Graph)
	if err != nil {
		return err
	}
	if len(layers) == 0 {
		return fmt.Errorf("the model has no LoRA adapters to write in PEFT format (apply LoRAConfig.R > 0 adapters with ApplyLoRA)")
	}
	r := layers[0].a.Shape[1]
	scale := layers[0].scale
	st := map[string]*tensor.Tensor{}
	var modules []string
	for _, l := range layers {
		if l.a.Shape[1] != r || l.scale != scale {
			return fmt.Errorf("LoRA %s: rank %d scale %g differ from %s's (%d, %g); PEFT's config has one rank", l.module, l.a.Shape[1], l.scale, layers[0].module, r, scale)
		}
		st["base_model.model."+l.module+".lora_A.weight"] = tensor.Transpose2D(l.a)
		st["base_model.model."+l.module+".lora_B.weight"] = tensor.Transpose2D(l.b)
		modules = append(modules, l.module)
	}
	task := "FEATURE_EXTRACTION"
	var toSave []string
	switch m.Task {
	case "text-classification":
		task = "SEQ_CLS"
		toSave = []string{"classifier", "score"} // what PEFT writes for SEQ_CLS
	case TaskTokenClassification:
		task = "TOKEN_CLS"
		toSave = []string{"classifier", "score"} // what PEFT writes for TOKEN_CLS
	}
	head := map[string]*tensor.Tensor{}
	for _, p := range m.Graph.Params {
		if !IsHeadParam(p.Name) {
			continue
		}
		v := p.Value
		if p.Transposed {
			v = tensor.Transpose2D(v)
		}
		if toSave != nil {
			st["base_model.model."+p.Name] = v
		} else {
			head[p.Name] = v
		}
	}
	alpha := float64(scale) * float64(r)
	if math.Abs(alpha-math.Round(alpha)) < 1e-4 {
		alpha = math.Round(alpha)
	}
	base, _ := m.Config["_name_or_path"].(string)
	cfg := map[string]any{
		"peft_type":               "LORA",
		"task_type":               task,
		"r":                       r,
		"lora_alpha":              alpha,
		"lora_dropout":            0.0,
		"target_modules":          modules,
		"modules_to_save":         toSave,
		"bias":                    "none",
		"fan_in_fan_out":          false,
		"init_lora_weights":       true,
		"inference_mode":          true,
		"use_rslora":              false,
		"use_dora":                false,
		"base_model_name_or_path": base,
		"revision":                nil,
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := EncodeSafetensors(st, map[string]string{"format": "pt"})
	if err != nil {
		return err
	}
	if err := fileio.WriteFile(filepath.Join(dir, PEFTWeightsFile), b); err != nil {
		return err
	}
	if len(head) > 0 {
		hb, err := EncodeSafetensors(head, map[string]string{"format": "pt"})
		if err != nil {
			return err
		}
		if err := fileio.WriteFile(filepath.Join(dir, PEFTHeadFile), hb); err != nil {
			return err
		}
	}
	cb, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return fileio.WriteFile(filepath.Join(dir, PEFTConfigFile), append(cb, '\n'))
}

// EncodeSafetensors serialises float32 tensors in the safetensors format: an
// 8-byte little-endian header length, a JSON header (dtype, shape,
// data_offsets per tensor, in sorted name order, and __metadata__), then the
// data.
func EncodeSafetensors(ts map[string]*tensor.Tensor, meta map[string]string) ([]byte, error) {
	names := make([]string, 0, len(ts))
	for k := range ts {
		names = append(names, k)
	}
	sort.Strings(names)
	type entry struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	header := map[string]any{}
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	off := 0
	for _, n := range names {
		t := ts[n]
		if t.DType() != tensor.Float32 {
			return nil, fmt.Errorf("safetensors: %s is %v; only float32 is written", n, t.DType())
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[n] = entry{DType: "F32", Shape: shape, Offsets: [2]int{off, off + 4*t.Len()}}
		off += 4 * t.Len()
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	buf := make([]byte, 8, 8+len(h)+off)
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	buf = append(buf, h...)
	for _, n := range names {
		for _, v := range ts[n].F32() {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	return buf, nil
}
