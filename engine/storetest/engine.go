package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"posd/engine"
)

func testGaplessConcurrent(t testing.TB, open Opener) {
	s := newShop(t, open, "Europe/Berlin")
	const writers, each = 32, 20
	numbers := make(chan string, writers*each)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				key := engine.IdempotencyKey(fmt.Sprintf("w%d-%d", w, i))
				in := s.saleInput("1")
				if i%4 == 3 { // an invalid sale in the mix must not spend a number
					in.Payments[0].Amount = raw(1)
				}
				out, err := s.svc.CreateSale(context.Background(), s.owner, key, in)
				if i%4 == 3 {
					if engine.ErrorCode(err) != engine.EINVALID {
						t.Errorf("underpaid sale: got %v, want invalid_request", err)
					}
					continue
				}
				if err != nil {
					t.Errorf("sale: %v", err)
					continue
				}
				numbers <- out.Doc.InvoiceNumber
			}
		}(w)
	}
	wg.Wait()
	close(numbers)
	var got []string
	for n := range numbers {
		got = append(got, n)
	}
	sort.Strings(got)
	want := writers * each * 3 / 4
	if len(got) != want {
		t.Fatalf("sales: got %d, want %d", len(got), want)
	}
	for i, n := range got {
		if w := fmt.Sprintf("INV-202611-%04d", i+1); n != w {
			t.Fatalf("number %d: got %s, want %s (duplicate or gap)", i, n, w)
		}
	}
	if n := s.lastNumber(t, "INV-202611"); n != uint64(want) {
		t.Errorf("counter: got %d, want %d", n, want)
	}
}

func testFailedWriteNoNumber(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	s.sale(t, s.key(), "1")
	// Failures after validation, inside the transaction: unknown product,
	// payments short of the total, refund beyond the sale.
	in := s.saleInput("1")
	in.Items = append(in.Items, engine.SaleItemInput{ProductID: "no-such-product", Quantity: json.RawMessage("1")})
	_, err := s.svc.CreateSale(ctx, s.owner, s.key(), in)
	wantCode(t, err, engine.ENOTFOUND)
	in = s.saleInput("1")
	in.Payments[0].Amount = raw(149)
	_, err = s.svc.CreateSale(ctx, s.owner, s.key(), in)
	wantCode(t, err, engine.EINVALID)
	sale := s.sale(t, s.key(), "2")
	if sale.InvoiceNumber != "INV-202611-0002" {
		t.Errorf("after failures: got %s, want INV-202611-0002", sale.InvoiceNumber)
	}
	_, err = s.svc.RefundSale(ctx, s.owner, s.key(), sale.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("3")}}})
	wantCode(t, err, engine.EREFUNDEXCEEDSSALE)
	if n := s.lastNumber(t, "RET-202611"); n != 0 {
		t.Errorf("RET counter after refused refund: got %d, want 0", n)
	}
	// A failing transfer send spends no TRF number.
	loc := must(s.svc.CreateLocation(ctx, s.owner, s.key(), engine.LocationInput{Name: "Store room"})).doc(t)
	tr := must(s.svc.CreateTransfer(ctx, s.owner, s.key(), engine.TransferInput{FromLocationID: loc.ID, ToLocationID: s.loc, Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}}})).doc(t)
	_, err = s.svc.SendTransfer(ctx, s.owner, s.key(), tr.ID)
	wantCode(t, err, engine.EINSUFFICIENTSTOCK)
	if n := s.lastNumber(t, "TRF-202611"); n != 0 {
		t.Errorf("TRF counter after refused send: got %d, want 0", n)
	}
}

func testMonthRollover(t testing.TB, open Opener) {
	// Berlin is UTC+1 in winter: 23:30 UTC on 30 November is 00:30 on
	// 1 December there.
	s := newShop(t, open, "Europe/Berlin")
	s.clock.Set(time.Date(2026, 11, 30, 22, 59, 59, 0, time.UTC))
	a := s.sale(t, s.key(), "1")
	s.clock.Set(time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC))
	b := s.sale(t, s.key(), "1")
	c := s.sale(t, s.key(), "1")
	if a.InvoiceNumber != "INV-202611-0001" || b.InvoiceNumber != "INV-202612-0001" || c.InvoiceNumber != "INV-202612-0002" {
		t.Errorf("numbers across Berlin midnight: got %s, %s, %s; want INV-202611-0001, INV-202612-0001, INV-202612-0002",
			a.InvoiceNumber, b.InvoiceNumber, c.InvoiceNumber)
	}
	// A UTC business is still in November at that moment.
	u := addShop(t, s.svc, s.clock, "UTC")
	if got := u.sale(t, u.key(), "1").InvoiceNumber; got != "INV-202611-0001" {
		t.Errorf("UTC business at 23:00 UTC: got %s, want INV-202611-0001", got)
	}
	// Year rollover in a zone west of UTC.
	ny := addShop(t, s.svc, s.clock, "America/New_York")
	s.clock.Set(time.Date(2027, 1, 1, 4, 59, 0, 0, time.UTC))
	if got := ny.sale(t, ny.key(), "1").InvoiceNumber; got != "INV-202612-0001" {
		t.Errorf("New York before midnight: got %s", got)
	}
	s.clock.Set(time.Date(2027, 1, 1, 5, 0, 0, 0, time.UTC))
	if got := ny.sale(t, ny.key(), "1").InvoiceNumber; got != "INV-202701-0001" {
		t.Errorf("New York after midnight: got %s", got)
	}
}

func testPast9999(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	err := s.svc.Store().Update(context.Background(), func(tx engine.Tx) error {
		for range 9998 {
			if _, err := tx.NextNumber(s.biz.ID, "INV-202611"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"INV-202611-9999", "INV-202611-10000", "INV-202611-10001"} {
		if got := s.sale(t, s.key(), "1").InvoiceNumber; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func refund(s *shop, key engine.IdempotencyKey, saleID string, restock *bool, lines ...any) (*engine.Return, error) {
	in := engine.RefundInput{Restock: restock}
	for i := 0; i < len(lines); i += 2 {
		in.Items = append(in.Items, engine.ItemInput{ProductID: lines[i].(string), Quantity: json.RawMessage(lines[i+1].(string))})
	}
	out, err := s.svc.RefundSale(context.Background(), s.owner, key, saleID, in)
	if err != nil {
		return nil, err
	}
	return out.Doc, nil
}

func testRefundLimits(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	in := engine.SaleInput{LocationID: s.loc, Items: []engine.SaleItemInput{
		{ProductID: s.cheese, Quantity: json.RawMessage("0.333")}, // 1999 × 0.333 = 665.667 → 666
		{ProductID: s.apple, Quantity: json.RawMessage("3")},
	}, Payments: []engine.PaymentInput{{Method: "card", Amount: raw(1116)}}}
	sale := must(s.svc.CreateSale(ctx, s.owner, s.key(), in)).doc(t)
	if sale.Total != 1116 || sale.Items[0].LineTotal != 666 {
		t.Fatalf("sale total: got %d (cheese %d), want 1116 (666)", sale.Total, sale.Items[0].LineTotal)
	}
	r1, err := refund(s, s.key(), sale.ID, nil, s.cheese, "0.111", s.apple, "1")
	if err != nil {
		t.Fatal(err)
	}
	if r1.ReturnNumber != "RET-202611-0001" || r1.Total != 222+150 {
		t.Errorf("first refund: got %s total %d, want RET-202611-0001 total 372", r1.ReturnNumber, r1.Total)
	}
	_, err = refund(s, s.key(), sale.ID, nil, s.apple, "2.001")
	wantCode(t, err, engine.EREFUNDEXCEEDSSALE)
	_, err = refund(s, s.key(), sale.ID, nil, s.cheese, "0.223")
	wantCode(t, err, engine.EREFUNDEXCEEDSSALE)
	no := false
	r2, err := refund(s, s.key(), sale.ID, &no, s.cheese, "0.222", s.apple, "2")
	if err != nil {
		t.Fatal(err)
	}
	// The two cheese refunds add up to the line total exactly.
	if r2.Total != 666-222+300 {
		t.Errorf("second refund total: got %d, want %d", r2.Total, 666-222+300)
	}
	_, err = refund(s, s.key(), sale.ID, nil, s.apple, "0.001")
	wantCode(t, err, engine.EREFUNDEXCEEDSSALE)
	got, err := s.svc.Sale(ctx, s.owner, sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Items[0].RefundedAmount != 666 || got.Items[1].RefundedQuantity != engine.Q(3) || len(got.Returns) != 2 {
		t.Errorf("sale after refunds: %+v", got)
	}
	// Restock only for the first refund: -0.333+0.111 cheese, -3+1 apples.
	levels, _ := s.svc.StockLevels(ctx, s.owner, s.loc)
	want := map[string]engine.Quantity{s.cheese: -222, s.apple: engine.Q(-2)}
	for _, l := range levels {
		if want[l.ProductID] != l.Quantity {
			t.Errorf("stock of %s: got %s, want %s", l.ProductID, l.Quantity, want[l.ProductID])
		}
	}
	// Refunding a product the sale never held.
	other := s.product(t, "PEAR", "Pear", 100, "0")
	_, err = refund(s, s.key(), sale.ID, nil, other, "1")
	wantCode(t, err, engine.EREFUNDEXCEEDSSALE)
	_, err = refund(s, s.key(), "missing", nil, s.apple, "1")
	wantCode(t, err, engine.ENOTFOUND)
}

func testReceiptStates(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	r := must(s.svc.CreateReceipt(ctx, s.owner, s.key(), engine.ReceiptInput{LocationID: s.loc, Supplier: "Farm",
		Items: []engine.ReceiptItemInput{{ProductID: s.apple, Quantity: json.RawMessage("10"), UnitCost: raw(80)}}})).doc(t)
	if r.Status != engine.StatusDraft || r.ReceiptNumber != nil || r.Total != 800 {
		t.Fatalf("draft: %+v", r)
	}
	if q := s.stock(t, s.loc, s.apple); q != 0 {
		t.Errorf("stock before approval: got %s, want 0", q)
	}
	out, err := s.svc.ApproveReceipt(ctx, s.owner, s.key(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	r = out.Doc
	if out.Replayed || r.Status != engine.StatusApproved || r.ReceiptNumber == nil || *r.ReceiptNumber != "RCV-202611-0001" {
		t.Errorf("approved: replayed %v %+v", out.Replayed, r)
	}
	if q := s.stock(t, s.loc, s.apple); q != engine.Q(10) {
		t.Errorf("stock after approval: got %s, want 10", q)
	}
	_, err = s.svc.ApproveReceipt(ctx, s.owner, s.key(), r.ID)
	wantCode(t, err, engine.EINVALIDSTATE)
	if n := s.lastNumber(t, "RCV-202611"); n != 1 {
		t.Errorf("RCV counter: got %d, want 1", n)
	}
	_, err = s.svc.ApproveReceipt(ctx, s.owner, s.key(), "nope")
	wantCode(t, err, engine.ENOTFOUND)
}

func (s *shop) stock(t testing.TB, loc, product string) engine.Quantity {
	t.Helper()
	levels, err := s.svc.StockLevels(context.Background(), s.owner, loc)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range levels {
		if l.ProductID == product {
			return l.Quantity
		}
	}
	return 0
}

func testTransferStates(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	branch := must(s.svc.CreateLocation(ctx, s.owner, s.key(), engine.LocationInput{Name: "Branch"})).doc(t)
	items := []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("4")}}
	if _, err := s.svc.AdjustStock(ctx, s.owner, s.key(), engine.AdjustmentInput{LocationID: s.loc, Items: items, Reason: "count"}); err != nil {
		t.Fatal(err)
	}
	newTransfer := func() *engine.Transfer {
		return must(s.svc.CreateTransfer(ctx, s.owner, s.key(), engine.TransferInput{FromLocationID: s.loc, ToLocationID: branch.ID, Items: items})).doc(t)
	}
	tr := newTransfer()
	_, err := s.svc.ReceiveTransfer(ctx, s.owner, s.key(), tr.ID)
	wantCode(t, err, engine.EINVALIDSTATE)
	tr = must(s.svc.SendTransfer(ctx, s.owner, s.key(), tr.ID)).doc(t)
	if tr.Status != engine.StatusInTransit || tr.TransferNumber == nil || *tr.TransferNumber != "TRF-202611-0001" {
		t.Errorf("sent: %+v", tr)
	}
	if a, b := s.stock(t, s.loc, s.apple), s.stock(t, branch.ID, s.apple); a != 0 || b != 0 {
		t.Errorf("in transit: source %s dest %s, want 0 0", a, b)
	}
	_, err = s.svc.SendTransfer(ctx, s.owner, s.key(), tr.ID)
	wantCode(t, err, engine.EINVALIDSTATE)
	// The source is empty now: a second transfer cannot be sent.
	tr2 := newTransfer()
	_, err = s.svc.SendTransfer(ctx, s.owner, s.key(), tr2.ID)
	wantCode(t, err, engine.EINSUFFICIENTSTOCK)
	tr = must(s.svc.ReceiveTransfer(ctx, s.owner, s.key(), tr.ID)).doc(t)
	if tr.Status != engine.StatusReceived || tr.ReceivedAt == nil {
		t.Errorf("received: %+v", tr)
	}
	if b := s.stock(t, branch.ID, s.apple); b != engine.Q(4) {
		t.Errorf("destination after receive: got %s, want 4", b)
	}
	_, err = s.svc.ReceiveTransfer(ctx, s.owner, s.key(), tr.ID)
	wantCode(t, err, engine.EINVALIDSTATE)
	_, err = s.svc.CreateTransfer(ctx, s.owner, s.key(), engine.TransferInput{FromLocationID: s.loc, ToLocationID: s.loc, Items: items})
	wantCode(t, err, engine.EINVALID)
}

// testStockLedger runs a mix of documents and checks that every stock
// level equals the sum of its movements, and that each movement points at a
// stored document.
func testStockLedger(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	branch := must(s.svc.CreateLocation(ctx, s.owner, s.key(), engine.LocationInput{Name: "Branch"})).doc(t)
	s.svc.AdjustStock(ctx, s.owner, s.key(), engine.AdjustmentInput{LocationID: s.loc, Reason: "opening", Items: []engine.ItemInput{
		{ProductID: s.apple, Quantity: json.RawMessage("100")}, {ProductID: s.cheese, Quantity: json.RawMessage("-1.5")}}})
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := engine.IdempotencyKey(fmt.Sprintf("ledger-%d", i))
			out, err := s.svc.CreateSale(ctx, s.owner, key, s.saleInput(fmt.Sprintf("%d.25", i%3+1)))
			if err != nil {
				t.Error(err)
				return
			}
			sale := out.Doc
			if i%2 == 0 {
				s.svc.RefundSale(ctx, s.owner, key+"-r", sale.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}}})
			}
		}(i)
	}
	wg.Wait()
	tr := must(s.svc.CreateTransfer(ctx, s.owner, s.key(), engine.TransferInput{FromLocationID: s.loc, ToLocationID: branch.ID, Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("5")}}})).doc(t)
	if _, err := s.svc.SendTransfer(ctx, s.owner, s.key(), tr.ID); err != nil {
		t.Fatal(err)
	}
	s.svc.ReceiveTransfer(ctx, s.owner, s.key(), tr.ID)
	err := engine.Scan(ctx, s.svc.Store(), func(tx engine.ScanTx) error {
		sum := map[[2]string]engine.Quantity{}
		err := tx.Movements(s.biz.ID, func(m *engine.Movement) error {
			sum[[2]string{m.LocationID, m.ProductID}] += m.Quantity
			var err error
			switch m.Doc.Kind {
			case engine.KindSale:
				_, err = tx.Sale(s.biz.ID, m.Doc.ID)
			case engine.KindReturn:
				_, err = tx.Return(s.biz.ID, m.Doc.ID)
			case engine.KindTransfer:
				_, err = tx.Transfer(s.biz.ID, m.Doc.ID)
			case engine.KindAdjustment:
				_, err = tx.Adjustment(s.biz.ID, m.Doc.ID)
			default:
				t.Errorf("movement of unexpected kind %q", m.Doc.Kind)
			}
			if err != nil {
				t.Errorf("movement points at missing %s %s: %v", m.Doc.Kind, m.Doc.ID, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		seen := 0
		for _, loc := range []string{s.loc, branch.ID} {
			levels, err := tx.StockAt(s.biz.ID, loc)
			if err != nil {
				return err
			}
			for _, l := range levels {
				seen++
				if want := sum[[2]string{loc, l.ProductID}]; l.Quantity != want {
					t.Errorf("stock %s/%s: got %s, ledger sums to %s", loc, l.ProductID, l.Quantity, want)
				}
			}
		}
		if seen != len(sum) {
			t.Errorf("stock records: got %d, ledger has %d", seen, len(sum))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 100 - (40 sales averaging 2.25 ≈ 13×1.25+14×2.25+13×3.25) + 20 refunds - 5 transferred.
	var sold engine.Quantity
	for i := 0; i < 40; i++ {
		sold += engine.Quantity((i%3+1)*1000 + 250)
	}
	if got, want := s.stock(t, s.loc, s.apple), engine.Q(100)-sold+engine.Q(20)-engine.Q(5); got != want {
		t.Errorf("apples at main: got %s, want %s", got, want)
	}
}

func testIdempotentReplay(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	first, err := s.svc.CreateSale(ctx, s.owner, "same", s.saleInput("1"))
	if err != nil || first.Replayed || first.Current || first.Version != engine.AnswerVersion {
		t.Fatalf("first answer: %v %+v", err, first)
	}
	again, err := s.svc.CreateSale(ctx, s.owner, "same", s.saleInput("1"))
	if err != nil || !again.Replayed || again.Current || again.Version != first.Version {
		t.Fatalf("replay: %v %+v", err, again)
	}
	sameJSON(t, "replay", again.Doc, first.Doc)
	if n := s.lastNumber(t, "INV-202611"); n != 1 {
		t.Errorf("sales made: got %d, want 1", n)
	}
	// Same key, other body: refused. Same key, other route: refused.
	_, err = s.svc.CreateSale(ctx, s.owner, "same", s.saleInput("2"))
	wantCode(t, err, engine.EIDEMPOTENCYREUSED)
	_, err = s.svc.CreateLocation(ctx, s.owner, "same", engine.LocationInput{Name: "x"})
	wantCode(t, err, engine.EIDEMPOTENCYREUSED)
	// A refused request records nothing: the key can be used afterwards.
	bad := s.saleInput("1")
	bad.Payments[0].Amount = raw(1)
	_, err = s.svc.CreateSale(ctx, s.owner, "fresh", bad)
	wantCode(t, err, engine.EINVALID)
	out, err := s.svc.CreateSale(ctx, s.owner, "fresh", s.saleInput("1"))
	if err != nil || out.Replayed {
		t.Errorf("key after refusal: %v", err)
	}
	// Every kind of answer replays as it was first given; a token's
	// without its secret.
	tok, err := s.svc.CreateToken(ctx, s.owner, "tok", engine.TokenInput{Role: "till", Name: "Till 1"})
	if err != nil || tok.Doc.Secret == nil {
		t.Fatalf("token: %v %+v", err, tok)
	}
	tok2, err := s.svc.CreateToken(ctx, s.owner, "tok", engine.TokenInput{Role: "till", Name: "Till 1"})
	if err != nil || !tok2.Replayed || tok2.Doc.Secret != nil {
		t.Fatalf("token replay: %v %+v", err, tok2)
	}
	want := *tok.Doc
	want.Secret = nil
	sameJSON(t, "token replay", tok2.Doc, &want)
	loc := must(s.svc.CreateLocation(ctx, s.owner, "loc", engine.LocationInput{Name: "Back"})).doc(t)
	sameJSON(t, "location replay", must(s.svc.CreateLocation(ctx, s.owner, "loc", engine.LocationInput{Name: "Back"})).doc(t), loc)
	items := func(q string) []engine.ItemInput {
		return []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage(q)}}
	}
	adj := engine.AdjustmentInput{LocationID: s.loc, Items: items("10"), Reason: "count"}
	sameJSON(t, "adjustment replay", must(s.svc.AdjustStock(ctx, s.owner, "adj", adj)).doc(t), must(s.svc.AdjustStock(ctx, s.owner, "adj", adj)).doc(t))
	tr := engine.TransferInput{FromLocationID: s.loc, ToLocationID: loc.ID, Items: items("2")}
	x := must(s.svc.CreateTransfer(ctx, s.owner, "tr", tr)).doc(t)
	sameJSON(t, "transfer replay", must(s.svc.CreateTransfer(ctx, s.owner, "tr", tr)).doc(t), x)
	sent := must(s.svc.SendTransfer(ctx, s.owner, "send", x.ID)).doc(t)
	received := must(s.svc.ReceiveTransfer(ctx, s.owner, "recv", x.ID)).doc(t)
	sameJSON(t, "send replay", must(s.svc.SendTransfer(ctx, s.owner, "send", x.ID)).doc(t), sent)
	sameJSON(t, "receive replay", must(s.svc.ReceiveTransfer(ctx, s.owner, "recv", x.ID)).doc(t), received)
	rin := engine.ReceiptInput{LocationID: s.loc, Supplier: "Farm", Items: []engine.ReceiptItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1"), UnitCost: raw(80)}}}
	rc := must(s.svc.CreateReceipt(ctx, s.owner, "rc", rin)).doc(t)
	sameJSON(t, "receipt replay", must(s.svc.CreateReceipt(ctx, s.owner, "rc", rin)).doc(t), rc)
	ap := must(s.svc.ApproveReceipt(ctx, s.owner, "ap", rc.ID)).doc(t)
	sameJSON(t, "approval replay", must(s.svc.ApproveReceipt(ctx, s.owner, "ap", rc.ID)).doc(t), ap)
	ret := must(s.svc.RefundSale(ctx, s.owner, "ret", first.Doc.ID, engine.RefundInput{Items: items("1")})).doc(t)
	sameJSON(t, "refund replay", must(s.svc.RefundSale(ctx, s.owner, "ret", first.Doc.ID, engine.RefundInput{Items: items("1")})).doc(t), ret)
	// The sale has a refund now; a retry of it is still the first answer,
	// without the refund (a store that answers from the sale as stored
	// must take the refund out again).
	if now, err := s.svc.Sale(ctx, s.owner, first.Doc.ID); err != nil || len(now.Returns) != 1 || now.Items[0].RefundedQuantity == 0 {
		t.Fatalf("the sale after its refund: %v %+v", err, now)
	}
	sameJSON(t, "sale replay after its refund", must(s.svc.CreateSale(ctx, s.owner, "same", s.saleInput("1"))).doc(t), first.Doc)
}

// sameJSON fails unless got and want have the same JSON: what a replay
// renders must be what the first answer rendered.
func sameJSON(t testing.TB, what string, got, want any) {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil || string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testIdempotencyAfterTTL(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	first, err := s.svc.CreateSale(ctx, s.owner, "late", s.saleInput("1"))
	if err != nil {
		t.Fatal(err)
	}
	sale := first.Doc
	if _, err := refund(s, s.key(), sale.ID, nil, s.apple, "1"); err != nil {
		t.Fatal(err)
	}
	// Within the TTL: the stored first answer, though the sale has changed
	// since.
	s.clock.Set(s.clock.Now().Add(23 * time.Hour))
	out, err := s.svc.CreateSale(ctx, s.owner, "late", s.saleInput("1"))
	if err != nil || !out.Replayed || out.Current || out.Version != first.Version {
		t.Fatalf("replay within TTL: %v %+v", err, out)
	}
	sameJSON(t, "replay within TTL", out.Doc, first.Doc)
	s.clock.Set(s.clock.Now().Add(2 * time.Hour))
	n, err := s.svc.SweepIdempotency(ctx, 2)
	if err != nil || n < 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	out, err = s.svc.CreateSale(ctx, s.owner, "late", s.saleInput("1"))
	if err != nil || !out.Replayed || !out.Current || out.Version != engine.AnswerVersion {
		t.Fatalf("replay after TTL: %v %+v", err, out)
	}
	again := out.Doc
	if again.ID != sale.ID || again.InvoiceNumber != sale.InvoiceNumber || len(again.Returns) != 1 || again.Items[0].RefundedQuantity != engine.Q(1) {
		t.Errorf("after TTL: got %s %s %v, want %s %s with its refund", again.ID, again.InvoiceNumber, again.Returns, sale.ID, sale.InvoiceNumber)
	}
	if n := s.lastNumber(t, "INV-202611"); n != 1 {
		t.Errorf("sales after late retry: got %d, want 1", n)
	}
	_, err = s.svc.CreateSale(ctx, s.owner, "late", s.saleInput("2"))
	wantCode(t, err, engine.EIDEMPOTENCYREUSED)
}

func testSaleListing(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	branch := must(s.svc.CreateLocation(ctx, s.owner, s.key(), engine.LocationInput{Name: "Branch"})).doc(t)
	var want []string
	for i := 0; i < 7; i++ {
		want = append(want, s.sale(t, s.key(), "1").InvoiceNumber)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		sales, next, err := s.svc.Sales(ctx, s.owner, engine.SaleFilter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range sales {
			got = append(got, x.InvoiceNumber)
		}
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		cursor = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages: got %v, want %v", got, want)
	}
	newest, _, _ := s.svc.Sales(ctx, s.owner, engine.SaleFilter{Limit: 2, Newest: true})
	if len(newest) != 2 || newest[0].InvoiceNumber != want[6] || newest[1].InvoiceNumber != want[5] {
		t.Errorf("newest first: got %d", len(newest))
	}
	atBranch, _, err := s.svc.Sales(ctx, s.owner, engine.SaleFilter{LocationID: branch.ID})
	if err != nil || len(atBranch) != 0 {
		t.Errorf("branch sales: %d %v", len(atBranch), err)
	}
	_, _, err = s.svc.Sales(ctx, s.owner, engine.SaleFilter{Cursor: "garbage"})
	wantCode(t, err, engine.EINVALID)
}
