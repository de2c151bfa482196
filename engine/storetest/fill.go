package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"posd/engine"
)

// Fill puts one of everything into st through the engine, for tests that
// copy, compare or migrate whole stores: two businesses
// with sales, a refund, receipts, a transfer, an adjustment, tokens (one
// revoked) and expired and fresh idempotency answers.
func Fill(t *testing.T, st engine.Store) {
	t.Helper()
	ctx := context.Background()
	svc := engine.NewService(st)
	clk := NewClock(time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC))
	svc.Now = clk.Now
	for b := 0; b < 2; b++ {
		_, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: fmt.Sprintf("Shop %d", b), Timezone: "Europe/Berlin", Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := svc.Authenticate(ctx, secret)
		k := 0
		key := func() engine.IdempotencyKey { k++; return engine.IdempotencyKey(fmt.Sprintf("k%d", k)) }
		out, err := svc.CreateProduct(ctx, a, key(), engine.ProductInput{SKU: "A", Name: "Apple", Price: json.RawMessage("150")})
		if err != nil {
			t.Fatal(err)
		}
		var p engine.Product
		json.Unmarshal(out.Body, &p)
		out, _ = svc.CreateLocation(ctx, a, key(), engine.LocationInput{Name: "Branch"})
		var branch engine.Location
		json.Unmarshal(out.Body, &branch)
		items := []engine.ItemInput{{ProductID: p.ID, Quantity: json.RawMessage("2")}}
		if _, err := svc.AdjustStock(ctx, a, key(), engine.AdjustmentInput{LocationID: loc.ID, Items: items, Reason: "count"}); err != nil {
			t.Fatal(err)
		}
		var first engine.Sale
		for i := 0; i < 7; i++ {
			out, err := svc.CreateSale(ctx, a, key(), engine.SaleInput{LocationID: loc.ID,
				Items:    []engine.SaleItemInput{{ProductID: p.ID, Quantity: json.RawMessage("1.5")}},
				Payments: []engine.PaymentInput{{Method: "cash", Amount: json.RawMessage("1000")}}})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				json.Unmarshal(out.Body, &first)
			}
			if i == 3 {
				clk.Add(48 * time.Hour) // the answers before this expire
			}
		}
		if _, err := svc.RefundSale(ctx, a, key(), first.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: p.ID, Quantity: json.RawMessage("1")}}}); err != nil {
			t.Fatal(err)
		}
		out, _ = svc.CreateReceipt(ctx, a, key(), engine.ReceiptInput{LocationID: loc.ID, Supplier: "Farm", Items: []engine.ReceiptItemInput{{ProductID: p.ID, Quantity: json.RawMessage("10"), UnitCost: json.RawMessage("80")}}})
		var r engine.Receipt
		json.Unmarshal(out.Body, &r)
		if _, err := svc.ApproveReceipt(ctx, a, key(), r.ID); err != nil {
			t.Fatal(err)
		}
		out, _ = svc.CreateTransfer(ctx, a, key(), engine.TransferInput{FromLocationID: loc.ID, ToLocationID: branch.ID, Items: items})
		var tr engine.Transfer
		json.Unmarshal(out.Body, &tr)
		if _, err := svc.SendTransfer(ctx, a, key(), tr.ID); err != nil {
			t.Fatal(err)
		}
		out, _ = svc.CreateToken(ctx, a, key(), engine.TokenInput{Role: "till", Name: "till"})
		var tok struct{ ID string }
		json.Unmarshal(out.Body, &tok)
		if err := svc.RevokeToken(ctx, a, tok.ID); err != nil {
			t.Fatal(err)
		}
		svc.CreateToken(ctx, a, key(), engine.TokenInput{Role: "manager", Name: "boss"})
	}
	if _, err := svc.SweepIdempotency(ctx, 100); err != nil {
		t.Fatal(err)
	}
}
