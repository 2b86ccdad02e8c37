package onnx

// Helpers for adding nodes and tensors to a graph (model adaptation, export).

// Str returns a pointer to s, for optional proto string fields.
func Str(s string) *string { return &s }

// Int returns a pointer to v.
func Int(v int64) *int64 { return &v }

// NewNode makes a node of the default domain.
func NewNode(opType, name string, inputs, outputs []string, attrs ...*AttributeProto) *NodeProto {
	return &NodeProto{OpType: Str(opType), Name: Str(name), Domain: Str(""), Input: inputs, Output: outputs, Attribute: attrs}
}

// IntAttr makes an INT attribute.
func IntAttr(name string, v int64) *AttributeProto {
	return &AttributeProto{Name: Str(name), Type: AttributeProto_INT.Enum(), I: Int(v)}
}

// IntsAttr makes an INTS attribute.
func IntsAttr(name string, v ...int64) *AttributeProto {
	return &AttributeProto{Name: Str(name), Type: AttributeProto_INTS.Enum(), Ints: v}
}

// FloatAttr makes a FLOAT attribute.
func FloatAttr(name string, v float32) *AttributeProto {
	return &AttributeProto{Name: Str(name), Type: AttributeProto_FLOAT.Enum(), F: &v}
}

// TensorValueInfo declares a tensor value with symbolic or fixed dims
// (a string for a symbolic dim, an int for a fixed one).
func TensorValueInfo(name string, elem TensorProto_DataType, dims ...any) *ValueInfoProto {
	shape := &TensorShapeProto{}
	for _, d := range dims {
		switch v := d.(type) {
		case string:
			shape.Dim = append(shape.Dim, &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimParam{DimParam: v}})
		case int:
			shape.Dim = append(shape.Dim, &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}})
		}
	}
	et := int32(elem)
	return &ValueInfoProto{Name: Str(name), Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{ElemType: &et, Shape: shape}}}}
}
