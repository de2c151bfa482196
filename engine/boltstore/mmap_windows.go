//go:build windows

package boltstore

// initialMmapSize is 0 on Windows, where bbolt would grow the file itself to
// the mapped size at once.
func initialMmapSize(string) int { return 0 }
