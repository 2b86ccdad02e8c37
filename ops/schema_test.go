package ops

import (
	"strings"
	"testing"
)

// TestRequiredInputsCoverRegistry: every op of the default domain that ft
// registers has an entry, so no registered op escapes the importer's
// check.
func TestRequiredInputsCoverRegistry(t *testing.T) {
	for _, name := range Registered() {
		if strings.Contains(name, ":") {
			continue
		}
		if _, ok := RequiredInputs("", name, 25, 1); !ok {
			t.Errorf("op %s has no entry in requiredInputs (see onnx.defs.get_schema(%q).min_input)", name, name)
		}
	}
}

func TestRequiredInputs(t *testing.T) {
	cases := []struct {
		op           string
		opset, given int
		want         int
	}{
		{"Add", 17, 2, 2},
		{"Slice", 9, 1, 1}, {"Slice", 13, 5, 3},
		{"Reshape", 1, 1, 1}, {"Reshape", 14, 2, 2},
		{"Concat", 13, 4, 4}, {"Concat", 13, 0, 1},
		{"Clip", 13, 3, 1},
		{"Gemm", 9, 3, 3}, {"Gemm", 13, 2, 2},
	}
	for _, c := range cases {
		if got, ok := RequiredInputs("", c.op, c.opset, c.given); !ok || got != c.want {
			t.Errorf("RequiredInputs(%s, opset %d, %d given) = %d, %v; want %d", c.op, c.opset, c.given, got, ok, c.want)
		}
	}
	if _, ok := RequiredInputs("com.example", "Add", 1, 2); ok {
		t.Error("a custom domain's op is known")
	}
}
