package tensor

import (
	"path/filepath"
	"testing"
)

// TestSystemMemory reads copies of /proc and /sys/fs/cgroup (testdata) as
// found on cgroup v2 hosts, v2 containers, and v1 hosts such as this
// project's build machine: the limit is the least of MemTotal, RLIMIT_AS
// and every memory limit from the process's cgroup up to the mount's root.
func TestSystemMemory(t *testing.T) {
	const gib = 1 << 30
	cases := []struct {
		dir  string
		as   int64
		want int64
	}{
		{"v2-parent", 0, 2 * gib},          // app.scope says max, its parent 2 GiB
		{"v2-parent", gib, gib},            // ulimit -v below it
		{"v2-ns", 0, gib},                  // a container: cgroup "/" is its own
		{"v1-none", 0, 24683772 << 10},     // no limit: MemTotal
		{"v1-none", 3 * gib, 3 * gib},      // RLIMIT_AS
		{"v1-limit", 0, 512 << 20},         // memory.limit_in_bytes
		{"foreign-root", 0, 8000000 << 10}, // the cgroup is outside the mount: ignored
		{"empty", 0, 0},                    // nothing known (not Linux)
		{"empty", 5 * gib, 5 * gib},        // only RLIMIT_AS
	}
	for _, c := range cases {
		got := systemMemory(filepath.Join("testdata", "sysmem", c.dir), c.as)
		if got != c.want {
			t.Errorf("%s with RLIMIT_AS %d: %d, want %d", c.dir, c.as, got, c.want)
		}
	}
}

func TestParseCgroupFiles(t *testing.T) {
	v2, v1 := parseCgroup("12:cpu,cpuacct:/a\n4:blkio,memory:/b/c\n0::/d\n")
	if v2 != "/d" || v1 != "/b/c" {
		t.Errorf("parseCgroup: %q %q", v2, v1)
	}
	ms := parseMountinfo("25 20 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n" +
		"35 31 0:32 /x /cg\\040mem rw,relatime shared:1 - cgroup cgroup rw,memory\n" +
		"36 31 0:33 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n" +
		"garbage\n")
	if len(ms) != 2 || !ms[0].v2 || ms[0].point != "/sys/fs/cgroup" || ms[1].v2 || ms[1].root != "/x" || ms[1].point != "/cg mem" {
		t.Errorf("parseMountinfo: %+v", ms)
	}
	for s, want := range map[string]int64{"max\n": 0, "1073741824\n": 1 << 30, "9223372036854771712": 0, "-1": 0, "junk": 0} {
		if got := parseCgroupLimit(s); got != want {
			t.Errorf("parseCgroupLimit(%q) = %d, want %d", s, got, want)
		}
	}
	if got := parseMeminfo("MemFree: 5 kB\nMemTotal:  100 kB\n"); got != 102400 {
		t.Errorf("parseMeminfo = %d", got)
	}
}
