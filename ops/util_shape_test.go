package ops

// Shared helpers of the data-movement op tests, and the checks that span all
// of those ops: every element type, and which ops have a gradient.

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"ft/tensor"
)

func mvAI(v int64) Attr                              { return Attr{Kind: AttrInt, I: v} }
func mvAIs(v ...int64) Attr                          { return Attr{Kind: AttrInts, Ints: v} }
func mvAS(v string) Attr                             { return Attr{Kind: AttrString, S: v} }
func mvAF(v float32) Attr                            { return Attr{Kind: AttrFloat, F: v} }
func mvAFs(v ...float32) Attr                        { return Attr{Kind: AttrFloats, Floats: v} }
func mvAT(t *tensor.Tensor) Attr                     { return Attr{Kind: AttrTensor, T: t} }
func mvF64(shape []int, v ...float64) *tensor.Tensor { return tensor.New(shape, v) }
func mvF32(shape []int, v ...float32) *tensor.Tensor { return tensor.New(shape, v) }
func mvI32(shape []int, v ...int32) *tensor.Tensor   { return tensor.New(shape, v) }

// mvArange returns a float64 tensor 0, 1, 2, … of the given shape.
func mvArange(shape ...int) *tensor.Tensor {
	d := make([]float64, tensor.Size(shape))
	for i := range d {
		d[i] = float64(i)
	}
	return tensor.New(shape, d)
}

// mvNode makes a node for tests. nOut 0 means 1.
func mvNode(op string, opset int, attrs map[string]Attr, nOut int, in []*tensor.Tensor) *Node {
	if nOut == 0 {
		nOut = 1
	}
	inputs := make([]bool, len(in))
	for i, x := range in {
		inputs[i] = x != nil
	}
	return &Node{Name: "t", OpType: op, Opset: opset, Attrs: attrs, Inputs: inputs, NumOutputs: nOut}
}

// mvRun builds op at opset with attrs and runs it on in.
func mvRun(op string, opset int, attrs map[string]Attr, nOut int, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	o, err := Build(mvNode(op, opset, attrs, nOut, in))
	if err != nil {
		return nil, err
	}
	return o.Forward(in)
}

// mvCase is one forward test: inputs, node and expected outputs (or an error
// containing errSub).
type mvCase struct {
	name   string
	op     string
	opset  int // default 18
	attrs  map[string]Attr
	in     []*tensor.Tensor
	want   []*tensor.Tensor
	errSub string // expected error text (build or forward)
}

func mvCheck(t *testing.T, cases []mvCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opset := c.opset
			if opset == 0 {
				opset = 18
			}
			out, err := mvRun(c.op, opset, c.attrs, max(len(c.want), 1), c.in...)
			if c.errSub != "" {
				if err == nil {
					t.Fatalf("want error containing %q, got outputs %v", c.errSub, out)
				}
				if !strings.Contains(err.Error(), c.errSub) {
					t.Fatalf("error %q does not contain %q", err, c.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out) < len(c.want) {
				t.Fatalf("%d outputs, want %d", len(out), len(c.want))
			}
			for k, w := range c.want {
				mvEqual(t, fmt.Sprintf("output %d", k), out[k], w)
			}
		})
	}
}

// mvEqual checks type, shape and exact values.
func mvEqual(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !mvSame(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// mvSame reports whether two tensors have the same type, shape and values
// (exactly; NaN never matches).
func mvSame(got, want *tensor.Tensor) bool {
	if got.DType() != want.DType() || !tensor.SameShape(got.Shape, want.Shape) {
		return false
	}
	if got.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(got.Data, want.Data)
}

// mvConvert turns a float64 tensor of small integers into dtype dt
// (bool: odd values are true).
func mvConvert(x *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	v := x.F64()
	switch dt {
	case tensor.Float64:
		return x.Clone()
	case tensor.Float32:
		return tensor.New(x.Shape, mvMap(v, func(f float64) float32 { return float32(f) }))
	case tensor.Int64:
		return tensor.New(x.Shape, mvMap(v, func(f float64) int64 { return int64(f) }))
	case tensor.Int32:
		return tensor.New(x.Shape, mvMap(v, func(f float64) int32 { return int32(f) }))
	case tensor.Uint8:
		return tensor.New(x.Shape, mvMap(v, func(f float64) uint8 { return uint8(f) }))
	case tensor.Int8:
		return tensor.New(x.Shape, mvMap(v, func(f float64) int8 { return int8(f) }))
	case tensor.Bool:
		return tensor.New(x.Shape, mvMap(v, func(f float64) bool { return int64(f)%2 != 0 }))
	}
	panic("mvConvert")
}

func mvMap[T any](v []float64, f func(float64) T) []T {
	r := make([]T, len(v))
	for i, x := range v {
		r[i] = f(x)
	}
	return r
}

var mvAllTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Bool, tensor.Uint8, tensor.Int8}

// TestDataMovementDTypes runs every data-movement op on each element type and
// checks the result against the float64 run: these ops move elements without
// looking at them, so converting before or after must agree.
func TestDataMovementDTypes(t *testing.T) {
	x := mvArange(2, 3, 4)
	for i, v := range x.F64() {
		x.F64()[i] = float64(int(v*7) % 100)
	}
	x1 := mvArange(2, 1, 4)
	cases := []struct {
		op    string
		opset int
		attrs map[string]Attr
		nOut  int
		in    []*tensor.Tensor // in[0] (and in[1] for Concat) are converted
		nconv int
	}{
		{"Reshape", 14, nil, 1, []*tensor.Tensor{x, i64([]int{2}, 4, -1)}, 1},
		{"Squeeze", 13, nil, 1, []*tensor.Tensor{x1, i64([]int{1}, 1)}, 1},
		{"Unsqueeze", 13, nil, 1, []*tensor.Tensor{x, i64([]int{2}, 0, -1)}, 1},
		{"Flatten", 13, map[string]Attr{"axis": mvAI(2)}, 1, []*tensor.Tensor{x}, 1},
		{"Transpose", 13, map[string]Attr{"perm": mvAIs(2, 0, 1)}, 1, []*tensor.Tensor{x}, 1},
		{"Concat", 13, map[string]Attr{"axis": mvAI(1)}, 1, []*tensor.Tensor{x, x1}, 2},
		{"Split", 18, map[string]Attr{"axis": mvAI(2), "num_outputs": mvAI(3)}, 3, []*tensor.Tensor{x}, 1},
		{"Slice", 13, nil, 1, []*tensor.Tensor{x, i64([]int{2}, -1, 1), i64([]int{2}, -100, 100), i64([]int{2}, 2, 1), i64([]int{2}, -2, 1)}, 1},
		{"Gather", 13, map[string]Attr{"axis": mvAI(1)}, 1, []*tensor.Tensor{x, i64([]int{2, 2}, 2, -3, 0, 0)}, 1},
		{"GatherElements", 13, map[string]Attr{"axis": mvAI(2)}, 1, []*tensor.Tensor{x, i64([]int{2, 3, 2}, 0, 1, 2, 3, -1, -2, 0, 0, 1, 1, 3, 3)}, 1},
		{"Expand", 13, nil, 1, []*tensor.Tensor{x1, i64([]int{4}, 2, 2, 3, 1)}, 1},
		{"Tile", 13, nil, 1, []*tensor.Tensor{x, i64([]int{3}, 2, 1, 2)}, 1},
		{"Trilu", 14, map[string]Attr{"upper": mvAI(0)}, 1, []*tensor.Tensor{x, i64(nil, 1)}, 1},
		{"ScatterND", 13, nil, 1, []*tensor.Tensor{x, i64([]int{2, 2}, 1, 2, 0, 0), mvArange(2, 4)}, 1},
		{"Pad", 18, map[string]Attr{"mode": mvAS("constant")}, 1, []*tensor.Tensor{x, i64([]int{6}, 1, 0, 2, 0, -1, 1), mvF64(nil, 1)}, 1},
		{"Pad", 18, map[string]Attr{"mode": mvAS("reflect")}, 1, []*tensor.Tensor{x, i64([]int{6}, 1, 0, 2, 0, -1, 1)}, 1},
		{"Pad", 18, map[string]Attr{"mode": mvAS("edge")}, 1, []*tensor.Tensor{x, i64([]int{6}, 1, 0, 2, 0, -1, 1)}, 1},
		{"Pad", 19, map[string]Attr{"mode": mvAS("wrap")}, 1, []*tensor.Tensor{x, i64([]int{6}, 1, 0, 2, 0, -1, 1)}, 1},
		{"NonZero", 13, nil, 1, []*tensor.Tensor{x}, 1},
	}
	for _, c := range cases {
		name := c.op
		if m, ok := c.attrs["mode"]; ok {
			name += "/" + m.S
		}
		want, err := mvRun(c.op, c.opset, c.attrs, c.nOut, c.in...)
		if err != nil {
			t.Fatalf("%s float64: %v", name, err)
		}
		for _, dt := range mvAllTypes {
			if c.op == "NonZero" && dt == tensor.Bool {
				continue // conversion to bool changes which elements are zero
			}
			in := append([]*tensor.Tensor(nil), c.in...)
			for i := 0; i < c.nconv; i++ {
				in[i] = mvConvert(in[i], dt)
			}
			if c.op == "ScatterND" || (c.op == "Pad" && len(in) > 2) {
				in[2] = mvConvert(in[2], dt)
			}
			got, err := mvRun(c.op, c.opset, c.attrs, c.nOut, in...)
			if err != nil {
				t.Errorf("%s %s: %v", name, dt, err)
				continue
			}
			for k := range want {
				w := want[k]
				if w.DType() == tensor.Float64 {
					w = mvConvert(w, dt)
				}
				if !mvSame(got[k], w) {
					t.Errorf("%s %s output %d: got %v, want %v", name, dt, k, got[k], w)
				}
			}
		}
	}
}

// TestDataMovementGradientKinds checks which of these ops have a Backward and
// which are marked ShapeOnly.
func TestDataMovementGradientKinds(t *testing.T) {
	diff := []string{"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Concat", "Split", "Slice", "Gather", "GatherElements", "Expand", "Tile"}
	shapeOnly := []string{"Shape", "Size", "ConstantOfShape", "Range", "NonZero", "Constant"}
	neither := []string{"CumSum", "Trilu", "ScatterND", "Pad"}
	attrs := map[string]map[string]Attr{
		"Constant": {"value_int": mvAI(1)},
		"Concat":   {"axis": mvAI(0)},
	}
	build := func(op string) Op {
		o, err := Build(&Node{OpType: op, Opset: 18, Attrs: attrs[op], NumOutputs: 1})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return o
	}
	for _, op := range diff {
		o := build(op)
		if _, ok := o.(Differentiable); !ok {
			t.Errorf("%s has no Backward", op)
		}
		if _, ok := o.(ShapeOnly); ok {
			t.Errorf("%s is ShapeOnly", op)
		}
	}
	for _, op := range append(shapeOnly, neither...) {
		o := build(op)
		if _, ok := o.(Differentiable); ok {
			t.Errorf("%s has a Backward but is listed as having none", op)
		}
		_, so := o.(ShapeOnly)
		if want := !strings.Contains(strings.Join(neither, ","), op); so != want {
			t.Errorf("%s: ShapeOnly %v, want %v", op, so, want)
		}
	}
}

// mvRandShape returns a random shape of the given rank with dims in [1, 4].
func mvRandShape(r *rand.Rand, rank int) []int {
	s := make([]int, rank)
	for i := range s {
		s[i] = 1 + r.Intn(4)
	}
	return s
}

func TestMvCoalesce(t *testing.T) {
	for _, c := range []struct {
		shape, st, wantShape, wantSt []int
	}{
		{[]int{2, 3, 4}, []int{12, 4, 1}, []int{24}, []int{1}},
		{[]int{2, 1, 4}, []int{4, 99, 1}, []int{8}, []int{1}},
		{[]int{2, 3, 4}, []int{4, 0, 1}, []int{2, 3, 4}, []int{4, 0, 1}},
		{[]int{3, 2}, []int{1, 3}, []int{3, 2}, []int{1, 3}},
		{[]int{1, 1}, []int{5, 5}, []int{}, []int{}},
		{[]int{2, 3}, []int{-3, -1}, []int{6}, []int{-1}},
	} {
		dst := tensor.Strides(c.shape)
		s, st := mvCoalesce(c.shape, dst, c.st)
		if !reflect.DeepEqual(s, c.wantShape) || !reflect.DeepEqual(st[1], c.wantSt) {
			t.Errorf("mvCoalesce(%v, %v) = %v %v, want %v %v", c.shape, c.st, s, st[1], c.wantShape, c.wantSt)
		}
	}
}

// TestDataMovementNoPanic feeds every op combinations of odd inputs (absent,
// scalars, empty tensors, wrong types, huge and negative index values) and
// checks that each run returns outputs or an error, never a panic.
func TestDataMovementNoPanic(t *testing.T) {
	const big = int64(1) << 62
	pool := []*tensor.Tensor{
		nil,
		mvF64(nil, 1),
		mvF64([]int{0}),
		mvArange(2, 3),
		mvArange(1, 2, 1),
		tensor.New([]int{2}, []bool{true, false}),
		i64(nil, 0),
		i64([]int{0}),
		i64([]int{1}, -1),
		i64([]int{2}, 1, -1),
		i64([]int{2}, big, -big),
		i64([]int{3}, 0, 0, 0),
		i64([]int{4}, -1, 2, big, 1),
		i64([]int{2, 1}, 1, 0),
		mvI32([]int{2}, 2, 3),
		&tensor.Tensor{Shape: []int{1}},
	}
	ops := []struct {
		op    string
		opset int
		attrs map[string]Attr
		nIn   int
	}{
		{"Reshape", 18, nil, 2}, {"Reshape", 4, map[string]Attr{"shape": mvAIs(-1, -1)}, 1},
		{"Squeeze", 18, nil, 2}, {"Squeeze", 11, map[string]Attr{"axes": mvAIs(5)}, 1},
		{"Unsqueeze", 18, nil, 2}, {"Unsqueeze", 11, map[string]Attr{"axes": mvAIs(-9)}, 1},
		{"Flatten", 18, map[string]Attr{"axis": mvAI(-9)}, 1},
		{"Transpose", 18, map[string]Attr{"perm": mvAIs(1, 5)}, 1}, {"Transpose", 18, nil, 1},
		{"Concat", 18, map[string]Attr{"axis": mvAI(1)}, 3},
		{"Split", 18, map[string]Attr{"axis": mvAI(1)}, 2}, {"Split", 18, map[string]Attr{"num_outputs": mvAI(2)}, 1},
		{"Slice", 18, nil, 5}, {"Slice", 9, map[string]Attr{"starts": mvAIs(big), "ends": mvAIs(-big)}, 1},
		{"Gather", 18, map[string]Attr{"axis": mvAI(1)}, 2}, {"GatherElements", 18, nil, 2},
		{"Expand", 18, nil, 2}, {"Tile", 18, nil, 2},
		{"Shape", 18, map[string]Attr{"start": mvAI(-big), "end": mvAI(big)}, 1}, {"Size", 18, nil, 1},
		{"ConstantOfShape", 18, nil, 1}, {"Range", 18, nil, 3},
		{"CumSum", 18, map[string]Attr{"reverse": mvAI(1)}, 2}, {"Trilu", 18, nil, 2},
		{"ScatterND", 18, map[string]Attr{"reduction": mvAS("add")}, 3}, {"ScatterND", 18, nil, 3},
		{"NonZero", 18, nil, 1},
		{"Pad", 18, map[string]Attr{"mode": mvAS("reflect")}, 4}, {"Pad", 18, nil, 4},
		{"Pad", 19, map[string]Attr{"mode": mvAS("wrap")}, 2}, {"Pad", 2, map[string]Attr{"pads": mvAIs(big, 1), "mode": mvAS("edge")}, 1},
	}
	r := rand.New(rand.NewSource(19))
	for _, c := range ops {
		for k := 0; k < 400; k++ {
			in := make([]*tensor.Tensor, c.nIn)
			for i := range in {
				in[i] = pool[r.Intn(len(pool))]
			}
			if in[0] == nil {
				in[0] = pool[3]
			}
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s opset %d %v on %v: panic %v", c.op, c.opset, c.attrs, in, p)
					}
				}()
				nOut := 1
				if c.op == "Split" {
					nOut = 2
				}
				mvRun(c.op, c.opset, c.attrs, nOut, in...)
			}()
		}
	}
}

// TestDataMovementGradFloat32 runs each Backward on float32 data and checks
// it against the float64 run (checked by finite differences elsewhere).
func TestDataMovementGradFloat32(t *testing.T) {
	r := rand.New(rand.NewSource(20))
	x := randT(r, -1, 1, 2, 3, 4)
	cases := []struct {
		op    string
		attrs map[string]Attr
		nOut  int
		in    []*tensor.Tensor
	}{
		{"Reshape", nil, 1, []*tensor.Tensor{x, i64([]int{2}, 6, -1)}},
		{"Squeeze", nil, 1, []*tensor.Tensor{randT(r, -1, 1, 2, 1, 3)}},
		{"Unsqueeze", nil, 1, []*tensor.Tensor{x, i64([]int{1}, 0)}},
		{"Flatten", nil, 1, []*tensor.Tensor{x}},
		{"Transpose", map[string]Attr{"perm": mvAIs(1, 2, 0)}, 1, []*tensor.Tensor{x}},
		{"Concat", map[string]Attr{"axis": mvAI(1)}, 1, []*tensor.Tensor{x, randT(r, -1, 1, 2, 2, 4)}},
		{"Split", map[string]Attr{"axis": mvAI(2)}, 2, []*tensor.Tensor{x, i64([]int{2}, 1, 3)}},
		{"Slice", nil, 1, []*tensor.Tensor{x, i64([]int{1}, -1), i64([]int{1}, -100), i64([]int{1}, 2), i64([]int{1}, -2)}},
		{"Gather", map[string]Attr{"axis": mvAI(1)}, 1, []*tensor.Tensor{x, i64([]int{3}, 0, 0, -1)}},
		{"GatherElements", map[string]Attr{"axis": mvAI(0)}, 1, []*tensor.Tensor{x, i64([]int{2, 1, 2}, 1, 1, 0, 1)}},
		{"Expand", nil, 1, []*tensor.Tensor{randT(r, -1, 1, 3, 1), i64([]int{3}, 2, 3, 4)}},
		{"Tile", nil, 1, []*tensor.Tensor{x, i64([]int{3}, 2, 1, 2)}},
	}
	for _, c := range cases {
		run := func(dt tensor.DType) []*tensor.Tensor {
			in := append([]*tensor.Tensor(nil), c.in...)
			need := make([]bool, len(in))
			for i, v := range in {
				if v.DType() == tensor.Float64 {
					in[i] = mvConvertF(v, dt)
					need[i] = true
				}
			}
			o, err := Build(mvNode(c.op, 18, c.attrs, c.nOut, in))
			if err != nil {
				t.Fatalf("%s: %v", c.op, err)
			}
			out, err := o.Forward(in)
			if err != nil {
				t.Fatalf("%s %s: %v", c.op, dt, err)
			}
			rr := rand.New(rand.NewSource(1))
			dout := make([]*tensor.Tensor, len(out))
			for k := range out {
				dout[k] = mvConvertF(randT(rr, -1, 1, out[k].Shape...), dt)
			}
			g, err := o.(Differentiable).Backward(in, out, dout, need)
			if err != nil {
				t.Fatalf("%s %s backward: %v", c.op, dt, err)
			}
			return g
		}
		g64, g32 := run(tensor.Float64), run(tensor.Float32)
		for i := range g64 {
			if g64[i] == nil {
				continue
			}
			if g32[i] == nil || g32[i].DType() != tensor.Float32 || !tensor.SameShape(g32[i].Shape, g64[i].Shape) {
				t.Fatalf("%s: float32 gradient %d is %v", c.op, i, g32[i])
			}
			for j, v := range g64[i].F64() {
				if d := float64(g32[i].F32()[j]) - v; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%s: gradient %d element %d float32 %v, float64 %v", c.op, i, j, g32[i].F32()[j], v)
				}
			}
		}
	}
}

func mvConvertF(x *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	if dt == tensor.Float64 {
		return x
	}
	return tensor.New(x.Shape, mvMap(x.F64(), func(f float64) float32 { return float32(f) }))
}
