package graph

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"

	"ft/kernels"
	"ft/ops"
	"ft/tensor"
)

// Test ops (domain com.example, which buildModel imports): one that asks
// for a tensor above the memory limit inside a parallel loop, and two with
// a bug (a nil map written), on the calling goroutine and in a parallel
// loop. bugLine is the line of the bug.
type testPanicOp struct{ kind string }

var bugLine atomic.Int64

func bug() {
	var m map[int]int
	_, _, line, _ := runtime.Caller(0)
	bugLine.Store(int64(line + 2))
	m[0] = 1 // the bug: assignment to entry in nil map
}

func (o testPanicOp) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	switch o.kind {
	case "alloc":
		kernels.ParallelFor(64, 1, func(lo, hi int) { tensor.Zeros(tensor.Float32, 1<<20) })
	case "bug":
		bug()
	case "bugInWorker":
		kernels.ParallelFor(64, 1, func(lo, hi int) {
			if lo == 63 {
				bug()
			}
		})
	}
	return []*tensor.Tensor{in[0]}, nil
}

func init() {
	for op, kind := range map[string]string{"TestAllocInWorker": "alloc", "TestBug": "bug", "TestBugInWorker": "bugInWorker"} {
		ops.Register("com.example", op, 1, func(*ops.Node) (ops.Op, error) { return testPanicOp{kind}, nil })
	}
}

func panicModelRun(t *testing.T, op string) error {
	t.Helper()
	m := buildModel(t, []nd{{op: op, name: "n", in: []string{"x"}, out: []string{"y"}, domain: "com.example"}}, nil, []string{"x"}, []string{"y"})
	g, err := Import(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Run(map[string]*tensor.Tensor{"x": tensor.New([]int{2}, []float32{1, 2})})
	return err
}

// TestRunAllocErrorInWorker: a tensor above the memory limit asked for
// inside a parallel loop (on the pool's workers) ends the run with the
// documented error, naming the node, and the process goes on.
func TestRunAllocErrorInWorker(t *testing.T) {
	defer tensor.SetMemoryLimit(tensor.SetMemoryLimit(1 << 20))
	err := panicModelRun(t, "TestAllocInWorker")
	var ae *tensor.AllocError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), `node "n"`) || !strings.Contains(err.Error(), "above the memory limit") {
		t.Fatalf("got %v, want the memory-limit error naming node n", err)
	}
	if ae.Limit != 1<<20 {
		t.Fatalf("limit %d in the error, want %d", ae.Limit, 1<<20)
	}
}

// TestRunBugPanics: a bug in an op (here a nil map written), on the
// calling goroutine or on a worker of a parallel loop, is not turned into
// an error: it panics on the goroutine that called Run, with a stack
// naming the bug's file:line.
func TestRunBugPanics(t *testing.T) {
	for _, op := range []string{"TestBug", "TestBugInWorker"} {
		t.Run(op, func(t *testing.T) {
			var got any
			var stack string
			func() {
				defer func() {
					got = recover()
					stack = string(debug.Stack())
				}()
				err := panicModelRun(t, op)
				t.Errorf("Run returned (%v) instead of panicking", err)
			}()
			if got == nil {
				t.Fatal("no panic")
			}
			// the text an unrecovered panic prints: its value, and the
			// stack (for a worker's panic, the value holds the worker's)
			text := fmt.Sprint(got) + "\n" + stack
			where := fmt.Sprintf("%s:%d", filepath.Base("panic_test.go"), bugLine.Load())
			if !strings.Contains(text, "assignment to entry in nil map") || !strings.Contains(text, where) {
				t.Fatalf("panic text does not name the bug at %s:\n%s", where, text)
			}
			if op == "TestBugInWorker" {
				if p, ok := got.(*kernels.Panic); !ok || !strings.Contains(string(p.Stack), where) {
					t.Fatalf("a worker's panic reached the caller as %T, want *kernels.Panic with the worker's stack", got)
				}
			}
		})
	}
}
