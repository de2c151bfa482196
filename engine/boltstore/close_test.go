package boltstore_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// TestUpgradeListsOldRefunds: the refunds of a file written before schema
// 5 are not in ret_loc, where Z reports look for a location's refunds.
// Opening such a file for writing lists them there, once, so that the
// first Z covers them and verify's Z check adds them up.
func TestUpgradeListsOldRefunds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posd.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc := engine.NewService(st)
	// A clock a millisecond apart per call: IDs, whose order the upgrade
	// lists old refunds in, are then in the order they were made.
	clock := storetest.NewClock(time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC))
	svc.Now = clock.Now
	shop := storetest.NewShop(t, svc, "UTC")
	var refunds []string
	for range 3 {
		sale, err := svc.CreateSale(ctx, shop.Owner, shop.Key(), shop.OneApple())
		if err != nil {
			t.Fatal(err)
		}
		r, err := svc.RefundSale(ctx, shop.Owner, shop.Key(), sale.Doc.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: shop.Apple.ID, Quantity: json.RawMessage("1")}}})
		if err != nil {
			t.Fatal(err)
		}
		refunds = append(refunds, r.Doc.ID)
	}
	// Make it the file a schema-4 posd wrote: no ret_loc, no #return.
	err = st.DB().Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("ret_loc")); err != nil {
			return err
		}
		c := tx.Bucket([]byte("counters"))
		if err := c.Delete([]byte(shop.Business.ID + "\x00#return")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("4"))
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := func(s engine.Store) []string {
		var ids []string
		err := s.View(ctx, func(tx engine.Tx) error {
			rs, _, err := tx.ReturnsAt(shop.Business.ID, engine.SaleFilter{LocationID: shop.Location, Limit: 10})
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := listed(st); len(got) != 0 {
		t.Fatalf("refunds listed before the upgrade: %v", got)
	}
	st.Close()
	st, err = boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := listed(st)
	if len(got) != 3 || got[0] != refunds[0] || got[1] != refunds[1] || got[2] != refunds[2] {
		t.Fatalf("refunds after the upgrade: got %v, want %v in that order", got, refunds)
	}
	// The first Z covers them; a new refund is listed after them.
	svc = engine.NewService(st)
	svc.Now = clock.Now
	z, err := svc.CreateZReport(ctx, shop.Owner, "z", engine.ZReportInput{LocationID: shop.Location})
	if err != nil || z.Doc.RefundsCount != 3 || z.Doc.Net != 3*150-3*150 {
		t.Fatalf("Z after the upgrade: %v %+v", err, z)
	}
	rep, err := svc.Verify(ctx)
	if err != nil || rep.Findings() != 0 {
		t.Fatalf("verify after the upgrade: %v %+v", err, rep)
	}
}
