package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"posd/engine"
)

// Month is a shop's November 2026 in Europe/Berlin, with a document of
// every numbered kind and the edges an export and a chain must get right:
// a sale in the last minutes of October and one in the first minutes of
// November (local time, an hour before UTC), weighed goods whose amounts
// round, three tax rates, a split payment with change, refunds of a sale
// of October and of November, a line refunded in two steps, an approved and
// a draft receipt, a sent and received transfer, and sales of the first
// minutes of December. Tests of the export, of posd verify and of tampering
// build on it, on every backend.
type Month struct {
	Svc   *engine.Service
	Clock *Clock
	Biz   *engine.Business
	Owner *engine.Actor
	// OwnerToken is the owner's secret, for tests over HTTP.
	OwnerToken string
	// Main and Storeroom are the two locations.
	Main, Storeroom string
	// Apple (1.50, 20 %), Cheese (19.99 per kg, 7 %), Book (12.50, 0 %).
	Apple, Cheese, Book string
	// The documents in the order they were made, as first answered.
	Sales     []*engine.Sale
	Returns   []*engine.Return
	Receipts  []*engine.Receipt
	Transfers []*engine.Transfer
	keys      int
}

// Berlin is Month's time zone.
const Berlin = "Europe/Berlin"

// NewMonth fills a new business of svc (whose clock it takes over) with the
// month. Documents are numbered INV-202610-0001 (31 Oct, 23:30 local),
// INV-202611-0001…0023, RET-202611-0001…0004, RCV-202611-0001,
// TRF-202611-0001 and INV-202612-0001 (1 Dec, 00:10 local).
func NewMonth(t testing.TB, svc *engine.Service) *Month {
	t.Helper()
	ctx := context.Background()
	c := NewClock(time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC))
	svc.Now = c.Now
	biz, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "Corner Shop", Timezone: Berlin, Currency: "EUR"})
	if err != nil {
		t.Fatalf("CreateBusiness: %v", err)
	}
	owner, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	m := &Month{Svc: svc, Clock: c, Biz: biz, Owner: owner, OwnerToken: secret, Main: loc.ID}
	m.Apple = m.product(t, "4006381333931", "Apple", 150, "20")
	m.Cheese = m.product(t, "CHEESE", "Käse, \"Bergkäse\" (kg)", 1999, "7")
	m.Book = m.product(t, "978-3-16-148410-0", "Book", 1250, "0")
	l := do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Location], error) {
		return svc.CreateLocation(ctx, owner, k, engine.LocationInput{Name: "Store room"})
	})
	m.Storeroom = l.ID
	do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Adjustment], error) {
		return svc.AdjustStock(ctx, owner, k, engine.AdjustmentInput{LocationID: m.Main, Reason: "opening stock",
			Items: []engine.ItemInput{{ProductID: m.Apple, Quantity: json.RawMessage("100")}}})
	})
	berlin, _ := time.LoadLocation(Berlin)
	at := func(month time.Month, day, hour, min int) {
		c.Set(time.Date(2026, month, day, hour, min, 0, 0, berlin))
	}

	at(10, 31, 23, 30) // October's last sale
	m.Sell(t, cash(500), line(m.Apple, "3"))
	at(11, 1, 0, 30) // November's first: 22:30 UTC on 31 October
	m.Sell(t, []pay{{"card", 300}, {"cash", 1000}}, line(m.Apple, "2"), line(m.Cheese, "0.25"))
	at(11, 2, 10, 0)
	m.Sell(t, []pay{{"card", 1250}}, line(m.Book, "1"))
	at(11, 3, 11, 0)
	m.Refund(t, m.Sales[1].ID, true, line(m.Apple, "1"))
	at(11, 4, 9, 15) // a refund in November of October's sale
	m.Refund(t, m.Sales[0].ID, false, line(m.Apple, "1"))
	at(11, 5, 8, 0)
	rc := do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Receipt], error) {
		return svc.CreateReceipt(ctx, owner, k, engine.ReceiptInput{LocationID: m.Main, Supplier: "Müller & Söhne",
			Items: []engine.ReceiptItemInput{{ProductID: m.Apple, Quantity: json.RawMessage("100"), UnitCost: json.RawMessage("60")},
				{ProductID: m.Cheese, Quantity: json.RawMessage("12.5"), UnitCost: json.RawMessage("1100")}}})
	})
	c.Add(time.Hour)
	rc = do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Receipt], error) {
		return svc.ApproveReceipt(ctx, owner, k, rc.ID)
	})
	m.Receipts = append(m.Receipts, rc)
	at(11, 6, 18, 0)
	tr := do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Transfer], error) {
		return svc.CreateTransfer(ctx, owner, k, engine.TransferInput{FromLocationID: m.Main, ToLocationID: m.Storeroom,
			Items: []engine.ItemInput{{ProductID: m.Apple, Quantity: json.RawMessage("10")}}})
	})
	tr = do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Transfer], error) {
		return svc.SendTransfer(ctx, owner, k, tr.ID)
	})
	at(11, 7, 9, 0)
	sent := *tr // the transfer as it was numbered; receiving it changes only what is not hashed
	do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Transfer], error) {
		return svc.ReceiveTransfer(ctx, owner, k, tr.ID)
	})
	m.Transfers = append(m.Transfers, &sent)
	at(11, 8, 9, 0) // a draft that is never approved: not numbered, not exported
	do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Receipt], error) {
		return svc.CreateReceipt(ctx, owner, k, engine.ReceiptInput{LocationID: m.Main, Supplier: "Draft Ltd",
			Items: []engine.ReceiptItemInput{{ProductID: m.Book, Quantity: json.RawMessage("5"), UnitCost: json.RawMessage("700")}}})
	})
	at(11, 10, 12, 0) // 0.333 kg: 6.656667 rounds to 6.66, tax 0.44
	m.Sell(t, cash(700), line(m.Cheese, "0.333"))
	at(11, 11, 12, 0) // its line refunded in two steps
	m.Refund(t, m.Sales[3].ID, true, line(m.Cheese, "0.111"))
	c.Add(time.Hour)
	m.Refund(t, m.Sales[3].ID, true, line(m.Cheese, "0.222"))
	for i := 0; i < 19; i++ { // a busy Saturday
		at(11, 14, 9+i/3, 20*(i%3))
		m.Sell(t, cash(2000), line(m.Apple, fmt.Sprint(1+i%4)), line(m.Book, "1"))
	}
	at(11, 30, 23, 30) // November's last: still November in Berlin
	m.Sell(t, []pay{{"voucher", 150}}, line(m.Apple, "1"))
	at(12, 1, 0, 10) // December's first: 23:10 UTC on 30 November
	m.Sell(t, cash(150), line(m.Apple, "1"))
	return m
}

type pay struct {
	method string
	amount int
}

func cash(amount int) []pay { return []pay{{"cash", amount}} }

func line(product, qty string) engine.SaleItemInput {
	return engine.SaleItemInput{ProductID: product, Quantity: json.RawMessage(qty)}
}

func (m *Month) key() engine.IdempotencyKey {
	m.keys++
	return engine.IdempotencyKey(fmt.Sprintf("month-%s-%d", m.Biz.ID, m.keys))
}

// do runs one idempotent write of m with a fresh key and returns its
// document.
func do[D any](t testing.TB, m *Month, fn func(engine.IdempotencyKey) (*engine.Outcome[D], error)) D {
	t.Helper()
	out, err := fn(m.key())
	if err != nil {
		t.Fatal(err)
	}
	return out.Doc
}

func (m *Month) product(t testing.TB, sku, name string, price int, tax string) string {
	t.Helper()
	p := do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Product], error) {
		return m.Svc.CreateProduct(context.Background(), m.Owner, k, engine.ProductInput{SKU: sku, Name: name, Price: json.RawMessage(fmt.Sprint(price)), TaxRate: json.RawMessage(tax)})
	})
	return p.ID
}

// Sell rings up a sale at Main now and keeps its answer.
func (m *Month) Sell(t testing.TB, pays []pay, lines ...engine.SaleItemInput) *engine.Sale {
	t.Helper()
	in := engine.SaleInput{LocationID: m.Main, Items: lines}
	for _, p := range pays {
		in.Payments = append(in.Payments, engine.PaymentInput{Method: p.method, Amount: json.RawMessage(fmt.Sprint(p.amount))})
	}
	s := do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Sale], error) {
		return m.Svc.CreateSale(context.Background(), m.Owner, k, in)
	})
	m.Sales = append(m.Sales, s)
	return s
}

// Refund refunds lines of a sale now and keeps the answer.
func (m *Month) Refund(t testing.TB, saleID string, restock bool, lines ...engine.SaleItemInput) *engine.Return {
	t.Helper()
	in := engine.RefundInput{Restock: &restock}
	for _, l := range lines {
		in.Items = append(in.Items, engine.ItemInput{ProductID: l.ProductID, Quantity: l.Quantity})
	}
	r := do(t, m, func(k engine.IdempotencyKey) (*engine.Outcome[*engine.Return], error) {
		return m.Svc.RefundSale(context.Background(), m.Owner, k, saleID, in)
	})
	m.Returns = append(m.Returns, r)
	return r
}

// November returns the numbered documents of November in Berlin: every
// sale but the first and the last, every refund, the receipt, the
// transfer.
func (m *Month) November() (sales []*engine.Sale, returns []*engine.Return) {
	return m.Sales[1 : len(m.Sales)-1], m.Returns
}
