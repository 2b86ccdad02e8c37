package dataset

import (
	"fmt"
	"sort"

	"ft/tensor"
)

// TensorSource is a Source over fixed tensors: row i of every feed and of the
// target is index i along axis 0. A batch gathers the requested rows as they
// are (token rows already padded to one length stay so).
type TensorSource struct {
	// Feeds are the model inputs by graph input name, each [rows, ...].
	Feeds map[string]*tensor.Tensor
	// Target is [rows, ...]: class ids, or float targets.
	Target *tensor.Tensor
}

// Len implements Source: the number of rows (axis 0 of Target, or of the
// feeds when there is no target).
func (s *TensorSource) Len() int {
	if s.Target != nil && s.Target.Rank() > 0 {
		return s.Target.Shape[0]
	}
	for _, f := range s.Feeds {
		if f.Rank() > 0 {
			return f.Shape[0]
		}
	}
	return 0
}

// Check reports tensors whose axis 0 does not hold Len() rows.
func (s *TensorSource) Check() error {
	n := s.Len()
	names := make([]string, 0, len(s.Feeds))
	for k := range s.Feeds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		f := s.Feeds[k]
		if f == nil || f.Rank() == 0 || f.Shape[0] != n {
			return fmt.Errorf("tensor source: feed %q has shape %v, want %d rows along axis 0", k, tensorShapeOf(f), n)
		}
	}
	if s.Target != nil && (s.Target.Rank() == 0 || s.Target.Shape[0] != n) {
		return fmt.Errorf("tensor source: target has shape %v, want %d rows along axis 0", s.Target.Shape, n)
	}
	return nil
}

func tensorShapeOf(t *tensor.Tensor) any {
	if t == nil {
		return "nil"
	}
	return t.Shape
}

// Batch implements Source: the given rows of every feed and of the target,
// in the given order (copies).
func (s *TensorSource) Batch(rows []int) (*Batch, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	n := s.Len()
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("tensor source: row %d is outside [0, %d)", r, n)
		}
	}
	b := &Batch{Feeds: make(map[string]*tensor.Tensor, len(s.Feeds)), Size: len(rows)}
	for k, f := range s.Feeds {
		t, err := takeRows(f, rows)
		if err != nil {
			return nil, fmt.Errorf("tensor source: feed %q: %w", k, err)
		}
		b.Feeds[k] = t
	}
	if s.Target != nil {
		t, err := takeRows(s.Target, rows)
		if err != nil {
			return nil, fmt.Errorf("tensor source: target: %w", err)
		}
		b.Target = t
	}
	return b, nil
}

// takeRows gathers rows of t along axis 0.
func takeRows(t *tensor.Tensor, rows []int) (*tensor.Tensor, error) {
	shape := append([]int{len(rows)}, t.Shape[1:]...)
	w := tensor.Size(t.Shape[1:])
	switch d := t.Data.(type) {
	case []float32:
		return tensor.New(shape, gatherRows(d, w, rows)), nil
	case []float64:
		return tensor.New(shape, gatherRows(d, w, rows)), nil
	case []int64:
		return tensor.New(shape, gatherRows(d, w, rows)), nil
	case []int32:
		return tensor.New(shape, gatherRows(d, w, rows)), nil
	case []bool:
		return tensor.New(shape, gatherRows(d, w, rows)), nil
	case []uint8:
		return tensor.New(shape, gatherRows(d, w, rows)), nil
	case []int8:
		return tensor.New(shape, gatherRows(d, w, rows)), nil
	}
	return nil, fmt.Errorf("unsupported element type %T", t.Data)
}

func gatherRows[T tensor.Elem](d []T, w int, rows []int) []T {
	out := make([]T, 0, len(rows)*w)
	for _, r := range rows {
		out = append(out, d[r*w:(r+1)*w]...)
	}
	return out
}
