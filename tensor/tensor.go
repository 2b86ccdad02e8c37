// Package tensor holds ft's dense tensors: a shape and a contiguous row-major
// slice of one element type. Kernels type-switch once per operation, never per
// element.
package tensor

import (
	"fmt"
	"slices"
	"strings"
)

// DType is an element type.
type DType int

// The element types ft computes with.
const (
	Invalid DType = iota
	Float32
	Float64
	Int64
	Int32
	Bool
	Uint8
	Int8
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Int64:
		return "int64"
	case Int32:
		return "int32"
	case Bool:
		return "bool"
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	}
	return "invalid"
}

// IsFloat reports whether d is a floating-point type (the types that carry gradients).
func (d DType) IsFloat() bool { return d == Float32 || d == Float64 }

// Tensor is a dense row-major tensor. Data is one of []float32, []float64,
// []int64, []int32, []bool, []uint8 or []int8, with len(Data) == Size(Shape).
// A tensor with an empty shape is a scalar holding one element.
type Tensor struct {
	Shape []int
	Data  any
}

// Elem lists the element types a Tensor can hold.
type Elem interface {
	~float32 | ~float64 | ~int64 | ~int32 | ~bool | ~uint8 | ~int8
}

// Float lists the floating-point element types.
type Float interface{ ~float32 | ~float64 }

// Number lists the element types that support arithmetic.
type Number interface {
	~float32 | ~float64 | ~int64 | ~int32 | ~uint8 | ~int8
}

// New returns a tensor that wraps data (not copied) with the given shape.
// It panics if len(data) does not match the shape: callers in library code
// build shapes themselves; user input goes through checked constructors.
func New[T Elem](shape []int, data []T) *Tensor {
	if Size(shape) != len(data) {
		panic(fmt.Sprintf("tensor.New: shape %v needs %d elements, got %d", shape, Size(shape), len(data)))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Zeros returns a zero tensor of the given type and shape. A shape whose
// size overflows or exceeds the memory limit (SetMemoryLimit) panics with an
// *AllocError before anything is allocated; graph.Run turns that panic into
// an error naming the node.
func Zeros(dt DType, shape ...int) *Tensor {
	if err := CheckAlloc(dt, shape); err != nil {
		panic(err)
	}
	n := Size(shape)
	t := &Tensor{Shape: append([]int(nil), shape...)}
	switch dt {
	case Float32:
		t.Data = make([]float32, n)
	case Float64:
		t.Data = make([]float64, n)
	case Int64:
		t.Data = make([]int64, n)
	case Int32:
		t.Data = make([]int32, n)
	case Bool:
		t.Data = make([]bool, n)
	case Uint8:
		t.Data = make([]uint8, n)
	case Int8:
		t.Data = make([]int8, n)
	default:
		panic("tensor.Zeros: invalid dtype")
	}
	return t
}

// Scalar returns a rank-0 tensor holding v.
func Scalar[T Elem](v T) *Tensor { return &Tensor{Shape: []int{}, Data: []T{v}} }

// Data returns t's elements as []T, or nil if t holds another type.
func Data[T Elem](t *Tensor) []T {
	d, _ := t.Data.([]T)
	return d
}

// DType returns the element type of t.
func (t *Tensor) DType() DType {
	switch t.Data.(type) {
	case []float32:
		return Float32
	case []float64:
		return Float64
	case []int64:
		return Int64
	case []int32:
		return Int32
	case []bool:
		return Bool
	case []uint8:
		return Uint8
	case []int8:
		return Int8
	}
	return Invalid
}

// F32 returns the float32 data (nil if t is not float32).
func (t *Tensor) F32() []float32 { return Data[float32](t) }

// F64 returns the float64 data (nil if t is not float64).
func (t *Tensor) F64() []float64 { return Data[float64](t) }

// I64 returns the int64 data (nil if t is not int64).
func (t *Tensor) I64() []int64 { return Data[int64](t) }

// I32 returns the int32 data (nil if t is not int32).
func (t *Tensor) I32() []int32 { return Data[int32](t) }

// B returns the bool data (nil if t is not bool).
func (t *Tensor) B() []bool { return Data[bool](t) }

// Len returns the number of elements.
func (t *Tensor) Len() int { return Size(t.Shape) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// DataLen is the length of the data slice (-1 for an unknown element type);
// a well-formed tensor has DataLen() == Len().
func (t *Tensor) DataLen() int {
	switch d := t.Data.(type) {
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []int64:
		return len(d)
	case []int32:
		return len(d)
	case []bool:
		return len(d)
	case []uint8:
		return len(d)
	case []int8:
		return len(d)
	}
	return -1
}

// Size returns the number of elements of a shape (1 for a scalar).
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Strides returns the row-major strides of shape.
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{Shape: append([]int(nil), t.Shape...)}
	switch d := t.Data.(type) {
	case []float32:
		c.Data = append([]float32(nil), d...)
	case []float64:
		c.Data = append([]float64(nil), d...)
	case []int64:
		c.Data = append([]int64(nil), d...)
	case []int32:
		c.Data = append([]int32(nil), d...)
	case []bool:
		c.Data = append([]bool(nil), d...)
	case []uint8:
		c.Data = append([]uint8(nil), d...)
	case []int8:
		c.Data = append([]int8(nil), d...)
	}
	return c
}

// Reshaped returns a tensor sharing t's data with a new shape of the same size.
func (t *Tensor) Reshaped(shape []int) *Tensor {
	if Size(shape) != t.Len() {
		panic(fmt.Sprintf("tensor.Reshaped: %v to %v", t.Shape, shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: t.Data}
}

// Ints returns the elements of an int64 or int32 tensor as ints.
func (t *Tensor) Ints() ([]int, error) {
	switch d := t.Data.(type) {
	case []int64:
		r := make([]int, len(d))
		for i, v := range d {
			r[i] = int(v)
		}
		return r, nil
	case []int32:
		r := make([]int, len(d))
		for i, v := range d {
			r[i] = int(v)
		}
		return r, nil
	}
	return nil, fmt.Errorf("expected an integer tensor, got %s", t.DType())
}

// Float64s returns the elements of a numeric tensor converted to float64.
func (t *Tensor) Float64s() []float64 {
	n := t.Len()
	r := make([]float64, n)
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			r[i] = float64(v)
		}
	case []float64:
		copy(r, d)
	case []int64:
		for i, v := range d {
			r[i] = float64(v)
		}
	case []int32:
		for i, v := range d {
			r[i] = float64(v)
		}
	case []bool:
		for i, v := range d {
			if v {
				r[i] = 1
			}
		}
	case []uint8:
		for i, v := range d {
			r[i] = float64(v)
		}
	case []int8:
		for i, v := range d {
			r[i] = float64(v)
		}
	}
	return r
}

// String prints the type, shape and the first elements.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%v", t.DType(), t.Shape)
	s := fmt.Sprint(t.Data)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	b.WriteString(s)
	return b.String()
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool { return slices.Equal(a, b) }

// Transpose2D returns the transpose of a rank-2 float tensor [rows, cols]
// as a new [cols, rows] tensor. Any other rank or type panics: callers hold
// tensors whose shape they built.
func Transpose2D(t *Tensor) *Tensor {
	if len(t.Shape) != 2 {
		panic(fmt.Sprintf("tensor.Transpose2D: shape %v is not rank 2", t.Shape))
	}
	switch d := t.Data.(type) {
	case []float32:
		return transpose2D(t.Shape[0], t.Shape[1], d)
	case []float64:
		return transpose2D(t.Shape[0], t.Shape[1], d)
	}
	panic(fmt.Sprintf("tensor.Transpose2D: type %s is not float", t.DType()))
}

func transpose2D[T Float](rows, cols int, s []T) *Tensor {
	d := make([]T, len(s))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			d[j*rows+i] = s[i*cols+j]
		}
	}
	return New([]int{cols, rows}, d)
}

// AddInto adds src to dst elementwise (float tensors of one shape and type):
// the accumulation of gradients.
func AddInto(dst, src *Tensor) error {
	if !SameShape(dst.Shape, src.Shape) || dst.DType() != src.DType() {
		return fmt.Errorf("cannot add %s%v into %s%v", src.DType(), src.Shape, dst.DType(), dst.Shape)
	}
	switch d := dst.Data.(type) {
	case []float32:
		s := src.F32()
		for i := range d {
			d[i] += s[i]
		}
	case []float64:
		s := src.F64()
		for i := range d {
			d[i] += s[i]
		}
	default:
		return fmt.Errorf("cannot add tensors of type %s", dst.DType())
	}
	return nil
}
