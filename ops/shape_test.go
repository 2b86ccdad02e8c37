package ops

import (
	"testing"

	"ft/tensor"
)

func TestShapeSizeForward(t *testing.T) {
	x := tensor.Zeros(tensor.Bool, 2, 3, 4)
	mvCheck(t, []mvCase{
		{name: "Shape/all", op: "Shape", in: []*tensor.Tensor{x}, want: []*tensor.Tensor{i64([]int{3}, 2, 3, 4)}},
		{name: "Shape/scalar", op: "Shape", in: []*tensor.Tensor{mvF64(nil, 1)}, want: []*tensor.Tensor{i64([]int{0})}},
		{name: "Shape/start", op: "Shape", attrs: map[string]Attr{"start": mvAI(1)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{i64([]int{2}, 3, 4)}},
		{name: "Shape/start-end-neg", op: "Shape", attrs: map[string]Attr{"start": mvAI(-2), "end": mvAI(-1)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{i64([]int{1}, 3)}},
		{name: "Shape/clip", op: "Shape", attrs: map[string]Attr{"start": mvAI(-10), "end": mvAI(10)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{i64([]int{3}, 2, 3, 4)}},
		{name: "Shape/start-after-end", op: "Shape", attrs: map[string]Attr{"start": mvAI(2), "end": mvAI(1)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{i64([]int{0})}},
		{name: "Shape/attrs-ignored-before-15", op: "Shape", opset: 14, attrs: map[string]Attr{"start": mvAI(1)}, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{i64([]int{3}, 2, 3, 4)}},
		{name: "Size", op: "Size", in: []*tensor.Tensor{x}, want: []*tensor.Tensor{i64([]int{}, 24)}},
		{name: "Size/empty", op: "Size", in: []*tensor.Tensor{mvF64([]int{3, 0})}, want: []*tensor.Tensor{i64([]int{}, 0)}},
	})
}
