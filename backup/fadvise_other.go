//go:build !linux

package backup

import "os"

// dropCache is a no-op where posix_fadvise is not available.
func dropCache(f *os.File, n int64) {}
