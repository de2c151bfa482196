package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"posd/engine"
)

// The back office's store interfaces (engine.PairingTx, TillStatusTx,
// ImportTx) and Tx.ListReturns, driven through the engine as the API
// drives them.

func officeShop(t testing.TB, open Opener) (engine.Store, *engine.Service, *Clock, *engine.Actor) {
	t.Helper()
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := engine.NewService(st)
	c := NewClock(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	svc.Now = c.Now
	_, _, secret, err := svc.CreateBusiness(context.Background(), engine.BusinessInput{Name: "Office", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return st, svc, c, owner
}

func testPairing(t testing.TB, open Opener) {
	st, svc, clk, owner := officeShop(t, open)
	ctx := context.Background()
	pc, err := svc.CreatePairingCode(ctx, owner, "k1", engine.PairingInput{Name: "Till 1"})
	if err != nil || pc.Replayed || pc.Doc.Code == nil {
		t.Fatalf("CreatePairingCode: %+v %v", pc, err)
	}
	// A replay gives the same pairing a new code; the unseen one is dead.
	again, err := svc.CreatePairingCode(ctx, owner, "k1", engine.PairingInput{Name: "Till 1"})
	if err != nil || !again.Replayed || again.Doc.Code == nil || *again.Doc.Code == *pc.Doc.Code {
		t.Fatalf("replay of CreatePairingCode: %+v %v, want a fresh code", again, err)
	}
	if _, err := svc.CreatePairingCode(ctx, owner, "k1", engine.PairingInput{Name: "Till 2"}); !errors.Is(err, engine.ErrIdempotencyReused) {
		t.Errorf("the key with another name: %v, want idempotency_key_reused", err)
	}
	if _, err := svc.Pair(ctx, "p0", engine.PairInput{Code: *pc.Doc.Code}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the replaced code: %v", err)
	}
	// The store's index of codes follows the new code: the old hash is
	// gone, the new one finds the pairing.
	err = st.View(ctx, func(tx engine.Tx) error {
		ptx, ok := tx.(engine.PairingTx)
		if !ok {
			t.Fatalf("the store's transactions (%T) do not implement engine.PairingTx", tx)
		}
		if p, err := ptx.PairingByHash(sha256.Sum256([]byte(*pc.Doc.Code))); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("PairingByHash(the replaced code): %+v %v, want not found", p, err)
		}
		p, err := ptx.PairingByHash(sha256.Sum256([]byte(*again.Doc.Code)))
		if err != nil || p.BusinessID != owner.BusinessID || p.Name != "Till 1" {
			t.Errorf("PairingByHash(the new code): %+v %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := svc.Pair(ctx, "p1", engine.PairInput{Code: *again.Doc.Code})
	if err != nil || p1.Replayed || p1.Doc.Token == nil {
		t.Fatalf("Pair: %+v %v", p1, err)
	}
	// A replay: the same till, a new secret, the first one revoked.
	p2, err := svc.Pair(ctx, "p1", engine.PairInput{Code: *again.Doc.Code})
	if err != nil || !p2.Replayed || p2.Doc.Token == nil || p2.Doc.TillID != p1.Doc.TillID || *p2.Doc.Token == *p1.Doc.Token {
		t.Fatalf("replay of Pair: %+v %v", p2, err)
	}
	if _, err := svc.Authenticate(ctx, *p1.Doc.Token); !errors.Is(err, engine.ErrUnauthorized) {
		t.Errorf("the first secret after a replay: %v", err)
	}
	if a, err := svc.Authenticate(ctx, *p2.Doc.Token); err != nil || a.Role != engine.RoleTill || a.TokenID != p1.Doc.TillID {
		t.Errorf("the replay's secret: %+v %v", a, err)
	}
	// The used code with another key is no code; its own request's
	// replay says which till used it.
	if _, err := svc.Pair(ctx, "p9", engine.PairInput{Code: *again.Doc.Code}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a used code with another key: %v", err)
	}
	used, err := svc.CreatePairingCode(ctx, owner, "k1", engine.PairingInput{Name: "Till 1"})
	if err != nil || !used.Replayed || used.Doc.Code != nil || used.Doc.TillID != p1.Doc.TillID {
		t.Errorf("replay of CreatePairingCode after the pairing: %+v %v", used, err)
	}
	late, err := svc.CreatePairingCode(ctx, owner, "k2", engine.PairingInput{Name: "Till 2"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(engine.PairingTTL)
	if _, err := svc.Pair(ctx, "p2", engine.PairInput{Code: *late.Doc.Code}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("an expired code: %v", err)
	}
	tills, err := svc.Tills(ctx, owner)
	if err != nil || len(tills) != 1 {
		t.Errorf("tills: %d %v, want 1", len(tills), err)
	}
	// After the answer TTL a replay is the till as it is now, no secret.
	clk.Add(svc.IdempotencyTTL)
	p3, err := svc.Pair(ctx, "p1", engine.PairInput{Code: *again.Doc.Code})
	if err != nil || !p3.Replayed || !p3.Current || p3.Doc.Token != nil || p3.Doc.TillID != p1.Doc.TillID {
		t.Errorf("replay of Pair after the TTL: %+v %v", p3, err)
	}
	if _, err := svc.Authenticate(ctx, *p2.Doc.Token); err != nil {
		t.Errorf("the till's token after a replay past the TTL: %v", err)
	}
}

func testTillReports(t testing.TB, open Opener) {
	st, svc, clk, owner := officeShop(t, open)
	ctx := context.Background()
	pc, err := svc.CreatePairingCode(ctx, owner, "k", engine.PairingInput{Name: "T"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Pair(ctx, "p", engine.PairInput{Code: *pc.Doc.Code})
	if err != nil {
		t.Fatal(err)
	}
	till, _ := svc.Authenticate(ctx, *p.Doc.Token)
	q := func(n string) json.RawMessage { return json.RawMessage(n) }
	err = svc.ReportTillStatus(ctx, till, engine.TillReport{Queued: q("4"), Parked: q("0"), Version: "v", Clock: clk.Now().Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	// Another service on the same store (a restart) sees the report.
	svc2 := engine.NewService(st)
	svc2.Now = clk.Now
	tills, err := svc2.Tills(ctx, owner)
	if err != nil || len(tills) != 1 || tills[0].LastSeenAt == nil || tills[0].Queued != 4 {
		t.Fatalf("after a restart: %+v %v", tills, err)
	}
	if err := svc.RevokeTill(ctx, owner, p.Doc.TillID); err != nil {
		t.Fatal(err)
	}
	if tills, _ := svc2.Tills(ctx, owner); len(tills) != 0 {
		t.Errorf("a revoked till is listed: %+v", tills)
	}
	// Revoked on the Tokens screen (DELETE /tokens/{id}), a till's report
	// goes too, from memory (/metrics) and from the store.
	pc2, err := svc.CreatePairingCode(ctx, owner, "k2", engine.PairingInput{Name: "T2"})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := svc.Pair(ctx, "p2", engine.PairInput{Code: *pc2.Doc.Code})
	if err != nil {
		t.Fatal(err)
	}
	till2, _ := svc.Authenticate(ctx, *p2.Doc.Token)
	if err := svc.ReportTillStatus(ctx, till2, engine.TillReport{Queued: q("1"), Parked: q("0"), Version: "v", Clock: clk.Now().Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	if n := len(svc.TillReports()); n != 1 {
		t.Fatalf("reports in memory: %d, want 1", n)
	}
	if err := svc.RevokeToken(ctx, owner, p2.Doc.TillID); err != nil {
		t.Fatal(err)
	}
	if rs := svc.TillReports(); len(rs) != 0 {
		t.Errorf("a till revoked as a token still reports: %+v", rs)
	}
	err = st.View(ctx, func(tx engine.Tx) error {
		if ts, ok := tx.(engine.TillStatusTx); ok {
			rs, err := ts.TillStatuses(owner.BusinessID)
			if err != nil {
				return err
			}
			if len(rs) != 0 {
				t.Errorf("the store keeps the reports of revoked tills: %+v", rs)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testProductImport(t testing.TB, open Opener) {
	_, svc, clk, owner := officeShop(t, open)
	ctx := context.Background()
	rows := []engine.ProductRow{{Line: 2, SKU: "A", Name: "Apple", Price: "1.50", TaxRate: "20", HasTaxRate: true}}
	first, err := svc.ImportProducts(ctx, owner, "i1", engine.ImportRequest{Rows: rows})
	if err != nil || first.Replayed || !first.Doc.Imported || first.Doc.Created != 1 {
		t.Fatalf("import: %+v %v", first, err)
	}
	again, err := svc.ImportProducts(ctx, owner, "i1", engine.ImportRequest{Rows: rows})
	if err != nil || !again.Replayed || again.Doc.ID != first.Doc.ID || again.Doc.Created != 1 {
		t.Fatalf("replay: %+v %v", again, err)
	}
	// The same file with a new key changes nothing.
	other, err := svc.ImportProducts(ctx, owner, "i2", engine.ImportRequest{Rows: rows})
	if err != nil || other.Replayed || other.Doc.Created != 0 || other.Doc.Changed != 0 || other.Doc.Unchanged != 1 {
		t.Fatalf("the same file again: %+v %v", other, err)
	}
	ps, _ := svc.Products(ctx, owner, false)
	if len(ps) != 1 || ps[0].Price != 150 || ps[0].TaxRate != 2000 {
		t.Errorf("products: %+v", ps)
	}
	// After the answer TTL, the replay is the import's kept report.
	clk.Add(svc.IdempotencyTTL + time.Hour)
	if _, err := svc.SweepIdempotency(ctx, 100); err != nil {
		t.Fatal(err)
	}
	late, err := svc.ImportProducts(ctx, owner, "i1", engine.ImportRequest{Rows: rows})
	if err != nil || !late.Replayed || !late.Current || late.Doc.ID != first.Doc.ID || late.Doc.Created != 1 {
		t.Fatalf("replay after the TTL: %+v %v", late, err)
	}
	if ps, _ := svc.Products(ctx, owner, false); len(ps) != 1 {
		t.Errorf("products after the replays: %d, want 1", len(ps))
	}
}

// testReturnListing pages refunds both ways through Tx.ListReturns: every
// refund once, in the order they were made, none of another business.
func testReturnListing(t testing.TB, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := engine.NewService(st)
	clk := NewClock(time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC))
	svc.Now = clk.Now
	s := addShop(t, svc, clk, "UTC")
	ctx := context.Background()
	one := []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}}
	sale := must(svc.CreateSale(ctx, s.owner, s.key(), s.saleInput("20"))).doc(t)
	var want []string
	for range 7 {
		r := must(svc.RefundSale(ctx, s.owner, s.key(), sale.ID, engine.RefundInput{Items: one})).doc(t)
		want = append(want, r.ID)
		clk.Add(time.Second)
	}
	// Another business's refunds never show.
	o := addShop(t, svc, clk, "UTC")
	osale := must(svc.CreateSale(ctx, o.owner, o.key(), o.saleInput("2"))).doc(t)
	must(svc.RefundSale(ctx, o.owner, o.key(), osale.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: o.apple, Quantity: json.RawMessage("1")}}})).doc(t)
	owner := s.owner
	for _, newest := range []bool{false, true} {
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("newest %v: the cursor does not advance", newest)
			}
			var rs []*engine.Return
			var next string
			err := st.View(ctx, func(tx engine.Tx) error {
				var err error
				rs, next, err = tx.ListReturns(owner.BusinessID, engine.ReturnFilter{Cursor: cursor, Limit: 3, Newest: newest})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) > 3 {
				t.Fatalf("a page of %d, limit 3", len(rs))
			}
			for _, r := range rs {
				if r.BusinessID != owner.BusinessID {
					t.Fatalf("a refund of business %q listed", r.BusinessID)
				}
				got = append(got, r.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		exp := append([]string(nil), want...)
		if newest {
			for i, j := 0, len(exp)-1; i < j; i, j = i+1, j-1 {
				exp[i], exp[j] = exp[j], exp[i]
			}
		}
		if len(got) != len(exp) {
			t.Fatalf("newest %v: listed %d refunds, want %d", newest, len(got), len(exp))
		}
		for i := range exp {
			if got[i] != exp[i] {
				t.Fatalf("newest %v: listed %v, want %v", newest, got, exp)
			}
		}
	}
}
