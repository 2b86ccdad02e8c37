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
	raw := t.RawData
	hasRaw := t.RawData != nil
	es := elemSize(int32(dt))
	if es == 0 {
		return nil, fmt.Errorf("tensor %q: data type %s is not supported", t.GetName(), DataTypeName(int32(dt)))
	}
	if hasRaw && len(raw) != n*es {
		return nil, fmt.Errorf("tensor %q: raw_data holds %d bytes, shape %v of %s needs %d", t.GetName(), len(raw), shape, DataTypeName(int32(dt)), n*es)
	}
	count := func(got int) error {
		if got != n {
			return fmt.Errorf("tensor %q: holds %d values, shape %v needs %d", t.GetName(), got, shape, n)
		}
		return nil
	}
	if !hasRaw { // check the typed field's length before allocating
		got := len(t.Int32Data) // FLOAT16, BFLOAT16, INT32, INT16, UINT16, BOOL, UINT8, INT8
		switch dt {
		case TensorProto_FLOAT:
			got = len(t.FloatData)
		case TensorProto_DOUBLE:
			got = len(t.DoubleData)
		case TensorProto_INT64:
			got = len(t.Int64Data)
		case TensorProto_UINT64, TensorProto_UINT32:
			got = len(t.Uint64Data)
		}
		if err := count(got); err != nil {
			return nil, err
		}
	}
	if err := checkLimit(t, shape); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	switch dt {
	case TensorProto_FLOAT:
		d := make([]float32, n)
		if hasRaw {
			for i := range d {
				d[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
			}
		} else {
			if err := count(len(t.FloatData)); err != nil {
				return nil, err
			}
			copy(d, t.FloatData)
		}
		return tensor.New(shape, d), nil
	case TensorProto_FLOAT16, TensorProto_BFLOAT16:
		d := make([]float32, n)
		for i := range d {
			var bits uint16
			if hasRaw {
				bits = le.Uint16(raw[2*i:])
			} else {
				if err := count(len(t.Int32Data)); err != nil {
					return nil, err
				}
				bits = uint16(t.Int32Data[i])
			}
			if dt == TensorProto_FLOAT16 {
				d[i] = halfToFloat(bits)
			} else {
				d[i] = math.Float32frombits(uint32(bits) << 16)
			}
		}
		return tensor.New(shape, d), nil
	case TensorProto_DOUBLE:
		d := make([]float64, n)
		if hasRaw {
			for i := range d {
				d[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
			}
		} else {
			if err := count(len(t.DoubleData)); err != nil {
				return nil, err
			}
			copy(d, t.DoubleData)
		}
		return tensor.New(shape, d), nil
	case TensorProto_INT64:
		d := make([]int64, n)
		if hasRaw {
			for i := range d {
				d[i] = int64(le.Uint64(raw[8*i:]))
			}
		} else {
			if err := count(len(t.Int64Data)); err != nil {
				return nil, err
			}
			copy(d, t.Int64Data)
		}
		return tensor.New(shape, d), nil
	case TensorProto_UINT64, TensorProto_UINT32:
		// widened to int64 (values above MaxInt64 wrap: rare in models)
		d := make([]int64, n)
		for i := range d {
			switch {
			case hasRaw && dt == TensorProto_UINT64:
				d[i] = int64(le.Uint64(raw[8*i:]))
			case hasRaw:
				d[i] = int64(le.Uint32(raw[4*i:]))
			default:
				if err := count(len(t.Uint64Data)); err != nil {
					return nil, err
				}
				d[i] = int64(t.Uint64Data[i])
			}
		}
		return tensor.New(shape, d), nil
	case TensorProto_INT32, TensorProto_INT16, TensorProto_UINT16:
		d := make([]int32, n)
		for i := range d {
			switch {
			case hasRaw && dt == TensorProto_INT32:
				d[i] = int32(le.Uint32(raw[4*i:]))
			case hasRaw && dt == TensorProto_INT16:
				d[i] = int32(int16(le.Uint16(raw[2*i:])))
			case hasRaw:
				d[i] = int32(le.Uint16(raw[2*i:]))
			default:
				if err := count(len(t.Int32Data)); err != nil {
					return nil, err
				}
				d[i] = t.Int32Data[i]
			}
		}
		return tensor.New(shape, d), nil
	case TensorProto_BOOL, TensorProto_UINT8, TensorProto_INT8:
		get := func(i int) (int32, error) {
			if hasRaw {
				return int32(raw[i]), nil
			}
			if err := count(len(t.Int32Data)); err != nil {
				return 0, err
			}
			return t.Int32Data[i], nil
		}
		switch dt {
		case TensorProto_BOOL:
			d := make([]bool, n)
			for i := range d {
				v, err := get(i)
				if err != nil {
					return nil, err
				}
				d[i] = v != 0
			}
			return tensor.New(shape, d), nil
		case TensorProto_UINT8:
			d := make([]uint8, n)
			for i := range d {
				v, err := get(i)
				if err != nil {
					return nil, err
				}
				d[i] = uint8(v)
			}
			return tensor.New(shape, d), nil
		default:
			d := make([]int8, n)
			for i := range d {
				v, err := get(i)
				if err != nil {
					return nil, err
				}
				d[i] = int8(v)
			}
			return tensor.New(shape, d), nil
		}
	}
	return nil, fmt.Errorf("tensor %q: data type %s is not supported", t.GetName(), DataTypeName(int32(dt)))
}

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
