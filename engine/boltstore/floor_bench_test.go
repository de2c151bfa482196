//go:build unix

package boltstore_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
	"posd/engine/boltstore"
)

// floorWrite is one write a sale's operation applied to bbolt.
type floorWrite struct {
	bucket   []byte
	key, val []byte
	del      bool
}

// BenchmarkStorageFloor is the floor of the embedded store's write path:
// bbolt and the kernel alone doing exactly what posd's sales asked of them.
// It records every write b.N real sales applied (the engine and boltstore
// as posd runs them, 64 writers sharing commits), then replays those writes
// with bbolt alone on a copy of the file as it was before the sales: the
// same buckets, keys, values and fill percents, in commits of group sales,
// fsync on. None of posd's own work is in the timed part: no validation,
// numbering, hashing, encoding, overlay or cache. The CPU per sale here
// against BenchmarkCreateSale (group=1) and BenchmarkCreateSaleParallel
// (group=32, about the 31 sales per commit it reaches) is what posd itself
// adds to storage.
func BenchmarkStorageFloor(b *testing.B) {
	for _, group := range []int{1, 32, 64} {
		b.Run(fmt.Sprintf("group=%d", group), func(b *testing.B) {
			s := newBenchShop(b)
			// The file before the sales, to replay them on.
			path := filepath.Join(b.TempDir(), "floor.db")
			if err := s.st.DB().View(func(tx *bolt.Tx) error { return tx.CopyFile(path, 0o600) }); err != nil {
				b.Fatal(err)
			}
			var ops [][]floorWrite
			var cur []floorWrite
			boltstore.RecordApply(func(bucket string, key, val []byte, del bool) {
				if bucket == "" {
					ops, cur = append(ops, cur), nil
					return
				}
				cur = append(cur, floorWrite{[]byte(bucket), bytes.Clone(key), bytes.Clone(val), del})
			})
			// The sales, as BenchmarkCreateSaleParallel makes them, untimed.
			var n atomic.Int64
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					for {
						i := int(n.Add(1))
						if i > b.N {
							return
						}
						if _, err := s.svc.CreateSale(context.Background(), s.owner, engine.IdempotencyKey("k"+strconv.Itoa(i)), s.sale(i)); err != nil {
							b.Error(err)
						}
					}
				})
			}
			wg.Wait()
			boltstore.RecordApply(nil)
			if len(ops) != b.N {
				b.Fatalf("recorded %d operations for %d sales", len(ops), b.N)
			}
			// Replaying the writes on a copy of the file before them must
			// give the file the sales gave: check one value of the last
			// sale.
			db, err := bolt.Open(path, 0o600, boltstore.BoltOptions(path))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			before := db.Stats().TxStats
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < len(ops); i += group {
				err := db.Update(func(tx *bolt.Tx) error {
					for _, op := range ops[i:min(i+group, len(ops))] {
						for _, w := range op {
							bk := tx.Bucket(w.bucket)
							if f, ok := boltstore.FillPercent(string(w.bucket)); ok {
								bk.FillPercent = f
							}
							var err error
							if w.del {
								err = bk.Delete(w.key)
							} else {
								err = bk.Put(w.key, w.val)
							}
							if err != nil {
								return err
							}
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			after := db.Stats().TxStats
			b.ReportMetric(float64(after.GetWrite()-before.GetWrite())/float64(b.N), "page-writes/op")
			writes := 0
			for _, op := range ops {
				writes += len(op)
			}
			b.ReportMetric(float64(writes)/float64(b.N), "puts/op")
			last := ops[len(ops)-1][0]
			err = db.View(func(tx *bolt.Tx) error {
				if got := tx.Bucket(last.bucket).Get(last.key); !last.del && !bytes.Equal(got, last.val) {
					return fmt.Errorf("the replayed file has %q under %s/%q, the sale wrote %q", got, last.bucket, last.key, last.val)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
