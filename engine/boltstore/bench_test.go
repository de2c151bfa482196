//go:build unix

package boltstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// benchShop is a business with a location and benchProducts products on a
// fresh store, for the write-path benchmarks.
type benchShop struct {
	st       *boltstore.Store
	svc      *engine.Service
	owner    *engine.Actor
	loc      string
	products []string
}

const benchProducts = 200

func newBenchShop(b *testing.B) *benchShop { return newBenchShopWith(b, boltstore.Options{}) }

func newBenchShopWith(b *testing.B, o boltstore.Options) *benchShop {
	b.Helper()
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "posd.db"), o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if os.Getenv("POSD_BENCH_NOSYNC") == "1" {
		st.SetNoSyncForCPUCount()
	}
	shop := storetest.NewShop(b, engine.NewService(st), "Europe/Berlin")
	svc, owner := shop.Service, shop.Owner
	ctx := context.Background()
	s := &benchShop{st: st, svc: svc, owner: owner, loc: shop.Location}
	for i := range benchProducts {
		out, err := svc.CreateProduct(ctx, owner, shop.Key(), engine.ProductInput{
			SKU: fmt.Sprintf("SKU%04d", i), Name: fmt.Sprintf("Product %d", i), Price: json.RawMessage(strconv.Itoa(100 + i)), TaxRate: json.RawMessage("20")})
		if err != nil {
			b.Fatal(err)
		}
		s.products = append(s.products, out.Doc.ID)
	}
	return s
}

// sale is the n-th sale of the load's mix: three lines, paid by card.
func (s *benchShop) sale(n int) engine.SaleInput {
	in := engine.SaleInput{LocationID: s.loc, Payments: []engine.PaymentInput{{Method: "cash", Amount: json.RawMessage("100000")}}}
	for j := range 3 {
		in.Items = append(in.Items, engine.SaleItemInput{ProductID: s.products[(n*3+j*7)%len(s.products)], Quantity: json.RawMessage(strconv.Itoa(1 + j))})
	}
	return in
}

// run creates b.N sales with par×GOMAXPROCS writers (0: one writer) and
// reports how many sales shared each commit.
func (s *benchShop) run(b *testing.B, par int) {
	ctx := context.Background()
	var n atomic.Int64
	before := s.st.Stats()
	dbBefore := s.st.DB().Stats().TxStats
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	one := func() {
		i := int(n.Add(1))
		if _, err := s.svc.CreateSale(ctx, s.owner, engine.IdempotencyKey("k"+strconv.Itoa(i)), s.sale(i)); err != nil {
			b.Error(err)
		}
	}
	if par == 0 {
		for range b.N {
			one()
		}
	} else {
		b.SetParallelism(par)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one()
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	after := s.st.Stats()
	dbAfter := s.st.DB().Stats().TxStats
	b.ReportMetric(float64(dbAfter.GetPageAlloc()-dbBefore.GetPageAlloc())/float64(b.N), "page-B/op")
	b.ReportMetric(float64(dbAfter.GetWrite()-dbBefore.GetWrite())/float64(b.N), "page-writes/op")
	if c := after.Commits - before.Commits; c > 0 {
		b.ReportMetric(float64(after.Operations-before.Operations)/float64(c), "sales/commit")
	}
}

// BenchmarkCreateSale is the engine's write path for one till: validation,
// idempotency lookup, one bbolt transaction with fsync, the answer.
func BenchmarkCreateSale(b *testing.B) {
	newBenchShop(b).run(b, 0)
}

// BenchmarkCreateSaleParallel is the same with 32 writers per CPU sharing
// commits: what group commit is for.
func BenchmarkCreateSaleParallel(b *testing.B) {
	newBenchShop(b).run(b, 32)
}

// BenchmarkCreateSaleGroup32 is BenchmarkCreateSaleParallel with every
// commit of exactly 32 sales (MaxBatch 32, twice as many writers waiting):
// the groups of BenchmarkCreateSaleParallel vary with the scheduling, and
// with them its instruction count (±8 % between runs of the same code
// under callgrind); this one's does not.
func BenchmarkCreateSaleGroup32(b *testing.B) {
	newBenchShopWith(b, boltstore.Options{MaxBatch: 32}).run(b, 64)
}

// cpuTime is the CPU time this process has used, user and system: unlike
// ns/op it barely moves when other programs share the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
