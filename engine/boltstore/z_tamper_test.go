package boltstore

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
	"posd/engine/storetest"
)

// The Z reports' part of the tamper tests: a day closed three times (two
// days with sales, one empty), in a real file altered by the test.

// zDays writes the file: three sales and Z-0001, two sales and Z-0002, an
// empty Z-0003. It returns the path, the shop and the Zs.
func zDays(t *testing.T) (string, *storetest.Shop, []*engine.ZReport) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "posd.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := engine.NewService(st)
	clock := storetest.NewClock(time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC))
	svc.Now = clock.Now
	shop := storetest.NewShop(t, svc, "UTC")
	ctx := context.Background()
	var zs []*engine.ZReport
	for _, n := range []int{3, 2, 0} {
		for range n {
			if _, err := svc.CreateSale(ctx, shop.Owner, shop.Key(), shop.OneApple()); err != nil {
				t.Fatal(err)
			}
		}
		z, err := svc.CreateZReport(ctx, shop.Owner, shop.Key(), engine.ZReportInput{LocationID: shop.Location})
		if err != nil {
			t.Fatal(err)
		}
		zs = append(zs, z.Doc)
		clock.Set(clock.Now().Add(24 * time.Hour))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	rep := verifyWhole(t, path)
	if rep.Findings() != 0 {
		t.Fatalf("the untouched file does not verify: %s", findingsText(rep))
	}
	return path, shop, zs
}

// verifyWhole runs posd's whole verification on the file, read-only.
func verifyWhole(t *testing.T, path string) *engine.VerifyReport {
	t.Helper()
	st, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := engine.NewService(st).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func findingsText(rep *engine.VerifyReport) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		for _, f := range c.Findings {
			b.WriteString(c.Name + ": " + f + "\n")
		}
	}
	return b.String()
}

// wantCheck requires a finding containing words in the check named name.
func wantCheck(t *testing.T, rep *engine.VerifyReport, name, words string) {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name != name {
			continue
		}
		for _, f := range c.Findings {
			if strings.Contains(f, words) {
				return
			}
		}
	}
	t.Errorf("no finding in %q containing %q; findings:\n%s", name, words, findingsText(rep))
}

// rewriteZ changes a stored Z's JSON in the file.
func rewriteZ(t *testing.T, path, biz, id string, fn func(z map[string]any)) {
	tamper(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bZReports))
		var z map[string]any
		if err := json.Unmarshal(b.Get(key(biz, id)), &z); err != nil {
			return err
		}
		fn(z)
		v, err := json.Marshal(z)
		if err != nil {
			return err
		}
		return b.Put(key(biz, id), v)
	})
}

// A Z whose net was changed in the file: its hash no longer matches its
// values, and the Z check says its documents add up to something else.
func TestTamperChangedZ(t *testing.T) {
	path, shop, zs := zDays(t)
	rewriteZ(t, path, shop.Business.ID, zs[1].ID, func(z map[string]any) {
		z["net"] = json.Number("400")
		z["gross"] = json.Number("400")
	})
	rep := verifyWhole(t, path)
	wantCheck(t, rep, engine.CheckChains, "Z-0002 of Main: its values no longer match its hash")
	wantCheck(t, rep, "Z reports add up to their documents", "Z-0002 says gross 4.00, refunds 0.00, net 4.00; its documents add up to gross 3.00, refunds 0.00, net 3.00")
}

// A Z removed from the middle of its location's series with its place in
// the location's list (its number's claim kept): the chain cannot be
// followed across it, and the Z check finds Z-0002 missing from 1..3.
func TestTamperRemovedZ(t *testing.T) {
	path, shop, zs := zDays(t)
	tamper(t, path, func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte(bZReports)).Delete(key(shop.Business.ID, zs[1].ID)); err != nil {
			return err
		}
		c := tx.Bucket([]byte(bZLoc)).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if string(v) == zs[1].ID {
				return c.Delete()
			}
		}
		t.Fatal("Z-0002 is not in z_loc")
		return nil
	})
	rep := verifyWhole(t, path)
	wantCheck(t, rep, engine.CheckChains, "Z-0002 of Main: is missing")
	wantCheck(t, rep, "Z reports add up to their documents", "Z-0002")
}

// The sales after the first day rewritten with posd's own code, their whole
// tail hashed again and the head moved: every link holds, but Z-0002 and
// Z-0003 recorded the old head, and say so.
func TestTamperRewrittenTailBehindAZ(t *testing.T) {
	path, shop, zs := zDays(t)
	biz := shop.Business.ID
	tamper(t, path, func(tx *bolt.Tx) error {
		prev := ""
		for n := uint64(1); n <= 5; n++ {
			sale := rawSale(t, tx, biz, engine.FormatNumber("INV-202611", n))
			if n < 4 {
				prev = sale.Hash
				continue
			}
			if n == 4 {
				sale.Total, sale.Paid = 100, 100
				sale.Payments[0].Amount = 100
			}
			sale.PreviousHash = prev
			sale.Hash, _ = engine.ComputeHash(sale)
			prev = sale.Hash
			if err := putRawSale(tx, sale); err != nil {
				return err
			}
		}
		return putRawChainHead(tx, biz, "INV-202611", engine.ChainHead{Number: 5, Hash: prev})
	})
	head := zs[1].SeriesHeads[0]
	if head.Number != "INV-202611-0005" || zs[0].SeriesHeads[0].Number != "INV-202611-0003" {
		t.Fatalf("the Zs' heads: %+v %+v", zs[0].SeriesHeads, zs[1].SeriesHeads)
	}
	st, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cr, err := engine.NewService(st).VerifyChains(context.Background(), biz, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantFindings(t, cr, map[string]string{"INV-202611-0005": "Z-0002 of Main recorded hash " + head.Hash[:16]})
	for _, a := range cr.Anchors {
		if ok := a.Number != 5; a.OK != ok {
			t.Errorf("anchor %s %d from %s: ok=%v, want %v", a.Series, a.Number, a.Source, a.OK, ok)
		}
	}
	if len(cr.Anchors) != 3 {
		t.Errorf("anchors from the Zs: %d, want 3 (one head each)", len(cr.Anchors))
	}
}

// A Z series whose head was lost (the chains bucket's entry deleted):
// UpgradeChains, which serve runs at every start, sets it again from the
// last Z, rewriting no Z, and the file verifies again.
func TestZChainHeadLost(t *testing.T) {
	path, shop, _ := zDays(t)
	biz := shop.Business.ID
	tamper(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bChains)).Delete(key(biz, string(engine.ZSeries(shop.Location))))
	})
	if rep := verifyWhole(t, path); rep.Findings() == 0 {
		t.Fatal("a lost head is not a finding")
	}
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	up, err := engine.NewService(st).UpgradeChains(context.Background())
	if err != nil || up.Documents != 0 {
		t.Errorf("UpgradeChains: %v %+v", err, up)
	}
	st.Close()
	if rep := verifyWhole(t, path); rep.Findings() != 0 {
		t.Errorf("after the restart: %s", findingsText(rep))
	}
}
