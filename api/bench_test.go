//go:build unix

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// benchAPI is the real API on a real listener over a real store, with a
// till client and a few products: the HTTP write path end to end.
type benchAPI struct {
	store    *boltstore.Store
	till     *client.Client
	loc      string
	products []string
}

func newBenchAPI(b *testing.B) *benchAPI {
	b.Helper()
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	svc := engine.NewService(st)
	srv := httptest.NewServer(api.NewServer(svc, api.Options{}))
	b.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	shop := storetest.NewShop(b, svc, "Europe/Berlin")
	ba := &benchAPI{store: st, till: client.New(srv.URL, shop.BoundTillToken), loc: shop.Location}
	ba.till.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	ba.till.Retry = &client.NoRetry
	for i := range 50 {
		out, err := svc.CreateProduct(context.Background(), shop.Owner, shop.Key(), engine.ProductInput{
			SKU: fmt.Sprintf("SKU%03d", i), Name: fmt.Sprintf("Product %d", i), Price: json.RawMessage(strconv.Itoa(100 + i))})
		if err != nil {
			b.Fatal(err)
		}
		ba.products = append(ba.products, out.Doc.ID)
	}
	return ba
}

func (ba *benchAPI) run(b *testing.B, par int) {
	ctx := context.Background()
	var n atomic.Int64
	before := ba.store.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	one := func() {
		i := int(n.Add(1))
		in := client.SaleRequest{LocationID: ba.loc, Payments: []engine.Payment{{Method: engine.MethodCash, Amount: 100_000}}}
		for j := range 3 {
			in.Items = append(in.Items, client.SaleLine{ProductID: ba.products[(i*3+j*7)%len(ba.products)], Quantity: engine.Q(int64(1 + j))})
		}
		if _, err := ba.till.CreateSale(ctx, "k"+strconv.Itoa(i), in); err != nil {
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
	after := ba.store.Stats()
	if c := after.Commits - before.Commits; c > 0 {
		b.ReportMetric(float64(after.Operations-before.Operations)/float64(c), "sales/commit")
	}
}

// BenchmarkHTTPCreateSale is POST /api/sales end to end for one till: the
// Go client, HTTP, auth, decoding, the engine, a commit with fsync.
func BenchmarkHTTPCreateSale(b *testing.B) { newBenchAPI(b).run(b, 0) }

// BenchmarkHTTPCreateSaleParallel is the same with 32 tills per CPU.
func BenchmarkHTTPCreateSaleParallel(b *testing.B) { newBenchAPI(b).run(b, 32) }

// cpuTime is the CPU time this process (client and server) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
