package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"posd/engine"
)

// serialisationCases pass only on a store whose updates are serializable
// per business (engine.Store.Update): each runs writes that read, check and
// write the same data at once, and counts what came out. storetest_test.go
// shows each failing on a store that breaks the rule.
var serialisationCases = []testCase{
	{"ConcurrentRefundsOfOneLine", testConcurrentRefunds},
	{"ConcurrentSendsDrainingOneStock", testConcurrentSends},
	{"ConcurrentApprovalsOfOneReceipt", testConcurrentApprovals},
	{"ConcurrentWritesWithOneKey", testConcurrentSameKey},
	{"ConcurrentZReports", testConcurrentZReports},
	{"ConcurrentSalesFormOneChain", testConcurrentSalesChain},
}

// concurrently runs fn(0..n-1) in n goroutines released together.
func concurrently(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// tally counts the outcomes of concurrent writes by error code ("" for a
// success).
type tally struct {
	mu    sync.Mutex
	codes map[string]int
	errs  []error
}

func (c *tally) add(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.codes == nil {
		c.codes = map[string]int{}
	}
	code := engine.ErrorCode(err)
	c.codes[code]++
	if err != nil && len(c.errs) < 3 {
		c.errs = append(c.errs, err)
	}
}

// want fails unless the writes ended exactly as counted in want.
func (c *tally) want(t testing.TB, what string, want map[string]int) {
	t.Helper()
	if fmt.Sprint(c.codes) != fmt.Sprint(want) {
		t.Errorf("%s: got %v, want %v (errors: %v)", what, c.codes, want, c.errs)
	}
}

// testConcurrentRefunds: twelve tills refund one apple each of a sale line
// of six at once. Exactly six refunds fit; the others are refused with
// refund_exceeds_sale, the sale never counts more refunded than sold, and
// the refunds are RET 1..6.
func testConcurrentRefunds(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	sale := s.sale(t, s.key(), "6")
	const tills = 12
	var c tally
	concurrently(tills, func(i int) {
		_, err := s.svc.RefundSale(ctx, s.owner, engine.IdempotencyKey(fmt.Sprintf("refund-%d", i)), sale.ID,
			engine.RefundInput{Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}}})
		c.add(err)
	})
	c.want(t, "refunds", map[string]int{"": 6, engine.EREFUNDEXCEEDSSALE: tills - 6})
	got, err := s.svc.Sale(ctx, s.owner, sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l := got.Items[0]; l.RefundedQuantity != l.Quantity || l.RefundedAmount != l.LineTotal || len(got.Returns) != 6 {
		t.Errorf("sale after the refunds: refunded %s of %s, %d of %d, %d returns; want all of it in 6 returns",
			l.RefundedQuantity, l.Quantity, l.RefundedAmount, l.LineTotal, len(got.Returns))
	}
	if q := s.stock(t, s.loc, s.apple); q != 0 {
		t.Errorf("stock after selling 6 and taking 6 back: got %s, want 0", q)
	}
	if n := s.lastNumber(t, "RET-202611"); n != 6 {
		t.Errorf("RET counter: got %d, want 6", n)
	}
	wantClean(t, s)
}

// testConcurrentSends: eight transfers of three apples each leave a stock of
// ten at once. Exactly three fit; the others are refused with
// insufficient_stock, the stock never goes below zero, and the sent ones
// are TRF 1..3.
func testConcurrentSends(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	branch := must(s.svc.CreateLocation(ctx, s.owner, s.key(), engine.LocationInput{Name: "Branch"})).doc(t)
	must(s.svc.AdjustStock(ctx, s.owner, s.key(), engine.AdjustmentInput{LocationID: s.loc, Reason: "count",
		Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("10")}}})).doc(t)
	const transfers = 8
	ids := make([]string, transfers)
	for i := range ids {
		ids[i] = must(s.svc.CreateTransfer(ctx, s.owner, s.key(), engine.TransferInput{FromLocationID: s.loc, ToLocationID: branch.ID,
			Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("3")}}})).doc(t).ID
	}
	var c tally
	concurrently(transfers, func(i int) {
		_, err := s.svc.SendTransfer(ctx, s.owner, engine.IdempotencyKey(fmt.Sprintf("send-%d", i)), ids[i])
		c.add(err)
	})
	c.want(t, "sends", map[string]int{"": 3, engine.EINSUFFICIENTSTOCK: transfers - 3})
	if q := s.stock(t, s.loc, s.apple); q != engine.Q(1) {
		t.Errorf("stock at the source: got %s, want 1 (10 less three transfers of 3)", q)
	}
	if n := s.lastNumber(t, "TRF-202611"); n != 3 {
		t.Errorf("TRF counter: got %d, want 3", n)
	}
	wantClean(t, s)
}

// testConcurrentApprovals: eight managers approve one draft receipt at
// once, each with a key of their own. One approval wins; the others are
// refused with invalid_state; the receipt has one RCV number and its goods
// are in stock once.
func testConcurrentApprovals(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	r := must(s.svc.CreateReceipt(ctx, s.owner, s.key(), engine.ReceiptInput{LocationID: s.loc, Supplier: "Farm",
		Items: []engine.ReceiptItemInput{{ProductID: s.apple, Quantity: json.RawMessage("10"), UnitCost: raw(80)}}})).doc(t)
	const managers = 8
	var c tally
	concurrently(managers, func(i int) {
		_, err := s.svc.ApproveReceipt(ctx, s.owner, engine.IdempotencyKey(fmt.Sprintf("approve-%d", i)), r.ID)
		c.add(err)
	})
	c.want(t, "approvals", map[string]int{"": 1, engine.EINVALIDSTATE: managers - 1})
	got, err := s.svc.Receipt(ctx, s.owner, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != engine.StatusApproved || got.ReceiptNumber == nil || *got.ReceiptNumber != "RCV-202611-0001" {
		t.Errorf("receipt after the approvals: %s, number %v; want approved, RCV-202611-0001", got.Status, deref(got.ReceiptNumber))
	}
	if n := s.lastNumber(t, "RCV-202611"); n != 1 {
		t.Errorf("RCV counter: got %d, want 1", n)
	}
	if q := s.stock(t, s.loc, s.apple); q != engine.Q(10) {
		t.Errorf("stock after approving 10 apples: got %s, want 10", q)
	}
	wantClean(t, s)
}

// testConcurrentSameKey: sixteen requests with one key and one body at once
// (a till retrying hard, or two tabs). One sale is made, every request is
// answered without an error, with that one sale, and exactly one answer is
// the first.
func testConcurrentSameKey(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	const n = 16
	outs := make([]*engine.Outcome[*engine.Sale], n)
	var c tally
	concurrently(n, func(i int) {
		var err error
		outs[i], err = s.svc.CreateSale(ctx, s.owner, "same", s.saleInput("1"))
		c.add(err)
	})
	c.want(t, "answers", map[string]int{"": n})
	first, differ := 0, 0
	var want []byte
	for _, o := range outs {
		if o == nil {
			continue
		}
		if !o.Replayed {
			first++
		}
		b, err := json.Marshal(o.Doc)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = b
		} else if string(b) != string(want) {
			differ++
		}
	}
	if first != 1 || differ != 0 {
		t.Errorf("answers: %d first answers, %d differing from the others; want 1 first answer and all the same document", first, differ)
	}
	sales, _, err := s.svc.Sales(ctx, s.owner, engine.SaleFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(sales) != 1 {
		t.Errorf("sales made with one key: got %d, want 1", len(sales))
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// wantClean fails if Verify finds anything in the shop's store.
func wantClean(t testing.TB, s *shop) {
	t.Helper()
	rep, err := s.svc.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.Failed() {
			t.Errorf("verify: %s: %v", c.Name, c.Findings)
		}
	}
}
