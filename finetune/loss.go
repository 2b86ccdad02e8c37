package finetune

import (
	"fmt"
	"math"

	"ft/dataset"
	"ft/internal/stats"
	"ft/tensor"
)

// Loss is a training objective attached to a model output (logits, or
// probabilities for BCELoss). Like the ops, each loss has its forward value
// and its hand-written gradient side by side.
type Loss interface {
	// Name is the PyTorch class name ("CrossEntropyLoss", ...).
	Name() string
	// Loss returns the loss (mean reduction, computed in float64) and its
	// gradient with respect to output, of output's shape and float type.
	Loss(output, target *tensor.Tensor) (float64, *tensor.Tensor, error)
}

// LossFor returns the loss Hugging Face models use for a problem type:
// cross-entropy for single-label classification, BCE on logits for
// multi-label, mean squared error for regression.
func LossFor(p dataset.ProblemType) (Loss, error) {
	switch p {
	case dataset.SingleLabel:
		return NewCrossEntropyLoss(), nil
	case dataset.MultiLabel:
		return &BCEWithLogitsLoss{}, nil
	case dataset.Regression:
		return MSELoss{}, nil
	}
	return nil, fmt.Errorf("no loss for problem type %s", p)
}

// DefaultIgnoreIndex is torch's ignore_index default.
const DefaultIgnoreIndex = -100

// CrossEntropyLoss is torch.nn.CrossEntropyLoss with mean reduction over
// logits [..., C] (classes last, as Hugging Face flattens them with
// view(-1, C)) and integer targets [...].
//
// Forward, for rows i whose target y_i is not IgnoreIndex, with
// logp = log_softmax(z_i), W = sum_i w[y_i] (the row count without weights):
//
//	loss = (1-ε)/W · Σ_i −w[y_i]·logp[y_i]  +  ε/(C·W) · Σ_i Σ_c −w[c]·logp[c]
//
// Backward: dz_ij = [(1-ε)·w[y_i]·(p_j − δ_{j,y_i}) + ε/C·(p_j·Σ_c w[c] − w[j])] / W.
// When every row is ignored the loss is NaN and the gradient zero, as in torch.
type CrossEntropyLoss struct {
	// Weight rescales each class (length C); nil means 1 for all.
	Weight []float64
	// IgnoreIndex is a target that contributes nothing (torch: -100).
	IgnoreIndex int
	// LabelSmoothing in [0, 1] mixes the target with the uniform distribution.
	LabelSmoothing float64
}

// NewCrossEntropyLoss returns torch's defaults: no weights, ignore_index
// -100, no smoothing.
func NewCrossEntropyLoss() *CrossEntropyLoss {
	return &CrossEntropyLoss{IgnoreIndex: DefaultIgnoreIndex}
}

// Name implements Loss.
func (*CrossEntropyLoss) Name() string { return "CrossEntropyLoss" }

// Loss implements Loss.
func (l *CrossEntropyLoss) Loss(logits, target *tensor.Tensor) (float64, *tensor.Tensor, error) {
	if err := checkFloat("CrossEntropyLoss", logits); err != nil {
		return 0, nil, err
	}
	if logits.Rank() < 2 {
		return 0, nil, fmt.Errorf("CrossEntropyLoss: logits must be [batch, classes], got shape %v", logits.Shape)
	}
	c := logits.Shape[logits.Rank()-1]
	rows := logits.Len() / max(c, 1)
	y, err := target.Ints()
	if err != nil {
		return 0, nil, fmt.Errorf("CrossEntropyLoss: targets must be class ids: %v", err)
	}
	if len(y) != rows {
		return 0, nil, fmt.Errorf("CrossEntropyLoss: %d targets (shape %v) for %d rows of logits %v", len(y), target.Shape, rows, logits.Shape)
	}
	if l.Weight != nil && len(l.Weight) != c {
		return 0, nil, fmt.Errorf("CrossEntropyLoss: %d class weights for %d classes", len(l.Weight), c)
	}
	if l.LabelSmoothing < 0 || l.LabelSmoothing > 1 {
		return 0, nil, fmt.Errorf("CrossEntropyLoss: label smoothing %g is outside [0, 1]", l.LabelSmoothing)
	}
	w := func(k int) float64 {
		if l.Weight == nil {
			return 1
		}
		return l.Weight[k]
	}
	sumW := 0.0
	for k := 0; k < c; k++ {
		sumW += w(k)
	}
	z := logits.Float64s()
	g := make([]float64, len(z))
	eps := l.LabelSmoothing
	var nll, smooth, total float64
	logp := make([]float64, c)
	for i := 0; i < rows; i++ {
		if y[i] == l.IgnoreIndex {
			continue
		}
		if y[i] < 0 || y[i] >= c {
			return 0, nil, fmt.Errorf("CrossEntropyLoss: target %d of row %d is not a class id in [0, %d) nor the ignore index %d", y[i], i, c, l.IgnoreIndex)
		}
		row := z[i*c : (i+1)*c]
		lse := stats.LogSumExp(row)
		for k, v := range row {
			logp[k] = v - lse
		}
		wy := w(y[i])
		total += wy
		nll -= wy * logp[y[i]]
		if eps > 0 {
			for k := range logp {
				smooth -= w(k) * logp[k]
			}
		}
		gr := g[i*c : (i+1)*c]
		for k := range gr {
			p := math.Exp(logp[k])
			v := (1 - eps) * wy * p
			if k == y[i] {
				v -= (1 - eps) * wy
			}
			if eps > 0 {
				v += eps / float64(c) * (p*sumW - w(k))
			}
			gr[k] = v
		}
	}
	if total == 0 {
		return math.NaN(), tensor.Zeros(logits.DType(), logits.Shape...), nil
	}
	for k := range g {
		g[k] /= total
	}
	loss := (1-eps)*nll/total + eps/float64(c)*smooth/total
	return loss, fromFloat64s(g, logits), nil
}

// BCEWithLogitsLoss is torch.nn.BCEWithLogitsLoss with mean reduction: the
// multi-label loss on logits x and targets y in [0, 1] of the same shape.
//
// Forward (stable form, as torch): with lw = 1 + (pos_weight − 1)·y,
//
//	l = w · [(1 − y)·x + lw·softplus(−x)],  loss = mean(l)
//
// Backward: dx = w · [(1 − y) − lw·σ(−x)] / N.
type BCEWithLogitsLoss struct {
	// Weight rescales each element, broadcast along the last dimension
	// (length = size of the last dimension); nil means 1.
	Weight []float64
	// PosWeight weighs the positive targets of each class (length = size of
	// the last dimension); nil means 1.
	PosWeight []float64
}

// Name implements Loss.
func (*BCEWithLogitsLoss) Name() string { return "BCEWithLogitsLoss" }

// Loss implements Loss.
func (l *BCEWithLogitsLoss) Loss(logits, target *tensor.Tensor) (float64, *tensor.Tensor, error) {
	x, y, c, err := elementwiseArgs("BCEWithLogitsLoss", logits, target, l.Weight, l.PosWeight)
	if err != nil {
		return 0, nil, err
	}
	n := float64(len(x))
	g := make([]float64, len(x))
	sum := 0.0
	for i, xi := range x {
		yi := y[i]
		lw, w := 1.0, 1.0
		if l.PosWeight != nil {
			lw = 1 + (l.PosWeight[i%c]-1)*yi
		}
		if l.Weight != nil {
			w = l.Weight[i%c]
		}
		// softplus(−x) = log(1 + exp(−|x|)) + max(−x, 0)
		sp := math.Log1p(math.Exp(-math.Abs(xi))) + math.Max(-xi, 0)
		sum += w * ((1-yi)*xi + lw*sp)
		g[i] = w * ((1 - yi) - lw*sigmoid(-xi)) / n
	}
	return sum / n, fromFloat64s(g, logits), nil
}

// BCELoss is torch.nn.BCELoss with mean reduction, on probabilities p in
// [0, 1] (a model whose output already went through a sigmoid).
//
// Forward: l = −w·[y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)].
// Backward (torch's formula, which stays finite at p = 0 or 1):
// dp = w·(p − y) / max((1 − p)·p, 1e-12) / N.
type BCELoss struct {
	// Weight rescales each element, broadcast along the last dimension; nil means 1.
	Weight []float64
}

// Name implements Loss.
func (*BCELoss) Name() string { return "BCELoss" }

// Loss implements Loss.
func (l *BCELoss) Loss(probs, target *tensor.Tensor) (float64, *tensor.Tensor, error) {
	p, y, c, err := elementwiseArgs("BCELoss", probs, target, l.Weight, nil)
	if err != nil {
		return 0, nil, err
	}
	n := float64(len(p))
	g := make([]float64, len(p))
	sum := 0.0
	for i, pi := range p {
		if !(pi >= 0 && pi <= 1) {
			return 0, nil, fmt.Errorf("BCELoss: input %d is %g; every input must be a probability in [0, 1] (for logits use BCEWithLogitsLoss)", i, pi)
		}
		w := 1.0
		if l.Weight != nil {
			w = l.Weight[i%c]
		}
		yi := y[i]
		lp := math.Max(math.Log(pi), -100)
		lq := math.Max(math.Log(1-pi), -100)
		sum -= w * (yi*lp + (1-yi)*lq)
		g[i] = w * (pi - yi) / math.Max((1-pi)*pi, 1e-12) / n
	}
	return sum / n, fromFloat64s(g, probs), nil
}

// MSELoss is torch.nn.MSELoss with mean reduction. The target must have as
// many elements as the output (a [B, 1] regression output against [B]
// labels, as Hugging Face squeezes both).
//
// Forward: mean((x − y)²). Backward: dx = 2·(x − y) / N.
type MSELoss struct{}

// Name implements Loss.
func (MSELoss) Name() string { return "MSELoss" }

// Loss implements Loss.
func (MSELoss) Loss(output, target *tensor.Tensor) (float64, *tensor.Tensor, error) {
	if err := checkFloat("MSELoss", output); err != nil {
		return 0, nil, err
	}
	if target.Len() != output.Len() {
		return 0, nil, fmt.Errorf("MSELoss: target shape %v does not match output shape %v", target.Shape, output.Shape)
	}
	x, y := output.Float64s(), target.Float64s()
	n := float64(len(x))
	g := make([]float64, len(x))
	sum := 0.0
	for i := range x {
		d := x[i] - y[i]
		sum += d * d
		g[i] = 2 * d / n
	}
	return sum / n, fromFloat64s(g, output), nil
}

// elementwiseArgs checks an output/target pair of the same shape and
// per-class vectors for the last dimension; it returns the values and the
// size of the last dimension.
func elementwiseArgs(name string, out, target *tensor.Tensor, vecs ...[]float64) (x, y []float64, c int, err error) {
	if err := checkFloat(name, out); err != nil {
		return nil, nil, 0, err
	}
	if !target.DType().IsFloat() {
		return nil, nil, 0, fmt.Errorf("%s: targets must be float (0/1 or probabilities), got %s", name, target.DType())
	}
	if !tensor.SameShape(out.Shape, target.Shape) {
		return nil, nil, 0, fmt.Errorf("%s: target shape %v does not match output shape %v", name, target.Shape, out.Shape)
	}
	c = 1
	if out.Rank() > 0 {
		c = out.Shape[out.Rank()-1]
	}
	for _, v := range vecs {
		if v != nil && len(v) != c {
			return nil, nil, 0, fmt.Errorf("%s: a weight vector of length %d for a last dimension of %d", name, len(v), c)
		}
	}
	x, y = out.Float64s(), target.Float64s()
	if len(x) == 0 {
		return nil, nil, 0, fmt.Errorf("%s: empty output", name)
	}
	return x, y, c, nil
}

func checkFloat(name string, t *tensor.Tensor) error {
	if !t.DType().IsFloat() {
		return fmt.Errorf("%s: the output must be float32 or float64, got %s", name, t.DType())
	}
	return nil
}

// fromFloat64s returns v as a tensor of like's shape and float type.
func fromFloat64s(v []float64, like *tensor.Tensor) *tensor.Tensor {
	if like.DType() == tensor.Float64 {
		return tensor.New(like.Shape, v)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(like.Shape, f)
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Softmax returns the probabilities of a row of logits (computed in
// float64, after subtracting the row's maximum so that nothing overflows).
func Softmax(logits []float32) []float64 { return stats.Softmax(logits) }
