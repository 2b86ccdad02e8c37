package dataset

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"ft/internal/rng"
)

// Permutation returns a random order of 0..n-1 drawn from a PCG generator
// seeded with (seed, epoch): the same seed and epoch give the same order on
// every machine and Go version (the shuffle and the bounded draws are written
// here, not taken from math/rand, whose algorithms may change).
func Permutation(n int, seed uint64, epoch int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r := rand.NewPCG(seed, uint64(epoch))
	// Fisher-Yates, from the end.
	for i := n - 1; i > 0; i-- {
		j := int(rng.Bounded(r, uint64(i)+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Batches cuts an order of row indices into batches of batchSize (the last
// one smaller unless dropLast drops it). A batch is a list of row indices:
// tokenization and padding happen elsewhere.
func Batches(order []int, batchSize int, dropLast bool) ([][]int, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("batch size must be positive, got %d", batchSize)
	}
	var out [][]int
	for i := 0; i < len(order); i += batchSize {
		j := min(i+batchSize, len(order))
		if j-i < batchSize && dropLast {
			break
		}
		out = append(out, order[i:j:j])
	}
	return out, nil
}

// EpochBatches returns the batches of one epoch over n rows: shuffled with
// Permutation(n, seed, epoch) when shuffle is set, in file order otherwise.
func EpochBatches(n, batchSize int, shuffle bool, seed uint64, epoch int, dropLast bool) ([][]int, error) {
	var order []int
	if shuffle {
		order = Permutation(n, seed, epoch)
	} else {
		order = make([]int, n)
		for i := range order {
			order[i] = i
		}
	}
	return Batches(order, batchSize, dropLast)
}

// StepsPerEpoch returns the number of optimizer steps in one epoch of n rows
// with the given batch size and gradient accumulation, as the Hugging Face
// Trainer counts them (len(dataloader) // accumulation, at least 1).
func StepsPerEpoch(n, batchSize, accumulation int, dropLast bool) int {
	if batchSize <= 0 {
		return 0
	}
	if accumulation < 1 {
		accumulation = 1
	}
	batches := n / batchSize
	if !dropLast && n%batchSize != 0 {
		batches++
	}
	return max(batches/accumulation, 1)
}

// LengthSource is a Source that knows the length (in tokens) of each row,
// for length-grouped batching.
type LengthSource interface {
	Source
	Lengths() ([]int, error)
}

// LengthGroupedBatches returns the batches of one epoch with rows of similar
// length together (less padding), as the Hugging Face Trainer's
// group_by_length (LengthGroupedSampler): a random permutation
// (Permutation(n, seed, epoch)) is cut into megabatches of 50 batches, each
// sorted by decreasing length (ties keep the permutation's order); the
// longest row of all is swapped to the front of the first megabatch, so
// that the first batch is the largest (memory problems show at once); then
// the order is cut into batches.
func LengthGroupedBatches(lengths []int, batchSize int, seed uint64, epoch int, dropLast bool) ([][]int, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("batch size must be positive, got %d", batchSize)
	}
	order := Permutation(len(lengths), seed, epoch)
	mega := 50 * batchSize
	var firsts []int
	for i := 0; i < len(order); i += mega {
		m := order[i:min(i+mega, len(order))]
		sort.SliceStable(m, func(a, b int) bool { return lengths[m[a]] > lengths[m[b]] })
		firsts = append(firsts, i)
	}
	if len(firsts) > 0 {
		best := 0
		for k, i := range firsts {
			if lengths[order[i]] > lengths[order[firsts[best]]] {
				best = k
			}
		}
		order[0], order[firsts[best]] = order[firsts[best]], order[0]
	}
	return Batches(order, batchSize, dropLast)
}
