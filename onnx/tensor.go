package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"ft/tensor"
)

// elemSize returns the byte size of a data type in raw_data, or 0 if ft does
// not read that type.
func elemSize(dt int32) int {
	switch TensorProto_DataType(dt) {
	case TensorProto_FLOAT, TensorProto_INT32, TensorProto_UINT32:
		return 4
	case TensorProto_DOUBLE, TensorProto_INT64, TensorProto_UINT64:
		return 8
	case TensorProto_BOOL, TensorProto_UINT8, TensorProto_INT8:
		return 1
	case TensorProto_FLOAT16, TensorProto_BFLOAT16, TensorProto_INT16, TensorProto_UINT16:
		return 2
	}
	return 0
}

// byteSize returns the raw byte size of t's data, or -1 when unknown.
func byteSize(t *TensorProto) (int64, error) {
	shape, err := CheckShape(t.Dims)
	if err != nil {
		return 0, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	es := elemSize(t.GetDataType())
	if es == 0 {
		return -1, nil
	}
	return int64(tensor.Size(shape)) * int64(es), nil
}

// checkLimit refuses a tensor above the memory limit (tensor.SetMemoryLimit,
// FT_MEMORY_LIMIT) before its data is read or allocated.
func checkLimit(t *TensorProto, shape []int) error {
	dt := DTypeOf(t.GetDataType())
	if dt == tensor.Invalid {
		dt = tensor.Float32 // FLOAT16 and BFLOAT16 are widened
	}
	if err := tensor.CheckAlloc(dt, shape); err != nil {
		return fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	return nil
}

// DTypeOf maps an ONNX data type to ft's, or tensor.Invalid.
func DTypeOf(dt int32) tensor.DType {
	switch TensorProto_DataType(dt) {
	case TensorProto_FLOAT:
		return tensor.Float32
	case TensorProto_DOUBLE:
		return tensor.Float64
	case TensorProto_INT64:
		return tensor.Int64
	case TensorProto_INT32:
		return tensor.Int32
	case TensorProto_BOOL:
		return tensor.Bool
	case TensorProto_UINT8:
		return tensor.Uint8
	case TensorProto_INT8:
		return tensor.Int8
	}
	return tensor.Invalid
}

// DataTypeOf maps ft's element type to the ONNX data type.
func DataTypeOf(dt tensor.DType) TensorProto_DataType {
	switch dt {
	case tensor.Float32:
		return TensorProto_FLOAT
	case tensor.Float64:
		return TensorProto_DOUBLE
	case tensor.Int64:
		return TensorProto_INT64
	case tensor.Int32:
		return TensorProto_INT32
	case tensor.Bool:
		return TensorProto_BOOL
	case tensor.Uint8:
		return TensorProto_UINT8
	case tensor.Int8:
		return TensorProto_INT8
	}
	return TensorProto_UNDEFINED
}

// DataTypeName names an ONNX data type.
func DataTypeName(dt int32) string {
	if s, ok := TensorProto_DataType_name[dt]; ok {
		return s
	}
	return fmt.Sprintf("type %d", dt)
}

// ToTensor converts an in-memory TensorProto (raw_data or typed fields) to a
// tensor. FLOAT16 and BFLOAT16 are widened to float32. External data must
// be resolved first (Model.Tensor does).
func ToTensor(t *TensorProto) (*tensor.Tensor, error) {
	if t.GetDataLocation() == TensorProto_EXTERNAL {
		return nil, fmt.Errorf("tensor %q: external data not loaded", t.GetName())
	}
	shape, err := CheckShape(t.Dims)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	n := tensor.Size(shape)
	dt := TensorProto_DataType(t.GetDataType())
	es := elemSize(int32(dt))
	if es == 0 {
		return nil, fmt.Errorf("tensor %q: data type %s is not supported", t.GetName(), DataTypeName(int32(dt)))
	}
	hasRaw := t.RawData != nil
	// check the data's length before allocating
	if hasRaw && len(t.RawData) != n*es {
		return nil, fmt.Errorf("tensor %q: raw_data holds %d bytes, shape %v of %s needs %d", t.GetName(), len(t.RawData), shape, DataTypeName(int32(dt)), n*es)
	}
	if got := typedLen(t, dt); !hasRaw && got != n {
		return nil, fmt.Errorf("tensor %q: holds %d values, shape %v needs %d", t.GetName(), got, shape, n)
	}
	if err := checkLimit(t, shape); err != nil {
		return nil, err
	}
	var d *tensor.Tensor
	if hasRaw {
		d = fromRaw(dt, t.RawData, shape)
	} else {
		d = fromTyped(t, dt, shape)
	}
	if d == nil {
		return nil, fmt.Errorf("tensor %q: data type %s is not supported", t.GetName(), DataTypeName(int32(dt)))
	}
	return d, nil
}

// typedLen is the number of values in the typed field that holds data of
// type dt.
func typedLen(t *TensorProto, dt TensorProto_DataType) int {
	switch dt {
	case TensorProto_FLOAT:
		return len(t.FloatData)
	case TensorProto_DOUBLE:
		return len(t.DoubleData)
	case TensorProto_INT64:
		return len(t.Int64Data)
	case TensorProto_UINT64, TensorProto_UINT32:
		return len(t.Uint64Data)
	}
	return len(t.Int32Data) // FLOAT16, BFLOAT16, INT32, INT16, UINT16, BOOL, UINT8, INT8
}

// copyOf returns a copy of s that is never nil.
func copyOf[T any](s []T) []T {
	d := make([]T, len(s))
	copy(d, s)
	return d
}

// decode makes a slice of n values, value i being at(i).
func decode[T any](n int, at func(i int) T) []T {
	d := make([]T, n)
	for i := range d {
		d[i] = at(i)
	}
	return d
}

// fromRaw decodes little-endian raw_data of type dt, whose length has been
// checked against shape, or nil for a type it does not know. UINT32 and UINT64 are widened to int64 (values
// above MaxInt64 wrap: rare in models), INT16 and UINT16 to int32.
func fromRaw(dt TensorProto_DataType, raw []byte, shape []int) *tensor.Tensor {
	n := tensor.Size(shape)
	le := binary.LittleEndian
	switch dt {
	case TensorProto_FLOAT:
		return tensor.New(shape, decode(n, func(i int) float32 { return math.Float32frombits(le.Uint32(raw[4*i:])) }))
	case TensorProto_FLOAT16:
		return tensor.New(shape, decode(n, func(i int) float32 { return halfToFloat(le.Uint16(raw[2*i:])) }))
	case TensorProto_BFLOAT16:
		return tensor.New(shape, decode(n, func(i int) float32 { return bf16ToFloat(le.Uint16(raw[2*i:])) }))
	case TensorProto_DOUBLE:
		return tensor.New(shape, decode(n, func(i int) float64 { return math.Float64frombits(le.Uint64(raw[8*i:])) }))
	case TensorProto_INT64, TensorProto_UINT64:
		return tensor.New(shape, decode(n, func(i int) int64 { return int64(le.Uint64(raw[8*i:])) }))
	case TensorProto_UINT32:
		return tensor.New(shape, decode(n, func(i int) int64 { return int64(le.Uint32(raw[4*i:])) }))
	case TensorProto_INT32:
		return tensor.New(shape, decode(n, func(i int) int32 { return int32(le.Uint32(raw[4*i:])) }))
	case TensorProto_INT16:
		return tensor.New(shape, decode(n, func(i int) int32 { return int32(int16(le.Uint16(raw[2*i:]))) }))
	case TensorProto_UINT16:
		return tensor.New(shape, decode(n, func(i int) int32 { return int32(le.Uint16(raw[2*i:])) }))
	case TensorProto_BOOL:
		return tensor.New(shape, decode(n, func(i int) bool { return raw[i] != 0 }))
	case TensorProto_UINT8:
		return tensor.New(shape, decode(n, func(i int) uint8 { return raw[i] }))
	case TensorProto_INT8:
		return tensor.New(shape, decode(n, func(i int) int8 { return int8(raw[i]) }))
	}
	return nil
}

// fromTyped converts the typed field of type dt, whose length has been
// checked against shape, widening as fromRaw does.
func fromTyped(t *TensorProto, dt TensorProto_DataType, shape []int) *tensor.Tensor {
	n := tensor.Size(shape)
	i32 := t.Int32Data
	switch dt {
	case TensorProto_FLOAT:
		return tensor.New(shape, copyOf(t.FloatData))
	case TensorProto_FLOAT16:
		return tensor.New(shape, decode(n, func(i int) float32 { return halfToFloat(uint16(i32[i])) }))
	case TensorProto_BFLOAT16:
		return tensor.New(shape, decode(n, func(i int) float32 { return bf16ToFloat(uint16(i32[i])) }))
	case TensorProto_DOUBLE:
		return tensor.New(shape, copyOf(t.DoubleData))
	case TensorProto_INT64:
		return tensor.New(shape, copyOf(t.Int64Data))
	case TensorProto_UINT64, TensorProto_UINT32:
		return tensor.New(shape, decode(n, func(i int) int64 { return int64(t.Uint64Data[i]) }))
	case TensorProto_INT32, TensorProto_INT16, TensorProto_UINT16:
		return tensor.New(shape, copyOf(i32))
	case TensorProto_BOOL:
		return tensor.New(shape, decode(n, func(i int) bool { return i32[i] != 0 }))
	case TensorProto_UINT8:
		return tensor.New(shape, decode(n, func(i int) uint8 { return uint8(i32[i]) }))
	case TensorProto_INT8:
		return tensor.New(shape, decode(n, func(i int) int8 { return int8(i32[i]) }))
	}
	return nil
}

// bf16ToFloat widens a bfloat16 to float32.
func bf16ToFloat(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// FromTensor converts a tensor to a TensorProto with raw_data.
func FromTensor(name string, t *tensor.Tensor) (*TensorProto, error) {
	dt := DataTypeOf(t.DType())
	if dt == TensorProto_UNDEFINED {
		return nil, fmt.Errorf("tensor %q: type %s cannot be written", name, t.DType())
	}
	p := &TensorProto{Name: &name, DataType: ptr(int32(dt))}
	p.Dims = make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		p.Dims[i] = int64(d)
	}
	le := binary.LittleEndian
	var raw []byte
	switch d := t.Data.(type) {
	case []float32:
		raw = make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case []float64:
		raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	case []int64:
		raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(raw[8*i:], uint64(v))
		}
	case []int32:
		raw = make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(raw[4*i:], uint32(v))
		}
	case []bool:
		raw = make([]byte, len(d))
		for i, v := range d {
			if v {
				raw[i] = 1
			}
		}
	case []uint8:
		raw = append([]byte{}, d...)
	case []int8:
		raw = make([]byte, len(d))
		for i, v := range d {
			raw[i] = byte(v)
		}
	}
	p.RawData = raw
	return p, nil
}

func ptr[T any](v T) *T { return &v }

// halfToFloat converts IEEE 754 half precision bits to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant · 2⁻²⁴
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// ParseTensor decodes a serialized TensorProto (an ONNX test data .pb file).
func ParseTensor(b []byte) (*TensorProto, error) {
	t := &TensorProto{}
	if err := proto.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("not a valid TensorProto: %w", err)
	}
	return t, nil
}
