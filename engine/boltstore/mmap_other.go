//go:build !windows

package boltstore

import "os"

// minMmapSize is the least address space reserved for the database.
const minMmapSize = 1 << 30

// initialMmapSize reserves address space up front: at least 1 GiB, and
// twice the file's present size, rounded up to a GiB, so that the database
// can double before bbolt must remap it. A remap waits for every open read
// transaction, and a backup of a large database holds one for tens of
// seconds: without the reserve, the first sale that grows the file past the
// mapping would stall behind the backup. Reserved address space costs no
// memory, and on these systems the file still grows only as data is written.
func initialMmapSize(path string) int {
	size := int64(0)
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	want := (2*size + minMmapSize - 1) / minMmapSize * minMmapSize
	return int(max(want, minMmapSize))
}
