// Package rng holds the random draws that must give the same values on every
// machine and Go version (so a seed names one run): Bounded, a uniform draw
// from [0, n) on a PCG generator, written here rather than taken from
// math/rand, whose algorithms may change.
package rng

import (
	"math/bits"
	"math/rand/v2"
)

// Bounded returns a uniform value in [0, n) (Lemire's multiply and reject).
func Bounded(r *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}
