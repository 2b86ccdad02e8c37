package embed

import "fmt"

// NoDuplicatesBatches groups rows into batches with no text twice in a batch,
// as ST's NoDuplicatesBatchSampler: walk the remaining rows in order (the
// seeded shuffle, given here as order), add a row to the batch unless one of
// its texts is already in it, yield the batch when it has batchSize rows, and
// start over from the rows left. A pass that runs out of rows yields its short
// batch unless dropLast. texts[i] holds row i's texts (label columns left
// out, as ST removes them). The in-batch-negative losses need this: a
// duplicate would be a false negative.
func NoDuplicatesBatches(order []int, texts [][]string, batchSize int, dropLast bool) ([][]int, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("embed: batch size %d must be positive", batchSize)
	}
	seen := make([]bool, len(texts))
	for _, i := range order {
		if i < 0 || i >= len(texts) || seen[i] {
			return nil, fmt.Errorf("embed: order is not a permutation of 0..%d (index %d)", len(texts)-1, i)
		}
		seen[i] = true
	}
	remaining := append([]int(nil), order...)
	var batches [][]int
	for len(remaining) > 0 {
		values := map[string]bool{}
		var batch []int
		taken := map[int]bool{}
		for _, i := range remaining {
			dup := false
			for _, t := range texts[i] {
				if values[t] {
					dup = true
					break
				}
			}
			if dup {
				continue
			}
			batch = append(batch, i)
			taken[i] = true
			if len(batch) == batchSize {
				break
			}
			for _, t := range texts[i] {
				values[t] = true
			}
		}
		if len(batch) == batchSize || !dropLast {
			batches = append(batches, batch)
		}
		left := remaining[:0]
		for _, i := range remaining {
			if !taken[i] {
				left = append(left, i)
			}
		}
		remaining = left
	}
	return batches, nil
}
