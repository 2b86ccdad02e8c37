package testfixture

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Python returns $FT_PYTHON for an oracle check that imports modules, or
// skips t with a message saying what to install: a check that compares
// with transformers or sentence-transformers skips where FT_PYTHON names a
// Python without them (CI's venv holds only onnx, onnxruntime and numpy).
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py := os.Getenv("FT_PYTHON")
	need := strings.Join(modules, ", ")
	if py == "" {
		t.Skipf("set FT_PYTHON to a Python with %s (testmodels/requirements.txt) to run this oracle check", need)
	}
	if out, err := exec.Command(py, "-c", "import "+need).CombinedOutput(); err != nil {
		t.Skipf("FT_PYTHON (%s) cannot import %s (%v: %s): install testmodels/requirements.txt there to run this oracle check", py, need, err, strings.TrimSpace(lastLine(string(out))))
	}
	return py
}

// lastLine is the last non-empty line of s (a Python traceback's error).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
