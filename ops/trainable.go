package ops

// Trainable is the one list of ops that can lie between a trainable parameter
// and the loss: each has a hand-written Backward next to its Forward in its own
// file, checked against finite differences in float64 (ops/*_test.go).
// TestTrainableList asserts that every op listed here implements
// Differentiable and that no other op does.
var Trainable = []string{
	// linear algebra
	"MatMul", "Gemm", "Einsum",
	// arithmetic (gradients summed over broadcast axes)
	"Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs", "Min", "Max", "Sqrt", "Exp", "Log",
	// activations and normalisation
	"Erf", "Tanh", "Relu", "Sigmoid", "Gelu", "Softmax", "LogSoftmax", "FtMaskedSoftmax", "LayerNormalization",
	"Sin", "Cos", "Clip", "Dropout",
	// reductions
	"ReduceMean", "ReduceSum",
	// data movement
	"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Concat", "Split", "Slice",
	"Gather", "GatherElements", "Expand", "Tile", "Where", "Cast", "Identity",
	// fused attention products (graph/fuse_attention.go, ops/attention_fused.go)
	"FtAttentionScores", "FtAttentionContext",
}
