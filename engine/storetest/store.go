package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"posd/engine"
)

func testUpdateIsAtomic(t testing.TB, open Opener) {
	st := open(t)
	defer st.Close()
	ctx := context.Background()
	now := time.Now().UTC()
	boom := errors.New("boom")
	err := st.Update(ctx, func(tx engine.Tx) error {
		if err := tx.PutBusiness(&engine.Business{ID: "b1", Name: "x", Timezone: "UTC", Currency: "EUR", CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.PutLocation(&engine.Location{ID: "l1", BusinessID: "b1", Name: "Main"}); err != nil {
			return err
		}
		if n, err := tx.NextNumber("b1", "INV-202611"); err != nil || n != 1 {
			t.Errorf("NextNumber of a new series: got %d, %v; want 1", n, err)
		}
		if n, err := tx.NextNumber("b1", "INV-202611"); err != nil || n != 2 {
			t.Errorf("NextNumber again in the same transaction: got %d, %v; want 2", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update: got %v, want boom", err)
	}
	err = st.View(ctx, func(tx engine.Tx) error {
		if _, err := tx.Business("b1"); !engine.IsNotFound(err) {
			t.Errorf("business after failed update: got %v, want not found", err)
		}
		if _, err := tx.Location("b1", "l1"); !engine.IsNotFound(err) {
			t.Errorf("location after failed update: got %v, want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := lastNumber(t, st, "b1", "INV-202611"); n != 0 {
		t.Errorf("counter after failed update: got %d, want 0", n)
	}
	// A panic is an error for that update only.
	err = st.Update(ctx, func(tx engine.Tx) error {
		_, _ = tx.NextNumber("b1", "INV-202611")
		panic("bug")
	})
	if err == nil {
		t.Fatal("Update with panic: got nil error")
	}
	if n := lastNumber(t, st, "b1", "INV-202611"); n != 0 {
		t.Errorf("counter after panicking update: got %d, want 0", n)
	}
	// The counter advances across transactions, one by one.
	for want := uint64(1); want <= 3; want++ {
		var n uint64
		err := st.Update(ctx, func(tx engine.Tx) error {
			var err error
			n, err = tx.NextNumber("b1", "INV-202611")
			return err
		})
		if err != nil || n != want {
			t.Errorf("NextNumber: got %d, %v; want %d", n, err, want)
		}
	}
	st.View(ctx, func(tx engine.Tx) error {
		if _, err := tx.NextNumber("b1", "x"); err == nil {
			t.Error("NextNumber in View: got nil error")
		}
		return nil
	})
}

func testReadsSeeOwnWrites(t testing.TB, open Opener) {
	st := open(t)
	defer st.Close()
	ctx := context.Background()
	err := st.Update(ctx, func(tx engine.Tx) error {
		for _, id := range []string{"l2", "l1", "l3"} {
			if err := tx.PutLocation(&engine.Location{ID: id, BusinessID: "b", Name: id}); err != nil {
				return err
			}
		}
		if _, err := tx.Location("b", "l2"); err != nil {
			t.Errorf("Location in same tx: %v", err)
		}
		ls, err := tx.Locations("b")
		if err != nil || len(ls) != 3 || ls[0].ID != "l1" || ls[2].ID != "l3" {
			t.Errorf("Locations in same tx: got %d (%v), want l1,l2,l3", len(ls), err)
		}
		if err := tx.AddMovement(&engine.Movement{BusinessID: "b", LocationID: "l1", ProductID: "p", Quantity: engine.Q(5)}); err != nil {
			return err
		}
		if err := tx.AddMovement(&engine.Movement{BusinessID: "b", LocationID: "l1", ProductID: "p", Quantity: -engine.Q(2)}); err != nil {
			return err
		}
		if q, _ := tx.Stock("b", "l1", "p"); q != engine.Q(3) {
			t.Errorf("Stock in same tx: got %s, want 3", q)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A later update sees the earlier one's writes, and so does a view.
	err = st.Update(ctx, func(tx engine.Tx) error {
		if q, _ := tx.Stock("b", "l1", "p"); q != engine.Q(3) {
			t.Errorf("Stock in next tx: got %s, want 3", q)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = engine.Scan(ctx, st, func(tx engine.ScanTx) error {
		n := 0
		err := tx.Movements("b", func(m *engine.Movement) error { n++; return nil })
		if n != 2 {
			t.Errorf("movements: got %d, want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testFailedUpdateIsolated runs many concurrent updates, every third of which
// fails after writing: the writes of a failed one never land, and the others
// each commit exactly once (a store may run an fn more than once, so what is
// counted is what committed, not how often fn ran).
func testFailedUpdateIsolated(t testing.TB, open Opener) {
	st := open(t)
	defer st.Close()
	ctx := context.Background()
	const n = 300
	var runs [n]atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := st.Update(ctx, func(tx engine.Tx) error {
				runs[i].Add(1)
				m := &engine.Movement{BusinessID: "b", LocationID: "l", ProductID: "p", Quantity: engine.Q(1), Doc: engine.DocRef{Kind: engine.KindAdjustment, ID: strconv.Itoa(i)}}
				if err := tx.AddMovement(m); err != nil {
					return err
				}
				if i%3 == 0 {
					return engine.Errorf(engine.EINVALID, "refused")
				}
				return nil
			})
			if (i%3 == 0) != (err != nil) {
				t.Errorf("update %d: err %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	for i := range runs {
		if runs[i].Load() == 0 {
			t.Errorf("update %d never ran", i)
		}
	}
	committed := map[string]int{}
	engine.Scan(ctx, st, func(tx engine.ScanTx) error {
		want := engine.Q(n - (n+2)/3)
		if q, _ := tx.Stock("b", "l", "p"); q != want {
			t.Errorf("stock: got %s, want %s", q, want)
		}
		return tx.Movements("b", func(m *engine.Movement) error { committed[m.Doc.ID]++; return nil })
	})
	for i := 0; i < n; i++ {
		want := 1
		if i%3 == 0 {
			want = 0
		}
		if got := committed[strconv.Itoa(i)]; got != want {
			t.Errorf("update %d committed %d times, want %d", i, got, want)
		}
	}
}

func testUniqueness(t testing.TB, open Opener) {
	st := open(t)
	defer st.Close()
	ctx := context.Background()
	ref := engine.DocRef{Kind: engine.KindSale, ID: "s1"}
	if err := st.Update(ctx, func(tx engine.Tx) error { return tx.ClaimNumber("b", "INV-202611-0001", ref) }); err != nil {
		t.Fatal(err)
	}
	err := st.Update(ctx, func(tx engine.Tx) error {
		return tx.ClaimNumber("b", "INV-202611-0001", engine.DocRef{Kind: engine.KindSale, ID: "s2"})
	})
	if !errors.Is(err, engine.ErrDuplicateNumber) {
		t.Errorf("second claim: got %v, want ErrDuplicateNumber", err)
	}
	// Another business may use the same number.
	if err := st.Update(ctx, func(tx engine.Tx) error { return tx.ClaimNumber("c", "INV-202611-0001", ref) }); err != nil {
		t.Errorf("claim in another business: %v", err)
	}
	rec := &engine.IdempotencyRecord{BusinessID: "b", Key: "k", Op: "sale.create", Doc: engine.DocRef{Kind: engine.KindLocation, ID: "l"},
		Answer: &engine.Location{ID: "l", Name: "Main", BusinessID: "b"}, Version: engine.AnswerVersion, ExpiresAt: time.Now().Add(time.Hour)}
	if err := st.Update(ctx, func(tx engine.Tx) error { return tx.PutIdempotency(rec) }); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, func(tx engine.Tx) error { return tx.PutIdempotency(rec) }); !errors.Is(err, engine.ErrDuplicateKey) {
		t.Errorf("second record: got %v, want ErrDuplicateKey", err)
	}
	engine.Scan(ctx, st, func(tx engine.ScanTx) error {
		got, _ := tx.NumberOwner("b", "INV-202611-0001")
		if got != ref {
			t.Errorf("number owner: got %v, want %v", got, ref)
		}
		r, err := tx.Idempotency("b", "k")
		if err != nil {
			t.Fatalf("idempotency record: %v", err)
		}
		if l, ok := r.Answer.(*engine.Location); r.Doc != rec.Doc || r.Version != engine.AnswerVersion || !ok || l.ID != "l" || l.Name != "Main" {
			t.Errorf("idempotency record: got %+v (answer %#v); want %+v", r, r.Answer, rec)
		}
		return nil
	})
}

func testTenantIsolation(t testing.TB, open Opener) {
	a := newShop(t, open, "UTC")
	b := addShop(t, a.svc, a.clock, "UTC")
	ctx := context.Background()
	sale := a.sale(t, a.key(), "1")
	if _, err := b.svc.Sale(ctx, b.owner, sale.ID); !engine.IsNotFound(err) {
		t.Errorf("other business's sale: got %v, want not found", err)
	}
	// Referencing another business's location or product is not found too.
	in := a.saleInput("1")
	_, err := b.svc.CreateSale(ctx, b.owner, b.key(), in)
	wantCode(t, err, engine.ENOTFOUND)
	in.LocationID = b.loc
	_, err = b.svc.CreateSale(ctx, b.owner, b.key(), in)
	wantCode(t, err, engine.ENOTFOUND)
	if _, err := b.svc.StockLevels(ctx, b.owner, a.loc); !engine.IsNotFound(err) {
		t.Errorf("other business's stock: got %v, want not found", err)
	}
	ps, _ := b.svc.Products(ctx, b.owner, true)
	for _, p := range ps {
		if p.ID == a.apple {
			t.Error("product list shows another business's product")
		}
	}
	// The same key in two businesses makes two documents.
	k := engine.IdempotencyKey("shared-key")
	s1 := a.sale(t, k, "1")
	out, err := b.svc.CreateSale(ctx, b.owner, k, b.saleInput("1"))
	if err != nil || out.Replayed {
		t.Fatalf("same key in other business: %v replayed=%v", err, out != nil && out.Replayed)
	}
	if s1.ID == out.Doc.ID {
		t.Error("same key in two businesses gave one document")
	}
}
