package ops

import (
	"sort"
	"testing"
)

// TestTrainable: every registered op builds for the probe (so Trainable
// sees every op); the ops known to carry gradients in a BERT training step
// are in the list and the shape, index and comparison ops are not; and
// every op whose Backward keeps less than everything (a Saver) is in it.
func TestTrainable(t *testing.T) {
	for k, es := range registry {
		if probe(k, es) == nil {
			t.Errorf("%s does not build for the probe: give it probeAttrs", registeredName(k))
		}
	}
	got := Trainable()
	if !sort.StringsAreSorted(got) {
		t.Errorf("not sorted: %v", got)
	}
	in := map[string]bool{}
	for _, op := range got {
		in[op] = true
	}
	for _, op := range []string{"MatMul", "Gemm", "Add", "Mul", "Div", "Erf", "Gelu", "Softmax", "FtMaskedSoftmax",
		"LayerNormalization", "Reshape", "Transpose", "Gather", "Where", "Cast", "FtAttentionScores", "FtAttentionContext"} {
		if !in[op] {
			t.Errorf("%s has a Backward but is not in Trainable %v", op, got)
		}
	}
	for _, op := range []string{"Shape", "NonZero", "ArgMax", "Equal", "Range", "ConstantOfShape", "FtTransposedShape", "Not"} {
		if in[op] {
			t.Errorf("%s has no Backward but is in Trainable", op)
		}
	}
	for k, es := range registry {
		op := probe(k, es)
		if _, saver := op.(Saver); saver && !in[registeredName(k)] {
			t.Errorf("%s has Saves but no Backward", registeredName(k))
		}
	}
}
