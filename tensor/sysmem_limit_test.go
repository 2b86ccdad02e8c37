//go:build linux

package tensor_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ft/graph"
	"ft/onnx"
	"ft/tensor"
)

// runOversized runs a ConstantOfShape of 2^30 float32 ones (4 GiB, every
// page written) and prints the outcome.
func runOversized() {
	f32 := onnx.TensorProto_FLOAT
	one, _ := onnx.FromTensor("value", tensor.New([]int{1}, []float32{1}))
	at := onnx.AttributeProto_TENSOR
	name := "value"
	node := onnx.NewNode("ConstantOfShape", "fill", []string{"S"}, []string{"Y"}, &onnx.AttributeProto{Name: &name, Type: &at, T: one})
	gname, dom, ir, ver := "g", "", int64(8), int64(17)
	m := &onnx.Model{Proto: &onnx.ModelProto{IrVersion: &ir,
		OpsetImport: []*onnx.OperatorSetIdProto{{Domain: &dom, Version: &ver}},
		Graph: &onnx.GraphProto{Name: &gname, Node: []*onnx.NodeProto{node},
			Input:  []*onnx.ValueInfoProto{onnx.TensorValueInfo("S", onnx.TensorProto_INT64, 1)},
			Output: []*onnx.ValueInfoProto{onnx.TensorValueInfo("Y", f32)}}}}
	g, err := graph.Import(m, graph.Options{})
	if err != nil {
		fmt.Println("import:", err)
		return
	}
	lim := tensor.MemoryLimit()
	fmt.Printf("limit=%d\n", lim)
	out, err := g.Run(map[string]*tensor.Tensor{"S": tensor.New([]int{1}, []int64{1 << 30})})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("ran: ", out["Y"].Len())
}

// TestOversizedUnderSystemLimits: under ulimit -v, and in a cgroup with a
// memory limit, FT_MEMORY_LIMIT's default follows the limit, so a model
// that asks for more gets the documented memory-limit error naming the
// node instead of a fatal out-of-memory (ulimit) or the kernel's OOM
// killer (cgroup). The test binary runs itself again under each limit.
func TestOversizedUnderSystemLimits(t *testing.T) {
	if os.Getenv("FT_SYSMEM_CHILD") != "" {
		runOversized()
		return
	}
	env := slices.DeleteFunc(os.Environ(), func(s string) bool { return strings.HasPrefix(s, tensor.MemoryLimitEnv+"=") })
	env = append(env, "FT_SYSMEM_CHILD=1")
	check := func(t *testing.T, out []byte, err error, limit int64) {
		t.Helper()
		want := `node "fill" (ConstantOfShape)`
		if err != nil || !strings.Contains(string(out), want) || !strings.Contains(string(out), "float32 tensor of shape [1073741824] needs 4 GiB") ||
			!strings.Contains(string(out), "above the memory limit of "+tensor.FormatBytes(limit)) {
			t.Fatalf("child: %v\n%s\nwant the memory-limit error for node fill at %s", err, out, tensor.FormatBytes(limit))
		}
	}
	t.Run("ulimit -v", func(t *testing.T) {
		const kb = 3 << 20 // 3 GiB of address space
		cmd := exec.Command("sh", "-c", fmt.Sprintf(`ulimit -v %d && exec "$0" -test.run='^TestOversizedUnderSystemLimits$'`, kb), os.Args[0])
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		check(t, out, err, kb<<10)
	})
	t.Run("cgroup", func(t *testing.T) {
		dirs, files := tensor.MemoryCgroups()
		if len(dirs) == 0 {
			t.Skip("no cgroup memory controller found in /proc/self/cgroup and /proc/self/mountinfo")
		}
		const limit = 256 << 20
		cg := filepath.Join(dirs[0], fmt.Sprintf("ft-test-%d", os.Getpid()))
		if err := os.Mkdir(cg, 0o755); err != nil {
			t.Skipf("cannot make a cgroup (needs write access to %s): %v", dirs[0], err)
		}
		defer os.Remove(cg)
		if err := os.WriteFile(filepath.Join(cg, files[0]), []byte(fmt.Sprint(limit)), 0o644); err != nil {
			t.Skipf("cannot set %s: %v", files[0], err)
		}
		cmd := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$0" -test.run='^TestOversizedUnderSystemLimits$'`, os.Args[0], cg)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		check(t, out, err, limit)
	})
}
