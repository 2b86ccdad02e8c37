package tensor

import "fmt"

// BroadcastShape returns the multidirectional (numpy) broadcast of the shapes.
func BroadcastShape(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		if len(s) > rank {
			rank = len(s)
		}
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			o := out[off+i]
			switch {
			case d == o || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	// The element type is not known here: refuse a result too large even at
	// one byte per element (the op's own allocation checks the exact size).
	if n := Bytes(Uint8, out); n < 0 {
		return nil, fmt.Errorf("broadcasting shapes %v gives %v, whose element count overflows or is negative", shapes, out)
	} else if lim := memLimit.Load(); lim > 0 && n > lim {
		return nil, fmt.Errorf("broadcasting shapes %v gives %v: %d elements, above the memory limit of %s even at one byte each (set %s to change it)", shapes, out, n, FormatBytes(lim), MemoryLimitEnv)
	}
	return out, nil
}

// BroadcastStrides returns strides for reading a tensor of shape `in` as if it
// had the (broadcast) shape `out`: broadcast dimensions get stride 0.
func BroadcastStrides(in, out []int) []int {
	st := make([]int, len(out))
	off := len(out) - len(in)
	acc := 1
	for i := len(in) - 1; i >= 0; i-- {
		if in[i] != 1 {
			st[off+i] = acc
		}
		acc *= in[i]
	}
	return st
}

// Index iterates a row-major walk over shape, keeping one flat offset per
// operand with its own strides. It is the one broadcasting walker that
// elementwise kernels share: the innermost dimension is handed to the caller
// as a run, so kernels loop over slices.
//
//	it := NewIndex(outShape, strideA, strideB)
//	for it.Next() { run over it.Inner elements from offsets it.Off[0], it.Off[1] with it.InnerStride[k] }
type Index struct {
	shape   []int
	strides [][]int
	pos     []int
	started bool
	done    bool
	// Off holds the flat offset of each operand at the start of the current run.
	Off []int
	// Inner is the length of each run (the innermost dimension).
	Inner int
	// InnerStride is each operand's stride along the innermost dimension.
	InnerStride []int
}

// NewIndex makes an Index over shape for operands with the given strides.
func NewIndex(shape []int, strides ...[]int) *Index {
	it := &Index{shape: shape, strides: strides, Off: make([]int, len(strides)), InnerStride: make([]int, len(strides))}
	if len(shape) == 0 {
		it.Inner = 1
	} else {
		it.Inner = shape[len(shape)-1]
		for k, s := range strides {
			it.InnerStride[k] = s[len(s)-1]
		}
		it.pos = make([]int, len(shape)-1)
	}
	if Size(shape) == 0 {
		it.done = true
	}
	return it
}

// Seek moves to run number run of the walk (row-major over every dimension
// but the last), as run+1 calls of Next would from the start, so that a
// parallel chunk of runs can start where it begins; the next Next advances
// from there. It returns false (and ends the walk) past the last run.
func (it *Index) Seek(run int) bool {
	it.started = true
	it.done = run < 0 || run >= Size(it.shape)/max(it.Inner, 1) || Size(it.shape) == 0
	clear(it.Off)
	if it.done {
		return false
	}
	for d := len(it.pos) - 1; d >= 0; d-- {
		p := run % it.shape[d]
		run /= it.shape[d]
		it.pos[d] = p
		for k := range it.Off {
			it.Off[k] += p * it.strides[k][d]
		}
	}
	return true
}

// Next advances to the next run; it returns false when the walk is over.
func (it *Index) Next() bool {
	if it.done {
		return false
	}
	if !it.started {
		it.started = true
		return true
	}
	// advance the outer position (all dims but the last)
	for d := len(it.pos) - 1; d >= 0; d-- {
		it.pos[d]++
		for k := range it.Off {
			it.Off[k] += it.strides[k][d]
		}
		if it.pos[d] < it.shape[d] {
			return true
		}
		for k := range it.Off {
			it.Off[k] -= it.strides[k][d] * it.pos[d]
		}
		it.pos[d] = 0
	}
	it.done = true
	return false
}
