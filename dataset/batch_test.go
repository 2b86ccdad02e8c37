package dataset_test

import (
	"reflect"
	"sort"
	"testing"

	"ft/dataset"
)

func TestLengthGroupedBatches(t *testing.T) {
	// one megabatch: every row sorted by decreasing length (hand-derived)
	lengths := []int{3, 1, 4, 1, 5, 9, 2, 6}
	b, err := dataset.LengthGroupedBatches(lengths, 1, 7, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, x := range b {
		got = append(got, lengths[x[0]])
	}
	if want := []int{9, 6, 5, 4, 3, 2, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lengths in order %v, want %v", got, want)
	}
	// many megabatches: a permutation, sorted within each group of 50
	// batches except the longest row moved to the front, deterministic per
	// (seed, epoch)
	n, bs := 1234, 4
	lengths = make([]int, n)
	for i := range lengths {
		lengths[i] = (i*7919)%97 + 1
	}
	lengths[1000] = 500
	for epoch := 0; epoch < 3; epoch++ {
		b, err := dataset.LengthGroupedBatches(lengths, bs, 11, epoch, false)
		if err != nil {
			t.Fatal(err)
		}
		var order []int
		for _, x := range b {
			order = append(order, x...)
		}
		if order[0] != 1000 {
			t.Fatalf("epoch %d: the longest row is not first", epoch)
		}
		sorted := append([]int(nil), order...)
		sort.Ints(sorted)
		for i, v := range sorted {
			if v != i {
				t.Fatalf("epoch %d: not a permutation", epoch)
			}
		}
		for lo := 0; lo < n; lo += 50 * bs {
			hi := min(lo+50*bs, n)
			for i := lo + 2; i < hi; i++ {
				if lengths[order[i]] > lengths[order[i-1]] {
					t.Fatalf("epoch %d: group at %d not sorted at %d", epoch, lo, i)
				}
			}
		}
		again, _ := dataset.LengthGroupedBatches(lengths, bs, 11, epoch, false)
		if !reflect.DeepEqual(b, again) {
			t.Fatal("not deterministic")
		}
	}
}
