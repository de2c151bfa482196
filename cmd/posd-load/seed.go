//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"posd/engine"
	"posd/engine/boltstore"
)

// seedInfo is what seed leaves in DIR/seed.json: the business it filled
// and its owner token, so that later runs can use the data.
type seedInfo struct {
	BusinessID string  `json:"businessId"`
	LocationID string  `json:"locationId"`
	OwnerToken string  `json:"ownerToken"`
	Sales      int     `json:"sales"`
	Seconds    float64 `json:"seconds"`
	DBBytes    int64   `json:"dbBytes"`
}

func seedInfoPath(dir string) string { return filepath.Join(dir, "seed.json") }

func readSeedInfo(dir string) (*seedInfo, error) {
	b, err := os.ReadFile(seedInfoPath(dir))
	if err != nil {
		return nil, err
	}
	var s seedInfo
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", "--data-dir DIR [--sales 1000000] [--products 200] [--workers 256] [--span 8760h]", stderr)
	dir := fs.String("data-dir", "", "data directory to fill (posd must not be running on it)")
	sales := fs.Int("sales", 1_000_000, "sales to create")
	products := fs.Int("products", 200, "products of the business")
	workers := fs.Int("workers", 256, "concurrent writers (they share commits)")
	span := fs.Duration("span", 365*24*time.Hour, "the sales' dates are spread over this span, ending two days ago, so that their full idempotency answers have expired and are swept, as in a shop that has run for a year")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usageError{"--data-dir is required"}
	}
	info, err := seed(ctx, *dir, *sales, *products, *workers, *span, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d sales into %s in %.0f s (%.0f sales/s); database %.0f MiB; owner token in %s\n",
		info.Sales, *dir, info.Seconds, float64(info.Sales)/info.Seconds, float64(info.DBBytes)/(1<<20), seedInfoPath(*dir))
	return nil
}

// seed fills dir with a new business and n sales. It runs the engine
// in-process on the bbolt store (not over HTTP), with many concurrent
// writers so that commits are shared: the same engine.Service.CreateSale
// the API calls, minus the network. The clock is set in the past and the
// expired idempotency answers are swept at the end, as posd serve's sweeper
// would have done over the year.
func seed(ctx context.Context, dir string, n, nProducts, workers int, span time.Duration, progress io.Writer) (*seedInfo, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := boltstore.Open(filepath.Join(dir, "posd.db"), boltstore.Options{LockTimeout: 2 * time.Second})
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, fmt.Errorf("%s is in use: stop posd first", dir)
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	svc := engine.NewService(st)
	begin := time.Now()
	first := begin.Add(-span - 48*time.Hour)
	step := span / time.Duration(max(n, 1))
	// The clock follows the number of sales begun, so the last one is
	// dated at the end of the span (the microsecond ticks keep it moving
	// between sales, as the engine wants, and add at most seconds).
	var next, ticks atomic.Int64
	svc.Now = func() time.Time {
		return first.Add(time.Duration(min(next.Load(), int64(n)))*step + time.Duration(ticks.Add(1))*time.Microsecond)
	}

	biz, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "Seeded shop", Timezone: "UTC", Currency: "EUR"})
	if err != nil {
		return nil, err
	}
	owner, err := svc.Authenticate(ctx, secret)
	if err != nil {
		return nil, err
	}
	var products []string
	for i := range nProducts {
		out, err := svc.CreateProduct(ctx, owner, engine.IdempotencyKey(uuid.NewString()), engine.ProductInput{
			SKU: fmt.Sprintf("SEED-%05d", i), Name: fmt.Sprintf("Seeded product %d", i), Price: json.RawMessage(strconv.Itoa(100 + (i*37)%900)), TaxRate: json.RawMessage("20")})
		if err != nil {
			return nil, err
		}
		products = append(products, out.Doc.ID)
	}
	var done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	ticker := time.NewTicker(10 * time.Second)
	defer ticker.Stop()
	stopProgress := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopProgress:
				return
			case <-ticker.C:
				d := done.Load()
				fmt.Fprintf(progress, "seed: %d/%d sales, %.0f/s\n", d, n, float64(d)/time.Since(begin).Seconds())
			}
		}
	}()
	// Sweep as posd serve does, by the seed's clock, so that the pages of
	// expired answers are reused by later sales: the file and its freelist
	// end up as a year of serving leaves them, not holding a year of
	// answers freed at once.
	sweepDone := make(chan error, 1)
	go func() {
		var err error
		for next.Load() < int64(n) && err == nil {
			select {
			case <-stopProgress:
				sweepDone <- nil
				return
			case <-time.After(200 * time.Millisecond):
			}
			_, err = svc.SweepIdempotency(ctx, 1000)
		}
		sweepDone <- err
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(begin.UnixNano())))
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				in := engine.SaleInput{LocationID: loc.ID, Payments: []engine.PaymentInput{{Method: "cash", Amount: json.RawMessage("100000")}}}
				for range 3 {
					in.Items = append(in.Items, engine.SaleItemInput{ProductID: products[rng.IntN(len(products))], Quantity: json.RawMessage(strconv.Itoa(1 + rng.IntN(3)))})
				}
				if _, err := svc.CreateSale(ctx, owner, engine.IdempotencyKey(uuid.NewString()), in); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stopProgress)
	if err := <-sweepDone; err != nil && firstErr == nil {
		firstErr = fmt.Errorf("sweeping: %w", err)
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, fmt.Errorf("after %d sales: %w", done.Load(), firstErr)
	}
	svc.Now = time.Now
	swept, err := svc.SweepIdempotency(ctx, 5000)
	if err != nil {
		return nil, fmt.Errorf("sweeping the expired answers: %w", err)
	}
	fmt.Fprintf(progress, "seed: %d sales in %.0f s; swept %d expired answers\n", done.Load(), time.Since(begin).Seconds(), swept)
	info := &seedInfo{BusinessID: biz.ID, LocationID: loc.ID, OwnerToken: secret, Sales: int(done.Load()), Seconds: time.Since(begin).Seconds()}
	if fi, err := os.Stat(st.Path()); err == nil {
		info.DBBytes = fi.Size()
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(seedInfoPath(dir), b, 0o600); err != nil {
		return nil, err
	}
	return info, nil
}
