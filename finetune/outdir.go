package finetune

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"ft/onnx"
)

// OutputMarker is the file ft writes into every folder it writes outputs
// to (a run folder, an export folder): a folder holding it was written by
// ft, so ft may replace the files of its own names there (and no others).
const OutputMarker = ".ft-output"

// MarkOutputDir writes the marker into dir (kept when present).
func MarkOutputDir(dir, what string) error {
	p := filepath.Join(dir, OutputMarker)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	return onnx.WriteFileAtomic(p, []byte(fmt.Sprintf("written by ft (%s), %s\n", what, time.Now().UTC().Format(time.RFC3339))))
}

// IsOutputDir reports whether dir holds ft's marker.
func IsOutputDir(dir string) bool {
	st, err := os.Lstat(filepath.Join(dir, OutputMarker))
	return err == nil && st.Mode().IsRegular()
}

// resolvePath returns path made absolute with its symbolic links resolved;
// the part that does not exist yet is joined as written.
func resolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	cur := abs
	for {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest), nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// PathRelation says how folder a lies to folder b: "same", "inside" (a is
// under b), "contains" (b is under a) or "" (unrelated). Paths are
// compared after resolving symbolic links, and folders by identity
// (os.SameFile), so that two names of one folder are seen as one.
func PathRelation(a, b string) (string, error) {
	ra, err := resolvePath(a)
	if err != nil {
		return "", err
	}
	rb, err := resolvePath(b)
	if err != nil {
		return "", err
	}
	stB, errB := os.Stat(rb)
	stA, errA := os.Stat(ra)
	// a or one of its parents is b
	for p := ra; ; p = filepath.Dir(p) {
		if p == rb {
			return rel(p == ra, "same", "inside"), nil
		}
		if errB == nil {
			if st, err := os.Stat(p); err == nil && os.SameFile(st, stB) {
				return rel(p == ra, "same", "inside"), nil
			}
		}
		if filepath.Dir(p) == p {
			break
		}
	}
	// one of b's parents is a
	for p := filepath.Dir(rb); ; p = filepath.Dir(p) {
		if p == ra {
			return "contains", nil
		}
		if errA == nil {
			if st, err := os.Stat(p); err == nil && os.SameFile(st, stA) {
				return "contains", nil
			}
		}
		if filepath.Dir(p) == p {
			break
		}
	}
	return "", nil
}

func rel(same bool, a, b string) string {
	if same {
		return a
	}
	return b
}

// checkNotBase refuses to write an export into the folder of the model it
// was loaded from: that would replace the base model (which the checkpoints
// of a run are checked against).
func (m *Model) checkNotBase(dir string) error {
	if m.Dir == "" {
		return nil
	}
	r, err := PathRelation(dir, m.Dir)
	if err != nil {
		return err
	}
	if r == "same" {
		return fmt.Errorf("%s is the folder of the base model %s: writing there would replace it; choose another output folder", dir, m.Path)
	}
	return nil
}
