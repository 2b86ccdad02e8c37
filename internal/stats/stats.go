// Package stats holds the small float64 reductions that several packages
// compute on short rows (a row of logits, a column of scores): Softmax and
// LogSumExp, max-shifted so that nothing overflows, and Pearson and Spearman
// correlation as scipy.stats computes them (Ranks: average ranks of ties,
// scipy's rankdata). Hot float32 kernels live in kernels, not here.
package stats

import (
	"math"
	"sort"
)

// Softmax returns the probabilities of a row of logits, computed in float64
// after subtracting the row's maximum.
func Softmax(logits []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	p := make([]float64, len(logits))
	s := 0.0
	for j, v := range logits {
		p[j] = math.Exp(float64(v) - mx)
		s += p[j]
	}
	for j := range p {
		p[j] /= s
	}
	return p
}

// LogSumExp returns log Σ exp(x_i), shifted by the maximum; ±Inf when the
// maximum is infinite, -Inf for an empty row.
func LogSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	if math.IsInf(m, 0) {
		return m
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// Pearson is the Pearson correlation of x and y (scipy.stats.pearsonr's
// statistic, clipped to [-1, 1]); NaN when either side is constant.
func Pearson(x, y []float64) float64 {
	n := float64(len(x))
	mx, my := 0.0, 0.0
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	sxy, sxx, syy := 0.0, 0.0, 0.0
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	r := sxy / math.Sqrt(sxx*syy)
	return math.Max(-1, math.Min(1, r))
}

// Spearman is the Pearson correlation of the average ranks of x and y
// (scipy.stats.spearmanr's statistic).
func Spearman(x, y []float64) float64 { return Pearson(Ranks(x), Ranks(y)) }

// Ranks returns the ranks of x from 1, ties sharing their average rank
// (scipy.stats.rankdata's "average" method).
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}
