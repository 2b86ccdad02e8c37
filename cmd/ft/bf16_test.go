package main

import (
	"strings"
	"testing"
)

// TestExecBF16: ft exec --bf16 runs the products in bf16: the outputs of
// the BERT fixture miss ONNX Runtime's float32 reference at ft's float32
// tolerance (1e-5) but stay within a few bf16 rounding steps (2^-8
// relative) of values of order one.
func TestExecBF16(t *testing.T) {
	args := []string{"exec", "testmodels/fixtures/bert-fe", "--inputs", "testmodels/fixtures/bert-fe/test_data_set_0/inputs.npz",
		"--compare", "testmodels/fixtures/bert-fe/test_data_set_0/outputs.npz", "--bf16"}
	if code, out, _ := runIn(t, args...); code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("--bf16 at atol 1e-5: exit %d, want 1 (bf16 products)\n%s", code, out)
	}
	if code, out, stderr := runIn(t, append(args, "--atol", "0.02", "--rtol", "0.02")...); code != 0 {
		t.Errorf("--bf16 at atol 0.02: exit %d\n%s\n%s", code, out, stderr)
	}
}
