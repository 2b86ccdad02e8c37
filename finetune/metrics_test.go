package finetune

import (
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// The expected values below are worked out by hand from the confusion
// matrices (scikit-learn's definitions, zero_division=0).

func TestClassificationMetrics(t *testing.T) {
	// true: 0 0 0 1 1 2 2 2 2 ; pred: 0 1 0 1 2 2 2 0 2
	// confusion (rows true): [2 1 0] [0 1 1] [1 0 3]
	// class 0: tp 2, fp 1, fn 1 -> P 2/3, R 2/3, F1 2/3
	// class 1: tp 1, fp 1, fn 1 -> P 1/2, R 1/2, F1 1/2
	// class 2: tp 3, fp 1, fn 1 -> P 3/4, R 3/4, F1 3/4
	yt := []int{0, 0, 0, 1, 1, 2, 2, 2, 2}
	yp := []int{0, 1, 0, 1, 2, 2, 2, 0, 2}
	r, err := ClassificationMetrics(yt, yp, 3)
	if err != nil {
		t.Fatal(err)
	}
	approx := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %.15g, want %.15g", what, got, want)
		}
	}
	approx("accuracy", r.Accuracy, 6.0/9)
	if !reflect.DeepEqual(r.Confusion.Dense(3), [][]int{{2, 1, 0}, {0, 1, 1}, {1, 0, 3}}) {
		t.Errorf("confusion %v", r.Confusion)
	}
	for c, w := range []float64{2.0 / 3, 0.5, 0.75} {
		approx("precision", r.Precision[c], w)
		approx("recall", r.Recall[c], w)
		approx("f1", r.F1[c], w)
	}
	if !reflect.DeepEqual(r.Support, []int{3, 2, 4}) {
		t.Errorf("support %v", r.Support)
	}
	approx("macro f1", r.MacroF1, (2.0/3+0.5+0.75)/3)
	approx("weighted f1", r.WeightedF1, (3*2.0/3+2*0.5+4*0.75)/9)
	approx("macro precision", r.MacroPrecision, (2.0/3+0.5+0.75)/3)

	// zero_division=0, and classes absent from both sides are left out of
	// the macro average (scikit-learn's labels = unique(y_true ∪ y_pred)).
	// true: 0 0 1 1 ; pred: 0 0 0 0 ; 3 classes (class 2 never occurs)
	// class 0: tp 2 fp 2 fn 0 -> P 1/2 R 1 F1 2/3 ; class 1: tp 0 -> all 0
	r, err = ClassificationMetrics([]int{0, 0, 1, 1}, []int{0, 0, 0, 0}, 3)
	if err != nil {
		t.Fatal(err)
	}
	approx("precision[1]", r.Precision[1], 0)
	approx("f1[0]", r.F1[0], 2.0/3)
	approx("macro f1", r.MacroF1, (2.0/3)/2)
	approx("macro recall", r.MacroRecall, 0.5)
	approx("accuracy", r.Accuracy, 0.5)
	m := r.Metrics()
	if m["accuracy"] != 0.5 || m["f1_macro"] != r.MacroF1 {
		t.Errorf("metrics map %v", m)
	}
	// binary: f1 of class 1. true 1 1 0 0 1, pred 1 0 0 1 1: tp 2 fp 1 fn 1 -> 2/3
	r, _ = ClassificationMetrics([]int{1, 1, 0, 0, 1}, []int{1, 0, 0, 1, 1}, 2)
	approx("f1_binary", r.Metrics()["f1_binary"], 2.0/3)

	for _, tc := range []struct {
		yt, yp []int
		n      int
		err    string
	}{
		{[]int{0}, []int{0, 1}, 2, "1 true labels but 2"},
		{nil, nil, 2, "no examples"},
		{[]int{0}, []int{2}, 2, "prediction 2"},
	} {
		if _, err := ClassificationMetrics(tc.yt, tc.yp, tc.n); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("error %v, want %q", err, tc.err)
		}
	}
}

func TestMultiLabelMetrics(t *testing.T) {
	T, F := true, false
	yt := [][]bool{{T, F, T}, {F, T, F}, {T, T, F}, {F, F, F}}
	yp := [][]bool{{T, F, F}, {F, T, T}, {T, F, F}, {F, F, F}}
	// label 0: tp 2 fp 0 fn 0 -> F1 1 ; label 1: tp 1 fp 0 fn 1 -> 2/3 ;
	// label 2: tp 0 fp 1 fn 1 -> 0. micro: tp 3 fp 1 fn 2 -> P 3/4 R 3/5 F1 6/9
	r, err := MultiLabelMetrics(yt, yp)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"subset_accuracy": 0.25, "precision_micro": 0.75, "recall_micro": 0.6, "f1_micro": 6.0 / 9, "f1_macro": (1 + 2.0/3) / 3}
	for k, w := range want {
		if got := r.Metrics()[k]; math.Abs(got-w) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, got, w)
		}
	}
	if !reflect.DeepEqual(r.Support, []int{2, 2, 1}) {
		t.Errorf("support %v", r.Support)
	}
	if _, err := MultiLabelMetrics([][]bool{{T}}, [][]bool{{T, F}}); err == nil {
		t.Error("ragged rows accepted")
	}
}

func TestRegressionMetrics(t *testing.T) {
	// y = 1 2 3 4, p = 2 2 4 3: d = 1 0 1 -1 -> MSE 3/4, MAE 3/4.
	// Pearson: means 2.5 and 2.75; centred y -1.5 -.5 .5 1.5, p -.75 -.75 1.25 .25
	// sxy = 1.125+.375+.625+.375 = 2.5 ; sxx = 5 ; syy = .5625+.5625+1.5625+.0625 = 2.75
	r, err := RegressionMetrics([]float64{1, 2, 3, 4}, []float64{2, 2, 4, 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"mse", r.MSE, 0.75}, {"mae", r.MAE, 0.75}, {"pearson", r.Pearson, 2.5 / math.Sqrt(5*2.75)},
		// Spearman: ranks of p are 1.5 1.5 4 3 (the tie shares 1.5), centred
		// -1 -1 1.5 .5: sxy = 1.5+.5+.75+.75 = 3.5, sxx = 5, syy = 4.5
		{"spearman", r.Spearman, 3.5 / math.Sqrt(5*4.5)}} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	r, _ = RegressionMetrics([]float64{1, 2}, []float64{3, 3})
	if !math.IsNaN(r.Pearson) {
		t.Errorf("pearson of a constant prediction = %v, want NaN", r.Pearson)
	}
}

func TestPredictionHelpers(t *testing.T) {
	if got := ArgmaxRows([]float32{0, 2, 1, 5, 5, -1}, 3); !reflect.DeepEqual(got, []int{1, 0}) {
		t.Errorf("argmax %v", got)
	}
	if got := ThresholdRows([]float32{0.1, -0.2, 0, 3}, 2, 0); !reflect.DeepEqual(got, [][]bool{{true, false}, {false, true}}) {
		t.Errorf("threshold %v", got)
	}
	s := FormatConfusion([][]int{{5, 1}, {0, 12}}, []string{"neg", "pos"})
	if !strings.Contains(s, "true\\pred") || !strings.Contains(s, "pos") || strings.Count(s, "\n") != 3 {
		t.Errorf("confusion table:\n%s", s)
	}
}

// TestClassificationMetricsManyClasses: the metrics of a problem with many
// classes take memory in proportion to the examples and the classes (the
// dense confusion matrix of 100k classes was 80 GB).
func TestClassificationMetricsManyClasses(t *testing.T) {
	for _, classes := range []int{5000, 100000} {
		n := classes
		yt, yp := make([]int, n), make([]int, n)
		for i := range yt {
			yt[i], yp[i] = i, (i+i%2)%classes // half right
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := ClassificationMetrics(yt, yp, classes)
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
			t.Fatalf("%d classes: %d MiB allocated", classes, got>>20)
		}
		if r.Accuracy != 0.5 || len(r.Confusion) != n {
			t.Fatalf("%d classes: accuracy %v, %d confusion cells", classes, r.Accuracy, len(r.Confusion))
		}
		if r.Confusion[[2]int{1, 2}] != 1 || r.Confusion[[2]int{2, 2}] != 1 {
			t.Fatalf("confusion (1,2) %d, (2,2) %d", r.Confusion[[2]int{1, 2}], r.Confusion[[2]int{2, 2}])
		}
	}
}
