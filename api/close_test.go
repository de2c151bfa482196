package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"posd/api/client"
	"posd/engine"
	"posd/engine/pinhash"
	"posd/engine/storetest/backends"
)

func money(m engine.Money) *engine.Money { return &m }

// TestDayCloseOverHTTP closes a day through the Go client as a till and an
// owner would: a cashier signs in by PIN, opens a shift with 100.00, sells
// three times in cash, refunds in cash, pays 20.00 out for milk, counts
// 5.00 short (over the shop's 2.00 limit, so a manager approves by PIN), and
// the owner takes the Z, whose figures must be the documents' own.
func TestDayCloseOverHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	till := f.boundTill
	if _, err := f.owner.UpdateSettings(ctx, client.SettingsPatch{CashDifferenceLimit: money(200)}); err != nil {
		t.Fatal(err)
	}
	who, err := till.SignIn(ctx, "4821", nil)
	if err != nil || who.ID != f.anna.ID {
		t.Fatalf("sign in: %v %+v", err, who)
	}
	sh, err := till.OpenShift(ctx, "", client.ShiftRequest{Float: 10000, CashierID: &who.ID})
	if err != nil {
		t.Fatal(err)
	}
	sale := func(product *engine.Product, qty int64, given engine.Money) *engine.Sale {
		s, err := till.CreateSale(ctx, "", client.SaleRequest{LocationID: f.loc, CashierID: &who.ID,
			Items: []client.SaleLine{{ProductID: product.ID, Quantity: engine.Q(qty)}}, Payments: []engine.Payment{{Method: "cash", Amount: given}}})
		if err != nil {
			t.Fatal(err)
		}
		if s.ShiftID != sh.ID || s.CashierID == nil || *s.CashierID != who.ID {
			t.Fatalf("sale not in the shift, or not Anna's: %+v", s)
		}
		return s
	}
	sale(f.apple, 1, 200)       // 1.50, change 0.50
	s2 := sale(f.apple, 2, 500) // 3.00, change 2.00
	sale(f.cheese, 1, 2000)     // 19.99, change 0.01
	ret, err := till.Refund(ctx, "", s2.ID, client.RefundRequest{Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}, CashierID: &who.ID})
	if err != nil || ret.Method != "cash" || ret.ShiftID != sh.ID {
		t.Fatalf("refund: %v %+v", err, ret)
	}
	if _, err := till.CashMovement(ctx, "", engine.CurrentShift, client.CashMovementRequest{Type: engine.PayOut, Amount: 2000, Reason: "milk", CashierID: &who.ID}); err != nil {
		t.Fatal(err)
	}
	cur, err := till.Shift(ctx, engine.CurrentShift)
	if err != nil {
		t.Fatal(err)
	}
	// 100.00 + 27.00 handed over − 2.51 change − 1.50 refunded − 20.00 milk.
	if cur.Cash.Expected != 10299 {
		t.Fatalf("expected cash: %d, want 10299 (%+v)", cur.Cash.Expected, cur.Cash)
	}
	ap, err := till.Approve(ctx, "", client.ApprovalRequest{PIN: "1357", Action: engine.ApproveCashDifference})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := till.CloseShift(ctx, "", engine.CurrentShift, client.CloseShiftRequest{Counted: money(10299 - 500), ApprovalID: &ap.ID, CashierID: &who.ID})
	if err != nil {
		t.Fatal(err)
	}
	if *closed.Cash.Difference != -500 || closed.Closed.ApprovedBy == nil || closed.Closed.ApprovedBy.Name != "Max" {
		t.Fatalf("close: %+v %+v", closed.Cash, closed.Closed)
	}
	z, err := f.owner.CreateZReport(ctx, "", f.loc)
	if err != nil {
		t.Fatal(err)
	}
	// The Z's figures are the documents' own: read them back over the API.
	sales, err := f.owner.AllSales(ctx)
	must(t, err)
	var gross, tax, cashIn engine.Money
	for _, s := range sales {
		gross += s.Total
		tax += s.TaxTotal
		cashIn += s.Paid - s.Change
	}
	r, err := f.owner.Return(ctx, ret.ID)
	must(t, err)
	if z.ZNumber != "Z-0001" || z.SalesCount != len(sales) || z.Gross != gross || z.Refunds != r.Total || z.Net != gross-r.Total || z.Tax.Sales != tax || z.Tax.Refunds != r.TaxTotal {
		t.Errorf("Z: %s %d sales, gross %d, refunds %d, net %d, tax %+v; documents: %d sales, gross %d, refund %d, tax %d/%d",
			z.ZNumber, z.SalesCount, z.Gross, z.Refunds, z.Net, z.Tax, len(sales), gross, r.Total, tax, r.TaxTotal)
	}
	if len(z.ByMethod) != 1 || z.ByMethod[0] != (engine.MethodFigures{Method: "cash", Sales: cashIn, Refunds: r.Total, Net: cashIn - r.Total}) {
		t.Errorf("by method: %+v", z.ByMethod)
	}
	if len(z.Cash.Shifts) != 1 || !reflect.DeepEqual(z.Cash.Shifts[0].Cash, closed.Cash) || z.Cash.Shifts[0].Movements[0].Reason != "milk" {
		t.Errorf("the Z's shift: %+v", z.Cash.Shifts)
	}
	if got, err := f.owner.ZReport(ctx, z.ID); err != nil || got.Net != z.Net {
		t.Errorf("GET the Z: %v %+v", err, got)
	}
	z2, err := f.owner.CreateZReport(ctx, "", f.loc)
	if err != nil || z2.ZNumber != "Z-0002" || z2.SalesCount != 0 || z2.GrandTotal != z.GrandTotal {
		t.Errorf("second Z: %v %+v", err, z2)
	}
	list, err := f.owner.ZReports(ctx, f.loc)
	if err != nil || len(list) != 2 || list[0].ID != z2.ID {
		t.Errorf("Z list: %v %d", err, len(list))
	}
	// A till may not close the day; nor see another shop's Z.
	if _, err := till.CreateZReport(ctx, "", f.loc); !errors.Is(err, engine.ErrForbidden) {
		t.Errorf("Z by a till: %v", err)
	}
	if _, err := e.shopB.owner.ZReport(ctx, z.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("another shop's Z: %v", err)
	}
}

// TestPINOverHTTP: a wrong PIN is a 403 naming the field and the tries
// left; the fifth locks PIN entry on the till: 429 with Retry-After, even
// for the right PIN, and never a 401 (which a till takes for a revoked
// token).
func TestPINOverHTTP(t *testing.T) {
	e := newEnv(t)
	tok := e.shop.boundTill.Token
	for i := 1; i <= engine.PINTries; i++ {
		res, b := e.raw("PUT", "/api/tills/current/cashier", tok, "", "application/json", `{"pin":"0000"}`)
		switch {
		case i < engine.PINTries && (res.StatusCode != 403 || !bytes.Contains(b, []byte(`"field":"pin"`)) || !bytes.Contains(b, []byte("wrong PIN"))):
			t.Fatalf("wrong PIN %d: %d %s", i, res.StatusCode, b)
		case i == engine.PINTries && (res.StatusCode != 429 || res.Header.Get("Retry-After") != "300"):
			t.Fatalf("fifth wrong PIN: %d %v %s, want 429 with Retry-After 300", res.StatusCode, res.Header, b)
		}
	}
	res, b := e.raw("PUT", "/api/tills/current/cashier", tok, "", "application/json", `{"pin":"4821"}`)
	if res.StatusCode != 429 || errorShape(t, b) != "rate_limited" {
		t.Errorf("right PIN on a locked till: %d %s", res.StatusCode, b)
	}
	res, b = e.raw("PUT", "/api/tills/current/cashier", e.shop.till.Token, "", "application/json", `{"pin":"4821"}`)
	if res.StatusCode != 200 || !bytes.Contains(b, []byte(`"name":"Anna"`)) || bytes.Contains(b, []byte("pin\":")) {
		t.Errorf("right PIN on another till: %d %s", res.StatusCode, b)
	}
	res, b = e.raw("PUT", "/api/tills/current/cashier", e.shop.till.Token, "", "application/json", `{"pin":"12"}`)
	if res.StatusCode != 400 || !bytes.Contains(b, []byte(`"field":"pin"`)) {
		t.Errorf("a PIN of 2 digits: %d %s", res.StatusCode, b)
	}
}

// TestRefundApproval: with refundsNeedApproval a till's refund needs a
// manager's approval, used once; an owner refunds without one.
func TestRefundApproval(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	yes := true
	if _, err := f.owner.UpdateSettings(ctx, client.SettingsPatch{RefundsNeedApproval: &yes}); err != nil {
		t.Fatal(err)
	}
	s, err := f.till.CreateSale(ctx, "", f.saleRequest("3"))
	must(t, err)
	line := client.RefundRequest{Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}}
	_, err = f.till.Refund(ctx, "", s.ID, line)
	if !errors.Is(err, engine.ErrForbidden) || engine.ErrorField(err) != "approvalId" {
		t.Fatalf("refund without approval: %v", err)
	}
	if _, err := f.till.Approve(ctx, "", client.ApprovalRequest{PIN: "4821", Action: engine.ApproveRefund}); !errors.Is(err, engine.ErrForbidden) {
		t.Errorf("a cashier approving: %v", err)
	}
	ap, err := f.till.Approve(ctx, "", client.ApprovalRequest{PIN: "1357", Action: engine.ApproveRefund})
	must(t, err)
	if _, err := f.boundTill.Refund(ctx, "", s.ID, client.RefundRequest{Items: line.Items, ApprovalID: &ap.ID}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("another till using the approval: %v", err)
	}
	ret, err := f.till.Refund(ctx, "", s.ID, client.RefundRequest{Items: line.Items, ApprovalID: &ap.ID})
	if err != nil || ret.ApprovedBy == nil || ret.ApprovedBy.ManagerID != f.max.ID {
		t.Fatalf("approved refund: %v %+v", err, ret)
	}
	if _, err := f.till.Refund(ctx, "", s.ID, client.RefundRequest{Items: line.Items, ApprovalID: &ap.ID}); !errors.Is(err, engine.ErrInvalidState) {
		t.Errorf("approval used twice: %v", err)
	}
	if _, err := f.owner.Refund(ctx, "", s.ID, line); err != nil {
		t.Errorf("owner's refund: %v", err)
	}
}

// TestPINsStayOutOfTheDatabase runs posd's own hasher (argon2id) and
// checks that neither a PIN nor a fast hash of it is anywhere in the
// database file: not in the cashier, not in the idempotency records of the
// requests that carried it.
func TestPINsStayOutOfTheDatabase(t *testing.T) {
	e := newEnv(t)
	e.svc.PINs = pinhash.New()
	ctx := context.Background()
	f := e.shop
	const cashierPIN, managerPIN = "739146", "582047"
	c, err := f.owner.CreateCashier(ctx, "", client.CashierRequest{Name: "Cleo", Role: engine.RoleCashier, PIN: cashierPIN})
	must(t, err)
	m, err := f.owner.CreateCashier(ctx, "", client.CashierRequest{Name: "Mona", Role: engine.RoleStaffManager, PIN: managerPIN})
	must(t, err)
	if who, err := f.till.SignIn(ctx, cashierPIN, nil); err != nil || who.ID != c.ID {
		t.Fatalf("sign in with argon2id: %v %+v", err, who)
	}
	if _, err := f.till.Approve(ctx, "", client.ApprovalRequest{PIN: managerPIN, Action: engine.ApproveRefund}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.UpdateCashier(ctx, m.ID, client.CashierPatch{PIN: ptr("582048")}); err != nil {
		t.Fatal(err)
	}
	db := backends.Raw(t, e.store)
	for _, pin := range []string{cashierPIN, managerPIN, "582048"} {
		sum := sha256.Sum256([]byte(pin))
		for what, needle := range map[string][]byte{"the PIN": []byte(pin), "its SHA-256": sum[:], "its SHA-256 in hex": []byte(hex.EncodeToString(sum[:]))} {
			if bytes.Contains(db, needle) {
				t.Errorf("%s of %s is in the database", what, pin)
			}
		}
	}
	if strings.Contains(string(db), `"pin":"`+cashierPIN) {
		t.Error("a request body with the PIN is in the database")
	}
}

func ptr[T any](v T) *T { return &v }
