package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"posd/api/client"
	"posd/cmd/internal/posdproc"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// TestMeasureBackup measures backup and verify on a large database and the
// longest write stall while a backup runs under a sales load. It is the
// slow suite behind "make measure-backup" and runs only when
// POSD_MEASURE_SALES is set:
//
//	POSD_MEASURE_SALES=1000000 POSD_MEASURE_DIR=/tmp/posd-1m \
//	    go test -run TestMeasureBackup -v -timeout 2h ./cmd/posd
//
// It builds the database through engine.Service (64 concurrent writers,
// group commit), unless POSD_MEASURE_DIR already holds one with that many
// sales, then times posd backup and posd verify on it, offline; then it
// starts posd serve on it, keeps 8 tills selling through the API, runs
// posd backup through the running posd, and reports per-request latency
// before and during the backup.
func TestMeasureBackup(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("POSD_MEASURE_SALES"))
	if n <= 0 {
		t.Skip("set POSD_MEASURE_SALES (make measure-backup) to run")
	}
	dir := os.Getenv("POSD_MEASURE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	out := t.TempDir()
	ctx := context.Background()
	token := buildLarge(t, dir, n)
	db, _ := os.Stat(filepath.Join(dir, dbFile))
	t.Logf("database: %d sales, %d bytes", n, db.Size())

	timed := func(args ...string) time.Duration {
		start := time.Now()
		stdout, stderr, code := posd(t, args...)
		d := time.Since(start)
		if code != 0 {
			t.Fatalf("posd %v: %d\n%s%s", args, code, stdout, stderr)
		}
		t.Logf("posd %v: %v\n%s", args, d.Round(time.Millisecond), stdout)
		return d
	}
	if os.Getenv("POSD_MEASURE_ONLINE_ONLY") == "" {
		offline := filepath.Join(out, "offline.db")
		timed("backup", "--data-dir", dir, "--out", offline)
		timed("verify", offline)
		os.Remove(offline)
	}

	// Under load: tills sell through the API while posd backup runs
	// through the running posd. serve's log goes to a file, for the time
	// the snapshot itself took.
	addr := freePort(t)
	logPath := filepath.Join(out, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := posdproc.Start(posdproc.Options{Bin: posdBin, Args: posdproc.ServeArgs(dir, addr, "--backup-every", "0"), Addr: addr, Stderr: logFile, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Kill)
	if err := srv.WaitHealthy(30 * time.Second); err != nil {
		t.Fatalf("serve did not answer: %v", err)
	}
	c := client.New("http://"+addr, token)
	c.Retry = &client.NoRetry
	req := saleRequestFor(t, c)
	type sample struct {
		at  time.Time
		dur time.Duration
	}
	var mu sync.Mutex
	var samples []sample
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				_, err := c.CreateSale(ctx, "", req)
				d := time.Since(start)
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				samples = append(samples, sample{start, d})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(5 * time.Second)
	bStart := time.Now()
	online := filepath.Join(out, "online.db")
	timed("backup", "--data-dir", dir, "--out", online)
	bEnd := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	srv.Stop(10 * time.Second)
	logFile.Close()
	if b, err := os.ReadFile(logPath); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "snapshot") {
				t.Logf("serve: %s", line)
			}
		}
	}
	slices.SortFunc(samples, func(a, b sample) int { return int(b.dur - a.dur) })
	for _, x := range samples[:min(5, len(samples))] {
		t.Logf("slow sale: %v, started %v after the backup began", x.dur.Round(time.Millisecond), x.at.Sub(bStart).Round(time.Millisecond))
	}

	stats := func(name string, from, to time.Time) {
		var ds []time.Duration
		for _, x := range samples {
			if !x.at.Before(from) && x.at.Before(to) {
				ds = append(ds, x.dur)
			}
		}
		if len(ds) == 0 {
			t.Logf("%s: no requests", name)
			return
		}
		slices.Sort(ds)
		q := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
		t.Logf("%s: %d sales in %v (%.0f/s); latency p50 %v, p99 %v, max %v", name, len(ds), to.Sub(from).Round(time.Millisecond),
			float64(len(ds))/to.Sub(from).Seconds(), q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond), ds[len(ds)-1].Round(time.Microsecond))
	}
	stats("before the backup", bStart.Add(-4*time.Second), bStart)
	stats("during the backup", bStart, bEnd)
	stats("after the backup", bEnd, bEnd.Add(2*time.Second))
	if f := failed.Load(); f > 0 {
		t.Errorf("%d sales failed during the measurement", f)
	}
}

// buildLarge makes (or reuses) a database of n sales in dir and returns
// an owner token for it.
func buildLarge(t *testing.T, dir string, n int) string {
	t.Helper()
	ctx := context.Background()
	tokFile := filepath.Join(dir, "measure-owner-token")
	st, err := boltstore.Open(filepath.Join(dir, dbFile), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := engine.NewService(st)
	if tok, err := os.ReadFile(tokFile); err == nil {
		if a, err := svc.Authenticate(ctx, string(tok)); err == nil {
			if page, _, err := svc.Sales(ctx, a, engine.SaleFilter{Limit: 1, Newest: true}); err == nil && len(page) == 1 {
				if _, last, _ := engine.ParseNumber(page[0].InvoiceNumber); int(last) >= n {
					t.Logf("reusing the database in %s", dir)
					return string(tok)
				}
			}
		}
		t.Fatalf("%s holds another database; remove it or use another POSD_MEASURE_DIR", dir)
	}
	shop := storetest.NewShop(t, svc, "UTC")
	biz, owner, secret, in := shop.Business, shop.Owner, shop.OwnerToken, shop.OneApple()
	// One instant for all: one numbering series, 1..n, whatever the date.
	now := time.Now()
	svc.Now = func() time.Time { return now }
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if _, err := svc.CreateSale(ctx, owner, engine.IdempotencyKey(fmt.Sprintf("measure-%d", i)), in); err != nil {
					t.Error(err)
					return
				}
				if i%100000 == 0 {
					t.Logf("%d sales written (%v)", i, time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	st.Close()
	t.Logf("built %d sales for business %s in %v", n, biz.ID, time.Since(start).Round(time.Second))
	if err := os.WriteFile(tokFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	return secret
}

// saleRequestFor finds the product and location of the measured shop.
func saleRequestFor(t *testing.T, c *client.Client) client.SaleRequest {
	ctx := context.Background()
	locs, err := c.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := c.Products(ctx, false)
	if err != nil || len(ps) == 0 {
		t.Fatal(err)
	}
	return client.SaleRequest{LocationID: locs[0].ID, Items: []client.SaleLine{{ProductID: ps[0].ID, Quantity: engine.Q(1)}},
		Payments: []engine.Payment{{Method: "cash", Amount: ps[0].Price}}}
}
