package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/cpu"

	"ft/kernels"
)

// runVersion prints ft's module version and VCS revision (from the build
// information the go command embeds), the Go version, and the CPU features
// the kernels detected (golang.org/x/sys/cpu, as kernels does) with the
// GEMM kernels they chose.
func runVersion(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(stderr, "Usage: ft version\n\nPrints ft's module version, VCS revision, Go version, and the CPU features the kernels use.")
			return nil
		}
		return flagError{"version", fmt.Sprintf("ft version takes no arguments (got %q)", args[0])}
	}
	fmt.Fprint(stdout, versionText())
	return nil
}

func versionText() string {
	var b strings.Builder
	version, revision, when, modified := "(unknown)", "(not recorded in this build: go run, -buildvcs=false, or no git repository found at build time)", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version // "(devel)" for a build in the source tree
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				when = " (" + s.Value + ")"
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", with uncommitted changes"
				}
			}
		}
	}
	fmt.Fprintf(&b, "ft %s\n", version)
	fmt.Fprintf(&b, "revision  %s%s%s\n", revision, when, modified)
	fmt.Fprintf(&b, "go        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	f32, f64 := kernels.KernelName()
	fmt.Fprintf(&b, "cpu       %s\n", strings.Join(cpuFeatures(), " "))
	fmt.Fprintf(&b, "gemm      float32 %s, float64 %s (build with -tags purego for the portable Go kernels)\n", f32, f64)
	return b.String()
}

// cpuFeatures lists the features the kernels look at, each as present
// (name) or absent (-name); the x/sys/cpu flags are set only when the OS
// saves the registers too.
func cpuFeatures() []string {
	mark := func(name string, has bool) string {
		if has {
			return name
		}
		return "-" + name
	}
	switch runtime.GOARCH {
	case "amd64":
		return []string{mark("avx2", cpu.X86.HasAVX2), mark("fma", cpu.X86.HasFMA), mark("avx512f", cpu.X86.HasAVX512F)}
	case "arm64":
		return []string{mark("asimd", cpu.ARM64.HasASIMD), "(no assembly kernels: portable Go)"}
	}
	return []string{"(no assembly kernels on " + runtime.GOARCH + ": portable Go)"}
}
