// Package graph turns an ONNX model into an executable graph: a topological
// plan of ops, constants folded, parameters named, run forward on dynamic
// batch and sequence sizes, and differentiated in reverse mode over the nodes
// that lie between trainable parameters and the loss.
package graph

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"ft/kernels"
	"ft/onnx"
	"ft/ops"
	"ft/tensor"
)

// Value is one named value of the graph (an input, an initializer, or a
// node output).
type Value struct {
	ID    int
	Name  string
	Const *tensor.Tensor // initializers and folded constants; nil otherwise
	Param *Param         // set when the value is a parameter
	// Producer is the index in Nodes of the node computing the value, or -1.
	Producer int
	// Info holds the declared type and shape, when the model gives one.
	Info *onnx.ValueInfoProto
}

// Node is one planned node.
type Node struct {
	Name   string
	OpType string
	Domain string
	Op     ops.Op
	In     []int // value IDs; -1 for an absent optional input
	Out    []int // value IDs; -1 for an unused optional output
	Proto  *onnx.NodeProto
	// extraIn names values a control-flow node reads from this scope
	// (its subgraphs' outer references), appended to In after the declared inputs.
	extraIn []string
	// index is the node's position in the model file.
	index int
}

// Param is a float initializer that can be trained.
type Param struct {
	// Name is the readable (Hugging Face state_dict style) name.
	Name string
	// Initializer is the name of the ONNX initializer holding it.
	Initializer string
	// Transposed is true when the ONNX tensor is stored [in, out] while the
	// PyTorch parameter is [out, in] (a Linear weight consumed by MatMul).
	Transposed bool
	// Value is the current value (shared with the graph: updating it in place
	// changes what the graph computes).
	Value *tensor.Tensor
	// ValueID is the graph value that holds it.
	ValueID int
}

// Graph is an imported, executable model.
type Graph struct {
	// layersOnce computes layerSeg/layerN (Layers) once, for every
	// checkpointed training forward: the nodes do not change after import.
	layersOnce sync.Once
	layerSeg   []int
	layerN     int

	Model   *onnx.Model
	Values  []*Value
	Nodes   []*Node // in topological order, folded nodes removed
	Inputs  []int   // runtime inputs (graph inputs that are not initializers)
	Outputs []int
	Params  []*Param
	byName  map[string]int
	// Folded counts the nodes evaluated at import time.
	Folded int
	// Unsupported is set when Options.AllowUnsupported let a model with
	// unsupported ops in.
	Unsupported *Unsupported
	// opt: the options it was imported with
	opt Options
}

// Unsupported lists ops the model needs that ft does not implement.
type Unsupported struct {
	Ops []UnsupportedOp
}

// UnsupportedOp is one (domain, op type, opset) with a node where it occurs.
type UnsupportedOp struct {
	Domain, OpType string
	Opset          int
	Node           string
	Count          int
}

func (u *Unsupported) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the model uses %d operator(s) that ft does not support:", len(u.Ops))
	for _, o := range u.Ops {
		fmt.Fprintf(&b, "\n  %s: %d node(s), e.g. %q", ops.OpID(o.Domain, o.OpType, o.Opset), o.Count, o.Node)
	}
	return b.String()
}

// Options control import and how the imported graph runs. The zero
// Options are the defaults; OptionsFromEnv reads the ones ft's command line
// takes from the environment.
type Options struct {
	// NoFold keeps every node (constant folding off), for debugging.
	NoFold bool
	// AllowUnsupported imports a model with unsupported ops for inspection:
	// they are listed in Graph.Unsupported and Run refuses to run.
	AllowUnsupported bool
	// DisableFusion keeps every node as exported (fuse.go: no fused GELU,
	// masked softmax or attention products), for comparisons.
	DisableFusion bool
	// Pool decides which float32 buffers of dead values runs hand back
	// for reuse (recycle.go, trainpool.go); nil is the zero kernels.Pool.
	// With Pool.Off nothing is handed back.
	Pool *kernels.Pool
	// PoolBackward hands buffers back during Backward too (trainpool.go).
	PoolBackward bool
	// BF16 runs the matrix products (MatMul, Gemm, the fused attention
	// products) of float32 models in bfloat16 with float32 accumulation,
	// forward and backward, as PyTorch's CPU autocast does; everything else
	// stays float32 (ops/bf16.go). Weights stay float32 and are converted
	// once per run (Run, or Forward and its Backward). SetBF16 changes it
	// on an imported graph.
	BF16 bool
	// GradientCheckpointing keeps of each encoder layer only its inputs in
	// a training trace (Forward) and recomputes the layer during Backward:
	// less memory, one more forward of the layers (checkpoint.go).
	// SetGradientCheckpointing changes it on an imported graph.
	GradientCheckpointing bool
}

// OptionsFromEnv returns the zero Options changed by the environment:
// FT_NOFUSE=1 sets DisableFusion, FT_NOPOOL=1 turns the pool off,
// FT_POOL_BACKWARD=1 sets PoolBackward (any non-empty value counts). It is
// the only place the package reads the environment; ft's command line
// calls it, library users choose.
func OptionsFromEnv() Options {
	var o Options
	o.DisableFusion = os.Getenv("FT_NOFUSE") != ""
	if os.Getenv("FT_NOPOOL") != "" {
		o.Pool = &kernels.Pool{Off: true}
	}
	o.PoolBackward = os.Getenv("FT_POOL_BACKWARD") != ""
	return o
}

// SetBF16 turns bf16 mixed precision (Options.BF16) on or off for the
// runs that start after it returns.
func (g *Graph) SetBF16(on bool) { g.opt.BF16 = on }

// SetGradientCheckpointing turns gradient checkpointing
// (Options.GradientCheckpointing) on or off for the traces that start after
// it returns.
func (g *Graph) SetGradientCheckpointing(on bool) { g.opt.GradientCheckpointing = on }

// Options returns the options g was imported with (to import a rewritten
// model the same way).
func (g *Graph) Options() Options { return g.opt }

// Load reads a model file or export folder and imports it with the
// default Options.
func Load(path string) (*Graph, error) { return LoadWith(path, Options{}) }

// LoadWith reads a model file or export folder and imports it.
func LoadWith(path string, opt Options) (*Graph, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	return Import(m, opt)
}

// Import builds the executable graph of a model. Before anything runs, every
// unsupported op is reported at once (*Unsupported).
func Import(m *onnx.Model, opt Options) (*Graph, error) {
	return importGraph(m, m.Proto.Graph, opt, nil)
}

// importGraph imports the main graph (outer == nil) or a subgraph of a
// control-flow node, whose undefined names are read from the enclosing scope
// (outer reports which names it defines); those become the subgraph's inputs.
func importGraph(m *onnx.Model, gp *onnx.GraphProto, opt Options, outer func(string) bool) (*Graph, error) {
	g := &Graph{Model: m, byName: map[string]int{}, opt: opt}
	if err := g.addInitializers(m, gp); err != nil {
		return nil, err
	}
	inputSeen, err := g.addInputs(gp)
	if err != nil {
		return nil, err
	}
	nodes, unsup, err := g.buildNodes(m, gp, opt, outer)
	if err != nil {
		return nil, err
	}
	if u := unsup.report(); u != nil {
		if !opt.AllowUnsupported {
			return nil, u
		}
		g.Unsupported = u
		opt.NoFold = true
	}
	if err := g.wire(nodes, inputSeen, outer); err != nil {
		return nil, err
	}
	if err := g.addOutputs(gp); err != nil {
		return nil, err
	}
	if g.Nodes, err = topoSort(g, nodes); err != nil {
		return nil, err
	}
	g.setProducers()
	if outer == nil {
		g.nameParams()
	}
	if !opt.NoFold {
		if err := g.fold(); err != nil {
			return nil, err
		}
		if outer == nil && !opt.DisableFusion {
			g.fuse() // fuse.go
		}
	}
	return g, nil
}

// value returns the ID of the named value, adding it if new.
func (g *Graph) value(name string) int {
	if id, ok := g.byName[name]; ok {
		return id
	}
	v := &Value{ID: len(g.Values), Name: name, Producer: -1}
	g.Values = append(g.Values, v)
	g.byName[name] = v.ID
	return v.ID
}

// addInitializers adds the graph's initializers as constant values.
func (g *Graph) addInitializers(m *onnx.Model, gp *onnx.GraphProto) error {
	for _, init := range gp.Initializer {
		if init.GetName() == "" {
			return fmt.Errorf("an initializer has no name")
		}
		if _, dup := g.byName[init.GetName()]; dup {
			return fmt.Errorf("initializer %q appears twice; names in a graph must be unique", init.GetName())
		}
		t, err := m.Tensor(init)
		if err != nil {
			return err
		}
		g.Values[g.value(init.GetName())].Const = t
	}
	if len(gp.SparseInitializer) > 0 {
		return fmt.Errorf("sparse initializers are not supported (%d in the model)", len(gp.SparseInitializer))
	}
	return nil
}

// addInputs adds the graph inputs (runtime inputs unless an initializer
// gives them) and the declared types of values; it returns the input
// names.
func (g *Graph) addInputs(gp *onnx.GraphProto) (map[string]bool, error) {
	inputSeen := map[string]bool{}
	for _, in := range gp.Input {
		if inputSeen[in.GetName()] {
			return nil, fmt.Errorf("graph input %q appears twice; names in a graph must be unique", in.GetName())
		}
		inputSeen[in.GetName()] = true
		id := g.value(in.GetName())
		g.Values[id].Info = in
		if g.Values[id].Const == nil {
			g.Inputs = append(g.Inputs, id)
		}
	}
	for _, vi := range gp.ValueInfo {
		if id, ok := g.byName[vi.GetName()]; ok {
			g.Values[id].Info = vi
		}
	}
	return inputSeen, nil
}

// unsupportedSet collects the unsupported ops of a graph by (domain, type).
type unsupportedSet map[string]*UnsupportedOp

func (s unsupportedSet) add(o UnsupportedOp) {
	k := o.Domain + "\x00" + o.OpType
	if u := s[k]; u != nil {
		u.Count += o.Count
		return
	}
	s[k] = &o
}

// report returns the set as an *Unsupported sorted by domain and type, or
// nil when empty.
func (s unsupportedSet) report() *Unsupported {
	if len(s) == 0 {
		return nil
	}
	u := &Unsupported{}
	for _, o := range s {
		u.Ops = append(u.Ops, *o)
	}
	sort.Slice(u.Ops, func(i, j int) bool {
		a, b := u.Ops[i], u.Ops[j]
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		return a.OpType < b.OpType
	})
	return u
}

// buildNodes builds the op of every node, collecting every unsupported op
// (with opt.AllowUnsupported their nodes are kept, without an op).
func (g *Graph) buildNodes(m *onnx.Model, gp *onnx.GraphProto, opt Options, outer func(string) bool) ([]*Node, unsupportedSet, error) {
	unsup := unsupportedSet{}
	var nodes []*Node
	for i, np := range gp.Node {
		name := np.GetName()
		if name == "" {
			name = fmt.Sprintf("%s_%d", np.GetOpType(), i)
		}
		dom := np.GetDomain()
		if dom == "ai.onnx" {
			dom = ""
		}
		opset := m.Opset(dom)
		n := &Node{Name: name, OpType: np.GetOpType(), Domain: dom, Proto: np, index: i}
		attrs, err := convertAttrs(m, np)
		if err != nil {
			return nil, nil, fmt.Errorf("node %q (%s): %w", name, n.OpType, err)
		}
		if err := checkRequiredInputs(np, name, dom, opset); err != nil {
			return nil, nil, err
		}
		if dom == "" && n.OpType == "If" {
			ok, err := g.buildIfNode(m, gp, i, n, opt, outer, unsup)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				nodes = append(nodes, n)
			}
			continue
		}
		if _, ok := ops.Lookup(dom, n.OpType, opset); !ok {
			unsup.add(UnsupportedOp{Domain: dom, OpType: n.OpType, Opset: opset, Node: name, Count: 1})
			if opt.AllowUnsupported {
				nodes = append(nodes, n)
			}
			continue
		}
		on := &ops.Node{Name: name, OpType: n.OpType, Domain: dom, Opset: opset, NumOutputs: len(np.Output), Attrs: attrs}
		for _, in := range np.Input {
			on.Inputs = append(on.Inputs, in != "")
		}
		if n.Op, err = ops.Build(on); err != nil {
			return nil, nil, fmt.Errorf("node %q (%s): %w", name, n.OpType, err)
		}
		nodes = append(nodes, n)
	}
	return nodes, unsup, nil
}

// buildIfNode builds If node n (node i of gp) from its two subgraphs,
// which may read names defined before it here or in the enclosing scopes.
// Unsupported ops inside go to unsup (then it returns false: no node).
func (g *Graph) buildIfNode(m *onnx.Model, gp *onnx.GraphProto, i int, n *Node, opt Options, outer func(string) bool, unsup unsupportedSet) (bool, error) {
	defined := func(name string) bool {
		if _, ok := g.byName[name]; ok {
			return true
		}
		for _, q := range gp.Node[:i] {
			for _, o := range q.Output {
				if o == name {
					return true
				}
			}
		}
		return outer != nil && outer(name)
	}
	op, extra, err := buildIf(m, n.Proto, opt, defined)
	if u, ok := err.(*Unsupported); ok {
		for _, o := range u.Ops {
			unsup.add(o)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("node %q (If): %w", n.Name, err)
	}
	n.Op, n.extraIn = op, extra
	return true, nil
}

// wire connects the nodes to values: every output name is produced once,
// every input is a graph input, an initializer, a node's output or (in a
// subgraph) a name of the enclosing scope, which becomes an input.
func (g *Graph) wire(nodes []*Node, inputSeen map[string]bool, outer func(string) bool) error {
	for ni, n := range nodes {
		for _, out := range n.Proto.Output {
			if out == "" {
				n.Out = append(n.Out, -1)
				continue
			}
			id := g.value(out)
			v := g.Values[id]
			if v.Producer >= 0 || v.Const != nil || inputSeen[out] {
				return fmt.Errorf("node %q: value %q is produced twice", n.Name, out)
			}
			v.Producer = ni
			n.Out = append(n.Out, id)
		}
	}
	for _, n := range nodes {
		for _, in := range append(append([]string(nil), n.Proto.Input...), n.extraIn...) {
			if in == "" {
				n.In = append(n.In, -1)
				continue
			}
			id, ok := g.byName[in]
			if !ok && outer != nil && outer(in) {
				id = g.value(in) // read from the enclosing graph
				g.Inputs = append(g.Inputs, id)
				ok = true
			}
			if !ok {
				return fmt.Errorf("node %q (%s): input %q is not a graph input, an initializer or any node's output", n.Name, n.OpType, in)
			}
			n.In = append(n.In, id)
		}
	}
	return nil
}

// addOutputs adds the graph outputs, each of which must be computed.
func (g *Graph) addOutputs(gp *onnx.GraphProto) error {
	for _, out := range gp.Output {
		id, ok := g.byName[out.GetName()]
		if !ok {
			return fmt.Errorf("graph output %q is never computed", out.GetName())
		}
		g.Values[id].Info = out
		g.Outputs = append(g.Outputs, id)
	}
	return nil
}

// setProducers points each node output at its node's index in g.Nodes.
func (g *Graph) setProducers() {
	for i, n := range g.Nodes {
		for _, o := range n.Out {
			if o >= 0 {
				g.Values[o].Producer = i
			}
		}
	}
}

// topoSort orders nodes so every input is computed before use (Kahn), and
// reports a cycle by naming the nodes on it.
func topoSort(g *Graph, nodes []*Node) ([]*Node, error) {
	producer := make(map[int]int)
	for i, n := range nodes {
		for _, o := range n.Out {
			if o >= 0 {
				producer[o] = i
			}
		}
	}
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.In {
			if in < 0 {
				continue
			}
			if p, ok := producer[in]; ok {
				indeg[i]++
				users[p] = append(users[p], i)
			}
		}
	}
	var queue, order []int
	for i := range nodes {
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		order = append(order, i)
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	if len(order) != len(nodes) {
		var stuck []string
		for i, d := range indeg {
			if d > 0 {
				stuck = append(stuck, fmt.Sprintf("%q (%s)", nodes[i].Name, nodes[i].OpType))
				if len(stuck) == 5 {
					break
				}
			}
		}
		return nil, fmt.Errorf("the graph has a cycle through nodes %s", strings.Join(stuck, ", "))
	}
	r := make([]*Node, len(order))
	for k, i := range order {
		r[k] = nodes[i]
	}
	return r, nil
}

func convertAttrs(m *onnx.Model, np *onnx.NodeProto) (map[string]ops.Attr, error) {
	attrs := map[string]ops.Attr{}
	for _, a := range np.Attribute {
		var at ops.Attr
		switch a.GetType() {
		case onnx.AttributeProto_FLOAT:
			at = ops.Attr{Kind: ops.AttrFloat, F: a.GetF()}
		case onnx.AttributeProto_INT:
			at = ops.Attr{Kind: ops.AttrInt, I: a.GetI()}
		case onnx.AttributeProto_STRING:
			at = ops.Attr{Kind: ops.AttrString, S: string(a.GetS())}
		case onnx.AttributeProto_TENSOR:
			t, err := m.Tensor(a.GetT())
			if err != nil {
				return nil, fmt.Errorf("attribute %q: %w", a.GetName(), err)
			}
			at = ops.Attr{Kind: ops.AttrTensor, T: t}
		case onnx.AttributeProto_FLOATS:
			at = ops.Attr{Kind: ops.AttrFloats, Floats: a.Floats}
		case onnx.AttributeProto_INTS:
			at = ops.Attr{Kind: ops.AttrInts, Ints: a.Ints}
		case onnx.AttributeProto_STRINGS:
			ss := make([]string, len(a.Strings))
			for i, s := range a.Strings {
				ss[i] = string(s)
			}
			at = ops.Attr{Kind: ops.AttrStrings, Strings: ss}
		case onnx.AttributeProto_GRAPH, onnx.AttributeProto_GRAPHS:
			at = ops.Attr{Kind: ops.AttrGraph}
		default:
			if a.GetRefAttrName() != "" {
				return nil, fmt.Errorf("attribute %q refers to a function attribute", a.GetName())
			}
			return nil, fmt.Errorf("attribute %q has unsupported type %v", a.GetName(), a.GetType())
		}
		attrs[a.GetName()] = at
	}
	return attrs, nil
}

// ValueID returns the ID of a named value.
func (g *Graph) ValueID(name string) (int, bool) {
	id, ok := g.byName[name]
	return id, ok
}

// InputNames lists the runtime inputs.
func (g *Graph) InputNames() []string {
	r := make([]string, len(g.Inputs))
	for i, id := range g.Inputs {
		r[i] = g.Values[id].Name
	}
	return r
}

// OutputNames lists the graph outputs.
func (g *Graph) OutputNames() []string {
	r := make([]string, len(g.Outputs))
	for i, id := range g.Outputs {
		r[i] = g.Values[id].Name
	}
	return r
}

// Param returns a parameter by readable name or initializer name.
func (g *Graph) Param(name string) *Param {
	for _, p := range g.Params {
		if p.Name == name || p.Initializer == name {
			return p
		}
	}
	return nil
}
