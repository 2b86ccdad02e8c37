package tensor

import (
	"os"
	"path"
	"strconv"
	"strings"
)

// SystemMemory returns the memory this process may use, in bytes: the
// least of the machine's physical memory (MemTotal in /proc/meminfo), the
// address-space limit (RLIMIT_AS, ulimit -v) and the memory limit of the
// process's cgroup and its ancestors (cgroup v2 memory.max, v1
// memory.limit_in_bytes; the cgroup is read from /proc/self/cgroup and
// found through /proc/self/mountinfo). 0 where none of them is known. It is
// the memory limit's default (and MemoryLimitFromEnv's where FT_MEMORY_LIMIT is unset).
func SystemMemory() int64 {
	return systemMemory("/", rlimitAS())
}

// systemMemory reads the files under root (a test's copy of / ) with the
// given RLIMIT_AS (0: none).
func systemMemory(root string, as int64) int64 {
	lim := int64(0)
	take := func(v int64) {
		if v > 0 && (lim == 0 || v < lim) {
			lim = v
		}
	}
	if b, err := os.ReadFile(path.Join(root, "proc/meminfo")); err == nil {
		take(parseMeminfo(string(b)))
	}
	take(as)
	take(cgroupMemory(root))
	return lim
}

// parseMeminfo returns MemTotal in bytes (0 if absent).
func parseMeminfo(s string) int64 {
	for _, ln := range strings.Split(s, "\n") {
		if f := strings.Fields(ln); len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 && kb < 1<<53 {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupMount is a cgroup file system mounted at point, showing the
// hierarchy from root down.
type cgroupMount struct {
	v2          bool
	root, point string
}

// parseMountinfo lists the cgroup v2 mounts and the cgroup v1 mounts with
// the memory controller.
func parseMountinfo(s string) []cgroupMount {
	var ms []cgroupMount
	for _, ln := range strings.Split(s, "\n") {
		f := strings.Fields(ln)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(f) {
			continue
		}
		fstype := f[sep+1]
		m := cgroupMount{root: unescapeMount(f[3]), point: unescapeMount(f[4])}
		switch fstype {
		case "cgroup2":
			m.v2 = true
		case "cgroup":
			if sep+3 >= len(f) || !hasOption(f[sep+3], "memory") {
				continue
			}
		default:
			continue
		}
		ms = append(ms, m)
	}
	return ms
}

func hasOption(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseCgroup returns the process's cgroup v2 path and its v1 memory
// controller's path ("" where absent) from /proc/self/cgroup.
func parseCgroup(s string) (v2, v1mem string) {
	for _, ln := range strings.Split(s, "\n") {
		f := strings.SplitN(strings.TrimSpace(ln), ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			v2 = f[2]
		} else if hasOption(f[1], "memory") {
			v1mem = f[2]
		}
	}
	return v2, v1mem
}

// cgroupDir is the folder of the process's cgroup in a mounted cgroup
// file system, and the file that holds its memory limit there.
type cgroupDir struct {
	dir, point, file string
}

// memoryCgroups lists the process's cgroup folders (v2, and v1 with the
// memory controller) under root.
func memoryCgroups(root string) []cgroupDir {
	cg, err := os.ReadFile(path.Join(root, "proc/self/cgroup"))
	if err != nil {
		return nil
	}
	mi, err := os.ReadFile(path.Join(root, "proc/self/mountinfo"))
	if err != nil {
		return nil
	}
	v2, v1 := parseCgroup(string(cg))
	var ds []cgroupDir
	for _, m := range parseMountinfo(string(mi)) {
		cgPath, file := v1, "memory.limit_in_bytes"
		if m.v2 {
			cgPath, file = v2, "memory.max"
		}
		if cgPath == "" {
			continue
		}
		rel, ok := strings.CutPrefix(path.Clean(cgPath), path.Clean(m.root))
		if !ok || (rel != "" && !strings.HasPrefix(rel, "/") && m.root != "/") {
			continue // the process's cgroup is not under this mount's root
		}
		ds = append(ds, cgroupDir{dir: path.Join(m.point, rel), point: path.Clean(m.point), file: file})
	}
	return ds
}

// cgroupMemory returns the least memory limit set on the process's cgroup
// or an ancestor visible under the mount, 0 if none.
func cgroupMemory(root string) int64 {
	lim := int64(0)
	for _, d := range memoryCgroups(root) {
		for dir := d.dir; ; dir = path.Dir(dir) {
			if b, err := os.ReadFile(path.Join(root, dir, d.file)); err == nil {
				if v := parseCgroupLimit(string(b)); v > 0 && (lim == 0 || v < lim) {
					lim = v
				}
			}
			if dir == d.point || dir == "/" || dir == "." {
				break
			}
		}
	}
	return lim
}

// parseCgroupLimit reads memory.max ("max": none) or memory.limit_in_bytes
// (v1 writes "no limit" as a number near 2^63).
func parseCgroupLimit(s string) int64 {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v >= 1<<62 {
		return 0
	}
	return v
}
