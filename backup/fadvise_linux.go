//go:build linux

package backup

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCache tells the kernel that the first n bytes of f, already synced,
// will not be read again soon: a backup streaming gigabytes through the
// page cache would otherwise push out the live database's pages, and
// sales would wait on the disk for them.
func dropCache(f *os.File, n int64) {
	_ = unix.Fadvise(int(f.Fd()), 0, n, unix.FADV_DONTNEED)
}
