package finetune

import (
	"fmt"
	"math"
	"strconv"

	"ft/internal/stats"
)

// Metrics follow scikit-learn's definitions with zero_division=0: a ratio
// whose denominator is 0 counts as 0.

// ClassificationReport holds single-label classification metrics.
type ClassificationReport struct {
	Accuracy float64
	// Per class (index = class id).
	Precision, Recall, F1 []float64
	Support               []int
	// Macro averages over the classes that occur in the true or predicted
	// labels (scikit-learn's default labels); WeightedF1 weighs by support.
	MacroPrecision, MacroRecall, MacroF1, WeightedF1 float64
	// Confusion counts the (true, predicted) pairs that occur: its size
	// grows with the examples, not with the square of the classes.
	Confusion Confusion
	// Classes is the number of classes.
	Classes int
}

// Confusion counts examples by (true class, predicted class); pairs that do
// not occur are absent.
type Confusion map[[2]int]int

// Dense returns the matrix [true][predicted] over n classes (for printing:
// n² cells).
func (c Confusion) Dense(n int) [][]int {
	m := make([][]int, n)
	for i := range m {
		m[i] = make([]int, n)
	}
	for k, v := range c {
		if k[0] < n && k[1] < n {
			m[k[0]][k[1]] = v
		}
	}
	return m
}

// ClassificationMetrics computes single-label metrics for class ids in
// [0, numClasses). Memory grows with the examples and the classes, never
// with classes².
func ClassificationMetrics(yTrue, yPred []int, numClasses int) (*ClassificationReport, error) {
	if len(yTrue) != len(yPred) {
		return nil, fmt.Errorf("metrics: %d true labels but %d predictions", len(yTrue), len(yPred))
	}
	if len(yTrue) == 0 {
		return nil, fmt.Errorf("metrics: no examples")
	}
	r := &ClassificationReport{Confusion: Confusion{}, Classes: numClasses}
	tp := make([]int, numClasses)
	predicted := make([]int, numClasses)
	r.Support = make([]int, numClasses)
	correct := 0
	for i, t := range yTrue {
		p := yPred[i]
		if t < 0 || t >= numClasses || p < 0 || p >= numClasses {
			return nil, fmt.Errorf("metrics: example %d has true class %d and prediction %d; classes are 0..%d", i, t, p, numClasses-1)
		}
		r.Confusion[[2]int{t, p}]++
		r.Support[t]++
		predicted[p]++
		if t == p {
			correct++
			tp[t]++
		}
	}
	r.Accuracy = float64(correct) / float64(len(yTrue))
	r.Precision = make([]float64, numClasses)
	r.Recall = make([]float64, numClasses)
	r.F1 = make([]float64, numClasses)
	present := 0
	for c := 0; c < numClasses; c++ {
		tp := tp[c]
		fp, fn := predicted[c]-tp, r.Support[c]-tp
		r.Precision[c] = ratio(tp, tp+fp)
		r.Recall[c] = ratio(tp, tp+fn)
		r.F1[c] = ratio(2*tp, 2*tp+fp+fn)
		if r.Support[c] > 0 || predicted[c] > 0 {
			present++
			r.MacroPrecision += r.Precision[c]
			r.MacroRecall += r.Recall[c]
			r.MacroF1 += r.F1[c]
		}
		r.WeightedF1 += r.F1[c] * float64(r.Support[c])
	}
	r.MacroPrecision /= float64(present)
	r.MacroRecall /= float64(present)
	r.MacroF1 /= float64(present)
	r.WeightedF1 /= float64(len(yTrue))
	return r, nil
}

// Metrics returns the report as named values for the metrics log:
// accuracy, precision/recall/f1 (macro), f1_weighted and, for two classes,
// f1 of class 1 as f1_binary (scikit-learn's average="binary").
func (r *ClassificationReport) Metrics() map[string]float64 {
	m := map[string]float64{
		"accuracy":        r.Accuracy,
		"precision_macro": r.MacroPrecision,
		"recall_macro":    r.MacroRecall,
		"f1_macro":        r.MacroF1,
		"f1_weighted":     r.WeightedF1,
	}
	if len(r.F1) == 2 {
		m["f1_binary"] = r.F1[1]
	}
	return m
}

// MultiLabelReport holds multi-label classification metrics.
type MultiLabelReport struct {
	// SubsetAccuracy is the share of examples whose label set is exactly right.
	SubsetAccuracy float64
	// Micro: counts pooled over all labels. Macro: the mean over all labels
	// (every column of the indicator matrix, as scikit-learn).
	MicroPrecision, MicroRecall, MicroF1 float64
	MacroF1                              float64
	// F1 and Support per label.
	F1      []float64
	Support []int
}

// MultiLabelMetrics computes multi-label metrics from indicator rows (true[i][c]:
// example i has label c).
func MultiLabelMetrics(yTrue, yPred [][]bool) (*MultiLabelReport, error) {
	if len(yTrue) != len(yPred) {
		return nil, fmt.Errorf("metrics: %d true rows but %d predictions", len(yTrue), len(yPred))
	}
	if len(yTrue) == 0 {
		return nil, fmt.Errorf("metrics: no examples")
	}
	k := len(yTrue[0])
	tp, fp, fn := make([]int, k), make([]int, k), make([]int, k)
	exact := 0
	for i := range yTrue {
		if len(yTrue[i]) != k || len(yPred[i]) != k {
			return nil, fmt.Errorf("metrics: row %d has %d true and %d predicted labels, want %d", i, len(yTrue[i]), len(yPred[i]), k)
		}
		same := true
		for c := 0; c < k; c++ {
			t, p := yTrue[i][c], yPred[i][c]
			switch {
			case t && p:
				tp[c]++
			case p:
				fp[c]++
			case t:
				fn[c]++
			}
			same = same && t == p
		}
		if same {
			exact++
		}
	}
	r := &MultiLabelReport{SubsetAccuracy: float64(exact) / float64(len(yTrue)), F1: make([]float64, k), Support: make([]int, k)}
	var stp, sfp, sfn int
	for c := 0; c < k; c++ {
		r.F1[c] = ratio(2*tp[c], 2*tp[c]+fp[c]+fn[c])
		r.Support[c] = tp[c] + fn[c]
		r.MacroF1 += r.F1[c]
		stp, sfp, sfn = stp+tp[c], sfp+fp[c], sfn+fn[c]
	}
	if k > 0 {
		r.MacroF1 /= float64(k)
	}
	r.MicroPrecision = ratio(stp, stp+sfp)
	r.MicroRecall = ratio(stp, stp+sfn)
	r.MicroF1 = ratio(2*stp, 2*stp+sfp+sfn)
	return r, nil
}

// Metrics returns the report as named values for the metrics log.
func (r *MultiLabelReport) Metrics() map[string]float64 {
	return map[string]float64{
		"subset_accuracy": r.SubsetAccuracy,
		"precision_micro": r.MicroPrecision,
		"recall_micro":    r.MicroRecall,
		"f1_micro":        r.MicroF1,
		"f1_macro":        r.MacroF1,
	}
}

// RegressionReport holds regression metrics.
type RegressionReport struct {
	MSE, MAE float64
	// Pearson is the correlation coefficient, Spearman the correlation of
	// the ranks (ties get their mean rank, as scipy.stats.spearmanr); NaN
	// when either side is constant.
	Pearson, Spearman float64
}

// RegressionMetrics computes MSE, MAE and Pearson's r.
func RegressionMetrics(yTrue, yPred []float64) (*RegressionReport, error) {
	if len(yTrue) != len(yPred) {
		return nil, fmt.Errorf("metrics: %d targets but %d predictions", len(yTrue), len(yPred))
	}
	n := float64(len(yTrue))
	if n == 0 {
		return nil, fmt.Errorf("metrics: no examples")
	}
	r := &RegressionReport{}
	for i := range yTrue {
		d := yPred[i] - yTrue[i]
		r.MSE += d * d
		r.MAE += math.Abs(d)
	}
	r.MSE /= n
	r.MAE /= n
	r.Pearson = stats.Pearson(yTrue, yPred)
	r.Spearman = stats.Spearman(yTrue, yPred)
	return r, nil
}

// Metrics returns the report as named values for the metrics log.
func (r *RegressionReport) Metrics() map[string]float64 {
	return map[string]float64{"mse": r.MSE, "mae": r.MAE, "pearson": r.Pearson, "spearmanr": r.Spearman}
}

// ArgmaxRows returns the index of the largest value of each row of a
// row-major [rows, cols] matrix (the first on ties): class predictions from
// logits.
func ArgmaxRows(v []float32, cols int) []int {
	if cols <= 0 {
		return nil
	}
	out := make([]int, len(v)/cols)
	for i := range out {
		row := v[i*cols : (i+1)*cols]
		best := 0
		for j, x := range row {
			if x > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// ThresholdRows returns multi-label predictions from logits: label c is on
// when its logit is above threshold (0 = probability 0.5).
func ThresholdRows(v []float32, cols int, threshold float32) [][]bool {
	if cols <= 0 {
		return nil
	}
	out := make([][]bool, len(v)/cols)
	for i := range out {
		out[i] = make([]bool, cols)
		for j := 0; j < cols; j++ {
			out[i][j] = v[i*cols+j] > threshold
		}
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// FormatConfusion prints a confusion matrix with class names (rows: true,
// columns: predicted).
func FormatConfusion(conf [][]int, names []string) string {
	w := 4
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return strconv.Itoa(i)
	}
	for i := range conf {
		w = max(w, len(name(i)))
		for _, c := range conf[i] {
			w = max(w, len(strconv.Itoa(c)))
		}
	}
	corner := "true\\pred"
	first := max(w, len(corner))
	s := fmt.Sprintf("%*s", first, corner)
	for j := range conf {
		s += fmt.Sprintf(" %*s", w, name(j))
	}
	s += "\n"
	for i, row := range conf {
		s += fmt.Sprintf("%*s", first, name(i))
		for _, c := range row {
			s += fmt.Sprintf(" %*d", w, c)
		}
		s += "\n"
	}
	return s
}
