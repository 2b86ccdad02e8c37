package tensor

// MemoryCgroups lists the process's memory cgroup folders and the file
// holding the limit in each (for the integration test in package
// tensor_test).
func MemoryCgroups() (dirs, files []string) {
	for _, d := range memoryCgroups("/") {
		dirs, files = append(dirs, d.dir), append(files, d.file)
	}
	return dirs, files
}
