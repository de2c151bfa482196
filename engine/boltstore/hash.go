package boltstore

import (
	"crypto/sha256"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// ContentHash returns the SHA-256 of every key and value of every bucket,
// read in one consistent snapshot. Two equal hashes mean the database holds
// exactly the same data: tests use it to show that a refused request
// changed nothing at all.
func (s *Store) ContentHash() ([]byte, error) {
	h := sha256.New()
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			writeField(h, name)
			return b.ForEach(func(k, v []byte) error {
				writeField(h, k)
				writeField(h, v)
				return nil
			})
		})
	})
	return h.Sum(nil), err
}

// writeField writes b with its length, so that no two different sequences
// of fields hash the same.
func writeField(h interface{ Write([]byte) (int, error) }, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
