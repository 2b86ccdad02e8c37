package embed

import (
	"fmt"
	"math"
	"sort"

	"ft/internal/stats"
)

// Loss is a sentence-embedding loss over columns of embeddings (anchor,
// positive, negatives..., or sentence1, sentence2), each Batch × Dim, with an
// optional label per row. Compute returns the loss and d loss / d column for
// every column, each of its column's shape.
type Loss interface {
	Name() string
	Compute(cols []Matrix, labels []float64) (float64, []Matrix, error)
}

// Similarity names ST's similarity functions for the ranking losses.
type Similarity string

const (
	CosSim   Similarity = "cos_sim"   // util.cos_sim, ST's default
	DotScore Similarity = "dot_score" // util.dot_score
)

func checkCols(name string, cols []Matrix, min, max int) (int, int, error) {
	if len(cols) < min || (max > 0 && len(cols) > max) {
		if min == max {
			return 0, 0, fmt.Errorf("embed: %s takes %d columns of embeddings, got %d", name, min, len(cols))
		}
		return 0, 0, fmt.Errorf("embed: %s takes at least %d columns of embeddings, got %d", name, min, len(cols))
	}
	for i, c := range cols {
		if err := c.check(fmt.Sprintf("%s column %d", name, i)); err != nil {
			return 0, 0, err
		}
		if c.Rows != cols[0].Rows || c.Cols != cols[0].Cols {
			return 0, 0, fmt.Errorf("embed: %s: column %d is %d×%d, column 0 is %d×%d", name, i, c.Rows, c.Cols, cols[0].Rows, cols[0].Cols)
		}
	}
	if cols[0].Rows == 0 || cols[0].Cols == 0 {
		return 0, 0, fmt.Errorf("embed: %s: empty batch", name)
	}
	return cols[0].Rows, cols[0].Cols, nil
}

func checkLabels(name string, labels []float64, n int) error {
	if len(labels) != n {
		return fmt.Errorf("embed: %s needs one label per row: %d labels for %d rows", name, len(labels), n)
	}
	return nil
}

func zerosLike(cols []Matrix) []Matrix {
	out := make([]Matrix, len(cols))
	for i, c := range cols {
		out[i] = NewMatrix(c.Rows, c.Cols)
	}
	return out
}

// pairwiseCos returns cos(a_i, b_i) with F.normalize's rows, and backward adds
// the gradient of sum_i g_i cos_i into da, db.
type pairCos struct{ a, b, an, bn Matrix }

func newPairCos(a, b Matrix) *pairCos {
	return &pairCos{a: a, b: b, an: Normalize(a), bn: Normalize(b)}
}

func (p *pairCos) value(i int) float64 { return dot(p.an.Row(i), p.bn.Row(i)) }

func (p *pairCos) backward(i int, g float64, da, db Matrix) {
	ga := make([]float64, p.a.Cols)
	gb := make([]float64, p.a.Cols)
	an, bn := p.an.Row(i), p.bn.Row(i)
	for j := range ga {
		ga[j] = g * bn[j]
		gb[j] = g * an[j]
	}
	normalizeRowBackward(p.a.Row(i), ga, da.Row(i))
	normalizeRowBackward(p.b.Row(i), gb, db.Row(i))
}

// ---- MultipleNegativesRankingLoss and its symmetric and cached variants ----

// MultipleNegativesRankingLoss is ST's MNRL: for anchors a_i and candidates
// c (all positives, then each column of hard negatives), cross-entropy of
// Scale·sim(a_i, c) with target c_i (the i-th positive); the other rows'
// positives are in-batch negatives. Labels are ignored.
type MultipleNegativesRankingLoss struct {
	Scale      float64    // 20
	Similarity Similarity // CosSim
}

// NewMultipleNegativesRankingLoss returns MNRL with ST's defaults.
func NewMultipleNegativesRankingLoss() *MultipleNegativesRankingLoss {
	return &MultipleNegativesRankingLoss{Scale: 20, Similarity: CosSim}
}

func (l *MultipleNegativesRankingLoss) Name() string { return "MultipleNegativesRankingLoss" }

func (l *MultipleNegativesRankingLoss) Compute(cols []Matrix, _ []float64) (float64, []Matrix, error) {
	return rankingLoss(l.Name(), cols, l.Scale, l.Similarity, false, 0)
}

// MultipleNegativesSymmetricRankingLoss is ST's symmetric MNRL: the mean of
// MNRL and the loss of each positive picking its anchor among all anchors.
type MultipleNegativesSymmetricRankingLoss struct {
	Scale      float64    // 20
	Similarity Similarity // CosSim
}

// NewMultipleNegativesSymmetricRankingLoss returns it with ST's defaults.
func NewMultipleNegativesSymmetricRankingLoss() *MultipleNegativesSymmetricRankingLoss {
	return &MultipleNegativesSymmetricRankingLoss{Scale: 20, Similarity: CosSim}
}

func (l *MultipleNegativesSymmetricRankingLoss) Name() string {
	return "MultipleNegativesSymmetricRankingLoss"
}

func (l *MultipleNegativesSymmetricRankingLoss) Compute(cols []Matrix, _ []float64) (float64, []Matrix, error) {
	return rankingLoss(l.Name(), cols, l.Scale, l.Similarity, true, 0)
}

// rankingLoss computes (symmetric) MNRL, taking the anchors miniBatch rows at
// a time (0: all at once) so that only miniBatch × candidates scores live at
// once, as CachedMultipleNegativesRankingLoss's calculate_loss does.
func rankingLoss(name string, cols []Matrix, scale float64, sim Similarity, symmetric bool, miniBatch int) (float64, []Matrix, error) {
	B, D, err := checkCols(name, cols, 2, 0)
	if err != nil {
		return 0, nil, err
	}
	if sim != CosSim && sim != DotScore {
		return 0, nil, fmt.Errorf("embed: %s: similarity %q: want %q or %q", name, sim, CosSim, DotScore)
	}
	if miniBatch <= 0 {
		miniBatch = B
	}
	// Rows used in the scores: normalised for cos_sim.
	rows := make([]Matrix, len(cols))
	for k, c := range cols {
		if sim == CosSim {
			rows[k] = Normalize(c)
		} else {
			rows[k] = c
		}
	}
	N := B * (len(cols) - 1)
	cand := func(j int) []float64 { return rows[1+j/B].Row(j % B) }
	drows := zerosLike(cols)
	dcand := func(j int) []float64 { return drows[1+j/B].Row(j % B) }
	half := 1.0
	if symmetric {
		half = 0.5
	}
	loss := 0.0
	s := make([]float64, N)
	for b0 := 0; b0 < B; b0 += miniBatch {
		b1 := min(b0+miniBatch, B)
		for i := b0; i < b1; i++ {
			a := rows[0].Row(i)
			for j := 0; j < N; j++ {
				s[j] = scale * dot(a, cand(j))
			}
			lse := stats.LogSumExp(s)
			loss += half * (lse - s[i]) / float64(B)
			da := drows[0].Row(i)
			for j := 0; j < N; j++ {
				g := math.Exp(s[j] - lse)
				if j == i {
					g--
				}
				g *= half * scale / float64(B)
				c, dc := cand(j), dcand(j)
				for d := 0; d < D; d++ {
					da[d] += g * c[d]
					dc[d] += g * a[d]
				}
			}
		}
	}
	if symmetric {
		// Positive j picks its anchor j among all anchors.
		col := make([]float64, B)
		for j := 0; j < B; j++ {
			p := rows[1].Row(j)
			for i := 0; i < B; i++ {
				col[i] = scale * dot(rows[0].Row(i), p)
			}
			lse := stats.LogSumExp(col)
			loss += half * (lse - col[j]) / float64(B)
			dp := drows[1].Row(j)
			for i := 0; i < B; i++ {
				g := math.Exp(col[i] - lse)
				if i == j {
					g--
				}
				g *= half * scale / float64(B)
				a, da := rows[0].Row(i), drows[0].Row(i)
				for d := 0; d < D; d++ {
					da[d] += g * p[d]
					dp[d] += g * a[d]
				}
			}
		}
	}
	if sim == DotScore {
		return loss, drows, nil
	}
	grads := zerosLike(cols)
	for k, c := range cols {
		for i := 0; i < B; i++ {
			normalizeRowBackward(c.Row(i), drows[k].Row(i), grads[k].Row(i))
		}
	}
	return loss, grads, nil
}

// ---- CoSENT and AnglE ----

// CoSENTLoss is ST's CoSENTLoss: log(1 + sum over pairs (i, j) with
// label_i < label_j of exp(Scale·(s_i − s_j))), s the pairwise cosine
// similarity of (sentence1, sentence2).
type CoSENTLoss struct {
	Scale float64 // 20
}

// NewCoSENTLoss returns CoSENTLoss with ST's default scale 20.
func NewCoSENTLoss() *CoSENTLoss { return &CoSENTLoss{Scale: 20} }

func (l *CoSENTLoss) Name() string { return "CoSENTLoss" }

func (l *CoSENTLoss) Compute(cols []Matrix, labels []float64) (float64, []Matrix, error) {
	B, _, err := checkScoredPairs(l.Name(), cols, labels)
	if err != nil {
		return 0, nil, err
	}
	pc := newPairCos(cols[0], cols[1])
	loss, grads := pairwiseCoSENT(cols, labels, l.Scale, B, pc.value, func(i int, g float64, grads []Matrix) {
		pc.backward(i, g, grads[0], grads[1])
	})
	return loss, grads, nil
}

// AnglELoss is ST's AnglELoss: CoSENTLoss over pairwise_angle_sim, the
// absolute sum of the real and imaginary parts of the normalised complex
// quotient of the two embeddings (first half real, second half imaginary).
// The embedding dimension must be even.
type AnglELoss struct {
	Scale float64 // 20
}

// NewAnglELoss returns AnglELoss with ST's default scale 20.
func NewAnglELoss() *AnglELoss { return &AnglELoss{Scale: 20} }

func (l *AnglELoss) Name() string { return "AnglELoss" }

func (l *AnglELoss) Compute(cols []Matrix, labels []float64) (float64, []Matrix, error) {
	B, D, err := checkScoredPairs(l.Name(), cols, labels)
	if err != nil {
		return 0, nil, err
	}
	if D%2 != 0 {
		return 0, nil, fmt.Errorf("embed: AnglELoss splits embeddings into real and imaginary halves: dimension %d is odd", D)
	}
	f := make([]float64, B)
	sim := func(i int) float64 {
		f[i] = angleRaw(cols[0].Row(i), cols[1].Row(i))
		return math.Abs(f[i])
	}
	loss, grads := pairwiseCoSENT(cols, labels, l.Scale, B, sim, func(i int, g float64, grads []Matrix) {
		sign := 0.0
		if f[i] > 0 {
			sign = 1
		} else if f[i] < 0 {
			sign = -1
		}
		angleBackward(cols[0].Row(i), cols[1].Row(i), sign*g, grads[0].Row(i), grads[1].Row(i))
	})
	return loss, grads, nil
}

// checkScoredPairs checks the input of a loss over (sentence1, sentence2)
// pairs with one score label per pair and returns the batch size and
// embedding dimension.
func checkScoredPairs(name string, cols []Matrix, labels []float64) (int, int, error) {
	B, D, err := checkCols(name, cols, 2, 2)
	if err != nil {
		return 0, 0, err
	}
	if err := checkLabels(name, labels, B); err != nil {
		return 0, 0, err
	}
	return B, D, nil
}

// pairwiseCoSENT is the CoSENT objective over the n pair similarities
// sim(0..n-1) (computed in that order): it returns the loss and the
// gradients w.r.t. cols, which backward(i, dloss/dsim_i, grads) adds into.
func pairwiseCoSENT(cols []Matrix, labels []float64, scale float64, n int, sim func(i int) float64, backward func(i int, g float64, grads []Matrix)) (float64, []Matrix) {
	s := make([]float64, n)
	for i := range s {
		s[i] = sim(i)
	}
	loss, ds := cosent(s, labels, scale)
	grads := zerosLike(cols)
	for i := range s {
		backward(i, ds[i], grads)
	}
	return loss, grads
}

// angleRaw is pairwise_angle_sim before its abs: with x = (a, b), y = (c, d),
// sum(ac + bd + bc − ad) / (|x||y|).
func angleRaw(x, y []float64) float64 {
	h := len(x) / 2
	p := 0.0
	for k := 0; k < h; k++ {
		a, b, c, d := x[k], x[h+k], y[k], y[h+k]
		p += a*c + b*d + b*c - a*d
	}
	return p / math.Sqrt(dot(x, x)*dot(y, y))
}

// angleBackward adds g · d angleRaw / d(x, y) into dx, dy.
func angleBackward(x, y []float64, g float64, dx, dy []float64) {
	h := len(x) / 2
	nx, ny := math.Sqrt(dot(x, x)), math.Sqrt(dot(y, y))
	f := angleRaw(x, y)
	for k := 0; k < h; k++ {
		a, b, c, d := x[k], x[h+k], y[k], y[h+k]
		dx[k] += g * ((c-d)/(nx*ny) - f*a/(nx*nx))
		dx[h+k] += g * ((c+d)/(nx*ny) - f*b/(nx*nx))
		dy[k] += g * ((a+b)/(nx*ny) - f*c/(ny*ny))
		dy[h+k] += g * ((b-a)/(nx*ny) - f*d/(ny*ny))
	}
}

// cosent returns logsumexp({0} ∪ {scale(s_i − s_j) : label_i < label_j}) and
// its gradient w.r.t. s.
func cosent(s, labels []float64, scale float64) (float64, []float64) {
	n := len(s)
	v := []float64{0}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if labels[i] < labels[j] {
				v = append(v, scale*s[i]-scale*s[j])
			}
		}
	}
	lse := stats.LogSumExp(v)
	ds := make([]float64, n)
	k := 1
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if labels[i] < labels[j] {
				w := math.Exp(v[k]-lse) * scale
				ds[i] += w
				ds[j] -= w
				k++
			}
		}
	}
	return lse, ds
}

// ---- CosineSimilarityLoss, ContrastiveLoss ----

// CosineSimilarityLoss is ST's CosineSimilarityLoss: the mean squared error
// between cos(sentence1, sentence2) and the label (ST's default MSELoss and
// identity transformation).
type CosineSimilarityLoss struct{}

func (CosineSimilarityLoss) Name() string { return "CosineSimilarityLoss" }

func (l CosineSimilarityLoss) Compute(cols []Matrix, labels []float64) (float64, []Matrix, error) {
	B, _, err := checkCols(l.Name(), cols, 2, 2)
	if err != nil {
		return 0, nil, err
	}
	if err := checkLabels(l.Name(), labels, B); err != nil {
		return 0, nil, err
	}
	pc := newPairCos(cols[0], cols[1])
	grads := zerosLike(cols)
	loss := 0.0
	for i := 0; i < B; i++ {
		r := pc.value(i) - labels[i]
		loss += r * r / float64(B)
		pc.backward(i, 2*r/float64(B), grads[0], grads[1])
	}
	return loss, grads, nil
}

// ContrastiveLoss is ST's ContrastiveLoss with its default cosine distance
// d = 1 − cos: 0.5·(y·d² + (1−y)·relu(Margin − d)²), averaged over the batch
// when SizeAverage (summed otherwise). Labels are 1 (similar) or 0.
type ContrastiveLoss struct {
	Margin      float64 // 0.5
	SizeAverage bool    // true
}

// NewContrastiveLoss returns ContrastiveLoss with ST's defaults.
func NewContrastiveLoss() *ContrastiveLoss { return &ContrastiveLoss{Margin: 0.5, SizeAverage: true} }

func (l *ContrastiveLoss) Name() string { return "ContrastiveLoss" }

func (l *ContrastiveLoss) Compute(cols []Matrix, labels []float64) (float64, []Matrix, error) {
	B, _, err := checkCols(l.Name(), cols, 2, 2)
	if err != nil {
		return 0, nil, err
	}
	if err := checkLabels(l.Name(), labels, B); err != nil {
		return 0, nil, err
	}
	red := 1.0
	if l.SizeAverage {
		red = 1 / float64(B)
	}
	pc := newPairCos(cols[0], cols[1])
	grads := zerosLike(cols)
	loss := 0.0
	for i := 0; i < B; i++ {
		d := 1 - pc.value(i)
		y := labels[i]
		h := math.Max(l.Margin-d, 0)
		loss += red * 0.5 * (y*d*d + (1-y)*h*h)
		dd := red * (y*d - (1-y)*h)
		pc.backward(i, -dd, grads[0], grads[1])
	}
	return loss, grads, nil
}

// ---- TripletLoss ----

// TripletMetric is the distance TripletLoss uses.
type TripletMetric string

const (
	TripletEuclidean TripletMetric = "euclidean" // |x − y|₂, the documented default
	TripletCosine    TripletMetric = "cosine"    // 1 − cos(x, y)
)

// TripletLoss is ST's TripletLoss: mean over (anchor, positive, negative) of
// relu(dist(a, p) − dist(a, n) + Margin). See the package doc for how its
// Euclidean distance differs from ST 5.1.2's code.
type TripletLoss struct {
	Metric TripletMetric // TripletEuclidean
	Margin float64       // 5
}

// NewTripletLoss returns TripletLoss with ST's defaults (Euclidean, margin 5).
func NewTripletLoss() *TripletLoss { return &TripletLoss{Metric: TripletEuclidean, Margin: 5} }

func (l *TripletLoss) Name() string { return "TripletLoss" }

func (l *TripletLoss) Compute(cols []Matrix, _ []float64) (float64, []Matrix, error) {
	B, D, err := checkCols(l.Name(), cols, 3, 3)
	if err != nil {
		return 0, nil, err
	}
	var pp, pn *pairCos
	switch l.Metric {
	case TripletEuclidean:
	case TripletCosine:
		pp, pn = newPairCos(cols[0], cols[1]), newPairCos(cols[0], cols[2])
	default:
		return 0, nil, fmt.Errorf("embed: TripletLoss metric %q: want %q or %q", l.Metric, TripletEuclidean, TripletCosine)
	}
	grads := zerosLike(cols)
	// dist returns the distance and adds g·d dist into the gradients.
	dist := func(i, k int, pc *pairCos, g float64) float64 {
		if pc != nil {
			v := 1 - pc.value(i)
			if g != 0 {
				pc.backward(i, -g, grads[0], grads[k])
			}
			return v
		}
		a, x := cols[0].Row(i), cols[k].Row(i)
		s := 0.0
		for d := 0; d < D; d++ {
			s += (a[d] - x[d]) * (a[d] - x[d])
		}
		v := math.Sqrt(s)
		if g != 0 && v > 0 {
			da, dx := grads[0].Row(i), grads[k].Row(i)
			for d := 0; d < D; d++ {
				t := g * (a[d] - x[d]) / v
				da[d] += t
				dx[d] -= t
			}
		}
		return v
	}
	loss := 0.0
	for i := 0; i < B; i++ {
		h := dist(i, 1, pp, 0) - dist(i, 2, pn, 0) + l.Margin
		if h > 0 {
			loss += h / float64(B)
			dist(i, 1, pp, 1/float64(B))
			dist(i, 2, pn, -1/float64(B))
		}
	}
	return loss, grads, nil
}

// ---- MatryoshkaLoss ----

// MatryoshkaLoss is ST's MatryoshkaLoss: sum over dims of weight × inner loss
// on the embeddings truncated to the first dim values and L2-normalised (ST's
// shrink, applied at every dimension, the full one included). Weights nil
// means all 1, ST's default. ST's n_dims_per_step is not offered (all dims are
// used at every step, its default).
type MatryoshkaLoss struct {
	Inner   Loss
	Dims    []int
	Weights []float64
}

func (l *MatryoshkaLoss) Name() string { return "MatryoshkaLoss" }

func (l *MatryoshkaLoss) Compute(cols []Matrix, labels []float64) (float64, []Matrix, error) {
	if l.Inner == nil {
		return 0, nil, fmt.Errorf("embed: MatryoshkaLoss needs an inner loss")
	}
	if len(l.Dims) == 0 {
		return 0, nil, fmt.Errorf("embed: MatryoshkaLoss needs at least one dimension in its dims")
	}
	if l.Weights != nil && len(l.Weights) != len(l.Dims) {
		return 0, nil, fmt.Errorf("embed: MatryoshkaLoss has %d weights for %d dims; give one weight per dim", len(l.Weights), len(l.Dims))
	}
	_, D, err := checkCols(l.Name(), cols, 1, 0)
	if err != nil {
		return 0, nil, err
	}
	type dw struct {
		dim int
		w   float64
	}
	order := make([]dw, len(l.Dims))
	for i, d := range l.Dims {
		if d <= 0 || d > D {
			return 0, nil, fmt.Errorf("embed: MatryoshkaLoss dimension %d: want 1..%d (the embedding dimension)", d, D)
		}
		order[i] = dw{d, 1}
		if l.Weights != nil {
			order[i].w = l.Weights[i]
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].dim > order[j].dim })
	grads := zerosLike(cols)
	total := 0.0
	for _, o := range order {
		small := make([]Matrix, len(cols))
		trunc := make([]Matrix, len(cols))
		for k, c := range cols {
			trunc[k], _ = Truncate(c, o.dim)
			small[k] = Normalize(trunc[k])
		}
		v, g, err := l.Inner.Compute(small, labels)
		if err != nil {
			return 0, nil, fmt.Errorf("embed: MatryoshkaLoss at dimension %d: %w", o.dim, err)
		}
		total += o.w * v
		for k := range cols {
			for i := 0; i < cols[k].Rows; i++ {
				gr := g[k].Row(i)
				for j := range gr {
					gr[j] *= o.w
				}
				normalizeRowBackward(trunc[k].Row(i), gr, grads[k].Row(i)[:o.dim])
			}
		}
	}
	return total, grads, nil
}

// LossNames are the losses NewLoss knows, by sentence-transformers' class names.
var LossNames = []string{
	"MultipleNegativesRankingLoss", "MultipleNegativesSymmetricRankingLoss",
	"CachedMultipleNegativesRankingLoss", "CoSENTLoss", "AnglELoss",
	"CosineSimilarityLoss", "ContrastiveLoss", "TripletLoss",
}

// NewLoss returns the loss of that sentence-transformers class name with ST's
// defaults. MatryoshkaLoss wraps one of these and is built directly, since it
// needs its dimensions.
func NewLoss(name string) (Loss, error) {
	switch name {
	case "MultipleNegativesRankingLoss":
		return NewMultipleNegativesRankingLoss(), nil
	case "MultipleNegativesSymmetricRankingLoss":
		return NewMultipleNegativesSymmetricRankingLoss(), nil
	case "CachedMultipleNegativesRankingLoss":
		return NewCachedMultipleNegativesRankingLoss(), nil
	case "CoSENTLoss":
		return NewCoSENTLoss(), nil
	case "AnglELoss":
		return NewAnglELoss(), nil
	case "CosineSimilarityLoss":
		return CosineSimilarityLoss{}, nil
	case "ContrastiveLoss":
		return NewContrastiveLoss(), nil
	case "TripletLoss":
		return NewTripletLoss(), nil
	}
	return nil, fmt.Errorf("embed: unknown loss %q; want one of %v (or MatryoshkaLoss around one)", name, LossNames)
}
