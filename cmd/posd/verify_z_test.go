package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// TestVerifyZReports: posd verify adds every Z of a location up against
// its documents. On a clean file it says so and exits 0; with one sale
// made 1.00 larger after its day was closed it names the Z, the amounts
// and the sale's broken hash, and exits non-zero.
func TestVerifyZReports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posd.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := engine.NewService(st)
	clock := storetest.NewClock(time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC))
	svc.Now = clock.Now
	shop := storetest.NewShop(t, svc, "UTC")
	ctx := context.Background()
	var sales []*engine.Sale
	for day := range 2 {
		for range 3 {
			s, err := svc.CreateSale(ctx, shop.Owner, shop.Key(), shop.OneApple())
			if err != nil {
				t.Fatal(err)
			}
			sales = append(sales, s.Doc)
		}
		if _, err := svc.CreateZReport(ctx, shop.Owner, shop.Key(), engine.ZReportInput{LocationID: shop.Location}); err != nil {
			t.Fatal(err)
		}
		clock.Set(time.Date(2026, 11, 16+day, 9, 0, 0, 0, time.UTC))
	}
	if _, err := svc.CreateSale(ctx, shop.Owner, shop.Key(), shop.OneApple()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, errOut, code := posd(t, "verify", path)
	if code != 0 || !strings.Contains(out, "Z reports add up to their documents: 2 Z reports of 1 location(s): their nets add up to 9.00, the 6 documents they cover to 9.00; 1 documents since the last Z") {
		t.Fatalf("verify of the clean file: %d\n%s%s", code, out, errOut)
	}

	// The second sale of the first day, 1.00 more, written through the
	// store as a buggy posd or a hand with the file could.
	st, err = boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx engine.Tx) error {
		s, err := tx.Sale(shop.Business.ID, sales[1].ID)
		if err != nil {
			return err
		}
		s.Total += 100
		s.Payments[0].Amount += 100
		s.Paid += 100
		return tx.PutSale(s)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = posd(t, "verify", path)
	t.Logf("posd verify %s:\n%s", filepath.Base(path), out)
	for _, want := range []string{
		`Z-0001 says gross 4.50, refunds 0.00, net 4.50; its documents add up to gross 5.50, refunds 0.00, net 5.50`,
		`the nets of its 2 Z reports add up to 9.00, the documents they cover to 10.00`,
		`INV-202611-0002: its values no longer match its hash`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify of the tampered file does not say %q:\n%s", want, out)
		}
	}
	if code == 0 {
		t.Errorf("verify of the tampered file exited 0:\n%s", out)
	}
}
