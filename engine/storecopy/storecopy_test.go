package storecopy_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storecopy"
	"posd/engine/storetest"
)

func open(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCopyAndCompare copies a store and finds the copy the same; then each
// kind of damage to the copy is named.
func TestCopyAndCompare(t *testing.T) {
	ctx := context.Background()
	src := open(t)
	storetest.Fill(t, src)
	dst := open(t)
	figs, err := storecopy.Copy(ctx, src, dst, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if figs.Sales != 16 || figs.Businesses != 2 {
		t.Errorf("copied %v", figs)
	}
	rep, err := storecopy.Compare(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Same() {
		t.Fatalf("a fresh copy differs: %v", rep.Findings)
	}
	for _, k := range []string{"business", "sale", "movement", "number", "idempotency record", "token", "stock level", "series", "return", "receipt", "transfer", "adjustment", "location", "product",
		"chain head", "pairing", "till status", "product import", "cashier", "approval", "shift", "Z report"} {
		if rep.Counts[k][0] == 0 {
			t.Errorf("nothing of kind %q compared", k)
		}
	}
	var biz string
	src.View(ctx, func(tx engine.Tx) error {
		bs, _ := tx.Businesses()
		biz = bs[0].ID
		return nil
	})
	damage := []struct {
		name, want string
		fn         func(tx engine.Tx) error
	}{
		{"changed sale", "differs", func(tx engine.Tx) error {
			page, _, _ := tx.Sales(biz, engine.SaleFilter{Limit: 1})
			page[0].Total++
			return tx.PutSale(page[0])
		}},
		{"extra number", "in the target only", func(tx engine.Tx) error {
			return tx.ClaimNumber(biz, "INV-209912-0001", engine.DocRef{Kind: engine.KindSale, ID: "x"})
		}},
		{"counter", "series", func(tx engine.Tx) error { _, err := tx.NextNumber(biz, "INV-202611"); return err }},
		{"cashier's PIN", "cashier", func(tx engine.Tx) error {
			cs, _ := tx.Cashiers(biz)
			cs[0].PIN[0]++
			return tx.PutCashier(cs[0])
		}},
		{"extra movement", "movement", func(tx engine.Tx) error {
			return tx.AddMovement(&engine.Movement{BusinessID: biz, LocationID: "l", ProductID: "p", Quantity: 1})
		}},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			dst := open(t)
			if _, err := storecopy.Copy(ctx, src, dst, 0, nil); err != nil {
				t.Fatal(err)
			}
			if err := dst.Update(ctx, d.fn); err != nil {
				t.Fatal(err)
			}
			rep, err := storecopy.Compare(ctx, src, dst)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Same() || !strings.Contains(strings.Join(rep.Findings, "\n"), d.want) {
				t.Errorf("damage %q: findings %v, want one with %q", d.name, rep.Findings, d.want)
			}
		})
	}
}
