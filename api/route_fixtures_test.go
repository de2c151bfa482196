package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"posd/api/client"
	"posd/engine"
)

// Fixtures for the tests that call every route of the router: shop A's
// objects and a valid request of each route on them
// (TestRouteRoleTenantMatrix, TestBadInputChangesNothing).

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
	"health.details": "manager", "metrics": "manager", "qr": "manager", "backups.create": "owner",
	"returns.list": "till", "receipts.list": "manager", "transfers.list": "manager", "documents.get": "manager", "stock.movements": "manager",
	"reports.today": "manager", "products.import": "manager", "products.export": "manager",
	"pairing.create": "manager", "pair": "", "tills.status": "till", "tills.list": "manager", "tills.update": "manager", "tills.revoke": "manager",
	"integrity.get": "manager", "export.zip": "manager", "export.file": "manager",
	"setup": "", "ca": "",
	"settings.get": "till", "settings.update": "manager",
	"cashiers.create": "manager", "cashiers.list": "till", "cashiers.get": "till", "cashiers.update": "manager",
	"tills.cashier": "till", "approvals.create": "till",
	"shifts.open": "till", "shifts.list": "manager", "shifts.get": "till", "shifts.cash": "till", "shifts.close": "till",
	"zreports.create": "manager", "zreports.list": "manager", "zreports.get": "manager", "xreport.get": "manager",
}

// objects are documents of shop A that routes with an {id} act on.
type objects struct {
	sale, ret, receipt, transfer, token, till string
	saleNumber                                string
	shift, z                                  string
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
	tl, err := f.owner.CreateToken(ctx, "", client.TokenRequest{Role: "till", Name: "paired"})
	must(t, err)
	sh, err := f.boundTill.OpenShift(ctx, "", client.ShiftRequest{Float: 10000})
	must(t, err)
	z, err := f.owner.CreateZReport(ctx, "", f.loc)
	must(t, err)
	return objects{sale: s.ID, ret: r.ID, receipt: rc.ID, transfer: tr.ID, token: tk.ID, till: tl.ID, saleNumber: s.InvoiceNumber, shift: sh.ID, z: z.ID}
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
	case "returns.list":
		return "GET", "/api/returns?locationId=" + f.loc, ""
	case "receipts.list":
		return "GET", "/api/purchases/receipts?locationId=" + f.loc, ""
	case "transfers.list":
		return "GET", "/api/transfers?locationId=" + f.loc2, ""
	case "documents.get":
		return "GET", "/api/documents/" + o.saleNumber, ""
	case "stock.movements":
		return "GET", "/api/stock/movements?productId=" + f.apple.ID + "&locationId=" + f.loc, ""
	case "reports.today":
		return "GET", "/api/reports/today?locationId=" + f.loc, ""
	case "products.import":
		return "POST", "/api/products/import", `{"csv":"sku,name,price\nIMP-%KEY%,Imported,1.50\n"}`
	case "products.export":
		return "GET", "/api/products/export", ""
	case "qr":
		return "GET", "/api/qr?text=http%3A%2F%2Fshop%3A8080%2Ftill%2F%23pair%3DABCDEF", ""
	case "backups.create":
		return "POST", "/api/backups", `{}`
	case "pairing.create":
		return "POST", "/api/pairing-codes", `{"name":"Till %KEY%","locationId":"` + f.loc + `"}`
	case "pair":
		return "POST", "/api/pair", `{"code":"ABCDEF"}`
	case "tills.status":
		return "PUT", "/api/tills/current/status", `{"queued":0,"parked":0,"oldestQueuedAt":null,"version":"t","clock":"2026-11-20T10:00:00Z","counters":{"sent":1,"retried":0,"queuedAfterRetries":0}}`
	case "tills.list":
		return "GET", "/api/tills", ""
	case "tills.update":
		return "PATCH", "/api/tills/" + o.till, `{"name":"Renamed"}`
	case "tills.revoke":
		return "DELETE", "/api/tills/" + o.till, ""
	case "integrity.get":
		return "GET", "/api/integrity", ""
	case "export.zip":
		return "GET", "/api/export?from=2026-11-01&to=2026-11-30", ""
	case "export.file":
		return "GET", "/api/export/documents.csv?from=2026-11-01&to=2026-11-30", ""
	case "setup":
		return "GET", "/api/setup", ""
	case "ca":
		return "GET", "/ca.crt", ""
	case "settings.get":
		return "GET", "/api/settings", ""
	case "settings.update":
		return "PATCH", "/api/settings", `{"refundsNeedApproval":false}`
	case "cashiers.create":
		return "POST", "/api/cashiers", `{"name":"Bea","role":"cashier","pin":"%PIN%"}`
	case "cashiers.list":
		return "GET", "/api/cashiers", ""
	case "cashiers.get":
		return "GET", "/api/cashiers/" + f.anna.ID, ""
	case "cashiers.update":
		return "PATCH", "/api/cashiers/" + f.anna.ID, `{"name":"Anna"}`
	case "tills.cashier":
		return "PUT", "/api/tills/current/cashier", `{"pin":"4821"}`
	case "approvals.create":
		return "POST", "/api/approvals", `{"pin":"1357","action":"refund"}`
	case "shifts.open":
		return "POST", "/api/shifts", `{"locationId":"` + f.loc + `","float":10000}`
	case "shifts.list":
		return "GET", "/api/shifts?locationId=" + f.loc, ""
	case "shifts.get":
		return "GET", "/api/shifts/" + o.shift, ""
	case "shifts.cash":
		return "POST", "/api/shifts/" + o.shift + "/cash-movements", `{"type":"pay_out","amount":100,"reason":"milk"}`
	case "shifts.close":
		return "POST", "/api/shifts/" + o.shift + "/close", `{"counted":10000}`
	case "zreports.create":
		return "POST", "/api/z-reports", `{"locationId":"` + f.loc + `"}`
	case "zreports.list":
		return "GET", "/api/z-reports?locationId=" + f.loc, ""
	case "zreports.get":
		return "GET", "/api/z-reports/" + o.z, ""
	case "xreport.get":
		return "GET", "/api/x-report?locationId=" + f.loc, ""
	}
	return "", "", ""
}

// expandBody fills a request body's placeholders: %KEY% with the request's
// key, %PIN% with a PIN no other request of the test uses.
func expandBody(body, key string, n int) string {
	return strings.NewReplacer("%KEY%", key, "%PIN%", fmt.Sprintf("%06d", 200000+n)).Replace(body)
}
