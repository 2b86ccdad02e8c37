package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

// reduceRef groups the elements of x by output position and reduces each group.
func reduceRef(op string, x []float64, shape, axes []int) []float64 {
	mark := make([]bool, len(shape))
	for _, a := range axes {
		mark[(a+len(shape))%len(shape)] = true
	}
	if len(axes) == 0 {
		for i := range mark {
			mark[i] = true
		}
	}
	var keep []int
	for i, d := range shape {
		if mark[i] {
			keep = append(keep, 1)
		} else {
			keep = append(keep, d)
		}
	}
	groups := make([][]float64, tensor.Size(keep))
	st := tensor.BroadcastStrides(keep, shape)
	for i, o := range laOffsets(shape, st) {
		groups[o] = append(groups[o], x[i])
	}
	out := make([]float64, len(groups))
	for i, g := range groups {
		var v float64
		switch op {
		case "ReduceSum", "ReduceMean", "ReduceLogSum":
			for _, e := range g {
				v += e
			}
			if op == "ReduceMean" {
				v /= float64(len(g))
			}
			if op == "ReduceLogSum" {
				v = math.Log(v)
			}
		case "ReduceMax":
			v = math.Inf(-1)
			for _, e := range g {
				v = math.Max(v, e)
			}
		case "ReduceMin":
			v = math.Inf(1)
			for _, e := range g {
				v = math.Min(v, e)
			}
		case "ReduceProd":
			v = 1
			for _, e := range g {
				v *= e
			}
		case "ReduceL1":
			for _, e := range g {
				v += math.Abs(e)
			}
		case "ReduceL2", "ReduceSumSquare":
			for _, e := range g {
				v += e * e
			}
			if op == "ReduceL2" {
				v = math.Sqrt(v)
			}
		case "ReduceLogSumExp":
			for _, e := range g {
				v += math.Exp(e)
			}
			v = math.Log(v)
		}
		out[i] = v
	}
	return out
}

var reduceNames = []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
	"ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"}

// reduceNode makes a reduction node at opset, with axes as attribute or
// input as that opset requires; it returns the extra input (or nil).
func reduceNode(op string, opset int, axes []int, keepdims int, noop int) (Node, *tensor.Tensor) {
	inputFrom := 18
	if op == "ReduceSum" {
		inputFrom = 13
	}
	var a64 []int64
	for _, a := range axes {
		a64 = append(a64, int64(a))
	}
	if opset < inputFrom {
		n := laNode(op, opset, "keepdims", keepdims)
		if axes != nil {
			n.Attrs["axes"] = Attr{Kind: AttrInts, Ints: a64}
		}
		return n, nil
	}
	n := laNode(op, opset, "keepdims", keepdims, "noop_with_empty_axes", noop)
	if axes == nil {
		return n, nil
	}
	return n, tensor.New([]int{len(a64)}, a64)
}

var reduceCases = []struct {
	shape []int
	axes  []int
}{
	{[]int{3, 4}, []int{1}},
	{[]int{3, 4}, []int{0}},
	{[]int{2, 3, 4}, []int{1}},
	{[]int{2, 3, 4}, []int{-1}},
	{[]int{2, 3, 4}, []int{0, 2}}, // not adjacent: transposed first
	{[]int{2, 3, 4}, []int{2, 0, -1}},
	{[]int{2, 3, 4}, []int{1, 2}},
	{[]int{2, 3, 4}, nil}, // every axis
	{[]int{2, 1, 4}, []int{0, 2}},
	{[]int{2, 1, 4}, []int{1}},
	{[]int{5}, []int{0}},
	{[]int{2, 3, 1, 4, 2}, []int{1, 3}},
	{[]int{70, 30}, []int{1}},
}

func TestReduceForward(t *testing.T) {
	// Hand-derived on [[1, 2], [3, 4]] along axis 1.
	x := tensor.New([]int{2, 2}, []float32{1, 2, 3, 4})
	for op, want := range map[string][]float64{
		"ReduceSum": {3, 7}, "ReduceMean": {1.5, 3.5}, "ReduceMax": {2, 4}, "ReduceMin": {1, 3}, "ReduceProd": {2, 12},
		"ReduceL1": {3, 7}, "ReduceL2": {math.Sqrt(5), 5}, "ReduceSumSquare": {5, 25},
		"ReduceLogSum": {math.Log(3), math.Log(7)}, "ReduceLogSumExp": {math.Log(math.E + math.E*math.E), math.Log(math.Exp(3) + math.Exp(4))},
	} {
		n, ax := reduceNode(op, 18, []int{1}, 0, 0)
		laClose(t, op+"/hand", laRun(t, n, x, ax)[0], []int{2}, want, 1e-6)
	}

	r := rand.New(rand.NewSource(15))
	for _, op := range reduceNames {
		for _, c := range reduceCases {
			for _, opset := range []int{11, 13, 18} {
				for _, keep := range []int{0, 1} {
					lo := -2.0
					if op == "ReduceLogSum" {
						lo = 0.1
					}
					x := randT(r, lo, 2, c.shape...)
					want := reduceRef(op, x.F64(), c.shape, c.axes)
					ax := c.axes
					if ax == nil {
						ax = []int{}
					}
					shape := laReducedShape(c.shape, laAllAxes(ax, len(c.shape)), keep == 1)
					n, axIn := reduceNode(op, opset, c.axes, keep, 0)
					name := fmt.Sprintf("%s/%v/axes%v/opset%d/keep%d", op, c.shape, c.axes, opset, keep)
					laClose(t, name, laRun(t, n, x, axIn)[0], shape, want, 1e-12)
					laClose(t, name+"/f32", laRun(t, n, laF32(x), axIn)[0], shape, want, 2e-6)
				}
			}
		}
	}
}

func laAllAxes(axes []int, rank int) []int {
	if len(axes) == 0 {
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all
	}
	r := make([]int, len(axes))
	for i, a := range axes {
		r[i] = (a + rank) % rank
	}
	return r
}

func TestReduceSpecial(t *testing.T) {
	// noop_with_empty_axes: no reduction, only the elementwise part.
	x := tensor.New([]int{2, 2}, []float64{-1, 2, -3, 4})
	for op, want := range map[string][]float64{
		"ReduceSum": {-1, 2, -3, 4}, "ReduceL1": {1, 2, 3, 4}, "ReduceSumSquare": {1, 4, 9, 16}, "ReduceMean": {-1, 2, -3, 4},
	} {
		n, _ := reduceNode(op, 18, nil, 1, 1)
		laClose(t, op+"/noop", laRun(t, n, x)[0], []int{2, 2}, want, 0)
		empty := tensor.New([]int{0}, []int64{})
		laClose(t, op+"/noop-empty-input", laRun(t, n, x, empty)[0], []int{2, 2}, want, 0)
	}
	// Empty reductions give the identity.
	e := tensor.New([]int{2, 0, 3}, []float32{})
	for op, want := range map[string]float64{
		"ReduceSum": 0, "ReduceProd": 1, "ReduceMax": math.Inf(-1), "ReduceMin": math.Inf(1), "ReduceL1": 0, "ReduceL2": 0,
		"ReduceSumSquare": 0, "ReduceLogSum": math.Inf(-1), "ReduceLogSumExp": math.Inf(-1), "ReduceMean": math.NaN(),
	} {
		n, ax := reduceNode(op, 18, []int{1}, 1, 0)
		laClose(t, op+"/empty", laRun(t, n, e, ax)[0], []int{2, 1, 3}, []float64{want, want, want, want, want, want}, 0)
	}
	// Reducing a non-reduced empty axis gives an empty output.
	n, ax := reduceNode("ReduceSum", 13, []int{2}, 0, 0)
	laClose(t, "empty-kept", laRun(t, n, e, ax)[0], []int{2, 0}, nil, 0)
	// Integer and bool inputs.
	xi := tensor.New([]int{2, 3}, []int64{1, -5, 3, 4, 2, 6})
	for op, want := range map[string][]float64{
		"ReduceSum": {-1, 12}, "ReduceMax": {3, 6}, "ReduceMin": {-5, 2}, "ReduceProd": {-15, 48}, "ReduceL1": {9, 12}, "ReduceSumSquare": {35, 56},
	} {
		n, ax := reduceNode(op, 18, []int{1}, 0, 0)
		laClose(t, op+"/int64", laRun(t, n, xi, ax)[0], []int{2}, want, 0)
		xi32 := tensor.New([]int{2, 3}, []int32{1, -5, 3, 4, 2, 6})
		laClose(t, op+"/int32", laRun(t, n, xi32, ax)[0], []int{2}, want, 0)
	}
	xb := tensor.New([]int{2, 2}, []bool{true, false, true, true})
	for op, want := range map[string][]bool{"ReduceMax": {true, true}, "ReduceMin": {false, true}} {
		n, ax := reduceNode(op, 20, []int{1}, 0, 0)
		got := laRun(t, n, xb, ax)[0].B()
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s bool: %v, want %v", op, got, want)
		}
	}
	// NaN propagates through Max/Min.
	nan := tensor.New([]int{3}, []float64{1, math.NaN(), 2})
	n, _ = reduceNode("ReduceMax", 18, nil, 0, 0)
	if v := laRun(t, n, nan)[0].F64()[0]; !math.IsNaN(v) {
		t.Errorf("ReduceMax with NaN: %v", v)
	}
	// Errors: axis out of range; LogSumExp on integers.
	n, ax = reduceNode("ReduceSum", 13, []int{2}, 0, 0)
	if err := laForwardErr(n, x, ax); err == nil {
		t.Errorf("axis out of range: no error")
	}
	n, ax = reduceNode("ReduceLogSumExp", 18, []int{1}, 0, 0)
	if err := laForwardErr(n, xi, ax); err == nil {
		t.Errorf("ReduceLogSumExp on int64: no error")
	}
}

func TestReduceGrad(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	for _, op := range []string{"ReduceSum", "ReduceMean"} {
		for _, c := range reduceCases {
			for _, opset := range []int{11, 18} {
				for _, keep := range []int{0, 1} {
					n, ax := reduceNode(op, opset, c.axes, keep, 0)
					in := []*tensor.Tensor{randT(r, -1, 1, c.shape...)}
					if ax != nil {
						in = append(in, ax)
					}
					gc := gradCase{name: fmt.Sprintf("%s/%v/axes%v/opset%d/keep%d", op, c.shape, c.axes, opset, keep), node: n, in: in, wrt: []int{0}}
					t.Run(gc.name, func(t *testing.T) { checkGrad(t, gc) })
				}
			}
		}
		n, _ := reduceNode(op, 18, nil, 1, 1)
		gc := gradCase{name: op + "/noop", node: n, in: []*tensor.Tensor{randT(r, -1, 1, 2, 3)}}
		t.Run(gc.name, func(t *testing.T) { checkGrad(t, gc) })
	}
}

func TestArgMax(t *testing.T) {
	x := tensor.New([]int{2, 3}, []float32{2, 5, 5, 7, 1, 7})
	for _, c := range []struct {
		op          string
		axis, keep  int
		last        int
		shape       []int
		want        []float64
		description string
	}{
		{"ArgMax", 1, 1, 0, []int{2, 1}, []float64{1, 0}, "first of equal maxima"},
		{"ArgMax", 1, 1, 1, []int{2, 1}, []float64{2, 2}, "last of equal maxima"},
		{"ArgMax", 0, 0, 0, []int{3}, []float64{1, 0, 1}, "axis 0"},
		{"ArgMax", -1, 0, 0, []int{2}, []float64{1, 0}, "negative axis"},
		{"ArgMin", 1, 1, 0, []int{2, 1}, []float64{0, 1}, "min"},
		{"ArgMin", 0, 1, 1, []int{1, 3}, []float64{0, 1, 0}, "min last"},
	} {
		n := laNode(c.op, 13, "axis", c.axis, "keepdims", c.keep, "select_last_index", c.last)
		out := laRun(t, n, x)[0]
		if out.DType() != tensor.Int64 {
			t.Fatalf("%s: output type %s", c.description, out.DType())
		}
		laClose(t, c.description, out, c.shape, c.want, 0)
	}
	// Default axis 0 and keepdims 1; every element type.
	for _, in := range []*tensor.Tensor{
		tensor.New([]int{3, 2}, []float64{1, 9, 8, 2, 3, 4}),
		tensor.New([]int{3, 2}, []int64{1, 9, 8, 2, 3, 4}),
		tensor.New([]int{3, 2}, []int32{1, 9, 8, 2, 3, 4}),
		tensor.New([]int{3, 2}, []uint8{1, 9, 8, 2, 3, 4}),
		tensor.New([]int{3, 2}, []int8{1, 9, 8, 2, 3, 4}),
	} {
		laClose(t, "default-"+in.DType().String(), laRun(t, laNode("ArgMax", 11), in)[0], []int{1, 2}, []float64{1, 0}, 0)
	}
	if err := laForwardErr(laNode("ArgMax", 13, "axis", 1), tensor.New([]int{2, 0}, []float32{})); err == nil {
		t.Errorf("ArgMax over an empty axis: no error")
	}
}
