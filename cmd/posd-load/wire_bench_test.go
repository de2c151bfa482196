//go:build linux

package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"posd/api"
	"posd/engine"
	"posd/engine/boltstore"
)

// The wire benchmarks measure posd's whole server path for POST /api/sales
// as wrk drives it: the real handler under api.HTTPServer on a loopback TCP
// listener, over a real store with fsync, fed by the load generator's own
// light HTTP client (rawConn) on keep-alive connections, every sale with a
// fresh key. They are for A/B comparisons of the server's cost where wrk
// figures are too noisy: CPU µs per sale (process CPU time, client
// included), allocations, and under callgrind instructions per sale
// (cmd/posd-load/instructions.sh ./cmd/posd-load 'WireSale64$').

func BenchmarkWireSale1(b *testing.B)  { wireSale(b, 1) }
func BenchmarkWireSale64(b *testing.B) { wireSale(b, 64) }

func wireSale(b *testing.B, conns int) {
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	svc := engine.NewService(st)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := api.HTTPServer(ln.Addr().String(), api.NewServer(svc, api.Options{}))
	go hs.Serve(ln)
	b.Cleanup(func() {
		hs.Close()
		st.Close()
	})
	url := "http://" + ln.Addr().String()
	_, _, secret, err := svc.CreateBusiness(context.Background(), engine.BusinessInput{Name: "Wire", Timezone: "UTC", Currency: "EUR"})
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{URL: url, Token: secret, Tills: 1, Products: 200}
	cfg.defaults()
	s, err := setup(context.Background(), &cfg, newHTTPClient(1, time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i], _ = saleBody(rng, s, 3)
	}
	hdr := func(key string) [][2]string {
		return [][2]string{{"Content-Type", "application/json"}, {"Idempotency-Key", key}, {"Authorization", "Bearer " + s.tills[0]}}
	}
	cs := make([]*rawConn, conns)
	for i := range cs {
		if cs[i], err = newRawConn(url, time.Minute); err != nil {
			b.Fatal(err)
		}
		defer cs[i].close()
		var buf bytes.Buffer
		if a, err := cs[i].do("GET", "/api/health", nil, nil, &buf); err != nil || a.status != http.StatusOK {
			b.Fatal(a, err)
		}
	}
	var n, failed atomic.Int64
	var wg sync.WaitGroup
	before := st.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := selfCPU()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for {
				i := n.Add(1)
				if i > int64(b.N) {
					return
				}
				a, err := c.do("POST", "/api/sales", hdr("w"+strconv.FormatInt(i, 10)), bodies[i%int64(len(bodies))], &buf)
				if err != nil || a.status != http.StatusCreated {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((selfCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	if after := st.Stats(); after.Commits > before.Commits {
		b.ReportMetric(float64(after.Operations-before.Operations)/float64(after.Commits-before.Commits), "sales/commit")
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d sales failed", f, b.N)
	}
}
