package embed

import "fmt"

// Matrix is a row-major [Rows][Cols] block of float64: a batch of embeddings,
// one row per text.
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// NewMatrix returns a zeroed rows×cols matrix.
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// MatrixFrom wraps data (len rows*cols) without copying.
func MatrixFrom(rows, cols int, data []float64) (Matrix, error) {
	if rows < 0 || cols < 0 || len(data) != rows*cols {
		return Matrix{}, fmt.Errorf("embed: matrix of %d×%d needs %d values, got %d", rows, cols, rows*cols, len(data))
	}
	return Matrix{Rows: rows, Cols: cols, Data: data}, nil
}

// FromFloat32 copies float32 data (len rows*cols) into a new Matrix.
func FromFloat32(rows, cols int, data []float32) (Matrix, error) {
	if rows < 0 || cols < 0 || len(data) != rows*cols {
		return Matrix{}, fmt.Errorf("embed: matrix of %d×%d needs %d values, got %d", rows, cols, rows*cols, len(data))
	}
	m := NewMatrix(rows, cols)
	for i, v := range data {
		m.Data[i] = float64(v)
	}
	return m, nil
}

// Float32 returns a float32 copy of the data.
func (m Matrix) Float32() []float32 {
	out := make([]float32, len(m.Data))
	for i, v := range m.Data {
		out[i] = float32(v)
	}
	return out
}

// Row returns row i (shared with m).
func (m Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

func (m Matrix) check(what string) error {
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("embed: %s: %d×%d matrix holds %d values", what, m.Rows, m.Cols, len(m.Data))
	}
	return nil
}

func sameShape(what string, a, b Matrix) error {
	if err := a.check(what); err != nil {
		return err
	}
	if err := b.check(what); err != nil {
		return err
	}
	if a.Rows != b.Rows || a.Cols != b.Cols {
		return fmt.Errorf("embed: %s: shapes %d×%d and %d×%d differ", what, a.Rows, a.Cols, b.Rows, b.Cols)
	}
	return nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
