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

// RecordApply sets (or, with nil, clears) the hook that sees every write
// an operation applies to bbolt, for BenchmarkStorageFloor.
func RecordApply(fn func(bucket string, key, val []byte, del bool)) { recordApply = fn }

// FillPercent is how full apply packs a bucket's pages (1 and 0.9 for the
// append-only buckets, bbolt's default otherwise).
func FillPercent(bucket string) (float64, bool) {
	f, ok := fillPercent[bucket]
	return f, ok
}

// BoltOptions are the options Open gives bbolt, for a benchmark that opens
// the same file with bbolt alone.
func BoltOptions(path string) *bolt.Options {
	return &bolt.Options{FreelistType: bolt.FreelistMapType, InitialMmapSize: initialMmapSize(path)}
}
