// Package storetest is the conformance suite for engine.Store
// implementations. Every backend runs it from its own tests, on the store
// itself and on the store behind Rerunning:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t testing.TB) engine.Store { return mustOpen(t) })
//	}
//
// It drives the real engine.Service over the store, so it checks both what
// the store must guarantee (atomic, isolated, durable-on-return updates;
// uniqueness of numbers and keys; reads seeing a transaction's own writes)
// and that the engine's invariants hold on top of it: numbers 1..N with no
// gap under concurrent writers, no number spent by a failed write, month
// rollover in the business's time zone, refund limits, the state machines of
// receipts and transfers, and stock equal to the sum of its movements.
//
// The Concurrent… cases pass only on a store whose updates are serializable
// per business (engine.Store.Update): concurrent refunds of one sale line,
// sends draining one stock, approvals of one receipt and writes with one
// key. storetest_test.go shows each of them failing on a store that reads a
// snapshot and writes blindly, as a database store without locks would.
//
// The package also holds what every other package's tests start from: the
// test shop (NewShop) and a settable clock (Clock).
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"posd/engine"
)

// Opener returns a fresh, empty store; the suite closes it.
type Opener func(t testing.TB) engine.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Opener) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
	t.Run("VerifyFindings", func(t *testing.T) { testVerifyFindings(t, open) })
}

// testCase is one conformance test.
type testCase struct {
	name string
	fn   func(testing.TB, Opener)
}

var cases = append([]testCase{
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
	{"PairingOnceAndReplay", testPairing},
	{"TillReportsPersist", testTillReports},
	{"ProductImportRecorded", testProductImport},
	{"ReturnListing", testReturnListing},
	{"ChainLinksEveryDocument", testChainLinks},
	{"ChainSkipsFailedWrites", testChainSkipsFailedWrites},
	{"ExportMonth", testExportMonth},
}, append(closeCases, serialisationCases...)...)

// FastPINs is a PIN hasher for tests of stores: SHA-256, where posd runs
// argon2id (engine/pinhash). What a store must do with a PIN's key (index
// it, keep it unique, never return another business's) does not depend on
// how slow the key was to make.
type FastPINs struct{}

// Scheme implements engine.PINHasher.
func (FastPINs) Scheme() string { return "test-sha256" }

// Key implements engine.PINHasher.
func (FastPINs) Key(pin, business string) engine.PINKey {
	return engine.PINKey(sha256.Sum256([]byte(business + "\x00" + pin)))
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

// shop is the test shop (Shop) as the cases use it, with the clock its
// service reads.
type shop struct {
	svc      *engine.Service
	clock    *Clock
	biz      *engine.Business
	loc      string
	owner    *engine.Actor
	apple    string // Shop.Apple
	cheese   string // Shop.Cheese
	keyCount int
}

func newShop(t testing.TB, open Opener, tz string) *shop {
	t.Helper()
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := engine.NewService(st)
	c := NewClock(time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC))
	svc.Now = c.Now
	svc.PINs = FastPINs{}
	return addShop(t, svc, c, tz)
}

func addShop(t testing.TB, svc *engine.Service, c *Clock, tz string) *shop {
	t.Helper()
	sh := newBusiness(t, svc, tz)
	return &shop{svc: svc, clock: c, biz: sh.Business, loc: sh.Location, owner: sh.Owner, apple: sh.Apple.ID, cheese: sh.Cheese.ID}
}

func (s *shop) key() engine.IdempotencyKey {
	s.keyCount++
	return engine.IdempotencyKey(fmt.Sprintf("key-%s-%d", s.biz.ID, s.keyCount))
}

func (s *shop) product(t testing.TB, sku, name string, price int, tax string) string {
	t.Helper()
	out, err := s.svc.CreateProduct(context.Background(), s.owner, s.key(), engine.ProductInput{SKU: sku, Name: name, Price: raw(price), TaxRate: json.RawMessage(tax)})
	if err != nil {
		t.Fatalf("CreateProduct: %v", err)
	}
	return out.Doc.ID
}

func raw(v any) json.RawMessage { return json.RawMessage(fmt.Sprint(v)) }

// must holds the result of a write for doc: must(s.svc.CreateLocation(…)).doc(t).
func must[D any](out *engine.Outcome[D], err error) result[D] { return result[D]{out, err} }

type result[D any] struct {
	out *engine.Outcome[D]
	err error
}

// doc returns the document of the outcome, failing the test on an error.
func (r result[D]) doc(t testing.TB) D {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.out.Doc
}

// sale sells qty apples paid in cash and returns the sale.
func (s *shop) sale(t testing.TB, key engine.IdempotencyKey, qty string) *engine.Sale {
	t.Helper()
	out, err := s.svc.CreateSale(context.Background(), s.owner, key, s.saleInput(qty))
	if err != nil {
		t.Fatalf("CreateSale: %v", err)
	}
	return out.Doc
}

func (s *shop) saleInput(qty string) engine.SaleInput {
	return engine.SaleInput{LocationID: s.loc,
		Items:    []engine.SaleItemInput{{ProductID: s.apple, Quantity: json.RawMessage(qty)}},
		Payments: []engine.PaymentInput{{Method: "cash", Amount: raw(1_000_000)}}}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := engine.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}

// lastNumber reads a series counter.
func (s *shop) lastNumber(t testing.TB, series engine.Series) uint64 {
	t.Helper()
	return lastNumber(t, s.svc.Store(), s.biz.ID, series)
}

func lastNumber(t testing.TB, st engine.Store, biz string, series engine.Series) uint64 {
	t.Helper()
	var n uint64
	err := engine.Scan(context.Background(), st, func(tx engine.ScanTx) error {
		all, err := tx.Series(biz)
		n = all[series]
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
