// Package ops implements ONNX operators: one op (or one family of closely
// related ops) per file, with its attributes, forward and backward side by side.
//
// An op is built once per graph node from the node's attributes (Node) and
// then run any number of times. Forward must not keep per-run state in the op:
// what backward needs it recomputes from the forward inputs and outputs, or
// returns as extra outputs beyond those the node declares (a Dropout mask,
// say), which the graph keeps for backward.
package ops

import (
	"fmt"
	"sort"

	"ft/tensor"
)

// AttrKind is the type of an attribute value.
type AttrKind int

// Attribute kinds (the subset of ONNX attribute types that ops read).
const (
	AttrFloat AttrKind = iota + 1
	AttrInt
	AttrString
	AttrTensor
	AttrFloats
	AttrInts
	AttrStrings
	AttrGraph
)

// Attr is one attribute of a node.
type Attr struct {
	Kind    AttrKind
	F       float32
	I       int64
	S       string
	T       *tensor.Tensor
	Floats  []float32
	Ints    []int64
	Strings []string
}

// Node is what an op constructor sees of a graph node.
type Node struct {
	Name   string // node name, for error messages
	OpType string
	Domain string // "" for the default ONNX domain
	Opset  int    // the model's opset version for Domain
	Attrs  map[string]Attr
	// Inputs lists, per declared input, whether it is present (ONNX marks an
	// omitted optional input with an empty name). Absent inputs reach Forward
	// as nil.
	Inputs     []bool
	NumOutputs int
}

// Errorf returns an error naming the node.
func (n *Node) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s node %q: %s", n.OpType, n.Name, fmt.Sprintf(format, args...))
}

// Has reports whether attribute name is set.
func (n *Node) Has(name string) bool { _, ok := n.Attrs[name]; return ok }

// Int returns an integer attribute or def.
func (n *Node) Int(name string, def int64) int64 {
	if a, ok := n.Attrs[name]; ok {
		return a.I
	}
	return def
}

// Float returns a float attribute or def.
func (n *Node) Float(name string, def float32) float32 {
	if a, ok := n.Attrs[name]; ok {
		return a.F
	}
	return def
}

// String returns a string attribute or def.
func (n *Node) String(name string, def string) string {
	if a, ok := n.Attrs[name]; ok {
		return a.S
	}
	return def
}

// Ints returns an ints attribute and whether it was set.
func (n *Node) Ints(name string) ([]int64, bool) {
	a, ok := n.Attrs[name]
	return a.Ints, ok
}

// Floats returns a floats attribute and whether it was set.
func (n *Node) Floats(name string) ([]float32, bool) {
	a, ok := n.Attrs[name]
	return a.Floats, ok
}

// Tensor returns a tensor attribute, or nil.
func (n *Node) Tensor(name string) *tensor.Tensor {
	if a, ok := n.Attrs[name]; ok {
		return a.T
	}
	return nil
}

// HasInput reports whether input i is present.
func (n *Node) HasInput(i int) bool { return i < len(n.Inputs) && n.Inputs[i] }

// Op is an executable operator.
type Op interface {
	// Forward computes the node's outputs from its inputs (nil for absent
	// optional inputs). It may return more outputs than the node declares:
	// the extra ones are saved for Backward and never seen by the graph's users.
	Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error)
}

// Differentiable is an op with a hand-written backward.
type Differentiable interface {
	Op
	// Backward returns the gradient of the loss with respect to each input i
	// with need[i] set (nil elsewhere), given the forward inputs and outputs
	// (extras included) and the gradients of the outputs (nil for an output
	// that does not reach the loss). Gradients have their input's shape and
	// type. Backward must not modify in, out or dout.
	Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error)
}

// ShapeOnly is implemented by ops whose outputs never carry gradients (shapes,
// comparisons, index computations): the graph never differentiates through them.
type ShapeOnly interface{ NoGradient() }

// Builder makes an op for a node.
type Builder func(n *Node) (Op, error)

type entry struct {
	since int
	build Builder
}

type key struct{ domain, opType string }

var registry = map[key][]entry{}

// Register adds a builder for (domain, opType) valid from opset `since` on.
// Builders for later versions of the same op take over from their version.
// It is called from the init functions of the op files.
func Register(domain, opType string, since int, b Builder) {
	k := key{domain, opType}
	registry[k] = append(registry[k], entry{since, b})
	sort.Slice(registry[k], func(i, j int) bool { return registry[k][i].since < registry[k][j].since })
}

// Lookup returns the builder for (domain, opType) at the given opset version.
func Lookup(domain, opType string, opset int) (Builder, bool) {
	if domain == "ai.onnx" {
		domain = ""
	}
	es := registry[key{domain, opType}]
	var b Builder
	for _, e := range es {
		if e.since <= opset {
			b = e.build
		}
	}
	return b, b != nil
}

// Registered lists every registered (domain, op type) as "domain:op" or "op".
func Registered() []string {
	var r []string
	for k := range registry {
		r = append(r, registeredName(k))
	}
	sort.Strings(r)
	return r
}

func registeredName(k key) string {
	if k.domain == "" {
		return k.opType
	}
	return k.domain + ":" + k.opType
}

// Build makes the op for a node, or says why it cannot.
func Build(n *Node) (Op, error) {
	b, ok := Lookup(n.Domain, n.OpType, n.Opset)
	if !ok {
		return nil, fmt.Errorf("unsupported op %s", OpID(n.Domain, n.OpType, n.Opset))
	}
	return b(n)
}

// OpID formats (domain, op type, opset) for messages.
func OpID(domain, opType string, opset int) string {
	if domain == "" {
		domain = "ai.onnx"
	}
	return fmt.Sprintf("%s::%s (opset %d)", domain, opType, opset)
}

// Single wraps one output in a slice.
func single(t *tensor.Tensor) ([]*tensor.Tensor, error) { return []*tensor.Tensor{t}, nil }
