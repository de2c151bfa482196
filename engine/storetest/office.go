package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"posd/engine"
)

// The back office's store interfaces (engine.PairingTx, TillStatusTx,
// ImportTx), driven through the engine as the API drives them.

func officeShop(t *testing.T, open Opener) (engine.Store, *engine.Service, *Clock, *engine.Actor) {
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

func testPairing(t *testing.T, open Opener) {
	_, svc, clk, owner := officeShop(t, open)
	ctx := context.Background()
	pc, replayed, err := svc.CreatePairingCode(ctx, owner, "k1", engine.PairingInput{Name: "Till 1"})
	if err != nil || replayed || pc.Code == nil {
		t.Fatalf("CreatePairingCode: %+v %v %v", pc, replayed, err)
	}
	again, replayed, err := svc.CreatePairingCode(ctx, owner, "k1", engine.PairingInput{Name: "Till 1"})
	if err != nil || !replayed || again.Code == nil || *again.Code == *pc.Code {
		t.Fatalf("replay of CreatePairingCode: %+v %v %v, want a fresh code", again, replayed, err)
	}
	if _, _, err := svc.Pair(ctx, "p0", engine.PairInput{Code: *pc.Code}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the replaced code: %v", err)
	}
	p1, _, err := svc.Pair(ctx, "p1", engine.PairInput{Code: *again.Code})
	if err != nil {
		t.Fatal(err)
	}
	p2, replayed, err := svc.Pair(ctx, "p1", engine.PairInput{Code: *again.Code})
	if err != nil || !replayed || p2.TillID != p1.TillID || p2.Token == p1.Token {
		t.Fatalf("replay of Pair: %+v %v %v", p2, replayed, err)
	}
	if _, err := svc.Authenticate(ctx, p1.Token); !errors.Is(err, engine.ErrUnauthorized) {
		t.Errorf("the first secret after a replay: %v", err)
	}
	if a, err := svc.Authenticate(ctx, p2.Token); err != nil || a.Role != engine.RoleTill || a.TokenID != p1.TillID {
		t.Errorf("the replay's secret: %+v %v", a, err)
	}
	late, _, err := svc.CreatePairingCode(ctx, owner, "k2", engine.PairingInput{Name: "Till 2"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(engine.PairingTTL)
	if _, _, err := svc.Pair(ctx, "p2", engine.PairInput{Code: *late.Code}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("an expired code: %v", err)
	}
	tills, err := svc.Tills(ctx, owner)
	if err != nil || len(tills) != 1 {
		t.Errorf("tills: %d %v, want 1", len(tills), err)
	}
}

func testTillReports(t *testing.T, open Opener) {
	st, svc, clk, owner := officeShop(t, open)
	ctx := context.Background()
	pc, _, err := svc.CreatePairingCode(ctx, owner, "k", engine.PairingInput{Name: "T"})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := svc.Pair(ctx, "p", engine.PairInput{Code: *pc.Code})
	if err != nil {
		t.Fatal(err)
	}
	till, _ := svc.Authenticate(ctx, p.Token)
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
	if err := svc.RevokeTill(ctx, owner, p.TillID); err != nil {
		t.Fatal(err)
	}
	if tills, _ := svc2.Tills(ctx, owner); len(tills) != 0 {
		t.Errorf("a revoked till is listed: %+v", tills)
	}
}

func testProductImport(t *testing.T, open Opener) {
	_, svc, _, owner := officeShop(t, open)
	ctx := context.Background()
	rows := []engine.ProductRow{{Line: 2, SKU: "A", Name: "Apple", Price: "1.50", TaxRate: "20", HasTaxRate: true}}
	_, first, replayed, err := svc.ImportProducts(ctx, owner, "i1", engine.ImportRequest{Rows: rows})
	if err != nil || replayed || first == nil {
		t.Fatalf("import: %s %v %v", first, replayed, err)
	}
	_, again, replayed, err := svc.ImportProducts(ctx, owner, "i1", engine.ImportRequest{Rows: rows})
	if err != nil || !replayed || string(again) != string(first) {
		t.Fatalf("replay: %s %v %v", again, replayed, err)
	}
	ps, _ := svc.Products(ctx, owner, false)
	if len(ps) != 1 || ps[0].Price != 150 || ps[0].TaxRate != 2000 {
		t.Errorf("products: %+v", ps)
	}
}
