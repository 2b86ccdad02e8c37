package ops

import (
	"math"
	"testing"

	"ft/tensor"
)

func TestNonZeroForward(t *testing.T) {
	mvCheck(t, []mvCase{
		{name: "2d", op: "NonZero", in: []*tensor.Tensor{mvF64([]int{2, 2}, 1, 0, 1, 1)}, want: []*tensor.Tensor{i64([]int{2, 3}, 0, 1, 1, 0, 0, 1)}},
		{name: "bool", op: "NonZero", in: []*tensor.Tensor{tensor.New([]int{3}, []bool{false, true, true})}, want: []*tensor.Tensor{i64([]int{1, 2}, 1, 2)}},
		{name: "nan-and-negzero", op: "NonZero", in: []*tensor.Tensor{mvF64([]int{3}, math.NaN(), math.Copysign(0, -1), -2)}, want: []*tensor.Tensor{i64([]int{1, 2}, 0, 2)}},
		{name: "none", op: "NonZero", in: []*tensor.Tensor{i64([]int{2, 2}, 0, 0, 0, 0)}, want: []*tensor.Tensor{i64([]int{2, 0})}},
		{name: "scalar", op: "NonZero", in: []*tensor.Tensor{mvF32(nil, 3)}, want: []*tensor.Tensor{i64([]int{1, 1}, 0)}},
		{name: "scalar-zero", op: "NonZero", in: []*tensor.Tensor{mvF32(nil, 0)}, want: []*tensor.Tensor{i64([]int{1, 0})}},
	})
}
