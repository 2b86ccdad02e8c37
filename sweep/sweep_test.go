package sweep_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"ft/sweep"
)

func TestParseSweepParam(t *testing.T) {
	cases := []struct {
		name, spec string
		want       sweep.Param
		err        string // part of the error; "" for none
	}{
		{"learning_rate", "1e-5, 3e-5,1e-4", sweep.Param{Name: "learning_rate", Values: []float64{1e-5, 3e-5, 1e-4}}, ""},
		{"learning_rate", "log:1e-5:1e-3", sweep.Param{Name: "learning_rate", Lo: 1e-5, Hi: 1e-3, Log: true}, ""},
		{"learning_rate", "log:1e-5:1e-3:3", sweep.Param{Name: "learning_rate", Values: []float64{1e-5, 1e-4, 1e-3}}, ""},
		{"warmup_ratio", "uniform:0:0.2:5", sweep.Param{Name: "warmup_ratio", Values: []float64{0, 0.05, 0.1, 0.15, 0.2}}, ""},
		{"per_device_train_batch_size", "8,16,32", sweep.Param{Name: "per_device_train_batch_size", Values: []float64{8, 16, 32}, Int: true}, ""},
		{"per_device_train_batch_size", "log:8:64:4", sweep.Param{Name: "per_device_train_batch_size", Values: []float64{8, 16, 32, 64}, Int: true}, ""},
		{"per_device_train_batch_size", "8,12.5", sweep.Param{}, "integers"},
		{"per_device_train_batch_size", "0,8", sweep.Param{}, "outside"},
		{"learning_rate", "0,1e-3", sweep.Param{}, "outside (0"},
		{"learning_rate", "log:0:1e-3", sweep.Param{}, "positive low end"},
		{"learning_rate", "log:1e-3:1e-5", sweep.Param{}, "below the high end"},
		{"learning_rate", "normal:1:2", sweep.Param{}, "unknown distribution"},
		{"learning_rate", "1e-5,abc", sweep.Param{}, `"abc" is not a finite number`},
		{"learning_rate", "log:1e-5:1e-3:1", sweep.Param{}, "at least 2"},
		{"warmup_ratio", "0.1,1.5", sweep.Param{}, "outside [0, 1]"},
		{"learning_rate", "", sweep.Param{}, "no values"},
	}
	for _, c := range cases {
		got, err := sweep.ParseParam(c.name, c.spec)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), c.name) {
				t.Errorf("%s %q: error %v, want one naming the parameter and saying %q", c.name, c.spec, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", c.name, c.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %q: got %+v, want %+v", c.name, c.spec, got, c.want)
		}
	}
}

func mustParam(t *testing.T, name, spec string) sweep.Param {
	t.Helper()
	p, err := sweep.ParseParam(name, spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSweepPlanGrid(t *testing.T) {
	s := sweep.Sweep{Params: []sweep.Param{
		mustParam(t, "learning_rate", "1e-4,1e-3"),
		mustParam(t, "per_device_train_batch_size", "8,16,32"),
	}}
	plan, total, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range plan {
		got = append(got, tr.Key())
	}
	want := []string{
		"learning_rate=0.0001 per_device_train_batch_size=8",
		"learning_rate=0.0001 per_device_train_batch_size=16",
		"learning_rate=0.0001 per_device_train_batch_size=32",
		"learning_rate=0.001 per_device_train_batch_size=8",
		"learning_rate=0.001 per_device_train_batch_size=16",
		"learning_rate=0.001 per_device_train_batch_size=32",
	}
	if total != 6 || !reflect.DeepEqual(got, want) {
		t.Errorf("grid plan (total %d):\n%s\nwant 6:\n%s", total, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s.MaxTrials = 4
	if plan, total, _ = s.Plan(); total != 4 || len(plan) != 4 || plan[3].Key() != want[3] {
		t.Errorf("MaxTrials 4: %d trials, total %d", len(plan), total)
	}
	s.Params = append(s.Params, mustParam(t, "weight_decay", "uniform:0:0.1"))
	if _, _, err := s.Plan(); err == nil || !strings.Contains(err.Error(), "weight_decay is a range") {
		t.Errorf("grid over a range: %v", err)
	}
}

// TestSweepPlanRandom: draws are reproducible from the seed, within their
// ranges, integers where asked, taken from the list for listed values, and
// log-uniform for a log range: half the draws of log:1e-5:1e-1 fall below
// the geometric mean 1e-3 (a uniform draw would put 1% there).
func TestSweepPlanRandom(t *testing.T) {
	s := sweep.Sweep{Method: "random", Seed: 3, MaxTrials: 2000, Params: []sweep.Param{
		mustParam(t, "learning_rate", "log:1e-5:1e-1"),
		mustParam(t, "per_device_train_batch_size", "uniform:8:64"),
		mustParam(t, "weight_decay", "0,0.01,0.1"),
	}}
	plan, total, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	again, _, _ := s.Plan()
	if total != 2000 || !reflect.DeepEqual(plan, again) {
		t.Fatalf("total %d; same seed, same plan: %v", total, reflect.DeepEqual(plan, again))
	}
	s.Seed = 4
	other, _, _ := s.Plan()
	if reflect.DeepEqual(plan, other) {
		t.Error("another seed gave the same plan")
	}
	below := 0
	wd := map[float64]int{}
	for _, tr := range plan {
		lr, bs := tr.Params["learning_rate"], tr.Params["per_device_train_batch_size"]
		if lr < 1e-5 || lr > 1e-1 || bs < 8 || bs > 64 || bs != math.Round(bs) {
			t.Fatalf("draw out of range: %s", tr.Key())
		}
		if lr < 1e-3 {
			below++
		}
		wd[tr.Params["weight_decay"]]++
	}
	if f := float64(below) / 2000; math.Abs(f-0.5) > 0.05 {
		t.Errorf("%.3f of log-uniform draws below the geometric mean, want about 0.5", f)
	}
	if len(wd) != 3 || wd[0] < 550 || wd[0.01] < 550 || wd[0.1] < 550 {
		t.Errorf("listed values drawn %v, want each about 667 times", wd)
	}
	s.MaxTrials = 0
	if _, total, _ := s.Plan(); total != 10 {
		t.Errorf("random without a budget: %d trials, want 10", total)
	}
	s.MaxDuration = time.Minute
	if _, total, _ := s.Plan(); total != -1 {
		t.Errorf("random with only a time budget: total %d, want -1 (until time is up)", total)
	}
}

// fakeObjective scores a trial from its learning rate (a peak at 1e-3),
// fails at 0.5, and records the trials it was asked to run.
type fakeObjective struct {
	ran    []string
	cancel context.CancelFunc
	stopAt int // cancel ctx while running the stopAt-th call (1-based); 0: never
}

func (f *fakeObjective) run(ctx context.Context, number int, tr sweep.Trial) (map[string]float64, error) {
	f.ran = append(f.ran, tr.Key())
	if f.stopAt == len(f.ran) {
		f.cancel()
		return nil, ctx.Err()
	}
	lr := tr.Params["learning_rate"]
	if lr == 0.5 {
		return nil, errors.New("loss is NaN | diverged")
	}
	d := math.Log10(lr) + 3
	acc := 0.9 - 0.1*d*d
	return map[string]float64{"accuracy": acc, "loss": 1 - acc, "f1": math.NaN()}, nil
}

// TestSweepRunResumes: a sweep interrupted in its third trial keeps the two
// finished ones in the log; run again, it runs only the other trials, and
// once complete a third run trains nothing. A failing trial is recorded with
// its error; results sort best first with failures last.
func TestSweepRunResumes(t *testing.T) {
	log := filepath.Join(t.TempDir(), "sweep.jsonl")
	s := sweep.Sweep{Params: []sweep.Param{{Name: "learning_rate", Values: []float64{1e-5, 1e-4, 1e-3, 1e-2, 0.5}}}, Log: log}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeObjective{cancel: cancel, stopAt: 3}
	res, err := s.Run(ctx, f.run)
	if !errors.Is(err, context.Canceled) || len(res) != 2 {
		t.Fatalf("interrupted run: %d results, error %v; want 2 and context.Canceled", len(res), err)
	}
	onDisk, err := sweep.ReadLog(log)
	if err != nil || len(onDisk) != 2 {
		t.Fatalf("log after interruption: %d records, %v", len(onDisk), err)
	}
	f2 := &fakeObjective{}
	var skipped int
	s.Events = func(e sweep.Event) {
		if e.Kind == sweep.EventSkip {
			skipped++
		}
	}
	res, err = s.Run(context.Background(), f2.run)
	if err != nil {
		t.Fatal(err)
	}
	wantRan := []string{"learning_rate=0.001", "learning_rate=0.01", "learning_rate=0.5"}
	if !reflect.DeepEqual(f2.ran, wantRan) || skipped != 2 {
		t.Errorf("resumed run trained %v (skipped %d), want %v (skipped 2)", f2.ran, skipped, wantRan)
	}
	if len(res) != 5 {
		t.Fatalf("%d results, want 5", len(res))
	}
	for i, r := range res {
		if r.Number != i {
			t.Errorf("result %d has number %d", i, r.Number)
		}
	}
	f3 := &fakeObjective{}
	if res2, err := s.Run(context.Background(), f3.run); err != nil || len(f3.ran) != 0 || len(res2) != 5 {
		t.Errorf("complete sweep run again trained %v (%d results, %v)", f3.ran, len(res2), err)
	}
	// the log round-trips, NaN included
	back, err := sweep.ReadLog(log)
	if err != nil {
		t.Fatal(err)
	}
	for i := range back {
		a, b := back[i], res[i]
		if a.Number != b.Number || !reflect.DeepEqual(a.Params, b.Params) || a.Error != b.Error || len(a.Metrics) != len(b.Metrics) {
			t.Errorf("record %d read back as %+v, written %+v", i, a, b)
		}
		for k, v := range b.Metrics {
			if w := a.Metrics[k]; w != v && !(math.IsNaN(w) && math.IsNaN(v)) {
				t.Errorf("record %d metric %s read back %v, written %v", i, k, w, v)
			}
		}
	}
	if back[4].Error != "loss is NaN | diverged" || back[4].Metrics != nil {
		t.Errorf("failed trial recorded as %+v", back[4])
	}
	sweep.SortResults(back, "accuracy", true)
	var order []float64
	for _, r := range back {
		order = append(order, r.Params["learning_rate"])
	}
	// accuracy 0.9 at 1e-3, 0.8 at 1e-4 and 1e-2 (trial order breaks the tie), 0.5 at 1e-5, failure last
	if want := []float64{1e-3, 1e-4, 1e-2, 1e-5, 0.5}; !reflect.DeepEqual(order, want) {
		t.Errorf("sorted by accuracy: %v, want %v", order, want)
	}
	best, ok := sweep.BestTrial(res, "loss", false)
	if !ok || best.Params["learning_rate"] != 1e-3 {
		t.Errorf("best by loss: %+v %v", best, ok)
	}
	table := sweep.Table(back, []string{"learning_rate"}, "accuracy")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 7 || lines[0] != "| rank | trial | learning_rate | accuracy | loss | seconds |" ||
		!strings.HasPrefix(lines[2], "| 1 | 2 | 0.001 | 0.9000 | 0.1000 |") ||
		!strings.Contains(lines[6], "failed: loss is NaN / diverged") {
		t.Errorf("table:\n%s", table)
	}
}

// TestSweepTimeBudget: with a time budget that the first trial uses up, the
// sweep stops before the second.
func TestSweepTimeBudget(t *testing.T) {
	s := sweep.Sweep{Method: "random", MaxDuration: time.Millisecond, Seed: 1,
		Params: []sweep.Param{mustParam(t, "learning_rate", "log:1e-5:1e-3")},
		Log:    filepath.Join(t.TempDir(), "sweep.jsonl")}
	var budget bool
	s.Events = func(e sweep.Event) { budget = budget || e.Kind == sweep.EventBudget }
	n := 0
	res, err := s.Run(context.Background(), func(ctx context.Context, _ int, _ sweep.Trial) (map[string]float64, error) {
		n++
		time.Sleep(5 * time.Millisecond)
		return map[string]float64{"accuracy": 1}, nil
	})
	if err != nil || n != 1 || len(res) != 1 || !budget {
		t.Errorf("ran %d trials (%d results, budget event %v, %v), want 1", n, len(res), budget, err)
	}
}

func TestReadSweepLogBadLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sweep.jsonl")
	os.WriteFile(p, []byte(`{"trial":0,"params":{"learning_rate":0.001},"metrics":{"accuracy":0.5},"seconds":1}`+"\n{\"trial\":1,\n"), 0o644)
	_, err := sweep.ReadLog(p)
	if err == nil || !strings.Contains(err.Error(), "sweep.jsonl:2") {
		t.Errorf("error %v, want one naming sweep.jsonl:2", err)
	}
}
