package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"posd/api/client"
	"posd/engine"
)

// minRole is the contract's role table, written out independently of the
// server's route table: who may call each route. "" is public.
var minRole = map[string]string{
	"health": "", "me": "till",
	"tokens.create": "owner", "tokens.list": "owner", "tokens.revoke": "owner",
	"locations.create": "manager", "locations.list": "till",
	"products.create": "manager", "products.list": "till", "products.update": "manager",
	"stock.adjust": "manager", "stock.list": "till",
	"sales.create": "till", "sales.list": "till", "sales.get": "till", "sales.refund": "till", "returns.get": "till",
	"receipts.create": "manager", "receipts.get": "manager", "receipts.approve": "manager",
	"transfers.create": "manager", "transfers.get": "manager", "transfers.send": "manager", "transfers.receive": "manager",
	"health.details": "manager", "metrics": "manager",
	"setup": "", "ca": "",
}

var rank = map[string]int{"till": 1, "manager": 2, "owner": 3}

// objects are documents of shop A that routes with an {id} act on.
type objects struct {
	sale, ret, receipt, transfer, token string
}

func makeObjects(t *testing.T, e *env) objects {
	ctx := context.Background()
	f := e.shop
	_, err := f.owner.AdjustStock(ctx, "", client.AdjustmentRequest{LocationID: f.loc2, Reason: "r", Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1000)}}})
	must(t, err)
	s, err := f.owner.CreateSale(ctx, "", f.saleRequest("50"))
	must(t, err)
	r, err := f.owner.Refund(ctx, "", s.ID, client.RefundRequest{Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}})
	must(t, err)
	rc, err := f.owner.CreateReceipt(ctx, "", client.ReceiptRequest{LocationID: f.loc, Supplier: "S", Items: []client.ReceiptLine{{ProductID: f.apple.ID, Quantity: engine.Q(1), UnitCost: 1}}})
	must(t, err)
	tr, err := f.owner.CreateTransfer(ctx, "", client.TransferRequest{FromLocationID: f.loc2, ToLocationID: f.loc, Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}})
	must(t, err)
	tk, err := f.owner.CreateToken(ctx, "", client.TokenRequest{Role: "till", Name: "spare"})
	must(t, err)
	return objects{sale: s.ID, ret: r.ID, receipt: rc.ID, transfer: tr.ID, token: tk.ID}
}

// request builds a call of route name on shop A's objects.
func request(e *env, o objects, name string) (method, path, body string) {
	f := e.shop
	sale := `{"locationId":"` + f.loc + `","items":[{"productId":"` + f.apple.ID + `","quantity":1}],"payments":[{"method":"cash","amount":500}]}`
	line := `[{"productId":"` + f.apple.ID + `","quantity":1}]`
	switch name {
	case "health":
		return "GET", "/api/health", ""
	case "me":
		return "GET", "/api/me", ""
	case "tokens.create":
		return "POST", "/api/tokens", `{"role":"till","name":"t","locationId":"` + f.loc + `"}`
	case "tokens.list":
		return "GET", "/api/tokens", ""
	case "tokens.revoke":
		return "DELETE", "/api/tokens/" + o.token, ""
	case "locations.create":
		return "POST", "/api/locations", `{"name":"L"}`
	case "locations.list":
		return "GET", "/api/locations", ""
	case "products.create":
		return "POST", "/api/products", `{"sku":"S-%KEY%","name":"P","price":1}`
	case "products.list":
		return "GET", "/api/products", ""
	case "products.update":
		return "PATCH", "/api/products/" + f.apple.ID, `{"name":"Apple"}`
	case "stock.adjust":
		return "POST", "/api/stock/adjustments", `{"locationId":"` + f.loc + `","reason":"x","items":` + line + `}`
	case "stock.list":
		return "GET", "/api/stock?locationId=" + f.loc, ""
	case "sales.create":
		return "POST", "/api/sales", sale
	case "sales.list":
		return "GET", "/api/sales", ""
	case "sales.get":
		return "GET", "/api/sales/" + o.sale, ""
	case "sales.refund":
		return "POST", "/api/sales/" + o.sale + "/refund", `{"items":` + line + `}`
	case "returns.get":
		return "GET", "/api/returns/" + o.ret, ""
	case "receipts.create":
		return "POST", "/api/purchases/receipts", `{"locationId":"` + f.loc + `","supplier":"S","items":[{"productId":"` + f.apple.ID + `","quantity":1,"unitCost":1}]}`
	case "receipts.get":
		return "GET", "/api/purchases/receipts/" + o.receipt, ""
	case "receipts.approve":
		return "POST", "/api/purchases/receipts/" + o.receipt + "/approve", `{}`
	case "transfers.create":
		return "POST", "/api/transfers", `{"fromLocationId":"` + f.loc2 + `","toLocationId":"` + f.loc + `","items":` + line + `}`
	case "transfers.get":
		return "GET", "/api/transfers/" + o.transfer, ""
	case "transfers.send":
		return "POST", "/api/transfers/" + o.transfer + "/send", `{}`
	case "transfers.receive":
		return "POST", "/api/transfers/" + o.transfer + "/receive", `{}`
	case "health.details":
		return "GET", "/api/health/details", ""
	case "metrics":
		return "GET", "/metrics", ""
	case "setup":
		return "GET", "/api/setup", ""
	case "ca":
		return "GET", "/ca.crt", ""
	}
	return "", "", ""
}

// TestRoleMatrix calls every route of the router with every role.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t)
	o := makeObjects(t, e)
	tokens := map[string]string{"owner": e.shop.owner.Token, "manager": e.shop.manager.Token, "till": e.shop.till.Token, "": ""}
	n := 0
	for _, rt := range e.api.Routes() {
		need, ok := minRole[rt.Name]
		if !ok {
			t.Errorf("route %s (%s %s) is missing from the test's role table", rt.Name, rt.Method, rt.Path)
			continue
		}
		method, path, body := request(e, o, rt.Name)
		if method != rt.Method {
			t.Errorf("route %s: the test has no request for it", rt.Name)
			continue
		}
		for _, role := range []string{"", "till", "manager", "owner"} {
			if rt.Name == "tokens.revoke" && role == "owner" {
				continue // would revoke the token the other cases need; TestEveryRouteSucceeds covers it
			}
			n++
			key := fmt.Sprintf("matrix-%d", n)
			res, b := e.raw(method, path, tokens[role], key, "application/json", strings.ReplaceAll(body, "%KEY%", key))
			allowed := need == "" || (role != "" && rank[role] >= rank[need])
			switch {
			case allowed && (res.StatusCode == 401 || res.StatusCode == 403):
				t.Errorf("%s as %q: got %d, want allowed (%s)", rt.Name, role, res.StatusCode, b)
			case allowed && res.StatusCode >= 500:
				t.Errorf("%s as %q: got %d (%s)", rt.Name, role, res.StatusCode, b)
			case !allowed && role == "" && res.StatusCode != 401:
				t.Errorf("%s without token: got %d, want 401", rt.Name, res.StatusCode)
			case !allowed && role != "" && res.StatusCode != 403:
				t.Errorf("%s as %q: got %d, want 403 (%s)", rt.Name, role, res.StatusCode, b)
			}
			if res.StatusCode >= 400 {
				errorShape(t, b)
			}
		}
	}
}

// TestTenantIsolation calls every route of the router with shop B's owner
// token on shop A's objects: each must be a 404 or, for lists, show none of
// A's objects.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	o := makeObjects(t, e)
	aIDs := []string{e.shop.loc, e.shop.loc2, e.shop.apple.ID, e.shop.cheese.ID, o.sale, o.ret, o.receipt, o.transfer, o.token}
	for _, rt := range e.api.Routes() {
		method, path, body := request(e, o, rt.Name)
		if method == "" {
			t.Errorf("route %s: the test has no request for it", rt.Name)
			continue
		}
		key := "tenant-" + rt.Name
		res, b := e.raw(method, path, e.shopB.owner.Token, key, "application/json", strings.ReplaceAll(body, "%KEY%", key))
		refersToA := strings.Contains(path+body, e.shop.loc) || strings.Contains(path+body, e.shop.loc2) ||
			strings.Contains(path, o.sale) || strings.Contains(path, o.token) || strings.Contains(path, e.shop.apple.ID) ||
			strings.Contains(path, o.ret) || strings.Contains(path, o.receipt) || strings.Contains(path, o.transfer)
		if refersToA {
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s with another business's token: got %d, want 404 (%s)", method, path, res.StatusCode, b)
			} else if code := errorShape(t, b); code != engine.ENOTFOUND {
				t.Errorf("%s: code %s", rt.Name, code)
			}
		}
		for _, id := range aIDs {
			if res.StatusCode < 300 && strings.Contains(string(b), id) {
				t.Errorf("%s %s shows shop A's object %s to shop B", method, path, id)
			}
		}
	}
	// And nothing of A changed: B's writes above were all refused.
	sale, err := e.shop.owner.Sale(context.Background(), o.sale)
	must(t, err)
	if len(sale.Returns) != 1 {
		t.Errorf("shop A's sale was refunded by shop B: %d returns", len(sale.Returns))
	}
	rc, _ := e.shop.owner.Receipt(context.Background(), o.receipt)
	if rc.Status != "draft" {
		t.Errorf("shop A's receipt was approved by shop B")
	}
}
