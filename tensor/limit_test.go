package tensor

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  string
	}{
		{"8GiB", 8 << 30, ""},
		{"512MB", 512e6, ""},
		{"1.5 gib", 3 << 29, ""},
		{"1000", 1000, ""},
		{"0", 0, ""},
		{"64k", 64000, ""},
		{"8 GB", 8e9, ""},
		{"8XB", 0, `unknown unit "xb"`},
		{"-1GiB", 0, "not a size"},
		{"lots", 0, "unknown unit"},
		{"1e30", 0, "too large"},
	}
	for _, c := range cases {
		got, err := ParseBytes(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseBytes(%q) = %d, %v; want an error containing %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestCheckAlloc(t *testing.T) {
	defer SetMemoryLimit(SetMemoryLimit(1 << 20)) // 1 MiB
	if err := CheckAlloc(Float32, []int{512, 512}); err != nil {
		t.Fatalf("exactly 1 MiB refused: %v", err)
	}
	err := CheckAlloc(Float32, []int{512, 513})
	var ae *AllocError
	if !errors.As(err, &ae) || ae.Bytes != 512*513*4 || ae.Limit != 1<<20 {
		t.Fatalf("got %v", err)
	}
	for _, w := range []string{"float32", "[512 513]", "1050624 bytes", "1 MiB", "FT_MEMORY_LIMIT"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	// Overflow is refused with or without a limit.
	SetMemoryLimit(0)
	err = CheckAlloc(Float64, []int{1 << 31, 1 << 31, 4})
	if !errors.As(err, &ae) || ae.Bytes != -1 || !strings.Contains(err.Error(), "overflows") {
		t.Fatalf("overflow: got %v", err)
	}
	if err := CheckAlloc(Float32, []int{3, -1}); err == nil || !strings.Contains(err.Error(), "negative dimension -1") {
		t.Fatalf("negative dim: got %v", err)
	}
	if b := Bytes(Int8, []int{math.MaxInt64, 2}); b != -1 {
		t.Fatalf("Bytes overflow = %d", b)
	}
}

func TestZerosAboveLimitPanicsWithAllocError(t *testing.T) {
	defer SetMemoryLimit(SetMemoryLimit(1000))
	defer func() {
		r := recover()
		ae, ok := r.(*AllocError)
		if !ok || ae.Bytes != 8*200 {
			t.Fatalf("recovered %v, want an *AllocError of 1600 bytes", r)
		}
	}()
	Zeros(Float64, 10, 20)
	t.Fatal("no panic")
}

func TestBroadcastShapeLimit(t *testing.T) {
	defer SetMemoryLimit(SetMemoryLimit(1 << 20))
	_, err := BroadcastShape([]int{100000, 1}, []int{1, 100000})
	if err == nil || !strings.Contains(err.Error(), "[100000 100000]") || !strings.Contains(err.Error(), "memory limit") {
		t.Fatalf("got %v", err)
	}
	SetMemoryLimit(0)
	_, err = BroadcastShape([]int{1 << 40, 1}, []int{1, 1 << 40})
	if err == nil || !strings.Contains(err.Error(), "overflows") {
		t.Fatalf("got %v", err)
	}
}

// TestMemoryLimitFromEnv: FT_MEMORY_LIMIT's size, 0, or SystemMemory when
// unset or blank; an error naming the variable for a value that is not a
// size. Reading it does not change the limit in force.
func TestMemoryLimitFromEnv(t *testing.T) {
	before := MemoryLimit()
	for _, tc := range []struct {
		env     string // "unset": not in the environment
		want    int64
		wantErr string
	}{
		{"8GiB", 8 << 30, ""},
		{"512MB", 512e6, ""},
		{"0", 0, ""},
		{"lots", 0, `FT_MEMORY_LIMIT="lots": unknown unit "lots" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		{"  ", SystemMemory(), ""},
		{"unset", SystemMemory(), ""},
	} {
		t.Setenv(MemoryLimitEnv, tc.env)
		if tc.env == "unset" {
			os.Unsetenv(MemoryLimitEnv)
		}
		n, err := MemoryLimitFromEnv()
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: got %d, %v; want error %s", tc.env, n, err, tc.wantErr)
			}
			continue
		}
		if err != nil || n != tc.want {
			t.Errorf("%q: got %d, %v; want %d", tc.env, n, err, tc.want)
		}
	}
	if MemoryLimit() != before {
		t.Errorf("MemoryLimitFromEnv changed the limit from %d to %d", before, MemoryLimit())
	}
}
