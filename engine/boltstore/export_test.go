package boltstore

// SetNoSyncForCPUCount turns fsync off, for the instruction-count
// measurement of BENCHMARKS.md only: without the waits for the disk,
// callgrind counts the same instructions on every run. posd itself never
// runs without fsync; this file is compiled into tests only.
func (s *Store) SetNoSyncForCPUCount() { s.db.NoSync = true }

// InitialMmapSize exposes the address-space reserve for its test.
var InitialMmapSize = initialMmapSize
