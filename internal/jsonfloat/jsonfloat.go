// Package jsonfloat writes a float64 as a JSON number in its shortest exact
// form, and a NaN or an infinity (which JSON cannot hold) as null: Append.
// The metrics log and the sweep log share it, so both read back alike.
package jsonfloat

import (
	"math"
	"strconv"
)

// Append appends v to dst as JSON: the shortest decimal that reads back
// as v, or null when v is not finite.
func Append(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}
