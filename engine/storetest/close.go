package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"posd/engine"
)

// The day's close: cashiers and their PINs, shifts and their cash, Z
// reports. What a store must do for them is in its Tx (a PIN index that is
// unique, one open shift per till, Z reports written once and listed in
// order, refunds listed per location); the figures are the engine's, and
// testZReportFigures holds every one of them to an exact amount.

var closeCases = []testCase{
	{"Cashiers", testCashiers},
	{"PINLockout", testPINLockout},
	{"Shifts", testShifts},
	{"ZReportFigures", testZReportFigures},
	{"ZReportsAreWrittenOnce", testZWrittenOnce},
	{"ZReportAcrossMonths", testZAcrossMonths},
}

// till makes a till token bound to the shop's location and returns its
// actor.
func (s *shop) till(t testing.TB, name string) *engine.Actor {
	t.Helper()
	ctx := context.Background()
	tok := must(s.svc.CreateToken(ctx, s.owner, s.key(), engine.TokenInput{Role: "till", Name: name, LocationID: &s.loc})).doc(t)
	a, err := s.svc.Authenticate(ctx, *tok.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (s *shop) cashier(t testing.TB, name, role, pin string) *engine.Cashier {
	t.Helper()
	return must(s.svc.CreateCashier(context.Background(), s.owner, s.key(), engine.CashierInput{Name: name, Role: role, PIN: pin})).doc(t)
}

func ptr[T any](v T) *T { return &v }

// tillSale is a sale as a till sends it: lines, payments, the till's time
// and the cashier.
func (s *shop) tillSale(t testing.TB, a *engine.Actor, soldAt time.Time, cashier *engine.Cashier, lines [][2]string, pays ...engine.PaymentInput) *engine.Sale {
	t.Helper()
	in := engine.SaleInput{LocationID: s.loc, Payments: pays, SoldAt: ptr(soldAt.Format(time.RFC3339Nano))}
	for _, l := range lines {
		in.Items = append(in.Items, engine.SaleItemInput{ProductID: l[0], Quantity: json.RawMessage(l[1])})
	}
	if cashier != nil {
		in.CashierID = &cashier.ID
	}
	return must(s.svc.CreateSale(context.Background(), a, s.key(), in)).doc(t)
}

// report is a till's status report (PUT /tills/current/status) with n
// writes queued.
func (s *shop) report(t testing.TB, a *engine.Actor, n int) {
	t.Helper()
	err := s.svc.ReportTillStatus(context.Background(), a, engine.TillReport{Queued: raw(n), Parked: raw(0), Version: "test", Clock: s.clock.Now().Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
}

func payment(method string, amount int) engine.PaymentInput {
	return engine.PaymentInput{Method: method, Amount: raw(amount)}
}

func testCashiers(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	anna := s.cashier(t, "Anna", "cashier", "4821")
	if !anna.Active || !anna.HasPIN || anna.Role != engine.RoleCashier {
		t.Fatalf("new cashier: %+v", anna)
	}
	// A PIN names one person in the business.
	_, err := s.svc.CreateCashier(ctx, s.owner, s.key(), engine.CashierInput{Name: "Bea", Role: "cashier", PIN: "4821"})
	wantCode(t, err, engine.EINVALIDSTATE)
	if engine.ErrorField(err) != "pin" {
		t.Errorf("duplicate PIN blames %q, want pin", engine.ErrorField(err))
	}
	// Another business may use the same PIN.
	other := addShop(t, s.svc, s.clock, "UTC")
	other.cashier(t, "Olga", "manager", "4821")
	for _, bad := range []string{"", "123", "1234567", "12a4", "١٢٣٤"} {
		_, err := s.svc.CreateCashier(ctx, s.owner, s.key(), engine.CashierInput{Name: "X", Role: "cashier", PIN: bad})
		wantCode(t, err, engine.EINVALID)
	}
	_, err = s.svc.CreateCashier(ctx, s.owner, s.key(), engine.CashierInput{Name: "X", Role: "boss", PIN: "9999"})
	wantCode(t, err, engine.EINVALID)
	till := s.till(t, "Till 1")
	_, err = s.svc.CreateCashier(ctx, till, s.key(), engine.CashierInput{Name: "X", Role: "cashier", PIN: "9999"})
	wantCode(t, err, engine.EFORBIDDEN)

	// The PIN alone finds the cashier, in this business only.
	got, err := s.svc.SignIn(ctx, till, engine.SignInInput{PIN: "4821"})
	if err != nil || got.ID != anna.ID {
		t.Fatalf("sign in: %v, %+v; want Anna", err, got)
	}
	if _, err := other.svc.SignIn(ctx, till, engine.SignInInput{PIN: "4821", CashierID: ptr(other.cashier(t, "Oscar", "cashier", "7777").ID)}); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("another business's cashier by this till: got %v, want forbidden", err)
	}
	// Named, the PIN must be that cashier's.
	mgr := s.cashier(t, "Max", "manager", "135790")
	if _, err := s.svc.SignIn(ctx, till, engine.SignInInput{PIN: "4821", CashierID: &mgr.ID}); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("Anna's PIN for Max: got %v, want forbidden", err)
	}
	// A new PIN moves the index; the old one is free again.
	if _, err := s.svc.UpdateCashier(ctx, s.owner, anna.ID, engine.CashierPatch{PIN: ptr("1111")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.SignIn(ctx, till, engine.SignInInput{PIN: "4821"}); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("old PIN after change: got %v, want forbidden", err)
	}
	if got, err := s.svc.SignIn(ctx, till, engine.SignInInput{PIN: "1111"}); err != nil || got.ID != anna.ID {
		t.Errorf("new PIN: %v %+v", err, got)
	}
	if _, err := s.svc.UpdateCashier(ctx, s.owner, mgr.ID, engine.CashierPatch{PIN: ptr("1111")}); engine.ErrorCode(err) != engine.EINVALIDSTATE {
		t.Errorf("Max taking Anna's PIN: got %v, want invalid_state", err)
	}
	// Made inactive, a cashier cannot sign in and their PIN is free.
	gone, err := s.svc.UpdateCashier(ctx, s.owner, anna.ID, engine.CashierPatch{Active: ptr(false)})
	if err != nil || gone.Active || gone.HasPIN {
		t.Fatalf("deactivate: %v %+v", err, gone)
	}
	if _, err := s.svc.SignIn(ctx, till, engine.SignInInput{PIN: "1111"}); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("inactive cashier's PIN: got %v, want forbidden", err)
	}
	bea := s.cashier(t, "Bea", "cashier", "1111")
	if _, err := s.svc.UpdateCashier(ctx, s.owner, anna.ID, engine.CashierPatch{Active: ptr(true)}); engine.ErrorCode(err) != engine.EINVALID {
		t.Errorf("reactivating without a PIN: got %v, want invalid_request", err)
	}
	if _, err := s.svc.UpdateCashier(ctx, s.owner, anna.ID, engine.CashierPatch{Active: ptr(true), PIN: ptr("1111")}); engine.ErrorCode(err) != engine.EINVALIDSTATE {
		t.Errorf("reactivating with Bea's PIN: got %v, want invalid_state", err)
	}
	if back, err := s.svc.UpdateCashier(ctx, s.owner, anna.ID, engine.CashierPatch{Active: ptr(true), PIN: ptr("2468")}); err != nil || !back.Active {
		t.Errorf("reactivating: %v %+v", err, back)
	}
	all, err := s.svc.Cashiers(ctx, till, true)
	if err != nil || len(all) != 3 {
		t.Errorf("cashiers: %v, %d; want Anna, Max, Bea", err, len(all))
	}
	// A sale names its cashier; a cashier of nobody is refused.
	in := s.saleInput("1")
	in.CashierID = &bea.ID
	sale := must(s.svc.CreateSale(ctx, till, s.key(), in)).doc(t)
	if sale.CashierID == nil || *sale.CashierID != bea.ID {
		t.Errorf("sale's cashier: %v, want %s", sale.CashierID, bea.ID)
	}
	if got, _ := s.svc.Sale(ctx, s.owner, sale.ID); got.CashierID == nil || *got.CashierID != bea.ID {
		t.Errorf("stored sale's cashier: %+v", got)
	}
	in.CashierID = ptr(other.cashier(t, "Otto", "cashier", "5555").ID)
	_, err = s.svc.CreateSale(ctx, till, s.key(), in)
	wantCode(t, err, engine.ENOTFOUND)
	// Approvals need a manager's PIN.
	_, err = s.svc.Approve(ctx, till, s.key(), engine.ApprovalInput{PIN: "1111", Action: engine.ApproveRefund})
	wantCode(t, err, engine.EFORBIDDEN)
	ap := must(s.svc.Approve(ctx, till, "appr", engine.ApprovalInput{PIN: "135790", Action: engine.ApproveRefund})).doc(t)
	if ap.ManagerID != mgr.ID || ap.TillID != till.TokenID {
		t.Errorf("approval: %+v", ap)
	}
	again, err := s.svc.Approve(ctx, till, "appr", engine.ApprovalInput{PIN: "135790", Action: engine.ApproveRefund})
	if err != nil || !again.Replayed || again.Doc.ID != ap.ID {
		t.Errorf("approval retried: %v %+v", err, again)
	}
	wantClean(t, s)
}

func testPINLockout(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	anna := s.cashier(t, "Anna", "cashier", "4821")
	t1, t2 := s.till(t, "Till 1"), s.till(t, "Till 2")
	for i := 1; i < engine.PINTries; i++ {
		_, err := s.svc.SignIn(ctx, t1, engine.SignInInput{PIN: "0000"})
		wantCode(t, err, engine.EFORBIDDEN)
	}
	// A right PIN before the limit starts the count again.
	if _, err := s.svc.SignIn(ctx, t1, engine.SignInInput{PIN: "4821"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= engine.PINTries; i++ {
		_, err := s.svc.SignIn(ctx, t1, engine.SignInInput{PIN: "0000"})
		want := engine.EFORBIDDEN
		if i == engine.PINTries {
			want = engine.ERATELIMITED
		}
		wantCode(t, err, want)
	}
	// Locked: even the right PIN, until the lockout is over.
	_, err := s.svc.SignIn(ctx, t1, engine.SignInInput{PIN: "4821"})
	wantCode(t, err, engine.ERATELIMITED)
	var e *engine.Error
	if !asError(err, &e) || e.RetryAfter <= 0 || e.RetryAfter > engine.PINLockout {
		t.Errorf("lockout's wait: %+v", e)
	}
	// Another till is not locked.
	if _, err := s.svc.SignIn(ctx, t2, engine.SignInInput{PIN: "4821"}); err != nil {
		t.Errorf("other till: %v", err)
	}
	s.clock.Add(engine.PINLockout)
	if _, err := s.svc.SignIn(ctx, t1, engine.SignInInput{PIN: "4821"}); err != nil {
		t.Errorf("after the lockout: %v", err)
	}
	// Named wrong PINs lock the cashier on every till.
	for i := 1; i <= engine.PINTries; i++ {
		till := t1
		if i%2 == 0 {
			till = t2
		}
		s.svc.SignIn(ctx, till, engine.SignInInput{PIN: "9999", CashierID: &anna.ID})
	}
	t3 := s.till(t, "Till 3")
	_, err = s.svc.SignIn(ctx, t3, engine.SignInInput{PIN: "4821", CashierID: &anna.ID})
	wantCode(t, err, engine.ERATELIMITED)
}

func asError(err error, e **engine.Error) bool {
	x, ok := err.(*engine.Error)
	*e = x
	return ok
}

func testShifts(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	anna := s.cashier(t, "Anna", "cashier", "4821")
	mgr := s.cashier(t, "Max", "manager", "1357")
	till, other := s.till(t, "Till 1"), s.till(t, "Till 2")
	// A sale before any shift is outside one.
	before := s.tillSale(t, till, s.clock.Now(), anna, [][2]string{{s.apple, "1"}}, payment("cash", 150))
	if before.ShiftID != "" {
		t.Errorf("sale before the shift: shift %q", before.ShiftID)
	}
	at := time.Date(2026, 11, 15, 11, 59, 0, 0, time.UTC)
	sh := must(s.svc.OpenShift(ctx, till, s.key(), engine.ShiftInput{Float: raw(10000), CashierID: &anna.ID, At: ptr(at.Format(time.RFC3339))})).doc(t)
	if sh.Status != engine.ShiftOpen || sh.Float != 10000 || sh.Cash.Expected != 10000 || !sh.Opened.At.Equal(at) || sh.LocationID != s.loc {
		t.Fatalf("open: %+v", sh)
	}
	_, err := s.svc.OpenShift(ctx, till, s.key(), engine.ShiftInput{Float: raw(5000)})
	wantCode(t, err, engine.EINVALIDSTATE)
	// The till's sales and refunds are the shift's; the other till's not.
	s1 := s.tillSale(t, till, s.clock.Now(), anna, [][2]string{{s.apple, "2"}}, payment("cash", 500))
	s2 := s.tillSale(t, other, s.clock.Now(), nil, [][2]string{{s.apple, "1"}}, payment("cash", 1000))
	s3 := s.tillSale(t, till, s.clock.Now(), anna, [][2]string{{s.cheese, "1"}}, payment("card", 1000), payment("cash", 2000))
	if s1.ShiftID != sh.ID || s3.ShiftID != sh.ID || s2.ShiftID != "" {
		t.Errorf("shifts of sales: %q %q %q; want %s, none, %s", s1.ShiftID, s2.ShiftID, s3.ShiftID, sh.ID, sh.ID)
	}
	ret := must(s.svc.RefundSale(ctx, till, s.key(), s1.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}}})).doc(t)
	if ret.ShiftID != sh.ID || ret.Method != engine.MethodCash {
		t.Errorf("refund: shift %q, method %q", ret.ShiftID, ret.Method)
	}
	mv := func(typ string, amount int, reason string) *engine.Shift {
		return must(s.svc.AddCashMovement(ctx, till, s.key(), engine.CurrentShift, engine.CashMovementInput{Type: typ, Amount: raw(amount), Reason: reason, CashierID: &anna.ID})).doc(t)
	}
	mv(engine.PayIn, 5000, "change from the bank")
	now := mv(engine.PayOut, 2000, "milk")
	// 100.00 float + 25.00 cash handed over (5.00 for S1, 20.00 for S3) −
	// 12.01 change (2.00 + 10.01: S3's 19.99 paid 10.00 by card and 20.00
	// in cash) + 50.00 − 20.00 − 1.50 refunded in cash = 141.49.
	want := engine.ShiftCash{Float: 10000, CashSales: 2500, Change: 200 + 1001, CashRefunds: 150, PayIns: 5000, PayOuts: 2000,
		Expected: 14149, Sales: 2, Refunds: 1, Takings: 300 + 1999 - 150}
	if now.Cash != want {
		t.Errorf("cash so far:\n got %+v\nwant %+v", now.Cash, want)
	}
	if len(now.Movements) != 2 || now.Movements[1].Reason != "milk" || now.Movements[1].Amount != 2000 || now.Movements[1].Type != engine.PayOut {
		t.Errorf("movements: %+v", now.Movements)
	}
	cur, err := s.svc.Shift(ctx, till, engine.CurrentShift)
	if err != nil || cur.ID != sh.ID || cur.Cash != want {
		t.Errorf("current shift: %v %+v", err, cur)
	}
	if _, err := s.svc.Shift(ctx, other, sh.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("another till's shift: %v, want not_found", err)
	}
	if _, err := s.svc.Shift(ctx, other, engine.CurrentShift); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("a till without a shift: %v, want not_found", err)
	}
	// Closing 5.00 short with a limit of 2.00: without a manager the
	// close is recorded and marked; with one, approved.
	if _, err := s.svc.UpdateSettings(ctx, s.owner, engine.SettingsPatch{CashDifferenceLimit: raw(200)}); err != nil {
		t.Fatal(err)
	}
	exp := want.Expected
	// 136.49 counted by coin and note: 2 × 50.00, 20.00, 10.00, 5.00,
	// 1.00, 2 × 0.20, 0.05, 2 × 0.02.
	closeIn := engine.CloseShiftInput{CashierID: &anna.ID}
	for _, d := range [][2]int{{5000, 2}, {2000, 1}, {1000, 1}, {500, 1}, {100, 1}, {20, 2}, {5, 1}, {2, 2}} {
		closeIn.Denominations = append(closeIn.Denominations, engine.DenominationInput{Value: raw(d[0]), Count: raw(d[1])})
	}
	_, err = s.svc.CloseShift(ctx, till, s.key(), engine.CurrentShift, engine.CloseShiftInput{Counted: raw(1), Denominations: closeIn.Denominations})
	wantCode(t, err, engine.EINVALID)
	ap := must(s.svc.Approve(ctx, till, s.key(), engine.ApprovalInput{PIN: "1357", Action: engine.ApproveCashDifference})).doc(t)
	refundAp := must(s.svc.Approve(ctx, till, s.key(), engine.ApprovalInput{PIN: "1357", Action: engine.ApproveRefund})).doc(t)
	closeIn.ApprovalID = &refundAp.ID
	_, err = s.svc.CloseShift(ctx, till, s.key(), engine.CurrentShift, closeIn)
	wantCode(t, err, engine.EINVALID)
	closeIn.ApprovalID = &ap.ID
	closed := must(s.svc.CloseShift(ctx, till, s.key(), engine.CurrentShift, closeIn)).doc(t)
	c := closed.Cash
	if closed.Status != engine.ShiftClosed || c.Expected != exp || *c.Counted != 13649 || *c.Difference != -500 ||
		closed.Closed.ApprovedBy == nil || closed.Closed.ApprovedBy.ManagerID != mgr.ID || closed.Closed.NeedsApproval {
		t.Errorf("closed: %+v %+v", closed.Cash, closed.Closed)
	}
	if len(closed.Closed.Denominations) != 8 {
		t.Errorf("denominations: %+v", closed.Closed.Denominations)
	}
	_, err = s.svc.CloseShift(ctx, till, s.key(), sh.ID, engine.CloseShiftInput{Counted: raw(0)})
	wantCode(t, err, engine.EINVALIDSTATE)
	_, err = s.svc.AddCashMovement(ctx, till, s.key(), engine.CurrentShift, engine.CashMovementInput{Type: engine.PayIn, Amount: raw(1), Reason: "x"})
	wantCode(t, err, engine.EINVALIDSTATE)
	// After the close the till sells outside a shift; its next shift
	// opens afresh; an approval is used once.
	after := s.tillSale(t, till, s.clock.Now(), anna, [][2]string{{s.apple, "1"}}, payment("cash", 150))
	if after.ShiftID != "" {
		t.Errorf("sale after the close: shift %q", after.ShiftID)
	}
	sh2 := must(s.svc.OpenShift(ctx, till, s.key(), engine.ShiftInput{Float: raw(0)})).doc(t)
	if sh2.ID == sh.ID || sh2.Cash.Expected != 0 {
		t.Errorf("second shift: %+v", sh2)
	}
	_, err = s.svc.CloseShift(ctx, till, s.key(), engine.CurrentShift, engine.CloseShiftInput{Counted: raw(1000), ApprovalID: &ap.ID})
	wantCode(t, err, engine.EINVALIDSTATE)
	// Unapproved, over the limit: closed and marked.
	unapproved := must(s.svc.CloseShift(ctx, till, s.key(), engine.CurrentShift, engine.CloseShiftInput{Counted: raw(1000)})).doc(t)
	if !unapproved.Closed.NeedsApproval || *unapproved.Cash.Difference != 1000 {
		t.Errorf("unapproved close: %+v %+v", unapproved.Closed, unapproved.Cash)
	}
	// Within the limit no approval is needed.
	s.svc.OpenShift(ctx, other, s.key(), engine.ShiftInput{Float: raw(1000)})
	small := must(s.svc.CloseShift(ctx, other, s.key(), engine.CurrentShift, engine.CloseShiftInput{Counted: raw(1200)})).doc(t)
	if small.Closed.NeedsApproval || *small.Cash.Difference != 200 {
		t.Errorf("close within the limit: %+v %+v", small.Closed, small.Cash)
	}
	list, _, err := s.svc.Shifts(ctx, s.owner, engine.ShiftFilter{LocationID: s.loc})
	if err != nil || len(list) != 3 || list[0].ID != small.ID || list[2].ID != sh.ID {
		t.Errorf("shifts, newest first: %v %d", err, len(list))
	}
	wantClean(t, s)
}

// testZReportFigures scripts a day with known sales, refunds with and
// without restock, card, cash and split payments with change, pay-ins and
// pay-outs, two tax rates, a count short of the expected cash, then a
// second day with a till's late arrivals, and checks every figure of the
// Zs to the cent.
func testZReportFigures(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	anna := s.cashier(t, "Anna", "cashier", "4821")
	s.cashier(t, "Max", "manager", "1357")
	// Cheese at 7 % tax: the day has two rates.
	gouda := s.product(t, "GOUDA", "Gouda (kg)", 1999, "7")
	t1 := s.till(t, "Till 1")
	t2 := s.till(t, "Till 2")
	if _, err := s.svc.UpdateSettings(ctx, s.owner, engine.SettingsPatch{CashDifferenceLimit: raw(200)}); err != nil {
		t.Fatal(err)
	}
	sh := must(s.svc.OpenShift(ctx, t1, s.key(), engine.ShiftInput{Float: raw(10000), CashierID: &anna.ID})).doc(t)
	// S1: 2 apples (300, tax 50 at 20 %), a 5.00 note, 2.00 change.
	s1 := s.tillSale(t, t1, s.clock.Now(), anna, [][2]string{{s.apple, "2"}}, payment("cash", 500))
	// S2: 0.5 kg cheese (999.5 → 1000, tax 65 at 7 %) by card.
	s2 := s.tillSale(t, t1, s.clock.Now(), anna, [][2]string{{gouda, "0.5"}}, payment("card", 1000))
	// S3: an apple and 1 kg cheese (150 + 1999 = 2149, tax 25 + 131),
	// 10.00 by card and a 20.00 note: 8.51 change.
	s3 := s.tillSale(t, t1, s.clock.Now(), anna, [][2]string{{s.apple, "1"}, {gouda, "1"}}, payment("card", 1000), payment("cash", 2000))
	for i, sl := range []*engine.Sale{s1, s2, s3} {
		if sl.ShiftID != sh.ID {
			t.Fatalf("sale %d outside the shift", i+1)
		}
	}
	if s3.Change != 851 || s3.TaxTotal != 156 || s2.Total != 1000 || s2.TaxTotal != 65 {
		t.Fatalf("the script's sales: S2 %d/%d, S3 change %d tax %d", s2.Total, s2.TaxTotal, s3.Change, s3.TaxTotal)
	}
	must(s.svc.AddCashMovement(ctx, t1, s.key(), engine.CurrentShift, engine.CashMovementInput{Type: engine.PayIn, Amount: raw(5000), Reason: "change from the bank"})).doc(t)
	must(s.svc.AddCashMovement(ctx, t1, s.key(), engine.CurrentShift, engine.CashMovementInput{Type: engine.PayOut, Amount: raw(2000), Reason: "milk"})).doc(t)
	// R1: one of S1's apples back into stock, in cash (S1's way): 150, tax 25.
	r1 := must(s.svc.RefundSale(ctx, t1, s.key(), s1.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}},
		CashierID: &anna.ID, SoldAt: ptr(s.clock.Now().Format(time.RFC3339Nano))})).doc(t)
	// R2: 0.25 kg of S2's cheese, damaged (no restock), to the card: 500,
	// tax 33 (65 × 0.25/0.5 = 32.5, rounded half up).
	r2 := must(s.svc.RefundSale(ctx, t1, s.key(), s2.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: gouda, Quantity: json.RawMessage("0.25")}},
		Restock: ptr(false), CashierID: &anna.ID})).doc(t)
	if r1.Total != 150 || r1.TaxTotal != 25 || r1.Method != "cash" || r2.Total != 500 || r2.TaxTotal != 33 || r2.Method != "card" {
		t.Fatalf("the script's refunds: %+v %+v", r1, r2)
	}
	if q := s.stock(t, s.loc, gouda); q != -engine.Quantity(1500) {
		t.Errorf("cheese: %s, want -1.5 (R2 kept out of stock)", q)
	}
	// S4: the owner sells an apple for a voucher: no till, no shift.
	s4 := must(s.svc.CreateSale(ctx, s.owner, s.key(), engine.SaleInput{LocationID: s.loc,
		Items: []engine.SaleItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}}, Payments: []engine.PaymentInput{payment("voucher", 150)}})).doc(t)
	// The count is 2.99 short: expected 100.00 + 25.00 − 10.51 + 50.00
	// − 20.00 − 1.50 = 142.99, counted 140.00. Over the 2.00 limit, Max
	// approves.
	ap := must(s.svc.Approve(ctx, t1, s.key(), engine.ApprovalInput{PIN: "1357", Action: engine.ApproveCashDifference})).doc(t)
	closed := must(s.svc.CloseShift(ctx, t1, s.key(), engine.CurrentShift, engine.CloseShiftInput{Counted: raw(14000), ApprovalID: &ap.ID, CashierID: &anna.ID})).doc(t)
	wantCash := engine.ShiftCash{Float: 10000, CashSales: 2500, Change: 1051, CashRefunds: 150, PayIns: 5000, PayOuts: 2000, Expected: 14299,
		Counted: ptr(engine.Money(14000)), Difference: ptr(engine.Money(-299)), Sales: 3, Refunds: 2, Takings: 3449 - 650}
	sameJSON(t, "closed shift's cash", closed.Cash, wantCash)

	// Till 2 goes offline at 17:50 and sells five apples, one at a time,
	// in cash; the day is closed at 18:00 without them.
	// Till 1 reports that it has sent everything; Till 2's last report
	// says five sales wait on it.
	offlineAt := time.Date(2026, 11, 15, 17, 50, 0, 0, time.UTC)
	// Till 3 was last heard from at 17:00, with nothing queued.
	t3 := s.till(t, "Till 3")
	s.clock.Set(time.Date(2026, 11, 15, 17, 0, 0, 0, time.UTC))
	s.report(t, t3, 0)
	t3Seen := s.clock.Now().Add(-time.Millisecond)
	s.clock.Set(time.Date(2026, 11, 15, 17, 55, 0, 0, time.UTC))
	s.report(t, t2, 5)
	t2Seen := s.clock.Now().Add(-time.Millisecond)
	s.clock.Set(time.Date(2026, 11, 15, 17, 59, 50, 0, time.UTC))
	s.report(t, t1, 0)
	t1Seen := s.clock.Now().Add(-time.Millisecond)
	s.clock.Set(time.Date(2026, 11, 15, 18, 0, 0, 0, time.UTC))
	x, err := s.svc.XReport(ctx, s.owner, s.loc)
	if err != nil {
		t.Fatal(err)
	}
	z1 := must(s.svc.CreateZReport(ctx, s.owner, s.key(), engine.ZReportInput{LocationID: s.loc})).doc(t)
	sameJSON(t, "X before the Z (but its time) equals the Z", xFigures(x), xFigures(&engine.XReport{ZFigures: z1.ZFigures}))
	want1 := engine.ZFigures{
		Currency: "EUR", Timezone: "UTC", BusinessDay: "2026-11-15", To: z1.CreatedAt,
		Series: []engine.SeriesRange{
			{Series: "INV-202611", First: "INV-202611-0001", Last: "INV-202611-0004", Count: 4},
			{Series: "RET-202611", First: "RET-202611-0001", Last: "RET-202611-0002", Count: 2}},
		SalesCount: 4, RefundsCount: 2, Gross: 3599, Refunds: 650, Net: 2949,
		Tax: engine.TaxTotals{Sales: 50 + 65 + 156 + 25, Refunds: 25 + 33, Net: 296 - 58},
		ByMethod: []engine.MethodFigures{
			{Method: "cash", Sales: 300 + 1149, Refunds: 150, Net: 1449 - 150},
			{Method: "card", Sales: 2000, Refunds: 500, Net: 1500},
			{Method: "voucher", Sales: 150, Refunds: 0, Net: 150}},
		ByTaxRate: engine.RateFigures{
			Sales:   []engine.RateLine{{Rate: 700, Base: 2999 - 196, Tax: 65 + 131, Gross: 1000 + 1999}, {Rate: 2000, Base: 600 - 100, Tax: 50 + 25 + 25, Gross: 300 + 150 + 150}},
			Refunds: []engine.RateLine{{Rate: 700, Base: 500 - 33, Tax: 33, Gross: 500}, {Rate: 2000, Base: 125, Tax: 25, Gross: 150}}},
		ByTill: []engine.PartFigures{
			{ID: &t1.TokenID, Name: "Till 1", SalesCount: 3, RefundsCount: 2, Gross: 3449, Refunds: 650, Net: 2799},
			{ID: &s.owner.TokenID, Name: "owner", SalesCount: 1, Gross: 150, Net: 150}},
		ByCashier: []engine.PartFigures{
			{Name: "(no cashier)", SalesCount: 1, Gross: 150, Net: 150},
			{ID: &anna.ID, Name: "Anna", SalesCount: 3, RefundsCount: 2, Gross: 3449, Refunds: 650, Net: 2799}},
		Cash:         engine.CashFigures{Shifts: []*engine.Shift{closed}, OutsideShifts: engine.OutsideCash{Sales: 1}},
		LateArrivals: []engine.LateArrival{},
		TillsNotReported: []engine.TillNotReported{
			{TillID: t2.TokenID, Name: "Till 2", LastSeenAt: &t2Seen, Queued: 5, Reason: "5 writes still queued on the till"},
			{TillID: t3.TokenID, Name: "Till 3", LastSeenAt: &t3Seen, Reason: "offline: not heard from since its last report, and may hold sales"}},
		GrandTotal: engine.Totals{Gross: 3599, Refunds: 650, Net: 2949},
		// The heads of the business's chains when the day closed: its
		// last sale and its last refund.
		SeriesHeads: []engine.SeriesHead{{Series: "INV-202611", Number: "INV-202611-0004", Hash: s4.Hash}, {Series: "RET-202611", Number: "RET-202611-0002", Hash: r2.Hash}},
		Coverage:    engine.Marks{Sale: s4.ID, Return: r2.ID, Shift: sh.ID},
	}
	sameJSON(t, "Z-0001", z1.ZFigures, want1)
	if z1.ZNumber != "Z-0001" || z1.LocationID != s.loc {
		t.Errorf("Z: %s at %s", z1.ZNumber, z1.LocationID)
	}
	// The Z is chained: the location's first Z to the genesis value, its
	// hash over its values; the heads it anchors are real hashes.
	if h, _ := engine.ComputeHash(z1); z1.PreviousHash != engine.GenesisHash || z1.Hash == "" || h != z1.Hash || s4.Hash == "" || r2.Hash == "" {
		t.Errorf("Z-0001's link: hash %q (values give %q), previous %q; heads %q %q", z1.Hash, h, z1.PreviousHash, s4.Hash, r2.Hash)
	}

	// The second day: Till 2's five sales arrive, sold before Z-0001; Till
	// 1 sells an apple and refunds S3's cheese to the card.
	s.clock.Set(time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC))
	var late []engine.LateArrival
	for i := range 5 {
		sl := s.tillSale(t, t2, offlineAt.Add(time.Duration(i)*time.Minute), nil, [][2]string{{s.apple, "1"}}, payment("cash", 150))
		late = append(late, engine.LateArrival{Kind: engine.KindSale, ID: sl.ID, Number: sl.InvoiceNumber, SoldAt: *sl.SoldAt, Day: "2026-11-15",
			CreatedAt: sl.CreatedAt, Total: 150, TillID: t2.TokenID})
	}
	s.report(t, t2, 0)
	s10 := s.tillSale(t, t1, s.clock.Now(), anna, [][2]string{{s.apple, "1"}}, payment("card", 150))
	r3 := must(s.svc.RefundSale(ctx, t1, s.key(), s3.ID, engine.RefundInput{Items: []engine.ItemInput{{ProductID: gouda, Quantity: json.RawMessage("1")}}, Method: ptr("card")})).doc(t)
	z2 := must(s.svc.CreateZReport(ctx, s.owner, s.key(), engine.ZReportInput{LocationID: s.loc})).doc(t)
	want2 := engine.ZFigures{
		Currency: "EUR", Timezone: "UTC", BusinessDay: "2026-11-16", From: &z1.CreatedAt, To: z2.CreatedAt,
		Previous: &engine.ZRef{ID: z1.ID, ZNumber: "Z-0001", CreatedAt: z1.CreatedAt},
		Series: []engine.SeriesRange{
			{Series: "INV-202611", First: "INV-202611-0005", Last: "INV-202611-0010", Count: 6},
			{Series: "RET-202611", First: "RET-202611-0003", Last: "RET-202611-0003", Count: 1}},
		SalesCount: 6, RefundsCount: 1, Gross: 900, Refunds: 1999, Net: -1099,
		Tax: engine.TaxTotals{Sales: 150, Refunds: 131, Net: 19},
		ByMethod: []engine.MethodFigures{
			{Method: "cash", Sales: 750, Net: 750},
			{Method: "card", Sales: 150, Refunds: 1999, Net: -1849}},
		ByTaxRate: engine.RateFigures{
			Sales:   []engine.RateLine{{Rate: 2000, Base: 750, Tax: 150, Gross: 900}},
			Refunds: []engine.RateLine{{Rate: 700, Base: 1999 - 131, Tax: 131, Gross: 1999}}},
		ByTill: []engine.PartFigures{
			{ID: &t1.TokenID, Name: "Till 1", SalesCount: 1, RefundsCount: 1, Gross: 150, Refunds: 1999, Net: -1849},
			{ID: &t2.TokenID, Name: "Till 2", SalesCount: 5, Gross: 750, Net: 750}},
		ByCashier: []engine.PartFigures{
			{Name: "(no cashier)", SalesCount: 5, RefundsCount: 1, Gross: 750, Refunds: 1999, Net: 750 - 1999},
			{ID: &anna.ID, Name: "Anna", SalesCount: 1, Gross: 150, Net: 150}},
		Cash:         engine.CashFigures{Shifts: []*engine.Shift{}, OutsideShifts: engine.OutsideCash{Sales: 6, Refunds: 1, CashSales: 750, Net: 750}},
		LateArrivals: late,
		// Till 1 sold today but has not reported since yesterday.
		TillsNotReported: []engine.TillNotReported{
			{TillID: t1.TokenID, Name: "Till 1", LastSeenAt: &t1Seen, Reason: "not seen since the day began"},
			{TillID: t3.TokenID, Name: "Till 3", LastSeenAt: &t3Seen, Reason: "not seen since the day began"}},
		GrandTotal:  engine.Totals{Gross: 3599 + 900, Refunds: 650 + 1999, Net: 2949 - 1099},
		SeriesHeads: []engine.SeriesHead{{Series: "INV-202611", Number: "INV-202611-0010", Hash: s10.Hash}, {Series: "RET-202611", Number: "RET-202611-0003", Hash: r3.Hash}},
		Coverage:    engine.Marks{Sale: s10.ID, Return: r3.ID, Shift: sh.ID},
	}
	sameJSON(t, "Z-0002", z2.ZFigures, want2)
	if z2.PreviousHash != z1.Hash {
		t.Errorf("Z-0002 chains to %q, Z-0001's hash is %q", z2.PreviousHash, z1.Hash)
	}
	if got, err := s.svc.ZReport(ctx, s.owner, z2.ID); err != nil || got.Hash != z2.Hash || got.PreviousHash != z1.Hash {
		t.Errorf("Z-0002 read back: %v %+v", err, got)
	}
	// An empty day still closes, with the next number.
	z3 := must(s.svc.CreateZReport(ctx, s.owner, s.key(), engine.ZReportInput{LocationID: s.loc})).doc(t)
	if z3.ZNumber != "Z-0003" || z3.SalesCount != 0 || z3.Net != 0 || z3.GrandTotal != want2.GrandTotal || z3.Coverage != want2.Coverage || len(z3.Series) != 0 {
		t.Errorf("empty Z: %+v", z3)
	}
	// Listing, newest first; another location's Zs count from 1.
	zs, _, err := s.svc.ZReports(ctx, s.owner, s.loc, "", 0)
	if err != nil || len(zs) != 3 || zs[0].ID != z3.ID || zs[2].ID != z1.ID {
		t.Errorf("Z list: %v %d", err, len(zs))
	}
	branch := must(s.svc.CreateLocation(ctx, s.owner, s.key(), engine.LocationInput{Name: "Branch"})).doc(t)
	zb := must(s.svc.CreateZReport(ctx, s.owner, s.key(), engine.ZReportInput{LocationID: branch.ID})).doc(t)
	if zb.ZNumber != "Z-0001" || zb.PreviousHash != engine.GenesisHash {
		t.Errorf("the branch's first Z: %s chained to %s", zb.ZNumber, zb.PreviousHash)
	}
	checkDayExport(t, s, []*engine.ZReport{z1, z2, z3}, zb, sh, t1.TokenID)
	if _, err := s.svc.CreateZReport(ctx, t1, s.key(), engine.ZReportInput{LocationID: s.loc}); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("Z by a till: %v", err)
	}
	wantClean(t, s)
}

// xFigures is an X report without the times that differ from a Z taken
// just after it.
func xFigures(x *engine.XReport) engine.ZFigures {
	f := x.ZFigures
	f.To = time.Time{}
	return f
}

// testZWrittenOnce: storage refuses to replace a Z report.
func testZWrittenOnce(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	s.sale(t, s.key(), "1")
	z := must(s.svc.CreateZReport(ctx, s.owner, s.key(), engine.ZReportInput{LocationID: s.loc})).doc(t)
	err := s.svc.Store().Update(ctx, func(tx engine.Tx) error {
		z.Net = 0
		return tx.PutZReport(z)
	})
	if err != engine.ErrZReportExists && engine.ErrorMessage(err) != engine.ErrZReportExists.Message {
		t.Errorf("replacing a Z: got %v, want ErrZReportExists", err)
	}
	got, err := s.svc.ZReport(ctx, s.owner, z.ID)
	if err != nil || got.Net != 150 {
		t.Errorf("the Z after: %v %+v", err, got)
	}
}

// testConcurrentZReports: managers press "Close the day" six times at once
// while four tills sell. The Zs are Z-0001..Z-0006, each chaining to the one
// before, no sale is in two of them and none is left out: the Zs and what
// is left open add up to every sale.
func testConcurrentZReports(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	const tills, each, closes = 4, 10, 6
	actors := make([]*engine.Actor, tills)
	for i := range actors {
		actors[i] = s.till(t, fmt.Sprintf("Till %d", i+1))
	}
	var c tally
	zs := make([]*engine.ZReport, closes)
	concurrently(tills+closes, func(i int) {
		if i < tills {
			for j := range each {
				_, err := s.svc.CreateSale(ctx, actors[i], engine.IdempotencyKey(fmt.Sprintf("sale-%d-%d", i, j)), s.saleInput("1"))
				c.add(err)
			}
			return
		}
		out, err := s.svc.CreateZReport(ctx, s.owner, engine.IdempotencyKey(fmt.Sprintf("z-%d", i)), engine.ZReportInput{LocationID: s.loc})
		c.add(err)
		if err == nil {
			zs[i-tills] = out.Doc
		}
	})
	c.want(t, "writes", map[string]int{"": tills*each + closes})
	list, _, err := s.svc.ZReports(ctx, s.owner, s.loc, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != closes {
		t.Fatalf("Z reports: got %d, want %d", len(list), closes)
	}
	sales, gross := 0, engine.Money(0)
	for i, z := range list {
		n := closes - i
		if want := fmt.Sprintf("Z-%04d", n); z.ZNumber != want {
			t.Errorf("Z %d: %s, want %s", i, z.ZNumber, want)
		}
		if n > 1 && (z.Previous == nil || z.Previous.ID != list[i+1].ID) {
			t.Errorf("%s does not follow %s", z.ZNumber, list[i+1].ZNumber)
		}
		sales += z.SalesCount
		gross += z.Gross
	}
	x, err := s.svc.XReport(ctx, s.owner, s.loc)
	if err != nil {
		t.Fatal(err)
	}
	if sales+x.SalesCount != tills*each || gross+x.Gross != engine.Money(tills*each*150) {
		t.Errorf("Zs cover %d sales (%d), the open day %d (%d); want %d sales (%d) in all", sales, gross, x.SalesCount, x.Gross, tills*each, tills*each*150)
	}
	if list[0].GrandTotal.Net != gross {
		t.Errorf("grand total: %d, want %d", list[0].GrandTotal.Net, gross)
	}
	wantClean(t, s)
}

// testZAcrossMonths: a day that runs past a month's end counts two
// series of sales, and the Z names the head of each (contract §6: "the
// head hash of every series"), the newest month's first.
func testZAcrossMonths(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	s.clock.Set(time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC))
	nov1 := s.sale(t, s.key(), "1")
	nov2 := s.sale(t, s.key(), "2")
	s.clock.Set(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
	dec1 := s.sale(t, s.key(), "1")
	z := must(s.svc.CreateZReport(ctx, s.owner, s.key(), engine.ZReportInput{LocationID: s.loc})).doc(t)
	if nov2.InvoiceNumber != "INV-202611-0002" || dec1.InvoiceNumber != "INV-202612-0001" {
		t.Fatalf("numbers %s %s %s", nov1.InvoiceNumber, nov2.InvoiceNumber, dec1.InvoiceNumber)
	}
	sameJSON(t, "the Z's series", z.Series, []engine.SeriesRange{
		{Series: "INV-202611", First: "INV-202611-0001", Last: "INV-202611-0002", Count: 2},
		{Series: "INV-202612", First: "INV-202612-0001", Last: "INV-202612-0001", Count: 1}})
	sameJSON(t, "the Z's heads", z.SeriesHeads, []engine.SeriesHead{
		{Series: "INV-202612", Number: "INV-202612-0001", Hash: dec1.Hash},
		{Series: "INV-202611", Number: "INV-202611-0002", Hash: nov2.Hash}})
	if h, ok := engine.ComputeHash(z); !ok || h != z.Hash {
		t.Errorf("the Z's hash %q, its values give %q", z.Hash, h)
	}
}
