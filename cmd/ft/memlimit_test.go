package main

import (
	"strings"
	"testing"

	"ft/tensor"
)

// TestSetMemoryLimitFromEnv: ft sets the memory limit from FT_MEMORY_LIMIT
// (the library only reads the variable when asked), and a value that is not
// a size is an error naming the variable and the fix.
func TestSetMemoryLimitFromEnv(t *testing.T) {
	defer tensor.SetMemoryLimit(tensor.MemoryLimit())
	for _, tc := range []struct {
		env     string
		want    int64
		wantErr string
	}{
		{"3MiB", 3 << 20, ""},
		{"0", 0, ""},
		{"", tensor.SystemMemory(), ""},
		{"lots", -1, `FT_MEMORY_LIMIT="lots": unknown unit "lots" (use B, KB`},
	} {
		tensor.SetMemoryLimit(12345)
		t.Setenv(tensor.MemoryLimitEnv, tc.env)
		err := setMemoryLimitFromEnv()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || tensor.MemoryLimit() != 12345 {
				t.Errorf("%q: got %v, limit %d; want error %s and the limit unchanged", tc.env, err, tensor.MemoryLimit(), tc.wantErr)
			}
			continue
		}
		if err != nil || tensor.MemoryLimit() != tc.want {
			t.Errorf("%q: got %v, limit %d; want %d", tc.env, err, tensor.MemoryLimit(), tc.want)
		}
	}
}
