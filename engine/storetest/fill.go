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
// revoked), expired and fresh idempotency answers, the back office's
// records, and the day's close: cashiers, a closed shift with a pay-out
// and an open one, an approval, a Z report.
func Fill(t testing.TB, st engine.Store) {
	t.Helper()
	ctx := context.Background()
	svc := engine.NewService(st)
	clk := NewClock(time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC))
	svc.Now = clk.Now
	svc.PINs = FastPINs{}
	for b := 0; b < 2; b++ {
		_, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: fmt.Sprintf("Shop %d", b), Timezone: "Europe/Berlin", Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := svc.Authenticate(ctx, secret)
		k := 0
		key := func() engine.IdempotencyKey { k++; return engine.IdempotencyKey(fmt.Sprintf("k%d", k)) }
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		po, err := svc.CreateProduct(ctx, a, key(), engine.ProductInput{SKU: "A", Name: "Apple", Price: json.RawMessage("150")})
		must(err)
		p := po.Doc
		lo, err := svc.CreateLocation(ctx, a, key(), engine.LocationInput{Name: "Branch"})
		must(err)
		branch := lo.Doc
		items := []engine.ItemInput{{ProductID: p.ID, Quantity: json.RawMessage("2")}}
		_, err = svc.AdjustStock(ctx, a, key(), engine.AdjustmentInput{LocationID: loc.ID, Items: items, Reason: "count"})
		must(err)
		var first *engine.Sale
		for i := 0; i < 7; i++ {
			out, err := svc.CreateSale(ctx, a, key(), engine.SaleInput{LocationID: loc.ID,
				Items:    []engine.SaleItemInput{{ProductID: p.ID, Quantity: json.RawMessage("1.5")}},
				Payments: []engine.PaymentInput{{Method: "cash", Amount: json.RawMessage("1000")}}})
			must(err)
			if i == 0 {
				first = out.Doc
			}
			if i == 3 {
				clk.Add(48 * time.Hour) // the answers before this expire
			}
		}
		_, err = svc.RefundSale(ctx, a, key(), first.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: p.ID, Quantity: json.RawMessage("1")}}})
		must(err)
		ro, err := svc.CreateReceipt(ctx, a, key(), engine.ReceiptInput{LocationID: loc.ID, Supplier: "Farm", Items: []engine.ReceiptItemInput{{ProductID: p.ID, Quantity: json.RawMessage("10"), UnitCost: json.RawMessage("80")}}})
		must(err)
		_, err = svc.ApproveReceipt(ctx, a, key(), ro.Doc.ID)
		must(err)
		to, err := svc.CreateTransfer(ctx, a, key(), engine.TransferInput{FromLocationID: loc.ID, ToLocationID: branch.ID, Items: items})
		must(err)
		_, err = svc.SendTransfer(ctx, a, key(), to.Doc.ID)
		must(err)
		// The back office's records: a pairing used by a till, its status
		// report, and a product import.
		pc, err := svc.CreatePairingCode(ctx, a, key(), engine.PairingInput{Name: "Till 2"})
		must(err)
		paired, err := svc.Pair(ctx, key(), engine.PairInput{Code: *pc.Doc.Code})
		must(err)
		ta, err := svc.Authenticate(ctx, *paired.Doc.Token)
		must(err)
		must(svc.ReportTillStatus(ctx, ta, engine.TillReport{Queued: json.RawMessage("2"), Parked: json.RawMessage("0"), Version: "t1", Clock: clk.Now().Format(time.RFC3339)}))
		_, err = svc.ImportProducts(ctx, a, key(), engine.ImportRequest{Rows: []engine.ProductRow{{Line: 2, SKU: "B", Name: "Bread", Price: "2.50"}}})
		must(err)
		// The day's close: the paired till's shift with a pay-out and a
		// sale by a cashier, closed to the cent; a refund approved by a
		// manager's PIN; a Z; a second shift left open.
		anna, err := svc.CreateCashier(ctx, a, key(), engine.CashierInput{Name: "Anna", Role: "cashier", PIN: "4821"})
		must(err)
		_, err = svc.CreateCashier(ctx, a, key(), engine.CashierInput{Name: "Max", Role: "manager", PIN: "135790"})
		must(err)
		sh, err := svc.OpenShift(ctx, ta, key(), engine.ShiftInput{LocationID: loc.ID, Float: json.RawMessage("5000"), CashierID: &anna.Doc.ID})
		must(err)
		_, err = svc.AddCashMovement(ctx, ta, key(), sh.Doc.ID, engine.CashMovementInput{Type: engine.PayOut, Amount: json.RawMessage("300"), Reason: "milk"})
		must(err)
		tsale, err := svc.CreateSale(ctx, ta, key(), engine.SaleInput{LocationID: loc.ID, CashierID: &anna.Doc.ID,
			Items:    []engine.SaleItemInput{{ProductID: p.ID, Quantity: json.RawMessage("1")}},
			Payments: []engine.PaymentInput{{Method: "cash", Amount: json.RawMessage("150")}}})
		must(err)
		ap, err := svc.Approve(ctx, ta, key(), engine.ApprovalInput{PIN: "135790", Action: engine.ApproveRefund})
		must(err)
		_, err = svc.RefundSale(ctx, ta, key(), tsale.Doc.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: p.ID, Quantity: json.RawMessage("1")}}, ApprovalID: &ap.Doc.ID})
		must(err)
		cur, err := svc.Shift(ctx, a, sh.Doc.ID)
		must(err)
		_, err = svc.CloseShift(ctx, ta, key(), sh.Doc.ID, engine.CloseShiftInput{Counted: json.RawMessage(fmt.Sprint(cur.Cash.Expected))})
		must(err)
		_, err = svc.CreateZReport(ctx, a, key(), engine.ZReportInput{LocationID: loc.ID})
		must(err)
		_, err = svc.OpenShift(ctx, ta, key(), engine.ShiftInput{LocationID: loc.ID, Float: json.RawMessage("5000")})
		must(err)
		tok, err := svc.CreateToken(ctx, a, key(), engine.TokenInput{Role: "till", Name: "till"})
		must(err)
		must(svc.RevokeToken(ctx, a, tok.Doc.ID))
		svc.CreateToken(ctx, a, key(), engine.TokenInput{Role: "manager", Name: "boss"})
	}
	if _, err := svc.SweepIdempotency(ctx, 100); err != nil {
		t.Fatal(err)
	}
}
