package boltstore

import bolt "go.etcd.io/bbolt"

// SetNoSyncForCPUCount turns fsync off, for the instruction-count
// measurement of BENCHMARKS.md only: without the waits for the disk,
// callgrind counts the same instructions on every run. posd itself never
// runs without fsync; this file is compiled into tests only.
func (s *Store) SetNoSyncForCPUCount() { s.db.NoSync = true }

// InitialMmapSize exposes the address-space reserve for its test.
var InitialMmapSize = initialMmapSize

// DB returns the underlying bbolt database, for tests that read or damage
// the file behind the store's back.
func (s *Store) DB() *bolt.DB { return s.db }
