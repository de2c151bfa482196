// Package storetest is the conformance suite for engine.Store
// implementations. Every backend runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) engine.Store { return mustOpen(t) })
//	}
//
// It drives the real engine.Service over the store, so it checks both what
// the store must guarantee (atomic, isolated, durable-on-return updates;
// uniqueness of numbers and keys; reads seeing a transaction's own writes)
// and that the engine's invariants hold on top of it: numbers 1..N with no
// gap under concurrent writers, no number spent by a failed write, month
// rollover in the business's time zone, refund limits, the state machines of
// receipts and transfers, and stock equal to the sum of its movements.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"posd/engine"
)

// Opener returns a fresh, empty store; the suite closes it.
type Opener func(t *testing.T) engine.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"UpdateIsAtomic", testUpdateIsAtomic},
		{"ReadsSeeOwnWrites", testReadsSeeOwnWrites},
		{"FailedUpdateDoesNotDisturbOthers", testFailedUpdateIsolated},
		{"UniqueNumberAndKey", testUniqueness},
		{"TenantIsolation", testTenantIsolation},
		{"GaplessNumbersUnderConcurrency", testGaplessConcurrent},
		{"FailedWriteConsumesNoNumber", testFailedWriteNoNumber},
		{"MonthRolloverInBusinessZone", testMonthRollover},
		{"NumbersGrowPast9999", testPast9999},
		{"RefundLimits", testRefundLimits},
		{"ReceiptStateMachine", testReceiptStates},
		{"TransferStateMachine", testTransferStates},
		{"StockEqualsLedger", testStockLedger},
		{"IdempotentReplay", testIdempotentReplay},
		{"IdempotencyAfterTTL", testIdempotencyAfterTTL},
		{"SaleListingCursor", testSaleListing},
		{"DocumentIterators", testDocumentIterators},
		{"VerifyClean", testVerifyClean},
		{"VerifyFindings", testVerifyFindings},
		{"PairingOnceAndReplay", testPairing},
		{"TillReportsPersist", testTillReports},
		{"ProductImportRecorded", testProductImport},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// Clock is a settable test clock for Service.Now. Every read moves it
// forward by a millisecond, as a real clock would between operations.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time and advances it by a millisecond.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// shop is a business with a location, two products and an owner actor.
type shop struct {
	svc      *engine.Service
	clock    *Clock
	biz      *engine.Business
	loc      string
	owner    *engine.Actor
	apple    string // price 150, tax 20%
	cheese   string // price 1999 per kg
	keyCount int
}

func newShop(t *testing.T, open Opener, tz string) *shop {
	t.Helper()
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := engine.NewService(st)
	c := NewClock(time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC))
	svc.Now = c.Now
	return addShop(t, svc, c, tz)
}

func addShop(t *testing.T, svc *engine.Service, c *Clock, tz string) *shop {
	t.Helper()
	ctx := context.Background()
	biz, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "Test shop", Timezone: tz, Currency: "EUR"})
	if err != nil {
		t.Fatalf("CreateBusiness: %v", err)
	}
	owner, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	s := &shop{svc: svc, clock: c, biz: biz, loc: loc.ID, owner: owner}
	s.apple = s.product(t, "APPLE", "Apple", 150, "20")
	s.cheese = s.product(t, "CHEESE", "Cheese (kg)", 1999, "7")
	return s
}

func (s *shop) key() engine.IdempotencyKey {
	s.keyCount++
	return engine.IdempotencyKey(fmt.Sprintf("key-%s-%d", s.biz.ID, s.keyCount))
}

func (s *shop) product(t *testing.T, sku, name string, price int, tax string) string {
	t.Helper()
	out, err := s.svc.CreateProduct(context.Background(), s.owner, s.key(), engine.ProductInput{SKU: sku, Name: name, Price: raw(price), TaxRate: json.RawMessage(tax)})
	if err != nil {
		t.Fatalf("CreateProduct: %v", err)
	}
	var p engine.Product
	decode(t, out.Body, &p)
	return p.ID
}

func raw(v any) json.RawMessage { return json.RawMessage(fmt.Sprint(v)) }

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// sale sells qty apples paid in cash and returns the sale.
func (s *shop) sale(t *testing.T, key engine.IdempotencyKey, qty string) *engine.Sale {
	t.Helper()
	out, err := s.svc.CreateSale(context.Background(), s.owner, key, s.saleInput(qty))
	if err != nil {
		t.Fatalf("CreateSale: %v", err)
	}
	var sale engine.Sale
	decode(t, out.Body, &sale)
	return &sale
}

func (s *shop) saleInput(qty string) engine.SaleInput {
	return engine.SaleInput{LocationID: s.loc,
		Items:    []engine.SaleItemInput{{ProductID: s.apple, Quantity: json.RawMessage(qty)}},
		Payments: []engine.PaymentInput{{Method: "cash", Amount: raw(1_000_000)}}}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := engine.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}

// lastNumber reads a series counter.
func (s *shop) lastNumber(t *testing.T, series engine.Series) uint64 {
	t.Helper()
	var n uint64
	err := s.svc.Store().View(context.Background(), func(tx engine.Tx) error {
		var err error
		n, err = tx.LastNumber(s.biz.ID, series)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
