package ops

import (
	"math"
	"testing"

	"ft/tensor"
)

func TestRangeForward(t *testing.T) {
	mvCheck(t, []mvCase{
		{name: "int64", op: "Range", in: []*tensor.Tensor{i64(nil, 0), i64(nil, 5), i64(nil, 1)}, want: []*tensor.Tensor{i64([]int{5}, 0, 1, 2, 3, 4)}},
		{name: "int32-negative", op: "Range", in: []*tensor.Tensor{mvI32(nil, 10), mvI32(nil, 6), mvI32(nil, -3)}, want: []*tensor.Tensor{mvI32([]int{2}, 10, 7)}},
		{name: "int-uneven", op: "Range", in: []*tensor.Tensor{i64(nil, 1), i64(nil, 8), i64(nil, 3)}, want: []*tensor.Tensor{i64([]int{3}, 1, 4, 7)}},
		{name: "empty", op: "Range", in: []*tensor.Tensor{i64(nil, 5), i64(nil, 1), i64(nil, 1)}, want: []*tensor.Tensor{i64([]int{0})}},
		{name: "float32", op: "Range", in: []*tensor.Tensor{mvF32(nil, 1), mvF32(nil, 2), mvF32(nil, 0.25)}, want: []*tensor.Tensor{mvF32([]int{4}, 1, 1.25, 1.5, 1.75)}},
		{name: "float64-ceil", op: "Range", in: []*tensor.Tensor{mvF64(nil, 0), mvF64(nil, 1), mvF64(nil, 0.4)}, want: []*tensor.Tensor{mvF64([]int{3}, 0, 0.4, 0.8)}},
		{name: "one-element-1d", op: "Range", in: []*tensor.Tensor{i64([]int{1}, 0), i64([]int{1}, 2), i64([]int{1}, 1)}, want: []*tensor.Tensor{i64([]int{2}, 0, 1)}},
		{name: "err-delta0", op: "Range", in: []*tensor.Tensor{i64(nil, 0), i64(nil, 5), i64(nil, 0)}, errSub: "delta is 0"},
		{name: "err-types", op: "Range", in: []*tensor.Tensor{i64(nil, 0), mvI32(nil, 5), i64(nil, 1)}, errSub: "types"},
		{name: "err-not-scalar", op: "Range", in: []*tensor.Tensor{i64([]int{2}, 0, 1), i64(nil, 5), i64(nil, 1)}, errSub: "scalar"},
		{name: "err-huge", op: "Range", in: []*tensor.Tensor{i64(nil, 0), i64(nil, math.MaxInt64), i64(nil, 1)}, errSub: "too many"},
		// l-s overflows int64: the count is still right (it used to be empty)
		{name: "int64-far-apart", op: "Range", in: []*tensor.Tensor{i64(nil, -5), i64(nil, math.MaxInt64), i64(nil, 1<<62)}, want: []*tensor.Tensor{i64([]int{3}, -5, 1<<62-5, math.MaxInt64-4)}},
		{name: "int64-far-apart-down", op: "Range", in: []*tensor.Tensor{i64(nil, math.MaxInt64), i64(nil, math.MinInt64), i64(nil, -(1 << 62))}, want: []*tensor.Tensor{i64([]int{4}, math.MaxInt64, math.MaxInt64-1<<62, -1, -1-1<<62)}},
		{name: "int64-min-delta", op: "Range", in: []*tensor.Tensor{i64(nil, math.MaxInt64), i64(nil, math.MinInt64), i64(nil, math.MinInt64)}, want: []*tensor.Tensor{i64([]int{2}, math.MaxInt64, -1)}},
		{name: "err-overflow", op: "Range", in: []*tensor.Tensor{i64(nil, math.MinInt64), i64(nil, math.MaxInt64), i64(nil, 1)}, errSub: "has 18446744073709551615 elements, too many"},
		{name: "err-overflow-names-node", op: "Range", in: []*tensor.Tensor{i64(nil, -2), i64(nil, math.MaxInt64), i64(nil, 2)}, errSub: `Range node "`},
		{name: "err-nan", op: "Range", in: []*tensor.Tensor{mvF64(nil, 0), mvF64(nil, math.NaN()), mvF64(nil, 1)}, errSub: "too many"},
		{name: "err-bool", op: "Range", in: []*tensor.Tensor{tensor.Scalar(true), tensor.Scalar(true), tensor.Scalar(true)}, errSub: "not supported"},
	})
}
