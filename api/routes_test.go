package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"posd/api/client"
	"posd/engine"
)

// TestEveryRouteSucceeds walks one business through every route of the
// contract with the Go client and checks each answer.
func TestEveryRouteSucceeds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	must(t, f.owner.Health(ctx))

	me, err := f.boundTill.Me(ctx)
	must(t, err)
	if me.Token.Role != engine.RoleTill || me.Token.LocationID == nil || *me.Token.LocationID != f.loc || me.Business.Currency != "EUR" {
		t.Errorf("me: %+v", me)
	}
	toks, err := f.owner.Tokens(ctx)
	must(t, err)
	if len(toks) != 4 {
		t.Errorf("tokens: got %d, want 4", len(toks))
	}
	for _, tk := range toks {
		if tk.Role == engine.RoleManager {
			must(t, f.owner.RevokeToken(ctx, tk.ID))
		}
	}
	if _, err := f.manager.Products(ctx, false); !errors.Is(err, engine.ErrUnauthorized) {
		t.Errorf("revoked token: got %v, want unauthorized", err)
	}

	locs, err := f.till.Locations(ctx)
	must(t, err)
	if len(locs) != 2 || locs[0].Name != "Main" && locs[1].Name != "Main" {
		t.Errorf("locations: %+v", locs)
	}
	ps, err := f.till.Products(ctx, false)
	must(t, err)
	if len(ps) != 2 {
		t.Errorf("products: got %d, want 2", len(ps))
	}
	newPrice := engine.Money(175)
	p, err := f.owner.UpdateProduct(ctx, f.apple.ID, client.ProductPatch{Price: &newPrice})
	must(t, err)
	if p.Price != 175 || p.SKU != "APPLE" {
		t.Errorf("updated product: %+v", p)
	}

	adj, err := f.owner.AdjustStock(ctx, "", client.AdjustmentRequest{LocationID: f.loc, Reason: "opening count",
		Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(50)}, {ProductID: f.cheese.ID, Quantity: -250}}})
	must(t, err)
	if adj.ID == "" || len(adj.Items) != 2 {
		t.Errorf("adjustment: %+v", adj)
	}

	price := engine.Money(100)
	sale, err := f.till.CreateSale(ctx, "", client.SaleRequest{LocationID: f.loc,
		Items:    []client.SaleLine{{ProductID: f.apple.ID, Quantity: engine.Q(2)}, {ProductID: f.cheese.ID, Quantity: 250, UnitPrice: &price}},
		Payments: []engine.Payment{{Method: "card", Amount: 300}, {Method: "cash", Amount: 200}}})
	must(t, err)
	// 2 × 1.75 + 0.25 × 1.00 = 3.75; paid 5.00, change 1.25 from the cash.
	if sale.InvoiceNumber != "INV-202611-0001" || sale.Total != 375 || sale.Change != 125 || sale.Paid != 500 || sale.TaxTotal != 58 {
		t.Errorf("sale: %s total %d change %d paid %d tax %d", sale.InvoiceNumber, sale.Total, sale.Change, sale.Paid, sale.TaxTotal)
	}
	got, err := f.till.Sale(ctx, sale.ID)
	must(t, err)
	if got.InvoiceNumber != sale.InvoiceNumber {
		t.Errorf("GET sale: %s", got.InvoiceNumber)
	}
	page, err := f.till.Sales(ctx, client.SalesQuery{Limit: 10})
	must(t, err)
	if len(page.Sales) != 1 || page.NextCursor != nil {
		t.Errorf("sales page: %d next %v", len(page.Sales), page.NextCursor)
	}

	ret, err := f.boundTill.Refund(ctx, "", sale.ID, client.RefundRequest{Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}})
	must(t, err)
	if ret.ReturnNumber != "RET-202611-0001" || ret.SaleID != sale.ID || ret.Total != 175 || !ret.Restock {
		t.Errorf("return: %+v", ret)
	}
	if r2, err := f.till.Return(ctx, ret.ID); err != nil || r2.ReturnNumber != ret.ReturnNumber {
		t.Errorf("GET return: %v", err)
	}

	rc, err := f.owner.CreateReceipt(ctx, "", client.ReceiptRequest{LocationID: f.loc2, Supplier: "Orchard Ltd",
		Items: []client.ReceiptLine{{ProductID: f.apple.ID, Quantity: engine.Q(20), UnitCost: 60}}})
	must(t, err)
	if rc.Status != "draft" || rc.ReceiptNumber != nil || rc.Total != 1200 {
		t.Errorf("receipt: %+v", rc)
	}
	rc, err = f.owner.ApproveReceipt(ctx, "", rc.ID)
	must(t, err)
	if rc.Status != "approved" || rc.ReceiptNumber == nil || *rc.ReceiptNumber != "RCV-202611-0001" {
		t.Errorf("approved receipt: %+v", rc)
	}
	if r2, err := f.owner.Receipt(ctx, rc.ID); err != nil || r2.Status != "approved" {
		t.Errorf("GET receipt: %v", err)
	}

	tr, err := f.owner.CreateTransfer(ctx, "", client.TransferRequest{FromLocationID: f.loc2, ToLocationID: f.loc,
		Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(5)}}})
	must(t, err)
	if tr.Status != "draft" {
		t.Errorf("transfer: %+v", tr)
	}
	tr, err = f.owner.SendTransfer(ctx, "", tr.ID)
	must(t, err)
	if tr.Status != "in_transit" || tr.TransferNumber == nil || *tr.TransferNumber != "TRF-202611-0001" {
		t.Errorf("sent transfer: %+v", tr)
	}
	tr, err = f.owner.ReceiveTransfer(ctx, "", tr.ID)
	must(t, err)
	if tr.Status != "received" {
		t.Errorf("received transfer: %+v", tr)
	}
	if t2, err := f.owner.Transfer(ctx, tr.ID); err != nil || t2.Status != "received" {
		t.Errorf("GET transfer: %v", err)
	}

	stock, err := f.till.Stock(ctx, f.loc)
	must(t, err)
	want := map[string]engine.Quantity{f.apple.ID: engine.Q(50 - 2 + 1 + 5), f.cheese.ID: -500}
	if len(stock) != 2 {
		t.Errorf("stock lines: got %d, want 2", len(stock))
	}
	for _, s := range stock {
		if s.Quantity != want[s.ProductID] {
			t.Errorf("stock of %s: got %s, want %s", s.ProductID, s.Quantity, want[s.ProductID])
		}
	}
}

// TestContractShapes checks literal answers a client depends on.
func TestContractShapes(t *testing.T) {
	e := newEnv(t)
	res, b := e.raw("GET", "/api/health", "", "", "", "")
	if res.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"status":"ok"}` {
		t.Errorf("health: %d %s", res.StatusCode, b)
	}
	// Money is an integer, quantities are decimals, times RFC 3339 UTC.
	res, b = e.raw("POST", "/api/sales", e.ownerToken(), "shape-1", "application/json",
		`{"locationId":"`+e.shop.loc+`","items":[{"productId":"`+e.shop.cheese.ID+`","quantity":0.25}],"payments":[{"method":"cash","amount":500}]}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("sale: %d %s", res.StatusCode, b)
	}
	var v map[string]any
	json.Unmarshal(b, &v)
	for _, k := range []string{"id", "invoiceNumber", "locationId", "items", "payments", "total", "createdAt"} {
		if _, ok := v[k]; !ok {
			t.Errorf("sale answer lacks %q", k)
		}
	}
	if !strings.Contains(string(b), `"quantity":0.25`) || !strings.Contains(string(b), `"total":500`) || !strings.HasSuffix(v["createdAt"].(string), "Z") {
		t.Errorf("sale answer: %s", b)
	}
	res, b = e.raw("GET", "/api/sales?limit=1", e.ownerToken(), "", "", "")
	if res.StatusCode != 200 || !strings.Contains(string(b), `"nextCursor":null`) {
		t.Errorf("sales list: %s", b)
	}
}

func (e *env) ownerToken() string { return e.shop.owner.Token }
