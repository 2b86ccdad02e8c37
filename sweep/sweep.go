package sweep

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"ft/internal/fileio"
	"ft/internal/jsonfloat"
	"ft/internal/rng"
)

// Param is one hyper-parameter of a search space: a list of values
// (which grid search crosses and random search picks from), or a range
// that random search draws from.
type Param struct {
	Name   string    // a TrainingArguments name: learning_rate, per_device_train_batch_size, ...
	Values []float64 // the values; empty for a range
	Lo, Hi float64   // the range (Values empty)
	Log    bool      // draw the range log-uniformly
	Int    bool      // round drawn values to integers
}

// knownParams are the parameters ft sweeps, with what their values may be.
var knownParams = map[string]struct {
	integer  bool
	min, max float64
	minOpen  bool
}{
	"learning_rate":               {false, 0, math.Inf(1), true},
	"per_device_train_batch_size": {true, 1, math.Inf(1), false},
	"num_train_epochs":            {false, 0, math.Inf(1), true},
	"warmup_ratio":                {false, 0, 1, false},
	"weight_decay":                {false, 0, math.Inf(1), false},
}

// Sweep sizes: the values of one parameter, and the trials of a plan (each
// is a training run: more are never meant, and the plan is built whole).
const (
	MaxValues = 1000
	MaxTrials = 100000
)

// ParseParam reads a value specification for the parameter name:
//
//	1e-5,3e-5,1e-4      the listed values
//	log:1e-5:1e-3       a range drawn log-uniformly (random search)
//	uniform:0:0.1       a range drawn uniformly (random search)
//	log:1e-5:1e-3:5     5 values spaced evenly on a log scale (also uniform:LO:HI:N)
//
// The known TrainingArguments names (learning_rate, per_device_train_batch_size,
// num_train_epochs, warmup_ratio, weight_decay) are checked for their valid
// values; per_device_train_batch_size takes integers.
func ParseParam(name, spec string) (Param, error) {
	p := Param{Name: name}
	known, isKnown := knownParams[name]
	p.Int = known.integer
	spec = strings.TrimSpace(spec)
	bad := func(format string, a ...any) (Param, error) {
		return Param{}, fmt.Errorf("%s %q: %s", name, spec, fmt.Sprintf(format, a...))
	}
	if spec == "" {
		return bad("no values (give a list like 1e-5,3e-5 or a range like log:1e-5:1e-3)")
	}
	num := func(s string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%q is not a finite number", s)
		}
		return v, nil
	}
	if kind, rest, ok := strings.Cut(spec, ":"); ok {
		switch kind {
		case "log", "uniform":
		default:
			return bad("unknown distribution %q (use log:LO:HI or uniform:LO:HI, optionally :N for N evenly spaced values)", kind)
		}
		parts := strings.Split(rest, ":")
		if len(parts) != 2 && len(parts) != 3 {
			return bad("a range is %s:LO:HI or %s:LO:HI:N", kind, kind)
		}
		var err error
		if p.Lo, err = num(parts[0]); err != nil {
			return bad("%v", err)
		}
		if p.Hi, err = num(parts[1]); err != nil {
			return bad("%v", err)
		}
		if !(p.Lo < p.Hi) {
			return bad("the low end must be below the high end")
		}
		p.Log = kind == "log"
		if p.Log && p.Lo <= 0 {
			return bad("a log range needs a positive low end")
		}
		if len(parts) == 3 {
			n, err := strconv.Atoi(parts[2])
			if err != nil || n < 2 || n > MaxValues {
				return bad("the count %q must be an integer of at least 2 and at most %d", parts[2], MaxValues)
			}
			for i := 0; i < n; i++ {
				f := float64(i) / float64(n-1)
				var v float64
				if p.Log {
					v = math.Exp(math.Log(p.Lo) + f*(math.Log(p.Hi)-math.Log(p.Lo)))
				} else {
					v = p.Lo + f*(p.Hi-p.Lo)
				}
				if i == 0 {
					v = p.Lo
				} else if i == n-1 {
					v = p.Hi
				}
				p.Values = append(p.Values, p.round(roundSig(v)))
			}
			p.Lo, p.Hi, p.Log = 0, 0, false
		}
	} else {
		if n := strings.Count(spec, ",") + 1; n > MaxValues {
			return bad("%d values: at most %d", n, MaxValues)
		}
		for _, s := range strings.Split(spec, ",") {
			v, err := num(s)
			if err != nil {
				return bad("%v", err)
			}
			if p.Int && v != math.Trunc(v) {
				return bad("%s takes integers, not %v", name, v)
			}
			p.Values = append(p.Values, v)
		}
	}
	if isKnown {
		check := func(v float64) error {
			if v < known.min || (known.minOpen && v == known.min) || v > known.max {
				lo := "["
				if known.minOpen {
					lo = "("
				}
				return fmt.Errorf("%v is outside %s%g, %g]", v, lo, known.min, known.max)
			}
			return nil
		}
		vals := p.Values
		if len(vals) == 0 {
			vals = []float64{p.Lo, p.Hi}
		}
		for _, v := range vals {
			if err := check(v); err != nil {
				return bad("%v", err)
			}
		}
	}
	return p, nil
}

// IsRange reports whether p is a range (random search only).
func (p Param) IsRange() bool { return len(p.Values) == 0 }

func (p Param) round(v float64) float64 {
	if p.Int {
		return math.Round(v)
	}
	return v
}

// roundSig rounds to 4 significant digits, so drawn values read well in
// tables and configs (2.371e-05, not 2.3712094417e-05).
func roundSig(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	return r
}

// Trial is one point of the search space.
type Trial struct {
	Params map[string]float64
}

// Key identifies the trial's parameters: trials with one key train the
// same way, so a sweep runs each key once.
func (t Trial) Key() string { return paramsKey(t.Params) }

func paramsKey(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(m[k], 'g', -1, 64))
	}
	return b.String()
}

// TrialResult is one finished trial, a line of sweep.jsonl.
type TrialResult struct {
	Number  int                // the order the trials ran in, from 0 over all runs of the sweep
	Params  map[string]float64 // the swept parameters
	Metrics map[string]float64 // the final evaluation (NaN is kept: it is written as null)
	Seconds float64
	Error   string // why the trial failed ("" when it did not)
	Time    time.Time
}

type trialJSON struct {
	Trial   int                        `json:"trial"`
	Params  map[string]float64         `json:"params"`
	Metrics map[string]json.RawMessage `json:"metrics,omitempty"`
	Seconds float64                    `json:"seconds"`
	Error   string                     `json:"error,omitempty"`
	Time    time.Time                  `json:"time"`
}

// MarshalJSON writes the result; non-finite metrics become null.
func (r TrialResult) MarshalJSON() ([]byte, error) {
	j := trialJSON{Trial: r.Number, Params: r.Params, Seconds: r.Seconds, Error: r.Error, Time: r.Time}
	if r.Metrics != nil {
		j.Metrics = map[string]json.RawMessage{}
		for k, v := range r.Metrics {
			j.Metrics[k] = jsonfloat.Append(nil, v)
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a line MarshalJSON wrote; null metrics read as NaN.
func (r *TrialResult) UnmarshalJSON(data []byte) error {
	var j trialJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*r = TrialResult{Number: j.Trial, Params: j.Params, Seconds: j.Seconds, Error: j.Error, Time: j.Time}
	if j.Metrics != nil {
		r.Metrics = map[string]float64{}
		for k, raw := range j.Metrics {
			if string(raw) == "null" {
				r.Metrics[k] = math.NaN()
				continue
			}
			var v float64
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("metric %q: %w", k, err)
			}
			r.Metrics[k] = v
		}
	}
	return nil
}

// ReadLog reads sweep.jsonl; a missing file is an empty sweep.
func ReadLog(path string) ([]TrialResult, error) {
	b, err := fileio.ReadFile(path, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []TrialResult
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r TrialResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v (each line is one finished trial; remove the line to run that trial again)", path, line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// appendLog adds one result to sweep.jsonl: the whole file is
// rewritten atomically, so an interrupted write leaves the old file.
func appendLog(path string, r TrialResult) error {
	old, err := fileio.ReadFile(path, 0)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return fileio.WriteFile(path, append(append(old, line...), '\n'))
}

// Sweep searches hyper-parameters: it runs an objective (a short training
// and evaluation) for each trial of a grid or random search, and records
// every finished trial in a log, so that a sweep that was stopped resumes
// where it was: trials already in the log are not run again.
type Sweep struct {
	Params []Param
	Method string // "grid" (default) or "random"
	// MaxTrials bounds the number of trials of the sweep, those of earlier
	// runs included (grid: the first MaxTrials points; random: 10 when
	// neither MaxTrials nor MaxDuration is set).
	MaxTrials int
	// MaxDuration stops starting new trials once this much time has passed
	// in this run (the trial in progress finishes). 0: no limit.
	MaxDuration time.Duration
	Seed        uint64 // random search: trial i is drawn from PCG(Seed, i)
	Log         string // sweep.jsonl path (required)
	// Events receives progress (may be nil).
	Events func(Event)
}

// EventKind says what an Event reports.
type EventKind string

// The kinds of Event.
const (
	EventSkip   EventKind = "skip"   // the trial is already in the log
	EventStart  EventKind = "start"  // the trial starts
	EventDone   EventKind = "done"   // the trial ended (Result)
	EventFailed EventKind = "failed" // the objective failed (Result.Error)
	EventBudget EventKind = "budget" // the time budget ends the sweep
)

// Event reports a sweep's progress.
type Event struct {
	Kind   EventKind
	Trial  Trial
	Index  int // position in the plan, from 0
	Total  int // trials in the plan (-1: until the time budget ends)
	Result *TrialResult
}

// Objective trains and evaluates one trial and returns its evaluation
// metrics. When ctx is cancelled it should stop and return ctx.Err(): the
// trial is then not recorded and runs again when the sweep resumes.
type Objective func(ctx context.Context, number int, t Trial) (map[string]float64, error)

func (s *Sweep) method() (string, error) {
	switch s.Method {
	case "", "grid":
		return "grid", nil
	case "random":
		return "random", nil
	}
	return "", fmt.Errorf("unknown search method %q (use grid or random)", s.Method)
}

// Plan returns the sweep's trials in order; total is -1 when a random
// search is bounded only by time (then Plan returns the first 1000).
func (s *Sweep) Plan() (trials []Trial, total int, err error) {
	m, err := s.method()
	if err != nil {
		return nil, 0, err
	}
	if len(s.Params) == 0 {
		return nil, 0, errors.New("nothing to sweep: give at least one parameter's values")
	}
	seen := map[string]bool{}
	for _, p := range s.Params {
		if seen[p.Name] {
			return nil, 0, fmt.Errorf("%s is swept twice", p.Name)
		}
		seen[p.Name] = true
	}
	if s.MaxTrials < 0 {
		return nil, 0, fmt.Errorf("max trials must not be negative, got %d", s.MaxTrials)
	}
	if m == "grid" {
		n := 1
		for _, p := range s.Params {
			if p.IsRange() {
				dist := "uniform"
				if p.Log {
					dist = "log"
				}
				return nil, 0, fmt.Errorf("%s is a range (%s:%g:%g): grid search needs values, a list or a count (%s:%g:%g:4); or use random search", p.Name, dist, p.Lo, p.Hi, dist, p.Lo, p.Hi)
			}
			n *= len(p.Values)
		}
		if s.MaxTrials > 0 {
			n = min(n, s.MaxTrials)
		}
		if n > MaxTrials {
			return nil, 0, fmt.Errorf("the grid has %d trials, over the %d a sweep plans: give fewer values, or a max trials of at most %d", n, MaxTrials, MaxTrials)
		}
		for i := 0; i < n; i++ {
			t := Trial{Params: map[string]float64{}}
			// the first parameter varies slowest
			rest := i
			for k := len(s.Params) - 1; k >= 0; k-- {
				p := s.Params[k]
				t.Params[p.Name] = p.Values[rest%len(p.Values)]
				rest /= len(p.Values)
			}
			trials = append(trials, t)
		}
		return trials, n, nil
	}
	if s.MaxTrials > MaxTrials {
		return nil, 0, fmt.Errorf("max trials %d: at most %d", s.MaxTrials, MaxTrials)
	}
	total = s.MaxTrials
	n := total
	if total == 0 {
		if s.MaxDuration > 0 {
			total, n = -1, 1000
		} else {
			total, n = 10, 10
		}
	}
	for i := 0; i < n; i++ {
		r := rand.NewPCG(s.Seed, uint64(i))
		t := Trial{Params: map[string]float64{}}
		for _, p := range s.Params {
			if !p.IsRange() {
				t.Params[p.Name] = p.Values[rng.Bounded(r, uint64(len(p.Values)))]
				continue
			}
			u := float64(r.Uint64()>>11) / (1 << 53) // [0, 1)
			var v float64
			if p.Log {
				v = math.Exp(math.Log(p.Lo) + u*(math.Log(p.Hi)-math.Log(p.Lo)))
			} else {
				v = p.Lo + u*(p.Hi-p.Lo)
			}
			v = p.round(roundSig(v))
			t.Params[p.Name] = math.Min(math.Max(v, p.Lo), p.Hi)
		}
		trials = append(trials, t)
	}
	return trials, total, nil
}

// Run runs the trials of the plan that the log does not hold yet, appending
// each finished one to the log, and returns all results (earlier runs'
// included, in log order). A trial whose objective fails is recorded with
// its error and the sweep goes on. When ctx is cancelled Run returns the
// results so far and ctx's error; running it again resumes.
func (s *Sweep) Run(ctx context.Context, objective Objective) ([]TrialResult, error) {
	if s.Log == "" {
		return nil, errors.New("the sweep needs a log file")
	}
	plan, total, err := s.Plan()
	if err != nil {
		return nil, err
	}
	results, err := ReadLog(s.Log)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, r := range results {
		done[paramsKey(r.Params)] = true
	}
	emit := func(e Event) {
		if s.Events != nil {
			s.Events(e)
		}
	}
	start := time.Now()
	for i, t := range plan {
		if done[t.Key()] {
			emit(Event{Kind: EventSkip, Trial: t, Index: i, Total: total})
			continue
		}
		if err := ctx.Err(); err != nil {
			return results, err
		}
		if s.MaxDuration > 0 && time.Since(start) >= s.MaxDuration {
			emit(Event{Kind: EventBudget, Index: i, Total: total})
			return results, nil
		}
		number := len(results)
		emit(Event{Kind: EventStart, Trial: t, Index: i, Total: total})
		t0 := time.Now()
		metrics, err := objective(ctx, number, t)
		if ctx.Err() != nil {
			// interrupted: not a result; it runs again on resume
			return results, ctx.Err()
		}
		r := TrialResult{Number: number, Params: t.Params, Metrics: metrics, Seconds: time.Since(t0).Seconds(), Time: time.Now().UTC().Truncate(time.Second)}
		kind := EventDone
		if err != nil {
			r.Error, r.Metrics, kind = err.Error(), nil, EventFailed
		}
		if err := appendLog(s.Log, r); err != nil {
			return results, err
		}
		results = append(results, r)
		done[t.Key()] = true
		emit(Event{Kind: kind, Trial: t, Index: i, Total: total, Result: &results[len(results)-1]})
	}
	return results, nil
}

// SortResults orders results best first by metric (higher first when
// greater is set); failed trials and those without a finite metric go
// last; ties keep the trial order.
func SortResults(rs []TrialResult, metric string, greater bool) {
	score := func(r TrialResult) (float64, bool) {
		v, ok := r.Metrics[metric]
		return v, ok && r.Error == "" && !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, aok := score(rs[i])
		b, bok := score(rs[j])
		if aok != bok {
			return aok
		}
		if !aok || a == b {
			return rs[i].Number < rs[j].Number
		}
		if greater {
			return a > b
		}
		return a < b
	})
}

// BestTrial returns the best result by metric (the earliest on ties), or
// false when no trial has a finite value of it.
func BestTrial(rs []TrialResult, metric string, greater bool) (TrialResult, bool) {
	s := append([]TrialResult(nil), rs...)
	SortResults(s, metric, greater)
	if len(s) == 0 || s[0].Error != "" {
		return TrialResult{}, false
	}
	v, ok := s[0].Metrics[metric]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return TrialResult{}, false
	}
	return s[0], true
}

// Table formats results (in the order given) as a Markdown table: rank,
// trial, the parameters, the metric, the eval loss (when the metric is not
// the loss) and the seconds each trial took. Failed trials show their error.
func Table(rs []TrialResult, params []string, metric string) string {
	cols := []string{"rank", "trial"}
	cols = append(cols, params...)
	cols = append(cols, metric)
	withLoss := metric != "loss"
	if withLoss {
		cols = append(cols, "loss")
	}
	cols = append(cols, "seconds")
	var b strings.Builder
	b.WriteString("| " + strings.Join(cols, " | ") + " |\n|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteByte('\n')
	fmtMetric := func(m map[string]float64, k string) string {
		v, ok := m[k]
		if !ok {
			return "-"
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	for i, r := range rs {
		row := []string{strconv.Itoa(i + 1), strconv.Itoa(r.Number)}
		for _, p := range params {
			v, ok := r.Params[p]
			if !ok {
				row = append(row, "-")
				continue
			}
			row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
		}
		if r.Error != "" {
			msg := strings.ReplaceAll(r.Error, "|", "/")
			if len(msg) > 80 {
				msg = msg[:77] + "..."
			}
			row = append(row, "failed: "+msg)
			if withLoss {
				row = append(row, "-")
			}
		} else {
			row = append(row, fmtMetric(r.Metrics, metric))
			if withLoss {
				row = append(row, fmtMetric(r.Metrics, "loss"))
			}
		}
		row = append(row, strconv.FormatFloat(r.Seconds, 'f', 1, 64))
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}
