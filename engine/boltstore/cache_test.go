package boltstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// TestWriterCacheFollowsWrites: the writer's cache of decoded products never
// hides a change. Reads after a committed write see it, an operation sees
// its own write, a failed operation's write is never seen, and operations
// sharing one commit see each other's writes in order.
func TestWriterCacheFollowsWrites(t *testing.T) {
	s := mustOpen(t)
	defer s.Close()
	ctx := context.Background()
	put := func(tx engine.Tx, price engine.Money) error {
		return tx.PutProduct(&engine.Product{BusinessID: "b", ID: "p", SKU: "P", Name: "P", Price: price})
	}
	price := func(tx engine.Tx) engine.Money {
		p, err := tx.Product("b", "p")
		if err != nil {
			t.Fatal(err)
		}
		return p.Price
	}
	update := func(fn func(tx engine.Tx) error) error { return s.Update(ctx, fn) }
	if err := update(func(tx engine.Tx) error { return put(tx, 100) }); err != nil {
		t.Fatal(err)
	}
	// Read (and cache), write, read own write.
	if err := update(func(tx engine.Tx) error {
		if got := price(tx); got != 100 {
			t.Errorf("first read: got %d, want 100", got)
		}
		if err := put(tx, 200); err != nil {
			return err
		}
		if got := price(tx); got != 200 {
			t.Errorf("read after own write: got %d, want 200", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := update(func(tx engine.Tx) error {
		if got := price(tx); got != 200 {
			t.Errorf("read after commit: got %d, want 200", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A failed operation's write is not seen.
	errFail := errors.New("fail")
	if err := update(func(tx engine.Tx) error {
		put(tx, 999)
		return errFail
	}); !errors.Is(err, errFail) {
		t.Fatalf("failing update: got %v", err)
	}
	if err := update(func(tx engine.Tx) error {
		if got := price(tx); got != 200 {
			t.Errorf("read after failed write: got %d, want 200", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Many operations in shared commits: each raises the price by one
	// after reading it, so any stale read loses an increment.
	const n = 200
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := update(func(tx engine.Tx) error { return put(tx, price(tx)+1) }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.View(ctx, func(tx engine.Tx) error {
		if got := price(tx); got != 200+n {
			t.Errorf("after %d increments: got %d, want %d", n, got, 200+n)
		}
		return nil
	})
	if st := s.Stats(); st.MaxBatch < 2 {
		t.Logf("no commit was shared (largest group %d); the in-group case was not exercised", st.MaxBatch)
	}
}

// TestWriterRawCacheFollowsWrites: the writer's cache of raw counters and
// stock levels never hides a change either: an operation sees its own
// movement, a failed operation's movement and number are never seen, and
// operations sharing commits each see the ones applied before them (any
// stale read loses a unit or repeats a number).
func TestWriterRawCacheFollowsWrites(t *testing.T) {
	s := mustOpen(t)
	defer s.Close()
	ctx := context.Background()
	move := func(tx engine.Tx, q int64) error {
		return tx.AddMovement(&engine.Movement{BusinessID: "b", LocationID: "l", ProductID: "p", Quantity: engine.Q(q), Doc: engine.DocRef{Kind: engine.KindAdjustment, ID: "a"}})
	}
	stock := func(tx engine.Tx) engine.Quantity {
		q, err := tx.Stock("b", "l", "p")
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	update := func(fn func(tx engine.Tx) error) error { return s.Update(ctx, fn) }
	if err := update(func(tx engine.Tx) error { return move(tx, 5) }); err != nil {
		t.Fatal(err)
	}
	if err := update(func(tx engine.Tx) error {
		if got := stock(tx); got != engine.Q(5) {
			t.Errorf("first read: got %v, want 5", got)
		}
		if err := move(tx, 2); err != nil {
			return err
		}
		if got := stock(tx); got != engine.Q(7) {
			t.Errorf("read after own movement: got %v, want 7", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	errFail := errors.New("fail")
	if err := update(func(tx engine.Tx) error {
		move(tx, 100)
		tx.NextNumber("b", "INV-202611")
		return errFail
	}); !errors.Is(err, errFail) {
		t.Fatalf("failing update: got %v", err)
	}
	const n = 200
	numbers := make(chan uint64, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := update(func(tx engine.Tx) error {
				num, err := tx.NextNumber("b", "INV-202611")
				numbers <- num
				if err != nil {
					return err
				}
				return move(tx, -1)
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(numbers)
	seen := map[uint64]bool{}
	for num := range numbers {
		if seen[num] || num < 1 || num > n {
			t.Errorf("number %d handed out twice or out of 1..%d", num, n)
		}
		seen[num] = true
	}
	s.View(ctx, func(tx engine.Tx) error {
		if got, want := stock(tx), engine.Q(7-n); got != want {
			t.Errorf("after %d movements of -1: stock %v, want %v", n, got, want)
		}
		return nil
	})
	if err := update(func(tx engine.Tx) error {
		if got, want := stock(tx), engine.Q(7-n); got != want {
			t.Errorf("writer's read after the commits: stock %v, want %v", got, want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.MaxBatch < 2 {
		t.Logf("no commit was shared (largest group %d); the in-group case was not exercised", st.MaxBatch)
	}
}

// TestWriterCachesKeepChainsWhole: the writer's caches of counters and
// stock stay right beside the chain heads written in the same
// transactions. Sales run in shared commits among operations that advance
// the invoice counter and move a chain head and then fail; afterwards every
// sale has its own number, the series has no gap, every link chains to the
// sale before it, and a store opened afresh (no cache) numbers and chains
// the next sale right after the last one.
func TestWriterCachesKeepChainsWhole(t *testing.T) {
	st := mustOpen(t)
	path := st.Path()
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	svc := engine.NewService(st)
	svc.Now = func() time.Time { return at }
	shop := storetest.NewShop(t, svc, "UTC")
	biz := shop.Business.ID
	series := engine.SeriesOf(engine.PrefixSale, at, shop.Business.Location())
	sale := func(i int) engine.SaleInput {
		p := shop.Apple.ID
		if i%2 == 1 {
			p = shop.Cheese.ID
		}
		return engine.SaleInput{LocationID: shop.Location,
			Items:    []engine.SaleItemInput{{ProductID: p, Quantity: json.RawMessage("1")}},
			Payments: []engine.PaymentInput{{Method: "cash", Amount: json.RawMessage("100000")}}}
	}
	errFail := errors.New("fail")
	const writers, each = 32, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	numbers := map[string]bool{}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if i%3 == 2 {
					// Advances the counter and moves the head, then fails:
					// neither may be seen by anyone after.
					err := st.Update(ctx, func(tx engine.Tx) error {
						if _, err := tx.NextNumber(biz, series); err != nil {
							return err
						}
						if err := tx.SetChainHead(biz, series, engine.ChainHead{Number: 9999, Hash: "not a hash"}); err != nil {
							return err
						}
						return errFail
					})
					if !errors.Is(err, errFail) {
						t.Errorf("failing operation: got %v, want %v", err, errFail)
					}
					continue
				}
				out, err := svc.CreateSale(ctx, shop.Till, shop.Key(), sale(w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if numbers[out.Doc.InvoiceNumber] {
					t.Errorf("number %s given twice", out.Doc.InvoiceNumber)
				}
				numbers[out.Doc.InvoiceNumber] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	verifyClean := func(svc *engine.Service) {
		t.Helper()
		rep, err := svc.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Checks {
			if len(c.Findings) > 0 {
				t.Errorf("verify %q: %v", c.Name, c.Findings)
			}
		}
	}
	verifyClean(svc)
	n := len(numbers)
	for i := 1; i <= n; i++ {
		if num := engine.FormatNumber(series, uint64(i)); !numbers[num] {
			t.Errorf("no sale numbered %s of %d", num, n)
		}
	}
	var head engine.ChainHead
	if err := st.View(ctx, func(tx engine.Tx) (err error) {
		head, err = tx.ChainHead(biz, series)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if head.Number != uint64(n) {
		t.Errorf("chain head at %d, want %d", head.Number, n)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	svc2 := engine.NewService(st2)
	svc2.Now = svc.Now
	out, err := svc2.CreateSale(ctx, shop.Till, shop.Key(), sale(0))
	if err != nil {
		t.Fatal(err)
	}
	if want := engine.FormatNumber(series, uint64(n+1)); out.Doc.InvoiceNumber != want {
		t.Errorf("after reopening: number %s, want %s", out.Doc.InvoiceNumber, want)
	}
	if out.Doc.PreviousHash != head.Hash {
		t.Errorf("after reopening: previous hash %s, want the head's %s", out.Doc.PreviousHash, head.Hash)
	}
	verifyClean(svc2)
}
