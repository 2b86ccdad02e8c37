// Package testfixture reads the oracle fixtures that
// testmodels/finetune_oracle.py writes under testmodels/fixtures/finetune,
// for the tests of finetune, dataset and optim: JSON decodes one of them and
// Close compares a value with its oracle within tolerances.
package testfixture

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// JSON decodes the fixture name into v, failing t when it is missing or
// malformed. Tests run in their package's folder, one level below the
// repository root.
func JSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testmodels", "fixtures", "finetune", name))
	if err != nil {
		t.Fatalf("%v (make it with $FT_PYTHON testmodels/finetune_oracle.py)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// Close reports whether got is within rel·|want| + abs of want; a NaN want
// asks for a NaN.
func Close(got, want, rel, abs float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Abs(want)+abs
}
