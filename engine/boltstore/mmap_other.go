//go:build !windows

package boltstore

// initialMmapSize reserves address space up front so that the database can
// grow to 1 GiB without remapping; a remap waits for every open read
// transaction, which would stall sales behind a long backup. On these
// systems the file itself still grows only as data is written.
const initialMmapSize = 1 << 30
