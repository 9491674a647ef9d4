package artifact

import "syscall"

// volumeUsage returns the size of dir's filesystem and the bytes available
// to unprivileged writers; zeros when statfs fails.
func volumeUsage(dir string) (total, available int64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0
	}
	bsize := int64(st.Bsize) //nolint:unconvert // int32 on some platforms
	return int64(st.Blocks) * bsize, int64(st.Bavail) * bsize
}
