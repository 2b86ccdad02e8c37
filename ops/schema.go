package ops

// Required inputs, from the ONNX operator schemas (onnx.defs: every op
// ft supports lists its required inputs first, then the optional ones;
// ONNX leaves an input's name empty only where it is optional). The
// importer refuses a node that leaves a required input empty or out, so
// ops never see nil where the schema promises a tensor.

// reqVersion: from opset since on, the first n inputs are required (n < 0:
// every input given, at least one: a variadic op).
type reqVersion struct{ since, n int }

var requiredInputs = map[string][]reqVersion{
	"Constant": {{1, 0}},
	// variadic
	"Concat": {{1, -1}}, "Max": {{1, -1}}, "Min": {{1, -1}}, "Einsum": {{1, -1}},
	// changed across opsets
	"Gemm":      {{1, 3}, {11, 2}},
	"Pad":       {{1, 1}, {11, 2}},
	"Reshape":   {{1, 1}, {5, 2}},
	"Slice":     {{1, 1}, {10, 3}},
	"Tile":      {{1, 3}, {6, 2}},
	"Unsqueeze": {{1, 1}, {13, 2}},
	// quantization (quant.go, matmulinteger.go)
	"QLinearMatMul": {{1, 8}}, "QuantizeLinear": {{1, 2}}, "DequantizeLinear": {{1, 2}},
	"MatMulInteger": {{1, 2}}, "DynamicQuantizeLinear": {{1, 1}},
	// three
	"Range": {{1, 3}}, "ScatterND": {{1, 3}}, "Where": {{1, 3}},
	// two
	"Add": {{1, 2}}, "And": {{1, 2}}, "CastLike": {{1, 2}}, "CumSum": {{1, 2}}, "Div": {{1, 2}},
	"Equal": {{1, 2}}, "Expand": {{1, 2}}, "Gather": {{1, 2}}, "GatherElements": {{1, 2}},
	"Greater": {{1, 2}}, "GreaterOrEqual": {{1, 2}}, "LayerNormalization": {{1, 2}}, "Less": {{1, 2}},
	"LessOrEqual": {{1, 2}}, "MatMul": {{1, 2}}, "Mod": {{1, 2}}, "Mul": {{1, 2}}, "Or": {{1, 2}},
	"Pow": {{1, 2}}, "Sub": {{1, 2}}, "Xor": {{1, 2}},
	// ft's fused ops (package graph makes them; a model may name them too)
	"FtAttentionScores": {{1, 2}}, "FtAttentionContext": {{1, 2}}, "FtMaskedSoftmax": {{1, 2}},
	"FtTransposedShape": {{1, 1}},
	// one
	"Abs": {{1, 1}}, "ArgMax": {{1, 1}}, "ArgMin": {{1, 1}}, "Cast": {{1, 1}}, "Ceil": {{1, 1}},
	"Clip": {{1, 1}}, "ConstantOfShape": {{1, 1}}, "Cos": {{1, 1}}, "Dropout": {{1, 1}}, "Erf": {{1, 1}},
	"Exp": {{1, 1}}, "Flatten": {{1, 1}}, "Floor": {{1, 1}}, "Gelu": {{1, 1}}, "Identity": {{1, 1}},
	"If": {{1, 1}}, "IsInf": {{1, 1}}, "IsNaN": {{1, 1}}, "Log": {{1, 1}}, "LogSoftmax": {{1, 1}},
	"Neg": {{1, 1}}, "NonZero": {{1, 1}}, "Not": {{1, 1}}, "Reciprocal": {{1, 1}},
	"ReduceL1": {{1, 1}}, "ReduceL2": {{1, 1}}, "ReduceLogSum": {{1, 1}}, "ReduceLogSumExp": {{1, 1}},
	"ReduceMax": {{1, 1}}, "ReduceMean": {{1, 1}}, "ReduceMin": {{1, 1}}, "ReduceProd": {{1, 1}},
	"ReduceSum": {{1, 1}}, "ReduceSumSquare": {{1, 1}}, "Relu": {{1, 1}}, "Shape": {{1, 1}},
	"Sigmoid": {{1, 1}}, "Sign": {{1, 1}}, "Sin": {{1, 1}}, "Size": {{1, 1}}, "Softmax": {{1, 1}},
	"Softplus": {{1, 1}}, "Split": {{1, 1}}, "Sqrt": {{1, 1}}, "Squeeze": {{1, 1}}, "Tanh": {{1, 1}},
	"Transpose": {{1, 1}}, "Trilu": {{1, 1}},
}

// RequiredInputs returns how many leading inputs of an op of the default
// ONNX domain must be present (non-empty) at an opset, for a node that
// lists given inputs; known is false for ops not in the table (custom
// domains), which the importer then does not check.
func RequiredInputs(domain, opType string, opset, given int) (n int, known bool) {
	if domain != "" && domain != "ai.onnx" {
		return 0, false
	}
	vs, ok := requiredInputs[opType]
	if !ok {
		return 0, false
	}
	n = vs[0].n
	for _, v := range vs {
		if v.since <= opset {
			n = v.n
		}
	}
	if n < 0 {
		n = max(given, 1)
	}
	return n, true
}
