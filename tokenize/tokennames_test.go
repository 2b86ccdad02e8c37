package tokenize

import "testing"

func TestByteLevelDecode(t *testing.T) {
	for in, want := range map[string]string{"Ġgood": " good", "Ã©": "é", "plain": "plain", "ĊĠ": "\n "} {
		if got := ByteLevelDecode(in); got != want {
			t.Errorf("ByteLevelDecode(%q) = %q, want %q", in, got, want)
		}
	}
}
