package optim

import (
	"fmt"
	"math"
	"strings"
)

// Schedule is a learning-rate schedule as Hugging Face transformers defines
// them (a torch LambdaLR): the learning rate of optimizer step s (0-based:
// the first update uses step 0, so with warmup it has learning rate 0) is
// base_lr · Factor(s).
type Schedule struct {
	// Name is the Hugging Face SchedulerType name.
	Name          string
	Warmup, Total int
	// NumCycles: waves of the cosine (0.5 = one half-cosine down to 0), or
	// the number of hard restarts.
	NumCycles float64
	factor    func(step int) float64
}

// Factor returns the multiplier of the base learning rate at step.
func (s *Schedule) Factor(step int) float64 { return s.factor(step) }

// LR returns base · Factor(step).
func (s *Schedule) LR(base float64, step int) float64 { return base * s.factor(step) }

func warmupFactor(step, warmup int) float64 {
	return float64(step) / float64(max(1, warmup))
}

// ConstantSchedule is get_constant_schedule: always 1.
func ConstantSchedule() *Schedule {
	return &Schedule{Name: "constant", factor: func(int) float64 { return 1 }}
}

// ConstantScheduleWithWarmup is get_constant_schedule_with_warmup: linear
// from 0 to 1 over warmup steps, then 1.
func ConstantScheduleWithWarmup(warmup int) *Schedule {
	return &Schedule{Name: "constant_with_warmup", Warmup: warmup, factor: func(s int) float64 {
		if s < warmup {
			return warmupFactor(s, warmup)
		}
		return 1
	}}
}

// LinearScheduleWithWarmup is get_linear_schedule_with_warmup: up over
// warmup steps, then linearly down to 0 at total.
func LinearScheduleWithWarmup(warmup, total int) *Schedule {
	return &Schedule{Name: "linear", Warmup: warmup, Total: total, factor: func(s int) float64 {
		if s < warmup {
			return warmupFactor(s, warmup)
		}
		return math.Max(0, float64(total-s)/float64(max(1, total-warmup)))
	}}
}

// CosineScheduleWithWarmup is get_cosine_schedule_with_warmup: up over
// warmup steps, then 0.5·(1 + cos(π·numCycles·2·progress)) (numCycles 0.5
// is Hugging Face's default: one half-cosine down to 0).
func CosineScheduleWithWarmup(warmup, total int, numCycles float64) *Schedule {
	return &Schedule{Name: "cosine", Warmup: warmup, Total: total, NumCycles: numCycles, factor: func(s int) float64 {
		if s < warmup {
			return warmupFactor(s, warmup)
		}
		progress := float64(s-warmup) / float64(max(1, total-warmup))
		return math.Max(0, 0.5*(1+math.Cos(math.Pi*numCycles*2*progress)))
	}}
}

// CosineWithHardRestartsScheduleWithWarmup is
// get_cosine_with_hard_restarts_schedule_with_warmup (numCycles restarts;
// Hugging Face's default is 1).
func CosineWithHardRestartsScheduleWithWarmup(warmup, total, numCycles int) *Schedule {
	return &Schedule{Name: "cosine_with_restarts", Warmup: warmup, Total: total, NumCycles: float64(numCycles), factor: func(s int) float64 {
		if s < warmup {
			return warmupFactor(s, warmup)
		}
		progress := float64(s-warmup) / float64(max(1, total-warmup))
		if progress >= 1 {
			return 0
		}
		return math.Max(0, 0.5*(1+math.Cos(math.Pi*math.Mod(float64(numCycles)*progress, 1))))
	}}
}

// ScheduleNames lists the names NewSchedule knows.
var ScheduleNames = []string{"linear", "cosine", "cosine_with_restarts", "constant", "constant_with_warmup"}

// NewSchedule makes a schedule by its Hugging Face name (TrainingArguments'
// lr_scheduler_type; "linear" is the Trainer's default) with the defaults of
// transformers' get_scheduler.
func NewSchedule(name string, warmup, total int) (*Schedule, error) {
	if warmup < 0 || total < 0 {
		return nil, fmt.Errorf("schedule %s: warmup (%d) and total (%d) steps must not be negative", name, warmup, total)
	}
	switch name {
	case "linear":
		return LinearScheduleWithWarmup(warmup, total), nil
	case "cosine":
		return CosineScheduleWithWarmup(warmup, total, 0.5), nil
	case "cosine_with_restarts":
		return CosineWithHardRestartsScheduleWithWarmup(warmup, total, 1), nil
	case "constant":
		return ConstantSchedule(), nil
	case "constant_with_warmup":
		return ConstantScheduleWithWarmup(warmup), nil
	}
	return nil, fmt.Errorf("unknown learning-rate schedule %q (want one of %s)", name, strings.Join(ScheduleNames, ", "))
}

// WarmupSteps is TrainingArguments.get_warmup_steps: warmupSteps when
// positive, else ceil(total · warmupRatio).
func WarmupSteps(warmupSteps int, warmupRatio float64, total int) int {
	if warmupSteps > 0 {
		return warmupSteps
	}
	return int(math.Ceil(float64(total) * warmupRatio))
}
