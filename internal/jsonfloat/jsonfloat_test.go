package jsonfloat

import (
	"math"
	"testing"
)

func TestAppend(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0.1, "0.1"}, {5e-05, "5e-05"}, {-3, "-3"}, {math.NaN(), "null"}, {math.Inf(1), "null"}, {math.Inf(-1), "null"},
	} {
		if got := string(Append([]byte("x"), c.v)); got != "x"+c.want {
			t.Errorf("Append(%v) = %q, want %q", c.v, got, "x"+c.want)
		}
	}
}
