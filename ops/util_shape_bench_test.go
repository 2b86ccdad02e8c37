package ops

import (
	"testing"

	"ft/tensor"
)

// Data-movement benchmarks at BERT-base sizes (batch 8, sequence 128).

func mvBench(b *testing.B, op string, attrs map[string]Attr, in ...*tensor.Tensor) {
	o, err := Build(mvNode(op, 17, attrs, 1, in))
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, x := range in {
		bytes += int64(x.Len()) * 4
	}
	b.SetBytes(bytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := o.Forward(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransposeBSHD(b *testing.B) {
	x := tensor.Zeros(tensor.Float32, 8, 128, 12, 64)
	mvBench(b, "Transpose", map[string]Attr{"perm": mvAIs(0, 2, 1, 3)}, x)
}

func BenchmarkTransposeKeys(b *testing.B) {
	x := tensor.Zeros(tensor.Float32, 8, 128, 12, 64)
	mvBench(b, "Transpose", map[string]Attr{"perm": mvAIs(0, 2, 3, 1)}, x)
}

func BenchmarkGatherEmbedding(b *testing.B) {
	idx := make([]int64, 8*128)
	for i := range idx {
		idx[i] = int64(i * 29 % 30522)
	}
	mvBench(b, "Gather", nil, tensor.Zeros(tensor.Float32, 30522, 768), i64([]int{8, 128}, idx...))
}

func BenchmarkReshapeActivation(b *testing.B) {
	mvBench(b, "Reshape", nil, tensor.Zeros(tensor.Float32, 8, 128, 768), i64([]int{4}, 0, 0, 12, 64))
}

func BenchmarkSliceLastAxis(b *testing.B) {
	mvBench(b, "Slice", nil, tensor.Zeros(tensor.Float32, 8, 128, 768), i64([]int{1}, 0), i64([]int{1}, 384), i64([]int{1}, -1))
}

func BenchmarkConcatLastAxis(b *testing.B) {
	x := tensor.Zeros(tensor.Float32, 8, 128, 384)
	mvBench(b, "Concat", map[string]Attr{"axis": mvAI(-1)}, x, x)
}

func BenchmarkExpandMask(b *testing.B) {
	mvBench(b, "Expand", nil, tensor.Zeros(tensor.Float32, 8, 1, 1, 128), i64([]int{4}, 8, 12, 128, 128))
}
