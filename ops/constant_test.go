package ops

import (
	"testing"

	"ft/tensor"
)

func TestConstantForward(t *testing.T) {
	mvCheck(t, []mvCase{
		{name: "value", op: "Constant", attrs: map[string]Attr{"value": mvAT(mvI32([]int{2}, 3, 4))}, want: []*tensor.Tensor{mvI32([]int{2}, 3, 4)}},
		{name: "value_float", op: "Constant", attrs: map[string]Attr{"value_float": mvAF(1.5)}, want: []*tensor.Tensor{mvF32([]int{}, 1.5)}},
		{name: "value_floats", op: "Constant", attrs: map[string]Attr{"value_floats": mvAFs(1, 2)}, want: []*tensor.Tensor{mvF32([]int{2}, 1, 2)}},
		{name: "value_int", op: "Constant", attrs: map[string]Attr{"value_int": mvAI(-3)}, want: []*tensor.Tensor{i64([]int{}, -3)}},
		{name: "value_ints", op: "Constant", attrs: map[string]Attr{"value_ints": mvAIs(5, 6, 7)}, want: []*tensor.Tensor{i64([]int{3}, 5, 6, 7)}},
		{name: "err-string", op: "Constant", attrs: map[string]Attr{"value_string": mvAS("x")}, errSub: "not supported"},
		{name: "err-none", op: "Constant", errSub: "exactly one"},
		{name: "err-two", op: "Constant", attrs: map[string]Attr{"value_int": mvAI(1), "value_float": mvAF(1)}, errSub: "exactly one"},
		{name: "err-nil-tensor", op: "Constant", attrs: map[string]Attr{"value": {Kind: AttrTensor}}, errSub: "unsupported type"},
	})
}

// TestConstantFresh checks that writing into one run's output does not
// change the next.
func TestConstantFresh(t *testing.T) {
	o, err := Build(mvNode("Constant", 13, map[string]Attr{"value_ints": mvAIs(1, 2)}, 1, nil))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := o.Forward(nil)
	a[0].I64()[0] = 9
	b, _ := o.Forward(nil)
	if b[0].I64()[0] != 1 {
		t.Fatal("Constant returned a shared buffer")
	}
}

func TestConstantOfShapeForward(t *testing.T) {
	mvCheck(t, []mvCase{
		{name: "default", op: "ConstantOfShape", in: []*tensor.Tensor{i64([]int{2}, 2, 3)}, want: []*tensor.Tensor{tensor.Zeros(tensor.Float32, 2, 3)}},
		{name: "int64-value", op: "ConstantOfShape", attrs: map[string]Attr{"value": mvAT(i64([]int{1}, 7))}, in: []*tensor.Tensor{i64([]int{1}, 3)},
			want: []*tensor.Tensor{i64([]int{3}, 7, 7, 7)}},
		{name: "bool-value", op: "ConstantOfShape", attrs: map[string]Attr{"value": mvAT(tensor.New([]int{1}, []bool{true}))}, in: []*tensor.Tensor{i64([]int{2}, 1, 2)},
			want: []*tensor.Tensor{tensor.New([]int{1, 2}, []bool{true, true})}},
		{name: "scalar", op: "ConstantOfShape", attrs: map[string]Attr{"value": mvAT(mvF64([]int{1}, 2))}, in: []*tensor.Tensor{i64([]int{0})},
			want: []*tensor.Tensor{mvF64([]int{}, 2)}},
		{name: "zero-dim", op: "ConstantOfShape", in: []*tensor.Tensor{i64([]int{2}, 0, 3)}, want: []*tensor.Tensor{tensor.Zeros(tensor.Float32, 0, 3)}},
		{name: "err-negative", op: "ConstantOfShape", in: []*tensor.Tensor{i64([]int{2}, 2, -1)}, errSub: "negative"},
		{name: "err-huge", op: "ConstantOfShape", in: []*tensor.Tensor{i64([]int{3}, 1<<20, 1<<20, 1<<20)}, errSub: "too large"},
		{name: "err-value-size", op: "ConstantOfShape", attrs: map[string]Attr{"value": mvAT(mvF64([]int{2}, 1, 2))}, in: []*tensor.Tensor{i64([]int{1}, 2)}, errSub: "one element"},
		{name: "err-float-shape", op: "ConstantOfShape", in: []*tensor.Tensor{mvF64([]int{1}, 2)}, errSub: "integer tensor"},
	})
}
