package dataset

import (
	"ft/tensor"
)

// Batch is one batch ready for the model: its inputs and targets.
type Batch struct {
	Feeds  map[string]*tensor.Tensor
	Target *tensor.Tensor
	Size   int
}

// Source turns rows into batches (tokenizing text, or slicing fixed tensors).
type Source interface {
	Len() int
	Batch(rows []int) (*Batch, error)
}
