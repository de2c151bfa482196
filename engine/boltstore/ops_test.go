package boltstore_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// newSeller is the test shop on s, ready to sell one apple after another
// through the engine.
func newSeller(t testing.TB, s *boltstore.Store) *storetest.Shop {
	t.Helper()
	return storetest.NewShop(t, engine.NewService(s), "UTC")
}

// TestVerifyFindsStockMismatch: a stock level changed behind the ledger's
// back (as a damaged file or a bug would) is a finding.
func TestVerifyFindsStockMismatch(t *testing.T) {
	s := mustOpen(t)
	defer s.Close()
	sl := newSeller(t, s)
	if _, err := sl.Service.CreateSale(context.Background(), sl.Owner, "k", sl.OneApple()); err != nil {
		t.Fatal(err)
	}
	if findings := s.CheckIntegrity(context.Background()); len(findings) != 0 {
		t.Fatalf("integrity of a sound file: %v", findings)
	}
	err := s.DB().Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("stock"))
		k, _ := b.Cursor().First()
		v := make([]byte, 8)
		v[7] = 42
		return b.Put(bytes.Clone(k), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sl.Service.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stock := rep.Checks[3]
	if len(stock.Findings) != 1 || !strings.Contains(stock.Findings[0], "stock 0.042, movements add up to -1") {
		t.Errorf("stock check: %+v", stock)
	}
	if rep.Findings() != 1 {
		t.Errorf("findings: got %d, want 1", rep.Findings())
	}
	// A missing bucket is a storage finding.
	s.DB().Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("idem_exp")) })
	if f := s.CheckIntegrity(context.Background()); len(f) != 1 || !strings.Contains(f[0].Error(), "idem_exp") {
		t.Errorf("missing bucket: %v", f)
	}
}

// TestSweepLargeUnderWrites sweeps many expired idempotency answers while
// tills keep selling: the sweep goes in small transactions that share the
// writer with the sales (each call drops at most its limit), sales go on
// completing between them, every expired answer is dropped and every
// record and sale is kept.
func TestSweepLargeUnderWrites(t *testing.T) {
	s := mustOpen(t)
	defer s.Close()
	ctx := context.Background()
	sl := newSeller(t, s)
	// records counts the business's idempotency records, and those among
	// the old ones that still hold their answer.
	records := func() (n, withBody int) {
		t.Helper()
		err := engine.Scan(ctx, s, func(tx engine.ScanTx) error {
			return tx.Idempotencies(sl.Business.ID, func(r *engine.IdempotencyRecord) error {
				n++
				if strings.HasPrefix(r.Key, "old-") && r.Answer != nil {
					withBody++
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, withBody
	}
	shopRecords, _ := records() // the shop's own writes
	// One instant for every sale: one numbering series whatever the date,
	// and answers that stay fresh during the test.
	base := time.Now()
	sl.Service.Now = func() time.Time { return base }
	const expired, chunk = 20000, 1000
	old := time.Now().Add(-48 * time.Hour)
	answer := &engine.Location{ID: "x", Name: strings.Repeat("answer ", 40), CreatedAt: old}
	for i := 0; i < expired; i += chunk {
		err := s.Update(ctx, func(tx engine.Tx) error {
			for j := i; j < i+chunk; j++ {
				err := tx.PutIdempotency(&engine.IdempotencyRecord{BusinessID: sl.Business.ID, Key: fmt.Sprintf("old-%06d", j), Op: "location.create",
					Answer: answer, Version: engine.AnswerVersion, Doc: engine.DocRef{Kind: engine.KindLocation, ID: "x"}, CreatedAt: old, ExpiresAt: old.Add(24 * time.Hour)})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	var sold atomic.Int64
	var maxLatency atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				_, err := sl.Service.CreateSale(ctx, sl.Owner, engine.IdempotencyKey(fmt.Sprintf("new-%d-%d", w, i)), sl.OneApple())
				if err != nil {
					t.Error(err)
					return
				}
				if d := int64(time.Since(start)); d > maxLatency.Load() {
					maxLatency.Store(d)
				}
				sold.Add(1)
			}
		}()
	}
	const limit = 256
	calls, dropped, duringSweep := 0, 0, int64(0)
	soldBefore := sold.Load()
	sweepStart := time.Now()
	for {
		n, err := s.SweepIdempotency(ctx, time.Now(), limit)
		if err != nil {
			t.Fatal(err)
		}
		if n > limit {
			t.Fatalf("one sweep call dropped %d answers, more than its limit %d", n, limit)
		}
		calls++
		dropped += n
		if n < limit {
			break
		}
	}
	sweepTook := time.Since(sweepStart)
	duringSweep = sold.Load() - soldBefore
	close(stop)
	wg.Wait()
	t.Logf("swept %d answers in %d transactions in %v while %d sales completed; longest sale %v (shared CPU, not asserted)",
		dropped, calls, sweepTook, duringSweep, time.Duration(maxLatency.Load()))
	if dropped != expired {
		t.Errorf("dropped %d, want %d", dropped, expired)
	}
	if calls < expired/limit {
		t.Errorf("%d sweep transactions for %d answers: the sweep is not in small batches", calls, expired)
	}
	if duringSweep == 0 {
		t.Error("no sale completed during the sweep: the sweep held the writer")
	}
	// Every old record keeps its key-to-document link, without its body;
	// every new sale is there with its record.
	n, withBody := records()
	if withBody != 0 {
		t.Errorf("%d expired answers left", withBody)
	}
	if want := shopRecords + expired + int(sold.Load()); n != want {
		t.Errorf("records: got %d, want %d", n, want)
	}
	page, _, err := sl.Service.Sales(ctx, sl.Owner, engine.SaleFilter{Limit: 1, Newest: true})
	if err != nil || len(page) != 1 {
		t.Fatal(err)
	}
	if _, n, _ := engine.ParseNumber(page[0].InvoiceNumber); n != uint64(sold.Load()) {
		t.Errorf("last invoice %s, want number %d", page[0].InvoiceNumber, sold.Load())
	}
}
