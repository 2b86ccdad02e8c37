package finetune

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"ft/internal/fileio"
	"ft/internal/jsonfloat"
)

// Record is one line of metrics.jsonl: the step and epoch, and named values
// such as loss, learning_rate, grad_norm, eval_loss, eval_accuracy (the
// Hugging Face Trainer's log_history keys).
type Record struct {
	Step  int
	Epoch float64
	// Values are written flat beside step and epoch. NaN and ±Inf, which
	// JSON cannot hold, are written as null and read back as NaN.
	Values map[string]float64
}

// Keys written first, in this order; the others follow sorted.
var recordKeyOrder = []string{"loss", "learning_rate", "grad_norm"}

// MarshalJSON writes {"step":..,"epoch":..,"loss":..,...}.
func (r Record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"step":`)
	b.WriteString(strconv.Itoa(r.Step))
	b.WriteString(`,"epoch":`)
	b.Write(jsonfloat.Append(nil, r.Epoch))
	keys := make([]string, 0, len(r.Values))
	for k := range r.Values {
		if k != "step" && k != "epoch" {
			keys = append(keys, k)
		}
	}
	rank := func(k string) int {
		for i, f := range recordKeyOrder {
			if f == k {
				return i
			}
		}
		return len(recordKeyOrder)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		b.WriteByte(',')
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(jsonfloat.Append(nil, r.Values[k]))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a line written by MarshalJSON; values that are not
// numbers (or null) are ignored.
func (r *Record) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*r = Record{Values: map[string]float64{}}
	for k, raw := range m {
		var v *float64
		if err := json.Unmarshal(raw, &v); err != nil {
			continue
		}
		f := math.NaN()
		if v != nil {
			f = *v
		}
		switch k {
		case "step":
			if v == nil || f != math.Trunc(f) {
				return fmt.Errorf("step %s is not an integer", raw)
			}
			r.Step = int(f)
		case "epoch":
			r.Epoch = f
		default:
			r.Values[k] = f
		}
	}
	if _, ok := m["step"]; !ok {
		return fmt.Errorf("no step")
	}
	return nil
}

// MetricsLog appends records to a metrics.jsonl file, one JSON object per
// line, each line written with one write call as soon as it is logged (no
// buffering), so a crash loses at most the line being written.
type MetricsLog struct {
	path string
	f    *os.File
}

// OpenMetricsLog opens (creating it and its folder if needed) a metrics log
// for appending. A torn last line left by a crash is ended first, so that new
// records start on a line of their own.
func OpenMetricsLog(path string) (*MetricsLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := fileio.OpenAppend(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				f.Close()
				return nil, err
			}
		}
	}
	return &MetricsLog{path: path, f: f}, nil
}

// Path returns the file's path.
func (l *MetricsLog) Path() string { return l.path }

// Write appends one record as a line.
func (l *MetricsLog) Write(r Record) error {
	b, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("metrics log %s: %w", l.path, err)
	}
	return nil
}

// Close closes the file.
func (l *MetricsLog) Close() error { return l.f.Close() }

// ReadMetricsLog reads every record of a metrics.jsonl file. A last line
// without its newline that does not parse (a write cut short) is skipped;
// any other bad line is an error naming file:line.
func ReadMetricsLog(path string) ([]Record, error) {
	data, err := fileio.ReadFile(path, 0)
	if err != nil {
		return nil, err
	}
	var recs []Record
	line := 0
	for len(data) > 0 {
		line++
		var ln []byte
		terminated := true
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			ln, data = data[:i], data[i+1:]
		} else {
			ln, data, terminated = data, nil, false
		}
		ln = bytes.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(ln, &r); err != nil {
			if !terminated {
				break
			}
			return nil, fmt.Errorf("%s:%d: not a metrics record: %v", path, line, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// TruncateMetricsLog keeps the records of a metrics.jsonl file up to step
// (a resumed run appends from there); a missing file is fine.
func TruncateMetricsLog(path string, step int) error {
	b, err := fileio.ReadFile(path, 0)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r struct {
			Step int `json:"step"`
		}
		if json.Unmarshal(line, &r) != nil || !bytes.HasSuffix(line, []byte("\n")) {
			break // a line cut by the interruption, and what follows
		}
		if r.Step > step {
			break
		}
		keep = append(keep, line...)
	}
	return fileio.WriteFile(path, keep)
}
