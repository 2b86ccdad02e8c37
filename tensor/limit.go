package tensor

import (
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// MemoryLimitEnv is the environment variable MemoryLimitFromEnv reads
// ("8GiB", "512MB", "1000000"; see ParseBytes; "0": no limit).
const MemoryLimitEnv = "FT_MEMORY_LIMIT"

// memLimit is the limit in bytes (0: none). No single tensor can be larger
// than the memory the process may use, so it starts there: refused with an
// error rather than letting the runtime abort or the kernel kill the
// process.
var memLimit atomic.Int64

func init() { memLimit.Store(SystemMemory()) }

// MemoryLimitFromEnv returns the memory limit FT_MEMORY_LIMIT asks for:
// its size, 0 for "0" (no limit), or SystemMemory where it is unset or
// blank; an error naming the variable where it is not a size. It only
// reads; ft's command line passes the result to SetMemoryLimit, and a
// library user may do the same.
func MemoryLimitFromEnv() (int64, error) {
	s := strings.TrimSpace(os.Getenv(MemoryLimitEnv))
	if s == "" {
		return SystemMemory(), nil
	}
	n, err := ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %v", MemoryLimitEnv, s, err)
	}
	return n, nil
}

// SetMemoryLimit sets the largest single tensor (in bytes) that ft allocates
// for a model's initializers and op outputs; 0 removes the limit. It returns
// the previous limit. The limit starts at SystemMemory (the least of
// physical memory, RLIMIT_AS and the cgroup's memory limit; none where
// unknown); MemoryLimitFromEnv reads the one FT_MEMORY_LIMIT asks for. A bad
// model or input that asks for more gets an *AllocError naming the tensor or
// node instead of exhausting the machine's memory.
func SetMemoryLimit(bytes int64) int64 {
	return memLimit.Swap(max(bytes, 0))
}

// MemoryLimit returns the limit in bytes (0: none).
func MemoryLimit() int64 {
	return memLimit.Load()
}

// AllocError is the error (and, from Zeros, the panic value) for a tensor
// that cannot be allocated: its byte size overflows, or exceeds the limit.
type AllocError struct {
	DType DType
	Shape []int
	Bytes int64 // -1: the size overflows int64
	Limit int64 // 0 when the size overflows without a limit
}

func (e *AllocError) Error() string {
	if e.Bytes < 0 {
		return fmt.Sprintf("a %s tensor of shape %v has more elements than memory can hold (the shape product overflows)", e.DType, e.Shape)
	}
	return fmt.Sprintf("a %s tensor of shape %v needs %s, above the memory limit of %s (set %s or tensor.SetMemoryLimit to change it)",
		e.DType, e.Shape, FormatBytes(e.Bytes), FormatBytes(e.Limit), MemoryLimitEnv)
}

// ElemSize returns the byte size of one element of dt (0 for Invalid).
func ElemSize(dt DType) int {
	switch dt {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case Bool, Uint8, Int8:
		return 1
	}
	return 0
}

// Bytes returns the byte size of a tensor of type dt and shape, or -1 when a
// dimension is negative or the size overflows int64.
func Bytes(dt DType, shape []int) int64 {
	n := uint64(max(ElemSize(dt), 1))
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return -1
		}
		n = lo
	}
	return int64(n)
}

// CheckAlloc reports whether a tensor of type dt and shape may be allocated:
// an *AllocError when its size overflows or exceeds the memory limit, a
// plain error for a negative dimension.
func CheckAlloc(dt DType, shape []int) error {
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
	}
	b := Bytes(dt, shape)
	if b < 0 {
		return &AllocError{DType: dt, Shape: append([]int(nil), shape...), Bytes: -1}
	}
	if lim := memLimit.Load(); lim > 0 && b > lim {
		return &AllocError{DType: dt, Shape: append([]int(nil), shape...), Bytes: b, Limit: lim}
	}
	return nil
}

// ParseBytes reads a size: a non-negative integer with an optional unit B,
// KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024);
// case and spaces are ignored, and a decimal mantissa is allowed ("1.5GiB").
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := t[:i], t[i:]
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a size like 8GiB or 512MB", s)
	}
	b := v * mult
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(b), nil
}

// FormatBytes prints a byte count with a binary unit ("1.5 GiB").
func FormatBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	v, u := float64(b), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.4g %s (%d bytes)", v, []string{"B", "KiB", "MiB", "GiB", "TiB"}[u], b)
}
