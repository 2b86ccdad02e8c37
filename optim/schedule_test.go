package optim

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"ft/internal/testfixture"
)

// TestSchedulesMatchTransformers compares every schedule, step by step
// (including steps past the total), with transformers' LambdaLR values
// (fixture schedules.json, base lr 1).
func TestSchedulesMatchTransformers(t *testing.T) {
	var fx struct {
		Cases []struct {
			Name      string    `json:"name"`
			Warmup    int       `json:"warmup"`
			Total     int       `json:"total"`
			NumCycles float64   `json:"num_cycles"`
			Via       string    `json:"via"`
			LRs       []float64 `json:"lrs"`
		} `json:"cases"`
		WarmupSteps []struct {
			Ratio  float64 `json:"ratio"`
			Steps  int     `json:"steps"`
			Total  int     `json:"total"`
			Warmup int     `json:"warmup"`
		} `json:"warmup_steps"`
	}
	testfixture.JSON(t, "schedules.json", &fx)
	if len(fx.Cases) < 25 {
		t.Fatalf("fixture has %d cases", len(fx.Cases))
	}
	for _, c := range fx.Cases {
		t.Run(fmt.Sprintf("%s_w%d_t%d%s", c.Name, c.Warmup, c.Total, c.Via), func(t *testing.T) {
			var s *Schedule
			switch {
			case c.Via == "" && c.Name == "cosine":
				s = CosineScheduleWithWarmup(c.Warmup, c.Total, c.NumCycles)
			case c.Via == "" && c.Name == "cosine_with_restarts":
				s = CosineWithHardRestartsScheduleWithWarmup(c.Warmup, c.Total, int(c.NumCycles))
			default:
				var err error
				if s, err = NewSchedule(c.Name, c.Warmup, c.Total); err != nil {
					t.Fatal(err)
				}
			}
			for step, want := range c.LRs {
				if got := s.LR(1, step); math.Abs(got-want) > 1e-15 {
					t.Errorf("step %d: %.17g, transformers %.17g", step, got, want)
				}
			}
		})
	}
	for _, w := range fx.WarmupSteps {
		if got := WarmupSteps(w.Steps, w.Ratio, w.Total); got != w.Warmup {
			t.Errorf("WarmupSteps(%d, %g, %d) = %d, transformers %d", w.Steps, w.Ratio, w.Total, got, w.Warmup)
		}
	}
}

func TestScheduleByName(t *testing.T) {
	tests := []struct {
		name          string
		warmup, total int
		step          int
		base, want    float64
		err           string
	}{
		{"linear", 2, 10, 0, 5e-5, 0, ""},
		{"linear", 2, 10, 1, 5e-5, 2.5e-5, ""},
		{"linear", 2, 10, 6, 5e-5, 2.5e-5, ""},
		{"cosine", 0, 10, 5, 1, 0.5, ""},
		{"constant", 5, 10, 0, 3, 3, ""},
		{"constant_with_warmup", 4, 0, 1, 1, 0.25, ""},
		{"polynomial", 0, 10, 0, 1, 0, "unknown learning-rate schedule"},
		{"linear", -1, 10, 0, 1, 0, "must not be negative"},
	}
	for _, tc := range tests {
		s, err := NewSchedule(tc.name, tc.warmup, tc.total)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("NewSchedule(%q, %d, %d): error %v, want %q", tc.name, tc.warmup, tc.total, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := s.LR(tc.base, tc.step); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s(w=%d,t=%d).LR(%g, %d) = %g, want %g", tc.name, tc.warmup, tc.total, tc.base, tc.step, got, tc.want)
		}
	}
}
