package onnx

// Dynamic int8 quantization of a float model, as
// onnxruntime.quantization.quantize_dynamic(per_channel=True,
// weight_type=QInt8, op_types_to_quantize=["MatMul"]) writes it:
//
//	MatMul(A, W)   W a float32 initializer [k, n]
//	→ DynamicQuantizeLinear(A) → A_quantized, A_scale, A_zero_point   (once per A)
//	  MatMulInteger(A_quantized, W_quantized, A_zero_point, W_zero_point)
//	  Cast(to float) · Mul(A_scale, W_scale)                           (the output)
//
// W is quantized per column, symmetric: scale_j = 2·max|W[:, j]| / 254 in
// float32 (1 where that is below the smallest normal float32), zero point 0,
// W_quantized = clip(rint(W / scale_j), -127, 127) (rint: half to even,
// float32 division), ONNX Runtime's quantize_data for QInt8 with
// symmetric weights. Other ops are left in float32 (ONNX Runtime also
// quantizes Gather weights by default; ft does not).

import (
	"fmt"
	"math"

	"ft/tensor"
)

// QuantizeReport says what QuantizeDynamic did.
type QuantizeReport struct {
	MatMuls     int   // MatMul nodes turned into MatMulInteger
	FloatBytes  int64 // bytes of the float32 weights replaced
	Int8Bytes   int64 // bytes of their int8 weights, scales and zero points
	Activations int   // DynamicQuantizeLinear nodes added
}

// QuantizeWeightPerColumn quantizes w (k×n, row-major) per column as
// QuantizeDynamic does, returning the int8 weights and the n scales.
func QuantizeWeightPerColumn(w []float32, k, n int) ([]int8, []float32) {
	scale := make([]float32, n)
	for j := 0; j < n; j++ {
		var amax float32
		for i := 0; i < k; i++ {
			amax = max(amax, float32(math.Abs(float64(w[i*n+j]))))
		}
		s := 2 * amax / 254
		if s < math.SmallestNonzeroFloat32*(1<<23) { // float32 tiny (smallest normal)
			s = 1
		}
		scale[j] = s
	}
	q := make([]int8, k*n)
	for i := 0; i < k; i++ {
		for j := 0; j < n; j++ {
			v := math.RoundToEven(float64(w[i*n+j] / scale[j]))
			q[i*n+j] = int8(max(-127, min(127, v)))
		}
	}
	return q, scale
}

// QuantizeDynamic rewrites m's main graph in place (see the top of this
// file). It refuses a model whose default-domain opset is below 11
// (DynamicQuantizeLinear) and leaves MatMuls and Gemms whose second input is
// not a 2-D float32 initializer as they are.
func (m *Model) QuantizeDynamic() (QuantizeReport, error) {
	var rep QuantizeReport
	if v := m.Opset(""); v < 11 {
		return rep, fmt.Errorf("quantize: the model's opset is %d; DynamicQuantizeLinear needs 11 or later (re-export it with a newer opset)", v)
	}
	g := m.Proto.Graph
	inits := Initializers(g)
	uses := map[string]int{}
	for _, n := range g.Node {
		for _, in := range n.Input {
			uses[in]++
		}
	}
	for _, o := range g.Output {
		uses[o.GetName()]++
	}
	subgraphUses(g, uses)
	quantized := map[string]bool{} // activations given a DynamicQuantizeLinear
	done := map[string]bool{}      // weights already quantized
	var nodes []*NodeProto
	var drop = map[string]bool{}
	for _, n := range g.Node {
		mm, ok, err := quantizable(m, n, inits)
		if err != nil {
			return rep, err
		}
		if !ok {
			nodes = append(nodes, n)
			continue
		}
		a, wName, out := mm.a, mm.w, mm.out
		if mm.bias != "" {
			out = mm.out + "_MatMul_output"
		}
		if !done[wName] {
			k, nn := mm.weight.Shape[0], mm.weight.Shape[1]
			q, s := QuantizeWeightPerColumn(mm.weight.F32(), k, nn)
			add := func(name string, t *tensor.Tensor) error {
				p, err := FromTensor(name, t)
				if err != nil {
					return err
				}
				g.Initializer = append(g.Initializer, p)
				rep.Int8Bytes += int64(len(p.RawData))
				return nil
			}
			if err := add(wName+"_quantized", tensor.New([]int{k, nn}, q)); err != nil {
				return rep, err
			}
			if err := add(wName+"_scale", tensor.New([]int{nn}, s)); err != nil {
				return rep, err
			}
			if err := add(wName+"_zero_point", tensor.New([]int{nn}, make([]int8, nn))); err != nil {
				return rep, err
			}
			rep.FloatBytes += int64(4 * k * nn)
			done[wName] = true
		}
		src := n.Input[1]
		uses[src]--
		if uses[src] == 0 {
			drop[src] = true
		}
		if !quantized[a] {
			nodes = append(nodes, NewNode("DynamicQuantizeLinear", a+"_QuantizeLinear", []string{a},
				[]string{a + "_quantized", a + "_scale", a + "_zero_point"}))
			quantized[a] = true
			rep.Activations++
		}
		name := n.GetName()
		if name == "" {
			name = mm.out
		}
		nodes = append(nodes,
			NewNode("Mul", name+"_quant_scales_mul", []string{a + "_scale", wName + "_scale"}, []string{name + "_quant_scales_mul:0"}),
			NewNode("MatMulInteger", name+"_quant", []string{a + "_quantized", wName + "_quantized", a + "_zero_point", wName + "_zero_point"}, []string{out + "_output_quantized"}),
			NewNode("Cast", out+"_output_quantized_cast", []string{out + "_output_quantized"}, []string{out + "_output_quantized_cast_output"}, IntAttr("to", int64(TensorProto_FLOAT))),
			NewNode("Mul", name+"_quant_output_scale_mul", []string{out + "_output_quantized_cast_output", name + "_quant_scales_mul:0"}, []string{out}),
		)
		if mm.bias != "" {
			nodes = append(nodes, NewNode("Add", name+"_Add", []string{out, mm.bias}, []string{mm.out}))
		}
		rep.MatMuls++
	}
	g.Node = nodes
	if len(drop) > 0 {
		var keep []*TensorProto
		for _, t := range g.Initializer {
			if !drop[t.GetName()] {
				keep = append(keep, t)
			}
		}
		g.Initializer = keep
		var ins []*ValueInfoProto
		for _, v := range g.Input {
			if !drop[v.GetName()] {
				ins = append(ins, v)
			}
		}
		g.Input = ins
	}
	return rep, nil
}

// quantMatMul is a node QuantizeDynamic rewrites: out = a · weight (+ bias).
type quantMatMul struct {
	a, w, out, bias string
	weight          *tensor.Tensor // k×n float32
}

// quantizable reports whether n is a MatMul, or a Gemm that is one plus a
// bias (alpha = beta = 1, A not transposed; ONNX Runtime turns those into
// MatMul and Add first, naming a transposed B "<B>_Transposed"), of an
// activation by a 2-D float32 initializer.
func quantizable(m *Model, n *NodeProto, inits map[string]*TensorProto) (quantMatMul, bool, error) {
	var q quantMatMul
	if (n.GetDomain() != "" && n.GetDomain() != "ai.onnx") || len(n.Output) != 1 || len(n.Input) < 2 {
		return q, false, nil
	}
	transB := false
	switch n.GetOpType() {
	case "MatMul":
	case "Gemm":
		for _, at := range n.Attribute {
			switch at.GetName() {
			case "alpha", "beta":
				if at.GetF() != 1 {
					return q, false, nil
				}
			case "transA":
				if at.GetI() != 0 {
					return q, false, nil
				}
			case "transB":
				transB = at.GetI() != 0
			}
		}
		if len(n.Input) > 2 && n.Input[2] != "" {
			q.bias = n.Input[2]
		}
	default:
		return q, false, nil
	}
	q.a, q.w, q.out = n.Input[0], n.Input[1], n.Output[0]
	wp := inits[q.w]
	if wp == nil || inits[q.a] != nil || TensorProto_DataType(wp.GetDataType()) != TensorProto_FLOAT || len(wp.Dims) != 2 {
		return q, false, nil
	}
	wt, err := m.Tensor(wp)
	if err != nil {
		return q, false, fmt.Errorf("quantize: node %q: %v", n.GetName(), err)
	}
	if transB {
		r, c := wt.Shape[0], wt.Shape[1]
		src, d := wt.F32(), make([]float32, r*c)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				d[j*r+i] = src[i*c+j]
			}
		}
		wt = tensor.New([]int{c, r}, d)
		q.w += "_Transposed"
	}
	q.weight = wt
	return q, true, nil
}
