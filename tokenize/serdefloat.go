package tokenize

import (
	"errors"
	"math"
	"strconv"
)

// serdeFloat parses a JSON number the way serde_json does by default (the
// parser `tokenizers` uses to read tokenizer.json): the decimal digits are
// gathered into a u64 (digits past its capacity are dropped), converted to
// f64 and then multiplied or divided by a power of ten. That rounds twice,
// so about a quarter of a Unigram vocabulary's scores come out one ulp away
// from the correctly rounded value strconv.ParseFloat gives — enough to flip
// ties between segmentations. To choose the same pieces as HF, we read the
// scores as HF reads them.
func serdeFloat(s string) (float64, error) {
	i, n := 0, len(s)
	positive := true
	if i < n && s[i] == '-' {
		positive = false
		i++
	}
	if i >= n || s[i] < '0' || s[i] > '9' {
		return 0, errors.New("invalid number " + strconv.Quote(s))
	}
	var sig uint64
	exp := 0
	overflowed := false
	push := func(d byte, fraction bool) {
		digit := uint64(d - '0')
		if overflowed || (sig >= math.MaxUint64/10 && (sig > math.MaxUint64/10 || digit > math.MaxUint64%10)) {
			overflowed = true
			if !fraction {
				exp++ // an integer digit that no longer fits scales by ten
			}
			return
		}
		sig = sig*10 + digit
		if fraction {
			exp--
		}
	}
	for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
		push(s[i], false)
	}
	if i < n && s[i] == '.' {
		i++
		start := i
		for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			push(s[i], true)
		}
		if i == start {
			return 0, errors.New("invalid number " + strconv.Quote(s))
		}
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < n && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		start := i
		e := 0
		for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			if e < 1<<20 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if i == start {
			return 0, errors.New("invalid number " + strconv.Quote(s))
		}
		if neg {
			exp -= e
		} else {
			exp += e
		}
	}
	if i != n {
		return 0, errors.New("invalid number " + strconv.Quote(s))
	}
	f := float64(sig)
	for {
		a := exp
		if a < 0 {
			a = -a
		}
		if a < len(pow10) {
			if exp >= 0 {
				f *= pow10[a]
				if math.IsInf(f, 0) {
					return 0, errors.New("number out of range " + strconv.Quote(s))
				}
			} else {
				f /= pow10[a]
			}
			break
		}
		if f == 0 {
			break
		}
		if exp >= 0 {
			return 0, errors.New("number out of range " + strconv.Quote(s))
		}
		f /= 1e308
		exp += 308
	}
	if !positive {
		f = -f
	}
	return f, nil
}

// pow10 holds 1e0 ... 1e308, each correctly rounded (as Rust's literals).
var pow10 = func() (t [309]float64) {
	for i := range t {
		t[i], _ = strconv.ParseFloat("1e"+strconv.Itoa(i), 64)
	}
	return t
}()
